"""Baselines by hand."""

import numpy as np
import pytest

from stockroom.forecast import baselines


def test_seasonal_naive_repeats_the_last_week():
    hist = np.array([[np.nan, 1, 2, 3, 4, 5, 6, 7, 8]])
    assert baselines.seasonal_naive(hist, 9).tolist() == [[2, 3, 4, 5, 6, 7, 8, 2, 3]]


def test_croston_sba_tsb_by_hand():
    # demand 0,2,0,0,4 with alpha=.5: sizes 2 -> 2 + .5(4-2) = 3; intervals 2 (first at
    # t=1 -> 1+1) -> 2 + .5(3-2) = 2.5 -> Croston 3/2.5 = 1.2; SBA x (1 - .25) = 0.9
    hist = np.array([[0, 2, 0, 0, 4]], dtype=float)
    assert baselines.croston(hist, 2, alpha=0.5)[0] == pytest.approx([1.2, 1.2])
    assert baselines.sba(hist, 1, alpha=0.5)[0, 0] == pytest.approx(0.9)
    # TSB, alpha=beta=.5, from the first demand (t=1): p 1 -> .5 (t2) -> .25 (t3) -> .625 (t4)
    # size 2 -> 3 at t4 -> .625 * 3
    assert baselines.tsb(hist, 1, alpha=0.5, beta=0.5)[0, 0] == pytest.approx(1.875)


def test_ses_tracks_a_level_and_never_goes_negative():
    rng = np.random.default_rng(0)
    hist = np.vstack([5 + rng.normal(0, 0.1, 200), np.zeros(200)])
    out = baselines.ses(hist, 3)
    assert out[0] == pytest.approx([5, 5, 5], abs=0.2) and (out[1] == 0).all()


def test_ets_recursion_by_hand(monkeypatch):
    # one (alpha, gamma) on the grid: the error-correction recursion, period 2 for brevity
    monkeypatch.setattr(baselines, "ETS_ALPHAS", (0.5,))
    monkeypatch.setattr(baselines, "ETS_GAMMAS", (0.25,))
    monkeypatch.setattr(baselines, "ETS_INIT_DAYS", 2)
    y = [np.nan, 4.0, 2.0, 6.0, 2.0]
    # from the first sale (t=1): level 3, offsets s[1] = 4 - 3 = 1, s[0] = 2 - 3 = -1
    level, s = 3.0, {0: -1.0, 1: 1.0}
    for t in range(1, 5):
        e = y[t] - level - s[t % 2]
        level, s[t % 2] = level + 0.5 * e, s[t % 2] + 0.25 * e
    want = [level + s[(5 + k) % 2] for k in range(3)]
    got = baselines.ets(np.array([y]), 3, period=2)
    assert got[0] == pytest.approx(want)


def test_ets_keeps_the_weekly_season_in_phase_and_follows_a_new_level():
    d = 140
    weekly = np.tile([2.0, 2.0, 3.0, 3.0, 4.0, 8.0, 6.0], d // 7 + 1)[:d]
    stepped = 10 + np.random.default_rng(1).normal(0, 0.5, d)
    stepped[-42:] += 10  # the level moved six weeks ago
    got = baselines.ets(np.vstack([weekly, stepped, np.full(d, np.nan)]), 14)
    assert got.shape == (3, 14) and (got >= 0).all()
    # day d of the data is day d % 7 of the cycle
    assert got[0] == pytest.approx(np.tile(weekly[:7], 3)[d % 7 : d % 7 + 14], abs=1e-6)
    assert got[1] == pytest.approx(np.full(14, 20.0), abs=1.0)  # not the mean (12.9)
    assert (got[2] == 0).all()  # never sold: 0


def test_ets_skips_days_without_an_observation():
    # a censored week (NaN: nothing on hand) changes nothing: the same forecast as the
    # history without that week (one whole period, so the phase is the same)
    rng = np.random.default_rng(2)
    base = rng.poisson(5, (3, 91)).astype(float)
    censored = np.hstack([base[:, :60], np.full((3, 7), np.nan), base[:, 60:]])
    assert baselines.ets(censored, 7) == pytest.approx(baselines.ets(base, 7))


def test_weekly_ses_smooths_weeks_and_keeps_the_weekday_shape_in_phase():
    # a weekly shape [1, 1, 1, 1, 1, 2, 0] (7 units a week), 10 weeks and 3 days of history
    # ending mid-week: every week's total is 7, so the level is 7 and each day ahead is 7 x
    # its weekday's share -- the shape continued in phase
    shape = np.array([1, 1, 1, 1, 1, 2, 0], dtype=float)
    days = 73
    y = shape[np.arange(days) % 7][None, :]
    got = baselines.weekly_ses(y, 14)
    assert got[0] == pytest.approx(shape[np.arange(days, days + 14) % 7])
    # a step from 7 to 14 units a week in the last 4 weeks: the level moves toward 14 by
    # the chosen alpha each week (the largest fits a step best), the shape is kept
    y2 = np.concatenate([y[0, :-28], 2 * y[0, -28:]])[None, :]
    level = 7.0
    for _ in range(4):
        level += max(baselines.WEEKLY_ALPHAS) * (14 - level)
    weekday = np.arange(days, days + 7) % 7
    assert baselines.weekly_ses(y2, 7)[0] == pytest.approx(level * shape[weekday] / 7)
    assert level < 14 and (baselines.weekly_ses(y2, 7)[0, weekday == 6] == 0).all()
    # not launched (NaN) before the last 2 weeks: smoothed from its first week; never seen: 0;
    # under a week of history: 0
    late = np.where(np.arange(days) < days - 14, np.nan, y[0])[None, :]
    assert baselines.weekly_ses(late, 7)[0].sum() == pytest.approx(7.0)
    assert (baselines.weekly_ses(np.full((1, days), np.nan), 7) == 0).all()
    assert (baselines.weekly_ses(np.ones((2, 5)), 7) == 0).all()


def test_winsorize_caps_each_series_at_its_own_quantile_of_sale_days():
    rng = np.random.default_rng(3)
    retail = rng.poisson(20, 400).astype(float)
    retail[390] = 500.0  # one wholesale order
    quiet = np.zeros(400)
    quiet[[10, 200]] = [2.0, 4.0]
    history = np.vstack([retail, quiet, np.full(400, np.nan)])
    history[0, :5] = np.nan  # before the first sale
    got = baselines.winsorize(history)
    cap = np.quantile(retail[-365:][retail[-365:] > 0], baselines.WINSOR_QUANTILE)
    assert got[0, 390] == pytest.approx(cap) and cap < 30
    assert np.isnan(got[0, :5]).all() and np.isnan(got[2]).all()
    assert (got[0, 5:] <= cap + 1e-9).all() and (got[0] == np.minimum(retail, cap))[5:].all()
    # a series selling twice a year keeps its second sale: its own 90th percentile, not 0
    assert got[1, 200] == pytest.approx(np.quantile([4.0], 0.9)) and got[1, 10] == 2.0


def test_a_wholesale_order_lifts_the_winsorized_forecast_by_its_units_spread_not_by_a_jump():
    rng = np.random.default_rng(4)
    days = 364
    steady = rng.poisson(20, days).astype(float)
    climbing = np.round(20 + np.arange(days) * 0.05 + rng.normal(0, 1, days))  # ETS: high alpha
    rows = []
    for base in (steady, climbing):
        spiked = base.copy()
        spiked[-3] += 600  # a wholesale order three days ago
        rows += [base, spiked]
    history = np.vstack(rows)
    spread = 600 / baselines.RESCALE_DAYS  # the order's units over the rescaling days
    for name in ("ets", "weekly_ses"):
        plain = baselines.BASELINES[name](history, 28).mean(axis=1)
        robust = baselines.BASELINES[f"{name}_winsorized"](history, 28).mean(axis=1)
        for k in (0, 2):  # each series without and with the order
            # the winsorized forecast carries the order as its units spread over the days
            # ahead: about 600 / 91 = 6.6 a day more, whatever the smoothing
            assert robust[k + 1] - robust[k] == pytest.approx(spread, rel=0.35)
        # plain smoothing reads it as a new level: weekly SES's week of +600, ETS's level on the
        # climbing series (a high alpha) -- several times the order's spread
        lift = plain[3] - plain[2] if name == "ets" else plain[1] - plain[0]
        assert lift > 3 * spread
    # the rescaling factor by hand: real units over the last 91 days / capped units
    capped = baselines.winsorize(history)
    scale = history[1, -91:].sum() / capped[1, -91:].sum()
    want = baselines.ets(capped, 28)[1] * scale
    assert baselines.BASELINES["ets_winsorized"](history, 28)[1] == pytest.approx(want)
    # a series with no sale at all forecasts 0, not NaN
    none = baselines.BASELINES["weekly_ses_winsorized"](np.zeros((1, 140)), 7)
    assert (none == 0).all()
