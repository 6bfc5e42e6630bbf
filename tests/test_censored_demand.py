"""Censored demand: a day that starts with nothing available is not a day of zero demand.

Simulated with known truth: Poisson demand, then a stock-out that sells nothing for a while.
The forecast after the stock-out must stay near the true rate (it drops without the mask),
the dormant rule must not mistake an empty shelf for a dead product, and stock-out days are
neither training labels nor scored errors. The job reads the mask from ``stock`` snapshots.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import polars as pl
import pytest

from stockroom import store
from stockroom.forecast.data import observed, panel, unconstrain
from stockroom.forecast.forecaster import Forecaster, ForecasterConfig
from stockroom_jobs.forecast import run_forecast
from tests.conftest import daily_sales, land_orders

H = 14
CONFIG = ForecasterConfig.shipped(H, trees=60, depth=4, history_days=300)


def test_unconstrain_fills_stockouts_with_the_demand_before_them():
    y = np.array([[2.0, 4.0, 6.0, 0.0, 0.0, 0.0, 5.0, 0.0, 9.0]])
    cens = np.array([[False, False, False, True, True, True, False, True, True]])
    p = panel(daily_sales(y, date(2024, 1, 1)))
    before = p.y.copy()
    q = unconstrain(p, cens, window=3)
    # days 3-5: one stock-out run, each day the mean of the 3 uncensored days before it
    assert q.y[0, 3:6] == pytest.approx([4.0, 4.0, 4.0])
    # day 7: the window before it (days 4-6) holds one uncensored day (5 units)
    assert q.y[0, 7] == pytest.approx(5.0)
    # day 8 sold 9 while marked out (a late delivery): what sold is kept, never lowered
    assert q.y[0, 8] == pytest.approx(9.0)
    assert q.y[0, 6] == 5.0 and np.array_equal(q.censored, cens)
    assert np.array_equal(p.y, before) and p.censored is None  # the input is not changed
    assert np.isnan(observed(q, 0, 9)[0, 3:6]).all() and observed(q, 0, 9)[0, 6] == 5.0
    with pytest.raises(ValueError, match="censored mask"):
        unconstrain(p, cens[:, :5])


@pytest.fixture(scope="module")
def stocked_out():
    """60 Poisson sellers (2-8 units/day, weekly pattern), 420 days; the last 35 days of the
    first 30 are a stock-out that sold nothing -- the true demand is known."""
    rng = np.random.default_rng(11)
    n, d = 60, 420
    rate = rng.uniform(2, 8, n)
    week = 1 + 0.3 * np.sin(2 * np.pi * np.arange(d) / 7)
    truth = rng.poisson(rate[:, None] * week[None, :]).astype(float)
    sold = truth.copy()
    cens = np.zeros((n, d), dtype=bool)
    cens[:30, -35:] = True
    sold[cens] = 0
    return rate, panel(daily_sales(sold, date(2023, 1, 1))), cens


def test_the_forecast_after_a_stockout_does_not_drop(stocked_out):
    rate, p, cens = stocked_out
    out = slice(0, 30)
    naive = Forecaster(CONFIG).fit(p).predict(p)
    censored = unconstrain(p, cens)
    aware = Forecaster(CONFIG).fit(censored).predict(censored)
    # reading the empty shelf as no demand: 35 days without a sale is "dormant", forecast 0
    assert (naive.model[out] == "dormant").all()
    assert np.nanmean(naive.yhat[out]) < 0.2 * rate[out].mean()
    # with the stock-outs censored: forecast by a model, near the true rate of every SKU
    assert not (aware.model[out] == "dormant").any()
    ratio = np.nanmean(aware.yhat[out], axis=1) / rate[out]
    assert np.median(ratio) == pytest.approx(1.0, abs=0.15) and ratio.min() > 0.7
    # the SKUs that never ran out are forecast as before
    rest = np.nanmean(aware.yhat[30:], axis=1) / np.nanmean(naive.yhat[30:], axis=1)
    assert np.median(rest) == pytest.approx(1.0, abs=0.1)


def test_stockout_days_are_not_scored(stocked_out):
    """The backtest's actuals leave censored days out (NaN), so an empty shelf is no error."""
    _, p, cens = stocked_out
    censored = unconstrain(p, cens)
    runs = Forecaster(CONFIG).cross_validation(censored, windows=1)
    forecast, actual = runs[0]
    last = slice(len(p.dates) - H, len(p.dates))
    assert np.isnan(actual[:30]).all() and not np.isnan(actual[30:]).any()
    assert np.array_equal(actual[30:], p.y[30:, last])
    assert forecast.yhat.shape == actual.shape


def test_the_job_reads_stockouts_from_stock_snapshots(tmp_path):
    as_of = date(2024, 6, 30)
    rows = [
        (as_of - timedelta(days=d), f"{sku}-{d}", "s1", sku, 3, 10.0)
        for sku in ("steady", "shelf")
        for d in range(200)
        # "shelf" sold nothing in its last 40 days: its stock ran out
        if not (sku == "shelf" and d < 40)
    ]
    land_orders(tmp_path, rows, {"steady": "cards", "shelf": "cards"})
    run_forecast(tmp_path, as_of, horizon=H, config=CONFIG)
    blind = store.read_snapshot(tmp_path, "forecasts", as_of).filter(pl.col("sku") == "shelf")
    assert (blind["model"] == "dormant").all()  # no stock data: an empty shelf looks dead
    for d in range(40):
        day = as_of - timedelta(days=d)
        stock = pl.DataFrame(
            {
                "seller_id": ["s1", "s1"],
                "location": ["main", "main"],
                "sku": ["steady", "shelf"],
                "on_hand": [50, 0],
                "reserved": [0, 0],
                "unit_cost": [4.0, 4.0],
                "currency": ["EUR", "EUR"],
            },
            schema_overrides={"on_hand": pl.Int32, "reserved": pl.Int32},
        )
        store.write_snapshot(tmp_path, "stock", stock, day, run_id="test", sources=[])
    steps: list[str] = []
    run_forecast(tmp_path, as_of, horizon=H, config=CONFIG, on_step=steps.append)
    fc = store.read_snapshot(tmp_path, "forecasts", as_of)
    shelf = fc.filter(pl.col("sku") == "shelf")
    assert (shelf["model"] != "dormant").all()
    assert shelf["yhat"].mean() == pytest.approx(3.0, abs=0.6)
    assert any("40 SKU-days started out of stock" in s for s in steps)
    steady = fc.filter(pl.col("sku") == "steady")["yhat"].mean()
    assert steady == pytest.approx(3.0, abs=0.6)
