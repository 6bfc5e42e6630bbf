"""A simulated seller of N SKUs for timing `stockroom daily` (synthetic, seeded).

Writes, into a new data root: ``exports/orders.csv`` (the generic orders layout, one line per
order of one SKU, negative-binomial daily demand per SKU with weekly seasonality, 2 % returns),
``exports/stock.csv`` (two warehouses), ``exports/inventory.csv``, ``exports/listings.csv``
and a ``stockroom.toml`` that imports them, so the timing covers the whole morning:

    .venv/bin/python scripts/own_scale.py /tmp/seller10k --skus 10000 --days 180
    /usr/bin/time -v .venv/bin/stockroom daily --data-root /tmp/seller10k
"""

from __future__ import annotations

import argparse
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl

from stockroom.sim.companies import stockroom_toml

END = datetime(2026, 11, 30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", type=Path)
    parser.add_argument("--skus", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=180)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    out = args.root / "exports"
    out.mkdir(parents=True, exist_ok=True)
    skus = np.array([f"SKU-{i:06d}" for i in range(args.skus)])
    level = rng.lognormal(-1.2, 1.1, args.skus)  # units/day: most slow, a few fast
    price = np.round(rng.lognormal(2.5, 0.7, args.skus), 2)
    start = END - timedelta(days=args.days - 1)
    weekly = np.array([1.0, 1.0, 1.05, 1.1, 1.2, 1.3, 0.8])
    frames = []
    for d in range(args.days):
        day = start + timedelta(days=d)
        mean = level * weekly[day.weekday()]
        units = rng.negative_binomial(2, 2 / (2 + mean))
        sold = np.nonzero(units)[0]
        if not len(sold):
            continue
        qty = units[sold]
        returned = rng.random(len(sold)) < 0.02
        frames.append(
            pl.DataFrame(
                {
                    "order_id": [f"{day:%Y%m%d}-{i}" for i in range(len(sold))],
                    "sku": skus[sold],
                    "quantity": np.where(returned, -qty, qty),
                    "unit_price": price[sold],
                    "order_ts": [f"{day:%Y-%m-%d} 12:00:00"] * len(sold),
                }
            )
        )
    orders = pl.concat(frames).with_columns(
        pl.lit("shop").alias("platform"), pl.lit("EUR").alias("currency")
    )
    orders.write_csv(out / "orders.csv")
    on_hand = rng.poisson(level * rng.uniform(0, 45, args.skus))
    stock = pl.DataFrame(
        {
            "sku": np.repeat(skus, 2),
            "location": np.tile(["Main", "Overflow"], args.skus),
            "on_hand": np.stack([on_hand - on_hand // 3, on_hand // 3], axis=1).ravel(),
            "reserved": 0,
        }
    )
    stock.write_csv(out / "stock.csv")
    pl.DataFrame(
        {
            "sku": skus,
            "title": [f"Item {s[4:]}" for s in skus],
            "quantity": on_hand,
            "price": price,
            "currency": "EUR",
            "platforms": "shop",
        }  # fmt: skip
    ).write_csv(out / "inventory.csv")
    pl.DataFrame(
        {"seller_id": "own", "sku": skus, "quantity": on_hand, "price": price, "currency": "EUR"}
    ).write_csv(out / "listings.csv")
    (args.root / "stockroom.toml").write_text(
        stockroom_toml(
            f"a simulated seller of {args.skus:,} SKUs (scripts/own_scale.py, seed {args.seed})",
            END.date(),
            (),
            ("orders", "stock", "inventory", "listings"),
        )
    )
    print(f"{args.skus:,} SKUs, {orders.height:,} order lines over {args.days} days -> {args.root}")


if __name__ == "__main__":
    main()
