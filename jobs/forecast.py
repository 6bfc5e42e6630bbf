"""The forecast job: daily unit sales per SKU from ``orders`` -> a ``forecasts`` snapshot.

SKU = the catalog product when the mapping knows it (``orders_mapped``), else the sold SKU.
Rules first (``lib.forecast.rules``): dormant SKUs are flagged and not forecast, cold starts get
their category's average; the rest go to the global model with per-series routing
(``lib.forecast.routing``). Flags for procurement: demand spike (against the previous run) and
low confidence.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import polars as pl

from jobs.runs import Part, tracked_run
from lib import store
from lib.errors import StockroomError
from lib.forecast import rules
from lib.forecast.data import panel
from lib.forecast.model import GlobalModel, ModelConfig
from lib.forecast.routing import CANDIDATES, routed_forecast
from lib.forecast.views import daily_sales
from lib.tables import FORECASTS

MIN_HISTORY_DAYS = 90   # below this the global model is not trained: TSB for everyone


@dataclass
class ForecastSummary:
    as_of: date
    skus: int
    by_model: dict[str, int]
    flags: dict[str, int]
    run_id: str

    def lines(self) -> list[str]:
        return [f"forecasts as of {self.as_of}: {self.skus:,} SKUs",
                "by model: " + ", ".join(f"{k} {v:,}" for k, v in sorted(self.by_model.items())),
                "flags: " + (", ".join(f"{k} {v:,}" for k, v in sorted(self.flags.items()))
                             or "none")]


def read_promo_calendar(path: Path) -> pl.DataFrame:
    """A promo calendar (CSV/Excel/Parquet): one row per promotion with ``sku`` and either
    ``date`` or ``start``/``end`` (inclusive). Returns sku, date (one row per promo day).
    Raises :class:`lib.errors.InputError` naming the file and the missing column."""
    from lib.errors import InputError, InputProblem
    from lib.ingest import tabular

    path = Path(path)
    if path.suffix == ".parquet":
        frame = pl.read_parquet(path)
    elif path.suffix.lower() in tabular.EXCEL_SUFFIXES:
        frame = next(iter(tabular.read_excel_sheets(path).values()))
    else:
        frame = tabular.read_csv(path)
    frame = frame.rename({c: tabular.key(c) for c in frame.columns if not c.startswith("_")})
    cols = {c for c in frame.columns if not c.startswith("_")}
    if "sku" not in cols or not ({"date"} <= cols or {"start", "end"} <= cols):
        raise InputError([InputProblem(str(path), None, "date or start/end",
                                       f"missing column (found: {', '.join(sorted(cols))})")])
    def as_date(col: str) -> pl.Expr:
        c = pl.col(col)
        return c.str.to_date() if frame.schema[col] == pl.String else c.cast(pl.Date)

    if "date" in cols:
        return frame.select(pl.col("sku").cast(pl.String), as_date("date").alias("date"))
    return frame.select(
        pl.col("sku").cast(pl.String),
        pl.date_ranges(as_date("start"), as_date("end")).alias("date")).explode("date")


def run_forecast(root: Path, as_of: date | None = None, horizon: int = 28,
                 config: ModelConfig | None = None,
                 promo_calendar: pl.DataFrame | None = None) -> ForecastSummary:
    """Forecast every SKU ``horizon`` days past ``as_of`` (default: the last order day) and
    land the ``forecasts`` snapshot dated ``as_of``. ``promo_calendar`` (sku, date; see
    :func:`read_promo_calendar`) marks past and planned promotion days -- planned ones move the
    forecast of their day. Raises :class:`StockroomError` when there are no sales."""
    sales = daily_sales(root, as_of)
    if sales.is_empty():
        raise StockroomError(f"no sales in the orders of {root}: nothing to forecast")
    day = as_of or sales["date"].max()
    pad = pl.DataFrame({"id": [sales["id"][0]], "date": [day], "units": [0.0],
                        "price": [None], "category": [sales["category"][0]], "event": [False],
                        "promo": [False], "snap": [False]}, schema=sales.schema)
    p = panel(pl.concat([sales, pad]))   # the grid runs to the as-of date
    cutoff = len(p.dates) - 1
    if promo_calendar is not None and promo_calendar.height:
        p = _with_promos(p, promo_calendar, horizon)
    dormant = rules.dormant(p.y, cutoff)
    cold = rules.cold_start(p.first, cutoff) & ~dormant
    active = ~dormant & ~cold & (p.first <= cutoff)
    n = len(p.ids)
    yhat = np.zeros((n, horizon))
    bands = {k: np.zeros((n, horizon)) for k in ("q05", "q25", "q50", "q75", "q95")}
    model = np.array(["dormant"] * n, dtype=object)
    backtest = np.full((n, horizon), np.nan)       # the chosen model's calibration forecast
    drivers = [""] * n
    cfg = config or ModelConfig(horizon=horizon)
    if active.any():
        sub = _subset(p, active)
        if cutoff >= MIN_HISTORY_DAYS + horizon:
            fitted = GlobalModel(cfg).fit(sub, cutoff)
            fc, choice, backtest[active] = routed_forecast(fitted, sub, cutoff)
            model[active] = np.array(CANDIDATES, dtype=object)[choice]
            for i, text in zip(np.nonzero(active)[0],
                               top_drivers(fitted.contributions(sub, cutoff)), strict=True):
                if model[i] == "global_xgboost":
                    drivers[i] = text
        else:
            from lib.forecast.baselines import tsb
            point = tsb(sub.y, horizon)
            fc = {"yhat": point, **{k: point for k in bands}}
            model[active] = "tsb"
            if cutoff >= 2 * horizon:
                backtest[active] = tsb(sub.y[:, : cutoff + 1 - horizon], horizon)
        yhat[active] = fc["yhat"]
        for k in bands:
            bands[k][active] = fc[k]
    average = rules.category_average(p.y, p.category, active, cutoff)
    yhat[cold] = average[cold, None]
    for k in bands:
        bands[k][cold] = np.nan
    model[cold] = "category_average"
    flags = [[] for _ in range(n)]
    for i in np.nonzero(dormant)[0]:
        flags[i].append("dormant")
    for i in np.nonzero(cold)[0]:
        flags[i].append("cold_start")
    for i in np.nonzero(active & rules.low_confidence(yhat, bands["q05"], bands["q95"]))[0]:
        flags[i].append("low_confidence")
    for i in np.nonzero(_spikes(root, p, day, cutoff))[0]:
        flags[i].append("demand_spike")
    accuracy = _backtest_accuracy(p, cutoff, horizon, backtest)
    category = np.array(p.categories, dtype=object)[p.category]
    frame = _frame(p.ids, day, yhat, bands, model, flags, horizon).with_columns(
        pl.Series("category", np.repeat(category, horizon).astype(str)),
        *[pl.Series(k, np.repeat(v, horizon)).fill_nan(None) for k, v in accuracy.items()],
        pl.Series("drivers", np.repeat(np.array(drivers, dtype=object), horizon).astype(str)))
    with tracked_run(root, "forecast", f"orders as of {day}") as run:
        run.land([Part(FORECASTS, {day: frame})], sources=[])
    by_model = dict(frame.group_by("model").agg(pl.col("sku").n_unique()).iter_rows())
    counts: dict[str, int] = {}
    for f in flags:
        for flag in f:
            counts[flag] = counts.get(flag, 0) + 1
    return ForecastSummary(day, n, by_model, counts, run.run_id)


def top_drivers(contributions: np.ndarray, top: int = 5) -> list[str]:
    """Per series, the ``top`` features with the largest |SHAP value| as JSON
    ``[[feature, value], ...]`` (value in log units: exp(value) = multiplicative effect on
    the forecast; see :meth:`GlobalModel.contributions`)."""
    import json

    from lib.forecast.model import FEATURES

    order = np.argsort(-np.abs(contributions[:, :-1]), axis=1)[:, :top]
    return [json.dumps([[FEATURES[j], round(float(row[j]), 4)] for j in idx if row[j] != 0])
            for row, idx in zip(contributions, order, strict=True)]


def _backtest_accuracy(p, cutoff: int, horizon: int, backtest: np.ndarray
                       ) -> dict[str, np.ndarray]:
    """Per series, the chosen model's error on the ``horizon`` days before the cutoff (it was
    fitted without them): actual units, sum |error| (so WAPE adds up over any group) and
    MASE (``lib.forecast.metrics.mase_per_series``)."""
    from lib.forecast.metrics import mase_per_series

    early = cutoff - horizon
    if early < 1:
        nan = np.full(len(p.ids), np.nan)
        return {"backtest_units": nan, "backtest_abs_error": nan, "backtest_mase": nan}
    actual = p.y[:, early + 1: cutoff + 1]
    scored = ~np.isnan(actual) & ~np.isnan(backtest)
    any_scored = scored.any(axis=1)
    units = np.where(any_scored, np.where(scored, actual, 0).sum(axis=1), np.nan)
    error = np.where(any_scored, np.where(scored, np.abs(actual - backtest), 0).sum(axis=1),
                     np.nan)
    return {"backtest_units": units, "backtest_abs_error": error,
            "backtest_mase": mase_per_series(p.y[:, : early + 1],
                                             np.where(scored, actual, np.nan), backtest)}


def _with_promos(p, calendar: pl.DataFrame, horizon: int):
    """Promo flags from the calendar over the panel's days plus the horizon."""
    from dataclasses import replace
    n, d = p.y.shape
    flags = np.zeros((n, d + horizon), dtype=bool)
    index = {s: i for i, s in enumerate(p.ids)}
    start = p.dates[0]
    for sku, day in calendar.iter_rows():
        k = (day - start).days
        if sku in index and 0 <= k < d + horizon:
            flags[index[sku], k] = True
    return replace(p, promo=flags)


def _subset(p, mask: np.ndarray):
    from dataclasses import replace
    return replace(p, ids=[i for i, m in zip(p.ids, mask, strict=True) if m], y=p.y[mask],
                   price=p.price[mask], promo=p.promo[mask], snap=p.snap[mask],
                   category=p.category[mask], first=p.first[mask])


def _spikes(root: Path, p, day: date, cutoff: int) -> np.ndarray:
    """Demand spike against the latest earlier forecasts snapshot covering the last 7 days."""
    previous = store.resolve_as_of(root, "forecasts", day - timedelta(days=1))
    if previous is None:
        return np.zeros(len(p.ids), dtype=bool)
    old = store.read_snapshot(root, "forecasts", previous).filter(
        (pl.col("target_date") > day - timedelta(days=7)) & (pl.col("target_date") <= day))
    expected = dict(old.group_by("sku").agg(pl.col("yhat").sum()).iter_rows())
    actual = np.nan_to_num(p.y[:, max(cutoff - 6, 0): cutoff + 1]).sum(axis=1)
    forecast = np.array([expected.get(s, np.nan) for s in p.ids])
    return rules.spikes(actual, forecast)


def _frame(ids, day, yhat, bands, model, flags, horizon) -> pl.DataFrame:
    n = len(ids)
    targets = [day + timedelta(days=h) for h in range(1, horizon + 1)]
    return pl.DataFrame({
        "sku": np.repeat(ids, horizon), "target_date": targets * n,
        "horizon": np.tile(np.arange(1, horizon + 1), n).astype(np.int32),
        "yhat": np.maximum(np.nan_to_num(yhat.ravel()), 0.0),
        **{k: v.ravel() for k, v in bands.items()},
        "model": np.repeat(model, horizon).astype(str),
        "flags": np.repeat([",".join(f) for f in flags], horizon),
    }).with_columns([pl.col(k).fill_nan(None) for k in bands])
