"""A seeded simulation of the seller's own stock and open purchase orders on top of real
demand, for the bundled demo (the public data sets have sales but no stock).

For every SKU of a ``forecasts`` snapshot that is forecast (not dormant): on hand = burn rate
(its forecast units/day over 28 days) x a runway drawn from a mix -- 15 % out of stock, 35 %
0-14 days, 30 % 14-45 days, 20 % 45-120 days -- rounded, with 0-10 % of it reserved. 5 % of
dormant SKUs still hold 1-20 units (dead stock). Every stocked SKU is bought from one of
five suppliers (:data:`SUPPLIER_TERMS`: each with its lead time, MOQ and pack size).

Open purchase orders are what a buyer following Stockroom would have placed: a third of the
SKUs the plan says need stock (below the order-up-to level S over lead time + a weekly review
at a 95 % service level, :func:`stockroom.procurement.policy.protection_demand`, the built-in
settings) were ordered 1 to L-1 days ago and arrive after the supplier's lead time -- two in
three for the whole need (rounded to packs and the MOQ: they land in *Already ordered*), the
rest for 30-80 % of it (partial cover: *Attention required*) -- and 2 % of the SKUs that need
nothing carry an over-sized PO of 60-120 days of demand (*too much on order*). Same seed, same
stock. Synthetic: the demand is real, the stock is not.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import polars as pl

from stockroom.procurement import policy
from stockroom.tables import LEAD_BANDS

#: supplier -> (lead time days, MOQ units, pack size units)
SUPPLIER_TERMS = {
    "Northwind Wholesale": (7, 0, 1),
    "Acme Distribution": (10, 6, 6),
    "Blue Harbor Supply": (14, 0, 1),
    "Cardinal Imports": (28, 12, 12),
    "Summit Trading": (21, 0, 2),
}
SUPPLIERS = tuple(SUPPLIER_TERMS)
#: The built-in settings the simulated buyer followed: review period (days), service level.
REVIEW_DAYS = 7
SERVICE_LEVEL = 0.95


def _matrix(forecasts: pl.DataFrame, skus: list[str], column: str) -> np.ndarray:
    """``column`` of the forecasts as len(skus) x horizon (NaN where missing)."""
    h = int(forecasts["horizon"].max())
    out = np.full((len(skus), h), np.nan)
    row = {s: i for i, s in enumerate(skus)}
    fc = forecasts.filter(pl.col("sku").is_in(skus))
    rows = np.array([row[s] for s in fc["sku"].to_list()], dtype=int)
    out[rows, fc["horizon"].to_numpy() - 1] = fc[column].fill_null(np.nan).to_numpy()
    return out


def demo_stock(
    forecasts: pl.DataFrame,
    as_of: date,
    seed: int = 0,
    unit_value: dict[str, float] | None = None,
    recent_rate: dict[str, float] | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame, dict[str, str]]:
    """Returns (stock in the ``stock`` table's shape, open POs: po_number, sku, supplier,
    quantity, order_date, expected_delivery, each SKU's supplier). ``forecasts``: one
    forecasts snapshot; ``unit_value``: SKU -> price (what the plan weighs stock by, so the
    simulated buyer's POs follow the same order-up-to levels; missing = all equal);
    ``recent_rate``: SKU -> units/day over the last 28 days (combined into the demand as the
    plan does; missing = the forecast alone)."""
    rng = np.random.default_rng(seed)
    per = (
        forecasts.filter(pl.col("horizon") <= 28)
        .group_by("sku")
        .agg(pl.col("yhat").mean().alias("burn"), pl.col("model").first())
        .sort("sku")
    )
    live = per.filter(pl.col("model") != "dormant")
    dead = per.filter(pl.col("model") == "dormant")
    n = live.height
    band = rng.choice(4, size=n, p=[0.15, 0.35, 0.30, 0.20])
    lo = np.array([0, 0, 14, 45])[band]
    hi = np.array([0, 14, 45, 120])[band]
    runway = rng.uniform(lo, hi)
    on_hand = np.round(live["burn"].to_numpy() * runway).astype(int)
    reserved = np.floor(on_hand * rng.uniform(0, 0.1, n)).astype(int)
    keep_dead = rng.random(dead.height) < 0.05
    dead_hand = rng.integers(1, 21, dead.height)[keep_dead]
    skus = live["sku"].to_list() + dead["sku"].filter(pl.Series(keep_dead)).to_list()
    stock = pl.DataFrame(
        {
            "seller_id": "demo",
            "location": "main",
            "sku": skus,
            "on_hand": np.concatenate([on_hand, dead_hand]).astype(np.int32),
            "reserved": np.concatenate([reserved, np.zeros(len(dead_hand), int)]).astype(np.int32),
            "unit_cost": None,
            "currency": None,
        },
        schema_overrides={"unit_cost": pl.Float64, "currency": pl.String},
    )
    supplier_of = dict(
        zip(
            skus,
            (SUPPLIERS[int(k)] for k in rng.integers(0, len(SUPPLIERS), len(skus))),
            strict=True,
        )
    )
    # the POs a buyer following the plan placed: S over lead + review at the service level
    live_skus = live["sku"].to_list()
    terms = np.array([SUPPLIER_TERMS[supplier_of[k]] for k in live_skus], dtype=int).reshape(-1, 3)
    lead, moq, pack = terms[:, 0], terms[:, 1], terms[:, 2]
    lead_q = policy.lead_levels(
        {k: _matrix(forecasts, live_skus, k) for k in LEAD_BANDS if k in forecasts.columns}
    )
    _, _, order_up_to = policy.order_up_to(
        _matrix(forecasts, live_skus, "yhat"),
        _matrix(forecasts, live_skus, "q05"),
        _matrix(forecasts, live_skus, "q95"),
        lead_q,
        lead + REVIEW_DAYS,
        np.full(n, SERVICE_LEVEL),
        unit_value=None
        if unit_value is None
        else np.array([unit_value.get(k, np.nan) for k in live_skus], dtype=float),
        recent_rate=None
        if recent_rate is None
        else np.array([recent_rate.get(k, np.nan) for k in live_skus], dtype=float),
    )
    need = order_up_to - (on_hand - reserved)
    draw = rng.random(n)
    followed = (need > 0) & (draw < 1 / 3)
    oversized = (need <= 0) & (draw < 0.02) & (live["burn"].to_numpy() > 0)
    idx = np.nonzero(followed | oversized)[0]
    whole = rng.random(idx.size) < 2 / 3
    share = np.where(whole, 1.0, rng.uniform(0.3, 0.8, idx.size))
    qty = np.where(
        followed[idx],
        policy.round_order(need[idx] * share, np.where(whole, moq[idx], 0), pack[idx]),
        np.round(live["burn"].to_numpy()[idx] * rng.uniform(60, 120, idx.size)),
    )
    qty = np.maximum(qty, 1)
    placed = np.array([rng.integers(1, max(lead[i], 2)) for i in idx], dtype=int)
    arrive = lead[idx] - placed
    pos = pl.DataFrame(
        {
            "po_number": [f"DEMO-{k + 1:04d}" for k in range(idx.size)],
            "sku": [live["sku"][int(i)] for i in idx],
            "supplier": [supplier_of[live["sku"][int(i)]] for i in idx],
            "quantity": qty.astype(int),
            "order_date": [as_of - timedelta(days=int(d)) for d in placed],
            "expected_delivery": [as_of + timedelta(days=int(d)) for d in arrive],
        },
        schema_overrides={"order_date": pl.Date, "expected_delivery": pl.Date},
    )
    return stock, pos, supplier_of
