"""Benchmarks: scripts that print figures and ratios against baselines run in the same process
tree, on the same input, in the same run (never timed unit tests).

``ingest``: a generated 1M-row listings CSV (the agreed import format) to a validated snapshot
with Stockroom's own job, next to pandas ``read_csv`` + ``to_parquet`` and DuckDB's
``COPY (SELECT * FROM read_csv(...)) TO ... (FORMAT parquet)``. Each contender runs ``repeat``
times, each time in a fresh child process (so peak RSS is its own); medians are reported.
"""

from __future__ import annotations

import json
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

from lib.errors import StockroomError

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
    frame = pl.DataFrame({
        "platform": platforms[rng.integers(0, 4, rows)],
        "seller": seller, "n": np.arange(rows), "quantity": qty,
        "price": np.round(rng.lognormal(2.5, 1.0, rows), 2),
        "notes": np.where(rng.random(rows) < 0.1, "mint, ships in 24h", ""),
        "card": rng.integers(0, 30_000, rows),
        "listed": rng.integers(1_600_000_000, 1_700_000_000, rows) * 1_000_000,
    }).select(
        "platform",
        pl.concat_str(pl.lit("seller"), pl.col("seller").cast(pl.String).str.zfill(5))
        .alias("seller_id"),
        pl.concat_str(pl.lit("SKU-"), pl.col("n").cast(pl.String)).alias("sku"),
        "quantity", "price", "notes",
        pl.concat_str(pl.lit("Card "), pl.col("card").cast(pl.String)).alias("title"),
        pl.col("listed").cast(pl.Datetime("us")).dt.strftime("%Y-%m-%dT%H:%M:%SZ")
        .alias("listed_at"),
        pl.lit("USD").alias("currency"),
    )
    frame.write_csv(path)
    return path


def _ours(csv: Path, out: Path) -> int:
    from jobs.ingest import ingest_listings_files
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
    con.execute(f"COPY (SELECT * FROM read_csv('{csv}')) TO '{out / 'listings.parquet'}' "
                "(FORMAT parquet)")
    return con.execute(f"SELECT count(*) FROM '{out / 'listings.parquet'}'").fetchone()[0]


CONTENDERS: dict[str, Callable[[Path, Path], int]] = {
    "stockroom (validated snapshot)": _ours,
    "pandas read_csv + to_parquet": _pandas,
    "duckdb COPY to parquet": _duckdb,
}


def _warm(name: str) -> None:
    """Import what a contender needs before its clock starts (start-up is not ingestion)."""
    if name.startswith("stockroom"):
        import jobs.ingest  # noqa: F401
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


def run_ingest_bench(rows: int = 1_000_000, repeat: int = 3, workdir: Path | None = None,
                     on_step: Callable[[str], None] | None = None) -> dict:
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
                proc = ctx.Process(target=_child, args=(name, str(csv),
                                                        str(tmp / f"out-{i}-{hash(name)}"),
                                                        queue))
                proc.start()
                got = queue.get()
                proc.join()
                results.setdefault(name, {"runs": []})["runs"].append(got)
        for name in CONTENDERS:
            runs = results[name]["runs"]
            seconds = statistics.median(r["seconds"] for r in runs)
            results[name].update(rows=runs[0]["rows"], seconds=seconds,
                                 rows_per_s=runs[0]["rows"] / seconds,
                                 peak_mib=max(r["peak_mib"] for r in runs))
    ours, pandas, duck = (results[n]["rows_per_s"] for n in CONTENDERS)
    results["ratios"] = {"vs_pandas": ours / pandas, "vs_duckdb_copy": ours / duck}
    return results


def print_ingest(results: dict) -> str:
    lines = [f"input: {results['input']['rows']:,} rows, "
             f"{results['input']['bytes'] / 2**20:.0f} MiB CSV",
             f"{'contender':34} {'median s':>9} {'rows/s':>12} {'peak MiB':>9}"]
    for name in CONTENDERS:
        r = results[name]
        lines.append(f"{name:34} {r['seconds']:9.2f} {r['rows_per_s']:12,.0f} "
                     f"{r['peak_mib']:9.0f}")
    ratios = results["ratios"]
    lines.append(f"stockroom / pandas: {ratios['vs_pandas']:.2f}x   "
                 f"stockroom / duckdb COPY: {ratios['vs_duckdb_copy']:.2f}x")
    return "\n".join(lines)


def dump(results: dict, path: Path | None) -> None:
    if path:
        path.write_text(json.dumps(results, indent=2, default=str))


# -- mapping ------------------------------------------------------------------------------------

def _read_pairs(path: Path) -> pl.DataFrame:
    frame = pl.read_csv(path, infer_schema=False)
    missing = {"ltable_id", "rtable_id", "label"} - set(frame.columns)
    if missing:
        from lib.errors import InputError, InputProblem
        raise InputError([InputProblem(str(path), None, c, "missing column") for c in missing])
    return frame.select(pl.col("ltable_id"), pl.col("rtable_id"),
                        pl.col("label").cast(pl.Int8))


def _mapping_child(folder: str, leipzig: str | None, seeds: int, k: int, queue) -> None:
    from lib.ingest.tabular import read_csv
    from lib.mapping import matching

    started = time.perf_counter()
    root = Path(folder)
    left = matching.Table.from_frame(pl.read_csv(root / "tableA.csv", infer_schema=False))
    right = matching.Table.from_frame(pl.read_csv(root / "tableB.csv", infer_schema=False))
    features = matching.PairFeatures(left, right)
    index_l = {v: i for i, v in enumerate(left.ids)}
    index_r = {v: i for i, v in enumerate(right.ids)}
    split = {}
    for name in ("train", "valid", "test"):
        pairs = _read_pairs(root / f"{name}.csv")
        li = np.array([index_l[v] for v in pairs["ltable_id"]])
        ri = np.array([index_r[v] for v in pairs["rtable_id"]])
        split[name] = (features.transform(li, ri), pairs["label"].to_numpy())
    scores = []
    for seed in range(seeds):
        model = matching.train(*split["train"], seed=seed)
        p_valid = model.predict_proba(split["valid"][0])[:, 1]
        threshold = matching.best_f1_threshold(p_valid, split["valid"][1])
        x_test, y_test = split["test"]
        pred = model.predict_proba(x_test)[:, 1] >= threshold
        tp = float(np.sum(pred & (y_test == 1)))
        scores.append({"seed": seed, "threshold": threshold,
                       "precision": tp / max(1, pred.sum()), "recall": tp / max(1, y_test.sum()),
                       "f1": matching.f1(y_test, pred)})
    result = {"dataset": root.name, "pairs": {n: int(len(s[1])) for n, s in split.items()},
              "seeds": seeds}
    for metric in ("precision", "recall", "f1"):
        values = np.array([s[metric] for s in scores]) * 100
        result[metric] = {"mean": round(float(values.mean()), 2),
                          "std": round(float(values.std()), 2)}
    result["runs"] = scores
    result["matching_seconds"] = round(time.perf_counter() - started, 2)
    if leipzig:
        started_b = time.perf_counter()
        folder_b = Path(leipzig)
        tables = sorted(p for p in folder_b.glob("*.csv") if p.name != "gt.csv")
        if len(tables) != 2 or not (folder_b / "gt.csv").is_file():
            raise ValueError(f"{folder_b}: expected two table CSVs and gt.csv")
        a = matching.Table.from_frame(read_csv(tables[0]))
        b = matching.Table.from_frame(read_csv(tables[1]))
        gold_frame = read_csv(folder_b / "gt.csv")
        d1, d2 = [c for c in gold_frame.columns if not c.startswith("_")][:2]
        gold = set(zip(gold_frame[d1].to_list(), gold_frame[d2].to_list(), strict=True))
        cand = matching.block(a, b, k=k)
        ids_a, ids_b = np.array(a.ids), np.array(b.ids)
        kept = set(zip(ids_a[cand["left"].to_numpy()], ids_b[cand["right"].to_numpy()],
                       strict=True))
        result["blocking"] = {
            "tables": [t.name for t in tables], "k": k, "candidates": len(kept),
            "gold_pairs": len(gold),
            "recall": round(100 * len(gold & kept) / len(gold), 2),
            "reduction_ratio": round(100 * (1 - len(kept) / (len(a.ids) * len(b.ids))), 3),
            "seconds": round(time.perf_counter() - started_b, 2)}
    result["wall_seconds"] = round(time.perf_counter() - started, 2)
    result["peak_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    queue.put(result)


def run_mapping_bench(folder: Path, leipzig: Path | None = None, seeds: int = 5,
                      k: int = 10) -> dict:
    """Entity-matching benchmark on a DeepMatcher/Magellan folder (tableA/tableB and
    train/valid/test pairs), optionally blocking on a Leipzig folder (two tables + gt.csv).

    Runs in a fresh child process (its own peak RSS). Returns precision/recall/F1 on test in
    percent (mean and std over ``seeds``; threshold = best F1 on valid), pair counts, wall time
    (s) and peak memory (MiB); with ``leipzig``: blocking recall and reduction ratio (percent)
    at top-``k``.
    """
    for name in ("tableA.csv", "tableB.csv", "train.csv", "valid.csv", "test.csv"):
        if not (Path(folder) / name).is_file():
            from lib.errors import InputError, InputProblem
            raise InputError([InputProblem(str(Path(folder) / name), None, None,
                                           "file not found (need the DeepMatcher/Magellan "
                                           "layout)")])
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_mapping_child, args=(str(folder), str(leipzig) if leipzig
                                                    else None, seeds, k, queue))
    proc.start()
    result = queue.get()
    proc.join()
    return result


# -- forecasting ----------------------------------------------------------------------------

def _load_forecast_data(path: str, columns: dict):
    from lib.forecast.data import from_transactions, load_sales, panel

    source = Path(path)
    head = pl.read_parquet_schema(source) if source.suffix == ".parquet" else {}
    if {"InvoiceNo", "StockCode", "Quantity"} <= set(head):
        sales = from_transactions(source)  # transactions -> daily units per StockCode
    else:
        sales = load_sales(source, **columns)
    return sales, panel(sales)


def _forecast_child(model: str, path: str, columns: dict, horizon: int, windows: int,
                    queue) -> None:
    from lib.forecast.backtest import run_model

    try:
        sales, p = _load_forecast_data(path, columns)
        score = run_model(model, p, sales, horizon, windows)
        queue.put({"model": model, "wrmsse": score.wrmsse, "mase": score.mase,
                   "wape": score.wape, "bias": score.bias, "coverage_90": score.coverage_90,
                   "pinball": score.pinball, "seconds": round(score.seconds, 2),
                   "peak_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
                   "windows": score.windows, "series": len(p.ids), "days": len(p.dates)})
    except Exception as exc:  # a peer failing must not sink the benchmark
        queue.put({"model": model, "error": f"{type(exc).__name__}: {exc}"})


def run_forecast_bench(path: Path, *, horizon: int = 28, windows: int = 3,
                       models: list[str] | None = None, columns: dict | None = None,
                       repeat: int = 1,
                       on_step: Callable[[str], None] | None = None) -> list[dict]:
    """Backtest every model side by side on one sales file; one dict per model with WRMSSE,
    MASE, WAPE, bias, 90 % coverage, pinball, wall seconds and peak MiB (each model in its own
    child process). Peers run when their optional library is installed. With ``repeat`` > 1
    the models run that many rounds, interleaved (A B C A B C ...), and ``seconds`` is the
    median (every round's in ``seconds_runs``); the metrics are deterministic."""
    from lib.forecast import backtest, peers

    if not Path(path).is_file():
        raise StockroomError(f"sales file not found: {path}")
    names = models or [*backtest.MODELS, *peers.available()]
    ctx = mp.get_context("spawn")
    runs: dict[str, list[dict]] = {name: [] for name in names}
    for round_ in range(repeat):
        for name in names:
            if on_step:
                on_step(f"{name} (round {round_ + 1}/{repeat})" if repeat > 1 else name)
            queue = ctx.Queue()
            proc = ctx.Process(target=_forecast_child, args=(name, str(path), columns or {},
                                                             horizon, windows, queue))
            proc.start()
            runs[name].append(queue.get())
            proc.join()
    out = []
    for name in names:
        first = runs[name][0]
        if "error" not in first and repeat > 1:
            seconds = [r["seconds"] for r in runs[name]]
            first = {**first, "seconds": round(statistics.median(seconds), 2),
                     "seconds_runs": seconds,
                     "peak_mib": max(r["peak_mib"] for r in runs[name])}
        out.append(first)
    base = {r["model"]: r.get("wrmsse") for r in out}
    for r in out:
        if r.get("wrmsse") is not None:
            for ref in ("seasonal_naive", "ses"):
                if base.get(ref):
                    r[f"wrmsse_vs_{ref}"] = round(r["wrmsse"] / base[ref], 3)
    return out


def print_forecast(results: list[dict]) -> str:
    lines = [f"{'model':28} {'WRMSSE':>7} {'vs sNaive':>9} {'vs SES':>7} {'MASE':>6} "
             f"{'cov90':>6} {'pinball':>7} {'s':>6} {'MiB':>5}"]
    fmt = lambda v, f: "-" if v is None else format(v, f)  # noqa: E731
    for r in results:
        if "error" in r:
            lines.append(f"{r['model']:28} error: {r['error']}")
            continue
        lines.append(f"{r['model']:28} {r['wrmsse']:7.3f} "
                     f"{fmt(r.get('wrmsse_vs_seasonal_naive'), '9.3f')} "
                     f"{fmt(r.get('wrmsse_vs_ses'), '7.3f')} {r['mase']:6.3f} "
                     f"{fmt(r['coverage_90'], '6.3f')} {fmt(r['pinball'], '7.3f')} "
                     f"{r['seconds']:6.1f} {r['peak_mib']:5d}")
    return "\n".join(lines)


# -- procurement ----------------------------------------------------------------------------

def run_procurement_bench(path: Path, *, lead_times: list[int], service_levels: list[float],
                          review_days: int = 7, replay_days: int = 182,
                          columns: dict | None = None,
                          on_step: Callable[[str], None] | None = None) -> list[dict]:
    """Replay our policy and the two baselines on one sales file (same column detection as
    the forecast benchmark); one dict per policy x lead time (x service level / safety days)
    with fill rate, stock-out days, average inventory value, orders, order-today precision and
    recall, and for ours the inventory ratio to the seller-tool rule at equal fill rate."""
    from lib.procurement import replay

    if not Path(path).is_file():
        raise StockroomError(f"sales file not found: {path}")
    if on_step:
        on_step("loading sales")
    _, p = _load_forecast_data(str(path), columns or {})
    started = time.perf_counter()
    results, forecast_s = replay.run(p, lead_times=lead_times, service_levels=service_levels,
                                     review_days=review_days, replay_days=replay_days,
                                     on_step=on_step)
    out = []
    for r in results:
        row = r.as_dict()
        if r.policy == "stockroom":
            curve = [c for c in results if c.policy == "seller_tool"
                     and c.lead_time == r.lead_time]
            ratio = replay.inventory_at_equal_fill(r, curve)
            row["inventory_vs_seller_tool_at_equal_fill"] = (round(ratio, 3)
                                                            if ratio is not None else None)
        out.append(row)
    meta = {"series": len(p.ids), "days": replay_days, "review_days": review_days,
            "forecast_seconds": round(forecast_s, 1),
            "seconds": round(time.perf_counter() - started, 1),
            "peak_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}
    return [{**row, **meta} for row in out]


def print_procurement(results: list[dict]) -> str:
    fmt = lambda v, f: "-" if v is None else format(v, f)  # noqa: E731
    lines = [f"{'policy':12} {'lead':>4} {'target':>6} {'safety':>6} {'fill':>6} "
             f"{'stockout':>8} {'avg inventory':>13} {'orders':>6} {'inv/tool':>8} "
             f"{'OT prec':>7} {'OT rec':>6}"]
    for r in results:
        lines.append(
            f"{r['policy']:12} {r['lead_time']:4d} {fmt(r['service_level'], '6.2f')} "
            f"{fmt(r['safety_days'], '6.0f')} {r['fill_rate']:6.3f} {r['stockout_days']:8.3%} "
            f"{r['avg_inventory_value']:13,.0f} {r['orders']:6d} "
            f"{fmt(r.get('inventory_vs_seller_tool_at_equal_fill'), '8.3f')} "
            f"{fmt(r['order_today_precision'], '7.3f')} {fmt(r['order_today_recall'], '6.3f')}")
    if results:
        r = results[0]
        lines.append(f"{r['series']:,} series, last {r['days']} days replayed, review every "
                     f"{r['review_days']} days; forecasting {r['forecast_seconds']} s of "
                     f"{r['seconds']} s, peak {r['peak_mib']:,} MiB")
    return "\n".join(lines)


# -- reconciliation -------------------------------------------------------------------------

def run_reconcile_bench(items: int = 40_000, inject: int = 100, repeat: int = 3,
                        seed: int = 0) -> dict:
    """Reconcile a seeded scenario (``lib.sim.reconcile``) with every discrepancy type
    injected; per type precision and recall against the ground truth, and the wall time of
    :func:`lib.reconcile.rules.reconcile` (median of ``repeat`` runs, the scenario already in
    memory)."""
    from lib.reconcile import rules
    from lib.sim.reconcile import scenario

    started = time.perf_counter()
    sc = scenario(items, seed=seed, inject=inject)
    generate = time.perf_counter() - started
    times, flags = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        flags = rules.reconcile(sc.central, sc.listings, sc.sales, sc.recorded)
        times.append(time.perf_counter() - t0)
    per_type = []
    for flag_type in rules.FLAG_TYPES:
        want = set(sc.truth.filter(pl.col("flag_type") == flag_type)["key"])
        have = set(flags.filter(pl.col("flag_type") == flag_type)["key"])
        hit = len(want & have)
        per_type.append({"flag_type": flag_type, "injected": len(want), "found": len(have),
                         "precision": hit / len(have) if have else None,
                         "recall": hit / len(want) if want else None})
    return {"items": items, "listings": sc.listings.height, "sales": sc.sales.height,
            "platforms": sc.listings["platform"].n_unique(), "flags": flags.height,
            "generate_seconds": round(generate, 2),
            "seconds_runs": [round(t, 3) for t in times],
            "seconds": round(statistics.median(times), 3),
            "peak_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            "per_type": per_type}


def print_reconcile(result: dict) -> str:
    lines = [f"{'flag type':20} {'injected':>8} {'found':>6} {'precision':>9} {'recall':>6}"]
    fmt = lambda v: "-" if v is None else f"{v:.3f}"  # noqa: E731
    for r in result["per_type"]:
        lines.append(f"{r['flag_type']:20} {r['injected']:8d} {r['found']:6d} "
                     f"{fmt(r['precision']):>9} {fmt(r['recall']):>6}")
    lines.append(f"{result['listings']:,} listings on {result['platforms']} platforms, "
                 f"{result['items']:,} items, {result['sales']:,} sales: reconcile "
                 f"{result['seconds']} s (median of {len(result['seconds_runs'])}: "
                 f"{result['seconds_runs']}), peak {result['peak_mib']:,} MiB; scenario "
                 f"generated in {result['generate_seconds']} s")
    return "\n".join(lines)
