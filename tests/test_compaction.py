"""Events tables are read from month files where they are still valid, from the daily snapshots
elsewhere; the daily snapshots stay the truth. The pages' shared DuckDB connection refreshes
when the store changes."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from datetime import date, timedelta

import polars as pl
import polars.testing
import pytest

from stockroom import store
from stockroom.db import cached, connect
from stockroom.errors import SnapshotError
from tests.conftest import land_orders, order_lines

DAYS = [date(2024, 1, 30) + timedelta(days=i) for i in range(6)]  # Jan 30 .. Feb 4


def _orders(con) -> pl.DataFrame:
    return con.execute(
        "SELECT order_id, sku, quantity, snapshot_date FROM orders_history ORDER BY order_id"
    ).pl()


@pytest.fixture
def root(tmp_path):
    rows = [(d, f"o{i}", "s1", "A", i + 1, 10.0) for i, d in enumerate(DAYS)]
    land_orders(tmp_path, rows)
    return tmp_path


def test_commit_compacts_each_month_and_reads_match_the_daily_files(root):
    layout = store.read_layout(root, "orders")
    assert [p.parent.name for p in layout.compacted] == ["month=2024-01", "month=2024-02"]
    assert layout.daily == []
    compacted = _orders(connect(root))
    shutil.rmtree(root / "compacted")  # a derived cache: without it the same rows are read
    assert store.read_layout(root, "orders").compacted == []
    assert len(store.read_layout(root, "orders").daily) == len(DAYS)
    pl.testing.assert_frame_equal(_orders(connect(root)), compacted)
    assert compacted["quantity"].to_list() == [1, 2, 3, 4, 5, 6]
    assert compacted["snapshot_date"].to_list() == DAYS


def test_replacing_one_day_is_seen_at_once_and_recompacted(root):
    day = DAYS[3]  # Feb 2
    store.write_snapshot(
        root,
        "orders",
        order_lines([(day, "o3", "s1", "A", 99, 10.0)]),
        day,
        run_id="r2",
        sources=[],
    )
    assert _orders(connect(root)).filter(pl.col("order_id") == "o3")["quantity"].item() == 99
    assert len(store.read_layout(root, "orders").compacted) == 2  # commit rebuilt February


def test_a_stale_month_file_is_never_read(root):
    # a day changes behind the month file's back (here: removed by hand): February is read
    # from its daily files, January still from its month file
    shutil.rmtree(store.partition_dir(root, "orders", DAYS[-1]))
    layout = store.read_layout(root, "orders")
    assert [p.parent.name for p in layout.compacted] == ["month=2024-01"]
    assert len(layout.daily) == 3  # Feb 1-3
    seen = _orders(connect(root))
    assert "o5" not in seen["order_id"].to_list()
    assert seen.height == len(DAYS) - 1
    assert store.compact(root, "orders") == [date(2024, 2, 1)]
    assert store.compact(root, "orders") == []  # nothing changed since
    pl.testing.assert_frame_equal(_orders(connect(root)), seen)


def test_as_of_cuts_inside_a_month_file(root):
    con = connect(root, DAYS[2])
    assert con.execute("SELECT count(*) FROM orders").fetchone()[0] == 3


def test_state_tables_are_not_compacted(root):
    with pytest.raises(SnapshotError, match="state table"):
        store.compact(root, "products")


def test_cached_connection_refreshes_when_the_store_changes(root):
    before = cached(root).execute("SELECT sum(quantity) FROM orders").fetchone()[0]
    assert cached(root).execute("SELECT sum(quantity) FROM orders").fetchone()[0] == before
    day = DAYS[-1] + timedelta(days=1)
    store.write_snapshot(
        root, "orders", order_lines([(day, "o9", "s1", "A", 100, 1.0)]), day, run_id="r", sources=[]
    )
    assert cached(root).execute("SELECT sum(quantity) FROM orders").fetchone()[0] == before + 100
    # each call is its own cursor: usable from two threads at once
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(4) as pool:
        sums = list(
            pool.map(
                lambda _: cached(root).execute("SELECT sum(quantity) FROM orders").fetchone()[0],
                range(16),
            )
        )
    assert sums == [before + 100] * 16


def test_cursors_see_tables_without_snapshots(root):
    con = cached(root)
    assert con.execute("SELECT count(*) FROM listings").fetchone()[0] == 0
    assert con.execute("DESCRIBE inventory").pl()["column_name"].to_list()[:2] == ["sku", "title"]


def test_snapshots_compact_command_rebuilds_a_store_written_before(root):
    shutil.rmtree(root / "compacted")
    out = subprocess.run(
        [sys.executable, "-m", "stockroom_jobs.cli", "snapshots", "--compact"],
        capture_output=True,
        text=True,
        env={**os.environ, "STOCKROOM_DATA_ROOT": str(root)},
        check=True,
    )
    assert "orders: 2 month file(s) written" in out.stderr + out.stdout
    assert len(store.read_layout(root, "orders").compacted) == 2
