"""The scale benchmark: many simulated companies through the daily pipeline, one after the
other in one process (the laptop path) against a local Dask cluster, and what the object store
costs per snapshot day.

1. ``companies`` simulated companies (:mod:`stockroom.sim.companies`: ``skus`` SKUs, ``days``
   days of orders, stock, central inventory, suppliers) are written twice, one set per path.
2. Their mornings (sync -> forecast -> plan -> reconcile -> reports -> alerts) run
   sequentially, then on a ``distributed.LocalCluster`` of ``workers`` processes
   (:func:`stockroom_jobs.cluster.run_mornings`): wall time, CPU seconds (this process and its
   children), peak memory per worker, tasks retried; the forecasts and order plans of the two
   paths are compared cell for cell.
3. One company's store is published to a DuckLake on a real S3 API (moto's server on
   127.0.0.1) and pulled into an empty working copy: seconds and HTTP requests per snapshot day
   (counted at the server), then one more morning's days published (the daily increment).
4. From those figures, what 10,000 companies and one 10 M-SKU company would need (the
   assumptions are printed with the figures).
"""

from __future__ import annotations

import logging
import math
import os
import re
import resource
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import date
from pathlib import Path

from stockroom import lake, store
from stockroom.sim.companies import write_company
from stockroom_jobs.cluster import run_mornings

END = date(2026, 11, 30)


def _cpu() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def _timed(fn: Callable):
    wall, cpu = time.perf_counter(), _cpu()
    out = fn()
    return out, time.perf_counter() - wall, _cpu() - cpu


def _same(a: list[Path], b: list[Path]) -> dict:
    """Compare the forecasts and order plans of two sets of companies, cell for cell."""
    compared = differing = 0
    for left, right in zip(a, b, strict=True):
        for table in ("forecasts", "order_plan"):
            for day in store.snapshot_dates(left, table):
                compared += 1
                if not store.read_snapshot(left, table, day).equals(
                    store.read_snapshot(right, table, day)
                ):
                    differing += 1
    return {"snapshots_compared": compared, "snapshots_differing": differing}


_REQUEST = re.compile(r"(GET|PUT|POST|HEAD|DELETE) /")


class S3Requests(logging.Handler):
    """Counts the HTTP requests moto's server (in this process) logs, one line per request,
    by method; :meth:`take` returns the counts so far and starts again. Used as a context
    manager it listens to the server's ``werkzeug`` log at INFO while inside."""

    def __init__(self) -> None:
        super().__init__()
        self.counts: dict[str, int] = {}

    def emit(self, record: logging.LogRecord) -> None:
        found = _REQUEST.search(record.getMessage())  # the line may carry colour codes
        if found:
            self.counts[found[1]] = self.counts.get(found[1], 0) + 1

    def take(self) -> dict[str, int]:
        out, self.counts = self.counts, {}
        return out

    def __enter__(self) -> S3Requests:
        log = logging.getLogger("werkzeug")
        self._level = log.level
        log.addHandler(self)
        log.setLevel(logging.INFO)
        return self

    def __exit__(self, *exc) -> None:
        log = logging.getLogger("werkzeug")
        log.removeHandler(self)
        log.setLevel(self._level)


def _object_store(root: Path, work: Path, on_step) -> dict:
    """Publish one company's store to a DuckLake on moto's S3 server, pull it elsewhere, then
    publish one more morning: seconds and requests per snapshot day."""
    import boto3
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=True)
    server.start()
    saved = {k: os.environ.get(k) for k in _ENV}
    try:
        with S3Requests() as counter:
            host, port = server.get_host_and_port()
            endpoint = f"http://{host}:{port}"
            os.environ.update(
                STOCKROOM_S3_ENDPOINT=endpoint,
                AWS_ACCESS_KEY_ID="bench",
                AWS_SECRET_ACCESS_KEY="bench",
                STOCKROOM_LAKE_CATALOG=f"sqlite:///{work / 'catalogs'}",
                STOCKROOM_CACHE_DIR=str(work / "cache-a"),
            )
            boto3.client(
                "s3",
                endpoint_url=endpoint,
                aws_access_key_id="bench",
                aws_secret_access_key="bench",
                region_name="us-east-1",
            ).create_bucket(Bucket="bench")
            url = f"s3://bench/{uuid.uuid4().hex[:8]}"
            copy = lake.working_root(url)
            shutil.copytree(root / "snapshots", copy / "snapshots")
            counter.take()
            on_step("object store: publishing one company's store...")
            published, pub_s, _ = _timed(lambda: lake.publish(copy))
            pub_requests = counter.take()
            days = len(published.days)
            os.environ.update(STOCKROOM_CACHE_DIR=str(work / "cache-b"))
            other = lake.working_root(url)
            on_step("object store: pulling it into an empty copy...")
            pulled, pull_s, _ = _timed(lambda: lake.pull(other))
            pull_requests = counter.take()
            # the daily increment: the next morning writes one more day of every state table
            last = max(d for _, d in published.days)
            increment = [(t, d) for t, d in published.days if d == last]
            next_day = last.toordinal() + 1
            for table, day in increment:
                frame = store.read_snapshot(copy, table, day)
                store.write_snapshot(
                    copy, table, frame, date.fromordinal(next_day), run_id="bench", sources=[]
                )
            counter.take()
            inc, inc_s, _ = _timed(lambda: lake.publish(copy))
            inc_requests = counter.take()
            return {
                "days_published": days,
                "publish_seconds": pub_s,
                "publish_seconds_per_day": pub_s / days,
                "publish_requests": pub_requests,
                "publish_requests_per_day": sum(pub_requests.values()) / days,
                "days_pulled": len(pulled.days),
                "pull_seconds": pull_s,
                "pull_seconds_per_day": pull_s / max(len(pulled.days), 1),
                "pull_requests": pull_requests,
                "pull_requests_per_day": sum(pull_requests.values()) / max(len(pulled.days), 1),
                "increment_days": len(inc.days),
                "increment_seconds": inc_s,
                "increment_requests": inc_requests,
                "stored_mib": sum(p.stat().st_size for p in (copy / "snapshots").rglob("*.parquet"))
                / 2**20,
            }
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        server.stop()


_ENV = (
    "STOCKROOM_S3_ENDPOINT",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "STOCKROOM_LAKE_CATALOG",
    "STOCKROOM_CACHE_DIR",
)


def run_scale_bench(
    companies: int = 200,
    skus: int = 1000,
    days: int = 90,
    workers: int = 2,
    on_step: Callable[[str], None] | None = None,
) -> dict:
    """Run the benchmark (module doc); returns its figures (JSON-able)."""
    on_step = on_step or (lambda _: None)
    work = Path(tempfile.mkdtemp(prefix="stockroom-scale-"))
    try:
        on_step(f"writing {companies} companies x {skus} SKUs (twice)...")
        seq_roots = [
            write_company(work / "seq" / f"c{i:04d}", i, skus=skus, days=days, end=END)
            for i in range(companies)
        ]
        dask_roots = [
            write_company(work / "dask" / f"c{i:04d}", i, skus=skus, days=days, end=END)
            for i in range(companies)
        ]
        done = {"n": 0}

        def tick(label: str):
            def step(_result) -> None:
                done["n"] += 1
                on_step(f"{label}: {done['n']} of {companies} mornings done")

            return step

        seq, seq_wall, seq_cpu = _timed(
            lambda: run_mornings(seq_roots, END, retries=2, on_done=tick("sequential"))
        )
        done["n"] = 0
        clu, clu_wall, clu_cpu = _timed(
            lambda: run_mornings(
                dask_roots,
                END,
                scheduler="local",
                workers=workers,
                retries=2,
                on_done=tick(f"local cluster ({workers} workers)"),
            )
        )
        on_step("comparing the two paths' forecasts and plans...")
        same = _same(seq_roots, dask_roots)
        store_figures = _object_store(seq_roots[0], work, on_step)
        per_company = [c.seconds for c in seq.companies if c.status == "succeeded"]
        return {
            "companies": companies,
            "skus": skus,
            "days": days,
            "workers": workers,
            "cpus": os.cpu_count(),
            "sequential": {
                "wall_s": seq_wall,
                "cpu_s": seq_cpu,
                "failed": len(seq.failed),
                "retried": seq.retried,
                "peak_rss_mib": max(seq.peak_rss_mib.values()),
                "company_median_s": sorted(per_company)[len(per_company) // 2],
            },
            "cluster": {
                "wall_s": clu_wall,
                "cpu_s": clu_cpu,
                "failed": len(clu.failed),
                "retried": clu.retried,
                "peak_rss_mib_per_worker": sorted(clu.peak_rss_mib.values()),
            },
            "speedup": seq_wall / clu_wall,
            "same": same,
            "object_store": store_figures,
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)


def plan(result: dict, window_hours: float = 2.0) -> dict:
    """What 10,000 companies and one 10 M-SKU company would need, from the measured figures.

    Assumptions: a company's morning costs what the measured ones cost (CPU seconds per
    company from the sequential run, linear in SKUs); a worker is one process on one core,
    busy ``window_hours`` (the morning window) at the efficiency the local cluster reached on
    this machine; object-store requests per company and morning are the daily increment's
    (a worker whose working copy is warm) plus, on a cold worker, the pull of the company's
    whole history (the measured requests per day pulled x the days held)."""
    seq, clu, obj = result["sequential"], result["cluster"], result["object_store"]
    cpu_per_company = seq["cpu_s"] / result["companies"]
    efficiency = min(1.0, (seq["wall_s"] / clu["wall_s"]) / result["workers"])
    per_worker = window_hours * 3600 * efficiency
    workers_10k = math.ceil(10_000 * cpu_per_company / per_worker)
    requests = sum(obj["increment_requests"].values())
    cold = requests + obj["pull_requests_per_day"] * obj["days_published"]
    sku_factor = 10_000_000 / result["skus"]
    return {
        "cpu_s_per_company": cpu_per_company,
        "cluster_efficiency": efficiency,
        "window_hours": window_hours,
        "workers_for_10k_companies": workers_10k,
        "memory_per_worker_mib": max(clu["peak_rss_mib_per_worker"]),
        "object_store_requests_per_day_10k": requests * 10_000,
        "object_store_requests_per_day_10k_cold": round(cold * 10_000),
        "cpu_hours_10m_skus": cpu_per_company * sku_factor / 3600,
        "workers_10m_skus_in_window": math.ceil(cpu_per_company * sku_factor / per_worker),
    }


def print_scale(result: dict) -> str:
    seq, clu, obj = result["sequential"], result["cluster"], result["object_store"]
    p = plan(result)
    lines = [
        f"{result['companies']} companies x {result['skus']} SKUs x {result['days']} days, "
        f"{result['cpus']} cores",
        "",
        f"{'path':<28}{'wall s':>9}{'CPU s':>9}{'failed':>8}{'retried':>9}  peak MiB",
        f"{'sequential (laptop path)':<28}{seq['wall_s']:>9.1f}{seq['cpu_s']:>9.1f}"
        f"{seq['failed']:>8}{seq['retried']:>9}  {seq['peak_rss_mib']:.0f} (this process)",
        f"{'local cluster, ' + str(result['workers']) + ' workers':<28}{clu['wall_s']:>9.1f}"
        f"{clu['cpu_s']:>9.1f}{clu['failed']:>8}{clu['retried']:>9}  "
        + " / ".join(f"{m:.0f}" for m in clu["peak_rss_mib_per_worker"])
        + " (per worker)",
        f"cluster / sequential wall: {clu['wall_s'] / seq['wall_s']:.2f}x "
        f"(speed-up {result['speedup']:.2f}x); median morning "
        f"{seq['company_median_s']:.1f} s",
        f"same numbers: {result['same']['snapshots_differing']} of "
        f"{result['same']['snapshots_compared']} forecast/plan snapshots differ",
        "",
        f"object store (DuckLake on moto S3, one company, {obj['stored_mib']:.1f} MiB):",
        f"  publish {obj['days_published']} days: {obj['publish_seconds']:.2f} s "
        f"({obj['publish_seconds_per_day'] * 1000:.1f} ms/day), requests "
        f"{obj['publish_requests']} ({obj['publish_requests_per_day']:.1f}/day)",
        f"  pull {obj['days_pulled']} days into an empty copy: {obj['pull_seconds']:.2f} s "
        f"({obj['pull_seconds_per_day'] * 1000:.1f} ms/day), requests {obj['pull_requests']} "
        f"({obj['pull_requests_per_day']:.1f}/day)",
        f"  a morning's increment ({obj['increment_days']} days): "
        f"{obj['increment_seconds']:.2f} s, requests {obj['increment_requests']}",
        "",
        "plan (assumptions: README / benchmarks.scale.plan):",
        f"  CPU per company-morning {p['cpu_s_per_company']:.1f} s; cluster efficiency here "
        f"{p['cluster_efficiency']:.2f}",
        f"  10,000 companies in a {p['window_hours']:.0f} h window: "
        f"{p['workers_for_10k_companies']} workers of {p['memory_per_worker_mib']:.0f} MiB; "
        f"{p['object_store_requests_per_day_10k']:,} object-store requests a day (warm "
        f"copies; {p['object_store_requests_per_day_10k_cold']:,} if every worker starts cold)",
        f"  one 10 M-SKU company: {p['cpu_hours_10m_skus']:.1f} CPU hours a morning if linear "
        f"in SKUs, {p['workers_10m_skus_in_window']} workers in the window",
    ]
    return "\n".join(lines)
