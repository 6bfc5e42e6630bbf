"""The snapshot store: immutable, hive-partitioned Parquet snapshots with manifests.

Layout (the contract every reader relies on; DuckDB, polars, pyarrow, Spark and Dask read it
as is)::

    <root>/snapshots/<table>/snapshot_date=YYYY-MM-DD/part-00000.parquet
    <root>/snapshots/<table>/snapshot_date=YYYY-MM-DD/_manifest.json

A write goes: validate the whole frame against the canonical table (nothing is written if any row
is bad) -> write Parquet and manifest into ``<root>/.staging/`` -> read the file back and check
rows and schema -> swap the staged folder into place with one atomic rename. Replacing an
existing day uses Linux ``renameat2(RENAME_EXCHANGE)``, so a reader sees either the old day or the
new day, never a mix and never a gap; where the kernel lacks it (non-Linux) the old folder is
renamed aside first (a gap of one rename, still never a half-written day).

Events tables (orders, inventory movements) grow a day at a time, so after a few years a reader
would open hundreds of tiny files. :func:`compact` keeps a derived copy per calendar month::

    <root>/compacted/<table>/month=YYYY-MM/part-00000.parquet   (rows of every day, snapshot_date)
    <root>/compacted/<table>/month=YYYY-MM/_manifest.json       (each day's part sha256)

The daily partitions stay the truth: a month file is used only while every day it was built
from still has the sha256 it recorded and no day was added or removed (:func:`read_layout`), so
replacing one day keeps its per-day semantics (that month is read from the daily files until it
is compacted again). :func:`commit` compacts the months it touched.

Writers of one data root take turns: :func:`writing` holds a file lock (``filelock``) on
``<root>/.locks/store.lock`` around reading the picture a write merges with and swapping the new
one in, so two writers of the same table and day never lose each other's rows. One call of
:func:`commit_all` stages every day of every table first, then records a commit journal
(``<root>/.staging/_journal/``: which staged folder goes where) and only then swaps them in. A
process killed during the swaps leaves the journal; the next writer (or reader, through
:func:`recover`) rolls it forward, so the days of one commit land together or not at all, and
staging folders a killed writer left behind are removed.

Rows are sorted by the table's primary key and written with fixed Parquet settings, so rerunning
a day with the same inputs gives byte-identical Parquet (the manifest's ``run_id`` and
``written_at`` change; ``files[].sha256`` does not).
"""

from __future__ import annotations

import ctypes
import errno
import hashlib
import json
import os
import shutil
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Literal

import filelock
import polars as pl
import pyarrow.parquet as pq

from stockroom import config
from stockroom.config import compacted_dir, snapshots_dir, staging_dir
from stockroom.errors import SnapshotError
from stockroom.tables import TABLES, Table
from stockroom.tables import table as get_table

PART_FILE = "part-00000.parquet"
MANIFEST_FILE = "_manifest.json"
PARTITION_PREFIX = "snapshot_date="
MONTH_PREFIX = "month="

WriteStatus = Literal["new", "replaced", "unchanged"]


@dataclass(frozen=True)
class WriteResult:
    """What one snapshot write did: ``status`` is new / replaced / unchanged (same bytes)."""

    table: str
    snapshot_date: date
    rows: int
    status: WriteStatus
    path: Path
    manifest: dict


def new_run_id(job: str) -> str:
    """A job run id: ``<job>-<UTC timestamp>-<8 hex>``, sortable by start time."""
    return f"{job}-{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"


def file_sha256(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def describe_sources(paths: Iterable[Path]) -> list[dict]:
    """Source files as recorded in manifests: absolute path, size in bytes and sha256."""
    return [
        {"path": str(Path(p).resolve()), "bytes": Path(p).stat().st_size, "sha256": file_sha256(p)}
        for p in paths
    ]


def table_dir(root: Path, table: str) -> Path:
    return snapshots_dir(root) / table


def partition_dir(root: Path, table: str, snapshot_date: date) -> Path:
    return table_dir(root, table) / f"{PARTITION_PREFIX}{snapshot_date.isoformat()}"


def snapshot_dates(root: Path, table: str) -> list[date]:
    """Dates that have a complete snapshot of ``table``, ascending (a plain directory listing)."""
    dates = []
    try:
        # scandir's entries know their type from the listing itself: no stat per day
        with os.scandir(table_dir(root, table)) as entries:
            for entry in entries:
                if entry.name.startswith(PARTITION_PREFIX) and entry.is_dir():
                    try:
                        dates.append(date.fromisoformat(entry.name[len(PARTITION_PREFIX) :]))
                    except ValueError:
                        continue
    except (FileNotFoundError, NotADirectoryError):
        return []
    return sorted(dates)


def resolve_as_of(root: Path, table: str, as_of: date | None) -> date | None:
    """The latest snapshot date of ``table`` on or before ``as_of`` (latest overall if None)."""
    dates = snapshot_dates(root, table)
    if as_of is not None:
        dates = [d for d in dates if d <= as_of]
    return dates[-1] if dates else None


def read_manifest(root: Path, table: str, snapshot_date: date) -> dict:
    path = partition_dir(root, table, snapshot_date) / MANIFEST_FILE
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise SnapshotError(f"no snapshot of {table} for {snapshot_date}: {path} missing") from None


def read_snapshot(root: Path, table: str, snapshot_date: date) -> pl.DataFrame:
    """Read one day's snapshot as written (without the partition column)."""
    return pl.read_parquet(partition_dir(root, table, snapshot_date) / PART_FILE)


@dataclass(frozen=True)
class Batch:
    """Validated, canonical frames of one table keyed by snapshot date, ready to commit."""

    table: Table
    frames: dict[date, pl.DataFrame]


def prepare(
    table: str | Table,
    frames: Mapping[date, pl.DataFrame],
    source_columns: Mapping[str, str] | None = None,
) -> Batch:
    """Validate frames for ``table`` (see :meth:`stockroom.tables.Table.conform`), writing nothing.

    For an ``events`` table the days are validated together, so the primary key must be unique
    across the whole batch; for a ``state`` table each day is its own full picture. Raises
    :class:`stockroom.errors.InputError` naming file, row and column of bad cells
    (``source_columns``
    maps canonical column names to the source's names for those messages).
    """
    spec = get_table(table) if isinstance(table, str) else table
    if spec.kind == "state" or len(frames) <= 1:
        return Batch(
            spec,
            {d: spec.conform(f, source_columns=source_columns) for d, f in sorted(frames.items())},
        )
    day = "_snapshot_day"
    combined = pl.concat(
        [f.with_columns(pl.lit(d, pl.Date).alias(day)) for d, f in frames.items()],
        how="diagonal_relaxed",
    )
    conformed = spec.conform(combined, keep=(day,), source_columns=source_columns)
    parts = conformed.partition_by(day, as_dict=True, include_key=False)
    return Batch(spec, {key[0]: part for key, part in sorted(parts.items())})


def prepare_split(
    table: str | Table,
    frames: Mapping[date, pl.DataFrame],
    source_columns: Mapping[str, str] | None = None,
) -> tuple[Batch, pl.DataFrame]:
    """Like :func:`prepare`, but bad rows are set aside instead of failing the batch.

    Returns the batch of good rows and the bad cells in ``stockroom.tables.QUARANTINE_SCHEMA``
    (see :meth:`stockroom.tables.Table.split`). For an ``events`` table the days are split together,
    so a key repeated on two days is caught. Raises :class:`InputError` only when the input as a
    whole is unusable (a missing column).
    """
    spec = get_table(table) if isinstance(table, str) else table
    if spec.kind == "state" or len(frames) <= 1:
        good, bad = {}, []
        for d, f in sorted(frames.items()):
            good[d], b = spec.split(f, source_columns)
            bad.append(b)
        return Batch(spec, good), pl.concat(bad) if bad else _no_bad()
    day = "_snapshot_day"
    combined = pl.concat(
        [f.with_columns(pl.lit(d, pl.Date).alias(day)) for d, f in frames.items()],
        how="diagonal_relaxed",
    )
    good, bad = spec.split(combined, source_columns, keep=(day,))
    days = combined[day].unique().sort().to_list()
    parts = good.partition_by(day, as_dict=True, include_key=False)
    frames_out = {d: parts.get((d,), spec.empty()) for d in days}
    return Batch(spec, frames_out), bad


def _no_bad() -> pl.DataFrame:
    from stockroom.tables import QUARANTINE_SCHEMA

    return pl.DataFrame(schema=QUARANTINE_SCHEMA)


def commit(
    root: Path,
    batch: Batch,
    *,
    run_id: str,
    sources: list[dict],
    on_written: Callable[[WriteResult], None] | None = None,
) -> list[WriteResult]:
    """Swap every day of a prepared batch into the store, all together (:func:`commit_all`)."""
    return commit_all(root, [batch], run_id=run_id, sources=sources, on_written=on_written)


JOURNAL_DIR = "_journal"


def commit_all(
    root: Path,
    batches: Sequence[Batch],
    *,
    run_id: str,
    sources: list[dict],
    on_written: Callable[[WriteResult], None] | None = None,
    record: dict | None = None,
    on_committed: Callable[[list[WriteResult]], None] | None = None,
) -> list[WriteResult]:
    """Land every day of every batch as one commit: all of them or none.

    Under :func:`writing`: each day is staged and read back, then a journal listing the staged
    folders is written, then each is swapped in with one atomic rename (``on_written`` is called
    after each, for progress bars), the touched months of events tables are compacted, and
    ``on_committed(results)`` runs before the journal is removed. ``record`` (JSON-able; e.g. the
    run's counts once this commit lands) is kept in the journal for :func:`recovered`.

    Raises :class:`SnapshotError` (or ``OSError``) if staging fails: nothing is swapped and every
    day keeps its previous content. A process killed after the journal was written is completed
    by the next :func:`recover`.
    """
    with writing(root):
        commit_id = uuid.uuid4().hex
        staged: list[_Staged] = []
        try:
            for batch in batches:
                for snapshot_date, frame in batch.frames.items():
                    staged.append(
                        _stage_one(
                            root, batch.table, frame, snapshot_date, run_id, commit_id, sources
                        )
                    )
            journal = _write_journal(root, commit_id, run_id, staged, record)
        except BaseException:
            for item in staged:
                shutil.rmtree(item.stage, ignore_errors=True)
            raise
        results = []
        for item in staged:
            status = _swap_in(item.stage, item.target, item.part_sha)
            result = WriteResult(
                item.table.name, item.day, item.rows, status, item.target, item.manifest
            )
            results.append(result)
            if on_written is not None:
                on_written(result)
        _compact_touched(root, [(item.table, item.day) for item in staged])
        if on_committed is not None:
            on_committed(results)
        journal.unlink()
        _fsync(journal.parent)
        _tidy_staging(root)
    return results


def _tidy_staging(root: Path) -> None:
    """Remove the empty folders a commit leaves in staging (under the lock), so that an empty
    staging folder means "nothing to recover" to :func:`recover`."""
    stage_root = staging_dir(root)
    for folder in sorted(stage_root.rglob("*"), key=lambda p: len(p.parts), reverse=True):
        if folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()


def _compact_touched(root: Path, days: Iterable[tuple[Table, date]]) -> None:
    months: dict[str, set[date]] = {}
    for spec, day in days:
        if spec.kind == "events" or spec.compacted:
            months.setdefault(spec.name, set()).add(_month(day))
    for name, touched in sorted(months.items()):
        compact(root, name, touched)


def write_snapshots(
    root: Path,
    table: str | Table,
    frames: Mapping[date, pl.DataFrame],
    *,
    run_id: str,
    sources: list[dict],
    on_written: Callable[[WriteResult], None] | None = None,
) -> list[WriteResult]:
    """:func:`prepare` then :func:`commit`: every day is validated before the first is written."""
    return commit(
        root, prepare(table, frames), run_id=run_id, sources=sources, on_written=on_written
    )


def write_snapshot(
    root: Path,
    table: str | Table,
    frame: pl.DataFrame,
    snapshot_date: date,
    *,
    run_id: str,
    sources: list[dict],
) -> WriteResult:
    """Validate ``frame`` and atomically make it the snapshot of ``table`` for ``snapshot_date``.

    ``frame`` must hold the canonical columns of ``table`` (see ``stockroom.tables``); ``sources``
    is
    :func:`describe_sources` of the raw inputs. Raises :class:`stockroom.errors.InputError` for bad
    rows (before anything is written) and :class:`SnapshotError` if the write cannot complete;
    in both cases the previous snapshot of that day, if any, is untouched.
    """
    return write_snapshots(root, table, {snapshot_date: frame}, run_id=run_id, sources=sources)[0]


@dataclass(frozen=True)
class _Staged:
    table: Table
    day: date
    rows: int
    stage: Path
    target: Path
    part_sha: str
    manifest: dict


def _stage_one(
    root: Path,
    spec: Table,
    frame: pl.DataFrame,
    snapshot_date: date,
    run_id: str,
    commit_id: str,
    sources: list[dict],
) -> _Staged:
    """Write one day into its own staging folder and check it by reading it back."""
    target = partition_dir(root, spec.name, snapshot_date)
    stage = staging_dir(root) / spec.name / f"{snapshot_date.isoformat()}.{commit_id[:12]}"
    if stage.exists():
        shutil.rmtree(stage)
    stage.mkdir(parents=True)
    try:
        part = _write_part(stage, frame, spec.row_group_rows)
        written = pq.read_schema(part)
        rows = pq.ParquetFile(part).metadata.num_rows
        if rows != frame.height or written.names != spec.column_names:
            raise SnapshotError(
                f"{spec.name} {snapshot_date}: read-back mismatch "
                f"({rows} rows, columns {written.names})"
            )
        part_sha = file_sha256(part)
        manifest = {
            "table": spec.name,
            "kind": spec.kind,
            "snapshot_date": snapshot_date.isoformat(),
            "rows": frame.height,
            "schema": {name: str(dtype) for name, dtype in frame.schema.items()},
            "primary_key": list(spec.primary_key),
            "files": [{"path": PART_FILE, "bytes": part.stat().st_size, "sha256": part_sha}],
            "sources": sources,
            "run_id": run_id,
            "commit_id": commit_id,
            "written_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        _write_manifest(stage, manifest)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    return _Staged(spec, snapshot_date, frame.height, stage, target, part_sha, manifest)


# -- the writer lock, the commit journal and recovery -----------------------------------------

_LOCKS: dict[Path, filelock.FileLock] = {}


def _lock(root: Path) -> filelock.FileLock:
    path = (config.locks_dir(root) / "store.lock").resolve()
    if path not in _LOCKS:
        path.parent.mkdir(parents=True, exist_ok=True)
        _LOCKS[path] = filelock.FileLock(path)
    return _LOCKS[path]


@contextmanager
def writing(root: Path) -> Iterator[None]:
    """Hold the data root's writer lock (re-entrant in one thread) for the ``with`` body.

    Every commit takes it; a job takes it around reading the picture it merges with and
    committing the result. The first holder in a process completes what a killed writer left
    (:func:`recover`). Waits up to :func:`stockroom.config.lock_timeout` seconds, then raises
    :class:`SnapshotError` naming the lock file.
    """
    timeout = config.lock_timeout()
    with _holding(root, timeout) as held:
        if not held:
            raise SnapshotError(
                f"another writer has held {_lock(root).lock_file} for over {timeout:.0f} s; "
                "try again when it finishes (STOCKROOM_LOCK_TIMEOUT)"
            )
        yield


@contextmanager
def _holding(root: Path, timeout: float) -> Iterator[bool]:
    """Try to take the writer lock for up to ``timeout`` seconds; yield whether it is held. The
    first holder in a process completes what a killed writer left (:func:`_recover_locked`)."""
    lock = _lock(root)
    try:
        lock.acquire(timeout=timeout)
    except filelock.Timeout:
        yield False
        return
    try:
        if lock.lock_counter == 1:
            _recover_locked(root)
        yield True
    finally:
        lock.release()


def _journal_dir(root: Path) -> Path:
    return staging_dir(root) / JOURNAL_DIR


def _write_journal(
    root: Path, commit_id: str, run_id: str, staged: list[_Staged], record: dict | None
) -> Path:
    folder = _journal_dir(root)
    folder.mkdir(parents=True, exist_ok=True)
    journal = {
        "commit_id": commit_id,
        "run_id": run_id,
        "record": record,
        "done": False,
        "entries": [
            {"table": i.table.name, "day": i.day.isoformat(), "stage": i.stage.name} for i in staged
        ],
    }
    path = folder / f"{commit_id}.json"
    _write_json_atomic(path, journal)
    return path


def _write_json_atomic(path: Path, payload: dict) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(payload, indent=1))
    _fsync(tmp)
    os.replace(tmp, path)
    _fsync(path.parent)


def recover(root: Path, wait: bool = True) -> None:
    """Complete commits a killed writer left half done and remove abandoned staging folders.

    Cheap when there is nothing to do (one directory listing: a finished commit leaves the
    staging folder empty), so readers call it before they open the store. Takes the writer lock
    only when something is left; with ``wait=False`` (readers) it gives up at once when a writer
    holds the lock, since that writer recovers first anyway.
    """
    stage_root = staging_dir(root)
    try:
        if not any(os.scandir(stage_root)):
            return
    except (FileNotFoundError, NotADirectoryError):
        return
    if wait:
        with writing(root):  # recovers on entry
            return
    with _holding(root, timeout=0):  # recovers on entry, if no writer is at work
        return


def _recover_locked(root: Path) -> None:
    """Under the lock: roll every pending journal forward, then delete every staging folder no
    journal names (under the lock nobody else is staging)."""
    journals = _journal_dir(root)
    if journals.is_dir():
        for cut in journals.glob("*.tmp"):  # a journal cut while being written: never committed
            cut.unlink()
        for path in sorted(journals.glob("*.json")):
            journal = _read_json(path)
            if not journal:  # unreadable (journals are renamed into place whole): never started
                path.unlink()
                continue
            if journal.get("done"):
                continue
            touched = []
            for entry in journal["entries"]:
                spec, day = get_table(entry["table"]), date.fromisoformat(entry["day"])
                stage = staging_dir(root) / spec.name / entry["stage"]
                target = partition_dir(root, spec.name, day)
                if stage.is_dir():
                    current = _read_json(target / MANIFEST_FILE)
                    if current.get("commit_id") == journal["commit_id"]:
                        shutil.rmtree(stage)  # swapped already: the stage holds the old day
                    elif (stage / MANIFEST_FILE).is_file():
                        _swap_in(
                            stage, target, _read_json(stage / MANIFEST_FILE)["files"][0]["sha256"]
                        )
                touched.append((spec, day))
            _compact_touched(root, touched)
            if journal.get("record") is None:
                path.unlink()  # nothing for anybody to apply
            else:
                journal["done"] = True
                _write_json_atomic(path, journal)
    stage_root = staging_dir(root)
    if stage_root.is_dir():
        for child in stage_root.iterdir():
            if child.name == JOURNAL_DIR:
                continue
            shutil.rmtree(child) if child.is_dir() else child.unlink()
        _tidy_staging(root)


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return {}


def recovered(root: Path) -> list[tuple[Path, dict]]:
    """Commits :func:`recover` completed whose ``record`` nobody has applied yet, oldest first:
    (journal path, journal). The caller applies each record (e.g. to the run log) and then
    deletes the path. Call under :func:`writing`."""
    journals = _journal_dir(root)
    if not journals.is_dir():
        return []
    out = []
    for path in sorted(journals.glob("*.json"), key=lambda p: p.stat().st_mtime_ns):
        journal = _read_json(path)
        if journal.get("done"):
            out.append((path, journal))
    return out


def _write_part(stage: Path, frame: pl.DataFrame, row_group_rows: int | None = None) -> Path:
    """Write ``frame`` as the staged part file with the store's fixed Parquet settings (the
    same rows give the same bytes; row groups of ``row_group_rows`` rows, else polars'
    default) and flush it to disk."""
    part = stage / PART_FILE
    frame.write_parquet(
        part,
        compression="zstd",
        compression_level=3,
        statistics=True,
        row_group_size=row_group_rows,
    )
    _fsync(part)
    return part


def _write_manifest(stage: Path, manifest: dict) -> None:
    (stage / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2))
    _fsync(stage / MANIFEST_FILE)


def _previous_sha(target: Path) -> str | None:
    try:
        return json.loads((target / MANIFEST_FILE).read_text())["files"][0]["sha256"]
    except (FileNotFoundError, KeyError, IndexError, json.JSONDecodeError):
        return None


def _swap_in(stage: Path, target: Path, part_sha: str) -> WriteStatus:
    """Make ``stage`` the content of ``target`` with one atomic rename; remove the old content."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if not target.exists():
        os.rename(stage, target)
        _fsync(target.parent)
        return "new"
    status: WriteStatus = "unchanged" if _previous_sha(target) == part_sha else "replaced"
    if _exchange(stage, target):  # stage now holds the old day
        _fsync(target.parent)
        shutil.rmtree(stage)
        return status
    old = stage.with_name(stage.name + ".old")
    os.rename(target, old)
    os.rename(stage, target)
    _fsync(target.parent)
    shutil.rmtree(old)
    return status


_AT_FDCWD = -100
_RENAME_EXCHANGE = 2
try:
    _renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
except (AttributeError, OSError):  # not glibc >= 2.28: fall back to two renames
    _renameat2 = None


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two directories (Linux renameat2 RENAME_EXCHANGE). False if unsupported."""
    if _renameat2 is None:
        return False
    if _renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        return False
    raise OSError(err, os.strerror(err), f"{a} <-> {b}")


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# -- compaction of events tables (a derived read cache; see the module doc) ------------------


@dataclass(frozen=True)
class Layout:
    """The files a reader should open for one table: ``compacted`` month files (each holds a
    ``snapshot_date`` column) and the ``daily`` part files of the days no valid month file
    covers (hive-partitioned by ``snapshot_date``). Together they hold every day exactly once."""

    compacted: list[Path]
    daily: list[Path]


def _month(day: date) -> date:
    return day.replace(day=1)


def _days_by_month(root: Path, table: str) -> dict[date, list[date]]:
    """The snapshot days of ``table`` by calendar month (first day of the month), ascending."""
    by_month: dict[date, list[date]] = {}
    for day in snapshot_dates(root, table):
        by_month.setdefault(_month(day), []).append(day)
    return by_month


def month_dir(root: Path, table: str, month: date) -> Path:
    return compacted_dir(root) / table / f"{MONTH_PREFIX}{month:%Y-%m}"


def _day_sha(root: Path, table: str, day: date) -> str | None:
    try:
        return read_manifest(root, table, day)["files"][0]["sha256"]
    except (SnapshotError, KeyError, IndexError, json.JSONDecodeError):
        return None


def _compacted_days(path: Path) -> dict[str, str] | None:
    try:
        return json.loads((path / MANIFEST_FILE).read_text())["days"]
    except (FileNotFoundError, KeyError, json.JSONDecodeError):
        return None


def read_layout(root: Path, table: str) -> Layout:
    """Which files hold ``table`` now (see :class:`Layout`): a month file where it still matches
    its days (same set of days, same sha256 per day), the daily files elsewhere."""
    by_month = _days_by_month(root, table)
    compacted, daily = [], []
    for month, days in by_month.items():
        path = month_dir(root, table, month)
        recorded = _compacted_days(path)
        if recorded is not None and recorded == {
            d.isoformat(): _day_sha(root, table, d) for d in days
        }:
            compacted.append(path / PART_FILE)
        else:
            daily.extend(partition_dir(root, table, d) / PART_FILE for d in days)
    return Layout(compacted, daily)


def compact(root: Path, table: str, months: Iterable[date] | None = None) -> list[date]:
    """(Re)build the month files of an events ``table`` (or of a state table marked
    ``compacted``: every day's full picture of the month in one file) whose days changed;
    returns the months written (first day of each). ``months`` limits the work to those
    months (any day in them); default every month. Each file is staged and swapped in
    atomically like a snapshot, sorted by the table's ``compact_order`` (default snapshot_date
    then the primary key), so the same days give the same bytes. Months without any day lose
    their file. Raises :class:`SnapshotError` for another state table."""
    spec = get_table(table)
    if spec.kind != "events" and not spec.compacted:
        raise SnapshotError(
            f"{table} is a {spec.kind} table; only events tables and state tables marked "
            "compacted are"
        )
    with writing(root):
        return _compact(root, table, spec, months)


def _compact(root: Path, table: str, spec: Table, months: Iterable[date] | None) -> list[date]:
    by_month = _days_by_month(root, table)
    wanted = set(by_month) if months is None else {_month(m) for m in months}
    written = []
    for month in sorted(wanted):
        target = month_dir(root, table, month)
        days = by_month.get(month, [])
        if not days:
            shutil.rmtree(target, ignore_errors=True)
            continue
        shas = {d.isoformat(): _day_sha(root, table, d) for d in days}
        if _compacted_days(target) == shas:
            continue
        frame = pl.concat(
            [
                read_snapshot(root, table, d).with_columns(snapshot_date=pl.lit(d, pl.Date))
                for d in days
            ],
            how="diagonal_relaxed",
        ).sort(list(spec.compact_order or ("snapshot_date", *spec.primary_key)))
        stage = staging_dir(root) / "compacted" / table / f"{month:%Y-%m}.{uuid.uuid4().hex[:8]}"
        stage.mkdir(parents=True)
        try:
            part = _write_part(stage, frame, spec.row_group_rows)
            manifest = {
                "table": table,
                "month": f"{month:%Y-%m}",
                "rows": frame.height,
                "days": shas,
                "written_at": datetime.now(UTC).isoformat(timespec="seconds"),
            }
            _write_manifest(stage, manifest)
            _swap_in(stage, target, file_sha256(part))
        except BaseException:
            shutil.rmtree(stage, ignore_errors=True)
            raise
        written.append(month)
    return written


def stamp(root: Path) -> str:
    """A token that changes whenever a snapshot or a month file is added, replaced or removed:
    the key under which readers cache what they read. Made of each table folder's inode,
    mtime and link count (a day is added, swapped in or removed by a rename in that folder,
    which updates it), so it costs two stat calls per table whatever the history's length."""
    parts = []
    for name in TABLES:
        for base in (table_dir(root, name), compacted_dir(root) / name):
            try:
                st = os.stat(base)
            except FileNotFoundError:
                parts.append("-")
                continue
            parts.append(f"{st.st_ino}:{st.st_mtime_ns}:{st.st_nlink}")
    return "/".join(parts)
