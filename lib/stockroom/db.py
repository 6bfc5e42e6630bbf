"""The one place that registers DuckDB views over the snapshot store.

``connect(root, as_of)`` returns an in-memory DuckDB connection (session time zone UTC) with, for
every canonical table ``t``:

* ``t``          -- the table as known on ``as_of``: for ``state`` tables the latest snapshot
  on or before ``as_of``; for ``events`` tables every daily partition on or before ``as_of``.
  Columns are exactly the canonical ones (no ``snapshot_date``).
* ``t_history``  -- every snapshot, with its ``snapshot_date`` (DATE) column.

A table with no snapshot (yet) is an empty view with the canonical columns, so queries work on a
fresh data root. With ``platform``, the tables of :data:`PLATFORM_TABLES` (orders, listings)
hold only that platform's rows, so every view over them answers for one platform.
``as_of=None`` means "latest". Events tables read their month files where they are valid and
the daily files elsewhere (:func:`stockroom.store.read_layout`).

``cached(root, as_of)`` is what the pages use: a cursor on one shared connection per
(data root, as-of), built once and rebuilt when :func:`stockroom.store.stamp` changes, with
DuckDB's Parquet metadata cache on, so a page reads the views and file footers once instead of
on every call.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from datetime import date
from pathlib import Path

import duckdb
import polars as pl

from stockroom.store import (
    PART_FILE,
    PARTITION_PREFIX,
    partition_dir,
    read_layout,
    recover,
    resolve_as_of,
    snapshot_dates,
    stamp,
    table_dir,
)
from stockroom.tables import TABLES, Table


def _quote(value: str | Path) -> str:
    """A SQL string literal of ``value`` (a path, a platform code)."""
    return "'" + str(value).replace("'", "''") + "'"


def _paths(paths: list[Path]) -> str:
    return "[" + ", ".join(_quote(p) for p in paths) + "]"


def _glob(root: Path, table: str) -> Path:
    return table_dir(root, table) / f"{PARTITION_PREFIX}*" / "*.parquet"


def _duck_type(dtype: pl.DataType) -> str:
    """DuckDB type for a canonical column's polars dtype."""
    if isinstance(dtype, pl.Datetime):
        return "TIMESTAMPTZ" if dtype.time_zone else "TIMESTAMP"
    return {
        pl.String: "VARCHAR",
        pl.Float64: "DOUBLE",
        pl.Int32: "INTEGER",
        pl.Int64: "BIGINT",
        pl.Date: "DATE",
        pl.Boolean: "BOOLEAN",
    }[dtype.base_type()]


#: Tables a platform-scoped connection (``connect(..., platform=...)``) filters.
PLATFORM_TABLES = ("orders", "listings")


def connect(
    root: Path, as_of: date | None = None, *, platform: str | None = None
) -> duckdb.DuckDBPyConnection:
    """Open an in-memory DuckDB connection with one view per canonical table (see module doc);
    with ``platform`` (a marketplace code, e.g. "ebay"), orders and listings of that platform
    only. A commit a killed writer left half done is completed first
    (:func:`stockroom.store.recover`, without waiting for a writer at work)."""
    recover(root, wait=False)
    con = duckdb.connect(":memory:")
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET enable_object_cache = true")  # Parquet footers read once per connection
    con.execute("CREATE TABLE _state_days (name VARCHAR, day DATE)")
    con.execute("CREATE TABLE _as_of AS SELECT ?::DATE AS day", [as_of])
    for spec in TABLES.values():
        _register(con, root, spec, as_of, platform if spec.name in PLATFORM_TABLES else None)
    _register_reporting(con, root, as_of)
    _register_mapping(con, root)
    return con


def view_day(con: duckdb.DuckDBPyConnection, table: str) -> date | None:
    """The snapshot day this connection's view ``table`` (a state table) reads; None when it
    reads none."""
    row = con.execute("SELECT day FROM _state_days WHERE name = ?", [table]).fetchone()
    return row[0] if row else None


def state_day(
    con: duckdb.DuckDBPyConnection, table: str, as_of: date | None = None
) -> tuple[bool, date | None]:
    """(known, day): whether this connection's view ``table`` (a state table) answers for
    ``as_of`` -- the connection was opened for that as-of date -- and if so the snapshot day
    it reads (the latest on or before it; None when there is none)."""
    opened = con.execute("SELECT day FROM _as_of").fetchone()[0]
    if opened != as_of:
        return False, None
    return True, view_day(con, table)


def _create(con: duckdb.DuckDBPyConnection, name: str, frame: pl.DataFrame) -> None:
    """A table of the connection's database (seen by every cursor) holding ``frame``."""
    con.register(f"_{name}_frame", frame.to_arrow())
    con.execute(f"CREATE TABLE {name} AS SELECT * FROM _{name}_frame")
    con.unregister(f"_{name}_frame")


def _workbench(root: Path):
    """The data root's workbench engine, or None when it has no database yet (a read never
    creates one)."""
    from stockroom import config, workbench

    url = config.db_url(root)
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
        return None
    return workbench.engine(root)


def analytics_stamp(root: Path) -> tuple:
    """What, besides the store's :func:`~stockroom.store.stamp`, changes the analytics views:
    the settings file (reporting currency, mapping on or off) and the workbench's audit
    version (every mapping decision is audited). Caches of views key on it."""
    from stockroom import workbench

    settings = Path(root) / "stockroom.toml"
    eng = _workbench(Path(root))
    return (
        settings.stat().st_mtime_ns if settings.exists() else None,
        workbench.audit_version(eng) if eng is not None else 0,
    )


def _register_mapping(con: duckdb.DuckDBPyConnection, root: Path) -> None:
    """Tables ``seller_map`` (``platform``, ``seller_id`` -> ``unified_id``: "seller:<key>",
    ``seller``: the Seller's name), ``sku_map`` (``platform``, ``external_sku`` ->
    ``product_sku``), from the applied (``auto`` or ``confirmed``) seller aliases and SKU
    mappings of the workbench database (:mod:`stockroom.mapping`), and ``analytics``
    (``mapping``: whether the data root applies them, ``use_mapping`` in ``stockroom.toml``,
    on by default). Empty without a database or with the mapping off."""
    from stockroom import sources

    seller_map = pl.DataFrame(
        schema={
            "platform": pl.String,
            "seller_id": pl.String,
            "unified_id": pl.String,
            "seller": pl.String,
        }
    )
    sku_map = pl.DataFrame(
        schema={"platform": pl.String, "external_sku": pl.String, "product_sku": pl.String}
    )
    use = sources.load(root).use_mapping
    eng = _workbench(root) if use else None
    if eng is not None:
        from stockroom.mapping import repo

        aliases = repo.seller_aliases_frame(eng)
        seller_map = aliases.filter(pl.col("status").is_in(["auto", "confirmed"])).select(
            "platform",
            "seller_id",
            unified_id=pl.lit("seller:") + pl.col("seller_key").cast(pl.String),
            seller="seller",
        )
        sku_map = repo.applied_mappings(eng)
    _create(con, "seller_map", seller_map)
    _create(con, "sku_map", sku_map)
    con.execute("CREATE TABLE analytics AS SELECT $use AS mapping", {"use": use})


def _register_reporting(con: duckdb.DuckDBPyConnection, root: Path, as_of: date | None) -> None:
    """Table ``reporting`` (one row: ``currency``, ``rates_to``, ``source``; all null without
    a reporting currency) and, with one, ``fx_factors`` (``day``, ``currency``, ``factor``:
    one unit of ``currency`` in the reporting currency on that ECB day), see
    :mod:`stockroom.fx`."""
    from stockroom import fx

    target = fx.reporting_currency(root)
    if target is None:
        con.execute(
            "CREATE TABLE reporting AS SELECT CAST(NULL AS VARCHAR) AS currency, "
            "CAST(NULL AS DATE) AS rates_to, CAST(NULL AS VARCHAR) AS source"
        )
        return
    frame, source = fx.rates(root, as_of)
    _create(con, "fx_factors", fx.factors(frame, target))
    con.execute(
        "CREATE TABLE reporting AS SELECT $currency AS currency, $rates_to AS rates_to, "
        "$source AS source",
        {"currency": target, "rates_to": frame["day"].max(), "source": source},
    )


def _register(
    con: duckdb.DuckDBPyConnection,
    root: Path,
    spec: Table,
    as_of: date | None,
    platform: str | None = None,
) -> None:
    columns = ", ".join(f'"{c}"' for c in spec.column_names)
    if not snapshot_dates(root, spec.name):
        # typed NULLs in SQL (not a registered frame: those are invisible to cursors)
        typed = ", ".join(
            f'CAST(NULL AS {_duck_type(c.dtype)}) AS "{c.name}"' for c in spec.columns
        )
        con.execute(
            f"CREATE VIEW {spec.name}_history AS "
            f"SELECT {typed}, CAST(NULL AS DATE) AS snapshot_date WHERE false"
        )
        con.execute(f"CREATE VIEW {spec.name} AS SELECT {columns} FROM {spec.name}_history")
        return
    if spec.kind == "events" or spec.compacted:
        layout = read_layout(root, spec.name)
        reads = []
        if layout.compacted:
            reads.append(
                f"SELECT * FROM read_parquet({_paths(layout.compacted)}, "
                "hive_partitioning = false, union_by_name = true)"
            )
        if layout.daily:
            reads.append(
                f"SELECT * FROM read_parquet({_paths(layout.daily)}, "
                "hive_partitioning = true, union_by_name = true)"
            )
        source = " UNION ALL BY NAME ".join(reads)
    else:
        source = (
            f"SELECT * FROM read_parquet({_quote(_glob(root, spec.name))}, "
            "hive_partitioning = true, union_by_name = true)"
        )
    con.execute(f"CREATE VIEW _raw_{spec.name} AS {source}")
    # snapshots written before a column was added read it as NULL (additive schema evolution)
    have = {row[0] for row in con.execute(f"DESCRIBE _raw_{spec.name}").fetchall()}
    projection = ", ".join(
        f'"{c.name}"' if c.name in have else f'CAST(NULL AS {_duck_type(c.dtype)}) AS "{c.name}"'
        for c in spec.columns
    )
    only = "" if platform is None else " WHERE platform = " + _quote(platform)
    con.execute(
        f"CREATE VIEW {spec.name}_history AS SELECT {projection}, snapshot_date "
        f"FROM _raw_{spec.name}{only}"
    )
    if spec.kind == "events":
        cut = "" if as_of is None else f" WHERE snapshot_date <= DATE '{as_of.isoformat()}'"
        con.execute(f"CREATE VIEW {spec.name} AS SELECT {columns} FROM {spec.name}_history{cut}")
        return
    resolved = resolve_as_of(root, spec.name, as_of)
    if resolved is None:  # every snapshot is after as_of: nothing was known yet
        con.execute(
            f"CREATE VIEW {spec.name} AS SELECT {columns} FROM {spec.name}_history WHERE false"
        )
        return
    # the day's own file, not the history filtered by date: reading a folder of a year of
    # days with union_by_name opens every footer on each query (50-90 ms over 365 days)
    day_file = partition_dir(root, spec.name, resolved) / PART_FILE
    present = {
        r[0]
        for r in con.execute(f"DESCRIBE SELECT * FROM read_parquet({_quote(day_file)})").fetchall()
    }
    day_projection = ", ".join(
        f'"{c.name}"' if c.name in present else f'CAST(NULL AS {_duck_type(c.dtype)}) AS "{c.name}"'
        for c in spec.columns
    )
    con.execute(
        f"CREATE VIEW {spec.name} AS SELECT {day_projection} "
        f"FROM read_parquet({_quote(day_file)}){only}"
    )
    con.execute("INSERT INTO _state_days VALUES (?, ?)", [spec.name, resolved])


_CACHE_SIZE = 8
_cache: OrderedDict[tuple[str, date | None, str | None], tuple[str, duckdb.DuckDBPyConnection]] = (
    OrderedDict()
)
_cache_lock = threading.Lock()


def cached(
    root: Path, as_of: date | None = None, *, platform: str | None = None
) -> duckdb.DuckDBPyConnection:
    """A cursor (a connection of its own, safe to use from one thread) on the shared connection
    of ``(root, as_of, platform)``: the views of :func:`connect`, built once and rebuilt when
    the store's :func:`~stockroom.store.stamp` changes. The :data:`_CACHE_SIZE` most recently used
    connections are kept. Close the cursor or let it go; the shared connection stays."""
    key = (str(Path(root).resolve()), as_of, platform)
    current = (stamp(Path(root)), analytics_stamp(Path(root)))
    with _cache_lock:
        entry = _cache.get(key)
        if entry is None or entry[0] != current:
            entry = (current, connect(Path(root), as_of, platform=platform))
            _cache[key] = entry
        _cache.move_to_end(key)
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
        return entry[1].cursor()
