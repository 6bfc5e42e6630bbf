"""Young products are forecast from what the earlier launches most like them sold next
(reference class forecasting), never from the future, and only where enough launches are known."""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl

from stockroom.forecast import reference_class
from stockroom.forecast.data import panel
from stockroom.forecast.forecaster import Forecaster, ForecasterConfig
from stockroom.forecast.model import QUANTILES
from tests.conftest import daily_sales

LEVELS = dict(zip(("q05", "q25", "q50", "q75", "q95"), QUANTILES, strict=True))
H = 14


def launches(
    n_hits: int, n_flops: int, days: int, seed: int = 5, last: int = 120
) -> tuple[np.ndarray, np.ndarray]:
    """(y, first): ``n_hits`` launches that go on selling about 4 units a day and ``n_flops``
    that open with a 20-unit order and then sell a unit now and then, launched on days
    40 .. days - ``last``; NaN before each first sale."""
    rng = np.random.default_rng(seed)
    n = n_hits + n_flops
    first = rng.integers(40, days - last, n)
    y = np.full((n, days), np.nan)
    for i in range(n):
        life = days - first[i]
        if i < n_hits:
            y[i, first[i] :] = rng.poisson(4.0, life)
        else:
            y[i, first[i] :] = rng.binomial(1, 0.1, life)
        y[i, first[i]] = 20.0 if i >= n_hits else max(y[i, first[i]], 1.0)
    return y, first


def test_a_young_product_gets_what_its_nearest_earlier_launches_sold_next():
    days = 400
    y, first = launches(60, 60, days)
    cutoff = days - 1
    # two products launched 20 days before the cutoff: one selling, one that only opened big
    hit, flop = np.full(days, np.nan), np.full(days, np.nan)
    hit[cutoff - 20 :] = 4.0
    flop[cutoff - 20 :] = 0.0
    flop[cutoff - 20] = 20.0
    y = np.vstack([y, hit, flop])
    first = np.append(first, [cutoff - 20, cutoff - 20])
    rows = np.array([len(first) - 2, len(first) - 1])
    done, yhat, daily, summed = reference_class.forecast(y, first, cutoff, rows, H, LEVELS)
    assert done.all()
    # the hit follows the hits (about 4 a day), the flop the flops (about 0.1): not one
    # average for every launch
    assert 3.0 < yhat[0].mean() < 5.0
    assert yhat[1].mean() < 0.5
    # the lead-time sums: quantiles ordered by level and growing with the days
    for row in range(2):
        q = np.stack([summed[k][row] for k in LEVELS])
        assert (np.diff(q, axis=0) >= 0).all() and (np.diff(q, axis=1) >= 0).all()
        assert q[0, -1] <= yhat[row].sum() <= q[-1, -1]
    assert summed["q95"][0, -1] > summed["q95"][1, -1]
    # exactly the neighbours' futures: every hit sells 4 a day -> the hit's forecast is 4
    y_same = y.copy()
    for i in range(60):
        y_same[i, first[i] :] = 4.0
    _, yhat_same, daily_same, _ = reference_class.forecast(
        y_same, first, cutoff, rows[:1], H, LEVELS
    )
    assert np.allclose(yhat_same[0], 4.0) and np.allclose(daily_same["q95"][0], 4.0)


def test_the_reference_class_never_reads_past_the_cutoff():
    days = 400
    y, first = launches(60, 60, days)
    cutoff = days - 150
    young = reference_class.young(first, cutoff)
    rows = np.nonzero(young)[0]
    assert len(rows) > 0
    got = reference_class.forecast(y, first, cutoff, rows, H, LEVELS)
    scrambled = y.copy()
    scrambled[:, cutoff + 1 :] *= 9
    again = reference_class.forecast(scrambled, first, cutoff, rows, H, LEVELS)
    assert got[0].any() and np.array_equal(got[0], again[0])
    assert np.allclose(got[1], again[1], equal_nan=True)


def test_too_few_launches_or_products_from_the_data_start_keep_their_own_forecast():
    days = 400
    y, first = launches(20, 20, days)  # 40 launches < 50 neighbours
    cutoff = days - 1
    rows = np.array([0])
    first[0] = cutoff - 10
    done, yhat, _, summed = reference_class.forecast(y, first, cutoff, rows, H, LEVELS)
    assert not done.any() and np.isnan(yhat).all() and np.isnan(summed["q50"]).all()
    # a first sale in the data's opening weeks is the start of the data, not a launch
    assert not reference_class.young(np.array([0, 5, 27]), 40).any()
    assert reference_class.young(np.array([28, 39]), 60).all()
    assert not reference_class.young(np.array([28]), 28 + reference_class.YOUNG_DAYS).any()


def test_the_forecaster_routes_young_launches_to_their_reference_class():
    days = 400
    y, first = launches(60, 60, days, seed=7, last=5)
    rng = np.random.default_rng(1)
    steady = rng.poisson(3.0, (20, days)).astype(float)  # sold since the data's first day
    units = np.nan_to_num(np.vstack([y, steady]))
    sales = daily_sales(units, date(2023, 1, 1)).filter(pl.col("units").cum_sum().over("id") > 0)
    p = panel(sales)
    config = ForecasterConfig.shipped(H, history_days=300, trees=40, depth=3)
    fc = Forecaster(config).fit(p).predict(p)
    cutoff = len(p.dates) - 1
    model = np.array(fc.model)
    young = reference_class.young(p.first, cutoff) & (model != "dormant")
    assert young.any()
    assert set(model[young]) == {"reference_class"}
    assert "reference_class" not in set(model[~young])
    # a young one under 30 days still carries the new-product flag the plan reads
    cold = young & (cutoff - p.first < 30)
    assert all("cold_start" in fc.flags[i] for i in np.nonzero(cold)[0])
