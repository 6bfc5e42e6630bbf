"""Data health: are the sources landing? Success rate, freshness per source, the quarantine
(stockroom.health over the workbench database's job runs)."""

from pathlib import Path

import polars as pl
import streamlit as st

from app_pages import _common, _data
from stockroom import charts, health, workbench

f = _common.filters(need_orders=False)
root = Path(f.data_root)
runs = _data.job_runs(f)

st.title("Data health")
st.caption(
    f"Job runs recorded in {workbench.db_url(root).split('://', 1)[0]} workbench "
    f"database (wall-clock time) · snapshots as read on the as-of date {f.as_of} · success "
    f"target {health.SUCCESS_TARGET:.0%}"
)
if not runs.height:
    st.info(
        "No job runs recorded yet. Land data with `stockroom ingest olist` (or any "
        "`stockroom ingest ...` job), then reload."
    )
    st.stop()

rate = health.success_rate(runs)
sources = _data.source_health(runs)
tiles = st.columns(5)
tiles[0].metric(
    "Job success rate",
    "-" if rate is None else f"{rate:.1%}",
    help="Succeeded / finished runs (failed and crashed runs count against).",
)
tiles[1].metric("Runs", f"{runs.height:,}")
tiles[2].metric("Sources", f"{sources.height:,}")
tiles[3].metric(
    "Rows quarantined",
    f"{runs['rows_quarantined'].sum():,}",
    help="Bad rows set aside with file, row, column, value and reason.",
)
causes = (
    runs.filter(pl.col("retries") > 0)
    .select(pl.col("retry_causes").str.split(", "))
    .explode("retry_causes", empty_as_null=True)
    .group_by("retry_causes")
    .len()
    .sort("len", descending=True)
)
tiles[4].metric(
    "Requests retried",
    f"{int(runs['retries'].sum()):,}",
    help="Requests to sources that were retried (rate limits, server errors, timeouts, "
    "truncated bodies), by cause: "
    + (", ".join(causes["retry_causes"].to_list()) if causes.height else "none"),
)
warned = runs.filter(pl.col("warnings").is_not_null())
if warned.height:
    st.info(
        f"{warned.height:,} run(s) left warnings, the newest: "
        f"{warned['job'][0]} at {warned['started_at'][0]:%Y-%m-%d %H:%M} UTC: "
        f"{warned['warnings'][0].splitlines()[0]}"
    )
if rate is not None and rate < health.SUCCESS_TARGET:
    st.warning(
        f"Success rate {rate:.1%} is below the {health.SUCCESS_TARGET:.0%} target: "
        "see the failed runs below."
    )

st.plotly_chart(charts.runs_per_day(health.daily(runs)), width="stretch")

st.subheader(f"Snapshots read on {f.as_of}")
st.caption(
    "What every page reads at the sidebar's as-of date: per table the latest snapshot on or "
    "before it, how many days behind that date it is, and the run that landed it."
)
_common.table_with_downloads(
    _data.snapshots_as_of(f),
    name=f"snapshots_as_of_{f.as_of}",
    column_config={
        "snapshot": st.column_config.DateColumn("snapshot read"),
        "days_behind": st.column_config.NumberColumn("days behind as-of", format="%d"),
        "written_at": st.column_config.DatetimeColumn("landed at (UTC)"),
        "rows": st.column_config.NumberColumn("rows", format="localized"),
    },
)

st.subheader("Freshness per source")
_common.table_with_downloads(
    sources,
    name="source_health",
    column_config={
        "success_rate": st.column_config.NumberColumn("success rate", format="percent"),
        "freshness_h": st.column_config.NumberColumn("hours since last success", format="%.1f"),
    },
)

st.subheader("Runs")
_common.table_with_downloads(
    runs.select(
        "job",
        "status",
        "started_at",
        "duration_s",
        "rows_landed",
        "rows_quarantined",
        "snapshots",
        "retry_causes",
        "warnings",
        "error",
        "rows_read",
        "source",
        "finished_at",
        "run_id",
    ),
    name="job_runs",
    column_config={
        "duration_s": st.column_config.NumberColumn("seconds", format="%.1f"),
        "started_at": st.column_config.DatetimeColumn("started (UTC)"),
        "rows_landed": st.column_config.NumberColumn("landed", format="localized"),
        "rows_quarantined": st.column_config.NumberColumn("quarantined", format="localized"),
        "retry_causes": st.column_config.TextColumn("retried requests"),
    },
)

st.subheader("Quarantine")
bad = _data.quarantine(f)
if bad.height:
    _common.table_with_downloads(
        bad,
        name="quarantine",
        column_config={},
        caption="Newest runs first; `record` holds the whole source row as JSON.",
    )
else:
    st.success("Nothing quarantined.")
