"""A seeded simulation of the seller's own stock and open purchase orders on top of real
demand, for the bundled demo (the public data sets have sales but no stock).

For every SKU of a ``forecasts`` snapshot that is forecast (not dormant): on hand = burn rate
(its forecast units/day over 28 days) x a runway drawn from a mix -- 15 % out of stock, 35 %
0-14 days, 30 % 14-45 days, 20 % 45-120 days -- rounded, with 0-10 % of it reserved. 5 % of
dormant SKUs still hold 1-20 units (dead stock). 12 % of forecast SKUs get an open purchase
order of 7-30 days of burn arriving in 2-20 days. Every stocked SKU is bought from one of
five suppliers (:data:`SUPPLIER_TERMS`: each with its lead time, MOQ and pack size). Same seed,
same stock. Synthetic: the demand is real, the stock is not.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import polars as pl

#: supplier -> (lead time days, MOQ units, pack size units)
SUPPLIER_TERMS = {
    "Northwind Wholesale": (7, 0, 1),
    "Acme Distribution": (10, 6, 6),
    "Blue Harbor Supply": (14, 0, 1),
    "Cardinal Imports": (28, 12, 12),
    "Summit Trading": (21, 0, 2),
}
SUPPLIERS = tuple(SUPPLIER_TERMS)


def demo_stock(
    forecasts: pl.DataFrame, as_of: date, seed: int = 0
) -> tuple[pl.DataFrame, pl.DataFrame, dict[str, str]]:
    """Returns (stock in the ``stock`` table's shape, open POs: po_number, sku, supplier,
    quantity, order_date, expected_delivery, each SKU's supplier). ``forecasts``: one
    forecasts snapshot."""
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
    with_po = rng.random(n) < 0.12
    idx = np.nonzero(with_po)[0]
    qty = np.maximum(np.round(live["burn"].to_numpy()[idx] * rng.uniform(7, 30, idx.size)), 1)
    arrive = rng.integers(2, 21, idx.size)
    placed = rng.integers(1, 15, idx.size)
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
