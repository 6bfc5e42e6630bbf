"""Nothing lost: many writers of one table and day at once, `kill -9` at random points, parallel
first runs on a new data root (issue 14, probes 1, 3 and 7)."""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import random
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import polars as pl

from stockroom import config, store, workbench
from stockroom_jobs.ingest import ingest_listings_files
from stockroom_jobs.runs import recover

DAY = date(2024, 6, 27)
ROWS = 200


def _export(folder: Path, seller: str) -> Path:
    path = folder / f"{seller}.csv"
    pl.DataFrame(
        {
            "platform": "ebay",
            "seller_id": seller,
            "sku": [f"{seller}-{i:04d}" for i in range(ROWS)],
            "quantity": [str(i % 7 + 1) for i in range(ROWS)],
            "price": [f"{i % 50 + 0.99:.2f}" for i in range(ROWS)],
            "notes": "",
        }
    ).write_csv(path)
    return path


def _writer(root: str, folder: str, sellers: list[str], start: float) -> list[int]:
    """One process: wait for the common start, then land each seller's export in turn."""
    while time.time() < start:
        time.sleep(0.001)
    landed = []
    for seller in sellers:
        run = ingest_listings_files([Path(folder) / f"{seller}.csv"], Path(root), snapshot_date=DAY)
        landed.append(run.rows_landed)
    return landed


def test_many_writers_of_one_table_and_day_lose_nothing(tmp_path):
    """4 processes x 4 runs, each run one seller's export for the same listings day, all started
    together: every run reports what it landed and the final snapshot holds every row."""
    processes, runs_each = 4, 4
    sellers = [f"s{p}-{r}" for p in range(processes) for r in range(runs_each)]
    for seller in sellers:
        _export(tmp_path, seller)
    root = tmp_path / "root"
    workbench.engine(root)  # the database exists before the race (its own test is below)
    start = time.time() + 2.0
    ctx = mp.get_context("spawn")
    t0 = time.perf_counter()
    with ctx.Pool(processes) as pool:
        results = pool.starmap(
            _writer,
            [
                (str(root), str(tmp_path), sellers[p * runs_each : (p + 1) * runs_each], start)
                for p in range(processes)
            ],
        )
    elapsed = time.perf_counter() - t0
    assert [n for r in results for n in r] == [ROWS] * len(sellers)
    final = store.read_snapshot(root, "listings", DAY)
    counts = dict(final.group_by("seller_id").len().iter_rows())
    assert counts == {s: ROWS for s in sellers}, "rows expected vs found per seller"
    runs = workbench.runs(workbench.engine(root), limit=None)
    assert runs.height == len(sellers) and set(runs["status"]) == {"succeeded"}
    assert not list((root / ".staging").glob("listings/*"))
    print(
        f"\nstress: {processes} writers x {runs_each} runs = {len(sellers)} runs, "
        f"{len(sellers) * ROWS:,} rows expected, {final.height:,} found, {elapsed:.1f} s"
    )


def _day_runs(root: Path) -> dict[date, set[str]]:
    """Per snapshot day, the runs whose snapshots make it up (across tables)."""
    out: dict[date, set[str]] = {}
    for table in ("sellers", "products", "listings", "stock", "orders"):
        for day in store.snapshot_dates(root, table):
            out.setdefault(day, set()).add(store.read_manifest(root, table, day)["run_id"])
    return out


def _store_counts(root: Path) -> dict[str, int]:
    counts: dict[str, int] = {}
    for manifest in (root / "snapshots").rglob("_manifest.json"):
        run_id = json.loads(manifest.read_text())["run_id"]
        counts[run_id] = counts.get(run_id, 0) + 1
    return counts


def test_kill_9_at_random_points_leaves_whole_days_and_a_truthful_run_log(tmp_path):
    """`ingest simulate` killed with SIGKILL at random moments, four times, then once to the end
    with another seed: after every kill (and the recovery the next reader or writer runs), each
    day comes wholly from one run, every run's snapshot count in the log equals what the store
    holds from it (for the newest run) or more (older runs, partly replaced), and no staging
    folder is left."""
    root = tmp_path / "root"
    rng = random.Random(14)
    cmd = [
        sys.executable,
        "-m",
        "stockroom_jobs.cli",
        "ingest",
        "simulate",
        "--listings",
        "3000",
        "--sellers",
        "30",
        "--days",
        "6",
        "--data-root",
        str(root),
    ]
    env = dict(os.environ, PYTHONWARNINGS="ignore")
    kills = 0
    for attempt in range(4):
        seed = ["--seed", str(attempt)]
        proc = subprocess.Popen(
            cmd + seed, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        # kill once the run has started landing, at a random moment of its landing
        deadline = time.time() + 60
        while time.time() < deadline and not (root / "snapshots").exists():
            time.sleep(0.02)
        time.sleep(rng.uniform(0.0, 1.5))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            kills += 1
        proc.wait(timeout=60)
        recover(root)  # what the next job (or `stockroom runs`) does first
        _check(root)
    assert kills >= 3, "the runs ended before they could be killed: make them longer"
    done = subprocess.run(cmd + ["--seed", "9"], env=env, capture_output=True, timeout=300)
    assert done.returncode == 0, done.stderr.decode()[-500:]
    _check(root)
    assert {r for runs in _day_runs(root).values() for r in runs} == {
        workbench.runs(workbench.engine(root), limit=1)["run_id"][0]
    }


def _check(root: Path) -> None:
    for day, runs in _day_runs(root).items():
        assert len(runs) == 1, f"{day} is assembled from several runs: {runs}"
    log = workbench.runs(workbench.engine(root), limit=None)
    recorded = dict(zip(log["run_id"], log["snapshots"], strict=True))
    held = _store_counts(root)
    for run_id, n in held.items():
        assert recorded.get(run_id, 0) >= n, f"{run_id}: the log says {recorded.get(run_id)}"
    newest = log["run_id"][0]
    assert recorded[newest] == held.get(newest, 0), "the newest run's log disagrees with the store"
    left = [p for p in (root / ".staging").rglob("*") if p.is_file()]
    assert not left, f"staged files left behind: {left[:3]}"


def _open_database(root: str, start: float) -> str:
    while time.time() < start:
        time.sleep(0.001)
    eng = workbench.engine(Path(root))
    with eng.connect() as conn:
        return conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()


def test_parallel_first_runs_on_a_new_data_root_migrate_once(tmp_path):
    """Four processes open the workbench database of a new data root at the same instant; the
    migration lock makes them upgrade one after the other and all find the newest revision."""
    for trial in range(2):
        root = tmp_path / f"new-{trial}"
        start = time.time() + 1.5
        with mp.get_context("spawn").Pool(4) as pool:
            versions = pool.starmap(_open_database, [(str(root), start)] * 4)
        assert len(set(versions)) == 1 and versions[0] is not None
    assert config.db_url(root).startswith("sqlite:///")
