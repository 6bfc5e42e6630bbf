"""Many companies' mornings as tasks on Dask distributed.

One task per company runs its morning (:func:`stockroom_jobs.daily.run_day`: sync -> forecast
-> plan -> reconcile -> reports -> alerts) on whichever worker takes it, with Dask's own retries
(``Client.submit(..., retries=n)``): a task whose morning had a failed step raises, Dask runs it
again, and the rerun does only the steps not yet succeeded (the daily steps table remembers). A
company whose morning still fails after its retries is reported, and the others run on: each
task touches its own data root only.

The scheduler is a setting: ``None`` runs the companies one after the other in this process
(the default, the laptop path); ``"local"`` starts a ``distributed.LocalCluster`` of
``workers`` processes on 127.0.0.1; any other value is a scheduler address
(``tcp://host:8786``) of a running cluster whose workers see the same data roots (a shared disk,
or ``s3://`` roots: each task pulls the company's lake into the worker's working copy and
publishes what the morning wrote, :mod:`stockroom.lake`). Both paths call the same task
function, so they give the same snapshots.
"""

from __future__ import annotations

import os
import resource
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from stockroom.sources import STEPS

#: The Dask event topic each attempt of a company's morning is logged under.
ATTEMPT_TOPIC = "stockroom-morning-attempt"


class MorningFailed(RuntimeError):
    """A company's morning had a failed step (raised inside the task, so Dask retries it)."""


@dataclass(frozen=True)
class CompanyMorning:
    """One company's morning as the task ran it: ``root`` (its data root or ``s3://`` URL),
    ``status`` succeeded / failed, the ``steps`` as (step, status, detail), wall ``seconds``
    of the last attempt, ``attempts`` (1 + retries used), ``worker`` (host:pid) and ``error``
    (the last attempt's, or None)."""

    root: str
    status: str
    steps: tuple[tuple[str, str, str], ...] = ()
    seconds: float = 0.0
    attempts: int = 1
    worker: str = ""
    error: str | None = None


@dataclass
class Mornings:
    """What :func:`run_mornings` did: each company's result (in the order given), wall
    ``seconds``, the peak resident memory of each worker process (MiB; ``"local"`` for the
    sequential path: this process) and the scheduler used."""

    companies: list[CompanyMorning]
    seconds: float
    peak_rss_mib: dict[str, float] = field(default_factory=dict)
    scheduler: str = "sequential"

    @property
    def failed(self) -> list[CompanyMorning]:
        return [c for c in self.companies if c.status != "succeeded"]

    @property
    def retried(self) -> int:
        """Attempts beyond the first, summed over the companies."""
        return sum(c.attempts - 1 for c in self.companies)


def _where() -> str:
    return f"{os.uname().nodename}:{os.getpid()}"


def peak_rss_mib() -> float:
    """This process's peak resident set size so far, MiB: ``VmHWM`` of /proc/self/status (a
    worker started by fork and exec inherits its parent's ``ru_maxrss``, so that would report
    the parent's peak), else ``ru_maxrss`` (KiB) where /proc is missing."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def morning(root: str, day: date, steps: tuple[str, ...] = STEPS) -> CompanyMorning:
    """The task: one company's morning of ``day``. ``root`` is its data root (a path, or an
    ``s3://`` URL: pulled first, published after). Returns what it did; raises
    :class:`MorningFailed` naming the failed steps when one failed (after publishing what
    succeeded), so a scheduler's retry reruns the rest."""
    from stockroom import config
    from stockroom_jobs.daily import run_day

    try:  # count the attempt where Dask can see it (a worker), else nowhere
        from distributed import get_worker

        get_worker().log_event(ATTEMPT_TOPIC, {"root": root, "day": day.isoformat()})
    except (ImportError, ValueError):
        pass
    started = time.perf_counter()
    path = config.data_root(root)
    results = run_day(path, day, steps=steps)
    if str(root).startswith("s3:/"):
        from stockroom import lake

        lake.publish(path, message=f"daily {day.isoformat()}")
    failed = [r for r in results if r.status == "failed"]
    if failed:
        raise MorningFailed("; ".join(f"{r.step}: {r.detail}" for r in failed))
    return CompanyMorning(
        str(root),
        "succeeded",
        tuple((r.step, r.status, r.detail) for r in results),
        time.perf_counter() - started,
        1,
        _where(),
    )


def run_mornings(
    roots: Sequence[str | Path],
    day: date,
    *,
    steps: tuple[str, ...] = STEPS,
    scheduler: str | None = None,
    workers: int = 2,
    retries: int = 2,
    on_done: Callable[[CompanyMorning], None] | None = None,
) -> Mornings:
    """Run the morning of ``day`` for every data root in ``roots`` (see the module doc for
    ``scheduler``); each company is retried up to ``retries`` times, one company's failure
    never stops another. ``on_done`` gets each company as it finishes (progress). Returns
    :class:`Mornings`; raises only when the scheduler cannot be reached (``OSError``)."""
    roots = [str(r) for r in roots]
    started = time.perf_counter()
    if scheduler is None:
        done = []
        for root in roots:
            done.append(_sequential(root, day, steps, retries))
            if on_done:
                on_done(done[-1])
        return Mornings(done, time.perf_counter() - started, {"local": peak_rss_mib()})
    from distributed import Client, LocalCluster, as_completed

    cluster = None
    if scheduler == "local":
        cluster = LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
            # a morning holds a few hundred MiB; Dask's default pause/kill at a share of the
            # machine's memory split over the workers would stop nothing here
        )
    client = Client(cluster if cluster is not None else scheduler)
    try:
        futures = {
            client.submit(morning, root, day, steps, retries=retries, pure=False): root
            for root in roots
        }
        results: dict[str, CompanyMorning] = {}
        for future in as_completed(futures):
            root = futures[future]
            try:
                result = future.result()
            except Exception as exc:
                result = CompanyMorning(root, "failed", error=f"{type(exc).__name__}: {exc}")
            results[root] = result
            if on_done:
                on_done(result)
        attempts: dict[str, int] = {}
        for _, event in client.get_events(ATTEMPT_TOPIC):
            if event.get("day") == day.isoformat():
                attempts[event["root"]] = attempts.get(event["root"], 0) + 1
        peaks = client.run(peak_rss_mib)
        done = [_with_attempts(results[root], attempts.get(root, 1)) for root in roots]
        label = "local" if cluster is not None else scheduler
        return Mornings(done, time.perf_counter() - started, peaks, f"dask {label}")
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _with_attempts(result: CompanyMorning, attempts: int) -> CompanyMorning:
    from dataclasses import replace

    return replace(result, attempts=max(attempts, 1))


def _sequential(root: str, day: date, steps: tuple[str, ...], retries: int) -> CompanyMorning:
    """The laptop path: the same task in this process, retried like Dask would."""
    import tenacity

    attempts = 0
    try:
        for attempt in tenacity.Retrying(stop=tenacity.stop_after_attempt(retries + 1)):
            with attempt:
                attempts += 1
                result = morning(root, day, steps)
    except tenacity.RetryError as exc:
        error = exc.last_attempt.exception()
        return CompanyMorning(
            root, "failed", attempts=attempts, error=f"{type(error).__name__}: {error}"
        )
    return _with_attempts(result, attempts)
