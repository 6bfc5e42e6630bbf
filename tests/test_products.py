"""Product labels: the title people know, never a bare hash."""

from __future__ import annotations

from datetime import date

import polars as pl

from stockroom import store
from stockroom.products import labels

DAY = date(2024, 3, 1)


def test_title_from_the_catalog_then_the_inventory_then_category_and_short_sku(tmp_path):
    products = pl.DataFrame(
        {
            "sku": ["A1", "B2"],
            "title": ["Red mug 300 ml", "  "],
            "category": ["kitchen", "kitchen"],
            "category_source": [None, None],
            "brand": [None, None],
            "gtin": [None, None],
            "weight_g": [None, None],
        },
        schema_overrides={k: pl.String for k in ("category_source", "brand", "gtin")}
        | {"weight_g": pl.Float64},
    )
    store.write_snapshot(tmp_path, "products", products, DAY, run_id="t", sources=[])
    skus = pl.DataFrame(
        {
            "sku": ["A1", "B2", "0123456789abcdef0123456789abcdef", "C3"],
            "category": ["kitchen", "garden_tools", "bed_bath_table", None],
        }
    )
    got = dict(labels(skus, tmp_path, DAY).select("sku", "product").iter_rows())
    assert got == {
        "A1": "Red mug 300 ml",
        "B2": "Garden tools · B2",  # a blank title is no title
        "0123456789abcdef0123456789abcdef": "Bed bath table · 012345",
        "C3": "Uncategorised · C3",
    }
    # before any catalog snapshot: the fallback for every SKU
    early = labels(skus, tmp_path, date(2024, 1, 1))
    assert early["product"][0] == "Kitchen · A1"
