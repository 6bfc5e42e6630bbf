"""One global XGBoost demand model over all series, direct multi-horizon.

Each training row is (series, forecast origin t, horizon h): features known at t (lags,
rolling statistics, life cycle) plus features *of the target day* t+h that are known in advance
(day of week, month, events, SNAP/promo flags, the planned price and its change against the
price at t) and h itself; the label is the units sold on t+h. Because every horizon is a row
of its own, a driver planned for a future day (a promotion, a price cut) moves the forecast of
exactly that day -- the trap of recursive pipelines, which feed predictions back as lags and
often take future drivers from the origin, does not arise.

Point forecasts: Tweedie objective (variance power 1.2; suited to zero-heavy counts).
Intervals: split conformal calibration (Vovk et al., *Algorithmic Learning in a Random World*,
2005; Lei et al., JASA 2018) -- the same model is also trained ``horizon`` days earlier, its
errors on the following ``horizon`` days are binned by forecast level (deciles), and each
quantile of :data:`QUANTILES` is the point forecast plus that quantile of the errors in its bin
(floored at 0). A multi-quantile XGBoost was 4x slower for the same coverage. Coverage is
measured by the backtest, not assumed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import xgboost as xgb
from numpy.lib.stride_tricks import sliding_window_view

from lib.forecast.data import Panel

QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
FEATURES = (
    "h", "lag_0", "lag_1", "lag_2", "lag_3", "lag_4", "lag_5", "lag_6", "same_weekday_lag",
    "mean_7", "mean_28", "mean_56", "mean_365", "std_28", "max_28", "zero_share_28",
    "days_since_sale", "age", "dow", "month", "day_of_month", "event", "snap", "promo",
    "price", "price_change", "category",
)


@dataclass(frozen=True)
class ModelConfig:
    """Training set-up. ``history_days``: origins drawn from this many days before the cutoff,
    every ``stride`` days; ``trees`` of depth ``depth``; ``seed`` makes the run deterministic.
    """

    horizon: int = 28
    history_days: int = 728
    stride: int = 14
    seed: int = 0
    trees: int = 300
    depth: int = 8
    quantiles: tuple[float, ...] = QUANTILES
    threads: int = 2


@dataclass
class _Stats:
    """Per-day rolling statistics of a panel (computed once)."""

    y0: np.ndarray
    cs: np.ndarray
    cs2: np.ndarray
    max28: np.ndarray
    zero28: np.ndarray
    last_sale: np.ndarray


def _stats(p: Panel) -> _Stats:
    y0 = np.nan_to_num(p.y, nan=0.0)
    n, d = y0.shape
    cs = np.concatenate([np.zeros((n, 1)), np.cumsum(y0, axis=1)], axis=1)
    cs2 = np.concatenate([np.zeros((n, 1)), np.cumsum(y0 ** 2, axis=1)], axis=1)
    pad = np.concatenate([np.zeros((n, 27)), y0], axis=1)
    max28 = sliding_window_view(pad, 28, axis=1).max(axis=-1)
    zeros = np.concatenate([np.zeros((n, 1)), np.cumsum(y0 == 0, axis=1)], axis=1)
    lo = np.maximum(np.arange(d) - 27, 0)
    zero28 = (zeros[:, np.arange(d) + 1] - zeros[:, lo]) / (np.arange(d) + 1 - lo)
    idx = np.where(y0 > 0, np.arange(d)[None, :], -1)
    last_sale = np.maximum.accumulate(idx, axis=1)
    return _Stats(y0, cs, cs2, max28, zero28, last_sale)


def _mean(st: _Stats, t: np.ndarray, w: int) -> np.ndarray:
    lo = np.maximum(t + 1 - w, 0)
    return (st.cs[:, t + 1] - st.cs[:, lo]) / (t + 1 - lo)


def design(p: Panel, st: _Stats, origins: np.ndarray, horizon: int,
           future_promo: np.ndarray | None = None
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Feature rows for every (series, origin, h): returns X (rows x FEATURES, float32),
    series index, origin index (day), horizon -- only rows whose series had started by the
    origin. ``future_promo`` (n_series x n_days bool) overrides the panel's promo flags."""
    n, d = p.y.shape
    promo = p.promo if future_promo is None else future_promo
    dates = np.array(p.dates, dtype="datetime64[D]")
    dow = ((dates.astype("int64") + 3) % 7)            # 1970-01-01 was a Thursday -> Mon=0
    month = dates.astype("datetime64[M]").astype(int) % 12 + 1
    dom = (dates - dates.astype("datetime64[M]")).astype(int) + 1
    blocks = []
    for t in origins:
        started = p.first <= t
        s = np.nonzero(started)[0]
        if not len(s):
            continue
        tt = np.full(1, t)
        base = {
            "lag": [st.y0[s, t - k] if t - k >= 0 else np.zeros(len(s)) for k in range(7)],
            "mean_7": _mean(st, tt, 7)[s, 0], "mean_28": _mean(st, tt, 28)[s, 0],
            "mean_56": _mean(st, tt, 56)[s, 0], "mean_365": _mean(st, tt, 365)[s, 0],
        }
        m28 = base["mean_28"]
        lo = max(t - 27, 0)
        var28 = (st.cs2[s, t + 1] - st.cs2[s, lo]) / (t + 1 - lo) - m28 ** 2
        common = np.column_stack([
            *base["lag"], base["mean_7"], m28, base["mean_56"], base["mean_365"],
            np.sqrt(np.maximum(var28, 0)), st.max28[s, t], st.zero28[s, t],
            np.where(st.last_sale[s, t] >= 0, t - st.last_sale[s, t], 9999), t - p.first[s],
        ])
        for h in range(1, horizon + 1):
            target = t + h
            tgt = min(target, d - 1)  # calendar/price rows beyond the data use the last known
            same = target - 7 * (-(-h // 7))
            price_now = p.price[s, t]
            price_then = p.price[s, tgt]
            rows = np.column_stack([
                np.full(len(s), h), common[:, :7], st.y0[s, same], common[:, 7:],
                np.full(len(s), dow[tgt] if target < d else (dow[-1] + target - d + 1) % 7),
                np.full(len(s), month[tgt]), np.full(len(s), dom[tgt]),
                np.full(len(s), p.event[tgt] if target < d else False),
                p.snap[s, tgt], promo[s, tgt], price_then,
                np.where(price_now > 0, price_then / price_now, 1.0), p.category[s],
            ])
            blocks.append((rows, s, np.full(len(s), t), np.full(len(s), h)))
    x = np.vstack([b[0] for b in blocks]).astype(np.float32)
    return (x, np.concatenate([b[1] for b in blocks]), np.concatenate([b[2] for b in blocks]),
            np.concatenate([b[3] for b in blocks]))


@dataclass
class GlobalModel:
    config: ModelConfig = field(default_factory=ModelConfig)
    point: xgb.XGBRegressor | None = None
    bins: np.ndarray | None = None            # forecast-level bin edges (deciles)
    residual_q: np.ndarray | None = None      # bins x quantiles: error quantiles

    def _train(self, p: Panel, st: _Stats, cutoff: int) -> xgb.XGBRegressor:
        c = self.config
        last_origin = cutoff - 1  # an origin t uses labels t+1..t+h, kept only if <= cutoff
        origins = np.arange(last_origin, max(last_origin - c.history_days, 28),
                            -c.stride)[::-1]
        x, s, t, h = design(p, st, origins, c.horizon)
        label = p.y[s, np.minimum(t + h, p.y.shape[1] - 1)]
        keep = ~np.isnan(label) & (t + h <= cutoff)
        model = xgb.XGBRegressor(
            objective="reg:tweedie", tweedie_variance_power=1.2, n_estimators=c.trees,
            max_depth=c.depth, learning_rate=0.08, subsample=0.8, colsample_bytree=0.8,
            max_bin=64, tree_method="hist", n_jobs=c.threads, random_state=c.seed)
        return model.fit(x[keep], label[keep])

    def fit(self, p: Panel, cutoff: int) -> GlobalModel:
        """Train on labels up to day index ``cutoff``; calibrate intervals on the model
        trained ``horizon`` days earlier (its errors on the days up to ``cutoff``)."""
        c = self.config
        st = _stats(p)
        calibration = self._train(p, st, cutoff - c.horizon)
        x, s, _, h = design(p, st, np.array([cutoff - c.horizon]), c.horizon)
        yhat = calibration.predict(x)
        actual = p.y[s, cutoff - c.horizon + h]
        ok = ~np.isnan(actual)
        yhat, err = yhat[ok], actual[ok] - yhat[ok]
        self.bins = np.unique(np.quantile(yhat, np.linspace(0, 1, 11)[1:-1]))
        which = np.digitize(yhat, self.bins)
        self.residual_q = np.array([
            np.quantile(err[which == b], c.quantiles) if (which == b).sum() >= 20
            else np.quantile(err, c.quantiles) for b in range(len(self.bins) + 1)])
        self.point = self._train(p, st, cutoff)
        return self

    def predict(self, p: Panel, cutoff: int, future_promo: np.ndarray | None = None
                ) -> dict[str, np.ndarray]:
        """Forecasts for days cutoff+1 .. cutoff+horizon: ``yhat`` and one array per quantile
        (``q05``, ``q50``, ...; n_series x horizon; NaN for series not started by the cutoff).
        """
        c = self.config
        st = _stats(p)
        x, s, _, h = design(p, st, np.array([cutoff]), c.horizon, future_promo)
        yhat = self.point.predict(x)
        out = {"yhat": np.full((len(p.ids), c.horizon), np.nan)}
        out["yhat"][s, h - 1] = yhat
        offsets = self.residual_q[np.digitize(yhat, self.bins)]
        for j, level in enumerate(c.quantiles):
            arr = np.full((len(p.ids), c.horizon), np.nan)
            arr[s, h - 1] = np.maximum(yhat + offsets[:, j], 0)
            out[f"q{round(level * 100):02d}"] = arr
        return out
