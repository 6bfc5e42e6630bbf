"""The replenishment formulas and the list rules, each on a hand-worked example."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import norm

from stockroom.procurement import actions, policy


def flat(rate: float, days: int = 28, spread: float = 0.0, n: int = 1):
    """n SKUs forecasting ``rate`` units/day with a 90 % interval of +- spread."""
    y = np.full((n, days), rate)
    return y, y - spread, y + spread


def test_protection_demand_by_hand():
    # 2 units/day, 90 % interval +- 1.645 -> sigma_d = 1; P = 10 days -> mean 20;
    # comonotonic days (default): sigma 10, S = the sum of the daily 95 % quantiles
    y, lo, hi = flat(2.0, spread=policy.Z90)
    mean, sigma, s = policy.protection_demand(y, lo, hi, np.array([10]), np.array([0.95]))
    assert mean[0] == pytest.approx(20.0)
    assert sigma[0] == pytest.approx(10.0)
    assert s[0] == pytest.approx(hi[0, :10].sum())
    # independent days: sigma sqrt(10); halfway: sqrt(0.5 * 10 + 0.5 * 100)
    _, ind, s_ind = policy.protection_demand(
        y, lo, hi, np.array([10]), np.array([0.95]), correlation=0.0
    )
    assert ind[0] == pytest.approx(np.sqrt(10))
    assert s_ind[0] == pytest.approx(20 + norm.ppf(0.95) * np.sqrt(10))
    _, mid, _ = policy.protection_demand(
        y, lo, hi, np.array([10]), np.array([0.95]), correlation=0.5
    )
    assert mid[0] == pytest.approx(np.sqrt(55))
    # a higher service level asks for more; no interval -> the mean only
    _, _, s98 = policy.protection_demand(y, lo, hi, np.array([10]), np.array([0.98]))
    assert s98[0] > s[0]
    nan = np.full_like(y, np.nan)
    _, sig0, s0 = policy.protection_demand(y, nan, nan, np.array([10]), np.array([0.95]))
    assert sig0[0] == 0 and s0[0] == pytest.approx(20.0)
    with pytest.raises(ValueError, match="service level"):
        policy.protection_demand(y, lo, hi, np.array([10]), np.array([1.0]))


def normal_lead(mu: float, sigma: float, days: int = 28, n: int = 1) -> dict:
    """Lead-time quantiles of a sum of ``days`` independent N(mu, sigma^2) days."""
    L = np.arange(1, days + 1)
    return {
        lv: np.tile(mu * L + norm.ppf(lv) * sigma * np.sqrt(L), (n, 1)) for lv in policy.LEAD_LEVELS
    }


def test_order_up_to_from_lead_time_quantiles_by_hand():
    # demand over P days ~ N(2P, 3^2 P): every level's quantile is linear in z, so reading S
    # off the calibrated quantiles (and below them) must give the exact normal quantile
    y, lo, hi = flat(2.0, spread=5.0)
    lead = normal_lead(2.0, 3.0)
    for level in (0.02, 0.5, 0.8, 0.95):
        mean, sigma, s = policy.protection_demand(
            y, lo, hi, np.array([14]), np.array([level]), lead=lead
        )
        assert s[0] == pytest.approx(max(28 + norm.ppf(level) * 3 * np.sqrt(14), 0)), level
        assert mean[0] == pytest.approx(28.0) and sigma[0] == pytest.approx(3 * np.sqrt(14))
    # above the top level: linear in z on log(1 + units) through q75 and q95 (a heavier,
    # lognormal-type tail), above the normal quantile
    q75, q95 = (28 + norm.ppf(q) * 3 * np.sqrt(14) for q in (0.75, 0.95))
    z75, z95, z98 = norm.ppf([0.75, 0.95, 0.98])
    want = np.expm1(np.log1p(q95) + (np.log1p(q95) - np.log1p(q75)) * (z98 - z95) / (z95 - z75))
    _, _, s98 = policy.protection_demand(y, lo, hi, np.array([14]), np.array([0.98]), lead=lead)
    assert s98[0] == pytest.approx(want) and want > 28 + z98 * 3 * np.sqrt(14)
    # past the 28-day horizon: the tail rate adds to the sum, the spread grows as the sums'
    # own spread grew from 14 to 28 days -- here independent days: sqrt(P)
    _, _, s35 = policy.protection_demand(y, lo, hi, np.array([35]), np.array([0.95]), lead=lead)
    assert s35[0] == pytest.approx(70 + norm.ppf(0.95) * 3 * np.sqrt(35))
    # a persistent error in the rate (spread in proportion to L): in proportion past 28 too
    L = np.arange(1, 29)
    rate = {lv: (2.0 + norm.ppf(lv) * 0.5) * L[None, :] for lv in policy.LEAD_LEVELS}
    _, _, r35 = policy.protection_demand(y, lo, hi, np.array([35]), np.array([0.95]), lead=rate)
    assert r35[0] == pytest.approx(70 + norm.ppf(0.95) * 0.5 * 35)
    # far below the sum of the daily 95 % quantiles (which assumes 14 bad days in a row)
    _, _, daily = policy.protection_demand(y, lo, hi, np.array([14]), np.array([0.95]))
    assert daily[0] == pytest.approx(hi[0, :14].sum())
    # a SKU without lead-time quantiles (NaN: a cold start) keeps the daily method
    y2, lo2, hi2 = flat(2.0, spread=5.0, n=2)
    lead2 = normal_lead(2.0, 3.0, n=2)
    for v in lead2.values():
        v[1] = np.nan
    _, _, both = policy.protection_demand(
        y2, lo2, hi2, np.array([14, 14]), np.array([0.95, 0.95]), lead=lead2
    )
    assert both[0] == pytest.approx(28 + norm.ppf(0.95) * 3 * np.sqrt(14))
    assert both[1] == pytest.approx(daily[0])


def test_protection_past_the_horizon_repeats_the_last_week():
    y = np.array([[1.0] * 21 + [3.0] * 7])  # 28 days, last week at 3/day
    mean, _, _ = policy.protection_demand(y, y, y, np.array([35]), np.array([0.5]))
    assert mean[0] == pytest.approx(21 + 7 * 3 + 7 * 3)


def test_runway_and_stockout_date():
    y, _, _ = flat(4.0, n=3)
    available = np.array([10.0, 0.0, 200.0])
    burn = policy.burn_rate(y)
    assert burn.tolist() == [4.0, 4.0, 4.0]
    assert policy.runway_days(available, burn).tolist() == [2.5, 0.0, 50.0]
    # 10 units at 4/day: day 1 -> 4, day 2 -> 8, day 3 -> 12 > 10: out on day 3
    # nothing available: out of stock already (today, not tomorrow)
    # 200 units: the horizon sells 112, 88 more at 4/day last 22 days -> out on day 28 + 22 + 1
    assert policy.stockout_day(available, y, burn).tolist() == [3.0, 0.0, 51.0]
    zero = np.zeros((1, 28))
    assert np.isnan(policy.stockout_day(np.array([5.0]), zero, np.array([0.0])))[0]
    assert policy.runway_days(np.array([5.0]), np.array([0.0]))[0] == np.inf


def test_rounding_to_moq_and_pack():
    got = policy.round_order(
        np.array([0.0, -3.0, 0.2, 7.0, 13.0, 41.0]),
        moq=np.array([10, 10, 0, 10, 10, 10]),
        pack=np.array([6, 6, 1, 6, 6, 6]),
    )
    # 0 and negative: nothing; 0.2 -> 1; 7 -> MOQ 10 rounded up to packs of 6 = 12;
    # 13 -> 3 packs = 18; 41 -> 7 packs = 42
    assert got.tolist() == [0, 0, 1, 12, 18, 42]


def test_po_coverage_and_revenue_at_risk():
    cov = policy.po_coverage(
        np.array([0.0, 15.0, 40.0, 5.0]),
        np.array([50.0, 50.0, 50.0, 8.0]),
        np.array([20.0, 20.0, 20.0, 10.0]),
    )
    assert cov.tolist() == [0.0, 0.5, 1.0, 1.0]  # need 30, 30, 30 and none
    y, _, _ = flat(5.0, n=2)
    # lead 7 days: 35 units of demand; 20 on hand + 5 arriving -> 10 lost x 3.0 = 30
    risk = policy.revenue_at_risk(
        y, np.array([20.0, 40.0]), np.array([5.0, 0.0]), np.array([7, 7]), np.array([3.0, 3.0])
    )
    assert risk.tolist() == [30.0, 0.0]


def classify(**kw):
    base = dict(
        required=20.0,
        runway=5.0,
        threshold=14.0,
        on_order=0.0,
        coverage=0.0,
        moq=0.0,
        on_hand=10.0,
        flags="",
    )
    base.update(kw)
    got = actions.classify(**{k: (np.array([v]) if k != "flags" else [v]) for k, v in base.items()})
    return got.action[0], got.reason[0]


def test_each_action_by_hand():
    assert classify() == (
        actions.ORDER_TODAY,
        "runs out in 5.0 days, within its 14-day reorder point",
    )
    out = classify(on_hand=0.0, runway=0.0)[1]
    assert out == "out of stock now; reorder point 14 days of demand"
    # runway above the threshold: not yet
    assert classify(runway=20.0)[0] == actions.OK
    # POs cover everything until the next review: required <= 0
    got = classify(required=-4.0, on_order=30.0, coverage=1.0)
    assert got[0] == actions.ALREADY_ORDERED and "30 units" in got[1]
    # partial coverage
    got = classify(on_order=10.0, coverage=0.4)
    assert got == (actions.ATTENTION, "open POs cover 40% of the need until the next review")
    # below the MOQ
    got = classify(required=3.2, moq=10.0)
    assert got == (actions.ATTENTION, "needs 4, below the MOQ of 10")
    # forecast flags only matter when there is something to decide
    assert classify(flags="low_confidence")[0] == actions.ATTENTION
    assert "demand spike" in classify(flags="demand_spike")[1]
    assert "new product" in classify(flags="cold_start")[1]
    assert classify(flags="low_confidence", runway=40.0)[0] == actions.OK
    # dormant stock is an exception (nothing to order), not an Attention reason
    assert classify(flags="dormant", required=0.0, on_hand=7.0)[0] == actions.OK
    # several reasons at once, one list
    got = classify(on_order=5.0, coverage=0.2, flags="demand_spike,low_confidence")
    assert got[0] == actions.ATTENTION and got[1].count(";") == 2


def test_attention_names_its_main_reason_and_the_step_it_asks_for():
    def decide(**kw):
        base = dict(required=20.0, runway=5.0, threshold=14.0, on_order=0.0, coverage=0.0)
        base |= dict(moq=0.0, on_hand=10.0, flags="")
        base.update(kw)
        d = actions.classify(**{k: np.array([v]) if k != "flags" else [v] for k, v in base.items()})
        return d.action[0], d.attention[0], d.next_step[0]

    # each reason alone, and the precedence when several apply
    assert decide(on_order=10.0, coverage=0.4)[1] == "partial_po"
    assert decide(required=3.2, moq=10.0)[1] == "below_moq"
    assert decide(flags="cold_start")[1] == "new_product"
    assert decide(flags="demand_spike")[1] == "check_forecast"
    assert decide(flags="cold_start", required=3.2, moq=10.0)[1] == "below_moq"
    assert decide(flags="low_confidence", on_order=1.0, coverage=0.1)[1] == "partial_po"
    for label, step in actions.ATTENTION_REASONS.values():
        assert label and step
    action, code, step = decide(on_order=10.0, coverage=0.4)
    assert action == actions.ATTENTION and step == actions.ATTENTION_REASONS["partial_po"][1]
    # the other lists have a step too, and no attention code
    assert decide()[1:] == ("", "Order the recommended quantity today")
    assert decide(required=-1.0, on_order=9.0, coverage=1.0)[1] == ""
    assert decide(runway=40.0) == (actions.OK, "", "")


def test_exceptions_by_hand_ranked_by_money():
    # burn 2/day: the ceiling is max(S, 90 x 2 = 180)
    code, excess, money = actions.exceptions(
        available=np.array([7.0, 300.0, 100.0, 100.0, 0.0, 50.0]),
        on_order=np.array([0.0, 0.0, 200.0, 50.0, 40.0, 0.0]),
        order_up_to=np.array([0.0, 60.0, 60.0, 60.0, 0.0, 400.0]),
        burn=np.array([0.0, 2.0, 2.0, 2.0, 0.0, 2.0]),
        unit_value=np.array([3.0, 1.5, 2.0, 2.0, 5.0, np.nan]),
        flags=["dormant", "", "", "", "dormant", ""],
    )
    assert code == ["dormant_stock", "overstock", "too_much_on_order", "", "too_much_on_order", ""]
    # dormant: all 7 units; overstock: 300 - 180; too much on order: 100 + 200 - 180; a
    # dormant SKU with nothing on hand but 40 on order: all 40; S = 400 raises the ceiling
    assert excess.tolist() == [7.0, 120.0, 120.0, 0.0, 40.0, 0.0]
    assert money.tolist() == [21.0, 180.0, 240.0, 0.0, 200.0, 0.0]


def test_every_sku_gets_exactly_one_action_with_its_reason():
    rng = np.random.default_rng(0)
    n = 500
    flags = [
        ",".join(
            f
            for f in ("dormant", "cold_start", "low_confidence", "demand_spike")
            if rng.random() < 0.1
        )
        for _ in range(n)
    ]
    d = actions.classify(
        required=rng.normal(5, 10, n),
        runway=rng.uniform(0, 40, n),
        threshold=np.full(n, 14.0),
        on_order=rng.choice([0, 0, 5, 50], n),
        coverage=rng.uniform(0, 1, n),
        moq=rng.choice([0, 10], n),
        on_hand=rng.integers(0, 20, n),
        flags=flags,
    )
    a, r = d.action, d.reason
    assert len(a) == n and set(a) <= set(actions.ACTIONS)
    assert len(r) == n and len(set(a)) == 4  # every list is reached
    assert all((x == actions.OK) == (why == "") for x, why in zip(a, r, strict=True))
    # an attention code exactly on Attention required, a next step on every list but OK
    assert all((x == actions.ATTENTION) == bool(c) for x, c in zip(a, d.attention, strict=True))
    assert all((x == actions.OK) == (s == "") for x, s in zip(a, d.next_step, strict=True))


def test_exchange_curve_protects_cheap_units_more_and_meets_the_fill_target():
    # two SKUs with the same demand over P = 14 days (lead time 7 + review 7), N(28, 6^2);
    # one unit costs 1, the other 10. The policy plans on that demand widened by SPREAD
    # around its mean; for the same money the cheap one is protected more, S is whole units,
    # and the pair's expected shortage is (1 - 0.95) of its demand over P (lost sales: not of
    # one review's demand, half as much)
    y = np.full((2, 28), 2.0)
    lead = {
        lv: np.tile(
            2.0 * np.arange(1, 29) + norm.ppf(lv) * 6 * np.sqrt(np.arange(1, 29) / 14), (2, 1)
        )
        for lv in policy.LEAD_LEVELS
    }
    value = np.array([1.0, 10.0])
    mean, _, s = policy.order_up_to(
        y, y, y, lead, np.array([14, 14]), np.array([0.95, 0.95]), value
    )
    assert mean == pytest.approx([28.0, 28.0])
    assert s == pytest.approx(np.round(s)) and s[0] > s[1] > 28.0  # whole units; cheap: more
    grid, grid_mean = policy.demand_grid(y, lead, np.array([14, 14]))
    planned = policy.widen(grid, grid_mean)
    assert planned.std(axis=0) == pytest.approx(policy.SPREAD * grid.std(axis=0))
    short = policy.expected_shortage(planned, s[None, :]).sum()
    # at most 5 % of the demand over P (the planned distribution's mean: 2 x 28 units and a
    # little, its upper tail is heavier than a normal's), short of it by less than the dear
    # SKU's last unit
    allowed = 0.05 * planned.mean(axis=0).sum()
    assert 28.0 < planned.mean(axis=0)[0] < 28.5
    assert allowed - 0.5 <= short <= allowed
    one_less = policy.expected_shortage(planned, s[None, :] - np.eye(2)).sum(axis=1)
    assert one_less[1] > allowed  # the dear SKU could not hold a unit less
    # every unit worth the same: the same S for both, and a higher target asks for more
    _, _, same = policy.order_up_to(y, y, y, lead, np.array([14, 14]), np.array([0.95, 0.95]))
    assert same[0] == pytest.approx(same[1])
    _, _, more = policy.order_up_to(y, y, y, lead, np.array([14, 14]), np.array([0.98, 0.98]))
    assert (more > same).all()
    # a low target may leave a dear SKU below its median demand (at most to its 10th
    # percentile), where a cap at the median held stock nobody asked for
    _, _, low = policy.order_up_to(y, y, y, lead, np.array([14, 14]), np.array([0.8, 0.8]), value)
    assert low[1] < 28.0 and low[1] >= np.floor(np.quantile(planned[:, 1], 0.1))
    # no lead-time quantiles (an older snapshot): the daily method at the target
    _, _, old = policy.order_up_to(
        y, y - 1, y + 1, None, np.array([14, 14]), np.array([0.95, 0.95])
    )
    assert old[0] == pytest.approx(28 + 14 * norm.ppf(0.95) / policy.Z90)


def test_exchange_curve_equals_its_definition_on_random_grids():
    """The shortage tables (one cumulative sum and one sorted search per column) give the S
    of the definition: the bisection on sum E[(D - S)+] against the target share of the
    demand over P, each SKU at the whole unit below or above its risk's level that costs
    less, every expectation computed from the grid itself, on 300 SKUs of mixed demand,
    values and targets (an unsorted grid is sorted first)."""
    rng = np.random.default_rng(11)
    points, n = 64, 300
    grid = np.sort(rng.gamma(rng.uniform(0.3, 5, n), rng.uniform(1, 20, n), (points, n)), axis=0)
    mean = grid.mean(axis=0)  # the demand over P the target is a share of
    target = rng.choice([0.8, 0.9, 0.95], n)
    value = rng.lognormal(3, 1, n)
    low, high = policy.RISK_RANGE

    def by_definition(g):
        out = np.full(n, np.nan)
        for beta in np.unique(target):
            rows = np.nonzero(target == beta)[0]
            v, allowed = value[rows], (1 - beta) * mean[rows].sum()

            def at(lam, v=v, rows=rows):
                k = np.clip(np.ceil((1 - np.clip(v / lam, low, high)) * points).astype(int) - 1,
                            0, points - 1)  # fmt: skip
                level = g[k, rows]
                s, short = [], 0.0
                for j, col in enumerate(rows):
                    options = [np.floor(level[j] + 1e-9), np.ceil(level[j] - 1e-9)]
                    lost = [np.maximum(g[:, col] - x, 0).mean() for x in options]
                    up = v[j] * options[1] + lam * lost[1] < v[j] * options[0] + lam * lost[0]
                    s.append(options[int(up)])
                    short += lost[int(up)]
                return np.array(s), short

            lo, hi = v.min() / high * 0.999, v.max() / low * 1.001
            for _ in range(60):
                mid = np.sqrt(lo * hi)
                lo, hi = (mid, hi) if at(mid)[1] > allowed else (lo, mid)
            out[rows] = at(hi)[0]
        return out

    fast = policy.exchange_curve(grid, target, value)
    assert fast == pytest.approx(by_definition(grid), rel=1e-12)
    shuffled = rng.permuted(grid, axis=0)
    assert policy.exchange_curve(shuffled, target, value) == pytest.approx(fast, rel=1e-12)
    # and the shortage table itself against a pass over the grid, at levels between and on
    # its values
    levels = np.vstack([np.floor(grid[::7]), grid[::9], np.full((1, n), -1.0)])
    brute = np.maximum(grid[None, :, :] - levels[:, None, :], 0).mean(axis=1)
    assert policy.expected_shortage(grid, levels) == pytest.approx(brute, rel=1e-9, abs=1e-9)


def test_an_uncertain_lead_time_mixes_the_demand_over_each_period():
    """Lead times as they are: with K equally likely protection periods per SKU, the demand
    grid is the mixture of the periods' demand (its CDF the average of theirs); with one
    period repeated it is that period's grid, and a spread of lead times around the same
    mean asks for more stock at the same fill target."""
    y = np.full((1, 28), 2.0)
    lead = normal_lead(2.0, 3.0)
    fixed, fixed_mean = policy.demand_grid(y, lead, np.array([14]))
    same, same_mean = policy.demand_grid(y, lead, np.array([[14] * 8]))
    assert same[:, 0] == pytest.approx(fixed[:, 0], rel=1e-9)
    assert same_mean == pytest.approx(fixed_mean)
    # half the time 7 days, half the time 21: P(D <= x) = (P(D7 <= x) + P(D21 <= x)) / 2
    mixed, mixed_mean = policy.demand_grid(y, lead, np.array([[7] * 4 + [21] * 4]))
    assert mixed_mean == pytest.approx([28.0])
    for x in (14.0, 28.0, 42.0):
        want = (norm.cdf(x, 14, 3 * np.sqrt(7)) + norm.cdf(x, 42, 3 * np.sqrt(21))) / 2
        assert (mixed[:, 0] <= x).mean() == pytest.approx(want, abs=0.02)
    # SKUs with one period and SKUs with several, side by side: each as on its own
    both = {lv: np.vstack([q, q]) for lv, q in lead.items()}
    pair, pair_mean = policy.demand_grid(
        np.vstack([y, y]), both, np.array([[14] * 8, [7] * 4 + [21] * 4])
    )
    assert pair[:, 0] == pytest.approx(fixed[:, 0]) and pair[:, 1] == pytest.approx(mixed[:, 0])
    assert pair_mean == pytest.approx([fixed_mean[0], mixed_mean[0]])
    _, _, s_fixed = policy.order_up_to(y, y, y, lead, np.array([14]), np.array([0.95]))
    _, _, s_mixed = policy.order_up_to(
        y, y, y, lead, np.array([[7] * 4 + [21] * 4]), np.array([0.95])
    )
    assert s_mixed[0] > s_fixed[0] + 5  # the long deliveries need cover


def test_newsvendor_critical_ratio_by_hand():
    # cost 10, price 14, 25 % a year, weekly: Cu = 4, Co = 10 x 0.25 x 7 / 365
    co = 10 * 0.25 * 7 / 365
    got = policy.critical_ratio(
        np.array([14.0, 10.5, 1000.0, 10.01, 14.0, 9.0, np.nan]),
        np.array([10.0, 10.0, 10.0, 10.0, np.nan, 10.0, 10.0]),
        np.array([0.25, 0.6, 0.25, 5.0, 0.25, 0.25, 0.25]),
        np.array([7, 7, 7, 7, 7, 7, 7]),
    )
    assert got[0] == pytest.approx(4 / (4 + co))
    assert got[1] == pytest.approx(0.5 / (0.5 + 10 * 0.6 * 7 / 365))
    assert got[2] == 0.995 and got[3] == 0.5  # kept in range
    assert np.isnan(got[4:]).all()  # no cost, a loss-making price, no price: no ratio


def test_the_recent_sales_rate_is_combined_into_the_protection_demand_by_hand():
    # three SKUs with the same forecast, demand over P = 14 days ~ N(28, 6^2) (2 a day); the
    # last 28 days sold 2 / 5 / 0 a day. Combined with weight w: the mean over P becomes
    # w x rate x 14 + (1 - w) x 28, the forecast's distribution scaled to it.
    w = policy.RECENT_WEIGHT
    y = np.full((3, 28), 2.0)
    lead = {
        lv: np.tile(
            2.0 * np.arange(1, 29) + norm.ppf(lv) * 6 * np.sqrt(np.arange(1, 29) / 14), (3, 1)
        )
        for lv in policy.LEAD_LEVELS
    }
    args = (y, y, y, lead, np.full(3, 14), np.full(3, 0.95))
    _, _, alone = policy.order_up_to(*args)
    mean, _, s = policy.order_up_to(*args, recent_rate=np.array([2.0, 5.0, 0.0]))
    assert mean == pytest.approx([28.0, w * 70 + (1 - w) * 28, (1 - w) * 28])
    assert s[1] > alone[1] > s[2]  # selling faster lately asks for more; nothing sold, less
    # the forecast's distribution itself, moved to the combined mean, its spread around the
    # mean scaled by sqrt((combined mean + 1) / (forecast mean + 1)), floored at 0
    grid, mean_p = policy.demand_grid(y, lead, np.full(3, 14))
    combined, mean_c = policy.combine_recent(grid, mean_p, np.array([2.0, 5.0, 0.0]), 14)
    assert mean_c == pytest.approx(mean)
    assert combined[:, 0] == pytest.approx(grid[:, 0])  # the rate agrees: nothing moves
    for j in (1, 2):
        spread = np.sqrt((mean_c[j] + 1) / 29)
        want = np.maximum(mean_c[j] + (grid[:, j] - 28) * spread, 0)
        assert combined[:, j] == pytest.approx(want)
    # unknown rate (NaN): as without; a forecast of 0 with sales lately: shifted by w x rate x P
    _, _, unknown = policy.order_up_to(*args, recent_rate=np.array([np.nan, np.nan, np.nan]))
    assert unknown == pytest.approx(alone)
    zero = np.zeros((1, 40))
    shifted, mean_z = policy.combine_recent(zero, np.array([0.0]), np.array([1.0]), 14)
    assert mean_z[0] == pytest.approx(w * 14) and shifted == pytest.approx(np.full((1, 40), w * 14))


def test_one_sale_of_a_slow_seller_moves_its_demand_but_does_not_blow_up_its_tail():
    # a slow seller: 0.1 units forecast over P = 21 days, the forecaster's quantiles
    # f + score x sqrt(f + 1) (its conformal scores' scaling); one sale in the last 28 days
    # lifts the combined mean about three-fold; a fast seller selling thrice its forecast
    f = np.array([[0.1], [100.0]]) * np.ones((2, 21)) / 21
    scores = {0.05: -0.3, 0.25: -0.1, 0.5: -0.05, 0.75: 0.4, 0.95: 1.6}
    total = f.sum(axis=1)
    lead = {
        lv: np.cumsum(f, axis=1) + sc * np.sqrt(np.cumsum(f, axis=1) + 1)
        for lv, sc in scores.items()
    }
    lead = {lv: np.maximum(q, 0) for lv, q in lead.items()}
    grid, mean_p = policy.demand_grid(f, lead, np.full(2, 21))
    rate = np.array([1 / 28, 3 * total[1] / 21])  # one unit in 28 days; thrice the forecast
    combined, mean_c = policy.combine_recent(grid, mean_p, rate, 21)
    assert mean_c[0] / mean_p[0] > 2.5  # the sale moved the slow seller's mean
    q99 = np.quantile(grid, 0.99, axis=0) - mean_p
    q99_c = np.quantile(combined, 0.99, axis=0) - mean_c
    # its tail above the mean grows by sqrt((f' + 1) / (f + 1)) < 1.1, not by f' / f > 2.5
    assert q99_c[0] / q99[0] == pytest.approx(np.sqrt((mean_c[0] + 1) / (mean_p[0] + 1)))
    assert q99_c[0] / q99[0] < 1.1
    # a fast seller's spread grows like a Poisson standard deviation: about sqrt(f' / f)
    ratio = mean_c[1] / mean_p[1]
    assert ratio > 1.3
    assert q99_c[1] / q99[1] == pytest.approx(np.sqrt(ratio), rel=0.01)
    # and the slow seller's order-up-to level stays within a unit of its level without the
    # sale, where scaling the whole distribution by f' / f tripled it (to 2.3 units then)
    _, _, s = policy.order_up_to(f, f, f, lead, np.full(2, 21), np.full(2, 0.95), recent_rate=rate)
    _, _, alone = policy.order_up_to(f, f, f, lead, np.full(2, 21), np.full(2, 0.95))
    assert s[0] <= alone[0] + 1
