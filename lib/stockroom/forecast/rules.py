"""The brief's forecasting rules, applied per SKU at the as-of date (day index ``cutoff``).

* **dormant** -- silent for longer than the SKU's own selling rhythm allows: no sale in the
  last ``patience`` days, where ``patience`` is the gap its own rate makes less than
  :data:`DORMANT_ALPHA` (5 %) likely, at least :data:`DORMANT_DAYS` (30) and at most a year
  (:func:`patience`). A daily seller is dormant after 30 silent days, a SKU that sells once a
  month after about 90. Flagged, not forecast (point and quantiles 0, model ``dormant``).
* **cold start** -- fewer than :data:`COLD_START_DAYS` days (30) since the first sale: the
  category average (mean units/day over the last 28 days of the category's established SKUs)
  blended with the SKU's own mean since launch by credibility -- weight age/30 on its own
  mean (:func:`cold_start_forecast`) -- model ``category_average``, flag ``cold_start``;
  its bands are Poisson quantiles at that rate (:func:`poisson_bands`), so an order for a
  new product protects against more than the mean.
* **demand spike** -- over the last 7 days, actual units > :data:`SPIKE_RATIO` (2) x what the
  previous run forecast for those days: flag ``demand_spike``.
* **low confidence** -- the 90 % interval is wider than :data:`LOW_CONFIDENCE_WIDTH` (3) x
  max(forecast, 1 unit) over the horizon: flag ``low_confidence``.
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy.stats import poisson

from stockroom.forecast.demand_class import CLASS_DAYS

DORMANT_DAYS = 30
DORMANT_ALPHA = 0.05
COLD_START_DAYS = 30
SPIKE_RATIO = 2.0
LOW_CONFIDENCE_WIDTH = 3.0


def patience(y: np.ndarray, cutoff: int) -> np.ndarray:
    """Silent days after which each series counts as dormant (int per series, 30..365).

    A series' days with a sale are read as Bernoulli trials with probability ``1 / ADI``
    (the demand-occurrence model of Croston 1972 and of TSB, Teunter, Syntetos & Babai 2011),
    ADI being its average inter-demand interval (days) over the year up to its last sale --
    the current silence is what is tested, so it is not part of the estimate. ``g`` silent
    days in a row then have probability ``(1 - 1/ADI)^g``; the patience is the smallest ``g``
    that makes it below :data:`DORMANT_ALPHA`, i.e. ``ceil(ln(alpha) / ln(1 - 1/ADI))``
    (about 3 x ADI), clipped to [:data:`DORMANT_DAYS`, ``CLASS_DAYS``]. A series without a
    sale in the year up to ``cutoff`` gets the floor."""
    recent = y[:, max(cutoff + 1 - CLASS_DAYS, 0) : cutoff + 1]
    seen = ~np.isnan(recent)
    hits = (np.where(seen, recent, 0.0) > 0).sum(axis=1)
    silent = np.minimum(silent_days(y, cutoff), recent.shape[1])
    life = np.maximum(seen.sum(axis=1) - silent, 1)  # observed days up to the last sale
    adi = np.where(hits > 0, life / np.maximum(hits, 1), 1.0)
    with np.errstate(divide="ignore"):
        g = np.where(adi > 1.0, np.ceil(np.log(DORMANT_ALPHA) / np.log1p(-1.0 / adi)), 0.0)
    return np.clip(g, DORMANT_DAYS, CLASS_DAYS).astype(int)


def silent_days(y: np.ndarray, cutoff: int) -> np.ndarray:
    """Days since the last sale up to ``cutoff`` (0: sold on ``cutoff``; ``cutoff + 1``
    when it never sold), int per series."""
    sold = np.nan_to_num(y[:, : cutoff + 1]) > 0
    last = np.where(sold.any(axis=1), cutoff - np.argmax(sold[:, ::-1], axis=1), -1)
    return cutoff - last


def dormant(y: np.ndarray, cutoff: int) -> np.ndarray:
    """Launched series silent for at least their :func:`patience` (bool per series) -- not
    for a flat 30 days: a slow seller between two sales is not a dead product."""
    started = ~np.isnan(y[:, cutoff])
    return started & (silent_days(y, cutoff) >= patience(y, cutoff))


def cold_start(first: np.ndarray, cutoff: int) -> np.ndarray:
    """Series whose first sale is fewer than ``COLD_START_DAYS`` days before ``cutoff``."""
    return (cutoff - first < COLD_START_DAYS) & (first <= cutoff)


def category_average(
    y: np.ndarray, category: np.ndarray, established: np.ndarray, cutoff: int
) -> np.ndarray:
    """Mean units/day over the last 28 days of each series' category's established SKUs
    (0 when the category has none)."""
    recent = np.nanmean(np.nan_to_num(y[:, max(cutoff - 27, 0) : cutoff + 1]), axis=1)
    out = np.zeros(len(category))
    for c in np.unique(category):
        members = (category == c) & established
        out[category == c] = recent[members].mean() if members.any() else 0.0
    return out


def cold_start_forecast(
    y: np.ndarray, category: np.ndarray, established: np.ndarray, first: np.ndarray, cutoff: int
) -> np.ndarray:
    """Units/day per series for cold starts: ``w`` x its own mean since its first sale +
    (1 - ``w``) x :func:`category_average`, with ``w`` = days since the first sale (counting
    the first day) / :data:`COLD_START_DAYS`, capped at 1 -- linear credibility weighting by
    exposure (Bühlmann, *Experience rating and credibility*, ASTIN Bulletin 1967). A SKU on
    its first day gets almost the category average; at 15 days, half its own rate."""
    base = category_average(y, category, established, cutoff)
    age = np.clip(cutoff + 1 - first, 0, COLD_START_DAYS)
    own = np.nan_to_num(y[:, : cutoff + 1]).sum(axis=1) / np.maximum(age, 1)
    weight = age / COLD_START_DAYS
    return weight * own + (1 - weight) * base


def poisson_bands(
    rate: np.ndarray, horizon: int, levels: dict[str, float]
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Quantile bands of Poisson demand at ``rate`` units/day (n floats): (daily: name ->
    n x ``horizon`` quantiles of one day's units; cumulative: name -> n x ``horizon``
    quantiles of the units summed over days 1..k), for each ``levels`` name -> share in
    (0, 1). Poisson is the usual demand model of a slow mover with no history to read its
    spread from (Silver, Pyke & Thomas 2017, on slow-moving items). NaN or negative
    rates are read as 0 (every quantile 0)."""
    mu = np.clip(np.nan_to_num(rate), 0, None)[:, None]
    days = np.arange(1, horizon + 1)[None, :]
    daily = {k: np.repeat(poisson.ppf(q, mu), horizon, axis=1) for k, q in levels.items()}
    summed = {k: poisson.ppf(q, mu * days) for k, q in levels.items()}
    return daily, summed


def spikes(actual_7d: np.ndarray, forecast_7d: np.ndarray) -> np.ndarray:
    """Actual units over 7 days > SPIKE_RATIO x the forecast for them (NaN forecast: no)."""
    return np.nan_to_num(actual_7d) > SPIKE_RATIO * np.nan_to_num(forecast_7d, nan=np.inf)


def low_confidence(yhat: np.ndarray, q05: np.ndarray, q95: np.ndarray) -> np.ndarray:
    """Mean interval width over the horizon > LOW_CONFIDENCE_WIDTH x max(mean forecast, 1)."""
    with warnings.catch_warnings():  # rows without an interval (cold starts): False
        warnings.simplefilter("ignore", RuntimeWarning)
        width = np.nanmean(q95 - q05, axis=1)
        level = np.maximum(np.nanmean(yhat, axis=1), 1.0)
    return np.nan_to_num(width) > LOW_CONFIDENCE_WIDTH * level
