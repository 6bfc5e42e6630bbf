"""Forecast accuracy metrics, each defined once (frames are long: one row per series and day).

Sources:

* **RMSSE / WRMSSE** -- *M5 Competitors' Guide* (Makridakis, Spiliotis, Assimakopoulos, 2020),
  section "Evaluation": per series, RMSSE = sqrt( mean_h (y - yhat)^2 / mean_t (y_t - y_{t-1})^2 )
  with the denominator over the training history **from the series' first non-zero
  observation**; WRMSSE = sum_i w_i RMSSE_i per aggregation level, weights = each series' share
  of **dollar sales over the last 28 days of training**, and the levels averaged **with equal
  weight**. Aggregate series (total, per store, per category, ...) are sums of the bottom ones.
* **MASE** -- Hyndman & Koehler (2006), *Another look at measures of forecast accuracy*: mean
  absolute error / in-sample mean absolute one-step naive error (m = 1), per series, then the
  mean over series.
* **WAPE** = sum |y - yhat| / sum |y| (share 0-1); **bias** = sum (yhat - y) / sum y (share,
  + means over-forecast).
* **MAPE** over totals = mean over (series, period) with sales of |y - yhat| / y (share 0-1;
  Hyndman & Koehler 2006 list it as undefined at y = 0, so periods without sales are left
  out -- it is reported on weekly and 28-day totals, where most SKUs have sales).
* **Coverage** of an interval [lo, hi] = share of actuals inside it (0-1).
* **Pinball loss** for quantile q (Koenker & Bassett 1978): mean of max(q (y - f), (q - 1)(y - f)).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import polars as pl

#: The M5 aggregation levels (grouping columns), those whose columns exist are used.
M5_LEVELS: tuple[tuple[str, ...], ...] = (
    (),
    ("state_id",),
    ("store_id",),
    ("cat_id",),
    ("dept_id",),
    ("state_id", "cat_id"),
    ("state_id", "dept_id"),
    ("store_id", "cat_id"),
    ("store_id", "dept_id"),
    ("item_id",),
    ("item_id", "state_id"),
    ("item_id", "store_id"),
)


def levels_for(columns: Sequence[str], id_col: str = "id") -> list[tuple[str, ...]]:
    """The M5 levels available in ``columns`` (plus the bottom level ``id`` if not covered)."""
    have = set(columns)
    out = [lvl for lvl in M5_LEVELS if set(lvl) <= have]
    if not any(set(lvl) == {"item_id", "store_id"} for lvl in out):
        out.append((id_col,))
    return list(dict.fromkeys(out))


def _scale(
    train: pl.DataFrame, keys: list[str], target: str, date: str, squared: bool
) -> pl.DataFrame:
    """Per series: mean (squared or absolute) one-step difference from the first non-zero."""
    diff = pl.col(target).diff().over(keys)
    err = diff.pow(2) if squared else diff.abs()
    started = pl.col(target).cum_sum().over(keys) > 0
    # the first difference counted is the one *into* the first non-zero day's successor
    return (
        train.sort(*keys, date)
        .with_columns(
            started.shift(1).over(keys).fill_null(False).alias("_started"), err.alias("_err")
        )
        .filter(pl.col("_started"))
        .group_by(keys)
        .agg(pl.col("_err").mean().alias("scale"))
    )


def rmsse(
    train: pl.DataFrame,
    actual: pl.DataFrame,
    forecast: pl.DataFrame,
    *,
    keys: Sequence[str] = ("id",),
    target: str = "units",
    date: str = "date",
    prediction: str = "yhat",
) -> pl.DataFrame:
    """RMSSE per series: ``keys`` + ``rmsse`` (float). ``train``/``actual`` have keys, date,
    target; ``forecast`` has keys, date, prediction. Series whose scale is 0 (constant after
    the first sale) get null."""
    keys = list(keys)
    scale = _scale(train, keys, target, date, squared=True)
    joined = actual.join(forecast.select(*keys, date, prediction), on=[*keys, date])
    mse = joined.group_by(keys).agg(
        ((pl.col(target) - pl.col(prediction)) ** 2).mean().alias("mse")
    )
    return mse.join(scale, on=keys).select(
        *keys,
        pl.when(pl.col("scale") > 0).then((pl.col("mse") / pl.col("scale")).sqrt()).alias("rmsse"),
    )


def wrmsse(
    train: pl.DataFrame,
    actual: pl.DataFrame,
    forecast: pl.DataFrame,
    *,
    levels: Sequence[tuple[str, ...]],
    id_col: str = "id",
    target: str = "units",
    date: str = "date",
    price: str = "price",
    prediction: str = "yhat",
    weight_days: int = 28,
) -> tuple[float, pl.DataFrame]:
    """WRMSSE over ``levels`` (see module doc). Returns (score, per-level frame: level (str),
    series (int), wrmsse (float)).

    ``train``: bottom series with ``id_col``, hierarchy columns, date, target, price (USD per
    unit; null = not on sale). ``actual`` and ``forecast``: bottom series over the horizon.
    Aggregates are sums of bottom series (forecasts included), as in the guide.
    """
    attrs = train.select(
        id_col, *dict.fromkeys(c for lvl in levels for c in lvl if c != id_col)
    ).unique(id_col)
    last = train[date].max()
    dollars = (
        train.filter(pl.col(date) > last - pl.duration(days=weight_days))
        .group_by(id_col)
        .agg((pl.col(target) * pl.col(price).fill_null(0.0)).sum().alias("dollars"))
    )
    fc = forecast.join(attrs, on=id_col)
    ac = actual.join(attrs, on=id_col)
    rows = []
    for level in levels:
        keys = list(level) or ["_total"]
        tr = _aggregate(
            train.select(*dict.fromkeys([*level, id_col, date, target])), keys, date, target
        )
        r = rmsse(
            tr,
            _aggregate(ac, keys, date, target),
            _aggregate(fc, keys, date, prediction),
            keys=keys,
            target=target,
            date=date,
            prediction=prediction,
        )
        w = _with_total(dollars.join(attrs, on=id_col)).group_by(keys).agg(pl.col("dollars").sum())
        scored = r.join(w, on=keys).filter(pl.col("rmsse").is_not_null())
        total = scored["dollars"].sum()
        value = float((scored["dollars"] * scored["rmsse"]).sum() / total) if total else np.nan
        rows.append({"level": "+".join(level) or "total", "series": scored.height, "wrmsse": value})
    per_level = pl.DataFrame(rows)
    return float(np.nanmean(per_level["wrmsse"].to_numpy())), per_level


def _with_total(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_columns(pl.lit("total").alias("_total"))


def _aggregate(frame: pl.DataFrame, keys: list[str], date: str, col: str) -> pl.DataFrame:
    """Sum bottom series up to ``keys`` per day (``_total`` = everything)."""
    return _with_total(frame).group_by(*keys, date).agg(pl.col(col).sum())


def mase(
    train: pl.DataFrame,
    actual: pl.DataFrame,
    forecast: pl.DataFrame,
    *,
    keys: Sequence[str] = ("id",),
    target: str = "units",
    date: str = "date",
    prediction: str = "yhat",
) -> float:
    """Mean over series of MAE / in-sample mean |y_t - y_{t-1}| (series with scale 0 skipped)."""
    keys = list(keys)
    scale = (
        train.sort(*keys, date)
        .with_columns(pl.col(target).diff().abs().over(keys).alias("_e"))
        .group_by(keys)
        .agg(pl.col("_e").mean().alias("scale"))
    )
    mae = (
        actual.join(forecast.select(*keys, date, prediction), on=[*keys, date])
        .group_by(keys)
        .agg((pl.col(target) - pl.col(prediction)).abs().mean().alias("mae"))
    )
    both = mae.join(scale, on=keys).filter(pl.col("scale") > 0)
    return float((both["mae"] / both["scale"]).mean())


def wape(y: np.ndarray, yhat: np.ndarray) -> float:
    """sum |y - yhat| / sum |y| (share 0-1)."""
    return float(np.abs(y - yhat).sum() / np.abs(y).sum())


def bias(y: np.ndarray, yhat: np.ndarray) -> float:
    """sum (yhat - y) / sum y (share; positive = over-forecast)."""
    return float((yhat - y).sum() / y.sum())


def period_mape(actual: np.ndarray, forecast: np.ndarray, days: int) -> tuple[float, int]:
    """MAPE of totals over consecutive ``days``-day periods (a trailing part period is left
    out): (mean |A - F| / A over the (series, period) pairs with A > 0 and every day observed
    (share 0-1; NaN when there is none), how many pairs). ``actual``/``forecast``: n x H
    units/day, NaN = not observed / no forecast."""
    n, h = actual.shape
    periods = h // days
    if periods == 0:
        return float("nan"), 0
    cut = periods * days
    a = actual[:, :cut].reshape(n, periods, days).sum(axis=2)  # NaN if a day is missing
    f = forecast[:, :cut].reshape(n, periods, days).sum(axis=2)
    ok = ~np.isnan(a) & ~np.isnan(f) & (a > 0)
    if not ok.any():
        return float("nan"), 0
    return float(np.mean(np.abs(a[ok] - f[ok]) / a[ok])), int(ok.sum())


def coverage(y: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> float:
    """Share (0-1) of actuals inside [lo, hi]."""
    return float(((y >= lo) & (y <= hi)).mean())


def pinball(y: np.ndarray, f: np.ndarray, q: float) -> float:
    """Mean pinball (quantile) loss of forecast ``f`` for quantile ``q`` (units of y)."""
    e = y - f
    return float(np.maximum(q * e, (q - 1) * e).mean())


def mase_per_series(history: np.ndarray, actual: np.ndarray, forecast: np.ndarray) -> np.ndarray:
    """MASE per series of a dense panel (Hyndman & Koehler 2006, m = 1): mean |actual -
    forecast| over the window / mean |y_t - y_{t-1}| over ``history`` (n x T, NaN before the
    first sale). ``actual``/``forecast``: n x H (NaN = not scored). Returns n floats, NaN
    where the scale is 0 or nothing is scored."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        scale = np.nanmean(np.abs(np.diff(history, axis=1)), axis=1)
        mae = np.nanmean(np.abs(actual - forecast), axis=1)
    return np.where(scale > 0, mae / np.where(scale > 0, scale, 1.0), np.nan)
