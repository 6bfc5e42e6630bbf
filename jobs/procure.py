"""Procurement jobs: the demo stock simulation and the morning plan snapshot."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import polars as pl

from stockroom import store, workbench
from stockroom.errors import StockroomError
from stockroom.procurement import actions, repo
from stockroom.procurement.plan import build_plan
from stockroom.tables import ORDER_PLAN, STOCK
from stockroom_jobs.runs import Part, tracked_run

#: The purchase-request CSV a purchasing system imports (one line per SKU to order).
EXPORT_COLUMNS = ("supplier", "sku", "quantity", "pack_size", "moq", "order_date",
                  "expected_delivery", "need_by", "unit_price", "action", "reason")


@dataclass
class PlanSummary:
    as_of: date
    counts: dict[str, int]
    revenue_at_risk: float
    run_id: str

    def lines(self) -> list[str]:
        return [f"plan as of {self.as_of}: " + ", ".join(
                    f"{a.replace('_', ' ')} {self.counts.get(a, 0):,}" for a in actions.ACTIONS),
                f"revenue at risk before the next deliveries: {self.revenue_at_risk:,.0f}"]


def ingest_demo_stock(root: Path, seed: int = 0, actor: str = "demo-simulator") -> tuple:
    """Land a simulated ``stock`` snapshot on the latest forecasts' date and its open POs
    (``stockroom.sim.stock``; POs already in the database are kept). Returns (run, POs added)."""
    from stockroom.sim.stock import SUPPLIER_TERMS, demo_stock

    day = store.resolve_as_of(root, "forecasts", None)
    if day is None:
        raise StockroomError(f"no forecasts in {root}: run `stockroom forecast` first")
    stock, pos, suppliers = demo_stock(store.read_snapshot(root, "forecasts", day), day, seed)
    with tracked_run(root, "ingest-demo-stock", f"stock simulation seed={seed}") as run:
        run.land([Part(STOCK, {day: stock})], sources=[])
    eng = workbench.engine(root)
    known = set(repo.settings_frame(eng).filter(pl.col("scope") == "supplier")["scope_key"])
    for name, (lead, moq, pack) in SUPPLIER_TERMS.items():
        if name not in known:
            repo.set_settings(eng, "supplier", name, actor=actor, reason="demo supplier terms",
                              lead_time_days=lead, moq=moq, pack_size=pack)
    repo.assign_suppliers(eng, suppliers, actor=actor, reason="demo stock simulation")
    have = set(repo.purchase_order_lines(eng, None)["po_number"])
    added = 0
    for row in pos.iter_rows(named=True):
        if row["po_number"] not in have:
            repo.add_po(eng, **row, actor=actor, reason="demo stock simulation")
            added += 1
    return run, added


def run_plan(root: Path, as_of: date | None = None, export: Path | None = None
             ) -> PlanSummary:
    """Build the plan (``stockroom.procurement.plan``), land it as the ``order_plan`` snapshot and
    optionally write the purchase-request CSV (:func:`purchase_requests`) to ``export``."""
    day, plan = build_plan(root, as_of)
    with tracked_run(root, "procure", f"forecasts of {day}") as run:
        run.land([Part(ORDER_PLAN, {day: plan.drop("sales_8w")})], sources=[])
    if export is not None:
        export = Path(export)
        export.parent.mkdir(parents=True, exist_ok=True)
        purchase_requests(plan, day).write_csv(export)
    counts = dict(plan.group_by("action").len().iter_rows())
    return PlanSummary(day, counts, float(plan["revenue_at_risk"].sum()), run.run_id)


def purchase_requests(plan: pl.DataFrame, day: date) -> pl.DataFrame:
    """The SKUs to order (order today, plus attention SKUs with a recommended quantity) as
    purchase-request lines: supplier, sku, quantity, pack_size, moq, order_date,
    expected_delivery (order date + lead time), need_by (stockout date), unit_price, action,
    reason; by supplier, then priority."""
    return (plan.filter((pl.col("order_qty") > 0) & pl.col("action").is_in(
                [actions.ORDER_TODAY, actions.ATTENTION]))
            .with_columns(pl.lit(day).alias("order_date"),
                          (pl.lit(day) + pl.duration(days=pl.col("lead_time_days")))
                          .alias("expected_delivery"),
                          pl.col("order_qty").alias("quantity"),
                          pl.col("stockout_date").alias("need_by"))
            .sort(["supplier", "revenue_at_risk"], descending=[False, True])
            .select(EXPORT_COLUMNS))
