"""The forecast job: the brief's rules on a hand-made store, the snapshot, determinism."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import polars as pl
import pytest

from stockroom import store
from stockroom.forecast import rules
from stockroom.forecast.forecaster import ForecasterConfig
from stockroom_jobs.forecast import run_forecast
from tests.conftest import land_orders

AS_OF = date(2024, 6, 30)
CONFIG = ForecasterConfig.shipped(14, trees=60, depth=4)


def orders(days: range, sku: str, qty: int, start: int = 0) -> list[tuple]:
    return [(AS_OF - timedelta(days=d), f"{sku}-{d}", "s1", sku, qty, 10.0) for d in days]


@pytest.fixture
def shop(tmp_path):
    rows = (
        orders(range(0, 200), "steady", 3)  # sells 3/day every day
        + orders(range(40, 200, 2), "gone", 2)  # last sale 40 days ago: dormant
        + orders(range(0, 10), "new", 1)
    )  # first sale 9 days ago: cold start
    land_orders(tmp_path, rows, {"steady": "cards", "gone": "cards", "new": "cards"})
    return tmp_path


def test_rules_models_and_flags(shop):
    summary = run_forecast(shop, AS_OF, horizon=14, config=CONFIG)
    fc = store.read_snapshot(shop, "forecasts", AS_OF)
    assert fc.height == 3 * 14 and fc["target_date"].min() == AS_OF + timedelta(days=1)
    per = {r["sku"]: r for r in fc.filter(pl.col("horizon") == 1).iter_rows(named=True)}
    assert per["gone"]["model"] == "dormant" and per["gone"]["flags"] == "dormant"
    assert per["gone"]["yhat"] == 0
    assert per["new"]["model"] == "category_average" and "cold_start" in per["new"]["flags"]
    # 10 days old: 10/30 of its own 1 unit/day + 20/30 of the category's 3 units/day (the
    # established SKU's mean over the last 28 days)
    assert per["new"]["yhat"] == pytest.approx(10 / 30 * 1 + 20 / 30 * 3)
    assert per["steady"]["model"] in ("global_xgboost", "seasonal_naive", "tsb")
    assert per["steady"]["yhat"] == pytest.approx(3.0, abs=0.5)
    assert summary.flags == {"dormant": 1, "cold_start": 1}


def test_the_saved_forecaster_reproduces_the_snapshot(shop):
    """The job saves its fitted forecaster; loaded again, it makes the same forecasts."""
    from stockroom.forecast.forecaster import Forecaster
    from stockroom.forecast.views import sales_panel, saved_forecaster

    run_forecast(shop, AS_OF, horizon=14, config=CONFIG)
    saved = saved_forecaster(shop, AS_OF)
    assert saved["as_of"] == str(AS_OF) and saved["config"]["model"]["horizon"] == 14
    _, p = sales_panel(shop, AS_OF)
    again = Forecaster.load(saved["path"]).predict(p).to_frame()
    landed = store.read_snapshot(shop, "forecasts", AS_OF)
    assert again.select("sku", "target_date", "yhat", "q05", "q95", "model").equals(
        landed.select("sku", "target_date", "yhat", "q05", "q95", "model")
    )


def test_rerun_is_byte_identical(shop):
    run_forecast(shop, AS_OF, horizon=14, config=CONFIG)
    first = store.read_manifest(shop, "forecasts", AS_OF)["files"][0]["sha256"]
    run_forecast(shop, AS_OF, horizon=14, config=CONFIG)
    assert store.read_manifest(shop, "forecasts", AS_OF)["files"][0]["sha256"] == first


def test_demand_spike_against_the_previous_run(tmp_path):
    early = AS_OF - timedelta(days=7)
    base = [(early - timedelta(days=d), f"s-{d}", "s1", "steady", 2, 5.0) for d in range(150)]
    land_orders(tmp_path, base, {"steady": "cards"})
    run_forecast(tmp_path, early, horizon=14, config=CONFIG)
    burst = [(AS_OF - timedelta(days=d), f"b-{d}", "s1", "steady", 9, 5.0) for d in range(7)]
    land_orders(tmp_path, base + burst, {"steady": "cards"})
    run_forecast(tmp_path, AS_OF, horizon=14, config=CONFIG)
    flags = store.read_snapshot(tmp_path, "forecasts", AS_OF)["flags"].unique().to_list()
    assert flags == ["demand_spike"]


def test_rule_functions_by_hand():
    y = np.array([[1, 0, 0, 0], [np.nan, np.nan, 2, 0]], dtype=float)
    assert rules.dormant(y, 3).tolist() == [False, False]
    assert rules.cold_start(np.array([0, 2]), 3).tolist() == [True, True]
    assert rules.spikes(np.array([10.0, 3.0]), np.array([4.0, 2.0])).tolist() == [True, False]
    wide = rules.low_confidence(
        np.array([[1.0, 1.0]]), np.array([[0.0, 0.0]]), np.array([[5.0, 5.0]])
    )
    assert wide.tolist() == [True]


def test_dormancy_follows_each_skus_own_rhythm():
    """A daily seller is dormant after 30 silent days; a SKU that sells every 30 days is not
    dead 50 days after its last sale (three of its intervals have not passed), but is after
    120; a SKU that never sold in the year is dormant at the 30-day floor."""
    d = 400
    y = np.zeros((5, d))
    y[0, :360] = 1  # daily, silent for the last 40 days
    y[1, ::30] = 1
    y[1, -50:] = 0  # monthly, silent 50 days
    y[2, ::30] = 1
    y[2, -120:] = 0  # monthly, silent 120 days
    y[3, : d - 5] = np.nan
    y[3, -5] = 1  # launched five days ago, sold once
    cutoff = d - 1
    silent = rules.silent_days(y, cutoff)
    assert silent.tolist() == [40, 69, 129, 4, d]
    wait = rules.patience(y, cutoff)
    assert wait[0] == rules.DORMANT_DAYS and wait[4] == rules.DORMANT_DAYS
    # monthly: (1 - 1/30)^g < 5 % from g = 89 -- about three intervals
    assert 80 <= wait[1] <= 95 and 80 <= wait[2] <= 95
    assert rules.dormant(y, cutoff).tolist() == [True, False, True, False, True]
    # the same monthly SKU with 25 silent days left is still a seller at every cutoff before
    assert not rules.dormant(y, cutoff - 25)[1]


def test_a_planned_promo_in_the_calendar_lifts_its_day(tmp_path):
    from stockroom_jobs.forecast import read_promo_calendar

    rng = np.random.default_rng(3)
    promo_days = {d for d in range(200) if rng.random() < 0.15}
    rows = [
        (AS_OF - timedelta(days=d), f"o-{d}", "s1", "steady", 9 if d in promo_days else 3, 10.0)
        for d in range(200)
    ]
    land_orders(tmp_path, rows, {"steady": "cards"})
    calendar = tmp_path / "promos.csv"
    past = [AS_OF - timedelta(days=d) for d in sorted(promo_days)]
    pl.DataFrame({"sku": "steady", "date": [*past, AS_OF + timedelta(days=5)]}).write_csv(calendar)
    run_forecast(
        tmp_path, AS_OF, horizon=14, config=CONFIG, promo_calendar=read_promo_calendar(calendar)
    )
    fc = store.read_snapshot(tmp_path, "forecasts", AS_OF).sort("horizon")
    assert fc["yhat"][4] > 2 * fc["yhat"][3]  # day +5 is the planned promo
    with pytest.raises(Exception, match="date or start/end"):
        bad = tmp_path / "bad.csv"
        pl.DataFrame({"sku": ["a"], "when": ["x"]}).write_csv(bad)
        read_promo_calendar(bad)


def test_backtest_error_and_drivers_in_the_snapshot(tmp_path):
    import json

    rng = np.random.default_rng(5)
    rows = [
        (AS_OF - timedelta(days=d), f"o{k}-{d}", "s1", f"sku{k}", int(rng.poisson(2 + k)) + 1, 10.0)
        for k in range(6)
        for d in range(200)
    ]
    land_orders(tmp_path, rows, {f"sku{k}": "cards" if k < 3 else "toys" for k in range(6)})
    run_forecast(tmp_path, AS_OF, horizon=14, config=CONFIG)
    fc = store.read_snapshot(tmp_path, "forecasts", AS_OF)
    first = fc.filter(pl.col("horizon") == 1).sort("sku")
    assert first["category"].to_list() == ["cards"] * 3 + ["toys"] * 3
    # backtest_units is what was sold in the 14 days before the as-of date, by hand
    sold = {}
    for day, _, _, sku, qty, _ in rows:
        if AS_OF - timedelta(days=13) <= day <= AS_OF:
            sold[sku] = sold.get(sku, 0) + qty
    assert first["backtest_units"].to_list() == [sold[f"sku{k}"] for k in range(6)]
    assert (first["backtest_abs_error"] > 0).all() and (first["backtest_mase"] > 0).all()
    for row in first.iter_rows(named=True):
        if row["model"] == "global_xgboost":
            drivers = json.loads(row["drivers"])
            assert 1 <= len(drivers) <= 5 and all(isinstance(v, float) for _, v in drivers)
            assert abs(drivers[0][1]) >= abs(drivers[-1][1])
        else:
            assert row["drivers"] == ""
    assert (first["model"] == "global_xgboost").any()
