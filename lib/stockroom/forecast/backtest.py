"""Rolling-origin backtest: ``windows`` consecutive, non-overlapping ``horizon``-day windows
ending on the last day of the data; every model is trained on the days before its window only.

Models: ``stockroom`` is the shipped :class:`~stockroom.forecast.forecaster.Forecaster` (rules,
global model, routing, routed intervals: what ``stockroom forecast`` lands);
``global_xgboost`` the same forecaster with one candidate and no rules (the model alone, on
every series); the baselines of :mod:`stockroom.forecast.baselines`; and any other forecast
function a caller passes (the benchmark's peers).

Scores per model (``stockroom.forecast.metrics``): WRMSSE over every M5 level the data has, MASE,
WAPE, bias, and for models with intervals the 90 % interval coverage (q05-q95) overall and
per horizon bucket (days 1-7, 8-14, 15-28), the mean pinball loss of q05 and q95 (the ends
every interval model has), and for models with lead-time quantiles the 90 % coverage of the
demand summed over the first 7, 14 and 28 days (what an order protects against) -- averaged
over the windows. Also per demand class (:mod:`stockroom.forecast.demand_class`, from each
series' history before the window): the SKU-level WRMSSE and MASE of that class's series;
MAPE of weekly and 28-day totals per SKU with sales (:func:`metrics.period_mape`), and the
forecast coverage: the share of active SKUs (a sale in the 28 days before the cutoff) with a
forecast for every day of the window.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from stockroom.forecast import baselines, demand_class, metrics, reference_class
from stockroom.forecast.data import Panel, observed
from stockroom.forecast.forecaster import GLOBAL, Forecaster, ForecasterConfig
from stockroom.forecast.model import BUCKETS, ModelConfig, horizon_bucket

LEAD_DAYS = (7, 14, 28)  # lead-time sums whose coverage the backtest reports


def bucket_names(horizon: int) -> list[str]:
    """``1-7``, ``8-14``, ``15-28`` (for a 28-day horizon): the horizon buckets' labels."""
    ends = [e for e in BUCKETS if e < horizon] + [horizon]
    starts = [1, *(e + 1 for e in ends[:-1])]
    return [f"{a}-{b}" for a, b in zip(starts, ends, strict=True)]


#: A forecast function: (panel, cutoff, horizon) -> point forecasts (n_series x horizon), or
#: (point, {"q05": ..., "q95": ...}) with intervals.
ForecastFn = Callable[[Panel, int, int], "np.ndarray | tuple[np.ndarray, dict]"]


def forecaster_config(
    model: str, horizon: int, model_config: ModelConfig | None = None
) -> ForecasterConfig:
    """The :class:`ForecasterConfig` behind a forecaster model name (``stockroom`` or
    ``global_xgboost``) for ``horizon`` days. Raises KeyError for another name."""
    m = model_config or ModelConfig(horizon=horizon)
    if model == "stockroom":
        return ForecasterConfig(model=m)
    if model == GLOBAL:
        return ForecasterConfig(model=m, candidates=(GLOBAL,), combine_with=None, rules=False)
    raise KeyError(model)


MODELS = ("stockroom", GLOBAL, *baselines.BASELINES)


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
    coverage_by_bucket: dict[str, float] | None = None  # "1-7" -> share 0-1
    lead_coverage: dict[int, float] | None = None  # L days -> share 0-1 of L-day sums
    # class -> {"series": mean count, "wrmsse": SKU-level WRMSSE, "mase": MASE}
    by_class: dict[str, dict[str, float]] = field(default_factory=dict)
    mape_weekly: float | None = None  # share 0-1, weekly totals per SKU with sales
    mape_28d: float | None = None  # share 0-1, 28-day totals per SKU with sales
    forecast_coverage: float | None = None  # share 0-1 of active SKUs with a forecast


def _long(p: Panel, values: np.ndarray, start: int, name: str) -> pl.DataFrame:
    n, h = values.shape
    return (
        pl.DataFrame(
            {
                "id": np.repeat(p.ids, h),
                "date": np.tile(np.array(p.dates[start : start + h], dtype="datetime64[D]"), n),
                name: values.ravel(),
            }
        )
        .with_columns(pl.col("date").cast(pl.Date))
        .filter(pl.col(name).is_not_nan())
    )


def window_forecasts(
    model: str,
    p: Panel,
    horizon: int,
    windows: int,
    config: ModelConfig | None = None,
    forecast: ForecastFn | None = None,
) -> list[tuple[int, np.ndarray, dict[str, np.ndarray]]]:
    """(cutoff, point, quantiles) for each backtest window, oldest first. Forecaster models go
    through :meth:`Forecaster.cross_validation`; baselines and ``forecast`` are called per
    window with the history up to the cutoff. Raises KeyError for an unknown model."""
    d = p.y.shape[1]
    cutoffs = [d - 1 - w * horizon for w in range(windows, 0, -1)]
    if model in ("stockroom", GLOBAL):
        runs = Forecaster(forecaster_config(model, horizon, config)).cross_validation(p, windows)
        return [(fc.cutoff, fc.yhat, fc.bands) for fc, _ in runs]
    out = []
    for cutoff in cutoffs:
        if model in baselines.BASELINES:
            yhat, bands = baselines.BASELINES[model](p.y[:, : cutoff + 1], horizon), {}
        elif forecast is not None:
            yhat = forecast(p, cutoff, horizon)
            yhat, bands = yhat if isinstance(yhat, tuple) else (yhat, {})
        else:
            raise KeyError(f"unknown model {model!r}; known: {', '.join(MODELS)}")
        for a in (yhat, *bands.values()):
            a[np.isnan(p.y[:, cutoff])] = np.nan  # not launched by the cutoff: no forecast
        out.append((cutoff, yhat, bands))
    return out


def run_model(
    model: str,
    p: Panel,
    sales: pl.DataFrame,
    horizon: int = 28,
    windows: int = 3,
    config: ModelConfig | None = None,
    forecast: ForecastFn | None = None,
) -> Score:
    """Backtest one model (a name from :data:`MODELS`, or any name with its ``forecast``
    function) on ``p`` / ``sales`` (the same data): WRMSSE over every M5 level the data has,
    MASE, WAPE and bias (shares), and with intervals the q05-q95 coverage (share 0-1) and
    pinball loss, each averaged over the windows; ``seconds`` is the wall time."""
    started = time.perf_counter()
    levels = metrics.levels_for(sales.columns)
    per_window = []
    for cutoff, yhat, quantiles in window_forecasts(model, p, horizon, windows, config, forecast):
        first_day = cutoff + 1
        actual = observed(p, first_day, first_day + horizon)
        cut_date = p.dates[cutoff]
        train = sales.filter(pl.col("date") <= cut_date)
        act = _long(p, actual, first_day, "units")
        fc_long = _long(p, yhat, first_day, "yhat")
        score, _ = metrics.wrmsse(train, act, fc_long, levels=levels)
        ok = ~np.isnan(actual) & ~np.isnan(yhat)
        row = {
            "cutoff": str(cut_date),
            "wrmsse": score,
            "mase": metrics.mase(train, act, fc_long),
            "wape": metrics.wape(actual[ok], yhat[ok]),
            "bias": metrics.bias(actual[ok], yhat[ok]),
        }
        if quantiles and "q05" in quantiles:
            inside = ok & ~np.isnan(quantiles["q05"]) & ~np.isnan(quantiles["q95"])
            row["coverage_90"] = metrics.coverage(
                actual[inside], quantiles["q05"][inside], quantiles["q95"][inside]
            )
            row["pinball"] = float(
                np.mean(
                    [  # the 90 % interval's ends, for every model
                        metrics.pinball(actual[inside], quantiles[k][inside], int(k[1:]) / 100)
                        for k in ("q05", "q95")
                    ]
                )
            )
            bucket = np.broadcast_to(horizon_bucket(horizon), actual.shape)
            row["coverage_by_bucket"] = {
                name: metrics.coverage(
                    actual[inside & (bucket == b)],
                    quantiles["q05"][inside & (bucket == b)],
                    quantiles["q95"][inside & (bucket == b)],
                )
                for b, name in enumerate(bucket_names(horizon))
            }
        if quantiles and "lead_q05" in quantiles:
            row["lead_coverage"] = lead_coverage(actual, quantiles)
        history = observed(p, 0, cutoff + 1)
        row["by_class"] = class_scores(train, act, fc_long, p.ids, score_classes(p, cutoff))
        row["mape_weekly"] = metrics.period_mape(actual, yhat, 7)[0]
        row["mape_28d"] = metrics.period_mape(actual, yhat, 28)[0]
        row["forecast_coverage"] = forecast_coverage(history, yhat)
        per_window.append(row)

    def mean_of(k):
        if k not in per_window[0]:
            return None
        return {key: float(np.mean([r[k][key] for r in per_window])) for key in per_window[0][k]}

    def mean(k):  # over the windows; None when no window defines it (e.g. NaN MAPE)
        values = [r[k] for r in per_window if k in r and not np.isnan(r[k])]
        return float(np.mean(values)) if values else None

    return Score(
        model,
        mean("wrmsse"),
        mean("mase"),
        mean("wape"),
        mean("bias"),
        mean("coverage_90"),
        mean("pinball"),
        time.perf_counter() - started,
        per_window,
        coverage_by_bucket=mean_of("coverage_by_bucket"),
        lead_coverage=mean_of("lead_coverage"),
        by_class={
            name: {
                k: float(np.nanmean([r["by_class"][name][k] for r in with_class]))
                for k in ("series", "wrmsse", "mase")
            }
            for name in SCORED_CLASSES
            if (with_class := [r for r in per_window if name in r["by_class"]])
        },
        mape_weekly=mean("mape_weekly"),
        mape_28d=mean("mape_28d"),
        forecast_coverage=mean("forecast_coverage"),
    )


#: Products first sold fewer than ``reference_class.YOUNG_DAYS`` days before the cutoff: too
#: little history for a Syntetos-Boylan class (one sale day reads as ADI 1, "smooth"), and
#: the forecaster gives them their reference class instead; scored as a class of their own.
NEW = "new"
SCORED_CLASSES = (*demand_class.CLASSES, NEW)


def score_classes(p: Panel, cutoff: int) -> np.ndarray:
    """The class each series is scored in at ``cutoff`` (str per series): its Syntetos-Boylan
    class on its observed history (:func:`demand_class.classify`), or :data:`NEW` for a
    product launched in the data under ``reference_class.YOUNG_DAYS`` days before the cutoff
    (:func:`reference_class.young`) that has sold."""
    classes = demand_class.classify(observed(p, 0, cutoff + 1))
    young = reference_class.young(p.first, cutoff) & (classes != demand_class.NO_DEMAND)
    return np.where(young, NEW, classes).astype(str)


def class_scores(
    train: pl.DataFrame,
    actual: pl.DataFrame,
    forecast: pl.DataFrame,
    ids: list[str],
    classes: np.ndarray,
) -> dict[str, dict[str, float]]:
    """Per class of :data:`SCORED_CLASSES` present in ``classes`` (one name per id in ``ids``):
    the number of series, their SKU-level WRMSSE (RMSSE weighted by the last 28 days' sales
    value, the bottom level of :func:`metrics.wrmsse`) and MASE. Frames as :func:`run_model`
    builds them (id, date, units / yhat)."""
    out = {}
    for name in SCORED_CLASSES:
        members = pl.Series([i for i, c in zip(ids, classes, strict=True) if c == name])
        if members.is_empty():
            continue
        pick = pl.col("id").is_in(members.implode())
        tr, ac, fc = train.filter(pick), actual.filter(pick), forecast.filter(pick)
        score, _ = metrics.wrmsse(tr, ac, fc, levels=[("id",)])
        out[name] = {
            "series": float(len(members)),
            "wrmsse": score,
            "mase": metrics.mase(tr, ac, fc),
        }
    return out


def forecast_coverage(history: np.ndarray, yhat: np.ndarray, days: int = 28) -> float:
    """Share (0-1) of active series -- a sale in the last ``days`` days of ``history`` (n x
    T) -- with a forecast (``yhat``, n x H) on every day of the window; NaN without any."""
    active = (np.nan_to_num(history[:, -days:]) > 0).any(axis=1)
    if not active.any():
        return float("nan")
    return float((~np.isnan(yhat[active])).all(axis=1).mean())


def lead_coverage(actual: np.ndarray, quantiles: dict[str, np.ndarray]) -> dict[int, float]:
    """Share (0-1) of series whose demand summed over the first L days (L in
    :data:`LEAD_DAYS` within the horizon; series observed on all L days with a band) falls
    inside [lead_q05, lead_q95] at column L - 1."""
    out = {}
    for days in (d for d in LEAD_DAYS if d <= actual.shape[1]):
        total = actual[:, :days].sum(axis=1)  # NaN when a day is unobserved
        lo, hi = quantiles["lead_q05"][:, days - 1], quantiles["lead_q95"][:, days - 1]
        ok = ~np.isnan(total) & ~np.isnan(lo) & ~np.isnan(hi)
        out[days] = metrics.coverage(total[ok], lo[ok], hi[ok])
    return out
