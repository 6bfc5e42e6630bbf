"""``stockroom``: one command line for every job, one module per command group.

Each command is a small function over a job (:mod:`stockroom_jobs`) or the library
(:mod:`stockroom`). Failures exit non-zero with a one-line reason (set STOCKROOM_DEBUG=1 for the
traceback).
"""

from __future__ import annotations

import importlib
import os
import sys

import click
import typer
from rich.console import Console
from typer.core import TyperGroup

from stockroom import config
from stockroom.errors import StockroomError, redact

#: command -> (module of its group, attribute, one-line help). A group's module (and what its
#: jobs import: polars, XGBoost, papermill, ...) is loaded only when that command runs, so
#: `stockroom --help` and a small command such as `stockroom po list` start fast.
COMMANDS: dict[str, tuple[str, str, str]] = {
    "ingest": ("ingest", "app", "Land a source as validated, immutable daily snapshots."),
    "forecast": (
        "forecast",
        "forecast_command",
        "Forecast daily units per SKU and land a `forecasts` snapshot.",
    ),
    "procure": (
        "procure",
        "procure_command",
        "The morning plan (order today / already ordered / attention required).",
    ),
    "import": (
        "own",
        "import_command",
        "Import your own orders, stock, inventory, purchase orders and suppliers.",
    ),
    "locations": ("own", "locations_app", "Stock locations (warehouses)."),
    "daily": (
        "daily",
        "daily_command",
        "The morning: sync sources, forecast, plan, reconcile, reports, alerts.",
    ),
    "schedule": ("daily", "schedule_command", "Run the daily steps at their configured times."),
    "sources": ("daily", "sources_app", "Configured sources and their state (paused, resumed)."),
    "alerts": ("daily", "alerts_command", "Open alerts (stockout, order today, failures)."),
    "po": ("procure", "po_app", "Open purchase orders (workbench database, audited)."),
    "reconcile": (
        "reconcile",
        "reconcile_command",
        "Reconcile the central inventory against every platform's listings.",
    ),
    "map": ("mapping", "map_command", "Map sellers and SKUs of the latest listings."),
    "holdings": (
        "holdings",
        "holdings_command",
        "Inventory on the market per Seller x card x treatment; export it.",
    ),
    "market": (
        "market",
        "app",
        "Best platform after fees, repricing, price moves and history per item.",
    ),
    "resale": (
        "resale",
        "app",
        "Resale P&L: invoices, lots, listings, profit, ROI, aging, search, workbook.",
    ),
    "company": ("company", "app", "Companies of this install, their people and roles."),
    "lake": ("scale", "lake_app", "Snapshots on object storage (s3://), committed via DuckLake."),
    "cluster": (
        "scale",
        "cluster_command",
        "Many companies' mornings as tasks on Dask distributed.",
    ),
    "runs": ("ops", "runs", "List job runs with status, row counts and errors."),
    "report": ("ops", "report", "Run a papermill report to an executed notebook and HTML."),
    "serve": ("ops", "serve", "Start the Streamlit app on http://127.0.0.1:8501."),
    "snapshots": ("ops", "snapshots", "List what the store holds per table."),
    "audit": ("ops", "audit_app", "The audit log: verify its hash chain."),
    "sim": ("ops", "sim_app", "The marketplace simulator's local server."),
    "bench": ("bench", "app", "Benchmarks: figures and ratios against baselines in one run."),
}


def load_command(name: str) -> click.Command:
    """The click command of ``name`` (:data:`COMMANDS`), importing its group's module."""
    module, attr, _ = COMMANDS[name]
    obj = getattr(importlib.import_module(f"stockroom_jobs.cli.{module}"), attr)
    if isinstance(obj, typer.Typer):
        command = typer.main.get_group(obj)
    else:
        single = typer.Typer(rich_markup_mode="markdown")
        single.command(name)(obj)
        command = typer.main.get_command(single)
    command.name = name
    return command


class LazyGroup(TyperGroup):
    """The root group: lists every command from :data:`COMMANDS` without importing them and
    loads a command's module when it is resolved to run (its own --help included)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        if ctx.resilient_parsing or getattr(ctx, "_stockroom_listing", False):
            return click.Command(cmd_name, help=COMMANDS[cmd_name][2])
        return load_command(cmd_name)

    def format_help(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        ctx._stockroom_listing = True  # the listing shows each command's line, loads nothing
        try:
            super().format_help(ctx, formatter)
        finally:
            ctx._stockroom_listing = False


app = typer.Typer(
    name="stockroom",
    cls=LazyGroup,
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


@app.callback()
def _root(
    company: str | None = typer.Option(
        None,
        "--company",
        envvar=config.ENV_COMPANY,
        show_envvar=True,
        help="Work on this company's data (`stockroom company list`): every command then "
        "reads and writes its data root only. Default: the local company (--data-root).",
    ),
) -> None:
    """Stockroom: analytics workbench for multi-marketplace sellers."""
    if company and company != config.LOCAL_COMPANY:
        from stockroom import tenancy

        if any(arg.startswith("--data-root") for arg in sys.argv):
            raise typer.BadParameter(
                "give --company or --data-root, not both", param_hint="--company"
            )
        # every command's --data-root defaults to $STOCKROOM_DATA_ROOT: the company's root
        # from here on (the install's directory is read from the install root first)
        os.environ[config.ENV_DATA_ROOT] = str(tenancy.resolve(company))
        os.environ[config.ENV_COMPANY] = company


def _publish_object_roots() -> None:
    """After a command that succeeded on an ``s3://`` data root: commit the days it changed to
    the lake (:func:`stockroom.lake.publish_attached`), and say so."""
    if "stockroom.lake" not in sys.modules:
        return  # no object-store root was opened (a local root never loads the module)
    from stockroom import lake

    command = " ".join(arg for arg in sys.argv[1:] if not arg.startswith("-"))[:80]
    for result in lake.publish_attached(f"stockroom {command}".strip()):
        if result.version is not None:
            Console(stderr=True).print(
                f"lake: {len(result.days)} day(s) committed as version {result.version}",
                markup=False,
                highlight=False,
            )


def main() -> None:
    """Console entry point: run the CLI; print one line and exit 1 on any failure."""
    try:
        try:
            app()  # usage errors are typer's: a usage line and exit code 2
        except SystemExit as done:
            if done.code in (0, None):
                _publish_object_roots()
            raise
        _publish_object_roots()
    except Exception as exc:  # one-line reason for every failure, traceback on request
        if config.debug():
            raise
        reason = str(exc) if isinstance(exc, StockroomError) else f"{type(exc).__name__}: {exc}"
        reason = redact(reason)  # a password inside a URL never reaches the terminal
        Console(stderr=True).print(
            f"stockroom: error: {reason}", markup=False, highlight=False, soft_wrap=True
        )
        sys.exit(1)
