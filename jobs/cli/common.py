"""What every command group shares: the console, the common options, date parsing and the
progress display of ingestion jobs."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from stockroom import config

if TYPE_CHECKING:
    from stockroom_jobs.runs import Run

console = Console(stderr=True)

DataRootOption = Annotated[
    Path | None,
    typer.Option(
        "--data-root",
        envvar=config.ENV_DATA_ROOT,
        show_envvar=True,
        help="Where snapshots and reports live. Default: ./data of the project.",
    ),
]
AsOfOption = Annotated[
    str | None,
    typer.Option("--as-of", help="Snapshot date to read, YYYY-MM-DD. Default: latest."),
]


def parse_date(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(
            f"{value!r} is not a date (YYYY-MM-DD)", param_hint=option
        ) from None


def existing_root(data_root: Path | None) -> Path:
    """The data root of a command that reads: it must already hold a store (a ``snapshots``
    folder or a workbench database), so a mistyped ``--data-root`` fails with a usage error
    instead of leaving a new, empty ``workbench.db`` behind."""
    root = config.data_root(data_root)
    if not (root / "snapshots").is_dir() and not (root / "workbench.db").is_file():
        raise typer.BadParameter(
            f"{root} holds no Stockroom data (no snapshots/ folder); land data first with "
            "`stockroom ingest ...`, or check the path",
            param_hint="--data-root",
        )
    return root


def progress_bar() -> Progress:
    return Progress(
        TextColumn("{task.description:<10}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )


AllowEmptyOption = Annotated[
    bool,
    typer.Option(
        "--allow-empty",
        help="Accept a source with no rows (a header-only export, an empty catalog). "
        "Without it such a run fails and lands nothing.",
    ),
]
MaxBadShareOption = Annotated[
    float,
    typer.Option(
        "--max-bad-share",
        min=0.0,
        max=1.0,
        help="Fail the run and land nothing if more than this share (0-1) of rows "
        "is bad. Bad rows under the limit are quarantined.",
    ),
]
SnapshotDateOption = Annotated[
    str | None,
    typer.Option(
        "--snapshot-date", help="Date of the snapshot to land, YYYY-MM-DD. Default: today (UTC)."
    ),
]


def bar_updater(progress: Progress) -> Callable[[str, int, int], None]:
    """``on_progress(name, done, total)`` for a job: one bar per name on ``progress``."""
    tasks: dict[str, int] = {}

    def on_progress(name: str, done: int, total: int) -> None:
        if name not in tasks:
            tasks[name] = progress.add_task(name, total=total)
        progress.update(tasks[name], completed=done)

    return on_progress


def run_job(
    describe: str, job: Callable[[Callable[[str, int, int], None]], Run], root: Path
) -> Run:
    """Run an ingestion job with progress bars; print its summary and run id."""
    started = time.perf_counter()
    with progress_bar() as progress:
        console.print(describe)
        run = job(bar_updater(progress))
    for line in run.lines():
        console.print(f"  {line}")
    console.print(
        f"run {run.run_id} landed in {root / 'snapshots'} ({time.perf_counter() - started:.1f} s)"
    )
    return run


#: file suffix -> the stockroom.export writer of that format (the --out of a command that reads)
WRITERS = {".csv": "write_csv", ".xlsx": "write_excel", ".parquet": "write_parquet"}


def check_out(out: Path | None) -> None:
    """Refuse an --out file of a format nobody writes, before any work is done."""
    if out is not None and out.suffix.lower() not in WRITERS:
        raise typer.BadParameter(f"{out.name}: use one of {', '.join(WRITERS)}", param_hint="--out")


def write_out(frame, out: Path | None, sheet: str) -> None:
    """Write ``frame`` (a polars frame) to ``out`` by its suffix through stockroom.export
    (Excel: one sheet named ``sheet``) and say so; nothing without ``out``."""
    from stockroom import export

    if out is None:
        return
    try:
        if out.suffix.lower() == ".xlsx":
            export.write_excel(frame, out, sheet)
        else:
            getattr(export, WRITERS[out.suffix.lower()])(frame, out)
    except FileNotFoundError as exc:
        raise typer.BadParameter(str(exc), param_hint="--out") from None
    console.print(f"wrote {frame.height:,} rows to {out}")


#: columns holding a share (0-1), shown as percentages; signed ones with their sign
_SHARES = ("share", "change", "gap", "volatility")
_SIGNED = ("change", "gap")


def show_table(frame, columns: dict[str, str], rows: int = 15) -> None:
    """Print the first ``rows`` rows of ``frame`` (a polars frame) as a table of ``columns``
    ({column: heading}): money with thousands separators and 2 decimals, shares as
    percentages, nulls empty."""
    from rich.table import Table

    def cell(column: str, value) -> str:
        if value is None:
            return ""
        if isinstance(value, float) and any(s in column for s in _SHARES):
            return f"{value:+.1%}" if column in _SIGNED else f"{value:.1%}"
        return f"{value:,.2f}" if isinstance(value, float) else str(value)

    view = Table(*columns.values())
    for row in frame.head(rows).iter_rows(named=True):
        view.add_row(*(cell(c, row[c]) for c in columns))
    console.print(view)
