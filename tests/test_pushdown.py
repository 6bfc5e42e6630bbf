"""One-SKU reads (the Forecast page's history, the Reconciliation evidence) are pushed down to
that SKU and give exactly the rows of the full read."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl
import polars.testing
import pytest

from stockroom import workbench
from stockroom.forecast import views as forecast_views
from stockroom.mapping import repo
from tests.conftest import land_orders

DAY = date(2024, 3, 1)


@pytest.fixture
def mapped_root(tmp_path):
    rows = []
    for i in range(12):
        day = DAY + timedelta(days=i % 4)
        for sku in ("A", "B", "C", "D"):
            rows.append((day, f"o{i}-{sku}", "s1", sku, 1 + i % 3, 10.0 + i))
    rows.append((DAY, "o-cancelled", "s1", "A", 50, 10.0, "canceled"))
    land_orders(tmp_path, rows, categories={"A": "cards", "Z": "toys"})
    eng = workbench.engine(tmp_path)
    repo.add_products(
        eng, pl.DataFrame({"sku": ["A", "Z"], "title": ["Ace", "Zed"]}), actor="t", reason="t"
    )
    repo.save_mappings(
        eng,
        pl.DataFrame(
            {
                "platform": "test",
                "external_sku": ["B", "C", "A"],
                "product_sku": ["A", "A", "Z"],
                "method": "exact",
                "confidence": 1.0,
                # B counts as A; C is only proposed (review): not applied; A itself sells as Z
                "status": ["auto", "review", "confirmed"],
                "reason": "test",
            }
        ),
        actor="test",
        reason="test",
    )
    return tmp_path


@pytest.mark.parametrize("sku", ["A", "Z", "C", "D", "nope"])
def test_one_sku_daily_sales_equal_the_full_read(mapped_root, sku):
    full = forecast_views.daily_sales(mapped_root, None)
    one = forecast_views.daily_sales(mapped_root, None, sku)
    polars.testing.assert_frame_equal(one, full.filter(pl.col("id") == sku))
    if sku == "A":  # B's lines, not A's own (A sells as Z) nor C's (only in review)
        assert one["units"].sum() == full.filter(pl.col("id") == "A")["units"].sum() > 0
        assert set(full["id"]) == {"A", "C", "D", "Z"}
