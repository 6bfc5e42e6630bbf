"""The workbench database: curated state and the record of every job run (SQLAlchemy).

SQLite file ``<data root>/workbench.db`` by default; any SQLAlchemy URL (PostgreSQL, MySQL, ...)
through ``STOCKROOM_DB_URL``. The schema is owned by Alembic migrations in ``lib/migrations``;
:func:`engine` upgrades a database to the latest revision the first time it is opened, so there is
no separate install step. The tables below mirror those migrations for queries.

Tables: ``job_runs`` (one row per job run: job, source, start, end, status, rows
read / landed / quarantined, error), ``quarantine`` (bad cells set aside by row-level
validation, with source file, row, column, value, reason and the whole source record) and
``watermarks`` (how far an incremental source has been read); and the mapping state of
``stockroom.mapping`` (sellers, seller_aliases, seller_links, catalog, sku_mappings, audit_log) and
the procurement state of ``stockroom.procurement`` (purchase_order_headers, purchase_orders,
procurement_settings); the resale state of ``stockroom.resale`` (resale_invoices, resale_lots,
resale_items, resale_listings, resale_price_history).
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

import filelock
import polars as pl
import sqlalchemy as sa
import tenacity
from alembic import command
from alembic.config import Config

from stockroom import config

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
RUN_STATUSES = ("running", "succeeded", "failed")

metadata = sa.MetaData()

job_runs = sa.Table(
    "job_runs",
    metadata,
    sa.Column("run_id", sa.String(96), primary_key=True),
    sa.Column("job", sa.String(64), nullable=False),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("finished_at", sa.DateTime(timezone=True)),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("rows_read", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("rows_landed", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("rows_quarantined", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("snapshots", sa.Integer, nullable=False, server_default="0"),
    sa.Column("error", sa.Text),
    sa.Column("host", sa.String(255)),
    sa.Column("pid", sa.Integer),
    sa.Column("retries", sa.Text),  # JSON {cause: count} (migration 0005)
    sa.Column("warnings", sa.Text),  # JSON [message, ...] (migration 0005)
    sa.Index("ix_job_runs_job_started", "job", "started_at"),
)

quarantine = sa.Table(
    "quarantine",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("run_id", sa.String(96), sa.ForeignKey("job_runs.run_id"), nullable=False),
    sa.Column("table_name", sa.String(64), nullable=False),
    sa.Column("source_file", sa.Text),
    sa.Column("source_row", sa.BigInteger),
    sa.Column("column_name", sa.Text),
    sa.Column("value", sa.Text),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("record", sa.Text),
    sa.Index("ix_quarantine_run", "run_id"),
)

watermarks = sa.Table(
    "watermarks",
    metadata,
    sa.Column("source", sa.String(512), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
    sa.Column("run_id", sa.String(96), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)


# -- mapping (migration 0002) ---------------------------------------------------------------------

sellers_t = sa.Table(
    "sellers",
    metadata,
    sa.Column("seller_key", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("norm_name", sa.String(255), nullable=False, index=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)
seller_aliases = sa.Table(
    "seller_aliases",
    metadata,
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
seller_links = sa.Table(
    "seller_links",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("seller_key", sa.Integer, sa.ForeignKey("sellers.seller_key"), nullable=False),
    sa.Column("other_key", sa.Integer, sa.ForeignKey("sellers.seller_key"), nullable=False),
    sa.Column("score", sa.Float, nullable=False),
    sa.Column("evidence", sa.Text),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.UniqueConstraint("seller_key", "other_key", name="uq_seller_links_pair"),
)
catalog = sa.Table(
    "catalog",
    metadata,
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
    sa.Column("style_code", sa.String(64), index=True),
    sa.Column("gtin", sa.String(32), index=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)
sku_mappings = sa.Table(
    "sku_mappings",
    metadata,
    sa.Column("platform", sa.String(64), primary_key=True),
    sa.Column("external_sku", sa.String(255), primary_key=True),
    sa.Column("product_sku", sa.String(255), sa.ForeignKey("catalog.sku")),
    sa.Column("method", sa.String(32), nullable=False),
    sa.Column("confidence", sa.Float, nullable=False),
    sa.Column("status", sa.String(16), nullable=False, index=True),
    sa.Column("reason", sa.Text),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)
audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("actor", sa.String(255), nullable=False),
    sa.Column("entity", sa.String(32), nullable=False),
    sa.Column("entity_key", sa.Text, nullable=False),
    sa.Column("old", sa.Text),
    sa.Column("new", sa.Text),
    sa.Column("reason", sa.Text),
    sa.Column("prev_hash", sa.String(64)),  # hash chain (migration 0005; stockroom.audit)
    sa.Column("hash", sa.String(64)),
    sa.Index("ix_audit_log_entity", "entity", "entity_key"),
)
audit_head = sa.Table(
    "audit_head",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("last_id", sa.Integer, nullable=False),
    sa.Column("last_at", sa.DateTime(timezone=True)),
    sa.Column("hash", sa.String(64), nullable=False),
)

purchase_order_headers = sa.Table(
    "purchase_order_headers",
    metadata,
    sa.Column("po_number", sa.String(64), primary_key=True),
    sa.Column("supplier", sa.String(255), nullable=False),
    sa.Column("order_date", sa.Date, nullable=False),
    sa.Column("created_by", sa.String(255), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)
purchase_orders = sa.Table(
    "purchase_orders",
    metadata,
    sa.Column(
        "po_number",
        sa.String(64),
        sa.ForeignKey("purchase_order_headers.po_number", name="fk_purchase_orders_header"),
        primary_key=True,
    ),
    sa.Column("sku", sa.String(255), primary_key=True),
    sa.Column("supplier", sa.String(255), nullable=False),
    sa.Column("quantity", sa.Integer, nullable=False),
    sa.Column("order_date", sa.Date, nullable=False),
    sa.Column("expected_delivery", sa.Date, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("created_by", sa.String(255), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    # receipts (migration 0006): units received so far (partial receipts add up) and when
    sa.Column("received_quantity", sa.Integer, nullable=False, server_default="0"),
    sa.Column("received_at", sa.Date),
    sa.CheckConstraint("quantity > 0", name="ck_purchase_orders_quantity"),
    sa.CheckConstraint("expected_delivery >= order_date", name="ck_purchase_orders_delivery"),
    sa.Index("ix_purchase_orders_sku_status", "sku", "status"),
)
# -- the seller's own business (migration 0006) ---------------------------------------------------

#: Stock locations (warehouses) the seller has; a stock import naming another one quarantines it.
locations = sa.Table(
    "locations",
    metadata,
    sa.Column("code", sa.String(64), primary_key=True),
    sa.Column("name", sa.Text),
    sa.Column("created_by", sa.String(255), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)
#: Per configured source: ``active`` or ``paused`` (a refused token) with the reason.
source_state = sa.Table(
    "source_state",
    metadata,
    sa.Column("source", sa.String(255), primary_key=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("reason", sa.Text),
    sa.Column("run_id", sa.String(96)),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)
#: One row per (day, step) of `stockroom daily`: the primary key is the claim that keeps two
#: schedulers from running the same step of the same day twice.
daily_steps = sa.Table(
    "daily_steps",
    metadata,
    sa.Column("day", sa.Date, primary_key=True),
    sa.Column("step", sa.String(32), primary_key=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("finished_at", sa.DateTime(timezone=True)),
    sa.Column("detail", sa.Text),
    sa.Column("host", sa.String(255)),
    sa.Column("pid", sa.Integer),
)
#: One row per alert condition (rule, key): open until the condition clears, then re-armed.
alerts = sa.Table(
    "alerts",
    metadata,
    sa.Column("rule", sa.String(64), primary_key=True),
    sa.Column("key", sa.String(255), primary_key=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("message", sa.Text, nullable=False),
    sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("cleared_at", sa.DateTime(timezone=True)),
    sa.Column("notified_at", sa.DateTime(timezone=True)),
    sa.Column("channels", sa.Text),
)

procurement_settings = sa.Table(
    "procurement_settings",
    metadata,
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
    # migration 0007: share of unit cost per year it costs to hold a unit (0.25 = 25 %)
    sa.Column("holding_cost_rate", sa.Float),
)


# -- resale (migration 0008; stockroom.resale) ----------------------------------------------------

#: money columns: exact decimals on PostgreSQL, returned as float (the library's money type)
_MONEY = sa.Numeric(14, 2, asdecimal=False)
#: listing statuses; an item has at most one ``listed`` listing per platform and one ``sold``
RESALE_STATUSES = ("not_listed", "listed", "sold", "expired")

#: One auction invoice as imported: its file's sha256 is unique, so the same PDF lands once.
resale_invoices = sa.Table(
    "resale_invoices",
    metadata,
    sa.Column("invoice_key", sa.String(160), primary_key=True),  # auction_house:invoice_id
    sa.Column("invoice_id", sa.String(96), nullable=False),
    sa.Column("auction_house", sa.String(96), nullable=False),
    sa.Column("auction_id", sa.String(96)),
    sa.Column("invoice_date", sa.Date, nullable=False),
    sa.Column("layout", sa.String(32), nullable=False),
    sa.Column("hammer_total", _MONEY, nullable=False),
    sa.Column("premium_total", _MONEY, nullable=False),
    sa.Column("tax_total", _MONEY, nullable=False),
    sa.Column("shipping_total", _MONEY, nullable=False),
    sa.Column("total", _MONEY, nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("source_file", sa.Text, nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False, unique=True),
    sa.Column("pages", sa.Integer, nullable=False),
    sa.Column("imported_by", sa.String(255), nullable=False),
    sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
)
#: One acquisition (a lot bought at auction, or a purchase at retail): what was paid for it.
resale_lots = sa.Table(
    "resale_lots",
    metadata,
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
    sa.Column("hammer", _MONEY, nullable=False),
    sa.Column("premium", _MONEY, nullable=False),
    sa.Column("tax", _MONEY, nullable=False),
    sa.Column("shipping", _MONEY, nullable=False),
    sa.Column("total_cost", _MONEY, nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("source", sa.Text),
    sa.Column("created_by", sa.String(255), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("quantity > 0", name="ck_resale_lots_quantity"),
    sa.CheckConstraint(
        "hammer >= 0 AND premium >= 0 AND tax >= 0 AND shipping >= 0",
        name="ck_resale_lots_amounts",
    ),
    sa.Index("ix_resale_lots_invoice", "invoice_key"),
)
#: One physical piece: a lot of quantity n gives n items sharing its cost (stockroom.resale).
resale_items = sa.Table(
    "resale_items",
    metadata,
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
    sa.Column("cost", _MONEY, nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("location", sa.String(96)),
    sa.Column("bin", sa.String(96)),
    sa.Column("estimated_value", _MONEY),
    sa.Column("needs_repair", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("consignment", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("returned", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("keywords", sa.Text),
    sa.Column("notes", sa.Text),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("deleted_at", sa.DateTime(timezone=True)),  # soft delete: the row stays
    sa.CheckConstraint("cost >= 0", name="ck_resale_items_cost"),
    sa.CheckConstraint("estimated_value >= 0", name="ck_resale_items_value"),
    sa.Index("ix_resale_items_lot", "lot_id"),
)
#: One listing of an item on a platform, through to its sale (or expiry).
resale_listings = sa.Table(
    "resale_listings",
    metadata,
    sa.Column("listing_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("item_id", sa.String(200), sa.ForeignKey("resale_items.item_id"), nullable=False),
    sa.Column("platform", sa.String(64), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("list_price", _MONEY),
    sa.Column("listed_on", sa.Date),
    sa.Column("sold_on", sa.Date),
    sa.Column("ended_on", sa.Date),  # when an expired listing ended (the sale day if a sale)
    sa.Column("sold_price", _MONEY),
    sa.Column("platform_fees", _MONEY),
    sa.Column("buyer_shipping", _MONEY),
    sa.Column("actual_shipping", _MONEY),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("external_id", sa.String(255)),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint(
        "status IN ('not_listed', 'listed', 'sold', 'expired')", name="ck_resale_listings_status"
    ),
    sa.CheckConstraint(
        "list_price >= 0 AND sold_price >= 0 AND platform_fees >= 0 AND buyer_shipping >= 0 "
        "AND actual_shipping >= 0",
        name="ck_resale_listings_amounts",
    ),
    sa.CheckConstraint(
        "status <> 'sold' OR (sold_on IS NOT NULL AND sold_price IS NOT NULL)",
        name="ck_resale_listings_sale",
    ),
    sa.CheckConstraint("sold_on >= listed_on", name="ck_resale_listings_dates"),
    sa.Index("ix_resale_listings_item", "item_id"),
    # at most one active listing per item and platform, and an item sells once
    sa.Index(
        "uq_resale_listings_active",
        "item_id",
        "platform",
        unique=True,
        sqlite_where=sa.text("status = 'listed'"),
        postgresql_where=sa.text("status = 'listed'"),
    ),
    sa.Index(
        "uq_resale_listings_sold",
        "item_id",
        unique=True,
        sqlite_where=sa.text("status = 'sold'"),
        postgresql_where=sa.text("status = 'sold'"),
    ),
)
#: Every change of a list price or an estimated value, who made it and why (append-only).
resale_price_history = sa.Table(
    "resale_price_history",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("item_id", sa.String(200), sa.ForeignKey("resale_items.item_id"), nullable=False),
    sa.Column("listing_id", sa.Integer, sa.ForeignKey("resale_listings.listing_id")),
    sa.Column("field", sa.String(32), nullable=False),  # list_price | estimated_value
    sa.Column("old_value", _MONEY),
    sa.Column("new_value", _MONEY),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("actor", sa.String(255), nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Index("ix_resale_price_history_item", "item_id"),
)


# -- companies (migration 0009; stockroom.tenancy) -----------------------------------------------

#: The install's directory: one row per company (its data root is
#: :func:`stockroom.config.company_root` of the id). Not a tenant table: read through
#: :mod:`stockroom.tenancy` only.
companies = sa.Table(
    "companies",
    metadata,
    sa.Column("company_id", sa.String(64), primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("created_by", sa.String(255), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)
#: Who may sign in to which company, with which role (admin, buyer, analyst, viewer).
memberships = sa.Table(
    "memberships",
    metadata,
    sa.Column("email", sa.String(255), primary_key=True),
    sa.Column("company_id", sa.String(64), sa.ForeignKey("companies.company_id"), primary_key=True),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("invited_by", sa.String(255), nullable=False),
    sa.Column("invited_at", sa.DateTime(timezone=True), nullable=False),
)


#: A company's secrets (source tokens), encrypted with the install's key (stockroom.vault).
company_secrets = sa.Table(
    "company_secrets",
    metadata,
    sa.Column("name", sa.String(128), primary_key=True),
    sa.Column("ciphertext", sa.Text, nullable=False),
    sa.Column("updated_by", sa.String(255), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)


def _company_default(context) -> str:
    """``company_id`` of a row inserted through the engine of a company (its execution option,
    :func:`engine`); the connection's setting must match it on PostgreSQL (the policy's check)."""
    return context.execution_options.get("company_id", config.LOCAL_COMPANY)


#: Every table whose rows belong to one company (all but the directory): each carries
#: ``company_id``, filled on insert from the engine the row is written through.
TENANT_TABLES = (
    job_runs,
    quarantine,
    watermarks,
    sellers_t,
    seller_aliases,
    seller_links,
    catalog,
    sku_mappings,
    audit_log,
    audit_head,
    purchase_order_headers,
    purchase_orders,
    procurement_settings,
    locations,
    source_state,
    daily_steps,
    alerts,
    resale_invoices,
    resale_lots,
    resale_items,
    resale_listings,
    resale_price_history,
    company_secrets,
)
for _table in TENANT_TABLES:
    _table.append_column(
        sa.Column("company_id", sa.String(64), nullable=False, default=_company_default)
    )


def db_url(root: Path) -> str:
    """The workbench database URL (:func:`stockroom.config.db_url`)."""
    return config.db_url(root)


def engine(root: Path) -> sa.Engine:
    """The engine of the data root's company on its workbench database, migrated to the latest.

    The one place where companies are kept apart: the company is read from the data root
    (:func:`stockroom.config.company_of`); every row written through this engine carries its
    ``company_id``; on PostgreSQL every connection it hands out has ``stockroom.company`` set,
    and row-level security (migration 0009) shows and accepts only that company's rows, so no
    query needs to remember a WHERE clause. On SQLite each company has its own file (one per
    data root): a file already holding another company's rows is refused.

    Raises :class:`~stockroom.errors.ConfigError` when PostgreSQL is reached as a superuser or a
    role that bypasses row-level security (isolation would silently not apply), or a SQLite
    file belongs to another company."""
    return _company_engine(db_url(root), config.company_of(Path(root)))


def reset_engines() -> None:
    """Forget every cached engine (tests starting a new database server on the same URL)."""
    _company_engine.cache_clear()
    _engine.cache_clear()


@cache
def _company_engine(url: str, company: str) -> sa.Engine:
    eng = _engine(url).execution_options(company_id=company)
    with eng.begin() as conn:
        if eng.dialect.name == "sqlite":
            _claim_sqlite(conn, url, company)
        # the first write of a new company needs its own audit chain head (stockroom.audit);
        # two processes opening a new company at once both try: the later insert is ignored
        if conn.execute(sa.select(audit_head.c.id).where(audit_head.c.id == 1)).first() is None:
            genesis = {"id": 1, "last_id": 0, "last_at": None, "hash": "0" * 64}
            if eng.dialect.name == "postgresql":
                from sqlalchemy.dialects.postgresql import insert
            else:
                from sqlalchemy.dialects.sqlite import insert
            conn.execute(insert(audit_head).values(**genesis).on_conflict_do_nothing())
    return eng


def _claim_sqlite(conn: sa.Connection, url: str, company: str) -> None:
    """Refuse a SQLite file holding rows of another company: SQLite has no row-level security,
    so a SQLite workbench serves exactly one company (one file per data root)."""
    from stockroom.errors import ConfigError

    for table in TENANT_TABLES:
        other = conn.execute(
            sa.select(table.c.company_id).where(table.c.company_id != company).limit(1)
        ).scalar()
        if other is None:
            continue
        if table is audit_head and other == config.LOCAL_COMPANY and _only_head(conn):
            # a new file: the migration gave its chain head to the local company
            conn.execute(audit_head.update().values(company_id=company))
            continue
        raise ConfigError(
            f"the SQLite workbench {url} holds rows of company {other!r} ({table.name}); "
            f"company {company!r} cannot share it: give each company its own data root "
            "(unset STOCKROOM_DB_URL) or use PostgreSQL, whose row-level security keeps "
            "companies apart in one database"
        )


def _only_head(conn: sa.Connection) -> bool:
    """Whether the file holds nothing but its chain head (a workbench nobody wrote to yet)."""
    return conn.execute(sa.select(audit_head.c.last_id)).scalar() == 0 and all(
        conn.execute(sa.select(sa.literal(1)).select_from(t).limit(1)).first() is None
        for t in TENANT_TABLES
        if t is not audit_head
    )


@cache
def _engine(url: str) -> sa.Engine:
    """The shared engine (one connection pool) of a database URL, migrated; the companies'
    engines are views of it with their ``company_id`` (:func:`engine`)."""
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    if url.startswith("postgresql"):
        # a pool per process: a few connections kept open, checked before use (a restarted
        # server costs one failed ping, not an error page)
        eng = sa.create_engine(url, pool_size=5, max_overflow=10, pool_pre_ping=True)
    else:
        eng = sa.create_engine(url)
    if eng.dialect.name == "sqlite":
        sa.event.listen(eng, "connect", _sqlite_pragmas)
    if eng.dialect.name == "postgresql":
        _refuse_rls_bypass(eng, url)
        sa.event.listen(eng, "engine_connect", _set_company)
    # two processes opening a new database at once both start the migrations; the later one
    # fails on a table the other created ("already exists") -- it retries and finds head
    retrying = tenacity.Retrying(
        retry=tenacity.retry_if_exception_type(sa.exc.DBAPIError),
        stop=tenacity.stop_after_attempt(5),
        wait=tenacity.wait_random(0.05, 0.3),
        reraise=True,
    )
    with _migration_lock(url):
        retrying(upgrade, eng)
    return eng


def _set_company(conn: sa.Connection) -> None:
    """PostgreSQL: set ``stockroom.company`` for the connection just handed out, from its
    engine's ``company_id`` (empty for the shared pool's own engine, :func:`_engine`, which
    migrations use: it sees no company's rows)."""
    company = conn.get_execution_options().get("company_id", "")
    conn.exec_driver_sql("SELECT set_config('stockroom.company', %(c)s, false)", {"c": company})
    conn.commit()


def _refuse_rls_bypass(eng: sa.Engine, url: str) -> None:
    from stockroom.errors import ConfigError

    with eng.connect() as conn:
        role, bypass = conn.execute(
            sa.text(
                "SELECT rolname, rolsuper OR rolbypassrls FROM pg_roles "
                "WHERE rolname = current_user"
            )
        ).one()
    if bypass:
        raise ConfigError(
            f"the workbench database {sa.make_url(url).render_as_string(hide_password=True)} "
            f"is reached as {role!r}, a superuser or a role that bypasses row-level security: "
            "companies would not be kept apart. Connect as a role without SUPERUSER and "
            "BYPASSRLS that owns the database (see README, Shared install)"
        )


@contextmanager
def _migration_lock(url: str) -> Iterator[None]:
    """Serialise the first opening of a database across processes: a file lock beside a SQLite
    file; PostgreSQL's own advisory lock (held on a separate connection) elsewhere. Two jobs
    started together on a new data root then migrate one after the other."""
    parsed = sa.make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        lock = filelock.FileLock(f"{parsed.database}.migrate.lock")
        with lock.acquire(timeout=config.lock_timeout()):
            yield
        return
    if parsed.get_backend_name() == "postgresql":
        locker = sa.create_engine(url, poolclass=sa.pool.NullPool)
        with locker.connect() as conn:
            conn.execute(sa.text("SELECT pg_advisory_lock(:k)"), {"k": _MIGRATION_LOCK_KEY})
            try:
                yield
            finally:
                conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": _MIGRATION_LOCK_KEY})
        locker.dispose()
        return
    yield


_MIGRATION_LOCK_KEY = 0x5700C400  # any constant: "the stockroom migration"


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")  # readers (pages) never block the job writing
    cur.execute("PRAGMA busy_timeout=10000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def upgrade(eng: sa.Engine, revision: str = "head") -> None:
    """Apply Alembic migrations up to ``revision`` (idempotent)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with eng.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def _now() -> datetime:
    return datetime.now(UTC)


# -- job runs ---------------------------------------------------------------------------------


def start_run(eng: sa.Engine, run_id: str, job: str, source: str) -> None:
    """Record a run as ``running`` (so a crash is visible as a run that never finished)."""
    with eng.begin() as conn:
        conn.execute(
            job_runs.insert().values(
                run_id=run_id,
                job=job,
                source=source,
                started_at=_now(),
                status="running",
                host=socket.gethostname(),
                pid=os.getpid(),
            )
        )


def finish_run(
    eng: sa.Engine,
    run_id: str,
    status: str,
    *,
    rows_read: int = 0,
    rows_landed: int = 0,
    rows_quarantined: int = 0,
    snapshots: int = 0,
    error: str | None = None,
    retries: dict[str, int] | None = None,
    warnings: list[str] | None = None,
) -> None:
    """Close a run with its final status (``succeeded`` / ``failed``), counts, retried requests
    by cause (``{"HTTP 429": 3}``) and warnings (unrecognised headers, ...)."""
    if status not in RUN_STATUSES:
        raise ValueError(f"status must be one of {RUN_STATUSES}, not {status!r}")
    with eng.begin() as conn:
        conn.execute(
            job_runs.update()
            .where(job_runs.c.run_id == run_id)
            .values(
                finished_at=_now(),
                status=status,
                rows_read=rows_read,
                rows_landed=rows_landed,
                rows_quarantined=rows_quarantined,
                snapshots=snapshots,
                error=error,
                retries=json.dumps(retries) if retries else None,
                warnings=json.dumps(warnings) if warnings else None,
            )
        )


def record_progress(eng: sa.Engine, run_id: str, counts: dict) -> None:
    """Store a run's counts so far (rows_read, rows_landed, rows_quarantined, snapshots) while it
    runs, right as its snapshots land: a run killed later still tells what it landed. Counts
    only grow (a replayed record changes nothing)."""
    with eng.begin() as conn:
        conn.execute(
            job_runs.update()
            .where((job_runs.c.run_id == run_id) & (job_runs.c.snapshots <= counts["snapshots"]))
            .values(**{k: int(counts[k]) for k in RUN_COUNTS})
        )


RUN_COUNTS = ("rows_read", "rows_landed", "rows_quarantined", "snapshots")


def add_quarantine(eng: sa.Engine, run_id: str, bad: pl.DataFrame) -> int:
    """Store quarantined cells (``stockroom.tables.QUARANTINE_SCHEMA``) for a run; returns the
    count."""
    if not bad.height:
        return 0
    rows = (
        bad.rename({"table": "table_name", "column": "column_name"})
        .with_columns(pl.lit(run_id).alias("run_id"))
        .to_dicts()
    )
    with eng.begin() as conn:
        for start in range(0, len(rows), 5_000):
            conn.execute(quarantine.insert(), rows[start : start + 5_000])
    return len(rows)


def _pid_alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def runs(eng: sa.Engine, limit: int | None = 200, job: str | None = None) -> pl.DataFrame:
    """Job runs, newest first.

    Columns: run_id, job, source (str); started_at, finished_at (datetime UTC); status (str:
    running / succeeded / failed / crashed); rows_read, rows_landed, rows_quarantined,
    snapshots (int); duration_s (float, seconds); error (str); retries (int, retried requests)
    and retry_causes (str, e.g. ``HTTP 429 x3``); warnings (str, one per line). A ``running``
    row whose process on this host is gone is reported as ``crashed`` (killed without a chance
    to record it; its counts are what it landed before it died).
    """
    query = sa.select(job_runs).order_by(job_runs.c.started_at.desc())
    if job:
        query = query.where(job_runs.c.job == job)
    if limit:
        query = query.limit(limit)
    with eng.connect() as conn:
        records = [dict(r._mapping) for r in conn.execute(query)]
    host = socket.gethostname()
    for r in records:
        if r["status"] == "running" and r["host"] == host and not _pid_alive(r["pid"]):
            r["status"] = "crashed"
        for key in ("started_at", "finished_at"):
            if r[key] is not None and r[key].tzinfo is None:
                r[key] = r[key].replace(tzinfo=UTC)
    schema = {
        "run_id": pl.String,
        "job": pl.String,
        "source": pl.String,
        "started_at": pl.Datetime("us", "UTC"),
        "finished_at": pl.Datetime("us", "UTC"),
        "status": pl.String,
        "rows_read": pl.Int64,
        "rows_landed": pl.Int64,
        "rows_quarantined": pl.Int64,
        "snapshots": pl.Int64,
        "error": pl.String,
        "retries": pl.Int64,
        "retry_causes": pl.String,
        "warnings": pl.String,
    }
    for r in records:
        causes = json.loads(r["retries"]) if r["retries"] else {}
        r["retries"] = sum(causes.values())
        r["retry_causes"] = ", ".join(f"{k} x{v}" for k, v in sorted(causes.items())) or None
        r["warnings"] = "\n".join(json.loads(r["warnings"])) if r["warnings"] else None
    frame = pl.DataFrame([{k: r[k] for k in schema} for r in records], schema=schema)
    return frame.with_columns(
        ((pl.col("finished_at") - pl.col("started_at")).dt.total_milliseconds() / 1000).alias(
            "duration_s"
        )
    )


def quarantined(eng: sa.Engine, run_id: str | None = None, limit: int = 1_000) -> pl.DataFrame:
    """Quarantined cells, newest run first: run_id, job, table, source_file, source_row, column,
    value, reason, record (the whole source row as JSON)."""
    q = quarantine
    query = (
        sa.select(
            q.c.run_id,
            job_runs.c.job,
            q.c.table_name.label("table"),
            q.c.source_file,
            q.c.source_row,
            q.c.column_name.label("column"),
            q.c.value,
            q.c.reason,
            q.c.record,
        )
        .join(job_runs, job_runs.c.run_id == q.c.run_id)
        .order_by(job_runs.c.started_at.desc(), q.c.id)
        .limit(limit)
    )
    if run_id:
        query = query.where(q.c.run_id == run_id)
    with eng.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(query)]
    schema = {
        "run_id": pl.String,
        "job": pl.String,
        "table": pl.String,
        "source_file": pl.String,
        "source_row": pl.Int64,
        "column": pl.String,
        "value": pl.String,
        "reason": pl.String,
        "record": pl.String,
    }
    return pl.DataFrame(rows, schema=schema)


def audit_version(eng: sa.Engine) -> int:
    """The id of the newest audit-log row (0 when empty): it changes with every audited change
    (POs, settings, mappings), so caches of state read from this database can key on it."""
    with eng.connect() as conn:
        return conn.execute(sa.select(sa.func.max(audit_log.c.id))).scalar() or 0


# -- watermarks ---------------------------------------------------------------------------------


def get_watermark(eng: sa.Engine, source: str) -> str | None:
    """The stored watermark of an incremental source (JSON text), or None before its first run."""
    with eng.connect() as conn:
        row = conn.execute(
            sa.select(watermarks.c.value).where(watermarks.c.source == source)
        ).first()
    return None if row is None else json.loads(row[0])


def set_watermark(eng: sa.Engine, source: str, value: str, run_id: str) -> None:
    """Store a watermark; call only after the data up to it has landed."""
    encoded = json.dumps(value)
    with eng.begin() as conn:
        updated = conn.execute(
            watermarks.update()
            .where(watermarks.c.source == source)
            .values(value=encoded, run_id=run_id, updated_at=_now())
        )
        if updated.rowcount == 0:
            conn.execute(
                watermarks.insert().values(
                    source=source, value=encoded, run_id=run_id, updated_at=_now()
                )
            )
