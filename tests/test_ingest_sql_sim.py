"""SQL databases by watermark (SQLite; PostgreSQL when one can run), the simulator, the run
record and a kill -9 in the middle of a run."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
import pytest
import sqlalchemy as sa

from stockroom import health, store, workbench
from stockroom.config import PROJECT_ROOT
from stockroom.db import connect
from stockroom.ingest import sql
from stockroom.sim.marketplace import SimConfig, simulate
from stockroom_jobs.ingest import ingest_simulation, ingest_sql
from tests.test_ingest_files import DAY

ROWS = [
    (f"i{i}", "shopify", "me", f"S{i}", i, 1.5 * i, None, f"2024-06-0{1 + i % 3} 10:00:00")
    for i in range(10)
]
DDL = (
    "CREATE TABLE inventory (item_id VARCHAR(20) PRIMARY KEY, platform VARCHAR(20), "
    "seller VARCHAR(20), sku VARCHAR(20), qty INTEGER, price FLOAT, notes TEXT, "
    "updated_at VARCHAR(19))"
)


def seed(url: str) -> sa.Engine:
    eng = sa.create_engine(url)
    with eng.begin() as conn:
        conn.execute(sa.text("DROP TABLE IF EXISTS inventory"))
        conn.execute(sa.text(DDL))
        conn.execute(
            sa.text("INSERT INTO inventory VALUES (:a,:b,:c,:d,:e,:f,:g,:h)"),
            [dict(zip("abcdefgh", r, strict=True)) for r in ROWS],
        )
    return eng


def incremental_pulls(url: str, root: Path) -> None:
    eng = seed(url)
    first = ingest_sql(url, root, table="inventory", snapshot_date=DAY)
    assert (first.rows_read, first.rows_landed) == (10, 10)
    with eng.begin() as conn:
        conn.execute(
            sa.text(
                "UPDATE inventory SET qty = 99, updated_at = '2024-06-05 00:00:00' "
                "WHERE item_id = 'i3'"
            )
        )
        conn.execute(
            sa.text(
                "INSERT INTO inventory VALUES ('i10', 'shopify', 'me', 'S10', 1, "
                "2.0, NULL, '2024-06-05 00:00:00')"
            )
        )
    second = ingest_sql(url, root, table="inventory", snapshot_date=DAY)
    assert second.rows_read == 2  # only what changed
    landed = store.read_snapshot(root, "listings", DAY)
    assert landed.height == 11
    assert landed.filter(pl.col("listing_id") == "i3")["quantity"].item() == 99
    third = ingest_sql(url, root, table="inventory", snapshot_date=DAY)
    assert third.rows_read == 0
    assert (
        workbench.get_watermark(workbench.engine(root), f"{sql.safe_url(url)}#inventory#updated_at")
        == "2024-06-05 00:00:00"
    )


def test_sqlite_incremental_by_watermark(tmp_path):
    incremental_pulls(f"sqlite:///{tmp_path / 'shop.db'}", tmp_path / "root")


def test_sql_query_bad_rows_and_password_masking(tmp_path):
    db = tmp_path / "shop.db"
    seed(f"sqlite:///{db}")
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE inventory SET qty = -1 WHERE item_id = 'i4'")
    run = ingest_sql(
        f"sqlite:///{db}",
        tmp_path / "root",
        snapshot_date=DAY,
        query="SELECT item_id, platform, seller, sku, qty, price, updated_at "
        "FROM inventory WHERE platform = 'shopify'",
        max_bad_share=0.2,
    )
    assert (run.rows_landed, run.rows_quarantined) == (9, 1)
    bad = workbench.quarantined(workbench.engine(tmp_path / "root"), run.run_id)
    assert bad.select("column", "value").row(0) == ("qty", "-1")
    assert (
        sql.safe_url("postgresql+psycopg://app:hunter2@db/shop")
        == "postgresql+psycopg://app:***@db/shop"
    )
    with pytest.raises(Exception, match="no column 'changed_at'"):
        ingest_sql(
            f"sqlite:///{db}", tmp_path / "root", table="inventory", watermark_column="changed_at"
        )


def test_postgresql_incremental_by_watermark(postgres, tmp_path):
    incremental_pulls(postgres, tmp_path / "root")


# -- simulator ------------------------------------------------------------------------------


def test_simulator_is_seeded_and_consistent():
    config = SimConfig(listings=5_000, sellers=60, days=3)
    a, b = simulate(config), simulate(config)
    days_a, days_b = list(a.days()), list(b.days())
    for x, y in zip(days_a, days_b, strict=True):
        assert x.listings.equals(y.listings) and x.orders.equals(y.orders)
    assert not days_a[0].orders.equals(
        next(simulate(SimConfig(listings=5_000, sellers=60, days=1, seed=8)).days()).orders
    )
    truth = a.seller_truth
    multi = (
        truth.group_by("seller_key").agg(pl.col("seller_name"), pl.len()).filter(pl.col("len") > 1)
    )
    assert multi.height > 10
    assert all(len(set(names)) == len(names) for names in multi["seller_name"])  # spelt apart
    # every listing of an item shows the item's stock; sales move stock down
    first, last = days_a[0], days_a[-1]
    assert last.stock["on_hand"].sum() < first.stock["on_hand"].sum() + 1_000
    assert sum(d.orders["quantity"].sum() for d in days_a) > 0
    assert set(first.listings["platform"]) == {"ebay", "blokpax", "shootstrayt"}
    ss = first.listings.filter(pl.col("platform") == "shootstrayt")
    assert ss["sku"].str.contains(r"^[A-Z0-9]+-[A-Z0-9]+-[A-Z0-9]+-[A-Z0-9]+-[A-Z0-9]+$").all()


def test_simulation_lands_every_table(tmp_path):
    run = ingest_simulation(tmp_path, SimConfig(listings=4_000, sellers=40, days=2))
    assert run.rows_quarantined == 0
    con = connect(tmp_path)
    for table in ("listings", "stock", "orders", "sellers", "products"):
        assert con.execute(f"SELECT count(*) FROM {table}").fetchone()[0] > 0, table
    assert (tmp_path / "sim" / "seller_truth.parquet").is_file()


# -- the run record and a crash ----------------------------------------------------------------


def test_kill_9_mid_run_leaves_earlier_snapshots_intact(tmp_path):
    root = tmp_path / "root"
    small = ["--listings", "2000", "--sellers", "20"]
    cli = [
        sys.executable,
        "-m",
        "stockroom_jobs.cli",
        "ingest",
        "simulate",
        "--data-root",
        str(root),
    ]
    subprocess.run([*cli, *small, "--days", "2"], check=True, capture_output=True, cwd=PROJECT_ROOT)
    before = {p: store.file_sha256(p) for p in (root / "snapshots").rglob("*") if p.is_file()}
    # a long run over the same days (a new seed rewrites them) and beyond: kill it mid-way
    proc = subprocess.Popen(
        [*cli, "--listings", "300000", "--sellers", "500", "--days", "30", "--seed", "9"],
        cwd=PROJECT_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    listings = root / "snapshots" / "listings"
    deadline = time.monotonic() + 120
    while len(list(listings.iterdir())) < 4 and time.monotonic() < deadline:
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    # every snapshot on disk is whole: a manifest and a Parquet file with its rows and sha256
    for table_dir in (root / "snapshots").iterdir():
        for part in table_dir.iterdir():
            manifest = store.read_manifest(root, table_dir.name, _date(part))
            frame = pl.read_parquet(part / store.PART_FILE)
            assert frame.height == manifest["rows"]
            assert store.file_sha256(part / store.PART_FILE) == manifest["files"][0]["sha256"]
    # the sellers and catalog the killed run rewrote first are readable; nothing else vanished
    assert all(p.exists() for p in before)
    runs = workbench.runs(workbench.engine(root))
    assert runs["status"].to_list() == ["crashed", "succeeded"]
    assert health.success_rate(runs) == 0.5
    connect(root).execute("SELECT count(*) FROM listings").fetchone()


def _date(part: Path):
    from datetime import date

    return date.fromisoformat(part.name.split("=", 1)[1])
