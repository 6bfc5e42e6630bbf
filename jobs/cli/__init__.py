"""``stockroom``: one command line for every job, one module per command group.

Each command is a small function over a job (:mod:`stockroom_jobs`) or the library
(:mod:`stockroom`). Failures exit non-zero with a one-line reason (set STOCKROOM_DEBUG=1 for the
traceback).
"""

from __future__ import annotations

import sys

import typer

from stockroom import config
from stockroom.errors import StockroomError
from stockroom_jobs.cli import bench, forecast, ingest, mapping, ops, procure, reconcile
from stockroom_jobs.cli.common import console

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
app.add_typer(ingest.app, name="ingest")
app.add_typer(ops.sim_app, name="sim")
app.add_typer(bench.app, name="bench")
app.add_typer(procure.po_app, name="po")
app.command("procure")(procure.procure_command)
app.command("forecast")(forecast.forecast_command)
app.command("reconcile")(reconcile.reconcile_command)
app.command("map")(mapping.map_command)
app.command("runs")(ops.runs)
app.command("report")(ops.report)
app.command("serve")(ops.serve)
app.command("snapshots")(ops.snapshots)


def main() -> None:
    """Console entry point: run the CLI; print one line and exit 1 on any failure."""
    try:
        app()  # usage errors are typer's: a usage line and exit code 2
    except Exception as exc:  # one-line reason for every failure, traceback on request
        if config.debug():
            raise
        reason = str(exc) if isinstance(exc, StockroomError) else f"{type(exc).__name__}: {exc}"
        console.print(f"stockroom: error: {reason}", markup=False, highlight=False, soft_wrap=True)
        sys.exit(1)
