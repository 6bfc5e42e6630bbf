"""The Forecast page (AppTest and a real Chromium) and the forecast_accuracy report, on a
small store with a forecasts snapshot; every number checked against stockroom.forecast.views."""

from __future__ import annotations

import json
from datetime import date, timedelta

import numpy as np
import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from stockroom import store
from stockroom.config import PROJECT_ROOT
from stockroom.forecast import views
from stockroom.forecast.forecaster import ForecasterConfig
from stockroom_jobs.forecast import run_forecast
from tests.conftest import land_orders

AS_OF = date(2024, 6, 30)


@pytest.fixture(scope="module")
def forecast_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("forecast")
    rng = np.random.default_rng(11)
    rows, cats = [], {}
    for k in range(10):
        sku = f"SKU-{k:02d}"
        cats[sku] = "cards" if k % 2 else "toys"
        rate = 0.5 + k
        for d in range(220):
            qty = int(rng.poisson(rate))
            if qty:
                rows.append((AS_OF - timedelta(days=d), f"{sku}-{d}", "s1", sku, qty, 4.0))
    rows += [(AS_OF - timedelta(days=d), f"old-{d}", "s1", "OLD", 1, 4.0) for d in range(60, 200)]
    cats["OLD"] = "toys"
    land_orders(root, rows, cats)
    run_forecast(root, AS_OF, horizon=14, config=ForecasterConfig.shipped(14, trees=60, depth=4))
    return root


def test_views_add_up(forecast_root):
    day, fc = views.latest(forecast_root)
    assert day == AS_OF
    skus = views.sku_table(fc)
    assert skus.height == 11 and skus["next_28d"].is_sorted(descending=True)
    one = fc.filter(pl.col("sku") == skus["sku"][0])
    assert skus["next_7d"][0] == pytest.approx(one.filter(pl.col("horizon") <= 7)["yhat"].sum())
    acc = views.accuracy_by_category(fc)
    assert acc["category"].to_list()[0] == "All"
    live = fc.filter(pl.col("model") != "dormant", pl.col("horizon") == 1)
    assert acc["skus"][0] == live.height == 10  # OLD is dormant: left out
    want = live["backtest_abs_error"].sum() / live["backtest_units"].sum()
    assert acc["wape"][0] == pytest.approx(want)
    toys = live.filter(pl.col("category") == "toys")
    got = acc.filter(pl.col("category") == "toys")
    assert got["wape"][0] == pytest.approx(
        toys["backtest_abs_error"].sum() / toys["backtest_units"].sum()
    )
    d = views.drivers(json.dumps([["mean_28", 0.5], ["promo", -0.2]]))
    assert d["label"].to_list() == ["28-day average", "promotion"]
    assert d["effect"][0] == pytest.approx(np.exp(0.5))


def test_forecast_page(forecast_root, monkeypatch):
    monkeypatch.setenv("STOCKROOM_DATA_ROOT", str(forecast_root))
    at = AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=120)
    at.switch_page("app_pages/forecast.py").run()
    assert not at.exception
    assert at.title[0].value == "Forecast"
    _, fc = views.latest(forecast_root)
    skus = views.sku_table(fc)
    shown = {m.label: m.value for m in at.metric}
    assert shown["SKUs forecast"] == "10"
    assert (shown["New products"], shown["Dormant"]) == ("0", "1")
    top = skus.row(0, named=True)
    assert at.selectbox(key="forecast-sku").value == top["sku"]
    assert shown["Next 7 days"] == f"{top['next_7d']:,.1f} units"
    charts = len(at.get("plotly_chart"))
    assert charts == (2 if top["model"] == "global_xgboost" else 1)
    # the chart is titled with the product's name, not its SKU code
    from stockroom import products

    label = products.labels(
        skus.select("sku", "category"), forecast_root, views.latest(forecast_root)[0]
    )
    name = dict(zip(label["sku"], label["product"], strict=True))[top["sku"]]
    title = json.loads(at.get("plotly_chart")[0].proto.spec)["layout"]["title"]["text"]
    assert title == f"{name}: sales and forecast" and name != top["sku"]
    assert at.dataframe[0].value.shape[0] == 3  # All, toys, cards
    # pick a SKU on the global model: its SHAP drivers chart appears
    on_global = skus.filter(pl.col("model") == "global_xgboost")["sku"]
    if on_global.len():
        at.selectbox(key="forecast-sku").select(on_global[0]).run()
        assert not at.exception and len(at.get("plotly_chart")) == 2
        assert "`global_xgboost`" in at.markdown[0].value


def test_a_sku_in_the_address_is_preselected(forecast_root, monkeypatch):
    monkeypatch.setenv("STOCKROOM_DATA_ROOT", str(forecast_root))
    at = AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=120)
    _, fc = views.latest(forecast_root)
    last = views.sku_table(fc).filter(pl.col("model") != "dormant")["sku"][-1]
    at.query_params["sku"] = last
    at.switch_page("app_pages/forecast.py").run()
    assert not at.exception
    assert at.selectbox(key="forecast-sku").value == last
    # picking another SKU puts it in the address, so the link can be shared
    top = views.sku_table(fc)["sku"][0]
    at.selectbox(key="forecast-sku").select(top).run()
    assert at.query_params["sku"] in (top, [top])


def test_forecast_page_without_forecasts(olist_root, monkeypatch):
    monkeypatch.setenv("STOCKROOM_DATA_ROOT", str(olist_root))
    at = AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=120)
    at.switch_page("app_pages/forecast.py").run()
    assert not at.exception
    if store.resolve_as_of(olist_root, "forecasts", None) is None:
        assert "stockroom forecast" in at.info[0].value


def test_forecast_accuracy_report(forecast_root, tmp_path):
    from stockroom_jobs.report import run_report

    bench = [
        {
            "model": "global_xgboost",
            "wrmsse": 0.7,
            "mase": 1.2,
            "wape": 0.5,
            "bias": 0.01,
            "coverage_90": 0.9,
            "pinball": 0.3,
            "seconds": 20.0,
            "peak_mib": 900,
        },
        {
            "model": "seasonal_naive",
            "wrmsse": 1.0,
            "mase": 1.5,
            "wape": 0.7,
            "bias": 0.0,
            "coverage_90": None,
            "pinball": None,
            "seconds": 1.0,
            "peak_mib": 300,
        },
        {"model": "mlforecast_xgboost_conformal", "error": "ValueError: too short"},
    ]
    path = tmp_path / "forecast_demo.json"
    path.write_text(json.dumps(bench))
    files = run_report(
        "forecast_accuracy", forecast_root, progress=False, extra={"bench": [str(path)]}
    )
    html = files.html.read_text()
    assert "Forecast accuracy" in html and "forecast_demo" in html
    assert "0.700" in html  # the WRMSSE ratio 0.7 / 1.0
    acc = views.accuracy_by_category(views.latest(forecast_root)[1])
    assert f"{acc['wape'][0]:.1%}" in html  # the latest run's WAPE, All row
    # the default, as `bash scripts/run.sh` runs it: every docs/bench/forecast_*.json, some of
    # them baseline-only re-runs (AutoETS) without a row of the shipped forecaster
    html = run_report("forecast_accuracy", forecast_root, progress=False).html.read_text()
    assert "forecast_m5_autoets" in html and "No row of the shipped forecaster" in html


@pytest.mark.browser
def test_forecast_page_in_chromium(browser, forecast_root, tmp_path):
    with browser.serve(forecast_root) as url:
        seen = browser.visit(url, tmp_path, browser.FORECAST_PAGES)
    info = seen["forecast"]
    assert info["errors"] == 0 and info["charts"] >= 1 and info["tables"] >= 1
    assert "Error ÷ naive" in info["metrics"]
    plan = seen["order_today"]
    assert plan["errors"] == 0 and plan["tables"] >= 1 and "Revenue at risk, USD" in plan["metrics"]
