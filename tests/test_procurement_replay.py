"""The replay simulator on hand-worked histories."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest

from stockroom.forecast.data import Panel
from stockroom.procurement import policy, replay


def make_panel(y: np.ndarray, price: float = 5.0) -> Panel:
    n, d = y.shape
    return Panel(
        ids=[f"s{i}" for i in range(n)],
        dates=[date(2024, 1, 1) + timedelta(days=k) for k in range(d)],
        y=y,
        price=np.full((n, d), price),
        event=np.zeros(d, dtype=bool),
        promo=np.zeros((n, d), dtype=bool),
        snap=np.zeros((n, d), dtype=bool),
        category=np.zeros(n, dtype=int),
        categories=["x"],
        first=np.zeros(n, int),
        attrs=None,
    )


def test_steady_demand_by_hand():
    # 2 units/day, lead 7, review 7, no safety: S = 2 x 14 = 28. In steady state each review
    # day starts with 14 on hand (the order placed a week earlier has just arrived), sells 2 a
    # day to 0 at the end of day 7: end-of-day stock 12, 10, ..., 0 -> mean 6 units x 5.0.
    p = make_panel(np.full((1, 200), 2.0))
    got = replay.replay(
        p, policy_name="seller_tool", lead_time=7, review_days=7, safety_days=0.0, start=130
    )
    assert got.fill_rate == 1.0 and got.stockout_days == 0.0
    assert got.avg_inventory_value == pytest.approx(6 * 5.0, rel=0.05)
    reviews_after_warm_up = len(range(130 + 14, 200, 7))
    assert got.orders == reviews_after_warm_up
    # our policy with an exact, certain forecast holds exactly the same stock
    certain = np.full((1, 14), 2.0)
    lead = {level: np.cumsum(certain, axis=1) for level in policy.LEAD_LEVELS}
    fc = {day: (certain, certain, certain, lead) for day in range(130, 200, 7)}
    ours = replay.replay(
        p,
        policy_name="stockroom",
        lead_time=7,
        review_days=7,
        service_level=0.95,
        start=130,
        forecasts=fc,
    )
    assert (ours.fill_rate, ours.avg_inventory_value) == (got.fill_rate, got.avg_inventory_value)
    assert ours.order_today_recall == 1.0


def test_a_surge_loses_sales_and_safety_stock_helps():
    y = np.full((1, 200), 2.0)
    y[0, 160:167] = 6.0  # a week at 3x: more than 14 units short
    p = make_panel(y)
    lean = replay.replay(p, policy_name="seller_tool", lead_time=7, safety_days=0.0, start=130)
    safe = replay.replay(p, policy_name="seller_tool", lead_time=7, safety_days=14.0, start=130)
    assert lean.fill_rate < 1.0 and lean.stockout_days > 0
    assert safe.fill_rate > lean.fill_rate
    assert safe.avg_inventory_value > lean.avg_inventory_value


def test_a_product_launched_in_the_replay_counts_after_its_own_warm_up():
    # s0 sells 2 a day throughout; s1 is launched on day 160 at 2 a day. No policy can have
    # s1 on the shelf before the order of its first review (day 165) arrives on day 172, so
    # its demand counts from day 160 + lead 7 + review 7 = 174: its first 14 days (28 units)
    # are in the all-demand figure only.
    y = np.full((2, 200), 2.0)
    y[1, :160] = np.nan
    p = make_panel(y)
    p.first[1] = 160
    certain = np.full((2, 14), 2.0)  # a forecast that knows the demand, once launched
    lead = {level: np.cumsum(certain, axis=1) for level in policy.LEAD_LEVELS}
    fc = {day: (certain, certain, certain, lead) for day in range(130, 200, 7)}
    got = replay.replay(
        p, policy_name="stockroom", lead_time=7, service_level=0.95, start=130, forecasts=fc
    )
    assert got.fill_rate == 1.0
    counted = 2 * (200 - 144) + 2 * (200 - 174)
    lost = 2 * (172 - 160)  # nothing on the shelf until the first order arrives
    assert got.fill_rate_all_demand == pytest.approx(1 - lost / (counted + 2 * (174 - 160)))
    assert got.fill_rate_all_demand < got.fill_rate


def test_errors_and_equal_fill_ratio():
    p = make_panel(np.full((1, 50), 1.0))
    with pytest.raises(ValueError, match="unknown policy"):
        replay.replay(p, policy_name="magic", lead_time=7, start=10)
    with pytest.raises(ValueError, match="needs forecasts"):
        replay.replay(p, policy_name="stockroom", lead_time=7, start=10)
    with pytest.raises(ValueError, match="too short"):
        replay.run(p, lead_times=[7], service_levels=[0.9])
    curve = [
        replay.ReplayResult("seller_tool", 7, None, f, 0.0, v, 1)
        for f, v in ((0.90, 100.0), (0.98, 200.0))
    ]
    ours = replay.ReplayResult("stockroom", 7, 0.95, 0.94, 0.0, 120.0, 1)
    assert replay.equal_fill(ours, curve)[0] == pytest.approx(120 / 150)
    ours.fill_rate = 0.99
    assert replay.equal_fill(ours, curve) is None


def test_equal_fill_on_the_extended_curve():
    # the rule's curve: 0 / 56 / 112 safety days; our 0.96 is beyond the 0-56 curve (best 0.94)
    curve = [
        replay.ReplayResult("seller_tool", 7, None, f, 0.0, v, 1, safety_days=s)
        for f, v, s in ((0.80, 100.0, 0.0), (0.94, 300.0, 56.0), (0.98, 500.0, 112.0))
    ]
    ours = replay.ReplayResult("stockroom", 7, 0.95, 0.96, 0.0, 320.0, 1)
    assert replay.equal_fill(ours, curve, max_safety_days=56) is None
    ratio, days = replay.equal_fill(ours, curve)
    assert ratio == pytest.approx(320 / 400)
    assert days == pytest.approx(84.0)
    assert not replay.above_ceiling(ours, curve)
    # above the rule's best fill with less stock than its best point: dominant
    ours.fill_rate, ours.avg_inventory_value = 0.99, 450.0
    assert replay.equal_fill(ours, curve) is None
    assert replay.above_ceiling(ours, curve)
    ours.avg_inventory_value = 600.0  # more fill for more money: no verdict
    assert not replay.above_ceiling(ours, curve)
    assert not replay.above_ceiling(ours, [])


def test_the_recent_rate_counts_a_product_from_its_first_sale():
    # s0 sold 1 a day then 3 a day over the last 28 days; s1 was first sold 10 days before the
    # review: its 28-day window would count 18 days before launch as no demand, so no rate
    y = np.concatenate([np.full((1, 72), 1.0), np.full((1, 28), 3.0)], axis=1)
    y = np.vstack([y, np.full(100, np.nan)])
    y[1, 90:] = 2.0
    rate = replay.recent_rate(y, np.array([0, 90]), 100)
    assert rate[0] == pytest.approx(3.0) and np.isnan(rate[1])
    assert replay.recent_rate(y, np.array([0, 72]), 100)[1] == pytest.approx(20 / 28)


def test_the_equal_fill_interval_resamples_skus_in_pairs():
    rng = np.random.default_rng(3)
    demanded = rng.integers(10, 200, 300).astype(float)

    def run(policy, fill, value, safety=None):
        served = demanded * np.clip(fill + rng.normal(0, 0.05, 300), 0, 1)
        return replay.ReplayResult(
            policy,
            7,
            None,
            served.sum() / demanded.sum(),
            0.0,
            value.sum(),
            1,
            safety_days=safety,
            per_sku={"served": served, "demanded": demanded, "inventory": value},
        )

    value = rng.uniform(5, 50, 300)
    curve = [run("seller_tool", f, value * k, s) for f, k, s in ((0.8, 1, 0), (0.95, 3, 56))]
    # ours serves exactly what the rule's 56-day point serves, SKU by SKU, with 0.8x its
    # stock on every SKU: every paired resample gives 0.8
    same = replay.ReplayResult(
        "stockroom",
        7,
        0.95,
        curve[1].fill_rate,
        0.0,
        0.8 * curve[1].avg_inventory_value,
        1,
        per_sku={**curve[1].per_sku, "inventory": 0.8 * curve[1].per_sku["inventory"]},
    )
    low, high = replay.equal_fill_interval(same, curve, resamples=200)
    assert low == pytest.approx(0.8) and high == pytest.approx(0.8)
    # SKUs that differ: the interval holds the point estimate and has a width
    ours = run("stockroom", 0.9, value * rng.uniform(0.5, 3.0, 300))
    point = replay.equal_fill(ours, curve)[0]
    low, high = replay.equal_fill_interval(ours, curve, resamples=200)
    assert low < point < high and high - low > 0.01
    ours.per_sku = None  # results without per-SKU figures: no interval
    assert replay.equal_fill_interval(ours, curve) is None


def test_the_equal_fill_interval_is_quiet_when_resamples_leave_the_curve():
    import warnings

    rng = np.random.default_rng(3)
    demanded = rng.integers(10, 200, 300).astype(float)
    value = rng.uniform(5, 50, 300)
    share = [np.clip(f + rng.normal(0, 0.05, 300), 0, 1) for f in (0.8, 0.95)]
    curve = [
        replay.ReplayResult(
            "seller_tool",
            7,
            None,
            (s * demanded).sum() / demanded.sum(),
            0.0,
            k * value.sum(),
            1,
            safety_days=days,
            per_sku={"served": s * demanded, "demanded": demanded, "inventory": k * value},
        )
        for s, k, days in zip(share, (1, 3), (0, 56), strict=True)
    ]
    # ours serves what the rule's best point serves in total, on other SKUs: about half the
    # resamples put our fill above the curve's top (NaN, left out) -- no warning escapes
    served = rng.permutation(share[1]) * demanded
    served *= curve[1].fill_rate * demanded.sum() / served.sum() * 0.999
    ours = replay.ReplayResult(
        "stockroom",
        7,
        0.95,
        served.sum() / demanded.sum(),
        0.0,
        2 * value.sum(),
        1,
        per_sku={"served": served, "demanded": demanded, "inventory": 2 * value},
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = replay.equal_fill_interval(ours, curve, resamples=200)
    assert got is None or got[0] <= replay.equal_fill(ours, curve)[0] <= got[1]
