"""The forecast job: daily unit sales per SKU from ``orders`` -> a ``forecasts`` snapshot.

SKU = the catalog product when the mapping knows it (``orders_mapped``), else the sold SKU.
Days that started out of stock (the ``stock`` snapshots) are censored demand, not zero
demand (``stockroom.forecast.data.unconstrain``). Rules first (``stockroom.forecast.rules``):
dormant SKUs are flagged and not forecast, cold starts get their category's average; the rest
go to the global model with per-series routing (``stockroom.forecast.routing``). Flags for
procurement: demand spike (against the previous run) and low confidence.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import polars as pl

from stockroom import store
from stockroom.config import models_dir
from stockroom.errors import InputError, InputProblem
from stockroom.forecast import rules
from stockroom.forecast.data import unconstrain, with_promos
from stockroom.forecast.forecaster import Forecaster, ForecasterConfig
from stockroom.forecast.snapshot import forecasts_frame
from stockroom.forecast.views import sales_panel, stockout_mask
from stockroom.ingest import tabular
from stockroom.tables import FORECASTS
from stockroom_jobs.runs import Part, tracked_run


@dataclass
class ForecastSummary:
    as_of: date
    skus: int
    by_model: dict[str, int]
    flags: dict[str, int]
    run_id: str

    def lines(self) -> list[str]:
        return [
            f"forecasts as of {self.as_of}: {self.skus:,} SKUs",
            "by model: " + ", ".join(f"{k} {v:,}" for k, v in sorted(self.by_model.items())),
            "flags: " + (", ".join(f"{k} {v:,}" for k, v in sorted(self.flags.items())) or "none"),
        ]


def read_promo_calendar(path: Path) -> pl.DataFrame:
    """A promo calendar (CSV/Excel/Parquet): one row per promotion with ``sku`` and either
    ``date`` or ``start``/``end`` (inclusive). Returns sku, date (one row per promo day).
    Raises :class:`stockroom.errors.InputError` naming the file and the missing column."""
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
        raise InputError(
            [
                InputProblem(
                    str(path),
                    None,
                    "date or start/end",
                    f"missing column (found: {', '.join(sorted(cols))})",
                )
            ]
        )

    def as_date(col: str) -> pl.Expr:
        c = pl.col(col)
        return c.str.to_date() if frame.schema[col] == pl.String else c.cast(pl.Date)

    if "date" in cols:
        return frame.select(pl.col("sku").cast(pl.String), as_date("date").alias("date"))
    return frame.select(
        pl.col("sku").cast(pl.String),
        pl.date_ranges(as_date("start"), as_date("end")).alias("date"),
    ).explode("date")


def run_forecast(
    root: Path,
    as_of: date | None = None,
    horizon: int = 28,
    config: ForecasterConfig | None = None,
    promo_calendar: pl.DataFrame | None = None,
    on_step: Callable[[str], None] | None = None,
) -> ForecastSummary:
    """Forecast every SKU ``horizon`` days past ``as_of`` (default: the last order day) with
    the shipped :class:`~stockroom.forecast.forecaster.Forecaster` (``config`` overrides it),
    land the ``forecasts`` snapshot dated ``as_of`` and save the fitted forecaster under
    ``<root>/models/forecaster/<as_of>`` (:func:`stockroom.config.models_dir`), replaced whole by
    a rerun of the same day.
    ``promo_calendar`` (sku, date; see :func:`read_promo_calendar`) marks past and planned
    promotion days -- planned ones move the forecast of their day. Raises
    :class:`StockroomError` when there are no sales. ``on_step`` is told each stage as it
    starts (for progress lines)."""
    step = on_step or (lambda _message: None)
    # recorded before it starts, so Data health shows the whole run (and a kill while fitting)
    with tracked_run(root, "forecast", f"orders as of {as_of or 'the last order day'}") as run:
        step("reading the orders")
        day, p = sales_panel(root, as_of)
        cutoff = len(p.dates) - 1
        stockouts = stockout_mask(root, day, p)
        if stockouts.any():
            step(f"{int(stockouts.sum()):,} SKU-days started out of stock: treated as censored")
            p = unconstrain(p, stockouts)
        if promo_calendar is not None and promo_calendar.height:
            p = with_promos(p, promo_calendar, horizon)
        cfg = config or ForecasterConfig.shipped(horizon)
        step(
            f"fitting on {len(p.ids):,} SKUs x {len(p.dates):,} days "
            f"(backtest of the last {horizon} days, then the final model)"
        )
        forecaster = Forecaster(cfg).fit(p, cutoff)
        step(f"forecasting {horizon} days ahead")
        result = forecaster.predict(p, cutoff)
        for i in np.nonzero(_spikes(root, p, day, cutoff))[0]:
            result.flags[i].append("demand_spike")
        step("explaining (SHAP drivers)")
        frame = forecasts_frame(p, result, forecaster.explain(p, cutoff))
        step(f"landing {frame.height:,} forecast rows and saving the forecaster")
        run.land([Part(FORECASTS, {day: frame})], sources=[])
        forecaster.save(models_dir(root) / "forecaster" / str(day))
    by_model = dict(frame.group_by("model").agg(pl.col("sku").n_unique()).iter_rows())
    counts: dict[str, int] = {}
    for f in result.flags:
        for flag in f:
            counts[flag] = counts.get(flag, 0) + 1
    return ForecastSummary(day, len(p.ids), by_model, counts, run.run_id)


def _spikes(root: Path, p, day: date, cutoff: int) -> np.ndarray:
    """Demand spike against the latest earlier forecasts snapshot covering the last 7 days."""
    previous = store.resolve_as_of(root, "forecasts", day - timedelta(days=1))
    if previous is None:
        return np.zeros(len(p.ids), dtype=bool)
    old = store.read_snapshot(root, "forecasts", previous).filter(
        (pl.col("target_date") > day - timedelta(days=7)) & (pl.col("target_date") <= day)
    )
    expected = dict(old.group_by("sku").agg(pl.col("yhat").sum()).iter_rows())
    actual = np.nan_to_num(p.y[:, max(cutoff - 6, 0) : cutoff + 1]).sum(axis=1)
    forecast = np.array([expected.get(s, np.nan) for s in p.ids])
    return rules.spikes(actual, forecast)
