"""The ``forecasts`` snapshot's frame: a :class:`~stockroom.forecast.forecaster.Forecast` with
each SKU's category, its backtest accuracy and its SHAP drivers (pure: arrays in, frame out)."""

from __future__ import annotations

import numpy as np
import polars as pl

from stockroom.forecast import baselines
from stockroom.forecast.data import Panel
from stockroom.forecast.forecaster import Forecast
from stockroom.forecast.metrics import mase_per_series


def backtest_accuracy(p: Panel, cutoff: int, backtest: np.ndarray) -> dict[str, np.ndarray]:
    """Per series, the chosen model's error on the ``horizon`` days before the cutoff (it was
    fitted without them): ``backtest_units`` (actual units), ``backtest_abs_error`` (sum of
    |error|, units; so WAPE adds up over any group), ``backtest_mase``
    (:func:`stockroom.forecast.metrics.mase_per_series`) and ``baseline_abs_error`` (the same
    sum for the seasonal naive forecast made at the same origin, on the same days: what a
    spreadsheet would have forecast); NaN where nothing was scored."""
    horizon = backtest.shape[1]
    early = cutoff - horizon
    if early < 1:
        nan = np.full(len(p.ids), np.nan)
        return {
            "backtest_units": nan,
            "backtest_abs_error": nan,
            "backtest_mase": nan,
            "baseline_abs_error": nan,
        }
    actual = p.y[:, early + 1 : cutoff + 1]
    scored = ~np.isnan(actual) & ~np.isnan(backtest)
    any_scored = scored.any(axis=1)
    units = np.where(any_scored, np.where(scored, actual, 0).sum(axis=1), np.nan)
    error = np.where(any_scored, np.where(scored, np.abs(actual - backtest), 0).sum(axis=1), np.nan)
    naive = baselines.seasonal_naive(p.y[:, : early + 1], horizon)
    naive_error = np.where(
        any_scored, np.where(scored, np.abs(actual - naive), 0).sum(axis=1), np.nan
    )
    return {
        "backtest_units": units,
        "backtest_abs_error": error,
        "backtest_mase": mase_per_series(
            p.y[:, : early + 1], np.where(scored, actual, np.nan), backtest
        ),
        "baseline_abs_error": naive_error,
    }


def forecasts_frame(p: Panel, result: Forecast, drivers: dict[str, str]) -> pl.DataFrame:
    """The snapshot: :meth:`Forecast.to_frame` plus, repeated on each SKU's rows, category
    (str), backtest_units / backtest_abs_error / backtest_mase / baseline_abs_error (float,
    null = none) and
    drivers (str: JSON of the top SHAP drivers, empty unless routed to the global model)."""
    h = result.yhat.shape[1]
    accuracy = backtest_accuracy(p, result.cutoff, result.backtest)
    category = np.array(p.categories, dtype=object)[p.category]
    text = np.array([drivers.get(s, "") for s in result.ids], dtype=object)
    return result.to_frame().with_columns(
        pl.Series("category", np.repeat(category, h).astype(str)),
        *[pl.Series(k, np.repeat(v, h)).fill_nan(None) for k, v in accuracy.items()],
        pl.Series("drivers", np.repeat(text, h).astype(str)),
    )
