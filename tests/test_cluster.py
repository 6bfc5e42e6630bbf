"""Many companies' mornings on Dask distributed (stockroom_jobs.cluster): a real LocalCluster
of worker processes on 127.0.0.1 against the sequential laptop path."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import polars as pl

from stockroom import lake, store
from stockroom.sim.companies import write_company
from stockroom.tables import TABLES
from stockroom_jobs.cluster import run_mornings

DAY = date(2026, 11, 30)
#: What a morning writes, compared between the two paths.
OUTPUTS = ("orders", "stock", "inventory", "forecasts", "order_plan", "flags")
#: Columns holding the wall-clock time of the run itself (when a flag was first/last seen).
WALL_CLOCK = {"flags": ("first_seen", "last_seen")}


def companies(base: Path, seeds: list[int]) -> list[Path]:
    return [
        write_company(base / f"company-{s}", s, skus=80, days=70, end=DAY, reports=())
        for s in seeds
    ]


def stored(root: Path) -> dict[tuple[str, date], pl.DataFrame]:
    """Every day of every table the morning wrote, as frames (run ids are not in the rows;
    the wall-clock columns are left out)."""
    return {
        (name, day): store.read_snapshot(root, name, day).drop(WALL_CLOCK.get(name, ()))
        for name in TABLES
        for day in store.snapshot_dates(root, name)
    }


def test_mornings_on_a_local_cluster_equal_the_sequential_ones(tmp_path):
    seeds = [11, 12, 13]
    laptop = companies(tmp_path / "laptop", seeds)
    cluster = companies(tmp_path / "cluster", seeds)
    seen = []
    one_by_one = run_mornings(laptop, DAY, retries=0)
    on_dask = run_mornings(
        cluster, DAY, scheduler="local", workers=2, retries=0, on_done=seen.append
    )
    assert [c.status for c in one_by_one.companies] == ["succeeded"] * 3
    assert [c.status for c in on_dask.companies] == ["succeeded"] * 3
    assert sorted(c.root for c in seen) == sorted(str(r) for r in cluster)  # progress, each
    assert on_dask.scheduler == "dask local" and len(on_dask.peak_rss_mib) == 2
    assert all(100 < mib < 4096 for mib in on_dask.peak_rss_mib.values())
    assert len({c.worker for c in on_dask.companies}) == 2  # both workers took a company
    for a, b in zip(laptop, cluster, strict=True):
        left, right = stored(a), stored(b)
        assert set(left) == set(right)
        assert {name for name, _ in left} >= set(OUTPUTS)
        for key, frame in left.items():
            assert frame.equals(right[key]), key  # the same numbers, cell for cell
        # byte for byte, even, where no wall-clock time is stored: same rows, same Parquet
        same_bytes = {k: v for k, v in lake._local_days(a).items() if k[0] not in WALL_CLOCK}
        assert same_bytes == {
            k: v for k, v in lake._local_days(b).items() if k[0] not in WALL_CLOCK
        }


def test_a_failing_company_is_retried_then_reported_and_the_others_finish(tmp_path):
    roots = companies(tmp_path, [21, 22, 23])
    broken = roots[1] / "exports" / "orders.csv"
    kept = broken.read_bytes()
    broken.unlink()
    result = run_mornings(roots, DAY, scheduler="local", workers=2, retries=2)
    status = {Path(c.root).name: (c.status, c.attempts) for c in result.companies}
    assert status == {
        "company-21": ("succeeded", 1),
        "company-22": ("failed", 3),
        "company-23": ("succeeded", 1),
    }
    assert result.retried == 2
    assert "orders" in result.failed[0].error and "no file matches" in result.failed[0].error
    assert store.snapshot_dates(roots[1], "forecasts") == []  # nothing after the failed sync
    # the export arrives: the next run does what is left (its other sources landed already)
    broken.write_bytes(kept)
    again = run_mornings([roots[1]], DAY, retries=0)
    assert again.companies[0].status == "succeeded"
    assert store.snapshot_dates(roots[1], "forecasts") != []


def test_the_sequential_path_retries_the_same_way(tmp_path):
    roots = companies(tmp_path, [31])
    (roots[0] / "exports" / "orders.csv").unlink()
    result = run_mornings(roots, DAY, retries=1)
    assert [(c.status, c.attempts) for c in result.companies] == [("failed", 2)]
    assert result.scheduler == "sequential" and result.retried == 1


def test_s3_companies_on_a_cluster_land_their_mornings_in_the_lake(s3, tmp_path, monkeypatch):
    bucket = s3.removeprefix("s3://").split("/")[0]
    urls = [f"s3://{bucket}/install/companies/{name}" for name in ("acme", "globex")]
    for seed, url in enumerate(urls):  # each company's settings and exports beside its copy
        write_company(lake.working_root(url), seed, skus=40, days=50, end=DAY, reports=())
    result = run_mornings(urls, DAY, scheduler="local", workers=2, retries=0)
    assert [c.status for c in result.companies] == ["succeeded", "succeeded"]
    # another machine (an empty cache) reads each company's morning from the lake
    monkeypatch.setenv("STOCKROOM_CACHE_DIR", str(tmp_path / "elsewhere"))
    for url in urls:
        root = lake.working_root(url)
        pulled = lake.pull(root)
        assert {t for t, _ in pulled.days} >= {"orders", "forecasts", "order_plan"}
        assert not (root / "exports").exists()  # only what the lake holds came
        assert store.read_snapshot(root, "order_plan", DAY).height > 0


def test_the_cluster_command_shows_progress_and_the_summary(tmp_path):
    roots = companies(tmp_path, [41, 42])
    (roots[1] / "exports" / "orders.csv").unlink()
    proc = subprocess.run(
        [sys.executable, "-m", "stockroom_jobs.cli", "cluster", *map(str, roots),
         "--day", DAY.isoformat(), "--retries", "0"],
        capture_output=True, text=True, env={**os.environ, "COLUMNS": "120"},
    )  # fmt: skip
    assert proc.returncode == 1
    assert "1 of 2 mornings succeeded on sequential" in proc.stderr
    assert f"FAILED {roots[1]}" in proc.stderr and "no file matches" in proc.stderr
    assert "2/2" in proc.stderr  # the progress bar's count
    shutil.rmtree(roots[0])
