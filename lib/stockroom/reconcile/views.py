"""Read-side of reconciliation for the *Reconciliation* page and the flagging report."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl

from stockroom import store

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
    """Everything about one SKU in the sync of ``day``: its central record, its listings on
    every platform and the orders of the window."""
    out = {}
    inv_day = store.resolve_as_of(root, "inventory", day)
    out["central"] = (
        store.read_snapshot(root, "inventory", inv_day).filter(pl.col("sku") == sku)
        if inv_day
        else pl.DataFrame()
    )
    lst_day = store.resolve_as_of(root, "listings", day)
    out["listings"] = (
        store.read_snapshot(root, "listings", lst_day)
        .filter(pl.col("sku") == sku)
        .select("platform", "listing_id", "quantity", "price", "status", "listed_at")
        if lst_day
        else pl.DataFrame()
    )
    ord_days = [d for d in store.snapshot_dates(root, "orders") if d <= day][-2:]
    out["orders"] = (
        pl.concat([store.read_snapshot(root, "orders", d) for d in ord_days])
        .filter(pl.col("sku") == sku)
        .select("order_ts", "platform", "order_id", "quantity", "unit_price")
        .sort("order_ts")
        if ord_days
        else pl.DataFrame()
    )
    return out
