"""Seller concentration: who holds the revenue, measured once and used everywhere.

Input of every metric: one row per seller (within a group) with ``revenue`` >= 0; the seller's
*share* is its revenue / the group's revenue (a share 0-1). Sellers with zero revenue in the
window are not counted.

Metrics (all defined in this module; pages, notebooks and exports call these functions):

* **HHI**, Herfindahl-Hirschman Index, on the **0-10,000 scale** used in antitrust practice:
  ``HHI = sum_i (100 * s_i)^2``. US DOJ/FTC Merger Guidelines (2023, section 2.1): above 1,800 is
  *highly concentrated*, 1,000-1,800 *moderately concentrated*, below 1,000 *unconcentrated*.
* **CR_n**, n-firm concentration ratio: the summed share (0-1) of the n largest sellers
  (CR1, CR4; ``top10_share`` = CR10).
* **Effective number of sellers** = 10,000 / HHI (the number of equal-sized sellers that would
  give the same HHI; Adelman, 1969, "Comment on the H concentration measure as a numbers-
  equivalent", Rev. Econ. Stat. 51(1)).
* **Gini** coefficient of revenue across sellers, 0 (all equal) to (n-1)/n (one seller has all),
  sorted-rank form ``G = sum_i (2i - n - 1) x_(i) / (n * sum_i x_i)`` with ``x`` ascending
  (the standard sample formula, e.g. Damgaard & Weiner, 2000, Ecology 81(4):1139-1142, without
  the n/(n-1) small-sample correction).
"""

from __future__ import annotations

from datetime import date

import duckdb
import polars as pl

from stockroom.products import category_words
from stockroom.sales import (
    UNCATEGORISED,
    Window,
    make_window,
    order_days,
    sales,
    seller_labels,
)

#: HHI bands of the 2023 US Merger Guidelines (upper bounds, 0-10,000 scale).
HHI_BANDS = (
    (1_000.0, "unconcentrated"),
    (1_800.0, "moderately concentrated"),
    (float("inf"), "highly concentrated"),
)


def hhi_band(hhi: float) -> str:
    """'unconcentrated' (< 1,000), 'moderately concentrated' (1,000-1,800) or 'highly
    concentrated' (> 1,800), per the 2023 US DOJ/FTC Merger Guidelines."""
    for upper, label in HHI_BANDS:
        if hhi <= upper:
            return label
    raise ValueError(f"HHI {hhi} out of range")


def band_expr() -> pl.Expr:
    """:func:`hhi_band` of an ``hhi`` column, as an expression (String)."""
    (low, low_label), (mid, mid_label), (_, high_label) = HHI_BANDS
    hhi = pl.col("hhi")
    return (
        pl.when(hhi <= low)
        .then(pl.lit(low_label))
        .when(hhi <= mid)
        .then(pl.lit(mid_label))
        .otherwise(pl.lit(high_label))
    )


# -- metric expressions (evaluated per group in a group_by/agg, or over a whole frame) -----------


def share_expr(by: tuple[str, ...] = ()) -> pl.Expr:
    """Revenue share of each row within its group (0-1)."""
    total = pl.col("revenue").sum()
    return pl.col("revenue") / (total.over(by) if by else total)


def hhi_expr() -> pl.Expr:
    """HHI on the 0-10,000 scale from a ``share`` column (0-1)."""
    return ((pl.col("share") * 100) ** 2).sum()


def cr_expr(n: int) -> pl.Expr:
    """CR_n: summed share (0-1) of the ``n`` largest rows."""
    return pl.col("share").top_k(n).sum()


def gini_expr() -> pl.Expr:
    """Gini coefficient of ``revenue`` (sorted-rank form, no small-sample correction)."""
    x = pl.col("revenue").sort()
    n = pl.len()
    rank = pl.int_range(1, n + 1, dtype=pl.Int64)
    return ((2 * rank - n - 1) * x).sum() / (n * x.sum())


METRIC_COLUMNS = (
    "sellers",
    "revenue",
    "hhi",
    "cr1",
    "cr4",
    "top10_share",
    "effective_sellers",
    "gini",
)


def concentration(seller_sales: pl.DataFrame, by: tuple[str, ...] = ()) -> pl.DataFrame:
    """Concentration metrics per group.

    ``seller_sales``: one row per (``by``..., ``seller_id``) with ``revenue`` (Float64).
    Returns one row per group with the ``by`` columns and: ``sellers`` (UInt32, sellers with
    revenue > 0), ``revenue`` (Float64), ``hhi`` (Float64, 0-10,000), ``cr1``, ``cr4``,
    ``top10_share`` (Float64, shares 0-1), ``effective_sellers`` (Float64, 10,000/HHI) and
    ``gini`` (Float64, 0-1). An empty input gives an empty frame with these columns.
    """
    frame = seller_sales.filter(pl.col("revenue") > 0).with_columns(share=share_expr(by))
    metrics = [
        pl.len().alias("sellers"),
        pl.col("revenue").sum().alias("revenue"),
        hhi_expr().alias("hhi"),
        cr_expr(1).alias("cr1"),
        cr_expr(4).alias("cr4"),
        cr_expr(10).alias("top10_share"),
        gini_expr().alias("gini"),
    ]
    out = frame.group_by(by, maintain_order=True).agg(metrics) if by else frame.select(metrics)
    if not by and frame.is_empty():
        out = out.clear()
    out = out.with_columns((10_000 / pl.col("hhi")).alias("effective_sellers"))
    return out.select(*by, *METRIC_COLUMNS)


# -- views over the store ---------------------------------------------------------------------


#: Columns of :func:`seller_table`, in order.
SELLER_COLUMNS = (
    "rank",
    "seller",
    "revenue",
    "share",
    "cumulative_share",
    "units",
    "orders",
    "products",
    "city",
    "region",
    "seller_id",
)


def seller_table(
    con: duckdb.DuckDBPyConnection, window: Window, category: str | None = None
) -> pl.DataFrame:
    """Sellers ranked by revenue in ``window`` (optionally one category).

    Columns (:data:`SELLER_COLUMNS`): ``rank`` (UInt32, 1 = largest), ``seller`` (String, the
    label people read: :func:`~stockroom.sales.seller_labels`), ``revenue`` (Float64, orders'
    currency), ``share`` (Float64 0-1), ``cumulative_share`` (Float64 0-1), ``units``,
    ``orders`` (Int64), ``products`` (UInt32, distinct SKUs sold), ``city``, ``region``,
    ``seller_id`` (String, the drill-down).
    """
    by_sku = sales(con, window, ("seller_id", "sku"), category)
    per_seller = (
        by_sku.group_by("seller_id")
        .agg(
            pl.col("revenue").sum(),
            pl.col("units").sum(),
            pl.col("orders").sum(),
            pl.col("sku").n_unique().alias("products"),
        )
        .filter(pl.col("revenue") > 0)
        .sort(["revenue", "seller_id"], descending=[True, False])
    )
    per_seller = per_seller.with_columns(
        rank=pl.int_range(1, pl.len() + 1, dtype=pl.UInt32),
        share=share_expr(),
    ).with_columns(cumulative_share=pl.col("share").cum_sum())
    return (
        per_seller.join(seller_labels(con), on="seller_id", how="left", maintain_order="left")
        .with_columns(pl.col("seller").fill_null(pl.col("seller_id").str.slice(0, 8) + "…"))
        .select(SELLER_COLUMNS)
    )


def summary(con: duckdb.DuckDBPyConnection, window: Window, category: str | None = None) -> dict:
    """Whole-window concentration as a dict of :data:`METRIC_COLUMNS` (plus ``band``).

    Values are None when the window has no sales.
    """
    frame = concentration(sales(con, window, ("seller_id",), category, orders=False))
    if frame.is_empty():
        return {c: None for c in (*METRIC_COLUMNS, "band")}
    row = frame.row(0, named=True)
    row["band"] = hhi_band(row["hhi"])
    return row


def by_category(con: duckdb.DuckDBPyConnection, window: Window) -> pl.DataFrame:
    """:func:`concentration` per product category in ``window``, largest revenue first, with
    ``category_name`` (String, the category in words: "Office furniture"), ``revenue_share``
    (Float64, the category's share 0-1 of the window's revenue) and ``band`` (String,
    :func:`hhi_band` of its HHI)."""
    frame = concentration(
        sales(con, window, ("category", "seller_id"), orders=False), by=("category",)
    )
    return rank_categories(frame)


def rank_categories(frame: pl.DataFrame) -> pl.DataFrame:
    """:func:`concentration` ``by=("category",)`` as :func:`by_category` returns it: largest
    revenue first, with ``category_name``, ``revenue_share`` and ``band``."""
    frame = frame.sort(["revenue", "category"], descending=[True, False]).with_columns(
        revenue_share=pl.col("revenue") / pl.col("revenue").sum(),
        band=band_expr(),
        category_name=category_words(pl.col("category")),
    )
    return frame.select("category", "category_name", *METRIC_COLUMNS, "revenue_share", "band")


#: Categories under this share of the window's revenue are not listed among the most
#: concentrated: a category with one seller and a few sales has HHI 10,000 by arithmetic.
MIN_CATEGORY_SHARE = 0.01


def across_categories(per_category: pl.DataFrame, top: int = 5) -> dict:
    """The concentration headline over categories, where market power is measured: a market
    is a category, not the whole marketplace, so pooling every category's sellers makes any
    marketplace look unconcentrated.

    ``per_category``: :func:`by_category`. Returns ``hhi`` and ``cr4``: the revenue-weighted
    means of the categories' HHI (0-10,000) and CR4 (share 0-1) -- the sales-weighted average
    of industry concentration of Autor, Dorn, Katz, Patterson & Van Reenen (*The fall of the
    labor share and the rise of superstar firms*, QJE 135(2), 2020); ``band``: the HHI's band
    (:func:`hhi_band`); ``categories``: how many categories had sales; ``most_concentrated``:
    the ``top`` categories by HHI, highest first, among those with at least
    :data:`MIN_CATEGORY_SHARE` of the revenue (a frame of ``category``, ``hhi``, ``band``,
    ``cr4``, ``sellers``, ``revenue``, ``revenue_share``); ``highly_concentrated_share``: the
    share (0-1) of revenue in categories above 1,800. Sales without a category
    (:data:`~stockroom.sales.UNCATEGORISED`) are left out. Values are None without sales."""
    # sales without a category are no market: they are left out of the headline
    per_category = per_category.filter(pl.col("category") != UNCATEGORISED)
    if per_category.is_empty() or not per_category["revenue"].sum():
        return {
            "hhi": None,
            "cr4": None,
            "band": None,
            "categories": 0,
            "most_concentrated": per_category.head(0),
            "highly_concentrated_share": None,
        }
    weight = pl.col("revenue") / pl.col("revenue").sum()
    hhi, cr4, high = per_category.select(
        (weight * pl.col("hhi")).sum().alias("hhi"),
        (weight * pl.col("cr4")).sum().alias("cr4"),
        weight.filter(pl.col("hhi") > HHI_BANDS[1][0]).sum().alias("high"),
    ).row(0)
    most = (
        per_category.filter(pl.col("revenue_share") >= MIN_CATEGORY_SHARE)
        .sort(["hhi", "category"], descending=[True, False])
        .head(top)
        .select(
            "category",
            "category_name",
            "hhi",
            "band",
            "cr4",
            "sellers",
            "revenue",
            "revenue_share",
        )
    )
    return {
        "hhi": hhi,
        "cr4": cr4,
        "band": hhi_band(hhi),
        "categories": per_category.height,
        "most_concentrated": most,
        "highly_concentrated_share": high,
    }


def monthly(
    con: duckdb.DuckDBPyConnection, as_of: date, category: str | None = None
) -> pl.DataFrame:
    """:func:`concentration` per calendar month (UTC) from the first order to ``as_of``.

    Adds ``month`` (Date, first day) and ``complete`` (Boolean: False for the month containing
    ``as_of`` unless ``as_of`` is its last day, and for the month of the first order).
    """
    first, _ = order_days(con)
    if first is None:
        return concentration(
            pl.DataFrame(schema={"month": pl.Date, "seller_id": pl.String, "revenue": pl.Float64}),
            by=("month",),
        ).with_columns(complete=pl.lit(True))
    window = make_window(as_of, None, first)
    frame = concentration(
        sales(con, window, ("month", "seller_id"), category, orders=False), by=("month",)
    )
    return frame.sort("month").with_columns(complete=_complete_month(first, as_of))


#: Months with fewer sellers than this are left out of the trend: the first months of a
#: marketplace (one seller, HHI 10,000) say nothing about concentration and squash the rest.
MIN_MONTH_SELLERS = 10


def monthly_across_categories(con: duckdb.DuckDBPyConnection, as_of: date) -> pl.DataFrame:
    """Per calendar month (UTC) from the first order to ``as_of``, :func:`across_categories`:
    the revenue-weighted mean of the categories' ``hhi`` (Float64, 0-10,000) and ``cr4``
    (Float64, share 0-1), uncategorised sales left out, with ``sellers`` (UInt32, sellers with
    sales in the month, any category), ``revenue`` (Float64), ``month`` (Date) and
    ``complete`` (as in :func:`monthly`).
    """
    first, _ = order_days(con)
    schema = {"month": pl.Date, "category": pl.String, "seller_id": pl.String}
    if first is None:
        frame = pl.DataFrame(schema={**schema, "revenue": pl.Float64})
    else:
        frame = sales(con, make_window(as_of, None, first), tuple(schema), orders=False)
    frame = frame.filter(pl.col("revenue") > 0)
    per_category = concentration(
        frame.filter(pl.col("category") != UNCATEGORISED), by=("month", "category")
    )
    weight = pl.col("revenue") / pl.col("revenue").sum()
    weighted = per_category.group_by("month").agg(
        (weight * pl.col("hhi")).sum().alias("hhi"),
        (weight * pl.col("cr4")).sum().alias("cr4"),
        pl.col("revenue").sum(),
    )
    sellers = frame.group_by("month").agg(pl.col("seller_id").n_unique().alias("sellers"))
    out = weighted.join(sellers, on="month", how="left").sort("month")
    if first is None:
        return out.with_columns(complete=pl.lit(True))
    return out.with_columns(complete=_complete_month(first, as_of))


def _complete_month(first: date, as_of: date) -> pl.Expr:
    month = pl.col("month")
    last_day = month.dt.month_end()
    return (month >= pl.lit(first)) & (last_day <= pl.lit(as_of))


def by_platform(
    con: duckdb.DuckDBPyConnection, window: Window, category: str | None = None
) -> pl.DataFrame:
    """:func:`concentration` per platform in ``window`` (optionally one category), largest
    revenue first, with ``revenue_share`` (Float64, the platform's share 0-1 of the window's
    revenue) and ``band`` (String, :func:`hhi_band`). Sellers are the unified Sellers when the
    data root applies its mapping (:func:`stockroom.sales.sales`)."""
    frame = concentration(
        sales(con, window, ("platform", "seller_id"), category, orders=False), by=("platform",)
    )
    return frame.sort(["revenue", "platform"], descending=[True, False]).with_columns(
        revenue_share=pl.col("revenue") / pl.col("revenue").sum(), band=band_expr()
    )


def seller_accounts(
    con: duckdb.DuckDBPyConnection, window: Window, category: str | None = None
) -> pl.DataFrame:
    """The drill-down behind every Seller: its platform accounts in ``window``, one row per
    (``seller_id``: the Seller, "seller:<key>" when unified; ``platform``;
    ``platform_seller_id``: the platform's own id) with ``seller_name`` (String: the name the
    platform shows, nullable), ``revenue`` (Float64, reporting currency), ``units``,
    ``orders`` (Int64) and ``share_of_seller`` (Float64, share 0-1 of the Seller's revenue).
    Sorted by Seller, then revenue descending."""
    accounts = sales(con, window, ("seller_id", "platform", "platform_seller_id"), category)
    names = con.execute(
        "SELECT DISTINCT platform, seller_id AS platform_seller_id, seller_name FROM sellers"
    ).pl()
    names = names.unique(["platform", "platform_seller_id"], keep="first")
    return (
        accounts.join(names, on=["platform", "platform_seller_id"], how="left")
        .with_columns(share_of_seller=pl.col("revenue") / pl.col("revenue").sum().over("seller_id"))
        .select(
            "seller_id",
            "platform",
            "platform_seller_id",
            "seller_name",
            "revenue",
            "units",
            "orders",
            "share_of_seller",
        )
        .sort(["seller_id", "revenue", "platform"], descending=[False, True, False])
    )


def platform_shares(
    con: duckdb.DuckDBPyConnection, window: Window, category: str | None = None, top: int = 15
) -> pl.DataFrame:
    """Who dominates where: the ``top`` sellers by revenue across platforms, one row each,
    with ``seller_id``, ``seller`` (String, :func:`~stockroom.sales.seller_labels`),
    ``revenue`` (Float64), ``share`` (Float64, share 0-1 of all platforms' revenue), and one
    Float64 column per platform (the platform code, largest platform first): the seller's
    share 0-1 of that platform's revenue (0 where it sold nothing there)."""
    frame = sales(con, window, ("platform", "seller_id"), category, orders=False).filter(
        pl.col("revenue") > 0
    )
    if frame.is_empty():
        return pl.DataFrame(
            schema={
                "seller_id": pl.String,
                "seller": pl.String,
                "revenue": pl.Float64,
                "share": pl.Float64,
            }
        )
    platforms = (
        frame.group_by("platform")
        .agg(pl.col("revenue").sum())
        .sort(["revenue", "platform"], descending=[True, False])["platform"]
        .to_list()
    )
    overall = (
        frame.group_by("seller_id")
        .agg(pl.col("revenue").sum())
        .with_columns(share=share_expr())
        .sort(["revenue", "seller_id"], descending=[True, False])
        .head(top)
    )
    wide = frame.with_columns(platform_share=share_expr(("platform",))).pivot(
        on="platform", index="seller_id", values="platform_share"
    )
    names = seller_labels(con).select("seller_id", "seller")
    return (
        overall.join(wide, on="seller_id", how="left", maintain_order="left")
        .join(names, on="seller_id", how="left", maintain_order="left")
        .with_columns(
            pl.col("seller").fill_null(pl.col("seller_id").str.slice(0, 8) + "…"),
            *[pl.col(p).fill_null(0.0) for p in platforms],
        )
        .select("seller_id", "seller", "revenue", "share", *platforms)
    )
