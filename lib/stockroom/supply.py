"""Supply diversity and sales velocity: how many sellers stand behind each product and category.

A seller is *active* for a product in a window when it sold at least one unit of it there (the
Olist export has no listings; once listing snapshots exist, active listings will count too).

Metrics (units in brackets):

* ``sellers`` per product [count]: distinct active sellers of the SKU in the window.
* ``single_seller`` [bool]: exactly one active seller -- a **supply risk** (if that seller stops,
  the product is gone). ``single_seller_share`` [share 0-1] is the share of a category's products
  with one seller, ``single_seller_revenue_share`` [share 0-1] the share of its revenue on them.
* ``sellers_per_product`` [count]: mean active sellers per product.
* ``units_per_day`` [units/day], sales velocity: units sold in the window / window length in days
  (the whole window, not only days with sales).
"""

from __future__ import annotations

from datetime import date

import duckdb
import polars as pl

from stockroom.products import category_words
from stockroom.sales import Window, make_window, order_days, sales, seller_labels


def sku_sellers(
    con: duckdb.DuckDBPyConnection, window: Window, category: str | None = None
) -> pl.DataFrame:
    """Sales per (category, sku, seller_id) in ``window`` (:func:`stockroom.sales.sales`): the
    one query behind every supply figure. Pass it as ``sku_seller`` to the functions below to
    run it once for several of them."""
    return sales(con, window, ("category", "sku", "seller_id"), category, orders=False)


def _sku_seller(
    con: duckdb.DuckDBPyConnection,
    window: Window,
    category: str | None,
    given: pl.DataFrame | None = None,
    need_category: bool = True,
) -> pl.DataFrame:
    if given is not None:
        return given if category is None else given.filter(pl.col("category") == category)
    if category is None and not need_category:  # no catalog join (category left null)
        return sales(con, window, ("sku", "seller_id"), None, orders=False).with_columns(
            category=pl.lit(None, pl.String)
        )
    return sku_sellers(con, window, category)


def _per_product(sku_seller: pl.DataFrame, days: int) -> pl.DataFrame:
    return (
        sku_seller.group_by("sku", "category")
        .agg(
            pl.col("seller_id").n_unique().alias("sellers"),
            pl.col("units").sum(),
            pl.col("revenue").sum(),
        )
        .with_columns(
            units_per_day=pl.col("units") / days,
            single_seller=pl.col("sellers") == 1,
        )
    )


def _rollup(
    products: pl.DataFrame, sku_seller: pl.DataFrame, days: int, by: tuple[str, ...]
) -> pl.DataFrame:
    metrics = [
        pl.len().alias("products"),
        pl.col("single_seller").mean().alias("single_seller_share"),
        (pl.col("revenue").filter(pl.col("single_seller")).sum() / pl.col("revenue").sum()).alias(
            "single_seller_revenue_share"
        ),
        pl.col("sellers").mean().alias("sellers_per_product"),
        pl.col("units").sum(),
        pl.col("revenue").sum(),
    ]
    if by:
        out = products.group_by(by).agg(metrics)
        distinct = sku_seller.group_by(by).agg(pl.col("seller_id").n_unique().alias("sellers"))
        out = out.join(distinct, on=list(by), how="left")
    else:
        out = products.select(metrics).with_columns(
            sellers=pl.lit(sku_seller["seller_id"].n_unique(), pl.UInt32)
        )
    return out.with_columns(units_per_day=pl.col("units") / days).select(
        *by,
        "products",
        "sellers",
        "sellers_per_product",
        "single_seller_share",
        "single_seller_revenue_share",
        "units",
        "revenue",
        "units_per_day",
    )


def product_supply(
    con: duckdb.DuckDBPyConnection,
    window: Window,
    category: str | None = None,
    *,
    sku_seller: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """One row per SKU sold in ``window``: ``sku``, ``category`` (String), ``sellers`` (UInt32),
    ``units`` (Int64), ``revenue`` (Float64), ``units_per_day`` (Float64, units/day),
    ``single_seller`` (Boolean). Sorted by revenue, descending."""
    frame = _per_product(_sku_seller(con, window, category, sku_seller), window.days)
    return frame.sort(["revenue", "sku"], descending=[True, False]).select(
        "sku", "category", "sellers", "units", "revenue", "units_per_day", "single_seller"
    )


def category_supply(
    con: duckdb.DuckDBPyConnection, window: Window, *, sku_seller: pl.DataFrame | None = None
) -> pl.DataFrame:
    """One row per category: ``products`` (UInt32), ``sellers`` (UInt32, distinct active sellers
    in the category), ``sellers_per_product`` (Float64), ``single_seller_share`` and
    ``single_seller_revenue_share`` (Float64, 0-1), ``units`` (Int64), ``revenue`` (Float64),
    ``units_per_day`` (Float64), ``category_name`` (String, the category in words). Sorted by
    revenue, descending."""
    sku_seller = _sku_seller(con, window, None, sku_seller)
    frame = _rollup(_per_product(sku_seller, window.days), sku_seller, window.days, ("category",))
    return frame.sort(["revenue", "category"], descending=[True, False]).with_columns(
        category_name=category_words(pl.col("category"))
    )


def supply_summary(
    con: duckdb.DuckDBPyConnection,
    window: Window,
    category: str | None = None,
    *,
    sku_seller: pl.DataFrame | None = None,
) -> dict:
    """The :func:`category_supply` columns over the whole window (one category or all) as a
    dict; values are None when nothing sold."""
    sku_seller = _sku_seller(con, window, category, sku_seller, need_category=False)
    if sku_seller.is_empty():
        return dict.fromkeys(
            (
                "products",
                "sellers",
                "sellers_per_product",
                "single_seller_share",
                "single_seller_revenue_share",
                "units",
                "revenue",
                "units_per_day",
            )
        )
    return _rollup(_per_product(sku_seller, window.days), sku_seller, window.days, ()).row(
        0, named=True
    )


def monthly_supply(
    con: duckdb.DuckDBPyConnection, as_of: date, category: str | None = None
) -> pl.DataFrame:
    """Supply per calendar month (UTC) up to ``as_of``: ``month`` (Date), ``products``,
    ``sellers`` (UInt32, active that month), ``single_seller_share`` (Float64 0-1),
    ``units_per_day`` (Float64, units / days of the month in the window)."""
    first, _ = order_days(con)
    schema = {
        "month": pl.Date,
        "products": pl.UInt32,
        "sellers": pl.UInt32,
        "single_seller_share": pl.Float64,
        "units_per_day": pl.Float64,
    }
    if first is None:
        return pl.DataFrame(schema=schema)
    window = make_window(as_of, None, first)
    by_month = sales(con, window, ("month", "sku", "seller_id"), category, orders=False)
    per_product = by_month.group_by("month", "sku").agg(
        pl.col("seller_id").n_unique().alias("sellers"), pl.col("units").sum()
    )
    out = (
        per_product.group_by("month")
        .agg(
            pl.len().alias("products"),
            (pl.col("sellers") == 1).mean().alias("single_seller_share"),
            pl.col("units").sum(),
        )
        .join(
            by_month.group_by("month").agg(pl.col("seller_id").n_unique().alias("sellers")),
            on="month",
        )
    )
    # days of each month inside the window (first and last month may be partial)
    start = pl.max_horizontal(pl.col("month"), pl.lit(first))
    end = pl.min_horizontal(pl.col("month").dt.month_end(), pl.lit(as_of))
    days = (end - start).dt.total_days() + 1
    return out.with_columns(units_per_day=pl.col("units") / days).sort("month").select(list(schema))


def top_suppliers(
    con: duckdb.DuckDBPyConnection,
    window: Window,
    category: str | None = None,
    n: int = 20,
    *,
    sku_seller: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """The ``n`` sellers supplying the most distinct SKUs: ``seller_id``, ``products`` (UInt32),
    ``sole_supplier_of`` (UInt32, SKUs nobody else sold), ``units`` (Int64), ``revenue``
    (Float64) and ``seller`` (String, :func:`~stockroom.sales.seller_labels`)."""
    sku_seller = _sku_seller(con, window, category, sku_seller)
    # mark each (seller, SKU) row once with a join; an is_in inside the group_by would test
    # every seller's SKUs against the whole list (quadratic: 102 s at 1M listings)
    sole = (
        _per_product(sku_seller, window.days)
        .filter("single_seller")
        .select("sku", pl.lit(True).alias("sole"))
    )
    return (
        sku_seller.join(sole, on="sku", how="left")
        .group_by("seller_id")
        .agg(
            pl.col("sku").n_unique().alias("products"),
            pl.col("sole").fill_null(False).sum().cast(pl.UInt32).alias("sole_supplier_of"),
            pl.col("units").sum(),
            pl.col("revenue").sum(),
        )
        .sort(["products", "revenue", "seller_id"], descending=[True, True, False])
        .head(n)
        .join(
            seller_labels(con).select("seller_id", "seller"),
            on="seller_id",
            how="left",
            maintain_order="left",
        )
        .with_columns(pl.col("seller").fill_null(pl.col("seller_id").str.slice(0, 8) + "…"))
    )
