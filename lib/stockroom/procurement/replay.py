"""Replay a replenishment policy over a real sales history, day by day.

Every ``review_days`` the policy looks at its stock and open orders and may order; an order
arrives ``lead_time`` days later; each day's actual demand is served from stock, and what
cannot be served is lost (lost sales, no backorders). Demand is the real history; only the
stock is simulated. Each policy starts with its own order-up-to level on hand and nothing on
order; the first ``lead_time + review_days`` days are a warm-up, left out of the figures, and
so are the first ``lead_time + review_days`` days after a product's first sale when it is
launched during the replay (no policy can have it on the shelf before an order placed at its
first review arrives; a buyer would stock it before launch, which the replay cannot know).

Policies (the same review days, lead time and demand for all):

* ``stockroom`` -- our (R, S) policy (:mod:`stockroom.procurement.policy`): S from the shipped
  :class:`~stockroom.forecast.forecaster.Forecaster` (what ``stockroom forecast`` lands: rules,
  the global model or, per series, seasonal naive / TSB where those did better) and its
  conformal quantiles at the target service level, combined with the last 28 days' sales
  rate as the plan does (:func:`recent_rate`, :func:`stockroom.procurement.policy.combine_recent`),
  made each review day from the history up to the day before (refitted every 28 days).
* ``seller_tool`` -- the common seller-tool rule: S = 30-day average x (lead time + review
  period + ``safety_days``); order S - inventory position when positive.
* ``runway_rule`` -- the brief's runway rule: when runway (on hand / 30-day average) <= lead time
  + review period, order 30-day average x (lead time + review period) - what is on order.

Figures (:class:`ReplayResult`): fill rate = units served / units demanded (0-1), after each
SKU's warm-up; ``fill_rate_all_demand`` the same over every unit demanded after the replay's
warm-up (launches included, the definition before per-SKU warm-ups); stock-out
days = share of SKU-days that start with nothing on hand (0-1); average inventory value = mean
over days of sum(on hand x price); orders = purchase orders placed. For ``stockroom``, the
*order today* list (no open PO and the inventory position below S) is scored against the
stock-outs that actually followed: a SKU "needed an order" on a review day when its actual
demand over the next lead time + review period exceeded its stock plus what was on order
arriving by then -- precision and recall over all review days of SKUs without open POs. (Lead
time + review, not the lead time alone: an order placed today arrives after the lead time, so
it cannot prevent a stock-out inside it; skipping today's order matters for stock-outs before
the next review's order could arrive.)
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from stockroom.forecast.data import Panel
from stockroom.forecast.forecaster import Forecaster, ForecasterConfig
from stockroom.procurement import policy

POLICIES = ("stockroom", "seller_tool", "runway_rule")
RETRAIN_DAYS = 28


@dataclass
class ReplayResult:
    policy: str
    lead_time: int
    service_level: float | None
    fill_rate: float
    stockout_days: float
    avg_inventory_value: float
    orders: int
    order_today_precision: float | None = None
    order_today_recall: float | None = None
    safety_days: float | None = None
    fill_rate_all_demand: float | None = None
    # per SKU (n floats each, after each SKU's warm-up): units served, units demanded, and
    # the SKU's share of the average inventory value -- what the bootstrap resamples
    per_sku: dict[str, np.ndarray] | None = field(default=None, repr=False)

    def as_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k != "per_sku"}


# review day -> (yhat, q05, q95, lead-time-sum quantiles by level)
Forecasts = dict[int, tuple[np.ndarray, np.ndarray, np.ndarray, dict[float, np.ndarray]]]


def forecasts_for(
    p: Panel,
    review_days: list[int],
    horizon: int,
    config: ForecasterConfig | None = None,
    on_step: Callable[[str], None] | None = None,
) -> Forecasts:
    """The shipped forecaster's forecasts made on each review day (from history up to the day
    before): yhat/q05/q95 (n_series x horizon, NaN for series not launched yet) and the
    quantiles of the demand summed over days 1..L (level -> n_series x horizon). The
    forecaster is refitted every :data:`RETRAIN_DAYS` days and predicts at every review in
    between (rules re-applied at each review)."""
    config = config or ForecasterConfig.shipped(horizon)
    out: Forecasts = {}
    forecaster: Forecaster | None = None
    trained_at = -(10**9)
    for k, day in enumerate(review_days):
        cutoff = day - 1
        if cutoff - trained_at >= RETRAIN_DAYS:
            if on_step:
                on_step(
                    f"training the forecast model at day {cutoff} "
                    f"({k + 1}/{len(review_days)} reviews)"
                )
            forecaster = Forecaster(config).fit(p, cutoff)
            trained_at = cutoff
        fc = forecaster.predict(p, cutoff)
        out[day] = (fc.yhat, fc.bands["q05"], fc.bands["q95"], policy.lead_levels(fc.bands))
    return out


def recent_rate(y: np.ndarray, first: np.ndarray, day: int) -> np.ndarray:
    """Units per day over the :data:`policy.RECENT_DAYS` days before ``day`` (n floats), as
    the plan reads it: NaN for a SKU first sold fewer than that many days before."""
    window = np.nan_to_num(y[:, max(day - policy.RECENT_DAYS, 0) : day]).mean(axis=1)
    return np.where(day - np.asarray(first) >= policy.RECENT_DAYS, window, np.nan)


def _avg30(y: np.ndarray, day: int) -> np.ndarray:
    return np.nan_to_num(y[:, max(day - 30, 0) : day]).mean(axis=1)


def replay(
    p: Panel,
    *,
    policy_name: str,
    lead_time: int,
    review_days: int = 7,
    service_level: float = 0.95,
    safety_days: float = 7.0,
    start: int,
    forecasts: Forecasts | None = None,
) -> ReplayResult:
    """Replay ``policy_name`` on the days ``start`` .. end of the panel. ``forecasts`` (from
    :func:`forecasts_for` with the same review days) is required for ``stockroom``.
    Raises ValueError for an unknown policy or missing forecasts."""
    if policy_name not in POLICIES:
        raise ValueError(f"unknown policy {policy_name!r}; known: {', '.join(POLICIES)}")
    if policy_name == "stockroom" and not forecasts:
        raise ValueError("the stockroom policy needs forecasts (forecasts_for)")
    y = p.y
    n, d = y.shape
    price = np.nan_to_num(p.price)
    protection = lead_time + review_days
    pipeline = np.zeros((n, d + lead_time + 1))  # arrivals by day
    on_hand = np.zeros(n)
    warm_up = start + protection
    # each SKU's own warm-up: launched during the replay, its first protection period after
    # its first sale cannot be served by any policy
    own_warm_up = np.maximum(p.first, start) + protection
    served = demanded = stockout = skudays = 0.0
    served_all = demanded_all = 0.0
    inventory_value = []
    sku_served = np.zeros(n)
    sku_demanded = np.zeros(n)
    sku_inventory = np.zeros(n)
    orders = 0
    tp = fp = fn = 0

    def order_up_to(day: int) -> np.ndarray:
        if policy_name == "stockroom":
            yhat, q05, q95, lead = forecasts[day]
            _, _, s = policy.order_up_to(
                np.nan_to_num(yhat),
                q05,
                q95,
                lead,
                np.full(n, protection),
                np.full(n, service_level),
                unit_value=price[:, day],
                recent_rate=recent_rate(y, p.first, day),
            )
            return s
        avg = _avg30(y, day)
        if policy_name == "seller_tool":
            return avg * (protection + safety_days)
        return avg * protection

    for day in range(start, d):
        launched = ~np.isnan(y[:, day])
        on_hand += pipeline[:, day]
        if (day - start) % review_days == 0:
            target = order_up_to(day)
            if day == start:
                on_hand = np.where(launched, np.ceil(target), 0)
            on_order = pipeline[:, day + 1 :].sum(axis=1)
            position = on_hand + on_order
            if policy_name == "runway_rule":
                avg = _avg30(y, day)
                runway = policy.runway_days(on_hand, avg)
                qty = np.where(runway <= protection, np.maximum(target - on_order, 0), 0)
            else:
                qty = np.maximum(target - position, 0)
            qty = policy.round_order(qty, np.zeros(n), np.ones(n)) * launched
            if policy_name == "stockroom" and day >= warm_up:
                # order today (no open PO, position below S) vs. the stock-outs that followed
                # before an order placed at the next review could arrive (lead time + review)
                future = np.nansum(y[:, day : day + protection], axis=1)
                arriving = pipeline[:, day + 1 : day + protection].sum(axis=1)
                needed = future > on_hand + arriving
                free = launched & (on_order == 0)
                flagged = free & (qty > 0)
                tp += int((flagged & needed).sum())
                fp += int((flagged & ~needed).sum())
                fn += int((free & ~flagged & needed).sum())
            pipeline[:, day + lead_time] += qty
            if day >= warm_up:
                orders += int((qty > 0).sum())
        demand = np.nan_to_num(y[:, day])
        sold = np.minimum(demand, on_hand)
        if day >= warm_up:
            counted = launched & (day >= own_warm_up)
            stockout += float((counted & (on_hand <= 0)).sum())
            skudays += float(counted.sum())
            served += float(sold[counted].sum())
            demanded += float(demand[counted].sum())
            sku_served += np.where(counted, sold, 0.0)
            sku_demanded += np.where(counted, demand, 0.0)
            served_all += float(sold.sum())
            demanded_all += float(demand.sum())
        on_hand -= sold
        if day >= warm_up:
            inventory_value.append(float((on_hand * price[:, day]).sum()))
            sku_inventory += on_hand * price[:, day]
    return ReplayResult(
        policy_name,
        lead_time,
        service_level if policy_name == "stockroom" else None,
        served / demanded if demanded else float("nan"),
        stockout / skudays if skudays else float("nan"),
        float(np.mean(inventory_value)) if inventory_value else float("nan"),
        orders,
        tp / (tp + fp) if policy_name == "stockroom" and tp + fp else None,
        tp / (tp + fn) if policy_name == "stockroom" and tp + fn else None,
        safety_days if policy_name == "seller_tool" else None,
        served_all / demanded_all if demanded_all else float("nan"),
        {
            "served": sku_served,
            "demanded": sku_demanded,
            "inventory": sku_inventory / max(len(inventory_value), 1),
        },
    )


# the seller rule's curve: 0-56 safety days (up to 8 weeks, what seller tools offer), and
# extended to 224 days (32 weeks of cover beyond the protection period) so that "at equal
# fill" exists where our fill is above what 56 days buy (Olist; Online Retail at 28 days)
SAFETY_DAYS = (0.0, 3.0, 7.0, 14.0, 28.0, 56.0)
EXTENDED_SAFETY_DAYS = (*SAFETY_DAYS, 84.0, 112.0, 168.0, 224.0)


def run(
    p: Panel,
    *,
    lead_times: list[int],
    service_levels: list[float],
    review_days: int = 7,
    replay_days: int = 182,
    safety_days: tuple[float, ...] = EXTENDED_SAFETY_DAYS,
    on_step: Callable[[str], None] | None = None,
) -> tuple[list[ReplayResult], float]:
    """Every policy x lead time (x service level for ours, x ``safety_days`` for the seller
    tool, tracing its fill-rate vs inventory curve) on the last ``replay_days`` days;
    forecasts are made once per review day (horizon = the longest protection period) and
    shared. Returns the results and the wall seconds spent forecasting."""
    d = p.y.shape[1]
    start = d - replay_days
    if start < 120:
        raise ValueError(
            f"the history is too short: {d} days, {replay_days} to replay "
            "and at least 120 to learn from"
        )
    days = list(range(start, d, review_days))
    horizon = max(lead_times) + review_days
    began = time.perf_counter()
    fc = forecasts_for(p, days, horizon, on_step=on_step)
    seconds = time.perf_counter() - began
    results = []
    for lead in lead_times:
        for level in service_levels:
            results.append(
                replay(
                    p,
                    policy_name="stockroom",
                    lead_time=lead,
                    review_days=review_days,
                    service_level=level,
                    start=start,
                    forecasts=fc,
                )
            )
        for safety in safety_days:
            results.append(
                replay(
                    p,
                    policy_name="seller_tool",
                    lead_time=lead,
                    review_days=review_days,
                    safety_days=safety,
                    start=start,
                )
            )
        results.append(
            replay(
                p, policy_name="runway_rule", lead_time=lead, review_days=review_days, start=start
            )
        )
    return results, seconds


def equal_fill(
    ours: ReplayResult, curve: list[ReplayResult], *, max_safety_days: float | None = None
) -> tuple[float, float] | None:
    """(inventory ratio, the seller tool's safety days) at our fill rate, both interpolated
    linearly between the curve's two neighbouring points; None when our fill rate is outside
    the curve's range (or the curve is empty). Safety days are the rule's days of cover
    beyond lead time + review period. ``max_safety_days`` keeps only the curve's points up to
    that many safety days (56: the 0-56 curve of :data:`SAFETY_DAYS`)."""
    pts = sorted(
        (r.fill_rate, r.avg_inventory_value, r.safety_days or 0.0)
        for r in curve
        if max_safety_days is None or (r.safety_days or 0.0) <= max_safety_days
    )
    fills = [f for f, _, _ in pts]
    if not pts or not fills[0] <= ours.fill_rate <= fills[-1]:
        return None
    value = float(np.interp(ours.fill_rate, fills, [v for _, v, _ in pts]))
    days = float(np.interp(ours.fill_rate, fills, [s for _, _, s in pts]))
    return (ours.avg_inventory_value / value, days) if value else None


def above_ceiling(ours: ReplayResult, curve: list[ReplayResult]) -> bool:
    """True when our fill rate is above the curve's best and our inventory is at most the
    inventory of the rule's best-fill point: the rule cannot match our fill with any of its
    safety days, and its best costs more (our point dominates the whole curve)."""
    if not curve:
        return False
    best = max(curve, key=lambda r: r.fill_rate)
    return ours.fill_rate > best.fill_rate and ours.avg_inventory_value <= best.avg_inventory_value


def equal_fill_interval(
    ours: ReplayResult,
    curve: list[ReplayResult],
    *,
    resamples: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> tuple[float, float] | None:
    """A bootstrap confidence interval for :func:`equal_fill`'s inventory ratio over the
    SKUs: the SKUs are resampled with replacement (the same draw for our policy and every
    point of the rule's curve, so the comparison stays paired) and the ratio recomputed;
    percentile interval (Efron & Tibshirani, *An Introduction to the Bootstrap*, 1993,
    ch. 13; ``scipy.stats.bootstrap``). Resamples whose fill lies outside the curve count as
    NaN and are left out. None when the results carry no per-SKU figures or fewer than half
    of the resamples give a ratio. Tells whether a ratio near a goal line is a difference or
    the luck of which SKUs the data holds."""
    from scipy.stats import DegenerateDataWarning, bootstrap

    runs = [ours, *curve]
    if any(r.per_sku is None for r in runs) or not curve:
        return None
    arrays = [r.per_sku[k] for r in runs for k in ("served", "demanded", "inventory")]

    def ratio(*cols: np.ndarray) -> float:
        results = []
        for i, r in enumerate(runs):
            served, demanded, inventory = cols[3 * i : 3 * i + 3]
            total = demanded.sum()
            fill = served.sum() / total if total else float("nan")
            results.append(
                ReplayResult(
                    r.policy,
                    r.lead_time,
                    r.service_level,
                    fill,
                    0.0,
                    float(inventory.sum()),
                    0,
                    safety_days=r.safety_days,
                )
            )
        found = equal_fill(results[0], results[1:])
        return found[0] if found else float("nan")

    with warnings.catch_warnings():
        # resamples off the curve are NaN by design (left out below); scipy would warn that
        # the distribution is degenerate
        warnings.simplefilter("ignore", DegenerateDataWarning)
        boot = bootstrap(
            arrays,
            ratio,
            paired=True,
            vectorized=False,
            n_resamples=resamples,
            batch=100,  # resampled index arrays 100 at a time: 3,922 SKUs x 33 columns stay small
            confidence_level=confidence,
            method="percentile",
            rng=np.random.default_rng(seed),
        )
    finite = np.isfinite(boot.bootstrap_distribution)
    if finite.mean() < 0.5:
        return None
    low, high = np.nanquantile(
        boot.bootstrap_distribution, [(1 - confidence) / 2, (1 + confidence) / 2]
    )
    return float(low), float(high)
