"""Market data jobs: land ``market`` snapshots (real StockX sales + simulated order books)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import polars as pl

from stockroom import config, store
from stockroom.ingest import exports
from stockroom.market import fees
from stockroom.market.prices import SalePath
from stockroom.sim import orderbooks
from stockroom.tables import MARKET, ORDERS, PRODUCTS, STOCK
from stockroom_jobs.runs import Part, Run, tracked_run

Progress = Callable[[str, int, int], None]
#: the StockX sales bundled in data/raw (see data/README.md for provenance)
BUNDLED_STOCKX = config.PROJECT_ROOT / "data" / "raw" / "stockx" / "StockX-Data-Contest-2019-3.xlsx"
#: days landed per commit (each day is one snapshot; a commit holds the writer lock)
_DAYS_PER_COMMIT = 31


def ingest_stockx_market(
    path: Path | None,
    root: Path,
    *,
    seed: int = 18,
    fee_file: Path | None = None,
    on_progress: Progress | None = None,
) -> Run:
    """Land the StockX sales workbook as a market: the real sales as ``orders`` (per day) and
    ``products`` (sneaker x size), and one ``market`` snapshot per day from the first sale to
    the last (one row per item x platform: the real StockX last sale, 30-day count and
    volatility, and the simulated order books of :mod:`stockroom.sim.orderbooks`), each row's
    ``fee_share`` from the fee schedule in force that day (:mod:`stockroom.market.fees`).
    Our reseller's units and costs land as a ``stock`` snapshot on the first day; the truth of
    the injected price moves goes to ``<root>/sim/market_moves.parquet``.

    Raises :class:`stockroom.errors.InputError` (nothing lands) for a bad workbook or fee
    schedule. Days land in commits of a month each, so an interrupted run leaves whole days.
    """
    path = Path(path) if path is not None else BUNDLED_STOCKX
    schedule = fees.load(fee_file)
    with tracked_run(root, "ingest-stockx-market", str(path)) as run:
        mapped = exports.stockx_sales(path)
        for warning in mapped.sheet.warnings(path.name):
            run.warn(warning)
        orders = ORDERS.conform(mapped.frames[ORDERS.name].drop("_source_file", "_source_row"))
        products = mapped.frames[PRODUCTS.name]
        retail = (
            mapped.sheet.frame.select(
                pl.concat_str(
                    pl.col("title"), pl.lit("-"), pl.col("size").str.replace(r"\.0$", "")
                ).alias("sku"),
                pl.col("retail_price").cast(pl.Float64, strict=False),
            )
            .drop_nulls()
            .unique("sku")
        )
        sales = orders.select(
            "sku", pl.col("order_ts").dt.date().alias("day"), pl.col("unit_price").alias("price")
        )
        market = orderbooks.simulate(
            SalePath.from_sales(sales), dict(retail.iter_rows()), seed=seed
        )
        rows = fees.apply(
            market.rows.with_columns(pl.lit("sneakers").alias("category")),
            schedule,
            price="lowest_ask",
        ).with_columns(pl.col("fee_share_total").alias("fee_share"))
        first: date = rows["day"].min()
        stock = market.stock.select(
            pl.lit(orderbooks.OUR_SELLER).alias("seller_id"),
            pl.lit("home").alias("location"),
            "sku",
            "on_hand",
            pl.lit(0, pl.Int32).alias("reserved"),
            "unit_cost",
            pl.lit(orderbooks.CURRENCY).alias("currency"),
        )
        days = exports.by_day(mapped.frames[ORDERS.name])
        run.land(
            [
                Part(PRODUCTS, {first: products}, mapped.source_columns),
                Part(ORDERS, days, mapped.source_columns, mapped.rejected),
                Part(STOCK, {first: stock}),
            ],
            sources=store.describe_sources([path]),
        )
        by_day = rows.select("day", *MARKET.column_names).partition_by(
            "day", as_dict=True, maintain_order=True
        )
        keys = sorted(by_day)
        for i in range(0, len(keys), _DAYS_PER_COMMIT):
            chunk = keys[i : i + _DAYS_PER_COMMIT]
            run.land(
                [Part(MARKET, {k[0]: by_day[k].drop("day") for k in chunk})],
                sources=store.describe_sources([path]),
            )
            if on_progress:
                on_progress("market days", i + len(chunk), len(keys))
        truth = root / "sim"
        truth.mkdir(parents=True, exist_ok=True)
        market.moves.write_parquet(truth / "market_moves.parquet")
    return run
