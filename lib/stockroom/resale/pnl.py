"""Resale P&L: per item, per period, by age, by platform and by category (frames in, out).

Inputs are the ``resale_items`` and ``resale_listings`` shapes (:mod:`stockroom.tables`), from
the snapshot or straight from :mod:`stockroom.resale.repo`. Money is in the rows' currency; a
frame mixing currencies is refused (convert first). Days are calendar days.

Formulas (per item, a sold item has exactly one ``sold`` listing):

* net proceeds = sold price + shipping paid by the buyer - platform fees - actual shipping
* net profit = net proceeds - total cost (the item's share of its lot: hammer + premium + tax
  + shipping, :mod:`stockroom.resale.costs`)
* ROI = net profit / total cost (a share; none when the cost is 0)
* days to sell = sold day - acquired day; days listed = (sold day, else the as-of day) - first
  listed day
* sell-through (a period) = items sold in it / (items sold in it + items unsold at its end),
  the usual retail definition (units sold over units available)
"""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl

#: default aging buckets: upper bounds in days (0-30, 31-60, 61-90, 91-180, 180+)
AGING_BUCKETS = (30, 60, 90, 180)
STATUSES = ("sold", "listed", "not listed")


def _one_currency(items: pl.DataFrame) -> str | None:
    found = items["currency"].unique().drop_nulls().to_list()
    if len(found) > 1:
        raise ValueError(
            f"items are priced in {', '.join(sorted(found))}: resale P&L needs one currency "
            "(convert first)"
        )
    return found[0] if found else None


def item_pnl(items: pl.DataFrame, listings: pl.DataFrame, as_of: date) -> pl.DataFrame:
    """One row per item acquired on or before ``as_of``, with what it made so far.

    Listings started after ``as_of`` are ignored and sales after it count as not yet sold, so
    an old day reads as it was. Columns: the item's (item_id, name, category, subcategory,
    condition, brand, model, size, location, bin, acquired_on, cost, estimated_value,
    currency, flags); ``status`` (sold / listed / not listed); ``platform`` (where it sold, or
    where it is listed: "ebay, etsy", "ebay, shop +1" for more than two); ``platforms``
    (Int32, active listings); list_price
    (lowest active ask); listed_on (first listing day); sold_on, sold_price, buyer_shipping,
    platform_fees, actual_shipping; net_proceeds, net_profit (money); roi (share);
    days_to_sell, days_listed, age_days (Int32 days; age only for unsold items). Raises
    ``ValueError`` for items in more than one currency.
    """
    _one_currency(items)
    day = pl.lit(as_of, pl.Date)
    live = items.filter(pl.col("acquired_on") <= day)
    started = listings.filter(pl.col("listed_on").is_null() | (pl.col("listed_on") <= day))
    sold_now = (pl.col("status") == "sold") & (pl.col("sold_on") <= day)
    # live on the day: listed now, or sold / ended after it
    active_now = (
        (pl.col("status") == "listed")
        | ((pl.col("status") == "sold") & (pl.col("sold_on") > day))
        | ((pl.col("status") == "expired") & (pl.col("ended_on") > day))
    )
    sales = started.filter(sold_now).select(
        "item_id",
        pl.col("platform").alias("sold_platform"),
        "sold_on",
        "sold_price",
        pl.col("buyer_shipping").fill_null(0.0),
        pl.col("platform_fees").fill_null(0.0),
        pl.col("actual_shipping").fill_null(0.0),
    )
    per_item = started.group_by("item_id").agg(
        pl.col("listed_on").min().alias("listed_on"),
        # min and max instead of a per-group string join (ten times faster on a million)
        pl.col("platform").filter(active_now).min().alias("_first"),
        pl.col("platform").filter(active_now).max().alias("_last"),
        active_now.sum().cast(pl.Int32).alias("platforms"),
        pl.col("list_price").filter(active_now).min().alias("list_price"),
    )
    per_item = per_item.with_columns(
        pl.when(pl.col("platforms") <= 1)
        .then(pl.col("_first"))
        .when(pl.col("platforms") == 2)
        .then(pl.concat_str("_first", pl.lit(", "), "_last"))
        .otherwise(
            pl.concat_str(
                "_first",
                pl.lit(", "),
                "_last",
                pl.lit(" +"),
                (pl.col("platforms") - 2).cast(pl.String),
            )
        )
        .alias("active_platforms")
    ).drop("_first", "_last")
    frame = live.join(per_item, on="item_id", how="left").join(sales, on="item_id", how="left")
    sold = pl.col("sold_on").is_not_null()
    proceeds = (
        pl.col("sold_price")
        + pl.col("buyer_shipping")
        - pl.col("platform_fees")
        - pl.col("actual_shipping")
    )
    return frame.with_columns(
        pl.when(sold)
        .then(pl.lit("sold"))
        .when(pl.col("platforms").fill_null(0) > 0)
        .then(pl.lit("listed"))
        .otherwise(pl.lit("not listed"))
        .alias("status"),
        pl.when(sold)
        .then(pl.col("sold_platform"))
        .otherwise(pl.col("active_platforms"))
        .alias("platform"),
        pl.col("platforms").fill_null(0),
        proceeds.round(2).alias("net_proceeds"),
        (proceeds - pl.col("cost")).round(2).alias("net_profit"),
        pl.when(pl.col("cost") > 0).then((proceeds - pl.col("cost")) / pl.col("cost")).alias("roi"),
        (pl.col("sold_on") - pl.col("acquired_on"))
        .dt.total_days()
        .cast(pl.Int32)
        .alias("days_to_sell"),
        (pl.coalesce("sold_on", day) - pl.col("listed_on"))
        .dt.total_days()
        .cast(pl.Int32)
        .alias("days_listed"),
        pl.when(sold)
        .then(None)
        .otherwise((day - pl.col("acquired_on")).dt.total_days())
        .cast(pl.Int32)
        .alias("age_days"),
    ).drop("sold_platform", "active_platforms")


def _period_metrics(pnl: pl.DataFrame, start: date, end: date) -> dict[str, float | int | None]:
    """The summary's metrics for ``start``..``end`` from an :func:`item_pnl` frame computed
    as of ``end`` or later (what was on hand at ``end`` is read from the dates)."""
    sold = pl.col("sold_on").is_between(start, end)
    on_hand = (pl.col("acquired_on") <= end) & (
        pl.col("sold_on").is_null() | (pl.col("sold_on") > end)
    )
    row = pnl.select(
        on_hand.sum().alias("items"),
        pl.col("cost").filter(pl.col("acquired_on").is_between(start, end)).sum().alias("invested"),
        pl.col("cost").filter(on_hand).sum().alias("tied_up"),
        pl.col("listed_on").is_between(start, end).sum().alias("listed"),
        sold.sum().alias("sold"),
        (pl.col("sold_price") + pl.col("buyer_shipping")).filter(sold).sum().alias("revenue"),
        pl.col("platform_fees").filter(sold).sum().alias("fees"),
        pl.col("net_profit").filter(sold).sum().alias("profit"),
        pl.col("roi").filter(sold).mean().alias("avg_roi"),
        pl.col("cost").filter(sold).sum().alias("_cost_sold"),
        pl.col("days_to_sell").filter(sold).mean().alias("avg_days_to_sell"),
    ).row(0, named=True)
    n_sold, n_hand, cost_sold = row["sold"], row["items"], row.pop("_cost_sold")
    for key in ("invested", "tied_up", "revenue", "fees", "profit"):
        row[key] = round(row[key], 2)
    row["roi"] = row["profit"] / cost_sold if cost_sold else None
    row["sell_through"] = n_sold / (n_sold + n_hand) if n_sold + n_hand else None
    return row


#: the summary's rows: metric, what it means, unit (count / money / share / days)
SUMMARY_METRICS = (
    ("items", "Items on hand (unsold) at the period's end", "count"),
    ("invested", "Cost of the items acquired in the period", "money"),
    ("tied_up", "Cost of the unsold items at the period's end", "money"),
    ("listed", "Items first listed in the period", "count"),
    ("sold", "Items sold in the period", "count"),
    ("revenue", "Sold price + shipping paid by buyers", "money"),
    ("fees", "Platform fees on those sales", "money"),
    ("profit", "Net profit of the items sold", "money"),
    ("avg_roi", "Average ROI of the items sold (mean of item ROIs)", "share"),
    ("roi", "Profit / cost of the items sold", "share"),
    ("avg_days_to_sell", "Average days from acquisition to sale", "days"),
    ("sell_through", "Sold / (sold + unsold at the end)", "share"),
)


def summary(pnl: pl.DataFrame, start: date, end: date) -> pl.DataFrame:
    """The dashboard: each metric for the period ``start``..``end`` (inclusive) against the
    previous period of the same length (ending the day before ``start``), both read from
    ``pnl`` (:func:`item_pnl` as of ``end`` or later).

    Returns one row per :data:`SUMMARY_METRICS` entry: metric, label, unit, current,
    previous (Float64; None where undefined, e.g. no sales), change (current - previous),
    currency. Raises ``ValueError`` when ``end`` is before ``start``.
    """
    if end < start:
        raise ValueError(f"the period ends ({end}) before it starts ({start})")
    length = (end - start).days + 1
    prev_end = start - timedelta(days=1)
    prev_start = prev_end - timedelta(days=length - 1)
    now = _period_metrics(pnl, start, end)
    before = _period_metrics(pnl, prev_start, prev_end)
    currency = _one_currency(pnl)
    rows = []
    for metric, label, unit in SUMMARY_METRICS:
        cur, prev = now[metric], before[metric]
        rows.append(
            {
                "metric": metric,
                "label": label,
                "unit": unit,
                "current": None if cur is None else float(cur),
                "previous": None if prev is None else float(prev),
                "change": None if cur is None or prev is None else float(cur) - float(prev),
                "currency": currency,
            }
        )
    return pl.DataFrame(
        rows,
        schema={
            "metric": pl.String,
            "label": pl.String,
            "unit": pl.String,
            "current": pl.Float64,
            "previous": pl.Float64,
            "change": pl.Float64,
            "currency": pl.String,
        },
    )


def bucket_labels(buckets: tuple[int, ...] = AGING_BUCKETS) -> list[str]:
    """``(30, 60)`` -> ``["0-30 d", "31-60 d", "60+ d"]``: the label of each age bucket."""
    edges = sorted(buckets)
    if not edges or edges[0] < 1 or len(set(edges)) != len(edges):
        raise ValueError(f"aging buckets must be distinct days >= 1, not {buckets}")
    lows = [0, *[b + 1 for b in edges[:-1]]]
    return [f"{lo}-{hi} d" for lo, hi in zip(lows, edges, strict=True)] + [f"{edges[-1]}+ d"]


def aging(pnl: pl.DataFrame, buckets: tuple[int, ...] = AGING_BUCKETS) -> pl.DataFrame:
    """Unsold items by age (days since acquisition) in ``buckets`` (upper bounds, days):
    bucket (label, oldest last), items (Int64), cost (money tied up), estimated_value
    (money, where known), share_of_cost (0-1), listed (items of the bucket listed
    somewhere). Every bucket appears, empty ones with zeros."""
    labels = bucket_labels(buckets)
    edges = sorted(buckets)
    unsold = pnl.filter(pl.col("status") != "sold")
    banded = unsold.with_columns(
        pl.col("age_days")
        .cut(edges, labels=labels, left_closed=False)
        .cast(pl.String)
        .alias("bucket")
    )
    grouped = banded.group_by("bucket").agg(
        pl.len().cast(pl.Int64).alias("items"),
        pl.col("cost").sum().round(2).alias("cost"),
        pl.col("estimated_value").sum().round(2).alias("estimated_value"),
        (pl.col("status") == "listed").sum().cast(pl.Int64).alias("listed"),
    )
    total = unsold["cost"].sum()
    return (
        pl.DataFrame({"bucket": labels})
        .join(grouped, on="bucket", how="left")
        .with_columns(
            pl.col("items", "listed").fill_null(0),
            pl.col("cost", "estimated_value").fill_null(0.0),
        )
        .with_columns((pl.col("cost") / total if total else pl.lit(0.0)).alias("share_of_cost"))
        .select("bucket", "items", "cost", "estimated_value", "share_of_cost", "listed")
    )


def crossed(pnl: pl.DataFrame, days: int) -> pl.DataFrame:
    """Unsold items older than ``days`` (the bucket boundary the seller chose for an alert):
    item_id, name, location, bin, age_days, cost, status; oldest first."""
    return (
        pnl.filter((pl.col("status") != "sold") & (pl.col("age_days") > days))
        .select("item_id", "name", "location", "bin", "age_days", "cost", "status")
        .sort("age_days", "item_id", descending=[True, False])
    )


def performance(
    pnl: pl.DataFrame,
    listings: pl.DataFrame,
    by: str,
    end: date,
    start: date | None = None,
) -> pl.DataFrame:
    """Platform profitability (``by="platform"``) or category performance
    (``by="category"``) for the period ``start``..``end`` (no ``start``: everything up to
    ``end``); ``pnl`` is :func:`item_pnl` as of ``end``.

    One row per platform / category: listed (items with a listing started in the period),
    sold (items sold in the period), revenue (sold price + buyer shipping), avg_sale_price,
    fees, conversion (share of the items listed in the period that have sold, 0-1), profit
    (net profit of the items sold), roi (profit / their cost), avg_days_to_sell; sorted by
    profit, highest first. Raises ``ValueError`` for another ``by``.
    """
    if by not in ("platform", "category"):
        raise ValueError(f"by must be 'platform' or 'category', not {by!r}")
    lo = pl.lit(start or date(1, 1, 1), pl.Date)
    hi = pl.lit(end, pl.Date)
    known = pnl.select("item_id", "category", "cost", "net_profit", "days_to_sell", "sold_on")
    rows = listings.join(known, on="item_id", suffix="_item")
    sold_here = (
        (pl.col("status") == "sold")
        & pl.col("sold_on").is_not_null()
        & (pl.col("sold_on") == pl.col("sold_on_item"))
    )
    in_period = pl.col("sold_on").is_between(lo, hi) & sold_here
    listed_in = pl.col("listed_on").is_between(lo, hi)
    key = pl.col(by).fill_null("(none)")
    out = (
        rows.with_columns(key.alias(by))
        .group_by(by)
        .agg(
            pl.col("item_id").filter(listed_in).n_unique().alias("listed"),
            pl.col("item_id").filter(in_period).n_unique().alias("sold"),
            (pl.col("sold_price") + pl.col("buyer_shipping").fill_null(0.0))
            .filter(in_period)
            .sum()
            .round(2)
            .alias("revenue"),
            pl.col("sold_price").filter(in_period).mean().round(2).alias("avg_sale_price"),
            pl.col("platform_fees").filter(in_period).sum().round(2).alias("fees"),
            pl.col("item_id").filter(listed_in & sold_here).n_unique().alias("_converted"),
            pl.col("net_profit").filter(in_period).sum().round(2).alias("profit"),
            pl.col("cost").filter(in_period).sum().alias("_cost"),
            pl.col("days_to_sell").filter(in_period).mean().alias("avg_days_to_sell"),
        )
        .with_columns(
            pl.when(pl.col("listed") > 0)
            .then(pl.col("_converted") / pl.col("listed"))
            .alias("conversion"),
            pl.when(pl.col("_cost") > 0).then(pl.col("profit") / pl.col("_cost")).alias("roi"),
        )
    )
    return out.select(
        by,
        pl.col("listed").cast(pl.Int64),
        pl.col("sold").cast(pl.Int64),
        "revenue",
        "avg_sale_price",
        "fees",
        "conversion",
        "profit",
        "roi",
        "avg_days_to_sell",
    ).sort(["profit", by], descending=[True, False], nulls_last=True)


def display(value: float | None, unit: str, currency: str | None = None, sign: bool = False) -> str:
    """A summary value as people read it: counts whole, money with two decimals and the
    currency, shares as percentages (a change of a share in percentage points), days with
    one decimal; a dash for none."""
    if value is None:
        return "–"
    plus = "+" if sign else ""
    if unit == "count":
        return f"{value:{plus},.0f}"
    if unit == "money":
        return f"{value:{plus},.2f}" + (f" {currency}" if currency else "")
    if unit == "share":
        return f"{value * 100:{plus}.1f} pp" if sign else f"{value:.1%}"
    return f"{value:{plus},.1f} d"


def summary_text(frame: pl.DataFrame) -> pl.DataFrame:
    """A :func:`summary` frame as text for a table: Metric, This period, Previous, Change."""
    rows = [
        {
            "Metric": r["label"],
            "This period": display(r["current"], r["unit"], r["currency"]),
            "Previous": display(r["previous"], r["unit"], r["currency"]),
            "Change": display(r["change"], r["unit"], None, sign=True),
        }
        for r in frame.iter_rows(named=True)
    ]
    return pl.DataFrame(
        rows, schema=dict.fromkeys(("Metric", "This period", "Previous", "Change"), pl.String)
    )


def profit_by(pnl: pl.DataFrame, by: str | list[str]) -> pl.DataFrame:
    """The sold items of an :func:`item_pnl` frame grouped by ``by`` (e.g. brand, model,
    size): sold (Int64), revenue, profit (money), roi (profit / cost, share), median_roi
    (share), median_days_to_sell (days); most profit first."""
    keys = [by] if isinstance(by, str) else list(by)
    sold = pnl.filter(pl.col("status") == "sold")
    return (
        sold.group_by(keys)
        .agg(
            pl.len().cast(pl.Int64).alias("sold"),
            (pl.col("sold_price") + pl.col("buyer_shipping")).sum().round(2).alias("revenue"),
            pl.col("net_profit").sum().round(2).alias("profit"),
            (pl.col("net_profit").sum() / pl.col("cost").sum()).alias("roi"),
            pl.col("roi").median().alias("median_roi"),
            pl.col("days_to_sell").median().alias("median_days_to_sell"),
        )
        .sort(["profit", *keys], descending=[True, *[False] * len(keys)])
    )


def distribution(
    values: pl.Series, quantiles: tuple[float, ...] = (0.1, 0.25, 0.5, 0.75, 0.9)
) -> dict[str, float | None]:
    """``values``' count, mean and quantiles (``p10`` ... ``p90``), nulls left out."""
    v = values.drop_nulls()
    out: dict[str, float | None] = {"count": float(v.len()), "mean": v.mean()}
    for q in quantiles:
        out[f"p{round(q * 100)}"] = v.quantile(q, "linear") if v.len() else None
    return out
