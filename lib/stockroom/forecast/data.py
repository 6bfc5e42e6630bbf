"""Sales panels for forecasting: load any long file of daily unit sales, detect its columns,
zero-fill, and lay it out as a dense series x day matrix.

Column detection (override any of them): id -- ``item_id`` + ``store_id`` joined with ``_`` when
both exist, else ``id`` / ``sku`` / ``StockCode``; date -- ``date`` or the first date column;
target -- ``units`` / ``value`` / ``quantity`` / ``sales``; price -- ``price`` / ``sell_price`` /
``unit_price``; category -- ``cat_id`` / ``category`` / ``dept_id``; events -- ``event_name_1``;
promo -- ``promo``; snap -- ``snap``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl

from stockroom.errors import InputError, InputProblem


def _first(columns: list[str], *names: str) -> str | None:
    lower = {c.lower(): c for c in columns}
    return next((lower[n.lower()] for n in names if n.lower() in lower), None)


def load_sales(
    path: Path,
    *,
    id_col: str | None = None,
    date_col: str | None = None,
    target: str | None = None,
    price: str | None = None,
) -> pl.DataFrame:
    """Read a Parquet/CSV of daily sales into the canonical long shape.

    Returns: id (str), date (Date), units (float), price (float, null = not on sale),
    category (str), event (bool: a holiday/event that day), promo (bool), snap (bool), plus the
    source's hierarchy columns (item_id, store_id, state_id, cat_id, dept_id) when present.
    Raises :class:`InputError` naming the file and the column that could not be found.
    """
    frame = (
        pl.read_parquet(path)
        if str(path).endswith(".parquet")
        else pl.read_csv(path, try_parse_dates=True)
    )
    cols = frame.columns
    problems = []
    if id_col is None and {"item_id", "store_id"} <= set(cols):
        ident = pl.concat_str("item_id", pl.lit("_"), "store_id")
    else:
        id_col = id_col or _first(cols, "id", "sku", "StockCode", "item_id")
        ident = pl.col(id_col).cast(pl.String) if id_col else None
        if id_col is None:
            problems.append("id (--id)")
    date_col = (
        date_col
        or _first(cols, "date")
        or next((c for c, t in frame.schema.items() if t in (pl.Date, pl.Datetime)), None)
    )
    target = target or _first(cols, "units", "value", "quantity", "sales")
    price = price or _first(cols, "price", "sell_price", "unit_price")
    if date_col is None:
        problems.append("date (--date)")
    if target is None:
        problems.append("target (--target)")
    if problems:
        raise InputError([InputProblem(str(path), None, p, "column not found") for p in problems])
    category = _first(cols, "cat_id", "category", "dept_id")
    event = _first(cols, "event_name_1")
    out = frame.select(
        ident.alias("id"),
        pl.col(date_col).cast(pl.Date).alias("date"),
        pl.col(target).cast(pl.Float64).alias("units"),
        (pl.col(price).cast(pl.Float64) if price else pl.lit(None, pl.Float64)).alias("price"),
        (pl.col(category).cast(pl.String) if category else pl.lit("all")).alias("category"),
        ((pl.col(event).fill_null("") != "") if event else pl.lit(False)).alias("event"),
        (pl.col("promo").cast(pl.Boolean) if "promo" in cols else pl.lit(False)).alias("promo"),
        (pl.col("snap").cast(pl.Boolean) if "snap" in cols else pl.lit(False)).alias("snap"),
        *[
            pl.col(c).cast(pl.String)
            for c in ("item_id", "store_id", "state_id", "cat_id", "dept_id")
            if c in cols
        ],
    )
    return (
        out.group_by("id", "date", maintain_order=True)
        .agg(pl.col("units").sum(), pl.exclude("units").first())
        .sort("id", "date")
    )


def from_transactions(path: Path) -> pl.DataFrame:
    """Online Retail-style transactions (StockCode, Quantity, InvoiceDate, UnitPrice,
    InvoiceNo) as daily units per StockCode, in :func:`load_sales`'s shape. Cancellations
    (InvoiceNo starting with C) and non-positive quantities are left out; price = the day's
    median unit price (GBP)."""
    tx = pl.read_parquet(path)
    return (
        tx.filter(
            ~pl.col("InvoiceNo").cast(pl.String).str.starts_with("C")
            & (pl.col("Quantity") > 0)
            & (pl.col("UnitPrice") > 0)
        )
        .group_by(
            pl.col("StockCode").cast(pl.String).alias("id"),
            pl.col("InvoiceDate").dt.date().alias("date"),
        )
        .agg(
            pl.col("Quantity").sum().cast(pl.Float64).alias("units"),
            pl.col("UnitPrice").median().alias("price"),
        )
        .with_columns(
            pl.lit("all").alias("category"),
            pl.lit(False).alias("event"),
            pl.lit(False).alias("promo"),
            pl.lit(False).alias("snap"),
        )
        .sort("id", "date")
    )


#: Olist order statuses that are not a sale.
OLIST_NOT_SOLD = ("canceled", "unavailable")


def from_olist(directory: Path, min_sale_days: int = 10) -> pl.DataFrame:
    """Olist marketplace orders (a directory with ``order_items*.parquet``,
    ``orders*.parquet`` and ``products.parquet``, as in ``../shared/data/olist``) as daily
    units per product, in :func:`load_sales`'s shape: one unit per order item, dated by the
    purchase day, cancelled and unavailable orders left out; price = the day's median item
    price (BRL); category = the Portuguese category name. Only products with at least
    ``min_sale_days`` days with a sale are kept (most Olist products sell once: nothing to
    forecast). Raises :class:`InputError` naming the directory when a file is missing."""
    directory = Path(directory)

    def one(stem: str) -> Path:
        found = sorted(directory.glob(f"{stem}*.parquet"))
        if not found:
            raise InputError([InputProblem(str(directory), None, f"{stem}*.parquet", "missing")])
        return found[0]

    items = pl.read_parquet(one("order_items"))
    orders = pl.read_parquet(one("orders"))
    products = pl.read_parquet(one("products")).select(
        "product_id", pl.col("product_category_name").fill_null("uncategorised")
    )
    daily = (
        items.join(orders, on="order_id")
        .filter(~pl.col("order_status").is_in(OLIST_NOT_SOLD))
        .group_by(
            pl.col("product_id").alias("id"),
            pl.col("order_purchase_timestamp").dt.date().alias("date"),
        )
        .agg(pl.len().cast(pl.Float64).alias("units"), pl.col("price").median())
    )
    keep = daily.group_by("id").agg(pl.len().alias("n")).filter(pl.col("n") >= min_sale_days)
    return (
        daily.join(keep.select("id"), on="id")
        .join(products, left_on="id", right_on="product_id", how="left")
        .select(
            "id",
            "date",
            "units",
            "price",
            pl.col("product_category_name").fill_null("uncategorised").alias("category"),
            pl.lit(False).alias("event"),
            pl.lit(False).alias("promo"),
            pl.lit(False).alias("snap"),
        )
        .sort("id", "date")
    )


@dataclass
class Panel:
    """Dense daily panel. ``y``: units (float, n_series x n_days; NaN before a series'
    first sale); ``price``: forward-filled price (NaN unknown); ``event``/``promo``/``snap``:
    per-day (n_days,) or per-series-day flags; ``dates``: the days; ``ids``; ``category``
    codes per series; ``first``: index of each series' first sale. ``censored`` (bool,
    n_series x n_days, or None): days that started with nothing available -- their sales are
    not the demand (see :func:`unconstrain`)."""

    ids: list[str]
    dates: list[date]
    y: np.ndarray
    price: np.ndarray
    event: np.ndarray
    promo: np.ndarray
    snap: np.ndarray
    category: np.ndarray
    categories: list[str]
    first: np.ndarray
    attrs: pl.DataFrame
    censored: np.ndarray | None = None


def panel(sales: pl.DataFrame) -> Panel:
    """Lay ``sales`` (from :func:`load_sales`) out as a :class:`Panel`, zero-filling the days
    between a series' first sale and the last day of the data."""
    sales = sales.group_by("id", "date").agg(
        pl.col("units").sum(), pl.exclude("units").drop_nulls().first()
    )
    ids = sales["id"].unique().sort().to_list()
    start, end = sales["date"].min(), sales["date"].max()
    dates = pl.date_range(start, end, "1d", eager=True)
    grid = pl.DataFrame({"id": ids}).join(pl.DataFrame({"date": dates}), how="cross")
    full = grid.join(sales, on=["id", "date"], how="left").sort("id", "date")
    n, d = len(ids), len(dates)
    y = full["units"].fill_null(0.0).to_numpy().reshape(n, d).copy()
    first = np.argmax(y > 0, axis=1)
    first[(y > 0).sum(axis=1) == 0] = d
    y[np.arange(d)[None, :] < first[:, None]] = np.nan
    price = (
        full.with_columns(pl.col("price").forward_fill().backward_fill().over("id"))["price"]
        .to_numpy()
        .reshape(n, d)
    )
    per_day = full.group_by("date").agg(pl.col("event").any()).sort("date")
    attrs = (
        sales.group_by("id")
        .agg(pl.exclude("date", "units", "price", "event", "promo", "snap").first())
        .sort("id")
    )
    cats = attrs["category"].to_list()
    categories = sorted(set(cats))
    return Panel(
        ids,
        dates.to_list(),
        y,
        price,
        per_day["event"].to_numpy(),
        full["promo"].fill_null(False).to_numpy().reshape(n, d),
        full["snap"].fill_null(False).to_numpy().reshape(n, d),
        np.array([categories.index(c) for c in cats]),
        categories,
        first,
        attrs,
    )


def with_promos(p: Panel, calendar: pl.DataFrame, horizon: int) -> Panel:
    """``p`` with promo flags (n_series x days + ``horizon``, bool) from ``calendar`` (sku,
    date; one row per promo day) over the panel's days plus the horizon; rows for unknown
    SKUs or days outside that range are ignored."""
    n, d = p.y.shape
    flags = np.zeros((n, d + horizon), dtype=bool)
    index = {s: i for i, s in enumerate(p.ids)}
    start = p.dates[0]
    for sku, day in calendar.iter_rows():
        k = (day - start).days
        if sku in index and 0 <= k < d + horizon:
            flags[index[sku], k] = True
    return replace(p, promo=flags)


#: Days before a stock-out whose uncensored sales estimate the demand during it.
UNCONSTRAIN_DAYS = 28


def observed(p: Panel, start: int, stop: int) -> np.ndarray:
    """Units of days ``start`` .. ``stop - 1`` (n_series x days, float) as observed demand:
    NaN before a series' first sale and on censored days (nothing available: what sold is
    not what was wanted). Training labels, calibration errors and backtest scores use this,
    so a stock-out is never learnt or scored as a day of no demand."""
    y = p.y[:, start:stop]
    if p.censored is None:
        return y
    return np.where(p.censored[:, start:stop], np.nan, y)


def unconstrain(p: Panel, censored: np.ndarray, window: int = UNCONSTRAIN_DAYS) -> Panel:
    """``p`` with stock-out days treated as censored demand: ``censored`` (bool, n_series x
    n_days) marks the days that started with nothing available. On those days the units
    become max(units sold, the mean of the series' uncensored days among the ``window``
    days before the stock-out began) -- the averaging method of demand unconstraining
    (Weatherford & Poelt, *Better unconstraining of airline demand data in revenue management
    systems*, J. Revenue & Pricing Mgmt 1(3), 2002) -- so lags, rolling means, the baselines
    and the dormant rule read demand, not an empty shelf. A stock-out with no uncensored day
    in the window before it keeps what was sold. The mask is kept (``Panel.censored``) and
    :func:`observed` leaves those days out of training labels and scores. Returns a new
    panel; ``p`` is not changed. Raises ValueError when the mask's shape is not ``p.y``'s."""
    censored = np.asarray(censored, dtype=bool)
    if censored.shape != p.y.shape:
        raise ValueError(f"censored mask is {censored.shape}, the panel {p.y.shape}")
    n, d = p.y.shape
    seen = ~censored & ~np.isnan(p.y)
    units = np.where(seen, p.y, 0.0)
    total = np.concatenate([np.zeros((n, 1)), np.cumsum(units, axis=1)], axis=1)
    count = np.concatenate([np.zeros((n, 1)), np.cumsum(seen, axis=1)], axis=1)
    # the first day of the stock-out run each day belongs to (a day that is not censored is
    # its own start): one after the last uncensored day before it
    days = np.arange(d)
    start = np.maximum.accumulate(np.where(~censored, days[None, :], -1), axis=1)
    start = np.where(censored, start + 1, days[None, :])
    lo = np.maximum(start - window, 0)
    rows = np.arange(n)[:, None]
    sold = total[rows, start] - total[rows, lo]
    had = count[rows, start] - count[rows, lo]
    with np.errstate(invalid="ignore", divide="ignore"):
        estimate = np.where(had > 0, sold / had, np.nan)
    fill = censored & ~np.isnan(estimate) & ~np.isnan(p.y)
    y = np.where(fill, np.fmax(p.y, estimate), p.y)
    return replace(p, y=y, censored=censored)
