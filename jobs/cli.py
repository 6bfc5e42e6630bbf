"""``stockroom``: one command line for every job.

Each subcommand is a small function over ``lib`` and ``jobs``. Failures exit non-zero with a
one-line reason (set STOCKROOM_DEBUG=1 for the traceback).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Annotated

import polars as pl
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table as RichTable

from jobs.runs import MAX_BAD_SHARE, Run
from lib import config
from lib.errors import StockroomError

console = Console(stderr=True)

app = typer.Typer(
    name="stockroom",
    help=(
        "Stockroom: analytics workbench for multi-marketplace sellers.\n\n"
        "Typical day: `stockroom ingest olist` lands the data as snapshots, "
        "`stockroom report seller_concentration` builds the HTML report, "
        "`stockroom serve` opens the pages on http://127.0.0.1:8501."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="markdown",
)
ingest_app = typer.Typer(help="Land a source as validated, immutable daily snapshots.",
                         no_args_is_help=True)
app.add_typer(ingest_app, name="ingest")
sim_app = typer.Typer(help="The marketplace simulator's local server.", no_args_is_help=True)
app.add_typer(sim_app, name="sim")
bench_app = typer.Typer(help="Benchmarks: figures and ratios against baselines in one run.",
                        no_args_is_help=True)
app.add_typer(bench_app, name="bench")
po_app = typer.Typer(help="Open purchase orders (workbench database, audited).",
                     no_args_is_help=True)
app.add_typer(po_app, name="po")

DataRootOption = Annotated[
    Path | None,
    typer.Option("--data-root", envvar=config.ENV_DATA_ROOT, show_envvar=True,
                 help="Where snapshots and reports live. Default: ./data of the project."),
]
AsOfOption = Annotated[
    str | None,
    typer.Option("--as-of", help="Snapshot date to read, YYYY-MM-DD. Default: latest."),
]


def _parse_date(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)", param_hint=option) \
            from None


def _progress() -> Progress:
    return Progress(TextColumn("{task.description:<10}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), console=console, transient=False)


MaxBadShareOption = Annotated[
    float,
    typer.Option("--max-bad-share", min=0.0, max=1.0,
                 help="Fail the run and land nothing if more than this share (0-1) of rows "
                      "is bad. Bad rows under the limit are quarantined."),
]
SnapshotDateOption = Annotated[
    str | None,
    typer.Option("--snapshot-date", help="Date of the snapshot to land, YYYY-MM-DD. "
                                         "Default: today (UTC)."),
]


def _run_job(describe: str, job: Callable[[Callable[[str, int, int], None]], Run],
             root: Path) -> Run:
    """Run an ingestion job with progress bars; print its summary and run id."""
    started = time.perf_counter()
    with _progress() as progress:
        tasks: dict[str, int] = {}

        def on_progress(table: str, done: int, total: int) -> None:
            if table not in tasks:
                tasks[table] = progress.add_task(table, total=total)
            progress.update(tasks[table], completed=done)

        console.print(describe)
        run = job(on_progress)
    for line in run.lines():
        console.print(f"  {line}")
    console.print(f"run {run.run_id} landed in {root / 'snapshots'} "
                  f"({time.perf_counter() - started:.1f} s)")
    return run


@ingest_app.command("olist")
def ingest_olist(
    source: Annotated[Path | None, typer.Argument(
        help="Folder with the Olist export (Kaggle CSVs or their Parquet). "
             "Default: the real sample bundled in data/raw/olist.")] = None,
    data_root: DataRootOption = None,
    max_bad_share: MaxBadShareOption = MAX_BAD_SHARE,
) -> None:
    """Land the Olist marketplace export: sellers, products (catalog) and orders.

    Orders become one snapshot per day of order activity; sellers and products one snapshot per
    load. Rows failing a check are quarantined (file, row, column, value, reason).
    """
    from jobs.ingest import ingest_olist as run

    root = config.data_root(data_root)
    source = source or config.bundled_olist_dir()
    _run_job(f"reading {source}",
             lambda progress: run(source, root, progress, max_bad_share), root)


@ingest_app.command("listings")
def ingest_listings(
    files: Annotated[list[Path], typer.Argument(
        help="CSV/TSV/Excel exports in the listing import format (platform, seller_id, sku, "
             "quantity, price, notes; optional title, seller_name, listed_at, status, "
             "currency, url). Encoding, delimiter and header spellings are detected.")],
    platform: Annotated[str | None, typer.Option(
        help="Platform for rows without one (e.g. ebay).")] = None,
    currency: Annotated[str, typer.Option(help="Currency for rows without one.")] = "USD",
    snapshot_date: SnapshotDateOption = None,
    data_root: DataRootOption = None,
    max_bad_share: MaxBadShareOption = MAX_BAD_SHARE,
) -> None:
    """Land listings exports as one `listings` snapshot."""
    from jobs.ingest import ingest_listings_files

    root = config.data_root(data_root)
    day = _parse_date(snapshot_date, "--snapshot-date")
    _run_job(f"reading {len(files)} file(s)", lambda progress: ingest_listings_files(
        files, root, platform=platform, currency=currency, snapshot_date=day,
        max_bad_share=max_bad_share, on_progress=progress), root)


@ingest_app.command("stockx")
def ingest_stockx(
    workbook: Annotated[Path, typer.Argument(
        help="The StockX 2019 Data Contest workbook (.xlsx) or a CSV of its data sheet.")],
    data_root: DataRootOption = None,
    max_bad_share: MaxBadShareOption = MAX_BAD_SHARE,
) -> None:
    """Land StockX sales: `orders` per day of sale and the sneakers as `products`."""
    from jobs.ingest import ingest_stockx as run

    root = config.data_root(data_root)
    _run_job(f"reading {workbook}", lambda progress: run(
        workbook, root, max_bad_share=max_bad_share, on_progress=progress), root)


@ingest_app.command("storefront")
def ingest_storefront(
    urls: Annotated[list[str], typer.Argument(
        help="Start URL of each ShootStrayt-style shop, e.g. http://127.0.0.1:8765/shop/<id>.")],
    min_interval: Annotated[float, typer.Option(
        min=0.0, help="Seconds between requests to one host (robots.txt Crawl-delay wins "
                      "if larger).")] = 1.0,
    timeout: Annotated[float, typer.Option(min=0.1, help="Seconds per request.")] = 10.0,
    attempts: Annotated[int, typer.Option(min=1, help="Tries per page (429/5xx/timeouts/"
                                                      "truncated pages).")] = 5,
    snapshot_date: SnapshotDateOption = None,
    data_root: DataRootOption = None,
    max_bad_share: MaxBadShareOption = MAX_BAD_SHARE,
) -> None:
    """Scrape storefronts (robots.txt, rate limit, retries) into the `listings` snapshot."""
    from jobs.ingest import ingest_storefront as run

    root = config.data_root(data_root)
    day = _parse_date(snapshot_date, "--snapshot-date")
    _run_job(f"scraping {len(urls)} shop(s)", lambda progress: run(
        urls, root, snapshot_date=day, min_interval=min_interval, timeout=timeout,
        attempts=attempts, max_bad_share=max_bad_share, on_progress=progress), root)


@ingest_app.command("cards-api")
def ingest_cards_api(
    base_url: Annotated[str, typer.Argument(help="API root serving /v2/cards.")],
    snapshot_date: SnapshotDateOption = None,
    data_root: DataRootOption = None,
    max_bad_share: MaxBadShareOption = MAX_BAD_SHARE,
) -> None:
    """Pull the trading-card API's catalog into `products`.

    Key: STOCKROOM_CARDS_TOKEN or `[sources.cards] token` in .streamlit/secrets.toml.
    """
    from jobs.ingest import ingest_card_api as run

    root = config.data_root(data_root)
    day = _parse_date(snapshot_date, "--snapshot-date")
    _run_job(f"pulling {base_url}", lambda progress: run(
        base_url, root, snapshot_date=day, max_bad_share=max_bad_share,
        on_progress=progress), root)


@ingest_app.command("browse-api")
def ingest_browse_api(
    base_url: Annotated[str, typer.Argument(help="API root serving "
                                                 "/buy/browse/v1/item_summary/search.")],
    query: Annotated[str, typer.Option("--query", "-q", help="Search words.")] = "",
    platform: Annotated[str, typer.Option(help="Platform code of the listings.")] = "ebay",
    snapshot_date: SnapshotDateOption = None,
    data_root: DataRootOption = None,
    max_bad_share: MaxBadShareOption = MAX_BAD_SHARE,
) -> None:
    """Pull an eBay-Browse-like item search into `listings` (replaces that platform's rows).

    Token: STOCKROOM_EBAY_TOKEN or `[sources.ebay] token` in .streamlit/secrets.toml.
    """
    from jobs.ingest import ingest_browse_api as run

    root = config.data_root(data_root)
    day = _parse_date(snapshot_date, "--snapshot-date")
    _run_job(f"pulling {base_url}", lambda progress: run(
        base_url, root, query=query, platform=platform, snapshot_date=day,
        max_bad_share=max_bad_share, on_progress=progress), root)


@ingest_app.command("sql")
def ingest_sql(
    url: Annotated[str, typer.Argument(
        help="SQLAlchemy URL, e.g. sqlite:///shop.db or postgresql+psycopg://user@host/db.")],
    table: Annotated[str | None, typer.Option(help="Table to pull.")] = None,
    query: Annotated[str | None, typer.Option(help="Or a SELECT to pull.")] = None,
    watermark: Annotated[str, typer.Option(help="Column that grows when a row changes.")]
    = "updated_at",
    platform: Annotated[str | None, typer.Option(help="Platform for rows without one.")] = None,
    snapshot_date: SnapshotDateOption = None,
    data_root: DataRootOption = None,
    max_bad_share: MaxBadShareOption = MAX_BAD_SHARE,
) -> None:
    """Pull changed rows from a SQL database (by watermark) and upsert them into `listings`."""
    from jobs.ingest import ingest_sql as run

    if (table is None) == (query is None):
        raise typer.BadParameter("give exactly one of --table or --query")
    root = config.data_root(data_root)
    day = _parse_date(snapshot_date, "--snapshot-date")
    _run_job("pulling from the database", lambda progress: run(
        url, root, table=table, query=query, watermark_column=watermark, platform=platform,
        snapshot_date=day, max_bad_share=max_bad_share, on_progress=progress), root)


@ingest_app.command("simulate")
def ingest_simulate(
    listings: Annotated[int, typer.Option(min=1, help="About this many listings.")] = 20_000,
    sellers: Annotated[int, typer.Option(min=1, max=20_000, help="Sellers.")] = 200,
    days: Annotated[int, typer.Option(min=1, help="Days to simulate.")] = 14,
    start: Annotated[str, typer.Option(help="First day, YYYY-MM-DD.")] = "2024-06-27",
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same data).")] = 7,
    data_root: DataRootOption = None,
) -> None:
    """Land a synthetic eBay/Blokpax/ShootStrayt marketplace built on the real card catalog."""
    from jobs.ingest import ingest_simulation
    from lib.sim.marketplace import SimConfig

    root = config.data_root(data_root)
    cfg = SimConfig(listings=listings, sellers=sellers, days=days,
                    start=_parse_date(start, "--start"), seed=seed)
    _run_job(f"simulating {days} day(s)", lambda progress: ingest_simulation(
        root, cfg, on_progress=progress), root)


@ingest_app.command("demo-stock")
def ingest_demo_stock_command(
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same stock).")] = 0,
    data_root: DataRootOption = None,
) -> None:
    """Simulate the seller's stock and open POs on top of the real demand (bundled demo; the
    public data has no stock). Needs a forecasts snapshot."""
    from jobs.procure import ingest_demo_stock

    root = config.data_root(data_root)
    run, added = ingest_demo_stock(root, seed)
    console.print(f"stock landed ({run.run_id}); {added} open purchase orders added")


@app.command("procure")
def procure_command(
    as_of: AsOfOption = None,
    export: Annotated[Path | None, typer.Option(
        help="Write the purchase-request CSV (what to order, by supplier) here.")] = None,
    data_root: DataRootOption = None,
) -> None:
    """The morning plan: order today / already ordered / attention required per SKU from
    forecasts, stock and open POs; lands the `order_plan` snapshot."""
    from jobs.procure import run_plan

    root = config.data_root(data_root)
    summary = run_plan(root, _parse_date(as_of, "--as-of"), export)
    for line in summary.lines():
        console.print(f"  {line}")
    if export:
        console.print(f"purchase requests written: {export}")


@po_app.command("add")
def po_add(
    sku: Annotated[str, typer.Option(help="SKU ordered.")],
    quantity: Annotated[int, typer.Option(min=1, help="Units.")],
    supplier: Annotated[str, typer.Option(help="Supplier.")],
    expected: Annotated[str, typer.Option(help="Expected delivery, YYYY-MM-DD.")],
    order_date: Annotated[str | None, typer.Option(help="Order date (default today).")] = None,
    po_number: Annotated[str | None, typer.Option(help="Default: PO-YYYYMMDD-NNN.")] = None,
    actor: Annotated[str, typer.Option(help="Who (for the audit log).")] = "cli",
    data_root: DataRootOption = None,
) -> None:
    """Record an open purchase order line."""
    from lib import workbench
    from lib.procurement import repo

    eng = workbench.engine(config.data_root(data_root))
    ordered = _parse_date(order_date, "--order-date") or date.today()
    number = po_number or repo.next_po_number(eng, ordered)
    try:
        repo.add_po(eng, po_number=number, sku=sku, supplier=supplier, quantity=quantity,
                    order_date=ordered, expected_delivery=_parse_date(expected, "--expected"),
                    actor=actor, reason="stockroom po add")
    except ValueError as exc:
        raise StockroomError(str(exc)) from None
    console.print(f"{number}: {quantity} x {sku} from {supplier}, expected {expected}")


@po_app.command("import")
def po_import(
    path: Annotated[Path, typer.Argument(help="CSV/Excel: po_number, sku, supplier, quantity, "
                                              "order_date, expected_delivery[, status].")],
    actor: Annotated[str, typer.Option(help="Who (for the audit log).")] = "cli",
    data_root: DataRootOption = None,
) -> None:
    """Import PO lines; all or nothing (a bad cell names its file, row and column)."""
    from lib import workbench
    from lib.procurement import repo

    n = repo.import_pos(workbench.engine(config.data_root(data_root)), path, actor=actor)
    console.print(f"{n} purchase order lines imported")


@po_app.command("list")
def po_list(
    status: Annotated[str, typer.Option(help="open / received / cancelled / all.")] = "open",
    data_root: DataRootOption = None,
) -> None:
    """List purchase order lines."""
    from lib import workbench
    from lib.procurement import repo

    lines = repo.purchase_order_lines(workbench.engine(config.data_root(data_root)),
                                      None if status == "all" else status)
    out = RichTable("po_number", "sku", "supplier", "quantity", "ordered", "expected", "status")
    for r in lines.iter_rows(named=True):
        out.add_row(r["po_number"], r["sku"], r["supplier"], f"{r['quantity']:,}",
                    str(r["order_date"]), str(r["expected_delivery"]), r["status"])
    Console().print(out)


@po_app.command("receive")
def po_receive(
    po_number: Annotated[str, typer.Argument(help="PO number.")],
    sku: Annotated[str, typer.Argument(help="SKU line.")],
    cancel: Annotated[bool, typer.Option(help="Cancel instead of receive.")] = False,
    actor: Annotated[str, typer.Option(help="Who (for the audit log).")] = "cli",
    data_root: DataRootOption = None,
) -> None:
    """Mark a PO line received (or cancelled): it stops counting as on order."""
    from lib import workbench
    from lib.procurement import repo

    try:
        repo.set_po_status(workbench.engine(config.data_root(data_root)), po_number, sku,
                           "cancelled" if cancel else "received", actor=actor,
                           reason="stockroom po receive")
    except (KeyError, ValueError) as exc:
        raise StockroomError(str(exc).strip("'")) from None
    console.print(f"{po_number} / {sku}: {'cancelled' if cancel else 'received'}")


@ingest_app.command("reconcile-demo")
def ingest_reconcile_demo_command(
    items: Annotated[int, typer.Option(min=100, help="Central items (about 2.5 listings "
                                                     "each).")] = 2_000,
    inject: Annotated[int, typer.Option(min=1, help="Discrepancies injected per type.")] = 10,
    seed: Annotated[int, typer.Option(help="Scenario seed (same seed, same data).")] = 0,
    data_root: DataRootOption = None,
) -> None:
    """Land a seeded central inventory listed on Shopify, Reverb, Vintage & Rare and eBay with
    every discrepancy type injected (synthetic, on the real card catalog)."""
    from jobs.reconcile import ingest_reconcile_demo

    root = config.data_root(data_root)
    run_id = ingest_reconcile_demo(root, items, inject, seed)
    console.print(f"reconciliation scenario landed ({run_id}); truth in {root / 'sim'}")


@app.command("reconcile")
def reconcile_command(
    as_of: AsOfOption = None,
    export: Annotated[Path | None, typer.Option(
        help="Folder for actions-<platform>.csv (end / update quantity / update price / "
             "create / import).")] = None,
    data_root: DataRootOption = None,
) -> None:
    """Reconcile the central inventory against every platform's listings and the sync's
    orders; lands the `flags` snapshot (first seen / still open)."""
    from jobs.reconcile import run_reconcile

    root = config.data_root(data_root)
    summary = run_reconcile(root, _parse_date(as_of, "--as-of"), export=export)
    for line in summary.lines():
        console.print(f"  {line}")
    if export:
        console.print(f"action files written to {export}")


@sim_app.command("serve")
def sim_serve(
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1.")] = 8765,
    listings: Annotated[int, typer.Option(min=1)] = 5_000,
    sellers: Annotated[int, typer.Option(min=1)] = 50,
    seed: Annotated[int, typer.Option()] = 7,
) -> None:
    """Serve simulated shops and APIs on 127.0.0.1 for trying the scraper and API clients.

    Token for both APIs: the value of STOCKROOM_SIM_TOKEN (open when unset).
    """
    from lib import cards
    from lib.sim.marketplace import SimConfig, simulate
    from lib.sim.server import MarketServer, load_card_json

    day = next(simulate(SimConfig(listings=listings, sellers=sellers, days=1, seed=seed)).days())
    server = MarketServer(day.listings, load_card_json(cards.BUNDLED / "api_json" / "cards"),
                          token=os.environ.get("STOCKROOM_SIM_TOKEN"), port=port)
    with server:
        shops = server.shops()
        console.print(f"serving {server.base_url}: {len(shops)} shops, e.g. "
                      f"{server.base_url}/shop/{shops[0]}; APIs at /v2/cards and "
                      "/buy/browse/v1/item_summary/search (Ctrl-C to stop)")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


@bench_app.command("ingest")
def bench_ingest(
    rows: Annotated[int, typer.Option(min=1_000, help="Rows in the generated CSV.")] = 1_000_000,
    repeat: Annotated[int, typer.Option(min=1, help="Runs per contender (median).")] = 3,
    json_out: Annotated[Path | None, typer.Option("--json", help="Also write results here.")]
    = None,
) -> None:
    """CSV -> validated snapshot, side by side with pandas and DuckDB COPY (rows/s, peak MiB)."""
    from jobs.bench import dump, print_ingest, run_ingest_bench

    with console.status("benchmarking...") as status:
        results = run_ingest_bench(rows, repeat, on_step=lambda s: status.update(s))
    print(print_ingest(results))
    dump(results, json_out)


@bench_app.command("mapping")
def bench_mapping(
    folder: Annotated[Path, typer.Argument(
        help="DeepMatcher/Magellan folder: tableA.csv, tableB.csv, train/valid/test.csv.")],
    blocking: Annotated[Path | None, typer.Option(
        help="Leipzig-format folder (two full tables + gt.csv, first table alphabetically is "
             "the left one) to also measure blocking recall and reduction ratio.")] = None,
    seeds: Annotated[int, typer.Option(min=1, help="Training seeds (mean and std).")] = 5,
    k: Annotated[int, typer.Option(min=1, help="Blocking: candidates per left record.")] = 10,
    json_out: Annotated[Path | None, typer.Option("--json", help="Also write results here.")]
    = None,
) -> None:
    """Entity matching on published data: P/R/F1 on test, blocking recall, time, memory (JSON)."""
    import json

    from jobs.bench import dump, run_mapping_bench

    with console.status(f"matching {folder.name}..."):
        results = run_mapping_bench(folder, blocking, seeds, k)
    results.pop("runs", None) if json_out is None else None
    print(json.dumps(results, indent=2))
    dump(results, json_out)


@app.command("map")
def map_command(
    as_of: AsOfOption = None,
    precision: Annotated[float, typer.Option(
        min=0.5, max=1.0, help="Precision target for auto-accepting learned matches.")] = 0.98,
    data_root: DataRootOption = None,
) -> None:
    """Map sellers and SKUs of the latest listings (tiers: exact ids, structured SKUs,
    cross-listings, learned titles); store them audited; print coverage and precision."""
    from jobs.mapping import run_mapping

    root = config.data_root(data_root)
    started = time.perf_counter()
    with console.status("mapping..."):
        report = run_mapping(root, _parse_date(as_of, "--as-of"), precision)
    for line in report.lines():
        console.print(f"  {line}")
    console.print(f"done in {time.perf_counter() - started:.1f} s")


@bench_app.command("forecast")
def bench_forecast(
    sales: Annotated[Path, typer.Option(help="Parquet/CSV of daily sales (id, date, units"
                                              "[, price, hierarchy]) or raw transactions "
                                              "(InvoiceNo, StockCode, Quantity, ...).")],
    horizon: Annotated[int, typer.Option(min=1)] = 28,
    windows: Annotated[int, typer.Option(min=1)] = 3,
    id_col: Annotated[str | None, typer.Option("--id", help="Series id column.")] = None,
    date_col: Annotated[str | None, typer.Option("--date", help="Date column.")] = None,
    target: Annotated[str | None, typer.Option(help="Units column.")] = None,
    price: Annotated[str | None, typer.Option(help="Price column.")] = None,
    models: Annotated[list[str] | None, typer.Option(
        "--model", help="Only these models (repeatable).")] = None,
    repeat: Annotated[int, typer.Option(min=1, help="Rounds, interleaved; seconds = median.")]
    = 1,
    json_out: Annotated[Path | None, typer.Option("--json", help="Also write results here.")]
    = None,
) -> None:
    """Rolling-origin backtest of our model, the baselines and installed peers, side by side."""
    from jobs.bench import dump, print_forecast, run_forecast_bench

    columns = {k: v for k, v in dict(id_col=id_col, date_col=date_col, target=target,
                                      price=price).items() if v}
    with console.status("backtesting...") as status:
        results = run_forecast_bench(sales, horizon=horizon, windows=windows, models=models,
                                     columns=columns, repeat=repeat,
                                     on_step=lambda m: status.update(m))
    print(print_forecast(results))
    dump(results, json_out)


@bench_app.command("procurement")
def bench_procurement(
    sales: Annotated[Path, typer.Option(help="Parquet/CSV of daily sales (as bench forecast) "
                                              "or raw transactions.")],
    lead_time: Annotated[str, typer.Option(help="Lead times in days, comma-separated.")]
    = "7,14,28",
    service_level: Annotated[str, typer.Option(help="Target service levels (0-1), "
                                                    "comma-separated.")] = "0.8,0.9,0.95,0.98",
    review_days: Annotated[int, typer.Option(min=1, help="Review period, days.")] = 7,
    days: Annotated[int, typer.Option(min=28, help="Days of history to replay (the last "
                                                   "ones).")] = 182,
    id_col: Annotated[str | None, typer.Option("--id", help="Series id column.")] = None,
    date_col: Annotated[str | None, typer.Option("--date", help="Date column.")] = None,
    target: Annotated[str | None, typer.Option(help="Units column.")] = None,
    price: Annotated[str | None, typer.Option(help="Price column.")] = None,
    json_out: Annotated[Path | None, typer.Option("--json", help="Also write results here.")]
    = None,
) -> None:
    """Replay the order policy day by day on real demand against the seller-tool and runway
    rules: fill rate, stock-out days, inventory, orders, order-today precision/recall."""
    from jobs.bench import dump, print_procurement, run_procurement_bench

    def numbers(text: str, kind, option: str) -> list:
        try:
            return [kind(v) for v in text.split(",") if v.strip()]
        except ValueError:
            raise typer.BadParameter(f"not a comma-separated list of numbers: {text!r}",
                                     param_hint=option) from None

    columns = {k: v for k, v in dict(id_col=id_col, date_col=date_col, target=target,
                                      price=price).items() if v}
    with console.status("replaying...") as status:
        results = run_procurement_bench(
            sales, lead_times=numbers(lead_time, int, "--lead-time"),
            service_levels=numbers(service_level, float, "--service-level"),
            review_days=review_days, replay_days=days, columns=columns,
            on_step=lambda m: status.update(m))
    print(print_procurement(results))
    dump(results, json_out)


@bench_app.command("reconcile")
def bench_reconcile(
    items: Annotated[int, typer.Option(min=100, help="Central items (about 2.5 listings "
                                                     "each).")] = 40_000,
    inject: Annotated[int, typer.Option(min=1, help="Discrepancies injected per type.")] = 100,
    repeat: Annotated[int, typer.Option(min=1, help="Timed runs; the median is reported.")]
    = 3,
    seed: Annotated[int, typer.Option(help="Scenario seed.")] = 0,
    json_out: Annotated[Path | None, typer.Option("--json", help="Also write results here.")]
    = None,
) -> None:
    """Reconcile a seeded 4-platform scenario with every discrepancy type injected: per-type
    precision/recall against the ground truth and the wall time."""
    from jobs.bench import dump, print_reconcile, run_reconcile_bench

    with console.status("generating and reconciling..."):
        result = run_reconcile_bench(items, inject, repeat, seed)
    print(print_reconcile(result))
    dump(result, json_out)


@app.command("forecast")
def forecast_command(
    as_of: AsOfOption = None,
    horizon: Annotated[int, typer.Option(min=1, max=91, help="Days to forecast.")] = 28,
    promo_calendar: Annotated[Path | None, typer.Option(
        help="CSV/Excel/Parquet of promotions: sku and date (or start and end).")] = None,
    data_root: DataRootOption = None,
) -> None:
    """Forecast daily units per SKU from the orders and land a `forecasts` snapshot
    (rules: dormant, cold start, demand spike, low confidence)."""
    from jobs.forecast import read_promo_calendar, run_forecast

    root = config.data_root(data_root)
    started = time.perf_counter()
    promos = read_promo_calendar(promo_calendar) if promo_calendar else None
    with console.status("forecasting..."):
        summary = run_forecast(root, _parse_date(as_of, "--as-of"), horizon,
                               promo_calendar=promos)
    for line in summary.lines():
        console.print(f"  {line}")
    console.print(f"run {summary.run_id} ({time.perf_counter() - started:.1f} s)")


@app.command("runs")
def runs(
    limit: Annotated[int, typer.Option(min=1, help="How many runs to show.")] = 20,
    job: Annotated[str | None, typer.Option(help="Only this job, e.g. ingest-listings.")] = None,
    quarantine: Annotated[str | None, typer.Option(
        help="Show the quarantined rows of this run id instead.")] = None,
    data_root: DataRootOption = None,
) -> None:
    """List job runs (newest first) with status, row counts and errors; or one run's quarantine.
    """
    from lib import workbench

    root = config.data_root(data_root)
    eng = workbench.engine(root)
    out = Console(width=None if sys.stdout.isatty() else 200)
    if quarantine:
        bad = workbench.quarantined(eng, quarantine, limit=limit)
        table = RichTable("file", "row", "column", "value", "reason", title=f"quarantine of "
                          f"{quarantine} (first {limit})")
        for r in bad.iter_rows(named=True):
            table.add_row(r["source_file"], str(r["source_row"]), r["column"] or "",
                          r["value"] or "", r["reason"])
        out.print(table)
        return
    frame = workbench.runs(eng, limit=limit, job=job)
    table = RichTable("run id", "status", "started (UTC)", "s", "read", "landed", "quarantined",
                      "error")
    for r in frame.iter_rows(named=True):
        table.add_row(r["run_id"], r["status"], f"{r['started_at']:%Y-%m-%d %H:%M:%S}",
                      "" if r["duration_s"] is None else f"{r['duration_s']:.1f}",
                      f"{r['rows_read']:,}", f"{r['rows_landed']:,}",
                      f"{r['rows_quarantined']:,}", (r["error"] or "")[:120])
    out.print(table)
    finished = frame.filter(pl.col("status") != "running")
    if finished.height:
        ok = finished.filter(pl.col("status") == "succeeded").height
        out.print(f"success rate over these {finished.height} finished runs: "
                  f"{ok / finished.height:.1%}")


@app.command("report")
def report(
    name: Annotated[str, typer.Argument(help="Report to build, e.g. seller_concentration "
                                             "(one per notebook in notebooks/).")],
    as_of: AsOfOption = None,
    window_days: Annotated[int | None, typer.Option(
        min=1, help="Window length in days ending on --as-of. Default: the whole history.")] = None,
    category: Annotated[str | None, typer.Option(help="Only this product category.")] = None,
    data_root: DataRootOption = None,
) -> None:
    """Run a papermill report to an executed notebook and an HTML file in DATA_ROOT/reports/."""
    from jobs.report import run_report

    root = config.data_root(data_root)
    started = time.perf_counter()
    files = run_report(name, root, as_of=_parse_date(as_of, "--as-of"),
                       window_days=window_days, category=category)
    console.print(f"report written: {files.html} ({time.perf_counter() - started:.1f} s)")


@app.command("serve")
def serve(
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8501,
    address: Annotated[str, typer.Option(help="Address to bind (loopback by default).")]
    = "127.0.0.1",
    data_root: DataRootOption = None,
) -> None:
    """Start the Streamlit app (Seller concentration, Supply) on http://ADDRESS:PORT."""
    env = dict(os.environ, **{config.ENV_DATA_ROOT: str(config.data_root(data_root))})
    console.print(f"serving http://{address}:{port}  (Ctrl-C to stop)")
    cmd = [sys.executable, "-m", "streamlit", "run", str(config.PROJECT_ROOT / "app.py"),
           "--server.address", address, "--server.port", str(port), "--server.headless", "true"]
    raise typer.Exit(subprocess.call(cmd, env=env, cwd=config.PROJECT_ROOT))


@app.command("snapshots")
def snapshots(
    table: Annotated[str | None, typer.Argument(help="Only this table.")] = None,
    data_root: DataRootOption = None,
) -> None:
    """List what the store holds: per table its snapshot dates, rows and last run."""
    from lib import store
    from lib.tables import TABLES

    root = config.data_root(data_root)
    names = [table] if table else list(TABLES)
    out = RichTable("table", "kind", "snapshots", "first", "last", "rows (last)", "last run")
    for name in names:
        kind = TABLES[name].kind if name in TABLES else "?"
        dates = store.snapshot_dates(root, name)
        if not dates:
            out.add_row(name, kind, "0", "-", "-", "-", "-")
            continue
        manifest = store.read_manifest(root, name, dates[-1])
        out.add_row(name, kind, str(len(dates)), str(dates[0]), str(dates[-1]),
                    f"{manifest['rows']:,}", manifest["run_id"])
    Console().print(out)


def main() -> None:
    """Console entry point: run the CLI; print one line and exit 1 on any failure."""
    try:
        app()  # usage errors are typer's: a usage line and exit code 2
    except Exception as exc:  # one-line reason for every failure, traceback on request
        if os.environ.get("STOCKROOM_DEBUG"):
            raise
        reason = str(exc) if isinstance(exc, StockroomError) else f"{type(exc).__name__}: {exc}"
        console.print(f"stockroom: error: {reason}", markup=False, highlight=False, soft_wrap=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
