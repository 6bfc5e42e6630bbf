"""Rolling-origin backtest: ``windows`` consecutive, non-overlapping ``horizon``-day windows
ending on the last day of the data; every model is trained on the days before its window only.

Scores per model (``lib.forecast.metrics``): WRMSSE over every M5 level the data has, MASE,
WAPE, bias, and for models with intervals the 90 % interval coverage (q05-q95) and the mean
pinball loss of q05 and q95 (the ends every interval model has) -- averaged over the
windows.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from lib.forecast import baselines, metrics
from lib.forecast.data import Panel
from lib.forecast.model import GlobalModel, ModelConfig

MODELS = ("global_xgboost", "routed", *baselines.BASELINES)


@dataclass
class Score:
    model: str
    wrmsse: float
    mase: float
    wape: float
    bias: float
    coverage_90: float | None = None
    pinball: float | None = None
    seconds: float = 0.0
    windows: list[dict] = field(default_factory=list)


def _long(p: Panel, values: np.ndarray, start: int, name: str) -> pl.DataFrame:
    n, h = values.shape
    return pl.DataFrame({
        "id": np.repeat(p.ids, h),
        "date": np.tile(np.array(p.dates[start:start + h], dtype="datetime64[D]"), n),
        name: values.ravel()}).with_columns(pl.col("date").cast(pl.Date)).filter(
        pl.col(name).is_not_nan())


_previous: dict[tuple, object] = {}


def forecast_with(model: str, p: Panel, sales: pl.DataFrame, cutoff: int, horizon: int,
                  config: ModelConfig | None = None) -> tuple[np.ndarray, dict]:
    """Point forecasts (n_series x horizon) and quantiles (dict, may be empty) of ``model``
    trained on days up to ``cutoff``; peers (mlforecast, statsforecast) when installed."""
    if model in ("global_xgboost", "routed"):
        config = config or ModelConfig(horizon=horizon)
        # consecutive windows: the previous window's model calibrates this one's intervals
        earlier = _previous.pop((id(p), config, cutoff - horizon), None)
        fitted = GlobalModel(config).fit(p, cutoff, earlier)
        _previous[(id(p), config, cutoff)] = fitted.point
        if model == "routed":
            from lib.forecast.routing import routed_forecast
            fc, _, _ = routed_forecast(fitted, p, cutoff)
        else:
            fc = fitted.predict(p, cutoff)
        return fc.pop("yhat"), fc
    if model in baselines.BASELINES:
        yhat = baselines.BASELINES[model](p.y[:, : cutoff + 1], horizon)
    else:
        from lib.forecast import peers
        yhat = peers.PEERS[model](p, cutoff, horizon)
    bands = {}
    if isinstance(yhat, tuple):                # a peer with intervals
        yhat, bands = yhat
    for a in (yhat, *bands.values()):
        a[np.isnan(p.y[:, cutoff])] = np.nan   # not launched by the cutoff: no forecast
    return yhat, bands


def run_model(model: str, p: Panel, sales: pl.DataFrame, horizon: int = 28, windows: int = 3,
              config: ModelConfig | None = None) -> Score:
    """Backtest one model (a name from :data:`MODELS` or ``lib.forecast.peers.PEERS``) on
    ``p`` / ``sales`` (the same data)."""
    started = time.perf_counter()
    d = p.y.shape[1]
    levels = metrics.levels_for(sales.columns)
    per_window = []
    for w in range(windows, 0, -1):
        cutoff = d - 1 - w * horizon
        first_day = cutoff + 1
        yhat, quantiles = forecast_with(model, p, sales, cutoff, horizon, config)
        actual = p.y[:, first_day:first_day + horizon]
        cut_date = p.dates[cutoff]
        train = sales.filter(pl.col("date") <= cut_date)
        act = _long(p, actual, first_day, "units")
        fc_long = _long(p, yhat, first_day, "yhat")
        score, _ = metrics.wrmsse(train, act, fc_long, levels=levels)
        ok = ~np.isnan(actual) & ~np.isnan(yhat)
        row = {"cutoff": str(cut_date), "wrmsse": score,
               "mase": metrics.mase(train, act, fc_long),
               "wape": metrics.wape(actual[ok], yhat[ok]),
               "bias": metrics.bias(actual[ok], yhat[ok])}
        if quantiles:
            row["coverage_90"] = metrics.coverage(actual[ok], quantiles["q05"][ok],
                                                  quantiles["q95"][ok])
            row["pinball"] = float(np.mean([   # the 90 % interval's ends, for every model
                metrics.pinball(actual[ok], quantiles[k][ok], int(k[1:]) / 100)
                for k in ("q05", "q95")]))
        per_window.append(row)
    mean = lambda k: (float(np.mean([r[k] for r in per_window]))  # noqa: E731
                      if k in per_window[0] else None)
    return Score(model, mean("wrmsse"), mean("mase"), mean("wape"), mean("bias"),
                 mean("coverage_90"), mean("pinball"), time.perf_counter() - started,
                 per_window)
