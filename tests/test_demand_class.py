"""Syntetos-Boylan demand classes, MAPE of weekly / 28-day totals and forecast coverage: the
figures the benchmark reports per class and at the levels where MAPE is defined."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from stockroom.forecast import backtest, metrics
from stockroom.forecast.demand_class import adi_cv2, classify


def test_classes_follow_the_adi_and_cv2_cut_offs():
    d = 364
    t = np.arange(d)
    smooth = np.full(d, 5.0)  # a sale every day, always 5: ADI 1, CV² 0
    erratic = np.where(t % 2 == 0, 1.0, 20.0)  # every day, sizes 1 or 20
    intermittent = np.where(t % 4 == 0, 3.0, 0.0)  # every 4th day, always 3
    lumpy = np.where(t % 4 == 0, np.where(t % 8 == 0, 1.0, 30.0), 0.0)
    dead = np.zeros(d)
    late = np.full(d, np.nan)
    late[-100:] = np.where(t[-100:] % 2 == 0, 4.0, 0.0)  # launched 100 days ago, every 2nd day
    y = np.vstack([smooth, erratic, intermittent, lumpy, dead, late])
    adi, cv2 = adi_cv2(y)
    assert adi[:4] == pytest.approx([1.0, 1.0, 4.0, 4.0])
    assert adi[5] == pytest.approx(2.0)  # observed days only: not the NaN before launch
    # erratic: sizes 1 and 20 in equal shares, mean 10.5, population std 9.5
    assert cv2[1] == pytest.approx((9.5 / 10.5) ** 2)
    assert cv2[0] == 0 and cv2[2] == 0 and cv2[3] > 0.49
    assert classify(y).tolist() == [
        "smooth",
        "erratic",
        "intermittent",
        "lumpy",
        "no demand",
        "intermittent",
    ]
    # the window: a series that sold daily long ago and every 4th day lately (over all of
    # it: 1,364 days / 1,091 sale days = ADI 1.25)
    old_then_sparse = np.concatenate([np.full(1000, 5.0), intermittent])[None, :]
    assert classify(old_then_sparse).tolist() == ["intermittent"]
    assert classify(old_then_sparse, days=1364).tolist() == ["smooth"]


def test_period_mape_scores_totals_where_there_were_sales():
    actual = np.array(
        [
            [1.0] * 14,  # weekly totals 7, 7
            [0.0] * 7 + [2.0] * 7,  # a week without sales is not scored: 0, 14
            [1.0] * 6 + [np.nan] + [1.0] * 7,  # a week with an unobserved day is not scored
        ]
    )
    forecast = np.array([[2.0] * 14, [1.0] * 14, [1.0] * 14])
    mape, pairs = metrics.period_mape(actual, forecast, 7)
    # |7-14|/7 twice, |14-7|/14 once, |7-7|/7 once
    assert pairs == 4
    assert mape == pytest.approx((1.0 + 1.0 + 0.5 + 0.0) / 4)
    assert metrics.period_mape(actual, forecast, 28) == (
        pytest.approx(float("nan"), nan_ok=True),
        0,
    )
    assert metrics.period_mape(actual, forecast, 14)[1] == 2  # the third row has a NaN day


def test_forecast_coverage_counts_active_series_with_a_forecast():
    history = np.array([[0.0] * 27 + [1.0], [0.0] * 28, [2.0] * 28, [1.0] * 28])
    yhat = np.array([[1.0, 1.0], [np.nan, np.nan], [np.nan, 1.0], [np.nan, np.nan]])
    # active: rows 0, 2, 3 (row 1 sold nothing); only row 0 is forecast on every day
    assert backtest.forecast_coverage(history, yhat) == pytest.approx(1 / 3)


def test_olist_orders_become_daily_units_per_product(tmp_path):
    """The Olist tables as a benchmark dataset: items -> units per purchase day, cancelled
    orders out, products with too few sale days out."""
    from datetime import datetime

    import polars as pl

    from stockroom.errors import InputError
    from stockroom.forecast.data import from_olist

    orders = pl.DataFrame(
        {
            "order_id": ["o1", "o2", "o3", "o4"],
            "order_status": ["delivered", "delivered", "canceled", "shipped"],
            "order_purchase_timestamp": [
                datetime(2018, 1, 1, 10),
                datetime(2018, 1, 1, 18),
                datetime(2018, 1, 2, 9),
                datetime(2018, 1, 3, 9),
            ],
        }
    )
    items = pl.DataFrame(
        {
            "order_id": ["o1", "o1", "o2", "o3", "o4", "o4"],
            "product_id": ["a", "a", "a", "a", "a", "b"],
            "price": [10.0, 10.0, 12.0, 9.0, 11.0, 5.0],
        }
    )
    products = pl.DataFrame({"product_id": ["a", "b"], "product_category_name": ["bebes", None]})
    orders.write_parquet(tmp_path / "orders_sample.parquet")
    items.write_parquet(tmp_path / "order_items_sample.parquet")
    products.write_parquet(tmp_path / "products.parquet")
    sales = from_olist(tmp_path, min_sale_days=2)
    assert sales.select("id", "date", "units", "price", "category").rows() == [
        ("a", datetime(2018, 1, 1).date(), 3.0, 10.0, "bebes"),
        ("a", datetime(2018, 1, 3).date(), 1.0, 11.0, "bebes"),
    ]  # "b" sold on one day only; the cancelled order of Jan 2 is no sale
    assert from_olist(tmp_path, min_sale_days=1)["id"].unique().sort().to_list() == ["a", "b"]
    (tmp_path / "products.parquet").unlink()
    with pytest.raises(InputError, match="products"):
        from_olist(tmp_path)


def test_products_launched_under_60_days_before_the_cutoff_are_scored_as_new():
    from datetime import date

    from stockroom.forecast.data import panel
    from tests.conftest import daily_sales

    d = 300
    units = np.zeros((4, d))
    units[0] = 5.0  # sold daily from the data's first day: smooth
    units[1, 200:] = 5.0  # launched 100 days before the end, daily since: smooth
    units[2, 270:] = 5.0  # launched 30 days before the end: one sale day would read "smooth"
    units[3, 290] = 2.0  # launched 10 days before the end, one sale
    sales = daily_sales(units, date(2024, 1, 1)).filter(pl.col("units").cum_sum().over("id") > 0)
    p = panel(sales)
    cutoff = d - 1
    assert classify(p.y[:, : cutoff + 1]).tolist() == ["smooth", "smooth", "smooth", "intermittent"]
    assert backtest.score_classes(p, cutoff).tolist() == ["smooth", "smooth", "new", "new"]
    # the launch of 100 days ago was new 50 days after it, and its class is read from then on
    assert backtest.score_classes(p, 250).tolist()[1] == "new"
    assert backtest.score_classes(p, 260).tolist()[1] == "smooth"  # 60 days after its first sale
    assert "new" in backtest.SCORED_CLASSES
