"""Data health: are the sources landing? Success rate, freshness per source, the quarantine
(stockroom.health over the workbench database's job runs)."""

from pathlib import Path

import streamlit as st

from app_pages import _common
from stockroom import charts, health, workbench

root = Path(st.session_state.get("data_root") or _common.config.data_root())
eng = workbench.engine(root)
runs = workbench.runs(eng, limit=5_000)

st.title("Data health")
st.caption(f"Job runs recorded in {workbench.db_url(root).split('://', 1)[0]} workbench "
           f"database · success target {health.SUCCESS_TARGET:.0%}")
if not runs.height:
    st.info("No job runs recorded yet. Land data with `stockroom ingest olist` (or any "
            "`stockroom ingest ...` job), then reload.")
    st.stop()

rate = health.success_rate(runs)
sources = health.by_source(runs)
tiles = st.columns(4)
tiles[0].metric("Job success rate", "-" if rate is None else f"{rate:.1%}",
                help="Succeeded / finished runs (failed and crashed runs count against).")
tiles[1].metric("Runs", f"{runs.height:,}")
tiles[2].metric("Sources", f"{sources.height:,}")
tiles[3].metric("Rows quarantined", f"{runs['rows_quarantined'].sum():,}",
                help="Bad rows set aside with file, row, column, value and reason.")
if rate is not None and rate < health.SUCCESS_TARGET:
    st.warning(f"Success rate {rate:.1%} is below the {health.SUCCESS_TARGET:.0%} target: "
               "see the failed runs below.")

st.plotly_chart(charts.runs_per_day(health.daily(runs)), width="stretch")

st.subheader("Freshness per source")
_common.table_with_downloads(sources, name="source_health", column_config={
    "success_rate": st.column_config.NumberColumn("success rate", format="percent"),
    "freshness_h": st.column_config.NumberColumn("hours since last success", format="%.1f"),
})

st.subheader("Runs")
_common.table_with_downloads(runs.drop("run_id").with_columns(runs["run_id"]), name="job_runs",
                             column_config={"duration_s": st.column_config.NumberColumn(
                                 "seconds", format="%.1f")})

st.subheader("Quarantine")
bad = workbench.quarantined(eng, limit=2_000)
if bad.height:
    _common.table_with_downloads(bad, name="quarantine", column_config={},
                                 caption="Newest runs first; `record` holds the whole source "
                                         "row as JSON.")
else:
    st.success("Nothing quarantined.")
