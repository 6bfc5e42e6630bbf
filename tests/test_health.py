"""Success rate and freshness by hand on a small run table."""

from datetime import UTC, datetime, timedelta

import polars as pl

from stockroom import health

NOW = datetime(2024, 7, 1, 12, tzinfo=UTC)


def runs_table(rows):
    return pl.DataFrame(
        [
            {
                "job": j,
                "source": s,
                "status": st,
                "started_at": NOW - timedelta(hours=h),
                "finished_at": None if st == "running" else NOW - timedelta(hours=h - 0.5),
                "error": None if st == "succeeded" else "boom",
            }
            for j, s, st, h in rows
        ],
        schema={
            "job": pl.String,
            "source": pl.String,
            "status": pl.String,
            "started_at": pl.Datetime("us", "UTC"),
            "finished_at": pl.Datetime("us", "UTC"),
            "error": pl.String,
        },
    )


def test_success_rate_counts_failed_and_crashed_not_running():
    runs = runs_table(
        [
            ("a", "x", "succeeded", 10),
            ("a", "x", "failed", 8),
            ("a", "x", "crashed", 6),
            ("a", "x", "succeeded", 4),
            ("b", "y", "running", 1),
        ]
    )
    assert health.success_rate(runs) == 0.5
    assert health.success_rate(runs.filter(pl.col("status") == "running")) is None


def test_freshness_is_hours_since_last_success_stalest_first():
    runs = runs_table(
        [
            ("a", "x", "succeeded", 30),
            ("a", "x", "failed", 2),
            ("b", "y", "succeeded", 5),
            ("c", "z", "failed", 1),
        ]
    )
    table = health.by_source(runs, now=NOW)
    assert table["source"].to_list() == ["z", "x", "y"]  # never succeeded = stalest
    got = dict(zip(table["source"], table["freshness_h"], strict=True))
    assert got["x"] == 29.5 and got["y"] == 4.5 and got["z"] is None
    assert dict(zip(table["source"], table["last_status"], strict=True))["x"] == "failed"
