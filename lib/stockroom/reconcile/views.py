"""Read-side of reconciliation for the *Reconciliation* page and the flagging report."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl

from stockroom import store
from stockroom.db import cached

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
