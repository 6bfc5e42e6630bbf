"""resale: auction invoices, lots, items, listings and sales, price history (append-only)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

MONEY = sa.Numeric(14, 2, asdecimal=False)
GUARD = "resale_price_history is append-only"


def upgrade() -> None:
    op.create_table(
        "resale_invoices",
        sa.Column("invoice_key", sa.String(160), primary_key=True),
        sa.Column("invoice_id", sa.String(96), nullable=False),
        sa.Column("auction_house", sa.String(96), nullable=False),
        sa.Column("auction_id", sa.String(96)),
        sa.Column("invoice_date", sa.Date, nullable=False),
        sa.Column("layout", sa.String(32), nullable=False),
        sa.Column("hammer_total", MONEY, nullable=False),
        sa.Column("premium_total", MONEY, nullable=False),
        sa.Column("tax_total", MONEY, nullable=False),
        sa.Column("shipping_total", MONEY, nullable=False),
        sa.Column("total", MONEY, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("source_file", sa.Text, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False, unique=True),
        sa.Column("pages", sa.Integer, nullable=False),
        sa.Column("imported_by", sa.String(255), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "resale_lots",
        sa.Column("lot_id", sa.String(200), primary_key=True),
        sa.Column("invoice_key", sa.String(160), sa.ForeignKey("resale_invoices.invoice_key")),
        sa.Column("auction_house", sa.String(96)),
        sa.Column("auction_id", sa.String(96)),
        sa.Column("lot_number", sa.String(32)),
        sa.Column("acquired_on", sa.Date, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("description", sa.Text),
        sa.Column("category", sa.String(96)),
        sa.Column("subcategory", sa.String(96)),
        sa.Column("condition", sa.String(32)),
        sa.Column("quantity", sa.Integer, nullable=False),
        sa.Column("hammer", MONEY, nullable=False),
        sa.Column("premium", MONEY, nullable=False),
        sa.Column("tax", MONEY, nullable=False),
        sa.Column("shipping", MONEY, nullable=False),
        sa.Column("total_cost", MONEY, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("source", sa.Text),
        sa.Column("created_by", sa.String(255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("quantity > 0", name="ck_resale_lots_quantity"),
        sa.CheckConstraint(
            "hammer >= 0 AND premium >= 0 AND tax >= 0 AND shipping >= 0",
            name="ck_resale_lots_amounts",
        ),
    )
    op.create_index("ix_resale_lots_invoice", "resale_lots", ["invoice_key"])
    op.create_table(
        "resale_items",
        sa.Column("item_id", sa.String(200), primary_key=True),
        sa.Column("lot_id", sa.String(200), sa.ForeignKey("resale_lots.lot_id"), nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("description", sa.Text),
        sa.Column("category", sa.String(96)),
        sa.Column("subcategory", sa.String(96)),
        sa.Column("condition", sa.String(32)),
        sa.Column("brand", sa.String(96)),
        sa.Column("model", sa.Text),
        sa.Column("size", sa.String(32)),
        sa.Column("acquired_on", sa.Date, nullable=False),
        sa.Column("cost", MONEY, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("location", sa.String(96)),
        sa.Column("bin", sa.String(96)),
        sa.Column("estimated_value", MONEY),
        sa.Column("needs_repair", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("consignment", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("returned", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("keywords", sa.Text),
        sa.Column("notes", sa.Text),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True)),
        sa.CheckConstraint("cost >= 0", name="ck_resale_items_cost"),
        sa.CheckConstraint("estimated_value >= 0", name="ck_resale_items_value"),
    )
    op.create_index("ix_resale_items_lot", "resale_items", ["lot_id"])
    op.create_table(
        "resale_listings",
        sa.Column("listing_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("item_id", sa.String(200), sa.ForeignKey("resale_items.item_id"), nullable=False),
        sa.Column("platform", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("list_price", MONEY),
        sa.Column("listed_on", sa.Date),
        sa.Column("sold_on", sa.Date),
        sa.Column("ended_on", sa.Date),
        sa.Column("sold_price", MONEY),
        sa.Column("platform_fees", MONEY),
        sa.Column("buyer_shipping", MONEY),
        sa.Column("actual_shipping", MONEY),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("external_id", sa.String(255)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('not_listed', 'listed', 'sold', 'expired')",
            name="ck_resale_listings_status",
        ),
        sa.CheckConstraint(
            "list_price >= 0 AND sold_price >= 0 AND platform_fees >= 0 "
            "AND buyer_shipping >= 0 AND actual_shipping >= 0",
            name="ck_resale_listings_amounts",
        ),
        sa.CheckConstraint(
            "status <> 'sold' OR (sold_on IS NOT NULL AND sold_price IS NOT NULL)",
            name="ck_resale_listings_sale",
        ),
        sa.CheckConstraint("sold_on >= listed_on", name="ck_resale_listings_dates"),
    )
    op.create_index("ix_resale_listings_item", "resale_listings", ["item_id"])
    where = sa.text("status = 'listed'")
    op.create_index(
        "uq_resale_listings_active",
        "resale_listings",
        ["item_id", "platform"],
        unique=True,
        sqlite_where=where,
        postgresql_where=where,
    )
    sold = sa.text("status = 'sold'")
    op.create_index(
        "uq_resale_listings_sold",
        "resale_listings",
        ["item_id"],
        unique=True,
        sqlite_where=sold,
        postgresql_where=sold,
    )
    op.create_table(
        "resale_price_history",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("item_id", sa.String(200), sa.ForeignKey("resale_items.item_id"), nullable=False),
        sa.Column("listing_id", sa.Integer, sa.ForeignKey("resale_listings.listing_id")),
        sa.Column("field", sa.String(32), nullable=False),
        sa.Column("old_value", MONEY),
        sa.Column("new_value", MONEY),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(255), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
    )
    op.create_index("ix_resale_price_history_item", "resale_price_history", ["item_id"])
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER resale_price_history_no_{action.lower()} BEFORE {action} ON "
                f"resale_price_history BEGIN SELECT RAISE(ABORT, '{GUARD}'); END"
            )
    elif dialect == "postgresql":
        op.execute(
            "CREATE FUNCTION resale_price_history_guard() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN RAISE EXCEPTION '{GUARD}'; END $$"
        )
        op.execute(
            "CREATE TRIGGER resale_price_history_append_only BEFORE UPDATE OR DELETE ON "
            "resale_price_history FOR EACH ROW EXECUTE FUNCTION resale_price_history_guard()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "DROP TRIGGER IF EXISTS resale_price_history_append_only ON resale_price_history"
        )
        op.execute("DROP FUNCTION IF EXISTS resale_price_history_guard()")
    for name in (
        "resale_price_history",
        "resale_listings",
        "resale_items",
        "resale_lots",
        "resale_invoices",
    ):
        op.drop_table(name)
