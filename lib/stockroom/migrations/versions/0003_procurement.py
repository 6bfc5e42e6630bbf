"""procurement: purchase orders and replenishment settings

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "purchase_orders",
        sa.Column("po_number", sa.String(64), primary_key=True),
        sa.Column("sku", sa.String(255), primary_key=True),
        sa.Column("supplier", sa.String(255), nullable=False),
        sa.Column("quantity", sa.Integer, nullable=False),
        sa.Column("order_date", sa.Date, nullable=False),
        sa.Column("expected_delivery", sa.Date, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_by", sa.String(255), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("quantity > 0", name="ck_purchase_orders_quantity"),
        sa.CheckConstraint("expected_delivery >= order_date", name="ck_purchase_orders_delivery"),
    )
    op.create_index("ix_purchase_orders_sku_status", "purchase_orders", ["sku", "status"])
    op.create_table(
        "procurement_settings",
        sa.Column("scope", sa.String(16), primary_key=True),
        sa.Column("scope_key", sa.String(255), primary_key=True),
        sa.Column("supplier", sa.String(255)),
        sa.Column("lead_time_days", sa.Integer),
        sa.Column("review_days", sa.Integer),
        sa.Column("service_level", sa.Float),
        sa.Column("moq", sa.Integer),
        sa.Column("pack_size", sa.Integer),
        sa.Column("reorder_threshold_days", sa.Float),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("procurement_settings")
    op.drop_index("ix_purchase_orders_sku_status", "purchase_orders")
    op.drop_table("purchase_orders")
