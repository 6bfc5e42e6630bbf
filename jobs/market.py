"""Market data jobs: land ``market`` snapshots (real StockX sales + simulated order books)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import polars as pl

from stockroom import config, store, vault
from stockroom.ingest import exports
from stockroom.market import fees
from stockroom.market.prices import SalePath
from stockroom.sim import orderbooks
from stockroom.tables import MARKET, ORDERS, PRICE_OUTLOOK, PRODUCTS, STOCK
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
    land_price_outlook(root, keys[-1][0])
    return run


def land_price_outlook(root: Path, day: date | None = None) -> Run | None:
    """Forecast every item's median sale price of the next 30 days from the ``orders`` up to
    ``day`` (default: the latest market day) and land it as the ``price_outlook`` snapshot of
    that day (:func:`stockroom.market.price_forecast.outlook`); None when the sales are too few
    to train on."""
    from stockroom.db import connect
    from stockroom.market import price_forecast, views

    con = connect(root, day)
    day = views.market_day(con, day)
    if day is None:
        return None
    found = price_forecast.outlook(views.sales(con, day), day)
    if found is None:
        return None
    with tracked_run(root, "price-outlook", f"orders to {day}") as run:
        run.land([Part(PRICE_OUTLOOK, {day: price_forecast.as_frame(found)})], sources=[])
    return run


def ingest_market_api(
    base_url: str,
    root: Path,
    *,
    query: str = "",
    currency: str = "USD",
    snapshot_date: date | None = None,
    token: str | None = None,
    platform: str = "stockx",
    fee_file: Path | None = None,
    min_interval: float = 0.05,
    attempts: int = 5,
    backoff: float = 0.5,
    on_progress: Progress | None = None,
) -> Run:
    """Pull a StockX-like market-data API (:mod:`stockroom.ingest.marketdata`) into the
    ``market`` snapshot of ``snapshot_date`` (default today, UTC): that platform's rows are
    replaced, every other platform's carried forward. ``fee_share`` is the fee schedule's at
    each lowest ask. The token comes from ``token`` or ``STOCKROOM_STOCKX_TOKEN`` (never
    written anywhere). Raises :class:`stockroom.errors.InputError` (nothing lands) for an answer
    missing a field, :class:`stockroom.ingest.http.Refused` for a refused token."""
    from datetime import UTC, datetime

    from stockroom.ingest import marketdata
    from stockroom.ingest.files import parse_timestamps

    token = token or vault.token(root, platform)
    day = snapshot_date or datetime.now(UTC).date()
    schedule = fees.load(fee_file)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    with (
        tracked_run(
            root, "ingest-market-api", f"{base_url} q={query!r}", secrets=[token or ""]
        ) as run,
        run.fetching(
            min_interval=min_interval, headers=headers, attempts=attempts, backoff=backoff
        ) as fetcher,
    ):
        raw, _calls = marketdata.stockx_market(
            base_url, fetcher, query, currency, platform=platform
        )
        raw, rejected = parse_timestamps(raw, "last_sale_at", MARKET.name, "lastSaleDate")
        con_products = _catalog_categories(root, day)
        priced = fees.apply(
            raw.with_columns(
                pl.col("lowest_ask").cast(pl.Float64, strict=False).fill_null(0.0).alias("_p"),
                pl.lit(day).alias("_day"),
            ).join(con_products, on="sku", how="left"),
            schedule,
            price="_p",
            day="_day",
        )
        frame = priced.with_columns(
            pl.col("fee_share_total").alias("fee_share"),
            pl.lit(None, pl.Float64).alias("ask_price"),
            pl.lit(None, pl.Float64).alias("bid_price"),
        ).drop("_p", "_day", "category", *fees.FEE_COLUMNS)
        run.land(
            [
                Part(
                    MARKET,
                    {day: frame},
                    {
                        "lowest_ask": "lowestAskAmount",
                        "highest_bid": "highestBidAmount",
                        "last_sale_price": "lastSaleAmount",
                        "sales_30d": "salesLast30Days",
                        "currency": "currencyCode",
                        "platform_listing_id": "variantId",
                    },
                    rejected,
                    scope=("platform",),
                    scope_keys=pl.DataFrame({"platform": [platform]}),
                )
            ],
            sources=[],
            on_progress=on_progress,
            allow_empty=False,
            source=base_url,
        )
    return run


def _catalog_categories(root: Path, day: date) -> pl.DataFrame:
    """sku -> category of the catalog in force on ``day`` (empty without one: the fees
    then fall back to the general rules)."""
    from stockroom.db import connect

    return connect(root, day).execute("SELECT sku, category FROM products").pl()


#: the PriceCharting snapshot bundled with the card catalog (see data/README.md)
BUNDLED_PRICECHARTING = (
    config.PROJECT_ROOT / "data" / "raw" / "pokemon_tcg" / "pricecharting_prices.parquet"
)


def ingest_pricecharting(path: Path | None, root: Path) -> Run:
    """Land a PriceCharting price snapshot (card_id, variant, grade, price_usd, date) as the
    ``market`` rows of platform ``pricecharting`` on its newest date (each price as last known
    then; the bundled file: 88,092 prices of 2024-06-27 and 567 of 2024-06-30).

    The last known price per card variant and grade is the ``last_sale_price`` of
    ``<card id>:<variant>`` (ungraded: the catalog's card SKU) or
    ``<card id>:<variant>:<grade>`` (a graded card is an item of its own), the grade in
    ``platform_specific``; no asks, bids or 30-day counts (the guide has none: ``sales_30d``
    0), fees 0 (a price guide sells nothing). Other platforms' rows of that day are carried
    forward. Raises :class:`stockroom.errors.InputError` for a file without those columns or
    a bad price (nothing lands)."""
    from stockroom.errors import InputError, InputProblem
    from stockroom.tables import SOURCE_FILE, SOURCE_ROW

    path = Path(path) if path is not None else BUNDLED_PRICECHARTING
    prices = pl.read_parquet(path)
    need = ["card_id", "variant", "grade", "price_usd", "date"]
    missing = [c for c in need if c not in prices.columns]
    if missing:
        raise InputError([InputProblem(str(path), None, c, "missing column") for c in missing])
    with tracked_run(root, "ingest-pricecharting", str(path)) as run:
        graded = pl.col("grade") != "ungraded"
        rows = prices.with_columns(
            pl.int_range(1, pl.len() + 1, dtype=pl.Int64).alias(SOURCE_ROW),
            pl.lit(path.name).alias(SOURCE_FILE),
        ).select(
            pl.when(graded)
            .then(pl.concat_str("card_id", pl.lit(":"), "variant", pl.lit(":"), "grade"))
            .otherwise(pl.concat_str("card_id", pl.lit(":"), "variant"))
            .alias("sku"),
            pl.lit("pricecharting").alias("platform"),
            *(pl.lit(None, pl.Float64).alias(c) for c in ("ask_price", "bid_price")),
            *(pl.lit(None, pl.Float64).alias(c) for c in ("lowest_ask", "highest_bid")),
            pl.col("price_usd").alias("last_sale_price"),
            pl.lit(None, pl.Datetime("us", "UTC")).alias("last_sale_at"),
            pl.lit(0, pl.Int32).alias("sales_30d"),
            pl.lit(None, pl.Float64).alias("volatility"),
            pl.lit(0.0).alias("fee_share"),
            pl.lit("USD").alias("currency"),
            pl.concat_str("card_id", pl.lit(":"), "variant").alias("platform_listing_id"),
            pl.format('{{"grade": "{}"}}', "grade").alias("platform_specific"),
            "date",
            SOURCE_FILE,
            SOURCE_ROW,
        )
        # one picture: every price as last known on the snapshot's newest date
        days = {rows["date"].max(): rows.drop("date")}
        run.land(
            [
                Part(
                    MARKET,
                    days,
                    {"last_sale_price": "price_usd"},
                    scope=("platform",),
                    scope_keys=pl.DataFrame({"platform": ["pricecharting"]}),
                )
            ],
            sources=store.describe_sources([path]),
            allow_empty=False,
            source=str(path),
        )
    return run
