"""procurement settings: a holding cost rate, from which the target fill rate defaults to the
newsvendor critical ratio

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("procurement_settings") as batch:
        batch.add_column(sa.Column("holding_cost_rate", sa.Float))


def downgrade() -> None:
    with op.batch_alter_table("procurement_settings") as batch:
        batch.drop_column("holding_cost_rate")
