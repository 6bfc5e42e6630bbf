"""Read-side of forecasting for the *Forecast* page and the ``forecast_accuracy`` report:
the latest ``forecasts`` snapshot as one row per SKU, accuracy by category, a SKU's daily
history, the SHAP drivers, and the benchmark JSON written by ``stockroom bench forecast``.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl

from stockroom import store, workbench
from stockroom.config import models_dir
from stockroom.db import cached, connect
from stockroom.errors import StockroomError
from stockroom.forecast.artefact import MANIFEST_FILE, read_manifest
from stockroom.forecast.data import Panel, panel
from stockroom.mapping import repo as mapping_repo
from stockroom.mapping import views as mapping_views
from stockroom.tables import NON_SALE_STATUSES

#: Feature names as a buyer reads them.
FEATURE_LABELS = {
    **{f"lag_{k}": f"sales {k} day{'s' if k > 1 else ''} ago" for k in range(1, 8)},
    "mean_7": "7-day average",
    "mean_28": "28-day average",
    "mean_56": "56-day average",
    "std_28": "28-day volatility",
    "max_28": "28-day peak",
    "zero_share_28": "share of 0-days",
    "days_since_sale": "days since last sale",
    "dow": "day of week",
    "month": "month",
    "day_of_month": "day of month",
    "event": "holiday/event",
    "snap": "SNAP day",
    "promo": "promotion",
    "price": "price",
    "category": "category",
}


_DAILY_SALES = """
    SELECT coalesce(o.product_sku, o.sku) AS id, CAST(o.order_ts AS DATE) AS date,
           CAST(sum(o.quantity) AS DOUBLE) AS units, median(o.unit_price) AS price,
           coalesce(any_value(p.category), 'uncategorised') AS category,
           false AS event, false AS promo, false AS snap
    FROM {orders} o LEFT JOIN products p ON p.sku = coalesce(o.product_sku, o.sku)
    WHERE NOT list_contains($non_sale, o.status) {where}
    GROUP BY 1, 2 ORDER BY 1, 2"""


def daily_sales(root: Path, as_of: date | None, sku: str | None = None) -> pl.DataFrame:
    """Daily units per SKU from the orders snapshots up to ``as_of``, sales only (statuses in
    :data:`NON_SALE_STATUSES` left out). SKU = the catalog product when mapped, else the sold
    SKU. Columns: id (str), date (Date), units (f64), price (f64, median unit price that day,
    the orders' currency), category (str), event/promo/snap (bool, False: the job adds
    promos from a calendar).

    ``sku`` limits it to one SKU, read pushed down: only the mappings that touch that SKU are
    read from the workbench database, and only the order lines of the external SKUs they name
    (on the shared connection of :func:`stockroom.db.cached`)."""
    if sku is None:
        con = mapping_views.register(connect(root, as_of), workbench.engine(root))
        return con.execute(
            _DAILY_SALES.format(orders="orders_mapped", where=""),
            {"non_sale": list(NON_SALE_STATUSES)},
        ).pl()
    touching = mapping_repo.mappings_touching(workbench.engine(root), sku)
    con = cached(root, as_of)
    con.register("_sku_mappings", touching.to_arrow())
    orders = f"""(
        SELECT o.*, {mapping_views.APPLIED_PRODUCT_SKU} AS product_sku
        FROM orders o LEFT JOIN _sku_mappings m
             ON m.platform = o.platform AND m.external_sku = o.sku
        WHERE list_contains($raw, o.sku))"""
    raw = sorted({sku, *touching["external_sku"].to_list()})
    return con.execute(
        _DAILY_SALES.format(orders=orders, where="AND coalesce(o.product_sku, o.sku) = $sku"),
        {"non_sale": list(NON_SALE_STATUSES), "raw": raw, "sku": sku},
    ).pl()


def sales_panel(root: Path, as_of: date | None = None) -> tuple[date, Panel]:
    """The daily-sales :class:`~stockroom.forecast.data.Panel` the forecast job fits on: every
    SKU's units per day (:func:`daily_sales`) up to and including ``as_of`` (default: the last
    order day), the grid running to that day. Returns (that day, the panel). Raises
    :class:`StockroomError` when there are no sales."""
    sales = daily_sales(root, as_of)
    if sales.is_empty():
        raise StockroomError(f"no sales in the orders of {root}: nothing to forecast")
    day = as_of or sales["date"].max()
    pad = pl.DataFrame(
        {
            "id": [sales["id"][0]],
            "date": [day],
            "units": [0.0],
            "price": [None],
            "category": [sales["category"][0]],
            "event": [False],
            "promo": [False],
            "snap": [False],
        },
        schema=sales.schema,
    )
    return day, panel(pl.concat([sales, pad]))


_STOCKOUTS = """
    SELECT sku AS id, snapshot_date AS date FROM stock_history
    WHERE snapshot_date <= $day
    GROUP BY 1, 2 HAVING sum(on_hand - reserved) <= 0"""


def stockout_mask(root: Path, day: date, p: Panel) -> np.ndarray:
    """Which of ``p``'s SKU-days started with nothing available (bool, n_series x n_days):
    the ``stock`` snapshot of that day (landed in the morning: the stock the day starts
    with) shows on_hand - reserved <= 0 summed over the seller's locations. SKUs match the
    panel's ids (the seller's own SKU, which is the catalog product's). Days without a stock
    snapshot and SKUs the stock does not list are not censored -- nothing says they were
    out. Feed it to :func:`stockroom.forecast.data.unconstrain`."""
    out = np.zeros(p.y.shape, dtype=bool)
    if not store.snapshot_dates(root, "stock"):
        return out
    rows = connect(root, day).execute(_STOCKOUTS, {"day": day}).fetchall()
    index = {s: i for i, s in enumerate(p.ids)}
    start = p.dates[0]
    for sku, when in rows:
        k = (when - start).days
        if sku in index and 0 <= k < out.shape[1]:
            out[index[sku], k] = True
    return out


def latest(root: Path, as_of: date | None = None) -> tuple[date | None, pl.DataFrame]:
    """The ``forecasts`` snapshot in force on ``as_of`` (latest by default) and its date;
    (None, empty frame) when there is none."""
    day = store.resolve_as_of(root, "forecasts", as_of)
    if day is None:
        return None, pl.DataFrame()
    return day, store.read_snapshot(root, "forecasts", day)


def saved_forecaster(root: Path, day: date) -> dict | None:
    """The manifest of the forecaster that made the ``forecasts`` snapshot of ``day`` (saved by
    ``stockroom forecast`` in ``<root>/models/forecaster/<day>``; see
    :meth:`stockroom.forecast.forecaster.Forecaster.save`), with its ``path``; None when that
    run saved none (snapshots from before the forecaster was saved)."""
    path = models_dir(root) / "forecaster" / str(day)
    if not (path / MANIFEST_FILE).is_file():
        return None
    return {**read_manifest(path), "path": str(path)}


def sku_table(forecasts: pl.DataFrame) -> pl.DataFrame:
    """One row per SKU, largest forecast first: sku, category, model, flags, next_7d and
    next_28d (forecast units over the first 7 / 28 days, f64), q05_28d / q95_28d (the 5 % /
    95 % quantiles of the demand summed over the first 28 days (or the horizon, if shorter),
    calibrated on such sums; a snapshot from before those columns sums the daily quantiles,
    a conservative band), backtest_wape (share 0-1, null without sales in the window),
    backtest_mase, drivers (JSON)."""
    first28 = pl.col("horizon") <= 28
    if "lead_q05" in forecasts.columns:
        last = pl.col("horizon") == pl.col("horizon").filter(first28).max()
        band = [pl.col(f"lead_q{q}").filter(last).first().alias(f"q{q}_28d") for q in ("05", "95")]
    else:
        band = [pl.col(f"q{q}").filter(first28).sum().alias(f"q{q}_28d") for q in ("05", "95")]
    return (
        forecasts.group_by("sku")
        .agg(
            pl.col("category").first(),
            pl.col("model").first(),
            pl.col("flags").first(),
            pl.col("yhat").filter(pl.col("horizon") <= 7).sum().alias("next_7d"),
            pl.col("yhat").filter(first28).sum().alias("next_28d"),
            *band,
            (pl.col("backtest_abs_error").first() / pl.col("backtest_units").first()).alias(
                "backtest_wape"
            ),
            pl.col("backtest_mase").first(),
            pl.col("drivers").first(),
        )
        .with_columns(
            pl.when(pl.col("backtest_wape").is_infinite())
            .then(None)
            .otherwise(pl.col("backtest_wape"))
            .alias("backtest_wape")
        )
        .sort(["next_28d", "sku"], descending=[True, False])
    )


def accuracy_by_category(forecasts: pl.DataFrame) -> pl.DataFrame:
    """Backtest accuracy per category, forecast SKUs only (dormant left out): category,
    skus (int), units (actual units in the backtest window), wape (sum |error| / sum units,
    share 0-1), mase (median over SKUs), baseline_wape (the seasonal naive forecast's WAPE on
    the same SKUs and days), relative_mae (sum |error| / the seasonal naive's sum |error|:
    below 1 beats the baseline; a relative MAE suits intermittent demand, where a median
    MASE and percentage errors break down -- Davydenko & Fildes, *Measuring forecasting
    accuracy*, IJF 2013), global_share (share of SKUs on the global model), flagged (SKUs
    with low_confidence or demand_spike). Largest category (units) first, plus an "All" row
    on top. Snapshots written before the baseline column read null baseline figures."""
    if "baseline_abs_error" not in forecasts.columns:
        forecasts = forecasts.with_columns(pl.lit(None, pl.Float64).alias("baseline_abs_error"))
    per = (
        forecasts.filter(pl.col("model") != "dormant")
        .group_by("sku")
        .agg(
            pl.col(
                "category",
                "model",
                "flags",
                "backtest_units",
                "backtest_abs_error",
                "backtest_mase",
                "baseline_abs_error",
            ).first()
        )
    )

    def summarise(frame: pl.LazyFrame | pl.DataFrame, *by: str) -> pl.DataFrame:
        aggs = [
            pl.len().alias("skus"),
            pl.col("backtest_units").sum().alias("units"),
            (pl.col("backtest_abs_error").sum() / pl.col("backtest_units").sum()).alias("wape"),
            pl.col("backtest_mase").median().alias("mase"),
            (pl.col("baseline_abs_error").sum() / pl.col("backtest_units").sum()).alias(
                "baseline_wape"
            ),
            (
                pl.col("backtest_abs_error")
                .filter(pl.col("baseline_abs_error").is_not_null())
                .sum()
                / pl.col("baseline_abs_error").sum()
            ).alias("relative_mae"),
            (pl.col("model") == "global_xgboost").mean().alias("global_share"),
            pl.col("flags").str.contains("low_confidence|demand_spike").sum().alias("flagged"),
        ]
        return frame.group_by(*by).agg(aggs) if by else frame.select(aggs)

    if per.is_empty():
        return pl.DataFrame(
            schema={
                "category": pl.String,
                "skus": pl.UInt32,
                "units": pl.Float64,
                "wape": pl.Float64,
                "mase": pl.Float64,
                "baseline_wape": pl.Float64,
                "relative_mae": pl.Float64,
                "global_share": pl.Float64,
                "flagged": pl.UInt32,
            }
        )
    total = summarise(per).with_columns(pl.lit("All").alias("category"))
    by = summarise(per, "category").sort(["units", "category"], descending=[True, False])
    return pl.concat([total.select(by.columns), by]).with_columns(
        pl.when(pl.col(c).is_infinite() | pl.col(c).is_nan())
        .then(None)
        .otherwise(pl.col(c))
        .alias(c)
        for c in ("wape", "baseline_wape", "relative_mae")
    )


def drivers(text: str) -> pl.DataFrame:
    """A ``drivers`` cell as a frame: feature, label (words), log_effect (f64), effect
    (multiplicative, exp(log_effect)); largest |effect| first. Empty for ''."""
    pairs = json.loads(text) if text else []
    return pl.DataFrame(
        {
            "feature": [f for f, _ in pairs],
            "label": [FEATURE_LABELS.get(f, f) for f, _ in pairs],
            "log_effect": [float(v) for _, v in pairs],
        },
        schema={"feature": pl.String, "label": pl.String, "log_effect": pl.Float64},
    ).with_columns(pl.col("log_effect").exp().alias("effect"))


def load_bench(paths: list[Path]) -> pl.DataFrame:
    """``stockroom bench forecast --json`` files as one frame: dataset (file stem), model,
    wrmsse, mase, wape, bias, coverage_90, pinball, seconds, peak_mib, plus the ratio of
    WRMSSE to seasonal naive in the same file (``vs_snaive``). Raises FileNotFoundError
    naming a missing file."""
    rows = []
    for path in paths:
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"benchmark JSON not found: {path}")
        for result in json.loads(path.read_text()):
            rows.append(
                {
                    "dataset": path.stem,
                    **{
                        k: result.get(k)
                        for k in (
                            "model",
                            "wrmsse",
                            "mase",
                            "wape",
                            "bias",
                            "coverage_90",
                            "pinball",
                            "seconds",
                            "peak_mib",
                        )
                    },
                }
            )
    frame = pl.DataFrame(
        rows,
        schema_overrides={
            k: pl.Float64
            for k in (
                "wrmsse",
                "mase",
                "wape",
                "bias",
                "coverage_90",
                "pinball",
                "seconds",
                "peak_mib",
            )
        },
    )
    snaive = frame.filter(pl.col("model") == "seasonal_naive").select(
        "dataset", pl.col("wrmsse").alias("_snaive")
    )
    return (
        frame.join(snaive, on="dataset", how="left")
        .with_columns((pl.col("wrmsse") / pl.col("_snaive")).alias("vs_snaive"))
        .drop("_snaive")
        .sort(["dataset", "wrmsse"])
    )
