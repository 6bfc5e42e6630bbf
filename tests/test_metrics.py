"""Concentration and supply metrics against values computed by hand."""

from __future__ import annotations

import math
from datetime import date

import polars as pl
import pytest

from stockroom import charts, concentration, supply
from stockroom.db import connect
from stockroom.sales import UNCATEGORISED, make_window, sales
from tests.conftest import land_orders


def sellers(*revenues: float, group: str | None = None) -> pl.DataFrame:
    frame = pl.DataFrame(
        {
            "seller_id": [f"s{i}" for i in range(len(revenues))],
            "revenue": [float(r) for r in revenues],
        }
    )
    return frame.with_columns(category=pl.lit(group)) if group else frame


def test_three_sellers_by_hand():
    # shares 0.5/0.3/0.2: HHI = 50^2 + 30^2 + 20^2 = 3,800; Gini: x = 20, 30, 50 ascending,
    # sum (2i - n - 1) x_i = -2*20 + 0*30 + 2*50 = 60, / (n * sum x) = 60 / 300 = 0.2
    row = concentration.concentration(sellers(50, 30, 20)).row(0, named=True)
    assert row["sellers"] == 3
    assert row["revenue"] == pytest.approx(100)
    assert row["hhi"] == pytest.approx(3_800)
    assert row["cr1"] == pytest.approx(0.5)
    assert row["cr4"] == pytest.approx(1.0)
    assert row["effective_sellers"] == pytest.approx(10_000 / 3_800)
    assert row["gini"] == pytest.approx(0.2)


def test_equal_sellers_and_monopoly():
    equal = concentration.concentration(sellers(*[10] * 8)).row(0, named=True)
    assert equal["hhi"] == pytest.approx(10_000 / 8)
    assert equal["effective_sellers"] == pytest.approx(8)
    assert equal["cr4"] == pytest.approx(0.5)
    assert equal["gini"] == pytest.approx(0.0)
    # zero-revenue sellers do not count: one seller holds everything
    monopoly = concentration.concentration(sellers(100, 0, 0)).row(0, named=True)
    assert monopoly["sellers"] == 1
    assert monopoly["hhi"] == pytest.approx(10_000)
    assert monopoly["cr1"] == pytest.approx(1.0)


def test_grouped_metrics_are_per_group():
    frame = pl.concat([sellers(50, 30, 20, group="a"), sellers(10, 10, group="b")])
    out = {
        r["category"]: r
        for r in concentration.concentration(frame, by=("category",)).iter_rows(named=True)
    }
    assert out["a"]["hhi"] == pytest.approx(3_800)
    assert out["b"]["hhi"] == pytest.approx(5_000)
    assert out["b"]["gini"] == pytest.approx(0.0)


def test_gini_of_extreme_inequality_approaches_one():
    n = 100
    row = concentration.concentration(sellers(*([1e-9] * (n - 1) + [1.0]))).row(0, named=True)
    assert row["gini"] == pytest.approx((n - 1) / n, rel=1e-6)


def test_empty_input_gives_empty_frame():
    out = concentration.concentration(sellers())
    assert out.is_empty() and out.columns == list(concentration.METRIC_COLUMNS)


@pytest.mark.parametrize(
    "hhi,band",
    [
        (999, "unconcentrated"),
        (1_000, "unconcentrated"),
        (1_500, "moderately concentrated"),
        (1_800, "moderately concentrated"),
        (1_801, "highly concentrated"),
        (10_000, "highly concentrated"),
    ],
)
def test_hhi_bands(hhi, band):
    assert concentration.hhi_band(hhi) == band


@pytest.fixture
def tiny_store(tmp_path):
    d = date(2024, 3, 10)
    land_orders(
        tmp_path,
        [
            (d, "o1", "alice", "A", 2, 10.0),  # A: alice + bob
            (d, "o2", "bob", "A", 1, 10.0),
            (date(2024, 3, 5), "o3", "alice", "B", 3, 20.0),  # B: alice only
            (date(2024, 3, 5), "o4", "bob", "C", 5, 1.0, "canceled"),  # cancelled: not a sale
            (date(2024, 3, 1), "o5", "carol", "C", 4, 5.0),  # first day of a 10-day window
            (date(2024, 2, 29), "o6", "dave", "D", 9, 100.0),  # one day before the window
        ],
        categories={"A": "cards", "B": "cards", "C": "toys", "D": "toys"},
    )
    return tmp_path


def test_window_bounds_and_cancelled_lines(tiny_store):
    con = connect(tiny_store)
    window = make_window(date(2024, 3, 10), 10)
    assert window.days == 10 and str(window.start.date()) == "2024-03-01"
    rows = sales(con, window, ("seller_id",)).iter_rows(named=True)
    by_seller = {r["seller_id"]: r for r in rows}
    assert set(by_seller) == {"alice", "bob", "carol"}  # dave is outside, bob's C cancelled
    assert by_seller["alice"]["revenue"] == pytest.approx(2 * 10 + 3 * 20)
    assert by_seller["bob"]["units"] == 1


def test_supply_by_hand(tiny_store):
    con = connect(tiny_store)
    window = make_window(date(2024, 3, 10), 10)
    products = {r["sku"]: r for r in supply.product_supply(con, window).iter_rows(named=True)}
    assert products["A"]["sellers"] == 2 and not products["A"]["single_seller"]
    assert products["B"]["sellers"] == 1 and products["B"]["single_seller"]
    assert products["C"]["units_per_day"] == pytest.approx(4 / 10)
    cats = {r["category"]: r for r in supply.category_supply(con, window).iter_rows(named=True)}
    assert cats["cards"]["products"] == 2
    assert cats["cards"]["sellers"] == 2
    assert cats["cards"]["single_seller_share"] == pytest.approx(0.5)
    assert cats["cards"]["single_seller_revenue_share"] == pytest.approx(60 / 90)
    assert cats["cards"]["sellers_per_product"] == pytest.approx(1.5)
    total = supply.supply_summary(con, window)
    assert total["products"] == 3 and total["sellers"] == 3
    assert total["single_seller_share"] == pytest.approx(2 / 3)
    assert total["units_per_day"] == pytest.approx((3 + 3 + 4) / 10)
    top = supply.top_suppliers(con, window).row(0, named=True)
    assert top["seller_id"] == "alice" and top["products"] == 2 and top["sole_supplier_of"] == 1
    # the page computes them from one shared (category, sku, seller) frame: same figures
    base = supply.sku_sellers(con, window)
    assert supply.supply_summary(con, window, sku_seller=base) == pytest.approx(total)
    for category in ("cards", None):
        assert supply.supply_summary(con, window, category, sku_seller=base) == pytest.approx(
            supply.supply_summary(con, window, category)
        )
    assert supply.top_suppliers(con, window, sku_seller=base).equals(
        supply.top_suppliers(con, window)
    )


def test_concentration_views_on_store(tiny_store):
    con = connect(tiny_store)
    window = make_window(date(2024, 3, 10), 10)
    table = concentration.seller_table(con, window)
    assert table["seller_id"].to_list() == ["alice", "carol", "bob"]  # 80, 20, 10
    assert table["share"].sum() == pytest.approx(1.0)
    assert table["cumulative_share"][-1] == pytest.approx(1.0)
    summary = concentration.summary(con, window)
    shares = [80 / 110, 20 / 110, 10 / 110]
    assert summary["hhi"] == pytest.approx(sum((100 * s) ** 2 for s in shares))
    cards = concentration.summary(con, window, "cards")
    assert cards["sellers"] == 2 and cards["cr1"] == pytest.approx(80 / 90)
    monthly = concentration.monthly(con, date(2024, 3, 10))
    assert monthly["month"].to_list() == [date(2024, 2, 1), date(2024, 3, 1)]
    assert monthly["complete"].to_list() == [False, False]  # Feb starts on the 29th; March open
    assert math.isclose(monthly["hhi"][0], 10_000)


def test_whole_history_window_starts_at_first_order(tiny_store):
    con = connect(tiny_store)
    window = make_window(date(2024, 3, 10), None, date(2024, 2, 29))
    assert window.days == 11
    assert concentration.summary(con, window)["sellers"] == 4


def test_headline_across_categories_by_hand():
    # a: shares 0.5/0.3/0.2, HHI 3,800, CR4 1.0, revenue 100; b: ten equal sellers, HHI 1,000,
    # CR4 0.4, revenue 100; c: one seller with 1 (HHI 10,000, under 1 % of revenue);
    # uncategorised sales (50) are no market and are left out of the headline
    frame = pl.concat(
        [
            sellers(50, 30, 20, group="office_furniture"),
            sellers(*[10] * 10, group="b"),
            sellers(1, group="c"),
            sellers(50, group=UNCATEGORISED),
        ]
    )
    per_category = concentration.rank_categories(concentration.concentration(frame, ("category",)))
    assert per_category["category"].to_list()[:2] == ["b", "office_furniture"]  # ties by name
    assert per_category["revenue_share"].sum() == pytest.approx(1.0)
    names = dict(zip(per_category["category"], per_category["category_name"], strict=True))
    assert names["office_furniture"] == "Office furniture"
    bands = dict(zip(per_category["category"], per_category["band"], strict=True))
    assert bands == {
        k: concentration.hhi_band(h)
        for k, h in zip(per_category["category"], per_category["hhi"], strict=True)
    }
    head = concentration.across_categories(per_category)
    assert head["hhi"] == pytest.approx((100 * 3_800 + 100 * 1_000 + 1 * 10_000) / 201)
    assert head["cr4"] == pytest.approx((100 * 1.0 + 100 * 0.4 + 1 * 1.0) / 201)
    assert head["highly_concentrated_share"] == pytest.approx(101 / 201)
    assert head["band"] == "highly concentrated" and head["categories"] == 3
    # c holds 1/251 of the revenue: not listed among the most concentrated
    assert head["most_concentrated"]["category"].to_list() == ["office_furniture", "b"]
    # the pooled figure is far lower: 19 sellers of unrelated categories in one market
    pooled = concentration.concentration(frame).row(0, named=True)
    assert pooled["hhi"] < head["hhi"] / 2
    empty = concentration.across_categories(per_category.head(0))
    assert empty["hhi"] is None and empty["most_concentrated"].is_empty()


def test_monthly_across_categories_on_store(tiny_store):
    con = connect(tiny_store)
    monthly = concentration.monthly_across_categories(con, date(2024, 3, 10))
    feb, march = monthly.iter_rows(named=True)
    assert feb["month"] == date(2024, 2, 1) and feb["hhi"] == pytest.approx(10_000)
    # March: cards alice 80 / bob 10 (HHI 8,024.7), toys carol 20 (HHI 10,000); bob's
    # cancelled toys line is no sale
    cards = (100 * 80 / 90) ** 2 + (100 * 10 / 90) ** 2
    assert march["hhi"] == pytest.approx((90 * cards + 20 * 10_000) / 110)
    assert march["sellers"] == 3 and march["revenue"] == pytest.approx(110)
    assert monthly["complete"].to_list() == [False, False]
    window = make_window(date(2024, 3, 10), 10)
    per_category = concentration.by_category(con, window)
    assert concentration.across_categories(per_category)["hhi"] == pytest.approx(march["hhi"])


def test_seller_table_labels_sellers_by_id_and_city(tiny_store):
    con = connect(tiny_store)
    table = concentration.seller_table(con, make_window(date(2024, 3, 10), 10))
    assert table.columns == list(concentration.SELLER_COLUMNS)
    for row in table.iter_rows(named=True):
        assert row["seller"].startswith(row["seller_id"][:8])
        if row["city"]:
            assert row["seller"].endswith(row["city"].title())


def test_trend_chart_reads_in_full_and_leaves_out_thin_months():
    monthly = pl.DataFrame(
        {
            "month": [date(2024, m, 1) for m in (1, 2, 3, 4)],
            "hhi": [10_000.0, 2_400.0, 1_500.0, 900.0],
            "cr4": [1.0, 0.6, 0.5, 0.4],
            "sellers": [1, 12, 30, 45],
            "complete": [True, True, True, False],
        }
    )
    fig = charts.concentration_trend(monthly)
    hhi = fig.data[0]
    assert list(hhi.x) == [date(2024, m, 1) for m in (2, 3, 4)]  # one seller: left out
    assert "1 month(s) with < 10 sellers left out" in fig.layout.title.text
    ticks = list(fig.layout.yaxis.ticktext)
    assert "1,000" in ticks and "1,800" in ticks
    assert all(t.replace(",", "").isdigit() for t in ticks)  # no "2", "5", "1k"
    # every tick lies on the data's scale (log axis ranges are log10)
    assert all(600 <= v <= 3_600 for v in fig.layout.yaxis.tickvals)
