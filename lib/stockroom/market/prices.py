"""Market statistics from sales: last sale, 30-day sales count and volatility, per item and day.

Sales become a dense day x item grid (:class:`SalePath`); every statistic is a column of it, so
a year of 20,000 items is a few numpy passes, not a loop over items.

**Volatility** (the market table's ``volatility``): on each day with sales, the item's price is
the median of that day's sale prices; ``r`` is the log change from the previous day with sales,
``ln(m_t / m_prev)``. The volatility on day *d* is the sample standard deviation of the ``r``
of the 30 days up to and including *d* (at least two changes, else null), not annualised,
clipped to [0, 1] -- the historical volatility of Hull, *Options, Futures, and Other
Derivatives* (10th ed., sec. 15.4), on sale days instead of trading days.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import polars as pl

#: the window of sales_30d and of the volatility, days (snapshot day included)
WINDOW_DAYS = 30


@dataclass(frozen=True)
class SalePath:
    """Sales as a dense grid: ``days`` (D consecutive dates) x ``skus`` (S items).

    ``count`` [D, S] int: sales that day; ``median`` [D, S] float: median sale price that day
    (NaN without sales); ``last`` [D, S]: the day's last sale price in file order (NaN without).
    """

    days: list[date]
    skus: list[str]
    count: np.ndarray
    median: np.ndarray
    last: np.ndarray

    @classmethod
    def from_sales(cls, sales: pl.DataFrame, end: date | None = None) -> SalePath:
        """``sales``: one row per sale with ``sku`` (String), ``day`` (Date) and ``price``
        (Float64, > 0), in the order they happened. The grid runs from the first sale to ``end``
        (default the last sale)."""
        if sales.is_empty():
            raise ValueError("no sales to build a price path from")
        first = sales["day"].min()
        last_day = end or sales["day"].max()
        days = [first + timedelta(days=i) for i in range((last_day - first).days + 1)]
        skus = sorted(sales["sku"].unique().to_list())
        daily = (
            sales.filter(pl.col("day") <= last_day)
            .group_by("sku", "day", maintain_order=True)
            .agg(
                pl.len().alias("n"),
                pl.col("price").median().alias("median"),
                pl.col("price").last().alias("last"),
            )
            .with_columns(
                (pl.col("day") - pl.lit(first)).dt.total_days().alias("d"),
                pl.col("sku")
                .replace_strict(skus, list(range(len(skus))), return_dtype=pl.Int64)
                .alias("s"),
            )
        )
        shape = (len(days), len(skus))
        count = np.zeros(shape, dtype=np.int64)
        median = np.full(shape, np.nan)
        last = np.full(shape, np.nan)
        d, s = daily["d"].to_numpy(), daily["s"].to_numpy()
        count[d, s] = daily["n"].to_numpy()
        median[d, s] = daily["median"].to_numpy()
        last[d, s] = daily["last"].to_numpy()
        return cls(days, skus, count, median, last)


def forward_fill(values: np.ndarray) -> np.ndarray:
    """Each NaN replaced by the last non-NaN value above it in its column (NaN before the
    first)."""
    idx = np.where(np.isnan(values), 0, np.arange(values.shape[0])[:, None])
    np.maximum.accumulate(idx, axis=0, out=idx)
    out = values[idx, np.arange(values.shape[1])[None, :]]
    # rows before a column's first value still point at row 0, which may be NaN: keep NaN
    return out


def last_sale_day(count: np.ndarray) -> np.ndarray:
    """[D, S] index of the last day with a sale up to each day (-1 before the first)."""
    idx = np.where(count > 0, np.arange(count.shape[0])[:, None], -1)
    return np.maximum.accumulate(idx, axis=0)


def rolling_sum(values: np.ndarray, window: int = WINDOW_DAYS) -> np.ndarray:
    """Sum of each column over the ``window`` rows up to and including each row."""
    csum = np.cumsum(values, axis=0, dtype=float)
    out = csum.copy()
    out[window:] -= csum[:-window]
    return out


def log_changes(median: np.ndarray) -> np.ndarray:
    """[D, S] ``ln(m_t / m_prev)`` on days with sales (m_prev: the previous day with sales),
    NaN elsewhere."""
    prev = forward_fill(np.vstack([np.full((1, median.shape[1]), np.nan), median[:-1]]))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(np.isnan(median), np.nan, np.log(median / prev))


def volatility(median: np.ndarray, window: int = WINDOW_DAYS) -> np.ndarray:
    """[D, S] volatility per the module doc: sample std of the log changes in the window, at
    least two of them, clipped to [0, 1]; NaN where undefined."""
    r = log_changes(median)
    have = ~np.isnan(r)
    x = np.where(have, r, 0.0)
    n = rolling_sum(have.astype(float), window)
    sx = rolling_sum(x, window)
    sxx = rolling_sum(x * x, window)
    with np.errstate(invalid="ignore", divide="ignore"):
        var = (sxx - sx * sx / n) / (n - 1)
    vol = np.sqrt(np.clip(var, 0.0, None))
    return np.where(n >= 2, np.clip(vol, 0.0, 1.0), np.nan)


def market_stats(path: SalePath, window: int = WINDOW_DAYS) -> dict[str, np.ndarray]:
    """The market table's sale columns for every (day, item) of ``path``: ``last_sale_price``
    (money, NaN before the first sale), ``last_sale_day`` (index into ``path.days``, -1 before),
    ``sales_30d`` (count) and ``volatility`` (0-1, NaN when undefined)."""
    return {
        "last_sale_price": forward_fill(path.last),
        "last_sale_day": last_sale_day(path.count),
        "sales_30d": rolling_sum(path.count, window).round().astype(np.int64),
        "volatility": volatility(path.median, window),
    }
