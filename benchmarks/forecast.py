"""The forecasting benchmark: every model backtested side by side on one sales file, each in
its own child process -- the shipped forecaster (``stockroom``), the global model alone, the
baselines and, when installed, the peers (:mod:`stockroom_bench.peers`)."""

from __future__ import annotations

import multiprocessing as mp
import resource
import statistics
from collections.abc import Callable
from pathlib import Path

import polars as pl

from stockroom.errors import StockroomError
from stockroom.forecast import backtest
from stockroom.forecast.backtest import MODELS, SCORED_CLASSES, run_model
from stockroom.forecast.data import from_olist, from_transactions, load_sales, panel
from stockroom_bench import peers


def load_sales_panel(path: str, columns: dict):
    """(sales, panel) of a sales file: Online Retail-style transactions are rolled up to daily
    units per StockCode, a directory of Olist tables to daily units per product
    (:func:`from_olist`), anything else goes through :func:`load_sales`."""

    source = Path(path)
    if source.is_dir():  # the Olist tables: order items -> daily units per product
        sales = from_olist(source)
        return sales, panel(sales)
    head = pl.read_parquet_schema(source) if source.suffix == ".parquet" else {}
    if {"InvoiceNo", "StockCode", "Quantity"} <= set(head):
        sales = from_transactions(source)  # transactions -> daily units per StockCode
    else:
        sales = load_sales(source, **columns)
    return sales, panel(sales)


def _forecast_child(
    model: str, path: str, columns: dict, horizon: int, windows: int, queue
) -> None:

    try:
        sales, p = load_sales_panel(path, columns)
        forecast = None if model in MODELS else peers.PEERS[model]
        score = run_model(model, p, sales, horizon, windows, forecast=forecast)
        queue.put(
            {
                "model": model,
                "wrmsse": score.wrmsse,
                "mase": score.mase,
                "wape": score.wape,
                "bias": score.bias,
                "coverage_90": score.coverage_90,
                "coverage_by_bucket": score.coverage_by_bucket,
                "lead_coverage": score.lead_coverage,
                "by_class": score.by_class,
                "mape_weekly": score.mape_weekly,
                "mape_28d": score.mape_28d,
                "forecast_coverage": score.forecast_coverage,
                "pinball": score.pinball,
                "seconds": round(score.seconds, 2),
                "peak_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
                "windows": score.windows,
                "series": len(p.ids),
                "days": len(p.dates),
            }
        )
    except Exception as exc:  # a peer failing must not sink the benchmark
        queue.put({"model": model, "error": f"{type(exc).__name__}: {exc}"})


def run_forecast_bench(
    path: Path,
    *,
    horizon: int = 28,
    windows: int = 3,
    models: list[str] | None = None,
    columns: dict | None = None,
    repeat: int = 1,
    on_step: Callable[[str], None] | None = None,
) -> list[dict]:
    """Backtest every model side by side on one sales file; one dict per model with WRMSSE,
    MASE, WAPE, bias, 90 % coverage, pinball, wall seconds and peak MiB (each model in its own
    child process). Peers run when their optional library is installed. With ``repeat`` > 1
    the models run that many rounds, interleaved (A B C A B C ...), and ``seconds`` is the
    median (every round's in ``seconds_runs``); the metrics are deterministic."""

    if not Path(path).exists():
        raise StockroomError(f"sales file or Olist directory not found: {path}")
    names = models or [*backtest.MODELS, *peers.available()]
    ctx = mp.get_context("spawn")
    runs: dict[str, list[dict]] = {name: [] for name in names}
    for round_ in range(repeat):
        for name in names:
            if on_step:
                on_step(f"{name} (round {round_ + 1}/{repeat})" if repeat > 1 else name)
            queue = ctx.Queue()
            proc = ctx.Process(
                target=_forecast_child,
                args=(name, str(path), columns or {}, horizon, windows, queue),
            )
            proc.start()
            runs[name].append(queue.get())
            proc.join()
    out = []
    for name in names:
        first = runs[name][0]
        if "error" not in first and repeat > 1:
            seconds = [r["seconds"] for r in runs[name]]
            first = {
                **first,
                "seconds": round(statistics.median(seconds), 2),
                "seconds_runs": seconds,
                "peak_mib": max(r["peak_mib"] for r in runs[name]),
            }
        out.append(first)
    base = {r["model"]: r.get("wrmsse") for r in out}
    for r in out:
        if r.get("wrmsse") is not None:
            for ref in ("seasonal_naive", "ses"):
                if base.get(ref):
                    r[f"wrmsse_vs_{ref}"] = round(r["wrmsse"] / base[ref], 3)
    return out


def print_forecast(results: list[dict]) -> str:
    lines = [
        f"{'model':28} {'WRMSSE':>7} {'vs sNaive':>9} {'vs SES':>7} {'MASE':>6} "
        f"{'cov90':>6} {'pinball':>7} {'s':>6} {'MiB':>5}"
    ]
    fmt = lambda v, f: "-" if v is None else format(v, f)  # noqa: E731
    for r in results:
        if "error" in r:
            lines.append(f"{r['model']:28} error: {r['error']}")
            continue
        lines.append(
            f"{r['model']:28} {r['wrmsse']:7.3f} "
            f"{fmt(r.get('wrmsse_vs_seasonal_naive'), '9.3f')} "
            f"{fmt(r.get('wrmsse_vs_ses'), '7.3f')} {r['mase']:6.3f} "
            f"{fmt(r['coverage_90'], '6.3f')} {fmt(r['pinball'], '7.3f')} "
            f"{r['seconds']:6.1f} {r['peak_mib']:5d}"
        )
    cov = [r for r in results if r.get("coverage_by_bucket")]
    if cov:
        buckets = list(cov[0]["coverage_by_bucket"])
        leads = list((cov[0].get("lead_coverage") or {}).keys())
        lines += [
            "",
            "90 % interval coverage (nominal 0.90): daily, per horizon bucket (days); "
            "lead-time sums (L days)",
            f"{'model':28} "
            + " ".join(f"{'d ' + b:>8}" for b in buckets)
            + " "
            + " ".join(f"{'L=' + str(k):>6}" for k in leads),
        ]
        for r in cov:
            lead = r.get("lead_coverage") or {}
            lines.append(
                f"{r['model']:28} "
                + " ".join(f"{r['coverage_by_bucket'][b]:8.3f}" for b in buckets)
                + " "
                + " ".join(fmt(lead.get(k), "6.3f") for k in leads)
            )
    lines += _class_lines(results) + _mape_lines(results)
    return "\n".join(lines)


def _class_lines(results: list[dict]) -> list[str]:
    """SKU-level WRMSSE / MASE per demand class, and the best baseline of each class."""
    scored = [r for r in results if r.get("by_class")]
    if not scored:
        return []
    names = [c for c in SCORED_CLASSES if any(c in r["by_class"] for r in scored)]
    head = " ".join(f"{c + ' (' + _count(scored, c) + ')':>22}" for c in names)
    lines = [
        "",
        "per demand class (Syntetos-Boylan; new = first sold under 60 days before the cutoff;"
        " series): SKU-level WRMSSE / MASE",
        f"{'model':28} {head}",
    ]
    for r in scored:
        cells = []
        for c in names:
            v = r["by_class"].get(c)
            cells.append(f"{'-':>22}" if v is None else f"{v['wrmsse']:>13.3f} / {v['mase']:6.3f}")
        lines.append(f"{r['model']:28} " + " ".join(cells))
    return lines


def _count(scored: list[dict], name: str) -> str:
    return format(
        round(next(r["by_class"][name]["series"] for r in scored if name in r["by_class"])), ","
    )


def _mape_lines(results: list[dict]) -> list[str]:
    scored = [r for r in results if r.get("mape_weekly") is not None]
    if not scored:
        return []
    fmt = lambda v: "-" if v is None else f"{v:.3f}"  # noqa: E731
    lines = [
        "",
        "MAPE of totals per SKU with sales (share) and forecast coverage (share of active SKUs)",
        f"{'model':28} {'weekly':>8} {'28-day':>8} {'coverage':>9}",
    ]
    for r in scored:
        lines.append(
            f"{r['model']:28} {fmt(r['mape_weekly']):>8} {fmt(r.get('mape_28d')):>8} "
            f"{fmt(r.get('forecast_coverage')):>9}"
        )
    return lines
