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
from stockroom.errors import InputError, InputProblem
from stockroom.tables import QUARANTINE_SCHEMA, Table


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

    def land(
        self,
        parts: Sequence[Part],
        *,
        sources: list[dict],
        max_bad_share: float = MAX_BAD_SHARE,
        on_progress: Callable[[str, int, int], None] | None = None,
    ) -> list[store.WriteResult]:
        """Validate every part, quarantine bad rows, then land the good ones.

        All parts are validated before the first write. A row is bad if any of its cells fails
        (one quarantine entry per failing cell). If bad rows / rows read > ``max_bad_share``
        (0-1) the quarantine is recorded and :class:`TooManyBadRows` is raised before anything
        is written. ``on_progress(table, done, total)`` is called as snapshots land.
        """
        batches, bad_frames, read, new_rows = [], [], 0, []
        for part in parts:
            batch, bad = store.prepare_split(part.table, part.frames, part.source_columns)
            new_rows.append(batch)
            if part.scope:
                batch = _merge(self.root, batch, part)
            rejected = (
                part.rejected
                if part.rejected is not None
                else pl.DataFrame(schema=QUARANTINE_SCHEMA)
            )
            read += sum(f.height for f in part.frames.values()) + _rows(rejected)
            batches.append(batch)
            bad_frames.extend([rejected, bad])
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
        results = []
        for batch in batches:
            name, total = batch.table.name, len(batch.frames)
            counts = self.statuses.setdefault(name, Counter())

            def tick(result: store.WriteResult, name=name, counts=counts, total=total) -> None:
                counts[result.status] += 1
                if on_progress:
                    on_progress(name, sum(counts.values()), total)

            results += store.commit(
                self.root, batch, run_id=self.run_id, sources=sources, on_written=tick
            )
        self.rows_landed += sum(f.height for b in new_rows for f in b.frames.values())
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
    """Carry the earlier picture forward outside ``part.scope`` (see :class:`Part`)."""
    if batch.table.kind != "state":
        raise ValueError(f"scope merge is for state tables, not {batch.table.name}")
    scope = list(part.scope)
    merged = {}
    for day, good in batch.frames.items():
        base_day = store.resolve_as_of(root, batch.table.name, day)
        if base_day is None:
            merged[day] = good
            continue
        base = store.read_snapshot(root, batch.table.name, base_day)
        keys = part.scope_keys if part.scope_keys is not None else good.select(scope)
        keys = keys.select(scope).unique().cast({c: base.schema[c] for c in scope})
        kept = base.join(keys, on=scope, how="anti")
        # no re-sort: carried rows keep their order, new rows follow in source order, so the
        # same input on the same base gives the same bytes
        pk = list(batch.table.primary_key)
        kept = kept.join(good.select(pk), on=pk, how="anti")  # a key never appears twice
        merged[day] = pl.concat([kept, good])
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
    workbench.start_run(eng, run.run_id, job, run.source)
    try:
        yield run
    except BaseException as exc:
        message = str(exc) or type(exc).__name__
        workbench.finish_run(
            eng,
            run.run_id,
            "failed",
            rows_read=run.rows_read,
            rows_landed=run.rows_landed,
            rows_quarantined=run.rows_quarantined,
            snapshots=len(run.writes),
            error=redact(f"{type(exc).__name__}: {message}", secrets),
        )
        raise
    workbench.finish_run(
        eng,
        run.run_id,
        "succeeded",
        rows_read=run.rows_read,
        rows_landed=run.rows_landed,
        rows_quarantined=run.rows_quarantined,
        snapshots=len(run.writes),
    )


def redact(text: str, secrets: Sequence[str]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text
