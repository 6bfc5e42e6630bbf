"""The snapshot store: manifests, idempotent reruns, atomic swaps, crashes, as-of reads."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from stockroom import store
from stockroom.db import connect
from stockroom.errors import InputError
from stockroom.tables import SELLERS
from tests.conftest import order_lines

DAY = date(2024, 5, 1)


def sellers_frame(*names: str) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "platform": ["ebay"] * len(names),
            "seller_id": list(names),
            "seller_name": [n.title() for n in names],
            "city": [None] * len(names),
            "region": [None] * len(names),
            "country": ["US"] * len(names),
        },
        schema_overrides={"city": pl.String, "region": pl.String},
    )


def test_write_lands_parquet_and_manifest(tmp_path):
    source = tmp_path / "export.csv"
    source.write_text("seller\nbob\n")
    result = store.write_snapshot(
        tmp_path,
        "sellers",
        sellers_frame("bob", "alice"),
        DAY,
        run_id="run-1",
        sources=store.describe_sources([source]),
    )
    part = tmp_path / "snapshots" / "sellers" / "snapshot_date=2024-05-01"
    assert result.status == "new" and result.path == part
    assert sorted(p.name for p in part.iterdir()) == ["_manifest.json", "part-00000.parquet"]
    manifest = json.loads((part / "_manifest.json").read_text())
    assert manifest["rows"] == 2 and manifest["run_id"] == "run-1"
    assert list(manifest["schema"]) == SELLERS.column_names
    assert manifest["sources"][0]["sha256"] == store.file_sha256(source)
    assert manifest["files"][0]["sha256"] == store.file_sha256(part / "part-00000.parquet")
    # rows come back sorted by the primary key
    assert store.read_snapshot(tmp_path, "sellers", DAY)["seller_id"].to_list() == ["alice", "bob"]
    assert not list((tmp_path / ".staging").rglob("*"))  # nothing staged is left


def test_rerun_same_input_is_byte_identical(tmp_path):
    first = store.write_snapshot(
        tmp_path, "sellers", sellers_frame("a", "b"), DAY, run_id="r1", sources=[]
    )
    again = store.write_snapshot(
        tmp_path, "sellers", sellers_frame("b", "a"), DAY, run_id="r2", sources=[]
    )
    assert again.status == "unchanged"
    assert again.manifest["files"] == first.manifest["files"]
    assert store.read_manifest(tmp_path, "sellers", DAY)["run_id"] == "r2"


def test_rerun_with_new_input_replaces_the_day_whole(tmp_path):
    store.write_snapshot(
        tmp_path, "sellers", sellers_frame("a", "b", "c"), DAY, run_id="r1", sources=[]
    )
    result = store.write_snapshot(
        tmp_path, "sellers", sellers_frame("z"), DAY, run_id="r2", sources=[]
    )
    assert result.status == "replaced"
    assert store.read_snapshot(tmp_path, "sellers", DAY)["seller_id"].to_list() == ["z"]
    assert connect(tmp_path).execute("SELECT count(*) FROM sellers").fetchone()[0] == 1


def test_replace_without_renameat2_falls_back(tmp_path, monkeypatch):
    store.write_snapshot(tmp_path, "sellers", sellers_frame("a"), DAY, run_id="r1", sources=[])
    monkeypatch.setattr(store, "_renameat2", None)
    store.write_snapshot(tmp_path, "sellers", sellers_frame("b"), DAY, run_id="r2", sources=[])
    assert store.read_snapshot(tmp_path, "sellers", DAY)["seller_id"].to_list() == ["b"]
    assert not list((tmp_path / ".staging").rglob("*"))  # nothing staged is left


def _day_fingerprint(root: Path) -> tuple:
    manifest = store.read_manifest(root, "sellers", DAY)
    return (
        manifest["run_id"],
        manifest["files"][0]["sha256"],
        store.read_snapshot(root, "sellers", DAY).to_dicts(),
    )


def test_crash_while_writing_parquet_keeps_previous_day(tmp_path, monkeypatch):
    store.write_snapshot(tmp_path, "sellers", sellers_frame("a", "b"), DAY, run_id="r1", sources=[])
    before = _day_fingerprint(tmp_path)

    def half_write(self, path, **kwargs):
        Path(path).write_bytes(b"PAR1 truncated")
        raise OSError("disk full")

    monkeypatch.setattr(pl.DataFrame, "write_parquet", half_write)
    with pytest.raises(OSError, match="disk full"):
        store.write_snapshot(tmp_path, "sellers", sellers_frame("x"), DAY, run_id="r2", sources=[])
    monkeypatch.undo()
    assert _day_fingerprint(tmp_path) == before
    assert connect(tmp_path).execute("SELECT count(*) FROM sellers").fetchone()[0] == 2


@pytest.mark.parametrize(
    "dies_at, after",
    [
        ("_write_journal", ["a", "b"]),  # while staging: the commit never happened
        ("_swap_in", ["x", "y", "z"]),  # journal written: the next open completes it
    ],
)
def test_process_killed_mid_write_leaves_one_whole_day(tmp_path, dies_at, after):
    """A real crash: the writer process dies (os._exit) before its commit journal is written or
    after it, before the rename. Either way readers then see one whole day (the old one, or
    the new one rolled forward by the next open) and nothing staged is left."""
    store.write_snapshot(tmp_path, "sellers", sellers_frame("a", "b"), DAY, run_id="r1", sources=[])
    before = _day_fingerprint(tmp_path)
    script = textwrap.dedent(f"""
        import os, sys
        sys.path.insert(0, {str(Path(__file__).resolve().parent.parent)!r})
        from datetime import date
        from pathlib import Path
        from stockroom import store
        from tests.test_store import sellers_frame
        store.{dies_at} = lambda *a, **k: os._exit(9)
        store.write_snapshot(Path({str(tmp_path)!r}), "sellers", sellers_frame("x", "y", "z"),
                             date(2024, 5, 1), run_id="r2", sources=[])
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert proc.returncode == 9, proc.stderr
    assert list((tmp_path / ".staging" / "sellers").iterdir())  # the dead writer's leftovers
    assert _day_fingerprint(tmp_path) == before  # nothing swapped yet
    con = connect(tmp_path)  # a reader opens the store
    assert sorted(r[0] for r in con.execute("SELECT seller_id FROM sellers").fetchall()) == after
    assert not [p for p in (tmp_path / ".staging").rglob("*") if p.is_file()]


def test_invalid_rows_write_nothing(tmp_path):
    store.write_snapshot(
        tmp_path,
        "orders",
        order_lines([(DAY, "o1", "s", "A", 1, 5.0)]),
        DAY,
        run_id="r1",
        sources=[],
    )
    bad = order_lines([(DAY, "o1", "s", "A", 1, 5.0), (DAY, "o2", "s", "A", 1, -5.0)])
    with pytest.raises(InputError) as err:
        store.write_snapshot(tmp_path, "orders", bad, DAY, run_id="r2", sources=[])
    problem = err.value.problems[0]
    assert (problem.row, problem.column) == (2, "unit_price")
    assert store.read_manifest(tmp_path, "orders", DAY)["run_id"] == "r1"


def test_batch_is_validated_before_any_day_is_written(tmp_path):
    d1, d2 = date(2024, 5, 1), date(2024, 5, 2)
    frames = {
        d1: order_lines([(d1, "o1", "s", "A", 1, 5.0)]),
        d2: order_lines([(d2, "o2", "s", "A", 0, 5.0)]),
    }  # quantity 0 is invalid
    with pytest.raises(InputError, match="quantity"):
        store.write_snapshots(tmp_path, "orders", frames, run_id="r1", sources=[])
    assert store.snapshot_dates(tmp_path, "orders") == []


def test_duplicate_keys_across_event_days_are_refused(tmp_path):
    d1, d2 = date(2024, 5, 1), date(2024, 5, 2)
    frames = {
        d1: order_lines([(d1, "o1", "s", "A", 1, 5.0)]),
        d2: order_lines([(d2, "o1", "s", "A", 1, 5.0)]),
    }
    with pytest.raises(InputError, match="duplicate primary key"):
        store.write_snapshots(tmp_path, "orders", frames, run_id="r1", sources=[])


def test_as_of_reads(tmp_path):
    for day, names in [(date(2024, 1, 1), ("a",)), (date(2024, 2, 1), ("a", "b"))]:
        store.write_snapshot(
            tmp_path, "sellers", sellers_frame(*names), day, run_id="r", sources=[]
        )
    for day, order in [(date(2024, 1, 5), "o1"), (date(2024, 2, 5), "o2")]:
        store.write_snapshot(
            tmp_path,
            "orders",
            order_lines([(day, order, "a", "A", 1, 1.0)]),
            day,
            run_id="r",
            sources=[],
        )

    def counts(as_of):
        con = connect(tmp_path, as_of)
        return tuple(
            con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("sellers", "orders")
        )

    assert counts(date(2023, 12, 31)) == (0, 0)  # before anything was known
    assert counts(date(2024, 1, 31)) == (1, 1)  # state: Jan snapshot; events: Jan day
    assert counts(date(2024, 2, 1)) == (2, 1)  # on the day itself
    assert counts(None) == (2, 2)
    assert store.resolve_as_of(tmp_path, "sellers", date(2024, 1, 20)) == date(2024, 1, 1)
    history = (
        connect(tmp_path)
        .execute("SELECT snapshot_date, count(*) FROM sellers_history GROUP BY 1 ORDER BY 1")
        .fetchall()
    )
    assert history == [(date(2024, 1, 1), 1), (date(2024, 2, 1), 2)]


def test_empty_store_has_typed_empty_views(tmp_path):
    con = connect(tmp_path)
    assert con.execute("SELECT count(*) FROM orders").fetchone()[0] == 0
    assert "order_ts" in [c[0] for c in con.execute("DESCRIBE orders").fetchall()]


def test_snapshots_from_before_a_column_was_added_read_it_as_null(tmp_path):
    """Additive schema evolution: an older forecasts snapshot lacks the columns added later
    (category, backtest_*, drivers); the views still open and read those as NULL."""
    from stockroom.tables import FORECASTS

    old_columns = [
        "sku",
        "target_date",
        "horizon",
        "yhat",
        "q05",
        "q25",
        "q50",
        "q75",
        "q95",
        "model",
        "flags",
    ]
    old = pl.DataFrame(
        {
            "sku": ["a"],
            "target_date": [date(2024, 1, 2)],
            "horizon": [1],
            "yhat": [1.0],
            "q05": [0.0],
            "q25": [0.5],
            "q50": [1.0],
            "q75": [1.5],
            "q95": [2.0],
            "model": ["tsb"],
            "flags": [""],
        },
        schema_overrides={"horizon": pl.Int32},
    ).select(old_columns)
    part = store.partition_dir(tmp_path, "forecasts", date(2024, 1, 1))
    part.mkdir(parents=True)
    old.write_parquet(part / store.PART_FILE)
    assert set(FORECASTS.column_names) - set(old_columns)  # the table did grow
    row = (
        connect(tmp_path)
        .execute("SELECT sku, yhat, category, backtest_mase, drivers FROM forecasts")
        .fetchall()
    )
    assert row == [("a", 1.0, None, None, None)]
