"""Simulated companies for the scale benchmark and the cluster tests: each one a seller's own
exports (orders, stock, central inventory, suppliers) and a ``stockroom.toml`` that takes them
through the morning (``stockroom daily``), seeded so a company is the same every time.

Demand per SKU (daily units, ``days`` days to ``end``): a third smooth (Poisson, mean 0.5-6 a
day, a weekly cycle), a third intermittent (a sale on 5-30 % of days, 1-4 units), a third slow
(a sale on 1-5 % of days). One order line per SKU and day with a sale. Stock covers 0-60 days of
the SKU's mean demand; two suppliers with 7- and 21-day lead times. The files use Stockroom's
generic import layouts (the agreed column names), so nothing here depends on a platform's.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import numpy as np
import polars as pl

from stockroom.export import write_csv

CURRENCIES = ("EUR", "USD", "GBP")

SOURCES = {
    "orders": 'import = "orders"\nplatform = "shop"',
    "stock": 'import = "stock"\nsnapshot_date = {end}',
    "inventory": 'import = "inventory"\nsnapshot_date = {end}',
    "listings": 'import = "listings"\nplatform = "shop"\nsnapshot_date = {end}',
    "suppliers": 'import = "settings"',
}


def stockroom_toml(
    heading: str, end: date, reports: tuple[str, ...], sources: tuple[str, ...]
) -> str:
    """A ``stockroom.toml`` for a simulated seller: one files source per name in ``sources``
    (keys of :data:`SOURCES`, each read from ``exports/<name>.csv``; snapshots of state dated
    ``end``) and the morning's ``reports``. Raises ``KeyError`` for an unknown source name."""
    blocks = [f"# {heading}", f"reports = {_toml_list(reports)}"]
    for name in sources:
        body = SOURCES[name].format(end=end.isoformat())
        blocks.append(
            f'[[sources]]\nname = "{name}"\nkind = "files"\npaths = ["exports/{name}.csv"]\n{body}'
        )
    return "\n\n".join(blocks) + "\n"


def demand(seed: int, skus: int, days: int) -> np.ndarray:
    """Daily units, shape (skus, days), int64 (see the module doc for the three classes)."""
    rng = np.random.default_rng(seed)
    kind = rng.integers(0, 3, skus)
    weekly = 1 + 0.3 * np.sin(2 * np.pi * (np.arange(days) % 7) / 7)
    smooth = rng.poisson(rng.uniform(0.5, 6, (skus, 1)) * weekly)
    intermittent = (rng.random((skus, days)) < rng.uniform(0.05, 0.3, (skus, 1))) * rng.integers(
        1, 5, (skus, days)
    )
    slow = (rng.random((skus, days)) < rng.uniform(0.01, 0.05, (skus, 1))).astype(np.int64)
    return np.select([kind[:, None] == 0, kind[:, None] == 1], [smooth, intermittent], slow)


def write_company(
    root: Path,
    seed: int,
    *,
    skus: int = 1000,
    days: int = 90,
    end: date = date(2026, 11, 30),
    reports: tuple[str, ...] = ("order_today",),
) -> Path:
    """Write one simulated company's exports into ``root/exports`` and its ``stockroom.toml``
    into ``root`` (created); returns ``root``. Same ``seed``, same bytes."""
    rng = np.random.default_rng(seed + 1_000_003)
    units = demand(seed, skus, days)
    currency = CURRENCIES[seed % len(CURRENCIES)]
    sku = np.array([f"C{seed:05d}-{i:05d}" for i in range(skus)])
    title = np.array([f"Item {i} of company {seed}" for i in range(skus)])
    price = np.round(rng.uniform(2, 80, skus), 2)
    exports = Path(root) / "exports"
    exports.mkdir(parents=True, exist_ok=True)
    s_idx, d_idx = np.nonzero(units)
    first = end - timedelta(days=days - 1)
    day_text = np.array([(first + timedelta(days=int(d))).isoformat() for d in range(days)])
    write_csv(
        pl.DataFrame(
            {
                "order_id": [f"O{d:03d}-{s:05d}" for s, d in zip(s_idx, d_idx, strict=True)],
                "order_ts": np.char.add(day_text[d_idx], "T10:00:00+00:00"),
                "sku": sku[s_idx],
                "title": title[s_idx],
                "quantity": units[s_idx, d_idx],
                "unit_price": price[s_idx],
                "currency": currency,
            }
        ),
        exports / "orders.csv",
    )
    mean = units.mean(axis=1)
    on_hand = np.floor(mean * rng.uniform(0, 60, skus)).astype(np.int64)
    write_csv(
        pl.DataFrame({"sku": sku, "location": "main", "on_hand": on_hand}), exports / "stock.csv"
    )
    write_csv(
        pl.DataFrame(
            {
                "sku": sku,
                "title": title,
                "quantity": on_hand,
                "price": price,
                "cost": np.round(price * 0.45, 2),
                "currency": currency,
                "location": "main",
            }
        ),
        exports / "inventory.csv",
    )
    suppliers = pl.DataFrame(
        {
            "SKU": ["", ""] + list(sku),
            "Supplier": ["Near Supply", "Far Supply"]
            + ["Near Supply" if i % 2 else "Far Supply" for i in range(skus)],
            "Lead time": ["7", "21"] + [""] * skus,
            "Review period": ["7", "7"] + [""] * skus,
            "MOQ": ["0", "12"] + [""] * skus,
            "Pack size": ["1", "6"] + [""] * skus,
            "Service level": ["0.95", "0.95"] + [""] * skus,
        }
    )
    write_csv(suppliers, exports / "suppliers.csv")
    (Path(root) / "stockroom.toml").write_text(
        stockroom_toml(
            f"a simulated company (stockroom.sim.companies, seed {seed}): its exports in exports/",
            end,
            reports,
            ("orders", "stock", "inventory", "suppliers"),
        )
    )
    return Path(root)


def _toml_list(values: tuple[str, ...]) -> str:
    return "[" + ", ".join(f'"{v}"' for v in values) + "]"
