"""Forecast: per SKU the sales history, the forecast with its interval band, the model used,
its backtest error and the top SHAP drivers; accuracy by category (stockroom.forecast.views)."""

import polars as pl
import streamlit as st

from app_pages import _common, _data
from stockroom import charts
from stockroom.forecast import views

#: What a model name on this page means, in words, where the name alone does not say.
MODEL_NOTES = {
    "reference_class": "A new product: forecast from what the 50 earlier launches most like "
    "it (units since launch, units in the last 14 days) sold after the same age.",
    "category_average": "A new product with too few earlier launches to compare with: its "
    "category's average, blended with its own rate by age.",
    "dormant": "Silent for about three of its usual intervals between sales: not forecast.",
    "winsorized_smoothing": "Sells on most days in very uneven amounts (erratic): the average "
    "of ETS and weekly exponential smoothing, fitted on its history with each day capped at "
    "the 90th percentile of its sale days, so one wholesale order does not lift the next "
    "four weeks.",
}

f = _common.filters()
day, fc, skus, accuracy = _data.forecasts(f)
st.title("Forecast")
if day is None:
    st.info("No forecasts in this data root yet: run `stockroom forecast`, then reload.")
    st.stop()
horizon = int(fc["horizon"].max())
st.caption(
    f"forecasts snapshot {day} (the latest on or before {f.as_of}) · {horizon} days "
    "ahead · backtest = the model's error on the "
    f"{horizon} days before {day}, fitted without them"
)
_common.provenance(_data.snapshots_as_of(f), "forecasts", _data.daily_status(f), "forecast")
saved = _data.saved_forecaster(f, day)
if saved:
    window = " to ".join(saved["training_window"])
    versions = ", ".join(f"{k} {v}" for k, v in saved["versions"].items())
    st.caption(
        f"forecaster trained on {window} · saved in {saved['path']} (reload it to reproduce "
        f"these forecasts) · {versions}"
    )
if f.category:
    skus = skus.filter(pl.col("category") == f.category)

by_model = dict(skus.group_by("model").len().iter_rows())
flags = skus["flags"]
overall = accuracy.filter(pl.col("category") == "All")
tiles = st.columns(6)
tiles[0].metric(
    "SKUs forecast",
    f"{skus.height - by_model.get('dormant', 0):,}",
    help="Every SKU with a sale, dormant ones left out.",
)
tiles[1].metric(
    "Global model",
    f"{by_model.get('global_xgboost', 0):,}",
    help="Routed to the global XGBoost model; the rest went to seasonal naive or "
    "TSB where those did better in the backtest window. Every routed forecast of a SKU "
    "that is not intermittent is averaged with ETS(A,N,A) and weekly exponential smoothing, "
    "which follow its recent level (one wholesale order capped, so it does not lift the "
    "next four weeks); erratic SKUs get those two alone (winsorized_smoothing).",
)
tiles[2].metric(
    "New products",
    f"{by_model.get('category_average', 0) + by_model.get('reference_class', 0):,}",
    help="Launched under 60 days ago: what the 50 most similar earlier launches sold at "
    "the same age (reference class), or, where too few launches are known, the category "
    "average blended with the product's own rate (first 30 days).",
)
tiles[3].metric(
    "Dormant",
    f"{by_model.get('dormant', 0):,}",
    help="Silent for about three of its usual intervals between sales (30 days at least, "
    "a year at most): flagged, not forecast.",
)
tiles[4].metric(
    "Flagged",
    f"{flags.str.contains('low_confidence|demand_spike').sum():,}",
    help="low_confidence (90 % interval wider than 3× the forecast) or "
    "demand_spike (last 7 days > 2× the previous forecast).",
)
_common.accuracy_metric(tiles[5], overall.row(0, named=True) if overall.height else None)

forecastable = skus.filter(pl.col("model") != "dormant")
options = forecastable["sku"].to_list() or skus["sku"].to_list()
if not options:
    st.warning("No SKUs in this category.")
    st.stop()
labels = dict(zip(skus["sku"], skus["product"], strict=True))
requested = st.query_params.get("sku")
sku = st.selectbox(
    "Product (type to search; largest forecast first)",
    options,
    index=options.index(requested) if requested in options else 0,
    format_func=lambda s: f"{labels.get(s) or s} ({s})",
    key="forecast-sku",
)
st.query_params["sku"] = sku  # the address bar links to this SKU
row = skus.filter(pl.col("sku") == sku).row(0, named=True)
mine = fc.filter(pl.col("sku") == sku).sort("target_date")

chart, side = st.columns([3, 1])
with chart:
    history = _data.sales_history(f, day, sku)
    product = labels.get(sku) or sku
    st.plotly_chart(
        charts.sku_forecast(history, mine, product, backtest_days=horizon), width="stretch"
    )
with side:
    st.metric("Next 7 days", f"{row['next_7d']:,.1f} units")
    band = (
        f"{row['q05_28d']:,.0f}–{row['q95_28d']:,.0f}"
        if row["q05_28d"] is not None
        else "no interval"
    )
    st.metric(
        f"Next {min(horizon, 28)} days",
        f"{row['next_28d']:,.1f} units",
        help=f"5-95 % range of the demand summed over these days: {band}.",
    )
    st.markdown(f"**Model:** `{row['model']}`  \n**Flags:** {row['flags'] or 'none'}")
    if row["model"] in MODEL_NOTES:
        st.caption(MODEL_NOTES[row["model"]])
    wape = row["backtest_wape"]
    mase = row["backtest_mase"]
    st.markdown(
        f"**Backtest:** WAPE {f'{wape:.1%}' if wape is not None else '–'}, "
        f"MASE {f'{mase:.2f}' if mase is not None else '–'}"
    )

drivers = views.drivers(row["drivers"])
if drivers.height:
    st.plotly_chart(charts.forecast_drivers(drivers), width="stretch")
else:
    st.caption(f"No SHAP drivers: `{row['model']}` is not the global model for this SKU.")

acc_tab, all_tab = st.tabs(["Accuracy by category", "All SKUs"])
with acc_tab:
    _common.table_with_downloads(
        accuracy,
        name=f"forecast_accuracy_{day}",
        column_config={
            "category": "Category",
            "skus": st.column_config.NumberColumn("SKUs", format="localized"),
            "units": st.column_config.NumberColumn("Units (backtest)", format="localized"),
            "wape": st.column_config.NumberColumn("WAPE", format="percent"),
            "mase": st.column_config.NumberColumn("MASE (median)", format="%.2f"),
            "baseline_wape": st.column_config.NumberColumn("Naive WAPE", format="percent"),
            "relative_mae": st.column_config.NumberColumn(
                "Error ÷ naive",
                format="%.2f×",
                help="Sum |error| ÷ the seasonal naive's on the same SKUs and days; < 1 beats it.",
            ),
            "global_share": st.column_config.ProgressColumn(
                "On global model", format="percent", min_value=0, max_value=1
            ),
            "flagged": st.column_config.NumberColumn("Flagged"),
        },
        caption="Forecast SKUs only (dormant left out); WAPE weights SKUs by units sold; "
        "the naive forecast repeats the last week before the backtest window.",
    )
with all_tab:
    _common.table_with_downloads(
        skus.drop("drivers"),
        show=1_000,  # largest forecast first; the SKU box above searches all of them
        name=f"forecasts_by_sku_{day}",
        column_config={
            "sku": st.column_config.TextColumn("SKU", width="medium"),
            "next_7d": st.column_config.NumberColumn("Next 7 d", format="%.1f"),
            "next_28d": st.column_config.NumberColumn("Next 28 d", format="%.1f"),
            "q05_28d": st.column_config.NumberColumn("5 % (28 d)", format="%.1f"),
            "q95_28d": st.column_config.NumberColumn("95 % (28 d)", format="%.1f"),
            "backtest_wape": st.column_config.NumberColumn("WAPE", format="percent"),
            "backtest_mase": st.column_config.NumberColumn("MASE", format="%.2f"),
        },
    )
