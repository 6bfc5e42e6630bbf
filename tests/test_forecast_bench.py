"""The forecast benchmark accepts any file of the documented shape and reports every model."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date, timedelta

import numpy as np
import polars as pl
import pytest

from stockroom.config import PROJECT_ROOT
from stockroom.errors import InputError
from stockroom.forecast.data import load_sales
from stockroom_bench.forecast import run_forecast_bench


@pytest.fixture
def sales_file(tmp_path):
    rng = np.random.default_rng(2)
    n, d = 12, 160
    start = date(2024, 1, 1)
    frame = pl.DataFrame(
        {
            "sku": np.repeat([f"p{i}" for i in range(n)], d),
            "day": np.tile(
                np.array([start + timedelta(days=k) for k in range(d)], dtype="datetime64[D]"), n
            ),
            "sold": rng.poisson(np.repeat(rng.uniform(0.2, 8, n), d)).astype(float),
            "unit_price": 4.5,
        }
    ).with_columns(pl.col("day").cast(pl.Date))
    path = tmp_path / "sales.parquet"
    frame.write_parquet(path)
    return path


def test_any_file_of_that_shape_with_named_columns(sales_file):
    results = run_forecast_bench(
        sales_file,
        horizon=7,
        windows=2,
        models=["stockroom", "global_xgboost", "seasonal_naive", "tsb"],
        columns={"id_col": "sku", "date_col": "day", "target": "sold", "price": "unit_price"},
    )
    by_model = {r["model"]: r for r in results}
    assert set(by_model) == {"stockroom", "global_xgboost", "seasonal_naive", "tsb"}
    assert all("error" not in r for r in results)
    assert by_model["seasonal_naive"]["wrmsse_vs_seasonal_naive"] == 1.0
    assert 0 <= by_model["global_xgboost"]["coverage_90"] <= 1
    assert 0 <= by_model["stockroom"]["coverage_90"] <= 1  # the shipped forecaster, scored
    assert by_model["tsb"]["coverage_90"] is None  # no intervals
    assert len(by_model["global_xgboost"]["windows"]) == 2
    # per Syntetos-Boylan class: every scored series in exactly one class, every model
    for r in results:
        assert set(r["by_class"]) <= {"smooth", "erratic", "intermittent", "lumpy", "new"}
        assert 0 < sum(v["series"] for v in r["by_class"].values()) <= 12
        assert all(v["wrmsse"] > 0 and v["mase"] > 0 for v in r["by_class"].values())
        assert r["mape_weekly"] > 0 and r["mape_28d"] is None  # no 28-day total in 7 days
    assert by_model["stockroom"]["forecast_coverage"] == 1.0


def test_missing_columns_are_named(sales_file):
    with pytest.raises(InputError, match="target"):
        load_sales(sales_file, id_col="sku", date_col="day")


def test_cli_prints_a_table_and_writes_json(sales_file, tmp_path):
    out = tmp_path / "bench.json"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "stockroom_jobs.cli",
            "bench",
            "forecast",
            "--sales",
            str(sales_file),
            "--horizon",
            "7",
            "--windows",
            "1",
            "--id",
            "sku",
            "--date",
            "day",
            "--target",
            "sold",
            "--model",
            "seasonal_naive",
            "--model",
            "ses",
            "--json",
            str(out),
        ],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
    )
    assert proc.returncode == 0, proc.stderr
    assert "seasonal_naive" in proc.stdout and "WRMSSE" in proc.stdout
    assert "per demand class" in proc.stdout and "MAPE of totals" in proc.stdout
    assert [r["model"] for r in json.loads(out.read_text())] == ["seasonal_naive", "ses"]


def test_a_missing_sales_file_fails_fast(tmp_path):
    from stockroom.errors import StockroomError

    with pytest.raises(StockroomError, match="not found: .*nope.parquet"):
        run_forecast_bench(tmp_path / "nope.parquet", models=["tsb"])


def test_repeat_interleaves_and_reports_the_median(sales_file):
    results = run_forecast_bench(
        sales_file,
        horizon=7,
        windows=1,
        repeat=3,
        models=["seasonal_naive", "tsb"],
        columns={"id_col": "sku", "date_col": "day", "target": "sold"},
    )
    for r in results:
        assert len(r["seconds_runs"]) == 3
        assert r["seconds"] == sorted(r["seconds_runs"])[1]


def test_procurement_replay_bench_on_any_file(sales_file, tmp_path):
    out = tmp_path / "replay.json"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "stockroom_jobs.cli",
            "bench",
            "procurement",
            "--sales",
            str(sales_file),
            "--id",
            "sku",
            "--date",
            "day",
            "--target",
            "sold",
            "--price",
            "unit_price",
            "--lead-time",
            "7",
            "--service-level",
            "0.8,0.95",
            "--days",
            "35",
            "--json",
            str(out),
        ],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
    )
    assert proc.returncode == 0, proc.stderr
    rows = json.loads(out.read_text())
    ours = [r for r in rows if r["policy"] == "stockroom"]
    assert [r["service_level"] for r in ours] == [0.8, 0.95]
    assert {r["policy"] for r in rows} == {"stockroom", "seller_tool", "runway_rule"}
    assert all(0 <= r["fill_rate"] <= 1 and 0 <= r["stockout_days"] <= 1 for r in rows)
    # a higher target service level holds more stock and serves at least as much
    assert ours[1]["avg_inventory_value"] > ours[0]["avg_inventory_value"]
    assert ours[1]["fill_rate"] >= ours[0]["fill_rate"]
    # the rule's curve runs on to 224 safety days, and each of ours is placed on it
    tool_days = sorted(r["safety_days"] for r in rows if r["policy"] == "seller_tool")
    assert tool_days[0] == 0 and tool_days[-1] == 224 and 56 in tool_days
    for r in ours:
        assert "inventory_vs_seller_tool_extended" in r
        assert "seller_tool_safety_days_at_equal_fill" in r
        ci = r["inventory_vs_seller_tool_ci95"]
        assert ci is None or ci[0] <= r["inventory_vs_seller_tool_extended"] <= ci[1]
        assert isinstance(r["dominates_seller_tool_curve"], bool)
    assert "fill" in proc.stdout and "stockroom" in proc.stdout and "extended" in proc.stdout
    bad = subprocess.run(
        [
            sys.executable,
            "-m",
            "stockroom_jobs.cli",
            "bench",
            "procurement",
            "--sales",
            str(sales_file),
            "--lead-time",
            "7,x",
        ],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
    )
    assert bad.returncode != 0 and "--lead-time" in bad.stderr
