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
"""

from __future__ import annotations

import warnings

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


BASELINES = {
    "seasonal_naive": seasonal_naive,
    "ses": ses,
    "croston": croston,
    "sba": sba,
    "tsb": tsb,
}
