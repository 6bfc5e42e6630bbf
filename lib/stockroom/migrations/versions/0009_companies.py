"""companies: the install's directory (companies, memberships with roles) and ``company_id`` on
every workbench row; on PostgreSQL the keys include ``company_id`` and row-level security keeps
each company to its own rows

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06

Existing rows belong to the ``local`` company (the single-user install they were made in).

SQLite: one file per company data root (:mod:`stockroom.workbench` refuses to open one file as
two companies), so its keys stay as they were and the column records the owner.

PostgreSQL (the shared install): every primary key, unique key and foreign key gains
``company_id`` (two companies may both have SKU ``A1`` or PO ``PO-0001``, and a row can never
point at another company's row); serial ids stay the primary key with a ``(company_id, id)``
unique key for the composite foreign keys. Each table gets ``ENABLE`` and ``FORCE ROW LEVEL
SECURITY`` (the owner is held to it too) and one policy: a row is visible and writable only
when its ``company_id`` equals the connection's ``stockroom.company`` setting, which the
engine sets on every connection (:func:`stockroom.workbench.engine`). The column's default is
that setting, so an insert that names no company lands in the connection's.
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

ROLES = ("admin", "buyer", "analyst", "viewer")

#: table -> its key columns: tables whose key is natural (or assigned by Stockroom) get
#: (company_id, key) as the primary key on PostgreSQL
NATURAL_KEYS = {
    "job_runs": ("run_id",),
    "watermarks": ("source",),
    "seller_aliases": ("platform", "platform_seller_id"),
    "catalog": ("sku",),
    "sku_mappings": ("platform", "external_sku"),
    "audit_log": ("id",),  # ids are numbered per company's chain (stockroom.audit)
    "audit_head": ("id",),
    "purchase_order_headers": ("po_number",),
    "purchase_orders": ("po_number", "sku"),
    "procurement_settings": ("scope", "scope_key"),
    "locations": ("code",),
    "source_state": ("source",),
    "daily_steps": ("day", "step"),
    "alerts": ("rule", "key"),
    "resale_invoices": ("invoice_key",),
    "resale_lots": ("lot_id",),
    "resale_items": ("item_id",),
    "company_secrets": ("name",),
}
#: tables keyed by a serial id: the id stays the primary key, plus unique (company_id, id)
SERIAL_KEYS = {
    "quarantine": "id",
    "sellers": "seller_key",
    "seller_links": "id",
    "resale_listings": "listing_id",
    "resale_price_history": "id",
}
TENANT_TABLES = (*NATURAL_KEYS, *SERIAL_KEYS)
#: (child table, child column, parent table, parent column): rebuilt as composite keys
FOREIGN_KEYS = (
    ("quarantine", "run_id", "job_runs", "run_id"),
    ("seller_aliases", "seller_key", "sellers", "seller_key"),
    ("seller_links", "seller_key", "sellers", "seller_key"),
    ("seller_links", "other_key", "sellers", "seller_key"),
    ("sku_mappings", "product_sku", "catalog", "sku"),
    ("purchase_orders", "po_number", "purchase_order_headers", "po_number"),
    ("resale_lots", "invoice_key", "resale_invoices", "invoice_key"),
    ("resale_items", "lot_id", "resale_lots", "lot_id"),
    ("resale_listings", "item_id", "resale_items", "item_id"),
    ("resale_price_history", "item_id", "resale_items", "item_id"),
    ("resale_price_history", "listing_id", "resale_listings", "listing_id"),
)
POLICY = "company_id = current_setting('stockroom.company', true)"


def upgrade() -> None:
    op.create_table(
        "companies",
        sa.Column("company_id", sa.String(64), primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("created_by", sa.String(255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "memberships",
        sa.Column("email", sa.String(255), primary_key=True),
        sa.Column(
            "company_id",
            sa.String(64),
            sa.ForeignKey("companies.company_id", name="fk_memberships_company"),
            primary_key=True,
        ),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("invited_by", sa.String(255), nullable=False),
        sa.Column("invited_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(f"role IN {ROLES!r}", name="ck_memberships_role"),
    )
    op.create_index("ix_memberships_company", "memberships", ["company_id"])
    # a company's secrets (source tokens), encrypted (stockroom.vault); never read back out
    op.create_table(
        "company_secrets",
        sa.Column("name", sa.String(128), primary_key=True),
        sa.Column("ciphertext", sa.Text, nullable=False),
        sa.Column("updated_by", sa.String(255), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    for table in TENANT_TABLES:
        op.add_column(
            table,
            sa.Column("company_id", sa.String(64), nullable=False, server_default="local"),
        )
    if op.get_bind().dialect.name == "postgresql":
        _postgresql_keys_and_policies()


def _constraints(kind: str) -> list[tuple[str, str]]:
    """(table, constraint) of ``kind`` (p, u, f) on the tenant tables, from the catalogue."""
    rows = op.get_bind().execute(
        sa.text(
            "SELECT conrelid::regclass::text, conname FROM pg_constraint "
            "WHERE contype = :kind AND connamespace = current_schema()::regnamespace"
        ),
        {"kind": kind},
    )
    return [(t.strip('"'), c) for t, c in rows if t.strip('"') in TENANT_TABLES]


def _postgresql_keys_and_policies() -> None:
    for table, name in _constraints("f"):  # foreign keys first: they depend on the keys
        op.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    for table, name in _constraints("u"):  # resale_invoices.sha256, seller_links' pair
        op.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    for table, name in _constraints("p"):
        if table in NATURAL_KEYS:
            op.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    for table, columns in NATURAL_KEYS.items():
        op.execute(
            f"ALTER TABLE {table} ADD CONSTRAINT pk_{table} "
            f"PRIMARY KEY (company_id, {', '.join(columns)})"
        )
    for table, column in SERIAL_KEYS.items():
        op.execute(
            f"ALTER TABLE {table} ADD CONSTRAINT uq_{table}_company UNIQUE (company_id, {column})"
        )
    op.execute(
        "ALTER TABLE seller_links ADD CONSTRAINT uq_seller_links_pair "
        "UNIQUE (company_id, seller_key, other_key)"
    )
    op.execute(
        "ALTER TABLE resale_invoices ADD CONSTRAINT uq_resale_invoices_sha256 "
        "UNIQUE (company_id, sha256)"
    )
    op.execute("DROP INDEX uq_resale_listings_active")
    op.execute("DROP INDEX uq_resale_listings_sold")
    op.execute(
        "CREATE UNIQUE INDEX uq_resale_listings_active ON resale_listings "
        "(company_id, item_id, platform) WHERE status = 'listed'"
    )
    op.execute(
        "CREATE UNIQUE INDEX uq_resale_listings_sold ON resale_listings "
        "(company_id, item_id) WHERE status = 'sold'"
    )
    for child, column, parent, parent_column in FOREIGN_KEYS:
        op.execute(
            f"ALTER TABLE {child} ADD CONSTRAINT fk_{child}_{column} FOREIGN KEY "
            f"(company_id, {column}) REFERENCES {parent} (company_id, {parent_column})"
        )
    for table in TENANT_TABLES:
        op.execute(
            f"ALTER TABLE {table} ALTER COLUMN company_id "
            "SET DEFAULT current_setting('stockroom.company')"
        )
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
        op.execute(
            f"CREATE POLICY company_isolation ON {table} USING ({POLICY}) WITH CHECK ({POLICY})"
        )


def downgrade() -> None:
    """Back to one company per database: refused while rows of a company other than the local
    one exist (their keys would collide)."""
    bind = op.get_bind()
    for table in TENANT_TABLES:
        other = bind.execute(
            sa.text(f"SELECT company_id FROM {table} WHERE company_id <> 'local' LIMIT 1")
        ).scalar()
        if other is not None:
            raise RuntimeError(f"{table} holds rows of company {other!r}: 0009 cannot be undone")
    if bind.dialect.name == "postgresql":
        for table in TENANT_TABLES:
            op.execute(f"DROP POLICY company_isolation ON {table}")
            op.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
            op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
        for child, column, _, _ in FOREIGN_KEYS:
            op.execute(f"ALTER TABLE {child} DROP CONSTRAINT fk_{child}_{column}")
        for table in SERIAL_KEYS:
            op.execute(f"ALTER TABLE {table} DROP CONSTRAINT uq_{table}_company")
        op.execute("ALTER TABLE seller_links DROP CONSTRAINT uq_seller_links_pair")
        op.execute("ALTER TABLE resale_invoices DROP CONSTRAINT uq_resale_invoices_sha256")
        op.execute("DROP INDEX uq_resale_listings_active")
        op.execute("DROP INDEX uq_resale_listings_sold")
        for table, columns in NATURAL_KEYS.items():
            op.execute(f"ALTER TABLE {table} DROP CONSTRAINT pk_{table}")
            op.execute(f"ALTER TABLE {table} ADD PRIMARY KEY ({', '.join(columns)})")
        op.execute(
            "ALTER TABLE seller_links ADD CONSTRAINT uq_seller_links_pair "
            "UNIQUE (seller_key, other_key)"
        )
        op.execute("ALTER TABLE resale_invoices ADD UNIQUE (sha256)")
        op.execute(
            "CREATE UNIQUE INDEX uq_resale_listings_active ON resale_listings "
            "(item_id, platform) WHERE status = 'listed'"
        )
        op.execute(
            "CREATE UNIQUE INDEX uq_resale_listings_sold ON resale_listings (item_id) "
            "WHERE status = 'sold'"
        )
        for child, column, parent, parent_column in FOREIGN_KEYS:
            op.execute(
                f"ALTER TABLE {child} ADD FOREIGN KEY ({column}) "
                f"REFERENCES {parent} ({parent_column})"
            )
    for table in TENANT_TABLES:  # SQLite 3.35+ drops a column in place (triggers kept)
        op.execute(f"ALTER TABLE {table} DROP COLUMN company_id")
    op.drop_table("company_secrets")
    op.drop_index("ix_memberships_company", "memberships")
    op.drop_table("memberships")
    op.drop_table("companies")
