"""Reconciliation jobs: land the demo scenario; reconcile one sync into a ``flags`` snapshot
and per-platform action files."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import polars as pl

from stockroom import store, workbench
from stockroom.errors import StockroomError
from stockroom.export import write_csv
from stockroom.mapping.repo import mappings
from stockroom.reconcile import rules
from stockroom.reconcile.sync import action_list, flag_history, sync_inputs
from stockroom.sim.reconcile import SYNC_START, scenario
from stockroom.tables import FLAGS, INVENTORY, INVENTORY_LEDGER, LISTINGS, ORDERS
from stockroom_jobs.runs import Part, tracked_run


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
        return [
            f"sync of {self.day}: {total:,} open flags ({self.new:,} new, "
            f"{self.closed:,} closed since the last run)",
            "by type: "
            + (", ".join(f"{k} {v:,}" for k, v in sorted(self.open_by_type.items())) or "none"),
            "actions: "
            + (", ".join(f"{k} {v:,}" for k, v in sorted(self.actions.items())) or "none"),
        ]


#: The brand of every card in the reconciliation scenario (Pokémon TCG cards).
BRAND = "Pokémon TCG"


def ingest_reconcile_demo(root: Path, items: int = 2_000, inject: int = 10, seed: int = 0) -> str:
    """Land a seeded reconciliation scenario (``stockroom.sim.reconcile``) as snapshots: the central
    inventory at the last sync (the day before) and now, the platforms' listings, the sync
    window's orders and the central ledger; the ground truth goes to
    ``<root>/sim/reconcile_truth.parquet``. Returns the run id."""
    sc = scenario(items, seed=seed, inject=inject)
    day = SYNC_START.date()
    inv = sc.central.select(
        "sku",
        "title",
        "quantity",
        "price",
        pl.lit("USD").alias("currency"),
        "status",
        pl.col("platforms").list.join(","),
        pl.lit(BRAND).alias("brand"),
        "category",  # the card's set
    )
    before = inv.with_columns(
        pl.Series("quantity", sc.central["quantity_at_last_sync"]), pl.lit("active").alias("status")
    )
    utc = pl.Datetime("us", "UTC")
    price = dict(zip(sc.central["sku"], sc.central["price"], strict=True))
    orders = sc.sales.select(
        pl.col("order_ts").dt.replace_time_zone("UTC"),
        "platform",
        "order_id",
        pl.lit(1, pl.Int32).alias("line"),
        pl.lit("central").alias("seller_id"),
        "sku",
        pl.col("quantity").cast(pl.Int32),
        pl.col("sku").replace_strict(price, default=0.0).alias("unit_price"),
        pl.lit(0.0).alias("freight"),
        pl.lit("USD").alias("currency"),
        pl.lit("shipped").alias("status"),
    )
    ledger = sc.recorded.join(
        sc.sales.select("platform", "order_id", "sku", "quantity", "order_ts"),
        on=["platform", "order_id"],
    ).select(
        (pl.col("order_ts") + pl.duration(minutes=1))
        .dt.replace_time_zone("UTC")
        .alias("recorded_at"),
        "platform",
        "order_id",
        "sku",
        "quantity",
    )
    listings = sc.listings.select(
        "platform",
        "listing_id",
        pl.lit("central").alias("seller_id"),
        pl.lit("Central Seller").alias("seller_name"),
        "sku",
        "title",
        pl.col("quantity").cast(pl.Int32),
        "price",
        pl.lit("USD").alias("currency"),
        "status",
        pl.col("listed_at").cast(utc),
        pl.lit(None, pl.String).alias("url"),
        pl.lit(None, pl.String).alias("notes"),
    )
    platforms = pl.DataFrame({"platform": sorted(set(listings["platform"]))})
    with tracked_run(
        root,
        "ingest-reconcile-demo",
        f"reconcile scenario seed={seed} items={items} inject={inject}",
    ) as run:
        run.land(
            [
                Part(INVENTORY, {day - timedelta(days=1): before, day: inv}),
                Part(LISTINGS, {day: listings}, scope=("platform",), scope_keys=platforms),
                Part(ORDERS, {day: orders}),
                Part(INVENTORY_LEDGER, {day: ledger}),
            ],
            sources=[],
        )
    truth = root / "sim"
    truth.mkdir(parents=True, exist_ok=True)
    sc.truth.write_parquet(truth / "reconcile_truth.parquet")
    return run.run_id


def run_reconcile(
    root: Path,
    as_of: date | None = None,
    *,
    export: Path | None = None,
    config: rules.Config | None = None,
    now: datetime | None = None,
) -> ReconcileSummary:
    """Reconcile the sync of ``as_of`` (default: the latest inventory snapshot) and land the
    ``flags`` snapshot: open flags keep the first_seen of earlier runs; flags an earlier run
    raised that are gone now are kept once more with open = false. With ``export``, write
    ``actions-<platform>.csv`` per platform (:data:`stockroom.reconcile.sync.ACTION_COLUMNS`) into
    that folder.
    Raises :class:`StockroomError` when there is no inventory snapshot."""
    day = store.resolve_as_of(root, "inventory", as_of)
    if day is None:
        raise StockroomError(
            f"no central inventory in {root}: land an `inventory` snapshot "
            "(e.g. `stockroom ingest reconcile-demo`) first"
        )
    now = now or datetime.now(UTC)
    central, listings, sales, recorded = sync_inputs(root, day)
    flags = rules.reconcile(
        central, listings, sales, recorded, config, mappings(workbench.engine(root))
    )
    prev_day = store.resolve_as_of(root, "flags", day)
    previous = (
        store.read_snapshot(root, "flags", prev_day).filter(pl.col("open"))
        if prev_day
        else FLAGS.empty()
    )
    frame = flag_history(flags, previous, now)
    closed = frame.filter(~pl.col("open"))
    with tracked_run(root, "reconcile", f"sync of {day}") as run:
        run.land([Part(FLAGS, {day: frame})], sources=[])
    actions = action_list(flags, central)
    if export is not None:
        export = Path(export)
        export.mkdir(exist_ok=True)  # its parent must exist: a typo fails, not creates
        for (platform,), part in actions.group_by("platform"):
            write_csv(part, export / f"actions-{platform}.csv")
    return ReconcileSummary(
        day,
        dict(flags.group_by("flag_type").len().iter_rows()),
        flags.join(previous.select("key"), on="key", how="anti").height,
        closed.height,
        dict(actions.group_by("action").len().iter_rows()),
        run.run_id,
    )
