"""Operations: `stockroom runs`, `report`, `serve`, `snapshots` and `sim serve`."""

from __future__ import annotations

import os
import sys
import time
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table as RichTable

from stockroom import config
from stockroom_jobs.cli.common import (
    AsOfOption,
    DataRootOption,
    console,
    existing_root,
    parse_date,
)

sim_app = typer.Typer(help="The marketplace simulator's local server.", no_args_is_help=True)


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
    from stockroom import cards
    from stockroom.sim.marketplace import SimConfig, simulate
    from stockroom.sim.server import MarketServer, load_card_json

    day = next(simulate(SimConfig(listings=listings, sellers=sellers, days=1, seed=seed)).days())
    server = MarketServer(
        day.listings,
        load_card_json(cards.BUNDLED / "api_json" / "cards"),
        token=config.sim_token(),
        port=port,
    )
    with server:
        shops = server.shops()
        console.print(
            f"serving {server.base_url}: {len(shops)} shops, e.g. "
            f"{server.base_url}/shop/{shops[0]}; APIs at /v2/cards and "
            "/buy/browse/v1/item_summary/search (Ctrl-C to stop)"
        )
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


@sim_app.command("market-data")
def sim_market_data(
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1.")] = 8766,
    as_of: AsOfOption = None,
    data_root: DataRootOption = None,
) -> None:
    """Serve a StockX-like catalog and market-data API on 127.0.0.1 from the data root's
    market snapshot (StockX rows), for trying `stockroom ingest market-api`.

    Token: the value of STOCKROOM_SIM_TOKEN (open when unset).
    """
    from stockroom.db import connect
    from stockroom.market import views
    from stockroom.sim.marketdata import MarketDataServer

    root = existing_root(data_root)
    day = parse_date(as_of, "--as-of")
    con = connect(root, day)
    found = views.market_day(con, day)
    if found is None:
        raise typer.BadParameter(f"{root} has no market snapshots", param_hint="--data-root")
    rows = con.execute(
        "SELECT * EXCLUDE (snapshot_date) FROM market_history WHERE snapshot_date = ?", [found]
    ).pl()
    server = MarketDataServer.from_market(
        rows, con.execute("SELECT * FROM products").pl(), token=config.sim_token(), port=port
    )
    with server:
        console.print(
            f"serving the market of {found} at {server.base_url}/v2/catalog/search (Ctrl-C to stop)"
        )
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


def runs(
    limit: Annotated[int, typer.Option(min=1, help="How many runs to show.")] = 20,
    job: Annotated[str | None, typer.Option(help="Only this job, e.g. ingest-listings.")] = None,
    quarantine: Annotated[
        str | None, typer.Option(help="Show the quarantined rows of this run id instead.")
    ] = None,
    data_root: DataRootOption = None,
) -> None:
    """List job runs (newest first) with status, row counts and errors; or one run's quarantine."""
    import polars as pl

    from stockroom import workbench
    from stockroom_jobs import runs as job_runs

    root = existing_root(data_root)
    eng = workbench.engine(root)
    job_runs.recover(root)  # a killed run's half-done commit is completed and counted first
    out = Console(width=None if sys.stdout.isatty() else 200)
    if quarantine:
        bad = workbench.quarantined(eng, quarantine, limit=limit)
        table = RichTable(
            "file",
            "row",
            "column",
            "value",
            "reason",
            title=f"quarantine of {quarantine} (first {limit})",
        )
        for r in bad.iter_rows(named=True):
            table.add_row(
                r["source_file"],
                str(r["source_row"]),
                r["column"] or "",
                r["value"] or "",
                r["reason"],
            )
        out.print(table)
        return
    frame = workbench.runs(eng, limit=limit, job=job)
    table = RichTable(
        "run id",
        "status",
        "started (UTC)",
        "s",
        "read",
        "landed",
        "quarantined",
        "snapshots",
        "retries",
        "error / warnings",
    )
    for r in frame.iter_rows(named=True):
        notes = [r["error"] or "", r["warnings"] or ""]
        table.add_row(
            r["run_id"],
            r["status"],
            f"{r['started_at']:%Y-%m-%d %H:%M:%S}",
            "" if r["duration_s"] is None else f"{r['duration_s']:.1f}",
            f"{r['rows_read']:,}",
            f"{r['rows_landed']:,}",
            f"{r['rows_quarantined']:,}",
            f"{r['snapshots']:,}",
            r["retry_causes"] or "",
            "\n".join(n for n in notes if n)[:300],
        )
    out.print(table)
    finished = frame.filter(pl.col("status") != "running")
    if finished.height:
        ok = finished.filter(pl.col("status") == "succeeded").height
        out.print(
            f"success rate over these {finished.height} finished runs: {ok / finished.height:.1%}"
        )


audit_app = typer.Typer(help="The audit log (hash-chained).", no_args_is_help=True)


@audit_app.command("verify")
def audit_verify(data_root: DataRootOption = None) -> None:
    """Recompute the audit log's hash chain; name the first row that does not match.

    Exit 0 when every row extends the chain and the database's guards are in place, 1 with
    the first broken row otherwise."""
    from stockroom import audit, workbench

    root = existing_root(data_root)
    verdict = audit.verify(workbench.engine(root))
    last_id, last_hash = audit.head(workbench.engine(root))
    if verdict.first_broken is not None:
        console.print(
            f"audit log BROKEN at row {verdict.first_broken}: {verdict.problem} "
            f"({verdict.rows:,} rows before it verified)"
        )
    if verdict.missing_guards:
        console.print("database guards missing: " + ", ".join(verdict.missing_guards))
    if not verdict.ok:
        raise typer.Exit(1)
    console.print(f"audit log intact: {verdict.rows:,} rows; head row {last_id} {last_hash}")


def report(
    name: Annotated[
        str,
        typer.Argument(
            help="Report to build, e.g. seller_concentration (one per notebook in notebooks/)."
        ),
    ],
    as_of: AsOfOption = None,
    window_days: Annotated[
        int,
        typer.Option(
            min=1, help="Window length in days ending on --as-of (the app's default window)."
        ),
    ] = config.DEFAULT_WINDOW_DAYS,
    all_history: Annotated[
        bool, typer.Option("--all-history", help="The whole history instead of a window.")
    ] = False,
    category: Annotated[str | None, typer.Option(help="Only this product category.")] = None,
    data_root: DataRootOption = None,
) -> None:
    """Run a papermill report to an executed notebook and an HTML file in DATA_ROOT/reports/."""
    from stockroom_jobs.report import run_report

    root = existing_root(data_root)
    started = time.perf_counter()
    files = run_report(
        name,
        root,
        as_of=parse_date(as_of, "--as-of"),
        window_days=None if all_history else window_days,
        category=category,
    )
    console.print(f"report written: {files.html} ({time.perf_counter() - started:.1f} s)")


def serve(
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8501,
    address: Annotated[
        str, typer.Option(help="Address to bind (loopback by default).")
    ] = "127.0.0.1",
    data_root: DataRootOption = None,
) -> None:
    """Start the Streamlit app (every page) on http://ADDRESS:PORT."""
    env = dict(os.environ, **{config.ENV_DATA_ROOT: str(config.data_root(data_root))})
    console.print(f"serving http://{address}:{port}  (Ctrl-C to stop)")
    cmd = [
        sys.executable,
        "-m",
        "stockroom_jobs.serve",  # Streamlit's CLI, importing the library while it starts
        "run",
        str(config.PROJECT_ROOT / "app.py"),
        "--server.address",
        address,
        "--server.port",
        str(port),
        "--server.headless",
        "true",
    ]
    # the CLI process becomes the server: a signal to it (Ctrl-C, a supervisor's or a test's
    # terminate) reaches Streamlit itself, so no server is left running behind a dead parent
    os.chdir(config.PROJECT_ROOT)
    os.execve(sys.executable, cmd, env)


def snapshots(
    table: Annotated[str | None, typer.Argument(help="Only this table.")] = None,
    compact: Annotated[
        bool,
        typer.Option(
            "--compact",
            help="First (re)build the month files of the events tables whose days changed "
            "(every ingest does this; for stores written before it did).",
        ),
    ] = False,
    data_root: DataRootOption = None,
) -> None:
    """List what the store holds: per table its snapshot dates, rows and last run."""
    from stockroom import store
    from stockroom.tables import TABLES
    from stockroom_jobs import runs as job_runs

    root = existing_root(data_root)
    job_runs.recover(root)  # what a killed run left half done is completed before it is listed
    if table is not None and table not in TABLES:
        raise typer.BadParameter(
            f"no table {table!r}; tables: {', '.join(TABLES)}", param_hint="TABLE"
        )
    names = [table] if table else list(TABLES)
    if compact:
        for name in names:
            if name in TABLES and (TABLES[name].kind == "events" or TABLES[name].compacted):
                months = store.compact(root, name)
                console.print(f"{name}: {len(months)} month file(s) written")
    out = RichTable("table", "kind", "snapshots", "first", "last", "rows (last)", "last run")
    for name in names:
        kind = TABLES[name].kind if name in TABLES else "?"
        dates = store.snapshot_dates(root, name)
        if not dates:
            out.add_row(name, kind, "0", "-", "-", "-", "-")
            continue
        manifest = store.read_manifest(root, name, dates[-1])
        out.add_row(
            name,
            kind,
            str(len(dates)),
            str(dates[0]),
            str(dates[-1]),
            f"{manifest['rows']:,}",
            manifest["run_id"],
        )
    Console().print(out)
