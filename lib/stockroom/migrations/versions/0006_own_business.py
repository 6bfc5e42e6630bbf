"""the seller's own business: PO receipts, locations, source state, the daily schedule, alerts

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("purchase_orders") as batch:
        batch.add_column(
            sa.Column("received_quantity", sa.Integer, nullable=False, server_default="0")
        )
        batch.add_column(sa.Column("received_at", sa.Date))
    op.create_table(
        "locations",
        sa.Column("code", sa.String(64), primary_key=True),
        sa.Column("name", sa.Text),
        sa.Column("created_by", sa.String(255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "source_state",
        sa.Column("source", sa.String(255), primary_key=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text),
        sa.Column("run_id", sa.String(96)),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "daily_steps",
        sa.Column("day", sa.Date, primary_key=True),
        sa.Column("step", sa.String(32), primary_key=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
        sa.Column("detail", sa.Text),
        sa.Column("host", sa.String(255)),
        sa.Column("pid", sa.Integer),
    )
    op.create_table(
        "alerts",
        sa.Column("rule", sa.String(64), primary_key=True),
        sa.Column("key", sa.String(255), primary_key=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("cleared_at", sa.DateTime(timezone=True)),
        sa.Column("notified_at", sa.DateTime(timezone=True)),
        sa.Column("channels", sa.Text),
    )


def downgrade() -> None:
    op.drop_table("alerts")
    op.drop_table("daily_steps")
    op.drop_table("source_state")
    op.drop_table("locations")
    with op.batch_alter_table("purchase_orders") as batch:
        batch.drop_column("received_at")
        batch.drop_column("received_quantity")
