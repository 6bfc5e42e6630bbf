"""Forecast metrics against values worked out by hand."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import polars as pl
import pytest

from stockroom.forecast import metrics


def frame(series: dict[str, list[float]], start: date, col: str = "units", **attrs):
    rows = []
    for sid, values in series.items():
        for i, v in enumerate(values):
            rows.append(
                {
                    "id": sid,
                    "date": start + timedelta(days=i),
                    col: float(v),
                    **{k: a[sid] for k, a in attrs.items()},
                }
            )
    return pl.DataFrame(rows)


D0, D5 = date(2024, 1, 1), date(2024, 1, 6)


def test_rmsse_scale_starts_at_the_first_sale():
    # history 0, 0, 2, 4, 3: differences counted from the first non-zero day on: 4-2, 3-4
    # -> squared 4, 1 -> scale 2.5. Horizon actual 3, 5; forecast 4, 4 -> mse (1 + 1)/2 = 1
    train = frame({"a": [0, 0, 2, 4, 3]}, D0)
    actual = frame({"a": [3, 5]}, D5)
    fc = frame({"a": [4, 4]}, D5, col="yhat")
    got = metrics.rmsse(train, actual, fc)["rmsse"][0]
    assert got == pytest.approx((1 / 2.5) ** 0.5)


def test_wrmsse_two_series_two_levels_by_hand():
    # a: history 1,2,1,2 (scale: diffs 1,-1,1 -> 1); b: 2,2,4,2 (diffs 0,2,-2 -> 8/3)
    train = frame({"a": [1, 2, 1, 2], "b": [2, 2, 4, 2]}, D0, store_id={"a": "S", "b": "S"})
    train = train.with_columns(pl.when(pl.col("id") == "a").then(1.0).otherwise(3.0).alias("price"))
    start = D0 + timedelta(days=4)
    actual = frame({"a": [2, 2], "b": [3, 1]}, start)
    fc = frame({"a": [1, 2], "b": [3, 3]}, start, col="yhat")
    # bottom: a mse (1+0)/2 = .5 -> rmsse sqrt(.5/1); b mse (0+4)/2 = 2 -> sqrt(2/(8/3))
    r_a, r_b = (0.5) ** 0.5, (2 / (8 / 3)) ** 0.5
    # weights: dollar sales over the last 28 days: a 6 units x $1 = 6; b 10 x $3 = 30
    bottom = (6 * r_a + 30 * r_b) / 36
    # store level = a + b: history 3,4,5,4 (diffs 1,1,-1 -> 1); actual 5,3; forecast 4,5
    # mse (1 + 4)/2 = 2.5 -> rmsse sqrt(2.5)
    store = 2.5**0.5
    score, per_level = metrics.wrmsse(train, actual, fc, levels=[("store_id",), ("id",)])
    assert dict(per_level.select("level", "wrmsse").iter_rows()) == pytest.approx(
        {"store_id": store, "id": bottom}
    )
    assert score == pytest.approx((store + bottom) / 2)


def test_mase_wape_bias_coverage_pinball_by_hand():
    train = frame({"a": [1, 3, 2]}, D0)  # |diffs| 2, 1 -> scale 1.5
    actual = frame({"a": [2, 4]}, D0 + timedelta(days=3))
    fc = frame({"a": [3, 1]}, D0 + timedelta(days=3), col="yhat")
    assert metrics.mase(train, actual, fc) == pytest.approx(((1 + 3) / 2) / 1.5)
    y, f = np.array([2.0, 4.0]), np.array([3.0, 1.0])
    assert metrics.wape(y, f) == pytest.approx(4 / 6)
    assert metrics.bias(y, f) == pytest.approx(-2 / 6)
    assert metrics.coverage(y, np.array([1.0, 5.0]), np.array([3.0, 6.0])) == 0.5
    # q=0.9: errors y-f = -1, 3 -> max(.9*-1, -.1*-1)=.1 ; max(2.7, -.3)=2.7 -> mean 1.4
    assert metrics.pinball(y, f, 0.9) == pytest.approx(1.4)


def test_levels_for_m5_columns():
    cols = ["item_id", "store_id", "state_id", "cat_id", "dept_id", "id"]
    assert len(metrics.levels_for(cols)) == 12
    assert metrics.levels_for(["id"]) == [(), ("id",)]
