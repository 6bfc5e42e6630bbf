"""One sync of the central inventory against the platforms: the inputs it reads (a thin
loader over the store), the flags snapshot with its history, and the per-platform action list
(pure functions over frames, shared by ``stockroom reconcile`` and the Reconciliation page)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import polars as pl

from stockroom import store
from stockroom.tables import FLAGS, LISTINGS, NON_SALE_STATUSES, ORDERS

#: Per-platform action file (a bulk-edit tool or a sync job reads it).
ACTION_COLUMNS = (
    "platform",
    "action",
    "listing_id",
    "sku",
    "quantity",
    "price",
    "flag_type",
    "severity",
    "evidence",
)


def sync_inputs(
    root: Path, day: date
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """The frames :func:`stockroom.reconcile.rules.reconcile` takes, for the sync of ``day``:
    central (inventory of ``day``, quantity_at_last_sync from the previous inventory snapshot),
    active and other listings as of ``day``, the orders placed since the previous snapshot's
    day up to the end of ``day`` (sales only), and the ledger up to ``day``."""
    inv = store.read_snapshot(root, "inventory", day)
    dates = [d for d in store.snapshot_dates(root, "inventory") if d < day]
    previous = store.read_snapshot(root, "inventory", dates[-1]) if dates else None
    since = datetime.combine(dates[-1] + timedelta(days=1) if dates else day, time(), tzinfo=UTC)
    until = datetime.combine(day + timedelta(days=1), time(), tzinfo=UTC)
    orders_days = [d for d in store.snapshot_dates(root, "orders") if since.date() <= d <= day]
    sales = (
        pl.concat([store.read_snapshot(root, "orders", d) for d in orders_days])
        if orders_days
        else ORDERS.empty()
    )
    sales = sales.filter(
        (pl.col("order_ts") >= since)
        & (pl.col("order_ts") < until)
        & ~pl.col("status").is_in(list(NON_SALE_STATUSES))
    ).select(
        "platform",
        "order_id",
        pl.lit(None, pl.String).alias("listing_id"),
        "sku",
        pl.col("quantity").cast(pl.Int64),
        "order_ts",
    )
    sold = sales.group_by("sku").agg(pl.col("quantity").sum().alias("_sold"))
    central = inv.select(
        "sku",
        "title",
        "quantity",
        "price",
        "status",
        pl.col("platforms")
        .fill_null("")
        .str.split(",")
        .list.eval(pl.element().filter(pl.element() != "")),
    )
    if previous is not None:
        central = central.join(
            previous.select("sku", pl.col("quantity").alias("quantity_at_last_sync")),
            on="sku",
            how="left",
        )
    else:
        central = central.with_columns(pl.lit(None, pl.Int64).alias("quantity_at_last_sync"))
    # items new since the last sync: what they hold now plus what sold of them
    central = (
        central.join(sold, on="sku", how="left")
        .with_columns(
            pl.coalesce(
                "quantity_at_last_sync", pl.col("quantity") + pl.col("_sold").fill_null(0)
            ).alias("quantity_at_last_sync")
        )
        .drop("_sold")
    )
    listing_day = store.resolve_as_of(root, "listings", day)
    listings = (
        store.read_snapshot(root, "listings", listing_day) if listing_day else LISTINGS.empty()
    ).select(
        "platform",
        "listing_id",
        "sku",
        "title",
        pl.col("quantity").cast(pl.Int64),
        "price",
        "status",
        "listed_at",
    )
    ledger_days = [d for d in store.snapshot_dates(root, "inventory_ledger") if d <= day]
    recorded = (
        pl.concat([store.read_snapshot(root, "inventory_ledger", d) for d in ledger_days]).select(
            "platform", "order_id"
        )
        if ledger_days
        else pl.DataFrame(schema={"platform": pl.String, "order_id": pl.String})
    )
    return central, listings, sales, recorded


def flag_history(flags: pl.DataFrame, previous: pl.DataFrame, now: datetime) -> pl.DataFrame:
    """The flags snapshot (columns of ``FLAGS``): today's ``flags`` (from
    :func:`stockroom.reconcile.rules.reconcile`) open, keeping the ``first_seen`` of the same
    key in ``previous`` (the last run's open flags), ``last_seen`` = ``now``; flags of
    ``previous`` gone today are kept once more with open = false."""
    stamp = pl.lit(now).cast(pl.Datetime("us", "UTC"))
    current = flags.join(previous.select("key", "first_seen"), on="key", how="left").with_columns(
        pl.col("first_seen").fill_null(stamp), stamp.alias("last_seen"), pl.lit(True).alias("open")
    )
    closed = previous.join(flags.select("key"), on="key", how="anti").with_columns(
        pl.lit(False).alias("open")
    )
    return pl.concat([current.select(FLAGS.column_names), closed.select(FLAGS.column_names)])


def action_list(flags: pl.DataFrame, central: pl.DataFrame) -> pl.DataFrame:
    """What each platform must do, one row per listing (or item to list): end_listing,
    update_quantity (to the central quantity), update_price (to the central price),
    create_listing (central quantity and price), import_listing (into central); flags that
    need a person (``review``) are left out. Columns :data:`ACTION_COLUMNS`, by platform,
    severity, action."""
    targets = central.select("sku", pl.col("quantity").alias("_q"), pl.col("price").alias("_p"))
    severity = {"high": 0, "medium": 1, "low": 2}
    return (
        flags.filter(pl.col("action") != "review")
        .join(targets, on="sku", how="left")
        .with_columns(
            pl.when(pl.col("action").is_in(["update_quantity", "create_listing"]))
            .then(pl.col("_q"))
            .when(pl.col("action") == "end_listing")
            .then(0)
            .alias("quantity"),
            pl.when(pl.col("action").is_in(["update_price", "create_listing"]))
            .then(pl.col("_p"))
            .alias("price"),
            pl.col("severity").replace_strict(severity).alias("_s"),
        )
        .sort(["platform", "_s", "action", "key"])
        .select(ACTION_COLUMNS)
    )
