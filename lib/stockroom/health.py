"""Data health: job success rate and freshness per source, from the workbench's ``job_runs``.

Definitions (used by the *Data health* page, ``stockroom runs`` and the closing notes):

* **success rate** (share 0-1) = succeeded runs / finished runs (succeeded + failed +
  crashed); runs still ``running`` are not counted. Target from the brief: >= 0.98.
* **freshness** (hours) = now - the last *succeeded* run of that job and source.
* **days behind** (days) = the as-of date - the latest snapshot of a table on or before it:
  what the pages read at that date (:func:`snapshots_as_of`).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl
import sqlalchemy as sa

from stockroom import store
from stockroom.tables import TABLES

SUCCESS_TARGET = 0.98


def success_rate(runs: pl.DataFrame) -> float | None:
    """Succeeded / finished runs (0-1), None when no run has finished. Input: ``workbench.runs``."""
    finished = runs.filter(pl.col("status") != "running")
    if not finished.height:
        return None
    return finished.filter(pl.col("status") == "succeeded").height / finished.height


def by_source(runs: pl.DataFrame, now: datetime | None = None) -> pl.DataFrame:
    """One row per (job, source): last_status (str), freshness_h (float hours since the last
    success; null if none), success_rate (float 0-1), runs (int), failed (int, failed +
    crashed), last_run, last_success (datetime UTC), last_error (str). Stalest first."""
    now = now or datetime.now(UTC)
    if not runs.height:
        return pl.DataFrame(
            schema={
                "job": pl.String,
                "source": pl.String,
                "last_status": pl.String,
                "freshness_h": pl.Float64,
                "success_rate": pl.Float64,
                "runs": pl.UInt32,
                "failed": pl.UInt32,
                "last_run": pl.Datetime("us", "UTC"),
                "last_success": pl.Datetime("us", "UTC"),
                "last_error": pl.String,
            }
        )
    ordered = runs.sort("started_at")
    finished = pl.col("status") != "running"
    return (
        ordered.group_by("job", "source")
        .agg(
            pl.len().alias("runs"),
            pl.col("status").is_in(["failed", "crashed"]).sum().alias("failed"),
            ((pl.col("status") == "succeeded").sum() / finished.sum()).alias("success_rate"),
            pl.col("started_at").max().alias("last_run"),
            pl.col("finished_at")
            .filter(pl.col("status") == "succeeded")
            .max()
            .alias("last_success"),
            pl.col("status").last().alias("last_status"),
            pl.col("error").last().alias("last_error"),
        )
        .with_columns(
            ((pl.lit(now) - pl.col("last_success")).dt.total_seconds() / 3600).alias("freshness_h"),
        )
        .sort("freshness_h", descending=True, nulls_last=False)
        .select(
            "job",
            "source",
            "last_status",
            "freshness_h",
            "success_rate",
            "runs",
            "failed",
            "last_run",
            "last_success",
            "last_error",
        )
    )


def daily(runs: pl.DataFrame) -> pl.DataFrame:
    """Runs per UTC day and status: day (date), status (str), runs (int)."""
    return (
        runs.group_by(pl.col("started_at").dt.date().alias("day"), "status")
        .agg(pl.len().alias("runs"))
        .sort("day", "status")
    )


def snapshots_as_of(root: Path, as_of: date) -> pl.DataFrame:
    """What every page reads at ``as_of``: one row per table of :data:`stockroom.tables.TABLES`
    with table, kind (``state``: the latest snapshot <= as_of is the picture; ``events``: every
    partition <= as_of), snapshot (Date, the latest snapshot <= as_of; null = none yet),
    days_behind (int days from that snapshot to ``as_of``), partitions (int, snapshots <=
    as_of), rows (int, of that snapshot), run_id (str, the run that landed it) and written_at
    (datetime UTC). Tables with no snapshot at all are left out. Read from the manifests (a
    plain file listing; no Parquet is opened)."""
    rows = []
    for name, spec in TABLES.items():
        dates = store.snapshot_dates(root, name)
        if not dates:
            continue
        upto = [d for d in dates if d <= as_of]
        manifest = store.read_manifest(root, name, upto[-1]) if upto else {}
        written = manifest.get("written_at")
        rows.append(
            {
                "table": name,
                "kind": spec.kind,
                "snapshot": upto[-1] if upto else None,
                "days_behind": (as_of - upto[-1]).days if upto else None,
                "partitions": len(upto),
                "rows": manifest.get("rows"),
                "run_id": manifest.get("run_id"),
                "written_at": datetime.fromisoformat(written) if written else None,
            }
        )
    return pl.DataFrame(
        rows,
        schema={
            "table": pl.String,
            "kind": pl.String,
            "snapshot": pl.Date,
            "days_behind": pl.Int64,
            "partitions": pl.Int64,
            "rows": pl.Int64,
            "run_id": pl.String,
            "written_at": pl.Datetime("us", "UTC"),
        },
    )


# -- the daily run's steps (stockroom daily) ------------------------------------------------------


def steps_of(eng: sa.Engine, day: date | None = None) -> list[dict]:
    """The recorded steps of ``day`` (default: the latest day with any), in step order."""
    from stockroom import workbench
    from stockroom.sources import STEPS

    table = workbench.daily_steps
    with eng.connect() as conn:
        if day is None:
            day = conn.execute(sa.select(sa.func.max(table.c.day))).scalar()
            if day is None:
                return []
        rows = [dict(r._mapping) for r in conn.execute(sa.select(table).where(table.c.day == day))]
    return sorted(rows, key=lambda r: STEPS.index(r["step"]) if r["step"] in STEPS else 99)


def freshness(root: Path) -> dict:
    """For the pages: the latest daily day, each step's status and finish time, and whether
    the results shown are stale (a step failed or was skipped on the latest day)."""
    from stockroom import workbench

    eng = workbench.engine(root)
    rows = steps_of(eng)
    if not rows:
        return {"day": None, "steps": [], "stale": False}
    stale = any(r["status"] in ("failed", "skipped") for r in rows)
    return {"day": rows[0]["day"], "steps": rows, "stale": stale}
