"""Procurement jobs: the demo stock simulation and the morning plan snapshot."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import polars as pl

from stockroom import store, workbench
from stockroom.errors import StockroomError
from stockroom.export import write_csv
from stockroom.procurement import actions, repo
from stockroom.procurement.plan import build_plan, purchase_requests, recent_rate, sales_facts
from stockroom.sim.stock import SUPPLIER_TERMS, demo_stock
from stockroom.tables import ORDER_PLAN, STOCK
from stockroom_jobs.runs import Part, tracked_run


@dataclass
class PlanSummary:
    as_of: date
    counts: dict[str, int]
    revenue_at_risk: float
    run_id: str

    def lines(self) -> list[str]:
        return [
            f"plan as of {self.as_of}: "
            + ", ".join(
                f"{a.replace('_', ' ')} {self.counts.get(a, 0):,}" for a in actions.ACTIONS
            ),
            f"revenue at risk before the next deliveries: {self.revenue_at_risk:,.0f}",
        ]


def ingest_demo_stock(root: Path, seed: int = 0, actor: str = "demo-simulator") -> tuple:
    """Land a simulated ``stock`` snapshot on the latest forecasts' date and its open POs
    (``stockroom.sim.stock``; POs already in the database are kept). Returns (run, POs added)."""
    day = store.resolve_as_of(root, "forecasts", None)
    if day is None:
        raise StockroomError(f"no forecasts in {root}: run `stockroom forecast` first")
    facts = sales_facts(root, day)
    prices = dict(zip(facts["sku"].to_list(), facts["unit_price"].to_list(), strict=True))
    rates = dict(zip(facts["sku"].to_list(), recent_rate(facts, day).tolist(), strict=True))
    stock, pos, suppliers = demo_stock(
        store.read_snapshot(root, "forecasts", day),
        day,
        seed,
        unit_value=prices,
        recent_rate=rates,
    )
    with tracked_run(root, "ingest-demo-stock", f"stock simulation seed={seed}") as run:
        run.land([Part(STOCK, {day: stock})], sources=[])
    eng = workbench.engine(root)
    known = set(repo.settings_frame(eng).filter(pl.col("scope") == "supplier")["scope_key"])
    for name, (lead, moq, pack) in SUPPLIER_TERMS.items():
        if name not in known:
            repo.set_settings(
                eng,
                "supplier",
                name,
                actor=actor,
                reason="demo supplier terms",
                lead_time_days=lead,
                moq=moq,
                pack_size=pack,
            )
    repo.assign_suppliers(eng, suppliers, actor=actor, reason="demo stock simulation")
    have = set(repo.purchase_order_lines(eng, None)["po_number"])
    added = 0
    for (number,), lines in pos.sort("po_number").group_by("po_number", maintain_order=True):
        if number in have:
            continue
        first = lines.row(0, named=True)
        repo.place_order(
            eng,
            supplier=first["supplier"],
            order_date=first["order_date"],
            po_number=number,
            actor=actor,
            reason="demo stock simulation",
            lines=[
                repo.OrderLine(r["sku"], r["quantity"], r["expected_delivery"])
                for r in lines.iter_rows(named=True)
            ],
        )
        added += lines.height
    return run, added


def run_plan(
    root: Path, as_of: date | None = None, export: Path | None = None, location: str | None = None
) -> PlanSummary:
    """Build the plan (``stockroom.procurement.plan``), land it as the ``order_plan`` snapshot and
    optionally write the purchase-request CSV (:func:`purchase_requests`) to ``export``. With
    ``location`` the plan is of that location's stock only: reported and exported, not landed
    (the ``order_plan`` snapshot is always of every location)."""
    if export is not None and not Path(export).parent.is_dir():
        raise StockroomError(f"--export: the folder {Path(export).parent} does not exist")
    day, plan = build_plan(root, as_of, location)
    source = f"forecasts of {day}" + (f", stock of {location}" if location else "")
    with tracked_run(root, "procure", source) as run:
        if location is None:
            run.land([Part(ORDER_PLAN, {day: plan.drop("sales_8w")})], sources=[])
    if export is not None:
        write_csv(purchase_requests(plan, day), export)
    counts = dict(plan.group_by("action").len().iter_rows())
    return PlanSummary(day, counts, float(plan["revenue_at_risk"].sum()), run.run_id)
