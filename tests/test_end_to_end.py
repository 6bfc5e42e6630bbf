"""Raw files -> CLI ingest -> CLI report -> page, checked against an independent computation."""

from __future__ import annotations

import os
import subprocess
import sys

import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from stockroom.config import PROJECT_ROOT, bundled_olist_dir


def stockroom(*args: str, root) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "stockroom_jobs.cli", *args],
        cwd=PROJECT_ROOT,
        env=dict(os.environ, STOCKROOM_DATA_ROOT=str(root)),
        capture_output=True,
        text=True,
        timeout=600,
    )


def independent_hhi_cr4() -> tuple[float, float]:
    """HHI and CR4 of the whole sample straight from the raw Parquet, without lib."""
    raw = bundled_olist_dir()
    items = pl.read_parquet(raw / "order_items_sample.parquet")
    orders = pl.read_parquet(raw / "orders_sample.parquet")
    revenue = (
        items.join(orders, on="order_id")
        .filter(~pl.col("order_status").is_in(["canceled", "unavailable"]))
        .group_by("seller_id")
        .agg(pl.col("price").sum())
    )
    shares = (revenue["price"] / revenue["price"].sum()).sort(descending=True)
    return float(((shares * 100) ** 2).sum()), float(shares.head(4).sum())


def test_raw_files_to_page(tmp_path, monkeypatch):
    ingest = stockroom("ingest", "olist", root=tmp_path)
    assert ingest.returncode == 0, ingest.stderr
    assert "orders: 26,109 rows" in ingest.stderr
    report = stockroom("report", "seller_concentration", "--all-history", root=tmp_path)
    assert report.returncode == 0, report.stderr
    hhi, cr4 = independent_hhi_cr4()
    html = (tmp_path / "reports" / "seller_concentration-2018-08-29-all.html").read_text()
    assert f"{hhi:,.0f}" in html and f"{cr4:.1%}" in html

    monkeypatch.setenv("STOCKROOM_DATA_ROOT", str(tmp_path))
    at = AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=120).run()
    at.sidebar.selectbox[0].select("All history").run()
    assert not at.exception
    shown = {m.label: m.value for m in at.metric}
    assert shown["HHI, pooled"] == f"{hhi:,.0f}"
    assert shown["CR4, pooled"] == f"{cr4:.1%}"


def test_cli_help_names_every_job():
    proc = subprocess.run(
        [sys.executable, "-m", "stockroom_jobs.cli", "--help"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0
    for command in ("ingest", "report", "serve", "snapshots"):
        assert command in proc.stdout


@pytest.mark.parametrize(
    "args,needle",
    [
        (("report", "nope"), "unknown report 'nope'"),
        (("ingest", "olist", "/no/such/folder"), "folder: directory not found"),
    ],
)
def test_cli_failures_exit_non_zero_with_one_line(tmp_path, args, needle):
    (tmp_path / "snapshots").mkdir()  # a data root (reading commands refuse a folder without)
    proc = stockroom(*args, root=tmp_path)
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines()[-1].startswith("stockroom: error:")
    assert needle in proc.stderr and "Traceback" not in proc.stderr
