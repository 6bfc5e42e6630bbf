"""Snapshots on object storage (stockroom.lake): DuckLake over a real S3-compatible server (moto
in server mode on 127.0.0.1), with the catalog in SQLite and in PostgreSQL."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from datetime import date, timedelta
from pathlib import Path

import boto3
import polars as pl
import pytest

from stockroom import lake, store

DAY = date(2026, 11, 2)


def client():
    return boto3.client(
        "s3",
        endpoint_url=os.environ["STOCKROOM_S3_ENDPOINT"],
        aws_access_key_id="test-key",
        aws_secret_access_key="test-secret",
        region_name="us-east-1",
    )


def objects(url: str) -> list[str]:
    bucket, _, prefix = url.removeprefix("s3://").partition("/")
    pages = client().get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    return [o["Key"] for page in pages for o in page.get("Contents", [])]


def stock(seed: int, skus: int = 50) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "seller_id": "s1",
            "location": "main",
            "sku": [f"SKU-{i:04d}" for i in range(skus)],
            "on_hand": [(seed * 7 + i) % 40 for i in range(skus)],
            "reserved": 0,
            "unit_cost": 2.5,
            "currency": "EUR",
        },
        schema_overrides={"on_hand": pl.Int32, "reserved": pl.Int32},
    )


def write_days(root: Path, days: list[date], seed: int, skus: int = 50) -> None:
    store.write_snapshots(
        root, "stock", {d: stock(seed + i, skus) for i, d in enumerate(days)}, run_id=f"w{seed}",
        sources=[],
    )  # fmt: skip


def copy_in(cache: Path, url: str, monkeypatch) -> Path:
    """Another machine's working copy of ``url`` (its own cache folder), pulled."""
    monkeypatch.setenv("STOCKROOM_CACHE_DIR", str(cache))
    root = lake.working_root(url)
    lake.pull(root)
    return root


def test_publish_then_pull_elsewhere_gives_the_same_bytes_and_any_reader_reads_it(
    s3, olist_root, tmp_path, monkeypatch
):
    import shutil

    root = lake.working_root(s3)
    shutil.copytree(olist_root / "snapshots", root / "snapshots")
    published = lake.publish(root)
    held = store.snapshot_dates(root, "orders")
    assert published.version is not None and published.attempts == 1
    assert len([d for t, d in published.days if t == "orders"]) == len(held) > 100
    # the hive layout on the object store, one folder per snapshot day
    keys = objects(s3)
    assert any(k.startswith("acme/main/orders/snapshot_date=") for k in keys)
    assert not any("/snapshots/" in k for k in keys)  # no local-store files uploaded

    other = copy_in(tmp_path / "cache-b", s3, monkeypatch)
    assert other != root
    assert lake._local_days(other) == lake._local_days(root)  # byte-identical part files
    assert lake.publish(other).version is None  # nothing changed: nothing committed

    orders = pl.read_parquet(
        [str(p) for p in Path(olist_root, "snapshots", "orders").glob("*/*.parquet")],
        hive_partitioning=True,
    )
    files = lake.files(root, "orders")
    assert all(f.startswith(s3 + "/main/orders/snapshot_date=") for f in files)
    by_polars = pl.read_parquet(files, storage_options=lake.storage_options())
    assert by_polars.height == orders.height
    assert by_polars["quantity"].sum() == orders["quantity"].sum()

    import dask.dataframe as dd
    import pyarrow
    import pyarrow.dataset
    import pyarrow.fs
    import pyarrow.parquet

    opts = lake.storage_options()
    fs = pyarrow.fs.S3FileSystem(
        access_key=opts["aws_access_key_id"],
        secret_key=opts["aws_secret_access_key"],
        endpoint_override=opts["aws_endpoint_url"],
        scheme="http",
        region="us-east-1",
    )
    # pyarrow's dataset over the list (what Spark's and Dask's readers do), one Dask partition
    # per file; the files hold snapshot_date themselves (DuckLake writes the partition column
    # too), so the path's hive key is not parsed a second time
    keys = [f.removeprefix("s3://") for f in files]
    assert pyarrow.dataset.dataset(keys, filesystem=fs).count_rows() == orders.height
    by_dask = dd.from_map(
        lambda key: pyarrow.parquet.read_table(key, filesystem=fs).to_pandas(), keys
    )
    assert len(by_dask) == orders.height
    assert int(by_dask["quantity"].sum().compute()) == orders["quantity"].sum()


def test_time_travel_reads_a_replaced_day_as_each_version_held_it(s3):
    root = lake.working_root(s3)
    write_days(root, [DAY, DAY + timedelta(days=1)], seed=1)
    first = lake.publish(root)
    write_days(root, [DAY + timedelta(days=1)], seed=50)  # a rerun of the second day
    second = lake.publish(root)
    assert second.days == [("stock", DAY + timedelta(days=1))]
    assert second.version > first.version

    assert lake.read(root, "stock").equals(stock(50))
    assert lake.read(root, "stock", version=first.version).equals(stock(2))
    assert lake.read(root, "stock", as_of=DAY).equals(stock(1))  # as_of: the day, as ever
    with pytest.raises(Exception, match="no stock snapshot on or before"):
        lake.read(root, "stock", as_of=DAY - timedelta(days=1))
    log = lake.versions(root)
    mine = log.filter(pl.col("version").is_in([first.version, second.version]))
    assert mine["days"].to_list() == [2, 1] and set(mine["tables"]) == {"stock"}

    assert lake.pull(root, version=first.version).days == [("stock", DAY + timedelta(days=1))]
    assert store.read_snapshot(root, "stock", DAY + timedelta(days=1)).equals(stock(2))


WRITER = """
import json, os, sys
from datetime import date, timedelta
from pathlib import Path
sys.path.insert(0, {tests!r})
from stockroom import lake, store
from test_lake import write_days
root = lake.working_root({url!r})
lake.pull(root)
days = [date.fromisoformat(d) for d in json.loads(sys.argv[1])]
write_days(root, days, seed=int(sys.argv[2]), skus=int(sys.argv[3]))
Path(sys.argv[4]).touch()
while not Path(sys.argv[5]).exists():
    pass
result = lake.publish(root)
print(json.dumps({{"version": result.version, "attempts": result.attempts}}))
"""


def _writer(url: str, cache: Path, days, seed, skus, ready: Path, go: Path):
    env = {**os.environ, "STOCKROOM_CACHE_DIR": str(cache)}
    script = WRITER.format(tests=str(Path(__file__).parent), url=url)
    args = [json.dumps([d.isoformat() for d in days]), str(seed), str(skus), str(ready), str(go)]
    return subprocess.Popen(
        [sys.executable, "-c", script, *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _snapshot_of(root: Path) -> dict:
    """What a reader sees now: {day: (rows, sum of on_hand)} read straight from the lake (in
    one query, retried like the library's readers while a writer holds the catalog)."""

    def now() -> list:
        with lake._connected(root) as con:
            if not lake._has_table(con, "stock"):
                return []
            return con.execute(
                "SELECT snapshot_date, count(*), sum(on_hand) FROM lake.stock GROUP BY 1"
            ).fetchall()

    return {d: (n, int(s)) for d, n, s in lake._retried(now)}


def test_two_writers_at_once_both_land_and_readers_never_see_a_mix(s3, tmp_path, monkeypatch):
    root = lake.working_root(s3)
    write_days(root, [DAY], seed=0)
    lake.publish(root)
    before = _snapshot_of(root)
    shared = DAY + timedelta(days=1)
    a_days = [shared] + [DAY + timedelta(days=i) for i in range(2, 12)]
    b_days = [shared] + [DAY + timedelta(days=i) for i in range(12, 22)]
    go = tmp_path / "go"
    writers = [
        _writer(s3, tmp_path / "cache-w1", a_days, 100, 400, tmp_path / "r1", go),
        _writer(s3, tmp_path / "cache-w2", b_days, 200, 400, tmp_path / "r2", go),
    ]
    while not ((tmp_path / "r1").exists() and (tmp_path / "r2").exists()):
        assert all(w.poll() is None for w in writers), [w.communicate() for w in writers]
        time.sleep(0.05)
    a_state = {**before, **{d: (400, None) for d in a_days}}
    b_state = {**before, **{d: (400, None) for d in b_days}}
    seen, stop = [], threading.Event()

    def read_all():
        while not stop.is_set():
            seen.append(_snapshot_of(root))

    reader = threading.Thread(target=read_all)
    reader.start()
    go.touch()
    outs = [w.communicate(timeout=120) for w in writers]
    stop.set()
    reader.join()
    assert [w.returncode for w in writers] == [0, 0], outs
    results = [json.loads(out.strip().splitlines()[-1]) for out, _ in outs]
    assert results[0]["version"] != results[1]["version"]

    final = _snapshot_of(root)
    assert set(final) == set(before) | set(a_days) | set(b_days)  # nothing lost
    assert final[DAY] == before[DAY]
    # the day both wrote is whole: one writer's rows (the later commit's), never a blend
    a_shared = int(stock(100, 400)["on_hand"].sum())
    b_shared = int(stock(200, 400)["on_hand"].sum())
    assert final[shared] in {(400, a_shared), (400, b_shared)}
    # every read during the race was a whole state: before, after one commit, or after both
    whole = [set(before), set(a_state), set(b_state), set(final)]
    assert seen and all(set(s) in whole for s in seen)
    assert all(s.get(shared, (400, a_shared))[1] in {a_shared, b_shared} for s in seen)


def test_a_writer_killed_mid_commit_leaves_the_old_lake_and_its_files_are_tidied(
    s3, tmp_path, monkeypatch
):
    root = lake.working_root(s3)
    write_days(root, [DAY], seed=0)
    lake.publish(root)
    before = _snapshot_of(root)
    known = set(objects(s3))
    days = [DAY + timedelta(days=i) for i in range(1, 61)]
    go = tmp_path / "go"
    writer = _writer(s3, tmp_path / "cache-w", days, 7, 2000, tmp_path / "ready", go)
    while not (tmp_path / "ready").exists():
        assert writer.poll() is None, writer.communicate()
        time.sleep(0.05)
    go.touch()
    deadline = time.monotonic() + 60
    while not set(objects(s3)) - known:  # its first data file is on the object store
        assert time.monotonic() < deadline and writer.poll() is None, writer.communicate()
        time.sleep(0.01)
    writer.send_signal(signal.SIGKILL)
    writer.wait()

    after = _snapshot_of(root)
    if after == before:  # killed before its commit (the usual case): the old lake, whole
        uploaded = set(objects(s3)) - known
        assert uploaded and lake.tidy(root) >= 1
        assert set(objects(s3)) == known
    else:  # the commit made it before the kill: then it is all there
        assert set(after) == set(before) | set(days)
    assert _snapshot_of(root)[DAY] == before[DAY]
    # the killed writer's copy publishes again and lands whole
    monkeypatch.setenv("STOCKROOM_CACHE_DIR", str(tmp_path / "cache-w"))
    again = lake.publish(lake.working_root(s3))
    final = _snapshot_of(root)
    assert set(final) == set(before) | set(days)
    assert again.version is not None or after != before


def test_an_s3_data_root_on_the_command_line_pulls_first_and_publishes_after(s3, tmp_path):
    from stockroom.sim.companies import write_company

    env = {**os.environ, "COLUMNS": "200"}  # rich wraps tables and errors to the terminal
    run = [sys.executable, "-m", "stockroom_jobs.cli"]
    exports = write_company(tmp_path / "raw", 3, skus=30, days=40)
    landed = subprocess.run(
        [*run, "import", str(exports / "exports" / "orders.csv"), "--kind", "orders",
         "--platform", "shop", "--data-root", s3],
        env=env, capture_output=True, text=True,
    )  # fmt: skip
    assert landed.returncode == 0, landed.stderr
    assert "committed as version" in landed.stderr
    env["STOCKROOM_CACHE_DIR"] = str(tmp_path / "elsewhere")
    listed = subprocess.run(
        [*run, "snapshots", "--data-root", s3], env=env, capture_output=True, text=True
    )
    assert listed.returncode == 0, listed.stderr
    orders_line = next(line for line in listed.stdout.splitlines() if "orders" in line)
    assert " 40 " in orders_line  # 40 days of orders, read on another "machine"
    assert "committed" not in listed.stderr  # a reading command publishes nothing
    versions = subprocess.run(
        [*run, "lake", "versions", "--data-root", s3], env=env, capture_output=True, text=True
    )
    assert versions.returncode == 0 and "stockroom import" in " ".join(versions.stderr.split())
    refused = subprocess.run(
        [*run, "lake", "status", "--data-root", str(tmp_path / "local")],
        env=env, capture_output=True, text=True,
    )  # fmt: skip
    # rich draws the error in a box wrapped to the terminal: read the words, not the lines
    words = " ".join(re.sub(r"[│╭╮╰╯─]", " ", refused.stderr).split())
    assert refused.returncode == 2 and "is a local data root" in words


def test_bad_urls_and_settings_are_refused_clearly(tmp_path, monkeypatch):
    from stockroom.errors import ConfigError

    with pytest.raises(ConfigError, match="expected s3://<bucket>"):
        lake.normalise("s3://")
    with pytest.raises(ConfigError, match="not a working copy"):
        lake.connect(tmp_path)
    assert lake.normalise("s3://bucket/a/b/") == "s3://bucket/a/b"
    monkeypatch.setenv("STOCKROOM_CACHE_DIR", str(tmp_path))
    company = lake.working_root("s3://bucket/install") / "companies" / "acme"
    assert lake.url_of(company) == "s3://bucket/install/companies/acme"
    monkeypatch.setenv("STOCKROOM_LAKE_CATALOG", "mysql://x")
    with pytest.raises(ConfigError, match="STOCKROOM_LAKE_CATALOG"):
        lake.catalog(company)


def test_the_catalog_in_the_workbench_postgresql(s3, postgres, monkeypatch, tmp_path):
    monkeypatch.delenv("STOCKROOM_LAKE_CATALOG")
    monkeypatch.setenv("STOCKROOM_DB_URL", postgres)
    root = lake.working_root(s3)
    target, schema = lake.catalog(root)
    bucket = s3.removeprefix("s3://").split("/")[0].replace("-", "_")
    assert target.startswith("ducklake:postgres:") and schema == f"lake_{bucket}_acme"
    write_days(root, [DAY], seed=4)
    assert lake.publish(root).version is not None
    other = copy_in(tmp_path / "cache-b", s3, monkeypatch)
    assert store.read_snapshot(other, "stock", DAY).equals(stock(4))
    import sqlalchemy as sa

    with sa.create_engine(postgres).connect() as conn:
        names = (
            conn.execute(
                sa.text("SELECT table_name FROM information_schema.tables WHERE table_schema = :s"),
                {"s": schema},
            )
            .scalars()
            .all()
        )
    assert "ducklake_snapshot" in names


def test_a_pull_keeps_the_days_this_copy_has_not_published_yet(s3, tmp_path, monkeypatch):
    mine = lake.working_root(s3)
    write_days(mine, [DAY], seed=1)
    lake.publish(mine)
    write_days(mine, [DAY], seed=2)  # changed here, not published yet
    theirs = copy_in(tmp_path / "cache-b", s3, monkeypatch)
    write_days(theirs, [DAY], seed=3)
    lake.publish(theirs)
    monkeypatch.setenv("STOCKROOM_CACHE_DIR", str(tmp_path / "cache-a"))
    assert lake.pull(mine).days == []  # their day does not overwrite my unpublished one
    assert store.read_snapshot(mine, "stock", DAY).equals(stock(2))
    assert lake.publish(mine).days == [("stock", DAY)]  # the later commit wins
    assert lake.read(mine, "stock").equals(stock(2))


def test_a_new_day_is_committed_without_reading_the_table_back(s3):
    """DuckLake prunes by the files' snapshot_date statistics: publishing a new day reads no
    file of the table (GETs counted at the S3 server), replacing one reads its own only."""
    from stockroom_bench.scale import S3Requests

    with S3Requests() as requests:
        root = lake.working_root(s3)
        write_days(root, [DAY + timedelta(days=i) for i in range(20)], seed=1)
        lake.publish(root)
        requests.take()
        write_days(root, [DAY + timedelta(days=20)], seed=2)
        lake.publish(root)
        counts = requests.take()
        assert counts.get("GET", 0) == 0 and counts.get("PUT", 0) >= 1
        write_days(root, [DAY + timedelta(days=5)], seed=3)
        lake.publish(root)
        assert 0 < requests.take().get("GET", 0) <= 10  # one file's footer and pages, not 21 files'
