"""Sales in a window, aggregated in DuckDB: the common input of concentration and supply.

A *window* is ``window_days`` whole UTC days ending on ``as_of`` inclusive:
``[as_of + 1 day - window_days, as_of + 1 day)``. ``window_days=None`` means the whole history
(from the first order day). Sales exclude lines whose status is in
``stockroom.tables.NON_SALE_STATUSES``; revenue is ``quantity * unit_price`` in the orders' currency
(freight excluded).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from importlib import resources

import duckdb
import polars as pl

from stockroom.tables import NON_SALE_STATUSES

UNCATEGORISED = "(uncategorised)"
GROUP_KEYS = ("seller_id", "sku", "category", "month", "platform")


@dataclass(frozen=True)
class Window:
    """A half-open UTC interval ``[start, end)`` of whole days."""

    start: datetime
    end: datetime

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    @property
    def as_of(self) -> date:
        return (self.end - timedelta(days=1)).date()

    def label(self) -> str:
        return f"{self.start.date()} to {self.as_of} ({self.days} days)"


def make_window(as_of: date, window_days: int | None, first_day: date | None = None) -> Window:
    """The window of ``window_days`` days ending on ``as_of`` (inclusive).

    ``window_days=None`` starts at ``first_day`` (the whole history). Raises ``ValueError`` if
    ``window_days`` < 1 or the start would be after ``as_of``.
    """
    end = datetime.combine(as_of + timedelta(days=1), time(), tzinfo=UTC)
    if window_days is None:
        start_day = first_day or as_of
    elif window_days < 1:
        raise ValueError(f"window_days must be >= 1, got {window_days}")
    else:
        start_day = as_of + timedelta(days=1 - window_days)
    start_day = min(start_day, as_of)
    return Window(datetime.combine(start_day, time(), tzinfo=UTC), end)


@cache
def sql(name: str) -> str:
    """The text of ``lib/sql/<name>.sql``."""
    return resources.files("stockroom").joinpath("sql", f"{name}.sql").read_text()


def order_days(con: duckdb.DuckDBPyConnection) -> tuple[date | None, date | None]:
    """First and last UTC day with an order line in the connection's ``orders`` view."""
    first, last = con.execute(
        "SELECT CAST(min(order_ts) AS DATE), CAST(max(order_ts) AS DATE) FROM orders"
    ).fetchone()
    return first, last


def sales(
    con: duckdb.DuckDBPyConnection,
    window: Window,
    by: tuple[str, ...],
    category: str | None = None,
    *,
    orders: bool = True,
) -> pl.DataFrame:
    """Sales aggregated by ``by`` (a subset of :data:`GROUP_KEYS`) in ``window``.

    Returns one row per group: the ``by`` columns (``month`` is a Date, the first of the month,
    others String), ``units`` (Int64), ``revenue`` (Float64, orders' currency), ``orders``
    (Int64, distinct order ids; left out with ``orders=False``, which saves the distinct count)
    and ``lines`` (Int64). Sorted by revenue, descending, then keys.
    """
    unknown = [k for k in by if k not in GROUP_KEYS]
    if unknown:
        raise ValueError(f"cannot group sales by {unknown}; choose from {GROUP_KEYS}")
    keys = ", ".join(by)
    params = {
        "start": window.start,
        "end": window.end,
        "non_sale": list(NON_SALE_STATUSES),
        "category": category,
    }
    if category is None and "category" not in by:  # the catalog is not needed: not read
        lines = sql("sales_lines").format(category="CAST(NULL AS VARCHAR)", products="")
    else:
        params["uncategorised"] = UNCATEGORISED
        lines = sql("sales_lines").format(
            category="COALESCE(p.category, $uncategorised)",
            products="LEFT JOIN products AS p USING (sku)",
        )
    query = (
        f"SELECT {keys + ',' if keys else ''} CAST(sum(units) AS BIGINT) AS units, "
        "sum(revenue) AS revenue, "
        f"{'CAST(count(DISTINCT order_id) AS BIGINT) AS orders, ' if orders else ''}"
        f"CAST(count(*) AS BIGINT) AS lines FROM ({lines}) "
        f"{'GROUP BY ' + keys if keys else ''}"
    )
    frame = con.execute(query, params).pl()
    if not keys:
        frame = frame.filter(pl.col("lines") > 0)
    return frame.sort(
        [pl.col("revenue"), *by], descending=[True] + [False] * len(by), nulls_last=True
    )


def categories(con: duckdb.DuckDBPyConnection, window: Window) -> list[str]:
    """Categories with sales in ``window``, largest revenue first."""
    return sales(con, window, ("category",))["category"].to_list()


def currencies(con: duckdb.DuckDBPyConnection) -> str:
    """The orders' currencies joined by ``/`` (e.g. ``BRL``), or ``-`` when there are none."""
    rows = con.execute("SELECT DISTINCT currency FROM orders ORDER BY 1").fetchall()
    return "/".join(r[0] for r in rows) or "-"


def seller_labels(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """One row per seller: ``seller_id``, ``seller`` (String, the label people read: the id's
    first 8 characters and the city in title case, "4869f7a5… · Guariba", for sources such
    as Olist that publish no seller names), ``city`` and ``region`` (String, nullable)."""
    names = con.execute("SELECT seller_id, city, region FROM sellers").pl().unique("seller_id")
    label = pl.col("seller_id").str.slice(0, 8) + pl.lit("…")
    city = pl.col("city").str.strip_chars().str.to_titlecase()
    return names.with_columns(
        seller=pl.when(city.str.len_chars() > 0)
        .then(pl.concat_str([label, city], separator=" · "))
        .otherwise(label)
    ).select("seller_id", "seller", "city", "region")
