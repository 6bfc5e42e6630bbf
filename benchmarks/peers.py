"""Peer libraries for the benchmark only (optional extras, not runtime dependencies):
Nixtla mlforecast with the same features as our model (recursive strategy, XGBoost, Tweedie)
and statsforecast AutoETS, ETS(A,N,A) and CrostonSBA. Each returns (n_series x horizon) point
forecasts, or (point, {"q05": ..., "q95": ...}) when it makes intervals.

mlforecast trains on the same window as our model (``ModelConfig.history_days`` plus 56 days
to warm up the rolling features) with the same XGBoost settings. ``mlforecast_xgboost_conformal``
adds mlforecast's own conformal intervals, so it delivers what our model does: a point forecast
and a 90 % interval. mlforecast needs at least two calibration windows of ``horizon`` days (ours
uses one), so it trains three models per forecast where ours trains two."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from stockroom.forecast.data import Panel
from stockroom.forecast.model import ModelConfig


def _long(p: Panel, cutoff: int, days: int | None = None) -> pd.DataFrame:
    """Long frame of days (cutoff - days, cutoff] (all history when ``days`` is None)."""
    n, _ = p.y.shape
    lo = 0 if days is None else max(cutoff + 1 - days, 0)
    span = cutoff + 1 - lo
    stamps = np.array(p.dates[lo : cutoff + 1], dtype="datetime64[ns]")
    frame = pd.DataFrame(
        {
            "unique_id": np.repeat(p.ids, span),
            "ds": np.tile(stamps, n),
            "y": p.y[:, lo : cutoff + 1].ravel(),
            "price": p.price[:, lo : cutoff + 1].ravel(),
            "event": np.tile(p.event[lo : cutoff + 1], n).astype(float),
            "promo": p.promo[:, lo : cutoff + 1].ravel().astype(float),
            "snap": p.snap[:, lo : cutoff + 1].ravel().astype(float),
            "category": np.repeat(p.category, span),
        }
    )
    return frame.dropna(subset=["y"])


def _matrix(p: Panel, preds: pd.DataFrame, column: str, horizon: int) -> np.ndarray:
    out = np.full((len(p.ids), horizon), np.nan)
    index = {s: i for i, s in enumerate(p.ids)}
    preds = preds.sort_values(["unique_id", "ds"])
    for sid, group in preds.groupby("unique_id"):
        out[index[sid], : len(group)] = np.maximum(group[column].to_numpy()[:horizon], 0)
    return out


def mlforecast_xgb(p: Panel, cutoff: int, horizon: int, intervals: bool = False):
    from mlforecast import MLForecast
    from mlforecast.lag_transforms import RollingMax, RollingMean, RollingStd
    from mlforecast.utils import PredictionIntervals

    c = ModelConfig(horizon=horizon)
    train = _long(p, cutoff, c.history_days + 56)
    fcst = MLForecast(
        models={
            "xgb": c.regressor(),  # the same XGBoost settings as ours
        },
        freq="D",
        lags=list(range(1, 8)),
        lag_transforms={
            1: [RollingMean(7), RollingMean(28), RollingMean(56), RollingStd(28), RollingMax(28)]
        },
        date_features=["dayofweek", "month", "day"],
    )
    warnings.filterwarnings("ignore", category=UserWarning, module="mlforecast")
    fcst.fit(
        train,
        static_features=["category"],
        prediction_intervals=PredictionIntervals(n_windows=2, h=horizon) if intervals else None,
    )
    n = len(p.ids)
    d = p.y.shape[1]
    days = pd.date_range(pd.Timestamp(p.dates[cutoff]) + pd.Timedelta(days=1), periods=horizon)
    idx = np.minimum(np.arange(cutoff + 1, cutoff + 1 + horizon), d - 1)
    future = pd.DataFrame(
        {
            "unique_id": np.repeat(p.ids, horizon),
            "ds": np.tile(days, n),
            "price": p.price[:, idx].ravel(),
            "event": np.tile(p.event[idx], n).astype(float),
            "promo": p.promo[:, idx].ravel().astype(float),
            "snap": p.snap[:, idx].ravel().astype(float),
        }
    )
    started = set(train["unique_id"])
    future = future[future["unique_id"].isin(started)]
    preds = fcst.predict(horizon, X_df=future, level=[90] if intervals else None)
    point = _matrix(p, preds, "xgb", horizon)
    if not intervals:
        return point
    return point, {
        "q05": _matrix(p, preds, "xgb-lo-90", horizon),
        "q95": _matrix(p, preds, "xgb-hi-90", horizon),
    }


def mlforecast_xgb_conformal(p: Panel, cutoff: int, horizon: int):
    return mlforecast_xgb(p, cutoff, horizon, intervals=True)


def _statsforecast(
    p: Panel, cutoff: int, horizon: int, model, name: str, fallback=None
) -> np.ndarray:
    from statsforecast import StatsForecast

    train = _long(p, cutoff)[["unique_id", "ds", "y"]]
    sf = StatsForecast(models=[model], freq="D", n_jobs=1, fallback_model=fallback)
    return _matrix(p, sf.forecast(df=train, h=horizon), name, horizon)


def autoets(p: Panel, cutoff: int, horizon: int, model: str = "ZZZ") -> np.ndarray:
    """statsforecast's AutoETS (weekly season; ``model`` "ZZZ" = chosen per series by AICc).
    A series too short for any ETS model (statsforecast refuses "tiny datasets": products
    launched days before the cutoff, as on Online Retail) gets its historic average instead
    (statsforecast's ``fallback_model``)."""
    from statsforecast.models import AutoETS, HistoricAverage

    return _statsforecast(
        p,
        cutoff,
        horizon,
        AutoETS(season_length=7, model=model),
        "AutoETS",
        fallback=HistoricAverage(),
    )


def ets_ana(p: Panel, cutoff: int, horizon: int) -> np.ndarray:
    """ETS(A,N,A): additive errors, no trend, an additive weekly season -- one model per
    series, no search (:func:`autoets` with ``model="ANA"``)."""
    return autoets(p, cutoff, horizon, model="ANA")


def croston_sba(p: Panel, cutoff: int, horizon: int) -> np.ndarray:
    from statsforecast.models import CrostonSBA

    return _statsforecast(p, cutoff, horizon, CrostonSBA(), "CrostonSBA")


PEERS = {
    "mlforecast_xgboost": mlforecast_xgb,
    "mlforecast_xgboost_conformal": mlforecast_xgb_conformal,
    "statsforecast_autoets": autoets,
    "statsforecast_ets_ana": ets_ana,
    "statsforecast_croston_sba": croston_sba,
}


def available() -> list[str]:
    """Peers whose library is installed."""
    out = []
    for name, module in (
        ("mlforecast_xgboost", "mlforecast"),
        ("mlforecast_xgboost_conformal", "mlforecast"),
        ("statsforecast_autoets", "statsforecast"),
        ("statsforecast_ets_ana", "statsforecast"),
        ("statsforecast_croston_sba", "statsforecast"),
    ):
        try:
            __import__(module)
            out.append(name)
        except ImportError:
            pass
    return out
