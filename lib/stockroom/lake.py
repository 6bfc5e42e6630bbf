"""Snapshots on object storage: the store's days committed through DuckLake.

An object store has no atomic rename, so a data root given as an ``s3://`` URL does not swap
folders: its snapshots live in a **DuckLake** (DuckDB's open table format: Parquet data files on
the object store, the catalog -- which files make up which table at which version -- in a SQL
database). Every table of the store is a DuckLake table partitioned by ``snapshot_date``, so its
files lie in the same hive layout as the local store::

    s3://bucket/prefix/main/<table>/snapshot_date=YYYY-MM-DD/ducklake-<uuid>.parquet

and a commit is one transaction of the catalog: readers see the lake before it or after it,
never a mix, whatever the number of days and tables in it. Why DuckLake over Iceberg (README):
one catalog transaction spans every table (pyiceberg commits one table at a time, and a morning
writes a dozen), the catalog lives in the workbench's own SQLite or PostgreSQL, and the engine is
the DuckDB Stockroom already reads with. The extension files come from the
``duckdb-extension-*`` wheels (no download at run time).

**Working copy.** Everything in Stockroom reads a data root's local folder, so an ``s3://`` root
is worked on through a local copy (:func:`working_root`, under ``STOCKROOM_CACHE_DIR``):
:func:`pull` brings the days the lake holds and the copy lacks (or holds differently);
:func:`publish` commits the days this copy changed since its last pull, all in one DuckLake
commit. The lake is the truth; two machines (or two processes) working on one company publish
their own days, and two writers of the same day both land, one after the other (the later one
wins, as a rerun of a day does in the local store). A writer killed before its commit leaves
only unreferenced data files (:func:`tidy` deletes them); the catalog still points at the old
files.

**Time travel.** Each publish is a DuckLake snapshot (a *version*) whose commit record names the
days it changed; :func:`versions` lists them, and :func:`read` / :func:`pull` take ``version=``
to read the lake as that commit left it (a replaced day's old rows stay readable, unlike the
local store). ``as_of`` keeps its meaning everywhere: the latest snapshot day on or before it.

**Settings.** ``STOCKROOM_S3_ENDPOINT`` (e.g. ``http://127.0.0.1:9000`` for MinIO; unset for
AWS), ``AWS_ACCESS_KEY_ID`` / ``AWS_SECRET_ACCESS_KEY`` (unset: the AWS credential chain),
``AWS_REGION`` (default ``us-east-1``). The catalog: ``STOCKROOM_LAKE_CATALOG`` (a SQLAlchemy
URL: ``postgresql://...``, a schema per lake, or ``sqlite:///<folder>``, a file per lake);
default the workbench PostgreSQL (``STOCKROOM_DB_URL``) or else ``lake.sqlite`` in the working
copy (one machine only).
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import polars as pl
import tenacity

from stockroom import config, store
from stockroom.errors import ConfigError, SnapshotError
from stockroom.tables import TABLES
from stockroom.tables import table as get_table

#: The file that marks a working copy and names its lake.
MARKER = config.LAKE_MARKER
#: The DuckLake table holding each day's manifest (committed with the day's rows).
MANIFESTS = "stockroom_manifests"
#: DuckDB extensions Stockroom loads from their wheels, by extension name.
EXTENSIONS = {
    "httpfs": "duckdb_extension_httpfs",
    "ducklake": "duckdb_extension_ducklake",
    "sqlite_scanner": "duckdb_extension_sqlite_scanner",
    "postgres_scanner": "duckdb_extension_postgres_scanner",
}
_URL = re.compile(r"^s3:/+(?P<bucket>[a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?P<prefix>(/[^/]+)*)/?$")


def is_url(value: str | os.PathLike[str] | None) -> bool:
    """Whether ``value`` names an object-store root (``s3://...``; also as a ``Path`` mangled
    it, ``s3:/...``)."""
    return value is not None and str(value).startswith("s3:/")


def normalise(value: str | os.PathLike[str]) -> str:
    """``s3://bucket/prefix`` without a trailing slash. Raises :class:`ConfigError` for a URL
    that is not ``s3://<bucket>[/<prefix>]``."""
    match = _URL.match(str(value))
    if match is None:
        raise ConfigError(
            f"{value!s} is not an object-store data root: expected s3://<bucket>[/<prefix>]"
        )
    return f"s3://{match['bucket']}{match['prefix']}"


def working_root(url: str | os.PathLike[str]) -> Path:
    """The local working copy of the object-store root ``url`` (created, with its marker)."""
    url = normalise(url)
    root = config.cache_dir() / "lake" / url.removeprefix("s3://")
    root.mkdir(parents=True, exist_ok=True)
    marker = root / MARKER
    if not marker.is_file():
        marker.write_text(json.dumps({"url": url}) + "\n")
    return root


def url_of(root: Path) -> str | None:
    """The object-store URL of a working copy (a company's root below an install's copy gets
    the install's URL plus its path), or None for a plain local data root."""
    root = Path(root)
    for parent in (root, *root.parents):
        marker = parent / MARKER
        if marker.is_file():
            base = json.loads(marker.read_text())["url"]
            rest = root.relative_to(parent).as_posix()
            return base if rest == "." else f"{base}/{rest}"
    return None


#: Working copies this process attached (url -> copy), published by :func:`publish_attached`.
_ATTACHED: dict[str, Path] = {}


def attach(url: str | os.PathLike[str]) -> Path:
    """The working copy of ``url``, pulled from the lake the first time this process asks (so
    a command sees the lake's latest days); later calls return it as it is."""
    url = normalise(url)
    if url not in _ATTACHED:
        root = working_root(url)
        pull(root)
        _ATTACHED[url] = root
    return _ATTACHED[url]


def publish_attached(message: str) -> list[PublishResult]:
    """Publish every working copy this process attached (what the CLI does after a command
    that succeeded): days nobody changed are not sent, so a reading command commits nothing."""
    return [publish(root, message=message) for root in _ATTACHED.values()]


def _require(root: Path) -> str:
    url = url_of(root)
    if url is None:
        raise ConfigError(f"{root} is not a working copy of an object-store root (no {MARKER})")
    return url


# -- connecting ---------------------------------------------------------------------------


def _extension_file(name: str) -> str:
    spec = importlib.util.find_spec(EXTENSIONS[name])
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError(f"the DuckDB extension {name} is not installed ({EXTENSIONS[name]})")
    folder = Path(next(iter(spec.submodule_search_locations))) / "extensions"
    found = sorted(folder.glob(f"v{duckdb.__version__}/*.duckdb_extension"))
    if not found:
        raise ConfigError(
            f"{EXTENSIONS[name]} has no build for DuckDB {duckdb.__version__} under {folder}"
        )
    return str(found[0])


def storage_options() -> dict[str, str]:
    """The same S3 settings as polars' / object_store's ``storage_options`` (for readers of
    :func:`files` outside DuckDB)."""
    s3 = config.s3_settings()
    options = {"aws_region": s3["region"] or "us-east-1"}
    if s3["endpoint"]:
        scheme = "https" if s3["use_ssl"] == "true" else "http"
        options["aws_endpoint_url"] = f"{scheme}://{s3['endpoint']}"
        options["aws_allow_http"] = str(scheme == "http").lower()
    if s3["key_id"]:
        options["aws_access_key_id"] = s3["key_id"]
        options["aws_secret_access_key"] = s3["secret"] or ""
    return options


def _sql_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def catalog(root: Path) -> tuple[str, str | None]:
    """The DuckLake catalog of a working copy: (``ATTACH`` target, metadata schema or None).

    One catalog per lake (a DuckLake catalog knows one data path): in PostgreSQL a schema per
    lake in one database (:func:`schema_of`); with ``STOCKROOM_LAKE_CATALOG=sqlite:///<folder>``
    one file per lake in that folder (``<bucket>/<prefix>.sqlite``); by default the workbench
    PostgreSQL when ``STOCKROOM_DB_URL`` is one, else ``lake.sqlite`` in the working copy (one
    machine only). Raises :class:`ConfigError` for another kind of URL."""
    url = config.lake_catalog()
    lake_url = _require(root)
    if url is None:
        db = config.db_url(root)
        if not db.startswith("postgresql"):
            return f"ducklake:sqlite:{Path(root) / 'lake.sqlite'}", None
        url = db
    if url.startswith("postgresql"):
        from sqlalchemy.engine import make_url

        parsed = make_url(url)
        parts = {
            "dbname": parsed.database,
            "host": parsed.host,
            "port": parsed.port,
            "user": parsed.username,
            "password": parsed.password,
        }
        dsn = " ".join(f"{k}={v}" for k, v in parts.items() if v is not None)
        return f"ducklake:postgres:{dsn}", schema_of(lake_url)
    if url.startswith("sqlite:///"):
        folder = Path(url.removeprefix("sqlite:///"))
        path = folder / (lake_url.removeprefix("s3://") + ".sqlite")
        path.parent.mkdir(parents=True, exist_ok=True)
        return f"ducklake:sqlite:{path}", None
    raise ConfigError(
        f"STOCKROOM_LAKE_CATALOG {url!r}: expected postgresql://... or sqlite:///<folder>"
    )


def schema_of(url: str) -> str:
    """The PostgreSQL schema of a lake's catalog: ``lake_`` and the URL's bucket and prefix in
    lower-case letters, digits and underscores (``s3://b/install/companies/acme`` ->
    ``lake_b_install_companies_acme``), cut to 63 characters with a hash when longer."""
    import hashlib

    name = "lake_" + re.sub(r"[^a-z0-9]+", "_", url.removeprefix("s3://").lower()).strip("_")
    if len(name) > 63:
        name = name[:54] + "_" + hashlib.sha256(url.encode()).hexdigest()[:8]
    return name


def redacted(target: str) -> str:
    """A catalog ``ATTACH`` target with its password hidden (for printing)."""
    return re.sub(r"password=\S+", "password=***", target)


def connect(root: Path) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with the working copy's lake attached as ``lake``. Raises
    :class:`ConfigError` when ``root`` is not a working copy or an extension is missing."""
    url = _require(root)
    con = duckdb.connect()
    for name in EXTENSIONS:
        con.execute(f"LOAD {_sql_str(_extension_file(name))}")
    s3 = config.s3_settings()
    options = [f"REGION {_sql_str(s3['region'] or 'us-east-1')}"]
    if s3["key_id"]:
        options += [f"KEY_ID {_sql_str(s3['key_id'])}", f"SECRET {_sql_str(s3['secret'] or '')}"]
    else:
        options.append("PROVIDER credential_chain")
    if s3["endpoint"]:
        options += [
            f"ENDPOINT {_sql_str(s3['endpoint'])}",
            "URL_STYLE 'path'",
            f"USE_SSL {s3['use_ssl']}",
        ]
    con.execute(f"CREATE SECRET stockroom_s3 (TYPE s3, {', '.join(options)})")
    target, schema = catalog(root)
    attach = [f"DATA_PATH {_sql_str(url + '/')}", "DATA_INLINING_ROW_LIMIT 0"]
    if schema:
        attach.append(f"METADATA_SCHEMA {_sql_str(schema)}")
    con.execute(f"ATTACH {_sql_str(target)} AS lake ({', '.join(attach)})")
    return con


@contextmanager
def _connected(root: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    con = connect(root)
    try:
        yield con
    finally:
        con.close()


def _at(version: int | None) -> str:
    return "" if version is None else f" AT (VERSION => {int(version)})"


def _has_table(con: duckdb.DuckDBPyConnection, name: str, version: int | None = None) -> bool:
    if version is None:
        found = con.execute(
            "SELECT 1 FROM duckdb_tables() WHERE database_name = 'lake' AND table_name = ?",
            [name],
        ).fetchone()
        return found is not None
    try:
        con.execute(f'SELECT 1 FROM lake."{name}"{_at(version)} LIMIT 0')
    except duckdb.CatalogException:
        return False
    return True


# -- what the copy and the lake hold ------------------------------------------------------


def _local_days(root: Path) -> dict[tuple[str, date], str]:
    """(table, day) -> sha256 of the day's part file, from the working copy's manifests."""
    out = {}
    for name in TABLES:
        for day in store.snapshot_dates(root, name):
            manifest = store.read_manifest(root, name, day)
            out[(name, day)] = manifest["files"][0]["sha256"]
    return out


def _state_file(root: Path) -> Path:
    return Path(root) / ".lake" / "pulled.json"


def _baseline(root: Path) -> tuple[int | None, dict[tuple[str, date], str]]:
    """The lake version last pulled into (or published from) the copy, and each day's sha256
    as the copy held it then: what the copy changed since is what :func:`publish` sends."""
    try:
        state = json.loads(_state_file(root).read_text())
    except FileNotFoundError:
        return None, {}
    days = {
        (table, date.fromisoformat(day)): sha
        for table, by_day in state["days"].items()
        for day, sha in by_day.items()
    }
    return state.get("version"), days


def _save_baseline(root: Path, version: int | None, days: dict[tuple[str, date], str]) -> None:
    by_table: dict[str, dict[str, str]] = {}
    for (table, day), sha in sorted(days.items()):
        by_table.setdefault(table, {})[day.isoformat()] = sha
    path = _state_file(root)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"pulled.{uuid.uuid4().hex[:8]}.tmp")
    tmp.write_text(json.dumps({"version": version, "days": by_table}, indent=1))
    os.replace(tmp, path)


def lake_days(root: Path, version: int | None = None) -> pl.DataFrame:
    """The days the lake holds (at ``version``; default the latest): one row per table and
    day, columns table (str), snapshot_date (date), rows (int64), sha256 (str, of the part the
    publisher wrote), run_id (str)."""

    def days() -> pl.DataFrame:
        with _connected(root) as con:
            return _lake_days(con, version)

    return _retried(days)


_DAYS_SCHEMA = {
    "table": pl.String,
    "snapshot_date": pl.Date,
    "rows": pl.Int64,
    "sha256": pl.String,
    "run_id": pl.String,
}


def _lake_days(con, version: int | None) -> pl.DataFrame:
    schema = _DAYS_SCHEMA
    if not _has_table(con, MANIFESTS, version):
        return pl.DataFrame(schema=schema)
    rows = con.execute(
        f"SELECT table_name, snapshot_date, rows, sha256, run_id FROM lake.{MANIFESTS}"
        f"{_at(version)} ORDER BY 1, 2"
    ).fetchall()
    return pl.DataFrame(rows, schema=schema, orient="row")


# -- publish --------------------------------------------------------------------------------


@dataclass(frozen=True)
class PublishResult:
    """What :func:`publish` committed: the lake ``version`` made (None if nothing changed), the
    ``days`` sent as (table, day), and the ``attempts`` it took (conflicts are retried)."""

    version: int | None
    days: list[tuple[str, date]]
    attempts: int


def _is_conflict(exc: BaseException) -> bool:
    text = str(exc).lower()
    return isinstance(exc, duckdb.Error) and any(
        word in text for word in ("conflict", "could not commit", "database is locked", "busy")
    )


def _retrying() -> tenacity.Retrying:
    """Retries of a lake operation that met another writer (a commit conflict, a busy SQLite
    catalog): up to 8 attempts, random exponential wait; other errors are raised at once."""
    return tenacity.Retrying(
        retry=tenacity.retry_if_exception(_is_conflict),
        stop=tenacity.stop_after_attempt(8),
        wait=tenacity.wait_random_exponential(multiplier=0.05, max=2),
        reraise=True,
    )


def _retried(fn):
    """Call ``fn()`` under :func:`_retrying` (readers of a catalog another process writes)."""
    for attempt in _retrying():
        with attempt:
            return fn()
    raise AssertionError("unreachable: tenacity reraises")  # pragma: no cover


def publish(root: Path, *, message: str = "publish") -> PublishResult:
    """Commit every day the working copy changed since its last pull or publish to the lake,
    in **one** DuckLake commit (every table and day, with their manifests), retrying on a
    commit conflict with another writer (up to 8 attempts, random exponential wait).

    Holds the copy's writer lock (:func:`stockroom.store.writing`) throughout. Raises
    :class:`ConfigError` for a plain local root and the DuckDB error when the lake cannot be
    reached or the conflict persists; in both cases the lake is unchanged.
    """
    with store.writing(root):
        version, base = _baseline(root)
        local = _local_days(root)
        changed = sorted(k for k, sha in local.items() if base.get(k) != sha)
        if not changed:
            return PublishResult(None, [], 0)
        attempts = 0
        with _connected(root) as con:
            for attempt in _retrying():
                with attempt:
                    attempts += 1
                    version = _commit(con, root, changed, message)
        base.update({k: local[k] for k in changed})
        _save_baseline(root, version, base)
        return PublishResult(version, changed, attempts)


def _commit(con, root: Path, changed: list[tuple[str, date]], message: str) -> int:
    by_table: dict[str, list[date]] = {}
    for table, day in changed:
        by_table.setdefault(table, []).append(day)
    commit_id = uuid.uuid4().hex
    manifests = []
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(
            f"CREATE TABLE IF NOT EXISTS lake.{MANIFESTS} (table_name VARCHAR, "
            "snapshot_date DATE, rows BIGINT, sha256 VARCHAR, run_id VARCHAR, manifest VARCHAR)"
        )
        for table, days in by_table.items():
            parts = [str(store.partition_dir(root, table, d) / store.PART_FILE) for d in days]
            source = f"read_parquet({_sql_list(parts)}, hive_partitioning = true)"
            con.execute(
                f'CREATE TABLE IF NOT EXISTS lake."{table}" AS SELECT * FROM {source} LIMIT 0'
            )
            con.execute(f'ALTER TABLE lake."{table}" SET PARTITIONED BY (snapshot_date)')
            # an IN list of date literals: DuckLake prunes the files by their snapshot_date
            # statistics, so a new day reads nothing and a replaced one only its own file
            day_list = _day_in(days)
            con.execute(f'DELETE FROM lake."{table}" WHERE snapshot_date IN {day_list}')
            con.execute(f'INSERT INTO lake."{table}" BY NAME SELECT * FROM {source}')
            con.execute(
                f"DELETE FROM lake.{MANIFESTS} WHERE table_name = ? "
                f"AND snapshot_date IN {day_list}",
                [table],
            )
            for day in days:
                manifest = store.read_manifest(root, table, day)
                manifests.append(
                    [
                        table,
                        day,
                        manifest["rows"],
                        manifest["files"][0]["sha256"],
                        manifest.get("run_id"),
                        json.dumps(manifest),
                    ]
                )
        con.executemany(f"INSERT INTO lake.{MANIFESTS} VALUES (?, ?, ?, ?, ?, ?)", manifests)
        record = {"commit_id": commit_id, "days": [[t, d.isoformat()] for t, d in changed]}
        con.execute(
            "CALL lake.set_commit_message('stockroom', ?, extra_info => ?)",
            [message, json.dumps(record)],
        )
        con.execute("COMMIT")
    except BaseException:
        try:
            con.execute("ROLLBACK")
        except duckdb.Error:
            pass
        raise
    return int(con.execute("FROM ducklake_last_committed_snapshot('lake')").fetchone()[0])


def _day_in(days: list[date]) -> str:
    """``(DATE '2026-11-30', ...)``: the days as an SQL IN list of date literals."""
    return "(" + ", ".join(f"DATE '{d.isoformat()}'" for d in days) + ")"


def _sql_list(values: list[str]) -> str:
    return "[" + ", ".join(_sql_str(v) for v in values) + "]"


# -- pull and read --------------------------------------------------------------------------


@dataclass(frozen=True)
class PullResult:
    """What :func:`pull` brought: the lake ``version`` read and the ``days`` written into the
    working copy as (table, day)."""

    version: int | None
    days: list[tuple[str, date]]


def _current_version(con) -> int:
    return int(con.execute("SELECT max(snapshot_id) FROM lake.snapshots()").fetchone()[0])


def pull(root: Path, *, version: int | None = None) -> PullResult:
    """Bring the lake's days (at ``version``; default the latest) into the working copy: each
    day the copy lacks or holds with another sha256 is written through the local store (one
    commit). Days the copy changed since its last pull or publish (not yet published) are kept
    as they are. Returns what was written. Raises :class:`ConfigError` for a plain local
    root."""
    with store.writing(root):
        return _retried(lambda: _pull(root, version))


def _pull(root: Path, version: int | None) -> PullResult:
    with _connected(root) as con:
        at = _current_version(con) if version is None else int(version)
        held = _lake_days(con, at)
        local = _local_days(root)
        _, base = _baseline(root)
        # a day this copy changed and has not published yet stays as it is (the next publish
        # sends it; the later commit wins, as a rerun of a day does in the local store)
        unpublished = {k for k, sha in local.items() if base.get(k) != sha}
        wanted = [
            (row["table"], row["snapshot_date"])
            for row in held.iter_rows(named=True)
            if local.get((row["table"], row["snapshot_date"])) != row["sha256"]
            and (row["table"], row["snapshot_date"]) not in unpublished
            and row["table"] in TABLES
        ]
        batches = []
        for table in sorted({t for t, _ in wanted}):
            days = [d for t, d in wanted if t == table]
            batches.append(store.Batch(get_table(table), _frames(con, table, days, at)))
        if batches:
            store.commit_all(root, batches, run_id=f"lake-pull-v{at}", sources=[])
        after = _local_days(root)
        for row in held.iter_rows(named=True):
            key = (row["table"], row["snapshot_date"])
            if key in after and key not in unpublished:
                base[key] = after[key]
        _save_baseline(root, at, base)
        return PullResult(at, wanted)


def _frames(con, table: str, days: list[date], version: int | None) -> dict[date, pl.DataFrame]:
    spec = get_table(table)
    frame = con.execute(
        f'SELECT * FROM lake."{table}"{_at(version)} WHERE snapshot_date IN {_day_in(days)}'
    ).pl()
    out = {}
    for day in days:
        part = frame.filter(pl.col("snapshot_date") == day).drop("snapshot_date")
        # the rows in the order they were published (DuckDB keeps a file's order in a scan):
        # the same frame, so the same Parquet bytes as the publisher's part file
        out[day] = part.select(spec.column_names).cast(dict(spec.polars_schema.items()))
    return out


def read(
    root: Path, table: str, as_of: date | None = None, *, version: int | None = None
) -> pl.DataFrame:
    """One day of ``table`` straight from the lake: the latest snapshot day on or before
    ``as_of`` (latest if None), as the lake held it at ``version`` (latest if None), in the
    table's canonical columns and dtypes. Raises :class:`SnapshotError` when there is no such
    day."""

    def one() -> pl.DataFrame:
        with _connected(root) as con:
            held = _lake_days(con, version).filter(pl.col("table") == table)
            if as_of is not None:
                held = held.filter(pl.col("snapshot_date") <= as_of)
            if held.is_empty():
                raise SnapshotError(f"the lake holds no {table} snapshot on or before {as_of}")
            day = held["snapshot_date"].max()
            return _frames(con, table, [day], version)[day]

    return _retried(one)


def files(root: Path, table: str, *, version: int | None = None) -> list[str]:
    """The Parquet data files making up ``table`` (at ``version``), hive-partitioned by
    ``snapshot_date``: hand them to polars (``storage_options()``), Dask, Spark or DuckDB.
    Only these files are the table: the folder may also hold replaced days' files kept for
    time travel, and a killed writer's unreferenced ones."""
    snapshot = "" if version is None else f", snapshot_version => {int(version)}"
    query = f"SELECT data_file FROM ducklake_list_files('lake', ?{snapshot}) ORDER BY 1"
    return [row[0] for row in _fetch(root, query, [table])]


def _fetch(root: Path, query: str, params: list | None = None) -> list[tuple]:
    """Rows of one query on the lake's catalog, retried while another process writes it."""

    def rows() -> list[tuple]:
        with _connected(root) as con:
            return con.execute(query, params or []).fetchall()

    return _retried(rows)


def versions(root: Path) -> pl.DataFrame:
    """The lake's commits, oldest first: version (int64), committed_at (datetime, UTC), message
    (str), days (int64: days the commit changed), tables (str: comma-separated)."""
    rows = _fetch(
        root,
        "SELECT snapshot_id, snapshot_time, commit_message, commit_extra_info "
        "FROM lake.snapshots() ORDER BY snapshot_id",
    )
    out = []
    for version, at, message, extra in rows:
        record = json.loads(extra) if extra else {}
        days = record.get("days", [])
        out.append((version, at, message, len(days), ", ".join(sorted({t for t, _ in days}))))
    return pl.DataFrame(
        out,
        schema={
            "version": pl.Int64,
            "committed_at": pl.Datetime("us", "UTC"),
            "message": pl.String,
            "days": pl.Int64,
            "tables": pl.String,
        },
        orient="row",
    )


def tidy(root: Path) -> int:
    """Delete data files no version references (a killed writer's uploads); returns how many.
    Old versions are kept (time travel); files of replaced days stay while a version needs
    them."""
    return len(_fetch(root, "FROM ducklake_delete_orphaned_files('lake', cleanup_all => true)"))
