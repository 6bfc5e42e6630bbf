"""The one place that registers DuckDB views over the snapshot store.

``connect(root, as_of)`` returns an in-memory DuckDB connection (session time zone UTC) with, for
every canonical table ``t``:

* ``t``          -- the table as known on ``as_of``: for ``state`` tables the latest snapshot
  on or before ``as_of``; for ``events`` tables every daily partition on or before ``as_of``.
  Columns are exactly the canonical ones (no ``snapshot_date``).
* ``t_history``  -- every snapshot, with its ``snapshot_date`` (DATE) column.

A table with no snapshot (yet) is an empty view with the canonical columns, so queries work on a
fresh data root. ``as_of=None`` means "latest".
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import polars as pl

from stockroom.store import PARTITION_PREFIX, resolve_as_of, snapshot_dates, table_dir
from stockroom.tables import TABLES, Table


def _quote(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


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


def connect(root: Path, as_of: date | None = None) -> duckdb.DuckDBPyConnection:
    """Open an in-memory DuckDB connection with one view per canonical table (see module doc)."""
    con = duckdb.connect(":memory:")
    con.execute("SET TimeZone = 'UTC'")
    for spec in TABLES.values():
        _register(con, root, spec, as_of)
    return con


def _register(con: duckdb.DuckDBPyConnection, root: Path, spec: Table, as_of: date | None) -> None:
    columns = ", ".join(f'"{c}"' for c in spec.column_names)
    if not snapshot_dates(root, spec.name):
        empty = spec.empty().with_columns(snapshot_date=pl.lit(None, pl.Date))
        con.register(f"_empty_{spec.name}", empty.to_arrow())
        con.execute(f"CREATE VIEW {spec.name}_history AS SELECT * FROM _empty_{spec.name}")
        con.execute(f"CREATE VIEW {spec.name} AS SELECT {columns} FROM _empty_{spec.name}")
        return
    glob = table_dir(root, spec.name) / f"{PARTITION_PREFIX}*" / "*.parquet"
    con.execute(
        f"CREATE VIEW _raw_{spec.name} AS SELECT * FROM read_parquet("
        f"{_quote(glob)}, hive_partitioning = true, union_by_name = true)"
    )
    # snapshots written before a column was added read it as NULL (additive schema evolution)
    have = {row[0] for row in con.execute(f"DESCRIBE _raw_{spec.name}").fetchall()}
    projection = ", ".join(
        f'"{c.name}"' if c.name in have else f'CAST(NULL AS {_duck_type(c.dtype)}) AS "{c.name}"'
        for c in spec.columns
    )
    con.execute(
        f"CREATE VIEW {spec.name}_history AS SELECT {projection}, snapshot_date "
        f"FROM _raw_{spec.name}"
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
    con.execute(
        f"CREATE VIEW {spec.name} AS SELECT {columns} FROM {spec.name}_history "
        f"WHERE snapshot_date = DATE '{resolved.isoformat()}'"
    )
