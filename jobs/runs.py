"""Every job runs inside :func:`tracked_run`: recorded in the workbench database, validated
row by row, bad rows quarantined, good rows landed as snapshots (or nothing, if too many are bad).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import polars as pl

from stockroom import store, workbench
from stockroom.config import MAX_BAD_SHARE  # re-exported: the jobs' default
from stockroom.errors import InputError, InputProblem, redact
from stockroom.ingest.http import Fetcher
from stockroom.tables import QUARANTINE_SCHEMA, Table


class EmptySource(InputError):
    """A source gave no rows: the run fails (landing nothing) unless empty is allowed."""


class TooManyBadRows(InputError):
    """More than the allowed share of rows failed validation: the run landed nothing."""

    def __init__(self, problems: list[InputProblem], bad: int, read: int, limit: float):
        super().__init__(problems)
        self.bad, self.read, self.limit = bad, read, limit
        self.args = (
            f"{bad:,} of {read:,} rows ({bad / read:.1%}) failed validation, above the "
            f"{limit:.0%} limit; nothing landed. First: {self.args[0]}",
        )


@dataclass
class Part:
    """Frames of one canonical table for one run, keyed by snapshot date.

    ``source_columns`` maps canonical names to the source's own (for messages); ``rejected``
    holds cells the adapter already set aside while parsing (``QUARANTINE_SCHEMA``; their rows
    are not in ``frames``).

    Merging (state tables only): a source that sees part of the picture (one platform, a few
    shops) sets ``scope`` to the columns that delimit its part, e.g. ``("platform",
    "seller_id")``. The landed snapshot is then the latest earlier picture with the rows of
    those scope keys replaced by the new rows; other sources' rows are carried forward.
    ``scope_keys`` lists the keys covered (default: the keys present in the new rows; give it
    so that a shop that now lists nothing is emptied). ``scope`` = the primary key is an upsert
    (incremental sources).
    """

    table: Table
    frames: Mapping[date, pl.DataFrame]
    source_columns: Mapping[str, str] | None = None
    rejected: pl.DataFrame | None = None
    scope: tuple[str, ...] | None = None
    scope_keys: pl.DataFrame | None = None


@dataclass
class Run:
    """A job run in progress (see :func:`tracked_run`)."""

    root: Path
    run_id: str
    job: str
    source: str
    rows_read: int = 0
    rows_landed: int = 0
    rows_quarantined: int = 0
    writes: list[store.WriteResult] = field(default_factory=list)
    statuses: dict[str, Counter] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    retries: Counter = field(default_factory=Counter)

    def warn(self, message: str) -> None:
        """Keep a warning in the run record (shown by `stockroom runs` and Data health)."""
        if message not in self.warnings:
            self.warnings.append(message)

    def note_retries(self, reasons: Sequence[str]) -> None:
        """Count retried requests by cause (e.g. ``HTTP 429``) for the run record."""
        self.retries.update(_retry_cause(r) for r in reasons)

    @contextmanager
    def fetching(self, **options) -> Iterator[Fetcher]:
        """A :class:`~stockroom.ingest.http.Fetcher` (``options`` are its own) whose retried
        requests go into this run's record when it closes, whether the fetching succeeded or
        not."""
        with Fetcher(**options) as fetcher:
            try:
                yield fetcher
            finally:
                self.note_retries(fetcher.stats.reasons)

    def counts(self) -> dict:
        """The run's counts as stored in ``job_runs``."""
        return {
            "rows_read": self.rows_read,
            "rows_landed": self.rows_landed,
            "rows_quarantined": self.rows_quarantined,
            "snapshots": len(self.writes),
        }

    def land(
        self,
        parts: Sequence[Part],
        *,
        sources: list[dict],
        max_bad_share: float = MAX_BAD_SHARE,
        on_progress: Callable[[str, int, int], None] | None = None,
        allow_empty: bool = True,
        source: str | None = None,
    ) -> list[store.WriteResult]:
        """Validate every part, quarantine bad rows, then land the good ones as one commit.

        All parts are validated before the first write. A row is bad if any of its cells fails
        (one quarantine entry per failing cell). If bad rows / rows read > ``max_bad_share``
        (0-1) the quarantine is recorded and :class:`TooManyBadRows` is raised before anything
        is written. With ``allow_empty=False`` a call whose parts hold no row at all raises
        :class:`EmptySource` naming ``source`` (a header-only export must not carry yesterday
        forward as today). ``on_progress(table, done, total)`` is called as snapshots land.

        Scoped parts are merged with the latest picture and every day of every part is
        committed while holding the store's writer lock (:func:`stockroom.store.writing`), so a
        concurrent writer of the same table and day never loses rows; the days land together or
        not at all (:func:`stockroom.store.commit_all`), and the run's counts in ``job_runs`` are
        updated in the same step (also when a killed run's commit is completed later).
        """
        validated, bad_frames, read = [], [], 0
        for part in parts:
            batch, bad = store.prepare_split(part.table, part.frames, part.source_columns)
            rejected = (
                part.rejected
                if part.rejected is not None
                else pl.DataFrame(schema=QUARANTINE_SCHEMA)
            )
            read += sum(f.height for f in part.frames.values()) + _rows(rejected)
            validated.append((part, batch))
            bad_frames.extend([rejected, bad])
        if not allow_empty and read == 0:
            tables = ", ".join(sorted({p.table.name for p in parts}))
            raise EmptySource(
                [
                    InputProblem(
                        source or self.source,
                        None,
                        None,
                        f"no rows for {tables} (a header-only export or an empty catalog?); "
                        "nothing landed. Pass --allow-empty if the source is empty on purpose",
                    )
                ]
            )
        bad = pl.concat(bad_frames) if bad_frames else pl.DataFrame(schema=QUARANTINE_SCHEMA)
        bad_rows = _rows(bad)
        self.rows_read += read
        self.rows_quarantined += bad_rows
        eng = workbench.engine(self.root)
        workbench.add_quarantine(eng, self.run_id, bad)
        if read and bad_rows / read > max_bad_share:
            problems = [
                InputProblem(
                    r["source_file"], r["source_row"], r["column"], r["reason"], r["value"]
                )
                for r in bad.sort("source_file", "source_row").head(20).iter_rows(named=True)
            ]
            raise TooManyBadRows(problems, bad_rows, read, max_bad_share)
        landed = sum(f.height for _, b in validated for f in b.frames.values())

        def tick(result: store.WriteResult) -> None:
            counts = self.statuses.setdefault(result.table, Counter())
            counts[result.status] += 1
            if on_progress:
                total = sum(len(b.frames) for _, b in validated if b.table.name == result.table)
                on_progress(result.table, sum(counts.values()), total)

        with store.writing(self.root):
            apply_recovered(self.root)
            batches = [_merge(self.root, b, p) if p.scope else b for p, b in validated]
            after = {
                **self.counts(),
                "rows_landed": self.rows_landed + landed,
                "snapshots": len(self.writes) + sum(len(b.frames) for b in batches),
            }
            results = store.commit_all(
                self.root,
                batches,
                run_id=self.run_id,
                sources=sources,
                on_written=tick,
                record={"run_id": self.run_id, "counts": after},
                on_committed=lambda _results: workbench.record_progress(eng, self.run_id, after),
            )
        self.rows_landed += landed
        self.writes += results
        return results

    def lines(self) -> list[str]:
        """A human summary: rows per table and what happened to each snapshot."""
        out = []
        for name, counts in self.statuses.items():
            rows = sum(r.rows for r in self.writes if r.table == name)
            parts = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
            out.append(f"{name}: {rows:,} rows in {sum(counts.values())} snapshot(s) ({parts})")
        out.append(
            f"read {self.rows_read:,} rows, landed {self.rows_landed:,}, "
            f"quarantined {self.rows_quarantined:,}"
        )
        return out


def _merge(root: Path, batch: store.Batch, part: Part) -> store.Batch:
    """Carry the earlier picture forward outside ``part.scope`` (see :class:`Part`); for an
    events table, the same day's partition (an upsert by primary key: a re-imported export
    replaces its lines, never doubles them)."""
    scope = list(part.scope)
    merged = {}
    events = batch.table.kind == "events"
    existing = set(store.snapshot_dates(root, batch.table.name)) if events else set()
    for day, good in batch.frames.items():
        if events:
            base_day = day if day in existing else None
        else:
            base_day = store.resolve_as_of(root, batch.table.name, day)
        if base_day is None:
            merged[day] = good.sort(list(batch.table.primary_key)) if events else good
            continue
        base = store.read_snapshot(root, batch.table.name, base_day)
        keys = part.scope_keys if part.scope_keys is not None else good.select(scope)
        keys = keys.select(scope).unique().cast({c: base.schema[c] for c in scope})
        kept = base.join(keys, on=scope, how="anti")
        # no re-sort: carried rows keep their order, new rows follow in source order, so the
        # same input on the same base gives the same bytes
        pk = list(batch.table.primary_key)
        kept = kept.join(good.select(pk), on=pk, how="anti")  # a key never appears twice
        merged[day] = pl.concat([kept, good], how="diagonal_relaxed").select(good.columns)
        if events:  # an upsert's result does not depend on the order the lines came in
            merged[day] = merged[day].sort(list(batch.table.primary_key))
    return store.Batch(batch.table, merged)


def _rows(bad: pl.DataFrame) -> int:
    """Bad rows (not cells): distinct (table, file, row)."""
    return bad.select("table", "source_file", "source_row").unique().height if bad.height else 0


@contextmanager
def tracked_run(root: Path, job: str, source: str, secrets: Sequence[str] = ()) -> Iterator[Run]:
    """Record a job run in the workbench database around the ``with`` body.

    The run is stored as ``running`` first (so a process killed mid-run is visible, reported as
    ``crashed``), then ``succeeded`` with its counts, or ``failed`` with the error message. Any
    of ``secrets`` (tokens) found in the message is replaced by ``***`` before it is stored.
    """
    run = Run(root=root, run_id=store.new_run_id(job), job=job, source=redact(source, secrets))
    eng = workbench.engine(root)
    recover(root)
    workbench.start_run(eng, run.run_id, job, run.source)
    try:
        yield run
    except BaseException as exc:
        message = str(exc) or type(exc).__name__
        workbench.finish_run(
            eng,
            run.run_id,
            "failed",
            **run.counts(),
            retries=dict(run.retries),
            warnings=[redact(w, secrets) for w in run.warnings],
            error=redact(f"{type(exc).__name__}: {message}", secrets),
        )
        raise
    workbench.finish_run(
        eng,
        run.run_id,
        "succeeded",
        **run.counts(),
        retries=dict(run.retries),
        warnings=[redact(w, secrets) for w in run.warnings],
    )


def recover(root: Path) -> None:
    """Complete what a killed writer left (its half-done commit, its staging folders;
    :func:`stockroom.store.recover`) and write the counts of what it landed into its run row
    (:func:`apply_recovered`): what a job, `stockroom runs` and `stockroom snapshots` do first."""
    store.recover(root)
    apply_recovered(root)


def apply_recovered(root: Path) -> int:
    """Write the counts of commits that :func:`stockroom.store.recover` completed for killed
    runs into their ``job_runs`` rows (so the run log agrees with the store); returns how many.
    """
    pending = store.recovered(root)
    if not pending:
        return 0
    eng = workbench.engine(root)
    with store.writing(root):
        for path, journal in store.recovered(root):
            record = journal.get("record") or {}
            if record.get("run_id"):
                workbench.record_progress(eng, record["run_id"], record["counts"])
            path.unlink(missing_ok=True)
    return len(pending)


def _retry_cause(reason: str) -> str:
    """``GET https://x/y?page=3: HTTP 429`` -> ``HTTP 429`` (the cause, not the URL)."""
    if "not complete JSON" in reason:
        return "truncated JSON"
    return reason.rsplit(": ", 1)[-1].split(" (")[0] if ": " in reason else reason
