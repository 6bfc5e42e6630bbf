"""`stockroom daily`, `stockroom schedule`, `stockroom sources` and `stockroom alerts`."""

from __future__ import annotations

import time
from typing import Annotated

import typer

from stockroom import config
from stockroom.errors import StockroomError
from stockroom_jobs.cli.common import DataRootOption, console, parse_date

ICON = {"succeeded": "ok", "failed": "FAILED", "skipped": "skipped", "taken": "taken"}


def _print_step(result) -> None:
    took = f" ({result.seconds:.1f} s)" if result.seconds else ""
    console.print(
        f"  {result.step:<9} {ICON.get(result.status, result.status)}{took}: {result.detail}",
        markup=False,
    )


def _print_stage(line: str) -> None:
    console.print(f"            {line}", markup=False)


def daily_command(
    day: Annotated[str | None, typer.Option(help="Day to run, YYYY-MM-DD (default today).")] = None,
    step: Annotated[
        list[str] | None, typer.Option("--step", help="Only these steps (repeatable).")
    ] = None,
    data_root: DataRootOption = None,
) -> None:
    """The morning: sync every source in stockroom.toml -> forecast -> plan -> reconcile ->
    reports, then alerts. Each step is recorded; a failed step stops what depends on it."""
    from stockroom.sources import STEPS
    from stockroom_jobs.daily import run_day

    unknown = [s for s in step or [] if s not in STEPS]
    if unknown:
        raise typer.BadParameter(
            f"{', '.join(unknown)}: steps are {', '.join(STEPS)}", param_hint="--step"
        )
    root = config.data_root(data_root)
    started = time.perf_counter()
    console.print(f"stockroom daily on {root}")
    results = run_day(
        root, parse_date(day, "--day"), steps=tuple(step or STEPS), on_step=_print_step
    )
    failed = [r.step for r in results if r.status == "failed"]
    console.print(
        f"done in {time.perf_counter() - started:.1f} s"
        + (f"; FAILED: {', '.join(failed)}" if failed else "")
    )
    if failed:
        raise typer.Exit(1)


def schedule_command(
    once: Annotated[
        bool, typer.Option("--once", help="Run what is due now (catch-up included) and exit.")
    ] = False,
    all_companies: Annotated[
        bool,
        typer.Option(
            "--all-companies",
            help="Every company of the install (the shared install's scheduler), each at the "
            "times of its own stockroom.toml; new companies are picked up within 5 minutes.",
        ),
    ] = False,
    data_root: DataRootOption = None,
) -> None:
    """Run the daily steps at the times in stockroom.toml [schedule] (APScheduler); on start,
    catch up the latest day whose steps were missed. Two schedulers never run a step twice."""
    from stockroom import tenancy
    from stockroom_jobs import daily

    root = config.data_root(data_root)
    roots = tenancy.company_roots(root) if all_companies else [root]
    console.print("catching up what is due now")
    for company_root in roots:
        try:
            daily.tick(company_root, on_step=_print_step, on_progress=_print_stage)
        except StockroomError as exc:  # one company's broken settings never stop the others
            if not all_companies:
                raise
            console.print(f"{config.company_of(company_root)}: {exc}", markup=False)
    if once:
        return
    sched = (
        daily.install_scheduler(root, on_step=_print_step, on_progress=_print_stage)
        if all_companies
        else daily.scheduler(root, on_step=_print_step, on_progress=_print_stage)
    )
    for job in sched.get_jobs():
        console.print(f"  scheduled: {job.name}")
    try:
        sched.start()
    except (KeyboardInterrupt, SystemExit):
        pass


sources_app = typer.Typer(
    help="Configured sources (stockroom.toml) and their state.", no_args_is_help=True
)


@sources_app.command("list")
def sources_list(data_root: DataRootOption = None) -> None:
    """Each configured source with its kind, state and watermark."""
    from stockroom import sources, workbench

    root = config.data_root(data_root)
    eng = workbench.engine(root)
    states = sources.state(eng)
    for s in sources.load(root).sources:
        st = states.get(s.name, {})
        mark = workbench.get_watermark(eng, f"api:{s.name}")
        console.print(
            f"{s.name:<16} {s.kind:<12} {st.get('status', 'active'):<7} "
            f"{st.get('reason') or ''} {('watermark ' + mark) if mark else ''}",
            markup=False,
        )


@sources_app.command("resume")
def sources_resume(
    name: Annotated[str, typer.Argument(help="Source name.")], data_root: DataRootOption = None
) -> None:
    """Resume a paused source (after fixing its token)."""
    from stockroom import sources, workbench

    sources.set_state(
        workbench.engine(config.data_root(data_root)),
        name,
        "active",
        f"resumed by {config.actor()}",
        None,
    )
    console.print(f"{name}: active")


def alerts_command(
    show_all: Annotated[bool, typer.Option("--all", help="Cleared ones too.")] = False,
    data_root: DataRootOption = None,
) -> None:
    """The alerts: open ones (and cleared with --all), newest first."""
    from stockroom import alerts, workbench

    frame = alerts.open_alerts(workbench.engine(config.data_root(data_root)))
    if not show_all:
        frame = frame.filter(frame["status"] == "open")
    for r in frame.iter_rows(named=True):
        console.print(
            f"{r['opened_at']:%Y-%m-%d %H:%M} {r['status']:<7} {r['rule']:<13} {r['message']}",
            markup=False,
        )
    console.print(f"{frame.height} alert(s)")
