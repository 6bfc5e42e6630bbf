"""Baseline forecasters over a panel's history (n_series x n_days, NaN before the first sale).

Each returns an (n_series x horizon) array of point forecasts (units/day).

* :func:`seasonal_naive` -- the last observed week repeated (period 7).
* :func:`ses` -- simple exponential smoothing, smoothing level fitted per series by
  statsmodels (``SimpleExpSmoothing``, maximum likelihood); flat forecast. "ETS bottom-up" in
  the benchmark = this per bottom series, aggregated by the metric.
* :func:`croston`, :func:`sba`, :func:`tsb` -- intermittent-demand methods (statsmodels has
  none): Croston (1972) smooths non-zero sizes and inter-demand intervals; SBA (Syntetos &
  Boylan, 2005) multiplies Croston by (1 - alpha/2) to remove its bias; TSB (Teunter, Syntetos
  & Babai, 2011) smooths the demand probability every period instead of the interval.
* :func:`ets` -- ETS(A,N,A): additive error, no trend, additive weekly season (Hyndman,
  Koehler, Ord & Snyder, *Forecasting with Exponential Smoothing: The State Space Approach*,
  2008, ch. 2; Hyndman & Athanasopoulos, *Forecasting: Principles and Practice*, 3rd ed.,
  sec. 8.3), vectorised over series: the smoothing parameters are picked per series from
  a grid (:data:`ETS_ALPHAS` x :data:`ETS_GAMMAS`) by the sum of squared one-step errors --
  the maximum-likelihood criterion of the additive-error model with the initial states held
  fixed (level and weekday offsets = the means of the first 28 days after the first sale)
  instead of optimised. Days without an observation (before the first sale, censored days)
  update nothing. Forecasts are clipped at 0. On the benchmark windows it scores within
  0.012 WRMSSE of statsforecast's ``AutoETS(model="ANA")`` (equal on M5, better on Olist;
  README, Forecasting) in 1/7 to 1/21 of its time.
* :func:`weekly_ses` -- temporal aggregation (ADIDA: Nikolopoulos, Syntetos, Boylan,
  Petropoulos & Assimakopoulos, *An aggregate-disaggregate intermittent demand approach
  (ADIDA) to forecasting*, JORS 62(3), 2011): simple exponential smoothing of the weekly
  totals, each day ahead the week's level times its weekday's share of recent sales. A
  week's total is steadier than its days; a benchmark baseline (the best simple model on
  M5 and Online Retail, README).
* :func:`winsorized` -- either of the last two fitted on the history with each series'
  outlying days capped (:func:`winsorize`), the forecast then rescaled to the series' real
  units of the last :data:`RESCALE_DAYS` days: ``ets_winsorized`` and
  ``weekly_ses_winsorized``, the two models every routed forecast is averaged with
  (:mod:`stockroom.forecast.routing`). A wholesale order of 500 units among days of 20 moves
  an exponential smoothing level by alpha x 480 and its weekday offsets with it, and the
  next four weeks are forecast from that jump; winsorizing the inputs is the simplest form
  of the outlier cleaning that robust exponential smoothing does inside the recursion
  (Gelper, Fried & Croux, *Robust forecasting with exponential and Holt-Winters smoothing*,
  J. Forecasting 29(3), 2010), and the rescaling gives the capped units back, spread over
  the days ahead, so the series' level stays unbiased.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np
from statsmodels.tsa.holtwinters import SimpleExpSmoothing


def _observed(row: np.ndarray) -> np.ndarray:
    return row[~np.isnan(row)]


def seasonal_naive(history: np.ndarray, horizon: int, period: int = 7) -> np.ndarray:
    last = np.nan_to_num(history[:, -period:], nan=0.0)
    reps = -(-horizon // period)
    return np.tile(last, reps)[:, :horizon]


def ses(history: np.ndarray, horizon: int) -> np.ndarray:
    out = np.zeros((history.shape[0], horizon))
    for i, row in enumerate(history):
        y = _observed(row)
        if len(y) < 3 or y.sum() == 0:
            out[i] = y.mean() if len(y) else 0.0
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = SimpleExpSmoothing(y, initialization_method="estimated").fit()
        out[i] = max(float(fit.forecast(1)[0]), 0.0)
    return out


def _croston_core(y: np.ndarray, alpha: float) -> tuple[float, float]:
    """(smoothed size, smoothed interval) after the whole history."""
    nz = np.nonzero(y)[0]
    if len(nz) == 0:
        return 0.0, 1.0
    size, interval, last = y[nz[0]], float(nz[0] + 1), nz[0]
    for t in nz[1:]:
        size += alpha * (y[t] - size)
        interval += alpha * ((t - last) - interval)
        last = t
    return size, interval


def croston(history: np.ndarray, horizon: int, alpha: float = 0.1) -> np.ndarray:
    out = np.zeros((history.shape[0], horizon))
    for i, row in enumerate(history):
        size, interval = _croston_core(_observed(row), alpha)
        out[i] = size / interval
    return out


def sba(history: np.ndarray, horizon: int, alpha: float = 0.1) -> np.ndarray:
    return croston(history, horizon, alpha) * (1 - alpha / 2)


def tsb(history: np.ndarray, horizon: int, alpha: float = 0.1, beta: float = 0.1) -> np.ndarray:
    out = np.zeros((history.shape[0], horizon))
    for i, row in enumerate(history):
        y = _observed(row)
        nz = np.nonzero(y)[0]
        if len(nz) == 0:
            continue
        prob, size = 1.0, y[nz[0]]
        for t in range(nz[0] + 1, len(y)):
            hit = y[t] > 0
            prob += beta * (float(hit) - prob)
            if hit:
                size += alpha * (y[t] - size)
        out[i] = prob * size
    return out


#: Level smoothing (alpha) and seasonal smoothing (gamma) values :func:`ets` chooses from.
ETS_ALPHAS = (0.005, 0.01, 0.03, 0.06, 0.1, 0.15, 0.2, 0.3, 0.5)
ETS_GAMMAS = (0.0, 0.02, 0.05, 0.1, 0.2)
ETS_INIT_DAYS = 28


def ets(history: np.ndarray, horizon: int, period: int = 7) -> np.ndarray:
    """ETS(A,N,A) forecasts, n_series x ``horizon`` units/day (>= 0), from ``history``
    (n_series x n_days units, NaN = no observation). Per series, over the grid of
    (alpha, gamma): level l and seasonal offsets s (one per day of the ``period``) follow
    e_t = y_t - l - s_(t mod m), l += alpha e_t, s_(t mod m) += gamma e_t (the
    error-correction form of the additive-error model, Hyndman et al. 2008, ch. 2); the pair
    with the least squared one-step error after the first :data:`ETS_INIT_DAYS` days is
    kept; the forecast k days ahead is l + s_((T + k) mod m). A series without an
    observation forecasts 0."""
    y = np.asarray(history, dtype=float)
    n, days = y.shape
    seen = ~np.isnan(y)
    first = np.where(seen.any(axis=1), seen.argmax(axis=1), days)
    start = first[:, None] + np.arange(ETS_INIT_DAYS)
    window = np.take_along_axis(y, np.minimum(start, days - 1), axis=1)
    window[start >= days] = np.nan
    with warnings.catch_warnings():  # a series with no day in its window: 0
        warnings.simplefilter("ignore", RuntimeWarning)
        level0 = np.nan_to_num(np.nanmean(window, axis=1))
        season0 = (
            np.stack(
                [
                    np.nan_to_num(np.nanmean(np.where(start % period == j, window, np.nan), axis=1))
                    for j in range(period)
                ],
                axis=1,
            )
            - np.where(seen.any(axis=1), level0, 0)[:, None]
        )
    alpha, gamma = (a.ravel()[:, None] for a in np.meshgrid(ETS_ALPHAS, ETS_GAMMAS, indexing="ij"))
    level = np.repeat(level0[None], len(alpha), axis=0)
    season = np.repeat(season0[None], len(alpha), axis=0)  # grid x n x period
    sse = np.zeros(level.shape)
    scored_from = first + ETS_INIT_DAYS
    for t in np.nonzero(seen.any(axis=0))[0]:
        live = seen[:, t]
        j = t % period
        error = np.where(live, np.nan_to_num(y[:, t]) - level - season[:, :, j], 0.0)
        sse += np.where(t >= scored_from, error * error, 0.0)
        level += alpha * error
        season[:, :, j] += gamma * error
    best = np.argmin(sse, axis=0)
    rows = np.arange(n)
    ahead = (days + np.arange(horizon)) % period
    out = level[best, rows][:, None] + season[best, rows][:, ahead]
    return np.maximum(np.where(seen.any(axis=1)[:, None], out, 0.0), 0.0)


#: Smoothing levels :func:`weekly_ses` chooses from, and the weeks its weekday shares are read off.
WEEKLY_ALPHAS = (0.05, 0.1, 0.2, 0.3, 0.5)
PROFILE_WEEKS = 26


def weekly_ses(history: np.ndarray, horizon: int) -> np.ndarray:
    """Point forecasts, n_series x ``horizon`` units/day (>= 0), from ``history`` (n_series x
    n_days units, NaN = no observation) by temporal aggregation: the days are summed into
    weeks ending on the last day (a week with no observed day is skipped; a partial week
    counts what it saw); simple exponential smoothing runs on the weekly totals, its level
    starting at the first observed week and alpha picked per series from
    :data:`WEEKLY_ALPHAS` by the least sum of squared one-step errors; each day ahead is the
    level times that weekday's share of the last :data:`PROFILE_WEEKS` whole weeks' sales (1/7
    each without a sale). A series without an observation, or under a week of history, forecasts
    0."""
    y = np.asarray(history, dtype=float)
    n, days = y.shape
    k = days // 7
    if k == 0:
        return np.zeros((n, horizon))
    block = y[:, days - 7 * k :].reshape(n, k, 7)
    seen = ~np.isnan(block).all(axis=2)
    weeks = np.nan_to_num(block).sum(axis=2)
    best_sse, best_level = np.full(n, np.inf), np.zeros(n)
    for alpha in WEEKLY_ALPHAS:
        level, started, sse = np.zeros(n), np.zeros(n, dtype=bool), np.zeros(n)
        for t in range(k):
            now = seen[:, t]
            error = np.where(now & started, weeks[:, t] - level, 0.0)
            sse += error * error
            level = np.where(now & ~started, weeks[:, t], level + alpha * error)
            started |= now
        better = sse < best_sse
        best_sse = np.where(better, sse, best_sse)
        best_level = np.where(better, level, best_level)
    span = 7 * min(k, PROFILE_WEEKS)  # whole weeks
    recent = np.nan_to_num(y[:, days - span :])
    weekday = (np.arange(days - span, days) - days) % 7  # forecast day h is weekday h % 7
    by_day = np.stack([recent[:, weekday == j].sum(axis=1) for j in range(7)], axis=1)
    total = by_day.sum(axis=1, keepdims=True)
    share = np.where(total > 0, by_day / np.where(total > 0, total, 1.0), 1 / 7)
    out = best_level[:, None] * share[:, np.arange(horizon) % 7]
    return np.maximum(np.where(seen.any(axis=1)[:, None], out, 0.0), 0.0)


#: :func:`winsorize` caps a series' daily units at this quantile (share 0-1) of its days with
#: a sale over the last :data:`WINSOR_DAYS` days; a winsorized forecast is rescaled to the
#: series' real units over the last :data:`RESCALE_DAYS` days (:func:`winsorized`).
WINSOR_QUANTILE = 0.9
WINSOR_DAYS = 365
RESCALE_DAYS = 91


def winsorize(
    history: np.ndarray, q: float = WINSOR_QUANTILE, days: int = WINSOR_DAYS
) -> np.ndarray:
    """``history`` (n_series x n_days units, NaN = no observation) with each series' daily
    units capped at the ``q`` quantile of its days with a sale in the last ``days`` days
    (a series without a sale there is left as it is). NaN stays NaN."""
    y = np.asarray(history, dtype=float)
    sales = np.where(y[:, -days:] > 0, y[:, -days:], np.nan)
    some = ~np.isnan(sales).all(axis=1)
    cap = np.full(len(y), np.inf)
    if some.any():
        cap[some] = np.nanquantile(sales[some], q, axis=1)
    return np.where(np.isnan(y), y, np.minimum(y, cap[:, None]))


def winsorized(
    fit: Callable[[np.ndarray, int], np.ndarray],
) -> Callable[[np.ndarray, int], np.ndarray]:
    """The baseline ``fit`` on the :func:`winsorize`-d history, each series' forecast
    multiplied by its real units over the last :data:`RESCALE_DAYS` days divided by its
    capped units over them (1 where it sold nothing there): the shape and the dynamics of
    the cleaned series, the level of the real one. Same arguments and result as ``fit``
    (n_series x horizon units/day, >= 0)."""

    def run(history: np.ndarray, horizon: int) -> np.ndarray:
        y = np.asarray(history, dtype=float)
        capped = winsorize(y)
        real = np.nansum(y[:, -RESCALE_DAYS:], axis=1)
        kept = np.nansum(capped[:, -RESCALE_DAYS:], axis=1)
        scale = np.where(kept > 0, real / np.where(kept > 0, kept, 1.0), 1.0)
        return fit(capped, horizon) * scale[:, None]

    run.__name__ = f"{fit.__name__}_winsorized"
    run.__doc__ = f"{fit.__name__} on the winsorized history (:func:`winsorized`)."
    return run


BASELINES = {
    "seasonal_naive": seasonal_naive,
    "ses": ses,
    "croston": croston,
    "sba": sba,
    "tsb": tsb,
    "ets": ets,
    "weekly_ses": weekly_ses,
    "ets_winsorized": winsorized(ets),
    "weekly_ses_winsorized": winsorized(weekly_ses),
}
