"""purchase order headers: one row per PO number (unique), lines reference it

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "purchase_order_headers",
        sa.Column("po_number", sa.String(64), primary_key=True),
        sa.Column("supplier", sa.String(255), nullable=False),
        sa.Column("order_date", sa.Date, nullable=False),
        sa.Column("created_by", sa.String(255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    # every PO number already on file gets its header (supplier and date of its first line)
    op.execute("""
        INSERT INTO purchase_order_headers (po_number, supplier, order_date, created_by,
                                            created_at)
        SELECT po_number, min(supplier), min(order_date), min(created_by), min(updated_at)
        FROM purchase_orders GROUP BY po_number
    """)
    with op.batch_alter_table("purchase_orders") as batch:
        batch.create_foreign_key(
            "fk_purchase_orders_header", "purchase_order_headers", ["po_number"], ["po_number"]
        )


def downgrade() -> None:
    with op.batch_alter_table("purchase_orders") as batch:
        batch.drop_constraint("fk_purchase_orders_header", type_="foreignkey")
    op.drop_table("purchase_order_headers")
