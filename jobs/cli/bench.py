"""`stockroom bench ...`: the benchmarks (:mod:`stockroom_bench`), figures and ratios against
baselines in one run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from stockroom_jobs.cli.common import (
    console,
)

app = typer.Typer(
    help="Benchmarks: figures and ratios against baselines in one run.", no_args_is_help=True
)


@app.command("ingest")
def bench_ingest(
    rows: Annotated[int, typer.Option(min=1_000, help="Rows in the generated CSV.")] = 1_000_000,
    repeat: Annotated[int, typer.Option(min=1, help="Runs per contender (median).")] = 3,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Also write results here.")
    ] = None,
) -> None:
    """CSV -> validated snapshot, side by side with pandas and DuckDB COPY (rows/s, peak MiB)."""
    from stockroom_bench import dump
    from stockroom_bench.ingest import print_ingest, run_ingest_bench

    with console.status("benchmarking...") as status:
        results = run_ingest_bench(rows, repeat, on_step=lambda s: status.update(s))
    print(print_ingest(results))
    dump(results, json_out)


@app.command("mapping")
def bench_mapping(
    folder: Annotated[
        Path,
        typer.Argument(
            help="DeepMatcher/Magellan folder: tableA.csv, tableB.csv, train/valid/test.csv."
        ),
    ],
    blocking: Annotated[
        Path | None,
        typer.Option(
            help="Leipzig-format folder (two full tables + gt.csv, first table alphabetically is "
            "the left one) to also measure blocking recall and reduction ratio."
        ),
    ] = None,
    seeds: Annotated[int, typer.Option(min=1, help="Training seeds (mean and std).")] = 5,
    k: Annotated[int, typer.Option(min=1, help="Blocking: candidates per left record.")] = 10,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Also write results here.")
    ] = None,
) -> None:
    """Entity matching on published data: P/R/F1 on test, blocking recall, time, memory (JSON)."""
    from stockroom_bench import dump
    from stockroom_bench.mapping import run_mapping_bench

    with console.status(f"matching {folder.name}..."):
        results = run_mapping_bench(folder, blocking, seeds, k)
    results.pop("runs", None) if json_out is None else None
    print(json.dumps(results, indent=2))
    dump(results, json_out)


@app.command("forecast")
def bench_forecast(
    sales: Annotated[
        Path,
        typer.Option(
            help="Parquet/CSV of daily sales (id, date, units"
            "[, price, hierarchy]) or raw transactions "
            "(InvoiceNo, StockCode, Quantity, ...), or the Olist directory "
            "(order items -> daily units per product with 10+ sale days)."
        ),
    ],
    horizon: Annotated[int, typer.Option(min=1)] = 28,
    windows: Annotated[int, typer.Option(min=1)] = 3,
    id_col: Annotated[str | None, typer.Option("--id", help="Series id column.")] = None,
    date_col: Annotated[str | None, typer.Option("--date", help="Date column.")] = None,
    target: Annotated[str | None, typer.Option(help="Units column.")] = None,
    price: Annotated[str | None, typer.Option(help="Price column.")] = None,
    models: Annotated[
        list[str] | None, typer.Option("--model", help="Only these models (repeatable).")
    ] = None,
    repeat: Annotated[int, typer.Option(min=1, help="Rounds, interleaved; seconds = median.")] = 1,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Also write results here.")
    ] = None,
) -> None:
    """Rolling-origin backtest of our model, the baselines and installed peers, side by side."""
    from stockroom_bench import dump
    from stockroom_bench.forecast import print_forecast, run_forecast_bench

    columns = {
        k: v
        for k, v in dict(id_col=id_col, date_col=date_col, target=target, price=price).items()
        if v
    }
    with console.status("backtesting...") as status:
        results = run_forecast_bench(
            sales,
            horizon=horizon,
            windows=windows,
            models=models,
            columns=columns,
            repeat=repeat,
            on_step=lambda m: status.update(m),
        )
    print(print_forecast(results))
    dump(results, json_out)


@app.command("procurement")
def bench_procurement(
    sales: Annotated[
        Path,
        typer.Option(
            help="Parquet/CSV of daily sales (as bench forecast), raw transactions or the "
            "Olist directory."
        ),
    ],
    lead_time: Annotated[
        str, typer.Option(help="Lead times in days, comma-separated.")
    ] = "7,14,28",
    service_level: Annotated[
        str, typer.Option(help="Target service levels (0-1), comma-separated.")
    ] = "0.8,0.9,0.95,0.98",
    review_days: Annotated[int, typer.Option(min=1, help="Review period, days.")] = 7,
    days: Annotated[
        int, typer.Option(min=28, help="Days of history to replay (the last ones).")
    ] = 182,
    id_col: Annotated[str | None, typer.Option("--id", help="Series id column.")] = None,
    date_col: Annotated[str | None, typer.Option("--date", help="Date column.")] = None,
    target: Annotated[str | None, typer.Option(help="Units column.")] = None,
    price: Annotated[str | None, typer.Option(help="Price column.")] = None,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Also write results here.")
    ] = None,
) -> None:
    """Replay the order policy day by day on real demand against the seller-tool and runway
    rules: fill rate, stock-out days, inventory, orders, order-today precision/recall."""
    from stockroom_bench import dump
    from stockroom_bench.procurement import print_procurement, run_procurement_bench

    def numbers(text: str, kind, option: str) -> list:
        try:
            return [kind(v) for v in text.split(",") if v.strip()]
        except ValueError:
            raise typer.BadParameter(
                f"not a comma-separated list of numbers: {text!r}", param_hint=option
            ) from None

    columns = {
        k: v
        for k, v in dict(id_col=id_col, date_col=date_col, target=target, price=price).items()
        if v
    }
    with console.status("replaying...") as status:
        results = run_procurement_bench(
            sales,
            lead_times=numbers(lead_time, int, "--lead-time"),
            service_levels=numbers(service_level, float, "--service-level"),
            review_days=review_days,
            replay_days=days,
            columns=columns,
            on_step=lambda m: status.update(m),
        )
    print(print_procurement(results))
    dump(results, json_out)


@app.command("reconcile")
def bench_reconcile(
    items: Annotated[
        int, typer.Option(min=100, help="Central items (about 2.5 listings each).")
    ] = 40_000,
    inject: Annotated[int, typer.Option(min=1, help="Discrepancies injected per type.")] = 100,
    repeat: Annotated[int, typer.Option(min=1, help="Timed runs; the median is reported.")] = 3,
    seed: Annotated[int, typer.Option(help="Scenario seed.")] = 0,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Also write results here.")
    ] = None,
) -> None:
    """Reconcile a seeded 4-platform scenario with every discrepancy type injected: per-type
    precision/recall against the ground truth and the wall time."""
    from stockroom_bench import dump
    from stockroom_bench.reconcile import print_reconcile, run_reconcile_bench

    with console.status("generating and reconciling..."):
        result = run_reconcile_bench(items, inject, repeat, seed)
    print(print_reconcile(result))
    dump(result, json_out)


@app.command("pages")
def bench_pages(
    root: Annotated[
        list[Path],
        typer.Option(
            "--root",
            help="A data root (repeat for several sizes). Default: the project's data root.",
        ),
    ] = None,
    repeat: Annotated[int, typer.Option(min=1, help="New sessions per page (first renders).")] = 3,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Also write results here.")
    ] = None,
) -> None:
    """Every page through Streamlit's AppTest: first render and interactions (p50/p95), and
    the page's queries beside a hand-written DuckDB query for the same numbers."""
    from stockroom import config
    from stockroom_bench import dump
    from stockroom_bench.pages import print_pages, run_pages_bench

    roots = root or [config.data_root()]
    with console.status("benchmarking pages...") as status:
        results = run_pages_bench(roots, repeat, on_step=lambda s: status.update(s))
    print(print_pages(results))
    dump(results, json_out)


@app.command("market")
def bench_market(
    products: Annotated[int, typer.Option(min=100, help="Products (sneaker x size).")] = 20_000,
    days: Annotated[int, typer.Option(min=31, help="Days of daily market snapshots.")] = 365,
    repeat: Annotated[int, typer.Option(min=1, help="Timed runs per answer (median).")] = 5,
    seed: Annotated[int, typer.Option(help="Seed of the synthetic market.")] = 18,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Also write results here.")
    ] = None,
) -> None:
    """A year of market snapshots (products x 4 platforms x days, synthetic): best platform,
    repricing list and one item's history through the library beside a hand-written DuckDB
    query over the same Parquet, and the price-move detector against the injected moves."""
    from stockroom_bench import dump
    from stockroom_bench.market import print_market, run_market_bench

    with console.status("generating the market...") as status:
        result = run_market_bench(products, days, repeat, seed, on_step=status.update)
    print(print_market(result))
    dump(result, json_out)


@app.command("resale")
def bench_resale(
    items: Annotated[int, typer.Option(min=1_000, help="Items (synthetic).")] = 1_000_000,
    repeat: Annotated[int, typer.Option(min=1, help="Timed runs per answer (median).")] = 5,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Also write results here.")
    ] = None,
) -> None:
    """A million resale items with 1.5 million listings: dashboard, aging, platform table and
    full-text search through the library beside a hand-written DuckDB query each; PDF import
    throughput and the streamed Excel export, with peak memory."""
    from stockroom_bench import dump
    from stockroom_bench.resale import print_resale, run_resale_bench

    with console.status("generating the resale book...") as status:
        result = run_resale_bench(items, repeat, on_step=status.update)
    print(print_resale(result))
    dump(result, json_out)


@app.command("price-forecast")
def bench_price_forecast(
    workbook: Annotated[
        Path | None,
        typer.Argument(help="The StockX workbook (default: the copy bundled in data/raw)."),
    ] = None,
    cutoff: Annotated[
        list[str] | None, typer.Option(help="Cut-off date(s), YYYY-MM-DD (repeat).")
    ] = None,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Also write results here.")
    ] = None,
) -> None:
    """The 30-day-ahead median sale price per sneaker x size on the real StockX sales, time
    split at each cut-off, against the last sale and the 30-day median (MAPE, APE < 10 %)."""
    from datetime import date

    from stockroom_bench import dump
    from stockroom_bench.market import print_price_forecast, run_price_forecast_bench
    from stockroom_jobs.market import BUNDLED_STOCKX

    days = [date.fromisoformat(c) for c in (cutoff or ["2018-07-01", "2018-09-01", "2018-11-01"])]
    with console.status("backtesting the price forecast..."):
        result = run_price_forecast_bench(workbook or BUNDLED_STOCKX, days)
    print(print_price_forecast(result))
    dump(result, json_out)


@app.command("scale")
def bench_scale(
    companies: Annotated[int, typer.Option(min=2, help="Simulated companies.")] = 200,
    skus: Annotated[int, typer.Option(min=10, help="SKUs per company.")] = 1000,
    days: Annotated[int, typer.Option(min=30, help="Days of orders per company.")] = 90,
    workers: Annotated[int, typer.Option(min=1, help="Workers of the local cluster.")] = 2,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Also write results here.")
    ] = None,
) -> None:
    """Companies x SKUs through the daily pipeline, one after the other vs a local Dask
    cluster (wall, CPU, peak memory per worker, retries, same numbers), the object store's
    cost per snapshot day, and what 10,000 companies or 10 M SKUs would need."""
    from stockroom_bench import dump
    from stockroom_bench.scale import print_scale, run_scale_bench

    with console.status("writing the companies...") as status:
        result = run_scale_bench(companies, skus, days, workers, on_step=status.update)
    print(print_scale(result))
    dump(result, json_out)
