"""The seller's configuration of its morning: sources, schedule and alerts (``stockroom.toml``).

The file lives in the data root (``<root>/stockroom.toml``) and is validated with pydantic, so
a mistake names the key. Secrets never go in it: tokens come from ``STOCKROOM_<SOURCE>_TOKEN``
or ``[sources.<name>] token`` in ``.streamlit/secrets.toml``
(:func:`stockroom.config.source_token`), SMTP credentials from ``STOCKROOM_SMTP_USER`` /
``STOCKROOM_SMTP_PASSWORD`` or ``[smtp] user/password`` there.

Example::

    [[sources]]
    name = "shop-orders"            # files: the newest exports in a folder, imported as orders
    kind = "files"
    paths = ["raw/own/shopify_orders.csv", "raw/own/ebay_orders.csv"]
    import = "orders"

    [[sources]]
    name = "wb"                     # a marketplace API, delta-synced by its watermark
    kind = "wildberries"
    url = "https://statistics-api.wildberries.ru"
    since = "2024-01-01T00:00:00"

    [schedule]                      # local times of each step (one run per day)
    sync = "06:00"
    forecast = "06:30"
    plan = "07:00"
    reconcile = "07:00"
    reports = "07:15"
    timezone = "Europe/London"

    [alerts]
    email = ["buyer@example.com"]
    webhook = ["https://hooks.example.com/stockroom"]
    rules = ["stockout", "order_today", "source_failed", "job_failed"]
    digest = false
    [alerts.stockout_days]          # per-SKU threshold (default: the SKU's lead time)
    "22423" = 10

State that changes (a source paused after its token was refused) is kept in the workbench
database (``source_state``), not in the file.
"""

from __future__ import annotations

import tomllib
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Literal

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from stockroom.errors import StockroomError

CONFIG_FILE = "stockroom.toml"
STEPS = ("sync", "forecast", "plan", "reconcile", "reports")
#: what each step needs to have succeeded the same day before it runs
DEPENDS = {
    "sync": (),
    "forecast": ("sync",),
    "plan": ("forecast",),
    "reconcile": ("sync",),
    "reports": ("plan", "reconcile"),
}
RULES = (
    "stockout",
    "order_today",
    "source_failed",
    "job_failed",
    "price_target",
    "price_move",
    "resale_aging",
)


class Source(BaseModel):
    """One configured source of the seller's data."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    kind: Literal["files", "sql", "wildberries", "ozon"]
    paths: list[str] = []
    import_kind: Literal["orders", "stock", "inventory", "listings", "pos", "settings"] | None = (
        Field(None, alias="import")
    )
    layout: str | None = None
    platform: str | None = None
    currency: str = "USD"
    url: str | None = None
    table: str | None = None
    query: str | None = None
    watermark: str = "updated_at"
    into: Literal["listings", "orders", "stock", "inventory"] = "orders"
    since: str = "2000-01-01T00:00:00"
    min_interval: float = Field(1.0, ge=0)
    #: the day a stock/inventory file describes (default: the day it is imported); set it
    #: only to replay a historical export (the bundled demo)
    snapshot_date: date | None = None

    @field_validator("url")
    @classmethod
    def _url(cls, v: str | None) -> str | None:
        if v is not None and not v.startswith(("http://", "https://", "sqlite", "postgresql")):
            raise ValueError("must be an http(s) or SQLAlchemy URL")
        return v


class Schedule(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sync: time = time(6, 0)
    forecast: time = time(6, 30)
    plan: time = time(7, 0)
    reconcile: time = time(7, 0)
    reports: time = time(7, 15)
    timezone: str = "UTC"
    catch_up_days: int = Field(3, ge=0, le=31)


class Alerts(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: list[str] = []
    webhook: list[str] = []
    rules: list[Literal[RULES]] = list(RULES)  # Literal of a tuple: any one of RULES
    digest: bool = False
    stockout_days: dict[str, float] = {}
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    sender: str = "stockroom@localhost"


class Watch(BaseModel):
    """``[[market.watch]]``: one item a seller follows. ``price_target`` fires while the lowest
    ask is at or below ``below`` (a buy target) or at or above ``above`` (a sell target);
    ``price_move`` fires on a snapshot day whose lowest ask moved more than ``move`` (share;
    default ``[market] move_threshold``) from the previous day. ``platform``: one platform, or
    every platform when unset."""

    model_config = ConfigDict(extra="forbid")

    sku: str
    platform: str | None = None
    below: float | None = Field(None, ge=0)
    above: float | None = Field(None, ge=0)
    move: float | None = Field(None, gt=0, le=1)


class Market(BaseModel):
    """``[market]``: the thresholds of the market views (see :class:`stockroom.market.views.Rules`)
    and the seller's own files, relative to the data root."""

    model_config = ConfigDict(extra="forbid")

    reprice_above: float = Field(0.05, ge=0, le=1)
    undercut: float = Field(0.01, ge=0)
    tie_share: float = Field(0.02, ge=0, le=1)
    move_threshold: float = Field(0.10, gt=0, le=1)
    #: a fee schedule CSV replacing the bundled one (stockroom.market.fees)
    fees: str | None = None
    #: per-SKU floor and ceiling prices (CSV: sku, floor, ceiling)
    price_rules: str = "price_rules.csv"
    #: items followed by the price_target and price_move alerts
    watch: list[Watch] = []


class Resale(BaseModel):
    """``[resale]``: the aging buckets (upper bounds in days) of the Resale page and report,
    and the age (days since acquisition) past which an unsold item raises a ``resale_aging``
    alert (unset: no alert)."""

    model_config = ConfigDict(extra="forbid")

    aging_buckets: list[int] = [30, 60, 90, 180]
    aging_alert_days: int | None = Field(None, ge=1)

    @field_validator("aging_buckets")
    @classmethod
    def _increasing(cls, value: list[int]) -> list[int]:
        if not value or any(b < 1 for b in value) or len(set(value)) != len(value):
            raise ValueError("aging buckets are distinct whole days >= 1, e.g. [30, 60, 90]")
        return sorted(value)


class Settings(BaseModel):
    """The whole ``stockroom.toml``."""

    model_config = ConfigDict(extra="forbid")

    sources: list[Source] = []
    schedule: Schedule = Schedule()
    alerts: Alerts = Alerts()
    reports: list[str] = ["seller_concentration"]
    #: ISO 4217 code every analytics view reports money in, converted at the ECB reference
    #: rates (stockroom.fx); unset: the orders' own currency, and mixing two is refused
    reporting_currency: str | None = Field(None, pattern=r"^[A-Z]{3}$")
    #: analytics count a Seller once across platforms and a product once across its SKUs
    #: (the applied seller aliases and SKU mappings of `stockroom map`); false: each
    #: platform's own seller ids and SKUs
    use_mapping: bool = True
    market: Market = Market()
    resale: Resale = Resale()


def load(root: Path) -> Settings:
    """``<root>/stockroom.toml`` (defaults when absent). Raises :class:`StockroomError` naming
    the file and the key of the first mistake."""
    path = Path(root) / CONFIG_FILE
    if not path.is_file():
        return Settings()
    return parse(path.read_text(encoding="utf-8"), path)


def parse(text: str, path: Path | str = CONFIG_FILE) -> Settings:
    """Settings from the TOML ``text`` of ``path``; raises :class:`StockroomError` naming
    ``path`` and the key of the first mistake."""
    try:
        return Settings.model_validate(tomllib.loads(text))
    except tomllib.TOMLDecodeError as exc:
        raise StockroomError(f"{path}: not valid TOML ({exc})") from None
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise StockroomError(f"{path}: {where}: {first['msg']}") from None


def save(root: Path, text: str, *, actor: str) -> Settings:
    """Replace ``<root>/stockroom.toml`` with ``text`` once it validates (:func:`parse`; a
    mistake raises :class:`StockroomError` and the file is untouched), atomically (a reader
    sees the old file or the new one), audited with both versions' sha256."""
    import hashlib
    import os
    import tempfile

    from stockroom import audit, workbench

    path = Path(root) / CONFIG_FILE
    settings = parse(text, path)
    old = path.read_bytes() if path.is_file() else None
    path.parent.mkdir(parents=True, exist_ok=True)
    # a name of its own per save: two admins saving at once (two threads of one app process)
    # never write into one staging file
    fd, staged = tempfile.mkstemp(prefix=f".{CONFIG_FILE}.", suffix=".tmp", dir=path.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(staged, path)
    digest = hashlib.sha256
    with workbench.engine(root).begin() as conn:
        audit.append(
            conn,
            [
                audit.entry(
                    actor,
                    "settings_file",
                    CONFIG_FILE,
                    None if old is None else {"sha256": digest(old).hexdigest()},
                    {"sha256": digest(text.encode()).hexdigest()},
                    "saved",
                )
            ],
        )
    return settings


# -- source state (paused after a refused token) -----------------------------------------------


def state(eng: sa.Engine) -> dict[str, dict]:
    """``{source: {status, reason, run_id, updated_at}}`` for every source with a state."""
    from stockroom.workbench import source_state

    with eng.connect() as conn:
        return {r.source: dict(r._mapping) for r in conn.execute(sa.select(source_state))}


def set_state(
    eng: sa.Engine, source: str, status: str, reason: str | None, run_id: str | None
) -> None:
    """Mark a source ``active`` or ``paused`` (with why, and the run that found it)."""
    from stockroom.workbench import source_state

    now = datetime.now(UTC)
    with eng.begin() as conn:
        done = conn.execute(
            source_state.update()
            .where(source_state.c.source == source)
            .values(status=status, reason=reason, run_id=run_id, updated_at=now)
        )
        if done.rowcount == 0:
            conn.execute(
                source_state.insert().values(
                    source=source, status=status, reason=reason, run_id=run_id, updated_at=now
                )
            )
