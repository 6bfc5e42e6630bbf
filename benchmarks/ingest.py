"""The ingestion benchmark: a generated 1M-row listings CSV (the agreed import format) to a
validated snapshot with Stockroom's own job, next to pandas ``read_csv`` + ``to_parquet`` and
DuckDB's ``COPY (SELECT * FROM read_csv(...)) TO ... (FORMAT parquet)``. Each contender runs
``repeat`` times, each time in a fresh child process (so peak RSS is its own); medians are
reported."""

from __future__ import annotations

import multiprocessing as mp
import resource
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl

BENCH_DAY = date(2024, 6, 27)


def make_listings_csv(path: Path, rows: int, seed: int = 0, bad_share: float = 0.0) -> Path:
    """Write a seeded listings CSV in the import format (``bad_share`` of rows get a negative
    quantity, to exercise the quarantine)."""
    rng = np.random.default_rng(seed)
    platforms = np.array(["ebay", "blokpax", "shootstrayt", "shopify"])
    seller = rng.integers(0, 2_000, rows)
    qty = rng.integers(0, 20, rows)
    if bad_share:
        qty[rng.random(rows) < bad_share] = -1
    frame = pl.DataFrame(
        {
            "platform": platforms[rng.integers(0, 4, rows)],
            "seller": seller,
            "n": np.arange(rows),
            "quantity": qty,
            "price": np.round(rng.lognormal(2.5, 1.0, rows), 2),
            "notes": np.where(rng.random(rows) < 0.1, "mint, ships in 24h", ""),
            "card": rng.integers(0, 30_000, rows),
            "listed": rng.integers(1_600_000_000, 1_700_000_000, rows) * 1_000_000,
        }
    ).select(
        "platform",
        pl.concat_str(pl.lit("seller"), pl.col("seller").cast(pl.String).str.zfill(5)).alias(
            "seller_id"
        ),
        pl.concat_str(pl.lit("SKU-"), pl.col("n").cast(pl.String)).alias("sku"),
        "quantity",
        "price",
        "notes",
        pl.concat_str(pl.lit("Card "), pl.col("card").cast(pl.String)).alias("title"),
        pl.col("listed")
        .cast(pl.Datetime("us"))
        .dt.strftime("%Y-%m-%dT%H:%M:%SZ")
        .alias("listed_at"),
        pl.lit("USD").alias("currency"),
    )
    frame.write_csv(path)
    return path


def _ours(csv: Path, out: Path) -> int:
    from stockroom_jobs.ingest import ingest_listings_files

    run = ingest_listings_files([csv], out, snapshot_date=BENCH_DAY)
    return run.rows_landed


def _pandas(csv: Path, out: Path) -> int:
    import pandas as pd

    frame = pd.read_csv(csv)
    out.mkdir(parents=True, exist_ok=True)
    frame.to_parquet(out / "listings.parquet")
    return len(frame)


def _duckdb(csv: Path, out: Path) -> int:
    import duckdb

    out.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    con.execute(
        f"COPY (SELECT * FROM read_csv('{csv}')) TO '{out / 'listings.parquet'}' (FORMAT parquet)"
    )
    return con.execute(f"SELECT count(*) FROM '{out / 'listings.parquet'}'").fetchone()[0]


CONTENDERS: dict[str, Callable[[Path, Path], int]] = {
    "stockroom (validated snapshot)": _ours,
    "pandas read_csv + to_parquet": _pandas,
    "duckdb COPY to parquet": _duckdb,
}


def _warm(name: str) -> None:
    """Import what a contender needs before its clock starts (start-up is not ingestion)."""
    if name.startswith("stockroom"):
        import stockroom_jobs.ingest  # noqa: F401
        from stockroom.tables import LISTINGS

        # the pandera schemas are built on first validation (reading never needs them);
        # building them is start-up too
        LISTINGS._schema, LISTINGS._row_schema  # noqa: B018
    elif name.startswith("pandas"):
        import pandas  # noqa: F401
        import pyarrow.parquet  # noqa: F401
    else:
        import duckdb  # noqa: F401


def _child(name: str, csv: str, out: str, queue) -> None:
    _warm(name)
    started = time.perf_counter()
    rows = CONTENDERS[name](Path(csv), Path(out))
    seconds = time.perf_counter() - started
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    queue.put({"rows": rows, "seconds": seconds, "peak_mib": peak_kib / 1024})


def run_ingest_bench(
    rows: int = 1_000_000,
    repeat: int = 3,
    workdir: Path | None = None,
    on_step: Callable[[str], None] | None = None,
) -> dict:
    """Run the ingest benchmark; returns {contender: {rows, seconds (median), rows_per_s,
    peak_mib (max), runs: [...]}} plus ``ratios``."""
    ctx = mp.get_context("spawn")
    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        tmp = Path(tmp)
        csv = make_listings_csv(tmp / "listings.csv", rows)
        results: dict = {"input": {"rows": rows, "bytes": csv.stat().st_size}}
        for i in range(repeat):
            for name in CONTENDERS:  # interleaved, so drift hits every contender alike
                if on_step:
                    on_step(f"{name} (run {i + 1}/{repeat})")
                queue = ctx.Queue()
                proc = ctx.Process(
                    target=_child, args=(name, str(csv), str(tmp / f"out-{i}-{hash(name)}"), queue)
                )
                proc.start()
                got = queue.get()
                proc.join()
                results.setdefault(name, {"runs": []})["runs"].append(got)
        for name in CONTENDERS:
            runs = results[name]["runs"]
            seconds = statistics.median(r["seconds"] for r in runs)
            results[name].update(
                rows=runs[0]["rows"],
                seconds=seconds,
                rows_per_s=runs[0]["rows"] / seconds,
                peak_mib=max(r["peak_mib"] for r in runs),
            )
    ours, pandas, duck = (results[n]["rows_per_s"] for n in CONTENDERS)
    results["ratios"] = {"vs_pandas": ours / pandas, "vs_duckdb_copy": ours / duck}
    return results


def print_ingest(results: dict) -> str:
    lines = [
        f"input: {results['input']['rows']:,} rows, "
        f"{results['input']['bytes'] / 2**20:.0f} MiB CSV",
        f"{'contender':34} {'median s':>9} {'rows/s':>12} {'peak MiB':>9}",
    ]
    for name in CONTENDERS:
        r = results[name]
        lines.append(f"{name:34} {r['seconds']:9.2f} {r['rows_per_s']:12,.0f} {r['peak_mib']:9.0f}")
    ratios = results["ratios"]
    lines.append(
        f"stockroom / pandas: {ratios['vs_pandas']:.2f}x   "
        f"stockroom / duckdb COPY: {ratios['vs_duckdb_copy']:.2f}x"
    )
    return "\n".join(lines)
