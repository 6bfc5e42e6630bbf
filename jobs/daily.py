"""`stockroom daily` and `stockroom schedule`: the morning, unattended.

A day's steps run in order -- sync every configured source -> forecast -> plan -> reconcile ->
reports -- then the alerts. Each step of each day is one row of ``daily_steps`` (workbench
database) whose primary key (day, step) is the claim: a second scheduler (or a second
`stockroom daily`) finds the step taken and leaves it; a failed step can be claimed again by a
later run. A step whose prerequisite (:data:`stockroom.sources.DEPENDS`) did not succeed that
day is ``skipped`` with the reason, and the pages keep showing the previous results, marked
stale (:func:`freshness`).

The schedule is APScheduler (a maintained scheduler with cron triggers, time zones and misfire
handling in-process; no crontab or systemd needed on a laptop, and the same process runs on a
server): one cron trigger per step at its configured local time, misfires run late rather than
never, and on start :func:`due` catches up the most recent day whose time has passed but whose
steps never ran (a laptop that was off at 06:00).
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from stockroom import config, sources, workbench
from stockroom.errors import StockroomError
from stockroom.health import steps_of
from stockroom.sources import DEPENDS, STEPS, Settings


@dataclass
class StepResult:
    step: str
    status: str  # succeeded / failed / skipped / taken
    detail: str
    seconds: float = 0.0
    sources_failed: dict[str, str] = field(default_factory=dict)


def _claim(eng: sa.Engine, day: date, step: str) -> bool:
    """Take (day, step): True if this run may do it. A failed or crashed claim is retaken."""
    table = workbench.daily_steps
    now = datetime.now(UTC)
    row = {
        "day": day,
        "step": step,
        "status": "running",
        "started_at": now,
        "host": socket.gethostname(),
        "pid": os.getpid(),
    }
    try:
        with eng.begin() as conn:
            conn.execute(table.insert().values(**row))
        return True
    except sa.exc.IntegrityError:
        pass
    with eng.begin() as conn:
        current = conn.execute(
            sa.select(table).where((table.c.day == day) & (table.c.step == step))
        ).first()
        if current is None:
            return False
        crashed = (
            current.status == "running"
            and current.host == socket.gethostname()
            and not workbench._pid_alive(current.pid)
        )
        if current.status in ("failed", "skipped") or crashed:
            done = conn.execute(
                table.update()
                .where(
                    (table.c.day == day)
                    & (table.c.step == step)
                    & (table.c.status == current.status)
                    & (table.c.started_at == current.started_at)
                )
                .values(
                    **{k: v for k, v in row.items() if k not in ("day", "step")},
                    finished_at=None,
                    detail=None,
                )
            )
            return done.rowcount == 1
    return False


def _finish(eng: sa.Engine, day: date, step: str, status: str, detail: str) -> None:
    table = workbench.daily_steps
    with eng.begin() as conn:
        conn.execute(
            table.update()
            .where((table.c.day == day) & (table.c.step == step))
            .values(status=status, detail=detail[:2000], finished_at=datetime.now(UTC))
        )


def run_day(
    root: Path,
    day: date | None = None,
    *,
    steps: tuple[str, ...] = STEPS,
    now: datetime | None = None,
    on_step: Callable[[StepResult], None] | None = None,
    on_progress: Callable[[str], None] | None = None,
) -> list[StepResult]:
    """Run the steps of ``day`` (default: today, UTC) that are not taken yet, in order, then
    the alerts. Returns what each step did; ``on_progress`` gets the stage lines of long steps
    (the forecast's reading, fitting, ...). Never raises for a failing step: it is recorded,
    its dependents are skipped and the alerts say so."""
    import time

    settings = sources.load(root)
    eng = workbench.engine(root)
    day = day or (now or datetime.now(UTC)).date()
    results: list[StepResult] = []
    for step in STEPS:
        if step not in steps:
            continue
        status = {r["step"]: r["status"] for r in steps_of(eng, day)}
        if status.get(step) == "succeeded":
            continue
        missing = [d for d in DEPENDS[step] if status.get(d) != "succeeded"]
        if not _claim(eng, day, step):
            result = StepResult(step, "taken", "another run has this step")
        elif missing:
            states = ", ".join(status.get(m, "not run") for m in missing)
            why = f"skipped: {', '.join(missing)} did not succeed today ({states})"
            _finish(eng, day, step, "skipped", why)
            result = StepResult(step, "skipped", why)
        else:
            started = time.perf_counter()
            try:
                detail, failed = _STEP_FUNCS[step](root, settings, now, on_progress)
                status_now = "failed" if failed else "succeeded"
            except Exception as exc:  # a step's failure is recorded, never raised
                from stockroom.errors import redact

                detail, failed, status_now = redact(f"{type(exc).__name__}: {exc}"), {}, "failed"
            _finish(eng, day, step, status_now, detail)
            result = StepResult(step, status_now, detail, time.perf_counter() - started, failed)
        results.append(result)
        if on_step:
            on_step(result)
    try:
        from stockroom import alerts

        recorded = steps_of(eng, day)
        for r in recorded:
            match = next((x for x in results if x.step == r["step"]), None)
            r["sources_failed"] = match.sources_failed if match else {}
        new, _cleared = alerts.update(eng, alerts.evaluate(root, settings, recorded), now)
        sent = alerts.send(eng, settings.alerts, new, now)
        detail = f"{len(new)} new alert(s); sent: email {sent['email']}, webhook {sent['webhook']}"
        result = StepResult("alerts", "succeeded", detail)
    except Exception as exc:
        result = StepResult("alerts", "failed", f"{type(exc).__name__}: {exc}")
    results.append(result)
    if on_step:
        on_step(result)
    return results


def _sync(
    root: Path, settings: Settings, now: datetime | None, progress: Callable | None = None
) -> tuple[str, dict]:
    from stockroom_jobs.sync import sync_source

    if not settings.sources:
        return "no sources configured (stockroom.toml): nothing to sync", {}
    lines, failed = [], {}
    for source in settings.sources:
        try:
            lines.append(sync_source(root, source, now=now))
        except Exception as exc:
            from stockroom.errors import redact

            failed[source.name] = redact(f"{type(exc).__name__}: {exc}")
            lines.append(f"{source.name}: FAILED {failed[source.name]}")
    return "; ".join(lines), failed


def _forecast(
    root: Path, settings: Settings, now: datetime | None, progress: Callable | None = None
) -> tuple[str, dict]:
    from stockroom_jobs.forecast import run_forecast

    summary = run_forecast(root, on_step=progress)
    return f"forecasts as of {summary.as_of} (run {summary.run_id})", {}


def _plan(
    root: Path, settings: Settings, now: datetime | None, progress: Callable | None = None
) -> tuple[str, dict]:
    from stockroom_jobs.procure import run_plan

    summary = run_plan(root)
    return " / ".join(summary.lines()) + f" (run {summary.run_id})", {}


def _reconcile(
    root: Path, settings: Settings, now: datetime | None, progress: Callable | None = None
) -> tuple[str, dict]:
    from stockroom import store
    from stockroom_jobs.reconcile import run_reconcile

    if store.resolve_as_of(root, "inventory", None) is None:
        return "no central inventory imported: nothing to reconcile", {}
    summary = run_reconcile(root)
    return " / ".join(summary.lines()), {}


def _reports(
    root: Path, settings: Settings, now: datetime | None, progress: Callable | None = None
) -> tuple[str, dict]:
    from stockroom_jobs.report import run_report

    made = [run_report(name, root, progress=False).html.name for name in settings.reports]
    return "written: " + ", ".join(made) if made else "no reports configured", {}


_STEP_FUNCS = {
    "sync": _sync,
    "forecast": _forecast,
    "plan": _plan,
    "reconcile": _reconcile,
    "reports": _reports,
}


# -- schedule -------------------------------------------------------------------------------------


def due(settings: Settings, now: datetime, taken: set[tuple[date, str]]) -> list[tuple[date, str]]:
    """The (day, step) pairs to run at ``now``: for each step, the most recent day (within
    ``catch_up_days``) whose configured local time has passed, unless that pair is taken. Older
    missed days are not replayed: the latest run reads the latest data and supersedes them."""
    zone = ZoneInfo(settings.schedule.timezone)
    local = now.astimezone(zone)
    out = []
    for step in STEPS:
        at = getattr(settings.schedule, step)
        for back in range(settings.schedule.catch_up_days + 1):
            d = local.date() - timedelta(days=back)
            if datetime.combine(d, at, tzinfo=zone) <= local:
                if (d, step) not in taken:
                    out.append((d, step))
                break
    return out


def taken_steps(eng: sa.Engine) -> set[tuple[date, str]]:
    """(day, step) pairs succeeded or running: failed ones run again at the next trigger, and
    skipped ones once what they wait for has succeeded."""
    table = workbench.daily_steps
    with eng.connect() as conn:
        return {
            (r.day, r.step)
            for r in conn.execute(
                sa.select(table.c.day, table.c.step).where(
                    table.c.status.in_(("succeeded", "running"))
                )
            )
        }


def tick(
    root: Path,
    now: datetime | None = None,
    on_step: Callable[[StepResult], None] | None = None,
    on_progress: Callable[[str], None] | None = None,
) -> list[StepResult]:
    """What the scheduler runs at each trigger (and once on start): every due (day, step)."""
    now = now or datetime.now(UTC)
    settings = sources.load(root)
    eng = workbench.engine(root)
    results = []
    pending = due(settings, now, taken_steps(eng))
    for day in sorted({d for d, _ in pending}):
        steps = tuple(s for d, s in pending if d == day)
        results += run_day(
            root, day, steps=steps, now=now, on_step=on_step, on_progress=on_progress
        )
    return results


def scheduler(
    root: Path,
    on_step: Callable[[StepResult], None] | None = None,
    blocking: bool = True,
    on_progress: Callable[[str], None] | None = None,
    sched=None,
):
    """An APScheduler scheduler with one cron trigger per step at its local time (misfires run
    late, coalesced into one), which calls :func:`tick`. Not started. With ``sched``, the
    company of ``root``'s triggers are added to that scheduler instead (one scheduler runs
    every company of an install: :func:`install_scheduler`)."""
    from apscheduler.schedulers.background import BackgroundScheduler
    from apscheduler.schedulers.blocking import BlockingScheduler
    from apscheduler.triggers.cron import CronTrigger

    settings = sources.load(root)
    zone = ZoneInfo(settings.schedule.timezone)
    if sched is None:
        sched = (BlockingScheduler if blocking else BackgroundScheduler)(timezone=zone)
    company = config.company_of(Path(root))
    for step in STEPS:
        at = getattr(settings.schedule, step)
        sched.add_job(
            tick,
            CronTrigger(hour=at.hour, minute=at.minute, timezone=zone),
            args=[root],
            kwargs={"on_step": on_step, "on_progress": on_progress},
            id=f"stockroom-{company}-{step}",
            name=f"{company}: {step} at {at:%H:%M} {settings.schedule.timezone}",
            misfire_grace_time=None,
            coalesce=True,
            max_instances=1,
            replace_existing=True,
        )
    return sched


def install_scheduler(
    install_root: Path,
    on_step: Callable[[StepResult], None] | None = None,
    on_progress: Callable[[str], None] | None = None,
    blocking: bool = True,
):
    """One scheduler for every company of the install (the shared install's scheduler service):
    each company's steps at the times of its own ``stockroom.toml``, run on its own data root;
    every 5 minutes the directory is read again, so a company added (or a schedule changed)
    since is picked up without a restart. A failing company never stops the others (each
    step's failure is recorded in that company's run log). Not started."""
    from apscheduler.schedulers.background import BackgroundScheduler
    from apscheduler.schedulers.blocking import BlockingScheduler
    from apscheduler.triggers.interval import IntervalTrigger

    from stockroom import tenancy

    sched = (BlockingScheduler if blocking else BackgroundScheduler)(timezone="UTC")

    def refresh() -> None:
        for root in tenancy.company_roots(install_root):
            try:
                scheduler(root, on_step, on_progress=on_progress, sched=sched)
            except StockroomError as exc:  # a broken stockroom.toml: that company waits
                if on_progress:
                    on_progress(f"{config.company_of(root)}: not scheduled: {exc}")

    refresh()
    sched.add_job(refresh, IntervalTrigger(minutes=5), id="stockroom-companies", coalesce=True)
    return sched
