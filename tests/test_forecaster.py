"""The one Forecaster: the job, the benchmark and the replay share it; cross-validation never
looks ahead; a saved forecaster reloads to the same forecasts; rules apply at each cutoff."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date

import numpy as np
import polars as pl
import pytest
from scipy.stats import poisson

from stockroom.forecast import backtest, baselines, routing
from stockroom.forecast.data import panel
from stockroom.forecast.demand_class import classify
from stockroom.forecast.forecaster import SMOOTHING, Forecaster, ForecasterConfig
from stockroom.forecast.model import ANNUAL_FEATURES
from stockroom.procurement import replay
from tests.conftest import daily_sales

H = 14


@pytest.fixture(scope="module")
def sales() -> pl.DataFrame:
    """40 steady sellers, 4 that stop selling 40 days before the end (dormant), 3 launched 20
    days before the end (cold starts); 400 days."""
    rng = np.random.default_rng(3)
    n, d = 47, 400
    start = date(2023, 1, 1)
    units = rng.poisson(rng.uniform(1, 6, n)[:, None], (n, d)).astype(float)
    units[40:44, -40:] = 0
    units[44:, : d - 20] = 0
    units[44:, d - 20 :] = np.maximum(units[44:, d - 20 :], 1)
    return daily_sales(units, start).filter(pl.col("units").cum_sum().over("id") > 0)


CONFIG = ForecasterConfig.shipped(H, history_days=300, trees=60, depth=4)


def test_fit_predict_applies_rules_routing_and_intervals(sales):
    p = panel(sales)
    fc = Forecaster(CONFIG).fit(p).predict(p)
    model = dict(zip(fc.ids, fc.model, strict=True))
    assert {model[f"s{i}"] for i in range(40, 44)} == {"dormant"}
    assert {model[f"s{i}"] for i in range(44, 47)} == {"category_average"}
    assert set(model[f"s{i:02d}"] for i in range(40)) <= set(CONFIG.candidates)
    rows = [fc.ids.index(f"s{i:02d}") for i in range(40)]
    assert (fc.bands["q05"][rows] <= fc.yhat[rows] + 1e-9).all()
    assert (fc.yhat[rows] <= fc.bands["q95"][rows] + 1e-9).all()
    # cold start: Poisson bands at its rate, the lead-time sum widening with the days
    new = fc.ids.index("s45")
    rate = fc.yhat[new, 0]
    assert fc.bands["q05"][new, 0] <= rate <= fc.bands["q95"][new, 0]
    lead95 = fc.bands["lead_q95"][new]
    assert lead95[-1] >= H * rate and (np.diff(lead95) >= 0).all()
    assert lead95[-1] == poisson.ppf(0.95, H * rate)
    assert "dormant" in fc.flags[fc.ids.index("s41")]


def _partners(history: np.ndarray, h: int) -> np.ndarray:
    """The sum of the shipped combination partners' forecasts."""
    return sum(baselines.BASELINES[name](history, h) for name in routing.COMBINE_WITH)


def test_routed_forecasts_are_averaged_with_the_partners_and_calibrated_on_the_average(
    sales, tmp_path
):
    p = panel(sales)
    alone = Forecaster(replace(CONFIG, combine_with=None)).fit(p)
    both = Forecaster(CONFIG).fit(p)
    assert CONFIG.combine_with == ("ets_winsorized", "weekly_ses_winsorized")
    assert (both.routing.choice == alone.routing.choice).all()  # routing is unchanged
    a, b = alone.predict(p), both.predict(p)
    rows = np.isin(b.model, (*CONFIG.candidates, SMOOTHING))
    assert rows.sum() == 40
    d = len(p.dates)

    # sellers of about one unit a day are intermittent (no sale on over a quarter of days):
    # they keep the routed forecast; erratic ones take the two partners' average; the
    # others are averaged with the two partners, thirds
    def expected(routed: np.ndarray, history: np.ndarray) -> np.ndarray:
        cls = classify(history)[:, None]
        partners = _partners(history, H)
        thirds = (routed + partners) / 3
        return np.select([cls == "intermittent", cls == "erratic"], [routed, partners / 2], thirds)

    assert 0 < (classify(p.y[rows]) == "intermittent").sum() < 40
    now = expected(a.yhat[rows], p.y[rows])
    then = expected(a.backtest[rows], p.y[rows, : d - H])
    assert b.yhat[rows] == pytest.approx(now)
    assert b.backtest[rows] == pytest.approx(then)
    assert (b.yhat[~rows] == a.yhat[~rows]).all()  # dormant and cold starts as they were
    # the intervals are the combined forecasts' own: calibrated on the averaged errors
    assert not np.allclose(both.routing.residual_q, alone.routing.residual_q)
    # the saved forecaster keeps the partners and reloads to the same forecasts
    again = Forecaster.load(both.save(tmp_path / "f"))
    assert again.config == CONFIG
    assert np.array_equal(again.predict(p).yhat, b.yhat, equal_nan=True)


def test_intermittent_series_keep_their_routed_forecast_and_erratic_ones_take_the_partners():
    rng = np.random.default_rng(5)
    d = 200
    smooth = rng.poisson(4, d).astype(float)
    intermittent = np.where(rng.random(d) < 0.2, 3.0, 0.0)  # rare sales of one size
    lumpy = np.where(rng.random(d) < 0.2, rng.choice([1.0, 30.0], d), 0.0)
    erratic = rng.choice([2.0, 3.0, 60.0], d, p=[0.45, 0.45, 0.1])  # daily, uneven sizes
    history = np.vstack([smooth, intermittent, lumpy, erratic])
    forecast = np.full((4, 7), 10.0)
    groups = routing.demand_groups(history, d - 1)
    assert [routing.GROUPS[g] for g in groups] == ["smooth", "intermittent", "lumpy", "erratic"]
    pair = ("ets", "weekly_ses")
    got = routing.combine(forecast, history, pair, groups)
    ets, weekly = baselines.ets(history, 7), baselines.weekly_ses(history, 7)
    assert got[0] == pytest.approx((10 + ets[0] + weekly[0]) / 3)
    assert (got[1] == 10).all()  # intermittent: the routed forecast alone
    assert got[2] == pytest.approx((10 + ets[2] + weekly[2]) / 3)  # lumpy: combined
    assert got[3] == pytest.approx((ets[3] + weekly[3]) / 2)  # erratic: the partners alone
    assert not np.allclose(got[3], (10 + ets[3] + weekly[3]) / 3)
    assert routing.combine(forecast, history, None, groups) is forecast
    assert routing.combine(forecast, history, (), groups) is forecast
    assert routing.combine(forecast, history, ("ets",), groups)[0] == pytest.approx(
        (10 + ets[0]) / 2
    )
    # a planned promo day keeps the driver-aware forecast (ETS cannot see the plan)
    promo = np.zeros((4, 7), dtype=bool)
    promo[0, 4] = True
    got = routing.combine(forecast, history, pair, groups, promo)
    assert got[0, 4] == 10 and got[0, 3] == pytest.approx((10 + ets[0, 3] + weekly[0, 3]) / 3)
    with pytest.raises(ValueError, match="unknown routing candidate 'holt'"):
        routing.combine(forecast, history, ("ets", "holt"), groups)


def test_erratic_skus_are_named_by_the_smoothing_partners_and_show_no_shap_drivers():
    rng = np.random.default_rng(11)
    n, d = 24, 400
    units = rng.poisson(rng.uniform(2, 6, n)[:, None], (n, d)).astype(float)
    # four erratic sellers: a sale every day, now and then a wholesale order of 60
    units[:4] = rng.choice([2.0, 3.0, 60.0], (4, d), p=[0.45, 0.45, 0.1])
    p = panel(daily_sales(units, date(2023, 1, 1)))
    cutoff = len(p.dates) - 1
    assert (classify(p.y[:4]) == "erratic").all() and not (classify(p.y[4:]) == "erratic").any()
    fitted = Forecaster(CONFIG).fit(p)
    fc = fitted.predict(p)
    erratic = [fc.ids.index(f"s{i:02d}") for i in range(4)]
    assert {fc.model[i] for i in erratic} == {SMOOTHING}
    assert SMOOTHING not in {fc.model[i] for i in range(n) if i not in erratic}
    # their forecast is the partners' average on the whole history, whatever they were routed to
    partners = _partners(p.y[erratic, : cutoff + 1], H) / 2
    assert fc.yhat[erratic] == pytest.approx(partners)
    # the SHAP drivers explain the global model's forecasts only: none for the erratic SKUs
    drivers = fitted.explain(p)
    assert drivers and not {f"s{i:02d}" for i in range(4)} & drivers.keys()
    assert {fc.model[fc.ids.index(sku)] for sku in drivers} == {"global_xgboost"}


def test_cross_validation_never_looks_ahead(sales):
    p = panel(sales)
    runs = Forecaster(CONFIG).cross_validation(p, windows=2)
    assert [fc.cutoff for fc, _ in runs] == [len(p.dates) - 1 - 2 * H, len(p.dates) - 1 - H]
    first, actual = runs[0]
    assert np.array_equal(actual, p.y[:, first.cutoff + 1 : first.cutoff + 1 + H], equal_nan=True)
    # the same window from a fresh fit, and from data whose future was scrambled
    fresh = Forecaster(CONFIG).fit(p, first.cutoff).predict(p, first.cutoff)
    scrambled = p.y.copy()
    scrambled[:, first.cutoff + 1 :] *= 7
    from dataclasses import replace

    blind = Forecaster(CONFIG).fit(replace(p, y=scrambled), first.cutoff)
    assert np.allclose(first.yhat, fresh.yhat)
    assert np.allclose(blind.predict(replace(p, y=scrambled), first.cutoff).yhat, first.yhat)


def test_a_small_catalog_calibrates_lead_time_sums_on_earlier_windows(sales):
    from stockroom.forecast import model as fm
    from stockroom.forecast.forecaster import subset

    # enough windows for 1,000 sums, at most 4 -- and at least one the routing was not chosen on
    assert [fm.calibration_windows(n) for n in (0, 40, 280, 500, 999, 1000, 3000)] == [
        1, 4, 4, 2, 2, 2, 2,
    ]  # fmt: skip
    p = panel(sales)
    d = len(p.dates) - 1
    one = Forecaster(CONFIG).fit(p, windows=1)
    three = Forecaster(CONFIG).fit(p, windows=3)
    assert one.model.earlier_forecasts == []
    assert [origin for origin, _ in three.model.earlier_forecasts] == [d - 2 * H, d - 3 * H]
    # each earlier window is forecast out of sample, by a model trained up to its origin
    sub = subset(p, np.isin(p.ids, list(three.routed_ids)))
    m = fm.GlobalModel(fm.for_history(CONFIG.model, d))  # the fit's features
    origin, forecast = three.model.earlier_forecasts[1]
    by_hand = m._recurse(m._train(sub, origin), sub, origin, sub.promo)
    assert np.allclose(forecast, by_hand, equal_nan=True)
    # only the lead-time sums change: the point forecasts, the routing and the daily bands not
    a, b = one.predict(p), three.predict(p)
    assert np.array_equal(a.yhat, b.yhat, equal_nan=True)
    assert (one.routing.choice == three.routing.choice).all()
    assert np.array_equal(a.bands["q95"], b.bands["q95"], equal_nan=True)
    assert not np.allclose(one.routing.lead_q, three.routing.lead_q)
    # a window is skipped when too few days precede it
    short = Forecaster(CONFIG).fit(p, fm.MIN_TRAINING_DAYS + 2 * H + 3, windows=4)
    assert len(short.model.earlier_forecasts) == 1


def test_more_calibration_windows_steady_the_lead_time_quantile_between_refits(sales):
    """Five refits a horizon apart on steady Poisson sellers: one window's 95 % quantile of
    the 14-day sum (the 2nd largest of 40 scores) swings with the window; four windows' (160
    scores) less."""
    p = panel(sales)
    d = len(p.dates) - 1
    swing = {}
    for windows in (1, 4):
        q95 = [
            Forecaster(CONFIG).fit(p, d - 60 - H * k, windows=windows).routing.lead_q[-1, H - 1, -1]
            for k in range(5)
        ]
        swing[windows] = np.std(q95)
    assert swing[4] < swing[1]


def test_saved_forecaster_reloads_to_the_same_forecasts(sales, tmp_path):
    p = panel(sales)
    fitted = Forecaster(CONFIG).fit(p)
    path = fitted.save(tmp_path / "forecaster" / str(p.dates[-1]))
    again = Forecaster.load(path)
    a, b = fitted.predict(p), again.predict(p)
    assert np.array_equal(a.yhat, b.yhat) and list(a.model) == list(b.model)
    # 400 days: the model left month and day of month out, and the reloaded one knows it
    assert again.model.config.exclude == fitted.model.config.exclude == ANNUAL_FEATURES
    for k in a.bands:
        assert np.array_equal(a.bands[k], b.bands[k], equal_nan=True)
    assert again.explain(p) == fitted.explain(p)
    manifest = Forecaster.manifest(path)
    assert ForecasterConfig.from_dict(manifest["config"]) == CONFIG == again.config
    assert manifest["as_of"] == str(p.dates[-1])
    assert manifest["data_fingerprint"] == fitted.data_fingerprint
    assert {"xgboost-cpu", "numpy", "polars"} <= set(manifest["versions"])
    # a refit on other data has another fingerprint; a save replaces the folder whole
    other = Forecaster(CONFIG).fit(p, len(p.dates) - 2)
    assert other.data_fingerprint != fitted.data_fingerprint
    other.save(path)
    assert Forecaster.manifest(path)["cutoff"] == len(p.dates) - 2
    assert sorted(f.name for f in path.parent.iterdir()) == [path.name]  # nothing left over
    bad = json.loads((path / "manifest.json").read_text()) | {"format": 99}
    (path / "manifest.json").write_text(json.dumps(bad))
    with pytest.raises(ValueError, match="artefact format 99"):
        Forecaster.load(path)


def test_rules_apply_at_each_predict_cutoff(sales):
    p = panel(sales)
    early = len(p.dates) - 1 - 60  # 60 days back the stopped sellers still sold
    fitted = Forecaster(CONFIG).fit(p, early)
    then, now = fitted.predict(p, early), fitted.predict(p, len(p.dates) - 1)
    i = p.ids.index("s41")
    assert then.model[i] != "dormant" and now.model[i] == "dormant"
    assert np.isnan(then.backtest).all() == False and np.isnan(now.backtest).all()  # noqa: E712


def test_benchmark_and_replay_score_the_shipped_forecaster():
    assert backtest.forecaster_config("stockroom", 28) == ForecasterConfig.shipped(28)
    plain = backtest.forecaster_config("global_xgboost", 28)
    assert plain.candidates == ("global_xgboost",) and not plain.rules
    import inspect

    assert "ForecasterConfig.shipped(horizon)" in inspect.getsource(replay.forecasts_for)


def test_a_config_with_an_unknown_candidate_is_refused():
    with pytest.raises(ValueError, match="unknown routing candidate"):
        ForecasterConfig(candidates=("global_xgboost", "prophet"))
    with pytest.raises(ValueError, match="unknown routing candidate"):
        ForecasterConfig(combine_with="prophet")
    with pytest.raises(ValueError, match="must start with"):
        ForecasterConfig(candidates=("tsb",))
    with pytest.raises(RuntimeError, match="not fitted"):
        Forecaster().predict(
            panel(
                pl.DataFrame(
                    {
                        "id": ["a"],
                        "date": [date(2024, 1, 1)],
                        "units": [1.0],
                        "price": [1.0],
                        "category": ["x"],
                        "event": [False],
                        "promo": [False],
                        "snap": [False],
                    }
                )
            )
        )


def test_cold_start_blends_category_and_own_rate_by_age():
    from stockroom.forecast import rules

    y = np.full((3, 60), np.nan)
    y[0] = 4.0  # established: 4 units/day
    y[1, 59:] = 10.0  # launched today: 10 units on its first day
    y[2, 30:] = 1.0  # 30 days old: no longer a cold start, own rate only
    got = rules.cold_start_forecast(
        y, np.zeros(3, int), np.array([True, False, False]), np.array([0, 59, 30]), 59
    )
    assert got[1] == pytest.approx(1 / 30 * 10 + 29 / 30 * 4)
    assert got[2] == pytest.approx(1.0)
