"""The procurement benchmark: replay our order policy and two seller rules on real demand
(:mod:`stockroom.procurement.replay`)."""

from __future__ import annotations

import resource
import time
from collections.abc import Callable
from pathlib import Path

from stockroom.errors import StockroomError
from stockroom.procurement import replay
from stockroom_bench.forecast import load_sales_panel


def run_procurement_bench(
    path: Path,
    *,
    lead_times: list[int],
    service_levels: list[float],
    review_days: int = 7,
    replay_days: int = 182,
    columns: dict | None = None,
    on_step: Callable[[str], None] | None = None,
) -> list[dict]:
    """Replay our policy and the two baselines on one sales file (same column detection as
    the forecast benchmark); one dict per policy x lead time (x service level / safety days)
    with fill rate, stock-out days, average inventory value, orders, order-today precision and
    recall, and for ours the inventory ratio to the seller-tool rule at equal fill rate."""

    if not Path(path).exists():
        raise StockroomError(f"sales file or Olist directory not found: {path}")
    if on_step:
        on_step("loading sales")
    _, p = load_sales_panel(str(path), columns or {})
    started = time.perf_counter()
    results, forecast_s = replay.run(
        p,
        lead_times=lead_times,
        service_levels=service_levels,
        review_days=review_days,
        replay_days=replay_days,
        on_step=on_step,
    )
    out = []
    for r in results:
        row = r.as_dict()
        if r.policy == "stockroom":
            curve = [c for c in results if c.policy == "seller_tool" and c.lead_time == r.lead_time]
            short = replay.equal_fill(r, curve, max_safety_days=max(replay.SAFETY_DAYS))
            whole = replay.equal_fill(r, curve)
            # the ratio on the 0-56-day curve, and on the curve extended to 224 days with the
            # rule's safety days at that fill; "dominates": above the rule's best fill with
            # less stock than its best point
            row["inventory_vs_seller_tool_at_equal_fill"] = round(short[0], 3) if short else None
            row["inventory_vs_seller_tool_extended"] = round(whole[0], 3) if whole else None
            row["seller_tool_safety_days_at_equal_fill"] = round(whole[1], 1) if whole else None
            row["dominates_seller_tool_curve"] = replay.above_ceiling(r, curve)
            ci = replay.equal_fill_interval(r, curve) if whole else None
            row["inventory_vs_seller_tool_ci95"] = [round(v, 3) for v in ci] if ci else None
        out.append(row)
    meta = {
        "series": len(p.ids),
        "days": replay_days,
        "review_days": review_days,
        "forecast_seconds": round(forecast_s, 1),
        "seconds": round(time.perf_counter() - started, 1),
        "peak_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }
    return [{**row, **meta} for row in out]


def print_procurement(results: list[dict]) -> str:
    def fmt(v, spec: str) -> str:  # a missing figure is a dash in the column's width
        return format(v, spec) if v is not None else "-".rjust(int(spec.split(".")[0]))

    def extended(r: dict) -> str:
        if r.get("dominates_seller_tool_curve"):
            return "dominant"
        return fmt(r.get("inventory_vs_seller_tool_extended"), "8.3f")

    def interval(r: dict) -> str:
        ci = r.get("inventory_vs_seller_tool_ci95")
        return f"{ci[0]:.2f}-{ci[1]:.2f}" if ci else "-"

    lines = [
        f"{'policy':12} {'lead':>4} {'target':>6} {'safety':>6} {'fill':>6} {'all':>6} "
        f"{'stockout':>8} {'avg inventory':>13} {'orders':>6} {'inv/tool':>8} "
        f"{'extended':>8} {'95% CI':>11} {'at days':>7} {'OT prec':>7} {'OT rec':>6}"
    ]
    for r in results:
        lines.append(
            f"{r['policy']:12} {r['lead_time']:4d} {fmt(r['service_level'], '6.2f')} "
            f"{fmt(r['safety_days'], '6.0f')} {r['fill_rate']:6.3f} "
            f"{fmt(r.get('fill_rate_all_demand'), '6.3f')} {r['stockout_days']:8.3%} "
            f"{r['avg_inventory_value']:13,.0f} {r['orders']:6d} "
            f"{fmt(r.get('inventory_vs_seller_tool_at_equal_fill'), '8.3f')} "
            f"{extended(r):>8} {interval(r):>11} "
            f"{fmt(r.get('seller_tool_safety_days_at_equal_fill'), '7.0f')} "
            f"{fmt(r['order_today_precision'], '7.3f')} {fmt(r['order_today_recall'], '6.3f')}"
        )
    if results:
        r = results[0]
        lines.append(
            f"{r['series']:,} series, last {r['days']} days replayed, review every "
            f"{r['review_days']} days; forecasting {r['forecast_seconds']} s of "
            f"{r['seconds']} s, peak {r['peak_mib']:,} MiB. fill: after each SKU's warm-up "
            "(products launched in the replay from their first sale + lead time + review); "
            "all: every unit after the replay's warm-up. inv/tool: our inventory / the "
            "seller rule's at our fill on its 0-56 safety-day curve; extended: on its curve "
            "to 224 days (at days: the rule's safety days there; dominant: our fill above "
            "the rule's best with less stock than it); 95% CI: bootstrap over SKUs"
        )
    return "\n".join(lines)
