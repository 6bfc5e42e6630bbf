"""mapping: sellers, seller aliases, internal catalog, SKU mappings, append-only audit log

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

AUDIT_GUARD = "audit_log is append-only"


def upgrade() -> None:
    op.create_table(
        "sellers",
        sa.Column("seller_key", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("norm_name", sa.String(255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_sellers_norm_name", "sellers", ["norm_name"])
    op.create_table(
        "seller_aliases",
        sa.Column("platform", sa.String(64), primary_key=True),
        sa.Column("platform_seller_id", sa.String(255), primary_key=True),
        sa.Column("seller_name", sa.Text),
        sa.Column("norm_name", sa.String(255), nullable=False),
        sa.Column("seller_key", sa.Integer, sa.ForeignKey("sellers.seller_key"), nullable=False),
        sa.Column("method", sa.String(32), nullable=False),
        sa.Column("confidence", sa.Float, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "seller_links",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("seller_key", sa.Integer, sa.ForeignKey("sellers.seller_key"), nullable=False),
        sa.Column("other_key", sa.Integer, sa.ForeignKey("sellers.seller_key"), nullable=False),
        sa.Column("score", sa.Float, nullable=False),
        sa.Column("evidence", sa.Text),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("seller_key", "other_key", name="uq_seller_links_pair"),
    )
    op.create_table(
        "catalog",
        sa.Column("sku", sa.String(255), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("title", sa.Text),
        sa.Column("product", sa.Text),
        sa.Column("set_id", sa.String(64)),
        sa.Column("number", sa.String(32)),
        sa.Column("rarity", sa.String(64)),
        sa.Column("treatment", sa.String(64)),
        sa.Column("brand", sa.Text),
        sa.Column("model", sa.Text),
        sa.Column("style_code", sa.String(64)),
        sa.Column("gtin", sa.String(32)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_catalog_gtin", "catalog", ["gtin"])
    op.create_index("ix_catalog_style_code", "catalog", ["style_code"])
    op.create_table(
        "sku_mappings",
        sa.Column("platform", sa.String(64), primary_key=True),
        sa.Column("external_sku", sa.String(255), primary_key=True),
        sa.Column("product_sku", sa.String(255), sa.ForeignKey("catalog.sku")),
        sa.Column("method", sa.String(32), nullable=False),
        sa.Column("confidence", sa.Float, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_sku_mappings_status", "sku_mappings", ["status"])
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(255), nullable=False),
        sa.Column("entity", sa.String(32), nullable=False),
        sa.Column("entity_key", sa.Text, nullable=False),
        sa.Column("old", sa.Text),
        sa.Column("new", sa.Text),
        sa.Column("reason", sa.Text),
    )
    op.create_index("ix_audit_log_entity", "audit_log", ["entity", "entity_key"])
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER audit_log_no_{action.lower()} BEFORE {action} ON "
                f"audit_log BEGIN SELECT RAISE(ABORT, '{AUDIT_GUARD}'); END"
            )
    elif dialect == "postgresql":
        op.execute(
            "CREATE FUNCTION audit_log_guard() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN RAISE EXCEPTION '{AUDIT_GUARD}'; END $$"
        )
        op.execute(
            "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
            "FOR EACH ROW EXECUTE FUNCTION audit_log_guard()"
        )


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_delete")
    elif dialect == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log")
        op.execute("DROP FUNCTION IF EXISTS audit_log_guard()")
    for table in (
        "audit_log",
        "sku_mappings",
        "catalog",
        "seller_links",
        "seller_aliases",
        "sellers",
    ):
        op.drop_table(table)
