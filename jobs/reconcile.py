"""Reconciliation jobs: land the demo scenario; reconcile one sync into a ``flags`` snapshot
and per-platform action files."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import polars as pl

from stockroom import store, workbench
from stockroom.errors import StockroomError
from stockroom.mapping.repo import mappings
from stockroom.reconcile import rules
from stockroom.tables import FLAGS, INVENTORY, INVENTORY_LEDGER, LISTINGS, NON_SALE_STATUSES, ORDERS
from stockroom_jobs.runs import Part, tracked_run

#: Per-platform action file (a bulk-edit tool or a sync job reads it).
ACTION_COLUMNS = ("platform", "action", "listing_id", "sku", "quantity", "price", "flag_type",
                  "severity", "evidence")


@dataclass
class ReconcileSummary:
    day: date
    open_by_type: dict[str, int]
    new: int
    closed: int
    actions: dict[str, int]
    run_id: str

    def lines(self) -> list[str]:
        total = sum(self.open_by_type.values())
        return [f"sync of {self.day}: {total:,} open flags ({self.new:,} new, "
                f"{self.closed:,} closed since the last run)",
                "by type: " + (", ".join(f"{k} {v:,}" for k, v in
                                         sorted(self.open_by_type.items())) or "none"),
                "actions: " + (", ".join(f"{k} {v:,}" for k, v in
                                         sorted(self.actions.items())) or "none")]


def ingest_reconcile_demo(root: Path, items: int = 2_000, inject: int = 10, seed: int = 0
                          ) -> str:
    """Land a seeded reconciliation scenario (``stockroom.sim.reconcile``) as snapshots: the central
    inventory at the last sync (the day before) and now, the platforms' listings, the sync
    window's orders and the central ledger; the ground truth goes to
    ``<root>/sim/reconcile_truth.parquet``. Returns the run id."""
    from stockroom.sim.reconcile import SYNC_START, scenario

    sc = scenario(items, seed=seed, inject=inject)
    day = SYNC_START.date()
    inv = sc.central.select(
        "sku", "title", "quantity", "price", pl.lit("USD").alias("currency"), "status",
        pl.col("platforms").list.join(","))
    before = inv.with_columns(pl.Series("quantity", sc.central["quantity_at_last_sync"]),
                              pl.lit("active").alias("status"))
    utc = pl.Datetime("us", "UTC")
    price = dict(zip(sc.central["sku"], sc.central["price"], strict=True))
    orders = sc.sales.select(
        pl.col("order_ts").dt.replace_time_zone("UTC"), "platform", "order_id",
        pl.lit(1, pl.Int32).alias("line"), pl.lit("central").alias("seller_id"), "sku",
        pl.col("quantity").cast(pl.Int32),
        pl.col("sku").replace_strict(price, default=0.0).alias("unit_price"),
        pl.lit(0.0).alias("freight"), pl.lit("USD").alias("currency"),
        pl.lit("shipped").alias("status"))
    ledger = sc.recorded.join(sc.sales.select("platform", "order_id", "sku", "quantity",
                                              "order_ts"), on=["platform", "order_id"]).select(
        (pl.col("order_ts") + pl.duration(minutes=1)).dt.replace_time_zone("UTC")
        .alias("recorded_at"), "platform", "order_id", "sku", "quantity")
    listings = sc.listings.select(
        "platform", "listing_id", pl.lit("central").alias("seller_id"),
        pl.lit("Central Seller").alias("seller_name"), "sku", "title",
        pl.col("quantity").cast(pl.Int32), "price", pl.lit("USD").alias("currency"), "status",
        pl.col("listed_at").cast(utc), pl.lit(None, pl.String).alias("url"),
        pl.lit(None, pl.String).alias("notes"))
    platforms = pl.DataFrame({"platform": sorted(set(listings["platform"]))})
    with tracked_run(root, "ingest-reconcile-demo",
                     f"reconcile scenario seed={seed} items={items} inject={inject}") as run:
        run.land([Part(INVENTORY, {day - timedelta(days=1): before, day: inv}),
                  Part(LISTINGS, {day: listings}, scope=("platform",), scope_keys=platforms),
                  Part(ORDERS, {day: orders}), Part(INVENTORY_LEDGER, {day: ledger})],
                 sources=[])
    truth = root / "sim"
    truth.mkdir(parents=True, exist_ok=True)
    sc.truth.write_parquet(truth / "reconcile_truth.parquet")
    return run.run_id


def sync_inputs(root: Path, day: date) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame,
                                                 pl.DataFrame]:
    """The frames :func:`stockroom.reconcile.rules.reconcile` takes, for the sync of ``day``:
    central (inventory of ``day``, quantity_at_last_sync from the previous inventory snapshot),
    active and other listings as of ``day``, the orders placed since the previous snapshot's
    day up to the end of ``day`` (sales only), and the ledger up to ``day``."""
    inv = store.read_snapshot(root, "inventory", day)
    dates = [d for d in store.snapshot_dates(root, "inventory") if d < day]
    previous = store.read_snapshot(root, "inventory", dates[-1]) if dates else None
    since = datetime.combine(dates[-1] + timedelta(days=1) if dates else day, time(),
                             tzinfo=UTC)
    until = datetime.combine(day + timedelta(days=1), time(), tzinfo=UTC)
    orders_days = [d for d in store.snapshot_dates(root, "orders") if since.date() <= d <= day]
    sales = (pl.concat([store.read_snapshot(root, "orders", d) for d in orders_days])
             if orders_days else ORDERS.empty())
    sales = sales.filter((pl.col("order_ts") >= since) & (pl.col("order_ts") < until)
                         & ~pl.col("status").is_in(list(NON_SALE_STATUSES))).select(
        "platform", "order_id", pl.lit(None, pl.String).alias("listing_id"), "sku",
        pl.col("quantity").cast(pl.Int64), "order_ts")
    sold = sales.group_by("sku").agg(pl.col("quantity").sum().alias("_sold"))
    central = inv.select("sku", "title", "quantity", "price", "status",
                         pl.col("platforms").fill_null("").str.split(",")
                         .list.eval(pl.element().filter(pl.element() != "")))
    if previous is not None:
        central = central.join(previous.select("sku", pl.col("quantity")
                                               .alias("quantity_at_last_sync")),
                               on="sku", how="left")
    else:
        central = central.with_columns(pl.lit(None, pl.Int64).alias("quantity_at_last_sync"))
    # items new since the last sync: what they hold now plus what sold of them
    central = central.join(sold, on="sku", how="left").with_columns(
        pl.coalesce("quantity_at_last_sync", pl.col("quantity") + pl.col("_sold").fill_null(0))
        .alias("quantity_at_last_sync")).drop("_sold")
    listing_day = store.resolve_as_of(root, "listings", day)
    listings = (store.read_snapshot(root, "listings", listing_day) if listing_day
                else LISTINGS.empty()).select(
        "platform", "listing_id", "sku", "title", pl.col("quantity").cast(pl.Int64), "price",
        "status", "listed_at")
    ledger_days = [d for d in store.snapshot_dates(root, "inventory_ledger") if d <= day]
    recorded = (pl.concat([store.read_snapshot(root, "inventory_ledger", d)
                           for d in ledger_days]).select("platform", "order_id")
                if ledger_days else pl.DataFrame(schema={"platform": pl.String,
                                                         "order_id": pl.String}))
    return central, listings, sales, recorded


def run_reconcile(root: Path, as_of: date | None = None, *, export: Path | None = None,
                  config: rules.Config | None = None, now: datetime | None = None
                  ) -> ReconcileSummary:
    """Reconcile the sync of ``as_of`` (default: the latest inventory snapshot) and land the
    ``flags`` snapshot: open flags keep the first_seen of earlier runs; flags an earlier run
    raised that are gone now are kept once more with open = false. With ``export``, write
    ``actions-<platform>.csv`` per platform (:data:`ACTION_COLUMNS`) into that folder.
    Raises :class:`StockroomError` when there is no inventory snapshot."""
    day = store.resolve_as_of(root, "inventory", as_of)
    if day is None:
        raise StockroomError(f"no central inventory in {root}: land an `inventory` snapshot "
                             "(e.g. `stockroom ingest reconcile-demo`) first")
    now = now or datetime.now(UTC)
    central, listings, sales, recorded = sync_inputs(root, day)
    flags = rules.reconcile(central, listings, sales, recorded, config,
                            mappings(workbench.engine(root)))
    prev_day = store.resolve_as_of(root, "flags", day)
    previous = (store.read_snapshot(root, "flags", prev_day).filter(pl.col("open"))
                if prev_day else FLAGS.empty())
    current = flags.join(previous.select("key", "first_seen"), on="key", how="left").with_columns(
        pl.col("first_seen").fill_null(pl.lit(now).cast(pl.Datetime("us", "UTC"))),
        pl.lit(now).cast(pl.Datetime("us", "UTC")).alias("last_seen"), pl.lit(True).alias("open"))
    closed = previous.join(flags.select("key"), on="key", how="anti").with_columns(
        pl.lit(False).alias("open"))
    frame = pl.concat([current.select(FLAGS.column_names), closed.select(FLAGS.column_names)])
    with tracked_run(root, "reconcile", f"sync of {day}") as run:
        run.land([Part(FLAGS, {day: frame})], sources=[])
    actions = action_list(flags, central)
    if export is not None:
        export = Path(export)
        export.mkdir(parents=True, exist_ok=True)
        for (platform,), part in actions.group_by("platform"):
            part.write_csv(export / f"actions-{platform}.csv")
    return ReconcileSummary(
        day, dict(flags.group_by("flag_type").len().iter_rows()),
        flags.join(previous.select("key"), on="key", how="anti").height,
        closed.height, dict(actions.group_by("action").len().iter_rows()), run.run_id)


def action_list(flags: pl.DataFrame, central: pl.DataFrame) -> pl.DataFrame:
    """What each platform must do, one row per listing (or item to list): end_listing,
    update_quantity (to the central quantity), update_price (to the central price),
    create_listing (central quantity and price), import_listing (into central); flags that
    need a person (``review``) are left out. Columns :data:`ACTION_COLUMNS`, by platform,
    severity, action."""
    targets = central.select("sku", pl.col("quantity").alias("_q"), pl.col("price").alias("_p"))
    severity = {"high": 0, "medium": 1, "low": 2}
    return (flags.filter(pl.col("action") != "review").join(targets, on="sku", how="left")
            .with_columns(
                pl.when(pl.col("action").is_in(["update_quantity", "create_listing"]))
                .then(pl.col("_q")).when(pl.col("action") == "end_listing").then(0)
                .alias("quantity"),
                pl.when(pl.col("action").is_in(["update_price", "create_listing"]))
                .then(pl.col("_p")).alias("price"),
                pl.col("severity").replace_strict(severity).alias("_s"))
            .sort(["platform", "_s", "action", "key"])
            .select(ACTION_COLUMNS))
