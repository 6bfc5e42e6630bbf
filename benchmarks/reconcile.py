"""The reconciliation benchmark: per-type precision and recall on a seeded scenario with
every discrepancy injected."""

from __future__ import annotations

import resource
import statistics
import time

import polars as pl

from stockroom.reconcile import rules
from stockroom.sim.reconcile import scenario


def run_reconcile_bench(
    items: int = 40_000, inject: int = 100, repeat: int = 3, seed: int = 0
) -> dict:
    """Reconcile a seeded scenario (``stockroom.sim.reconcile``) with every discrepancy type
    injected; per type precision and recall against the ground truth, and the wall time of
    :func:`stockroom.reconcile.rules.reconcile` (median of ``repeat`` runs, the scenario already in
    memory)."""

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
        per_type.append(
            {
                "flag_type": flag_type,
                "injected": len(want),
                "found": len(have),
                "precision": hit / len(have) if have else None,
                "recall": hit / len(want) if want else None,
            }
        )
    return {
        "items": items,
        "listings": sc.listings.height,
        "sales": sc.sales.height,
        "platforms": sc.listings["platform"].n_unique(),
        "flags": flags.height,
        "generate_seconds": round(generate, 2),
        "seconds_runs": [round(t, 3) for t in times],
        "seconds": round(statistics.median(times), 3),
        "peak_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "per_type": per_type,
    }


def print_reconcile(result: dict) -> str:
    lines = [f"{'flag type':20} {'injected':>8} {'found':>6} {'precision':>9} {'recall':>6}"]
    fmt = lambda v: "-" if v is None else f"{v:.3f}"  # noqa: E731
    for r in result["per_type"]:
        lines.append(
            f"{r['flag_type']:20} {r['injected']:8d} {r['found']:6d} "
            f"{fmt(r['precision']):>9} {fmt(r['recall']):>6}"
        )
    lines.append(
        f"{result['listings']:,} listings on {result['platforms']} platforms, "
        f"{result['items']:,} items, {result['sales']:,} sales: reconcile "
        f"{result['seconds']} s (median of {len(result['seconds_runs'])}: "
        f"{result['seconds_runs']}), peak {result['peak_mib']:,} MiB; scenario "
        f"generated in {result['generate_seconds']} s"
    )
    return "\n".join(lines)
