"""Read-side of reconciliation for the *Reconciliation* page and the flagging report."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl

from stockroom import store
from stockroom.db import cached
from stockroom.holdings import Scope

SEVERITY_ORDER = {"high": 0, "medium": 1, "low": 2}


def latest(root: Path, as_of: date | None = None) -> tuple[date | None, pl.DataFrame]:
    """The ``flags`` snapshot in force on ``as_of`` (latest by default) and its date."""
    day = store.resolve_as_of(root, "flags", as_of)
    if day is None:
        return None, pl.DataFrame()
    return day, store.read_snapshot(root, "flags", day)


def by_type_and_platform(flags: pl.DataFrame) -> pl.DataFrame:
    """Open flags per flag_type x platform ('-' for flags without a platform): flag_type,
    platform, flags (u32); most first."""
    return (
        flags.filter(pl.col("open"))
        .with_columns(pl.col("platform").fill_null("-"))
        .group_by("flag_type", "platform")
        .len("flags")
        .sort(["flags", "flag_type", "platform"], descending=[True, False, False])
    )


def open_flags(flags: pl.DataFrame, now) -> pl.DataFrame:
    """Open flags by severity, then age (oldest first), with ``age_hours`` (f64)."""
    return (
        flags.filter(pl.col("open"))
        .with_columns(
            ((pl.lit(now) - pl.col("first_seen")).dt.total_seconds() / 3600).alias("age_hours"),
            pl.col("severity").replace_strict(SEVERITY_ORDER).alias("_s"),
        )
        .sort(["_s", "first_seen", "key"])
        .drop("_s")
    )


def central_items(
    central: pl.DataFrame, open_: pl.DataFrame, scope: Scope | None = None
) -> pl.DataFrame:
    """The central inventory (an ``inventory`` snapshot, :data:`stockroom.tables.INVENTORY`)
    narrowed by ``scope`` (:class:`stockroom.holdings.Scope`, None: all; ``platform`` among
    the item's ``platforms``, ``brand``, ``category`` and a list-price range per unit,
    inclusive, in the item's currency), with ``value`` (Float64: quantity x price, in the
    item's currency), ``open_flags`` (UInt32) and ``flag_types`` (String, "oversold,
    price_mismatch") from ``open_`` (:func:`open_flags`). Sorted by open flags, then value,
    descending."""
    scope = scope or Scope()
    keep = pl.lit(True)
    if scope.platform is not None:
        keep &= pl.col("platforms").str.split(",").list.contains(scope.platform)
    if scope.brand is not None:
        keep &= pl.col("brand") == scope.brand
    if scope.category is not None:
        keep &= pl.col("category") == scope.category
    if scope.price_min is not None:
        keep &= pl.col("price") >= scope.price_min
    if scope.price_max is not None:
        keep &= pl.col("price") <= scope.price_max
    per_sku = (
        open_.filter(pl.col("sku").is_not_null())
        .group_by("sku")
        .agg(
            open_flags=pl.len(),
            flag_types=pl.col("flag_type").unique().sort().str.join(", "),
        )
    )
    return (
        central.filter(keep)
        .with_columns(value=pl.col("quantity") * pl.col("price"))
        .join(per_sku, on="sku", how="left")
        .with_columns(pl.col("open_flags").fill_null(0))
        .sort(["open_flags", "value", "sku"], descending=[True, True, False])
    )


def trend(root: Path) -> pl.DataFrame:
    """Open flags per flags snapshot date and type: date, flag_type, flags."""
    rows = []
    for day in store.snapshot_dates(root, "flags"):
        f = store.read_snapshot(root, "flags", day).filter(pl.col("open"))
        rows += [
            {"date": day, "flag_type": t, "flags": n}
            for t, n in f.group_by("flag_type").len().iter_rows()
        ]
    return pl.DataFrame(rows, schema={"date": pl.Date, "flag_type": pl.String, "flags": pl.UInt32})


def evidence(root: Path, day: date, sku: str) -> dict[str, pl.DataFrame]:
    """Everything about one SKU in the sync of ``day``: its ``central`` record (the inventory
    columns), its ``listings`` on every platform (platform, listing_id, quantity, price,
    status, listed_at) and the ``orders`` of the window (the last two order days up to
    ``day``: order_ts, platform, order_id, quantity, unit_price). Each read is filtered by
    SKU in DuckDB on the shared connection of :func:`stockroom.db.cached`."""
    con = cached(root, day)
    ord_days = [d for d in store.snapshot_dates(root, "orders") if d <= day][-2:]
    return {
        "central": con.execute("SELECT * FROM inventory WHERE sku = ?", [sku]).pl(),
        "listings": con.execute(
            "SELECT platform, listing_id, quantity, price, status, listed_at FROM listings "
            "WHERE sku = ? ORDER BY platform, listing_id",
            [sku],
        ).pl(),
        "orders": con.execute(
            "SELECT order_ts, platform, order_id, quantity, unit_price FROM orders_history "
            "WHERE sku = ? AND list_contains(?, snapshot_date) ORDER BY order_ts",
            [sku, ord_days],
        ).pl(),
    }
