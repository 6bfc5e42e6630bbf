"""Sales in a window, aggregated in DuckDB: the common input of concentration and supply.

A *window* is ``window_days`` whole UTC days ending on ``as_of`` inclusive:
``[as_of + 1 day - window_days, as_of + 1 day)``. ``window_days=None`` means the whole history
(from the first order day). Sales exclude lines whose status is in
``stockroom.tables.NON_SALE_STATUSES``; revenue is ``quantity * unit_price`` (freight
excluded) in the orders' currency, or in the data root's reporting currency at the ECB rate of
each line's day (:mod:`stockroom.fx`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from importlib import resources

import duckdb
import polars as pl
import polars.selectors as cs

from stockroom.errors import StockroomError
from stockroom.fx import MixedCurrencyError, Reporting
from stockroom.tables import NON_SALE_STATUSES

UNCATEGORISED = "(uncategorised)"
GROUP_KEYS = (
    "seller_id",
    "sku",
    "category",
    "month",
    "platform",
    "platform_seller_id",
    "platform_sku",
)


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
    others String), ``units`` (Int64), ``revenue`` (Float64: in the reporting currency,
    each line converted at the ECB rate of its day, when the data root sets one (see
    :func:`reporting`), else in the orders' own currency), ``orders``
    (Int64, distinct order ids; left out with ``orders=False``, which saves the distinct count)
    and ``lines`` (Int64). Sorted by revenue, descending, then keys.

    Raises :class:`~stockroom.fx.MixedCurrencyError` when, without a reporting currency, the
    window's sales are in more than one currency, and :class:`StockroomError` when a line's
    currency has no rate on or before its day.
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
    lines = sql("sales_lines").format(**_line_parts(con, category is not None or "category" in by))
    if category is not None or "category" in by:
        params["uncategorised"] = UNCATEGORISED
    target = reporting(con)
    if target is None:  # the orders' own currency: the groups' currencies are checked below
        guard = "min(currency) AS _currency_min, max(currency) AS _currency_max"
    else:  # each line at the ECB rate of its day (stockroom.fx), checked below
        params["to"] = target.currency
        lines = (
            "SELECT l.* REPLACE (CASE WHEN l.currency = $to THEN l.revenue "
            "ELSE l.revenue * f.factor END AS revenue), "
            "l.currency <> $to AND f.factor IS NULL AS _no_rate "
            f"FROM ({lines}) AS l ASOF LEFT JOIN fx_factors AS f "
            "ON f.currency = l.currency AND CAST(l.order_ts AS DATE) >= f.day"
        )
        guard = (
            "min(currency) FILTER (WHERE _no_rate) AS _no_rate_currency, "
            "min(CAST(order_ts AS DATE)) FILTER (WHERE _no_rate) AS _no_rate_day"
        )
    query = (
        f"SELECT {keys + ',' if keys else ''} CAST(sum(units) AS BIGINT) AS units, "
        "sum(revenue) AS revenue, "
        f"{'CAST(count(DISTINCT order_id) AS BIGINT) AS orders, ' if orders else ''}"
        f"CAST(count(*) AS BIGINT) AS lines, {guard} FROM ({lines}) "
        f"{'GROUP BY ' + keys if keys else ''}"
    )
    frame = con.execute(query, params).pl()
    if not keys:
        frame = frame.filter(pl.col("lines") > 0)
    check_currencies(frame, f"the orders of {window.label()}", "revenue")
    return frame.drop(cs.starts_with("_")).sort(
        [pl.col("revenue"), *by], descending=[True] + [False] * len(by), nulls_last=True
    )


def mapping_parts(con: duckdb.DuckDBPyConnection, alias: str) -> dict[str, str]:
    """SQL fragments that put a row of ``alias`` (a table with ``platform``, ``seller_id``
    and ``sku``: orders, listings) on the unified Seller and catalog product when the
    connection applies a mapping (:func:`stockroom.db.connect`: ``seller_map``, ``sku_map``):
    ``seller``, ``sku`` (expressions), ``seller_mapped``, ``sku_mapped`` (booleans) and
    ``mapping`` (the joins; empty without a mapping, where the expressions are the row's own
    ids)."""
    mapped = con.execute("SELECT mapping FROM analytics").fetchone()[0]
    if not mapped:
        return {
            "seller": f"{alias}.seller_id",
            "sku": f"{alias}.sku",
            "seller_mapped": "false",
            "sku_mapped": "false",
            "mapping": "",
        }
    return {
        "seller": f"COALESCE(sm.unified_id, {alias}.seller_id)",
        "sku": f"COALESCE(km.product_sku, {alias}.sku)",
        "seller_mapped": "sm.unified_id IS NOT NULL",
        "sku_mapped": "km.product_sku IS NOT NULL",
        "mapping": f"LEFT JOIN seller_map AS sm ON sm.platform = {alias}.platform AND "
        f"sm.seller_id = {alias}.seller_id LEFT JOIN sku_map AS km ON km.platform = "
        f"{alias}.platform AND km.external_sku = {alias}.sku",
    }


def _line_parts(con: duckdb.DuckDBPyConnection, need_category: bool) -> dict[str, str]:
    """The ``sales_lines.sql`` placeholders: the mapping joins (:func:`mapping_parts`), the
    catalog join only when a category is needed (so other queries never read the catalog)."""
    parts = mapping_parts(con, "o") | {"category": "CAST(NULL AS VARCHAR)", "products": ""}
    if need_category:
        parts |= {
            "category": "COALESCE(p.category, $uncategorised)",
            "products": f"LEFT JOIN products AS p ON p.sku = {parts['sku']}",
        }
    return parts


def mapping_coverage(con: duckdb.DuckDBPyConnection, window: Window) -> dict:
    """How much of ``window``'s revenue the mapping covers: ``mapping`` (bool, whether the data
    root applies one), ``seller_share`` and ``product_share`` (Float64, share 0-1 of revenue
    on lines whose platform seller id maps to a Seller / whose platform SKU maps to a catalog
    product; None without sales), ``revenue`` (Float64)."""
    params = {"start": window.start, "end": window.end, "non_sale": list(NON_SALE_STATUSES)}
    params["category"] = None
    lines = sql("sales_lines").format(**_line_parts(con, False))
    row = con.execute(
        "SELECT sum(revenue), sum(revenue) FILTER (WHERE seller_mapped), "
        f"sum(revenue) FILTER (WHERE sku_mapped) FROM ({lines})",
        params,
    ).fetchone()
    mapped = con.execute("SELECT mapping FROM analytics").fetchone()[0]
    total, sellers_, products_ = row
    if not total:
        return {"mapping": mapped, "seller_share": None, "product_share": None, "revenue": 0.0}
    return {
        "mapping": mapped,
        "seller_share": (sellers_ or 0.0) / total,
        "product_share": (products_ or 0.0) / total,
        "revenue": total,
    }


def check_currencies(frame: pl.DataFrame, subject: str, amount: str) -> None:
    """Refuse a sum across currencies or an amount without a rate, from the guard columns of an
    aggregate: ``_currency_min`` and ``_currency_max`` (amounts in their own currency) or
    ``_no_rate_currency`` and ``_no_rate_day`` (amounts converted to the reporting
    currency). ``subject`` names the rows ("the orders of ..."), ``amount`` what is summed.

    Raises :class:`~stockroom.fx.MixedCurrencyError` or :class:`StockroomError`."""
    if "_currency_min" in frame.columns:
        found = pl.concat([frame["_currency_min"], frame["_currency_max"]]).drop_nulls().unique()
        if found.len() > 1:
            raise MixedCurrencyError(
                f"{subject} are in {', '.join(found.sort())}: {amount} cannot be summed across "
                'currencies. Set reporting_currency (e.g. "EUR") in stockroom.toml to convert '
                "them at the ECB reference rates."
            )
    elif frame["_no_rate_currency"].drop_nulls().len():
        row = frame.filter(pl.col("_no_rate_currency").is_not_null()).row(0, named=True)
        raise StockroomError(
            f"no ECB reference rate for {row['_no_rate_currency']} on or before "
            f"{row['_no_rate_day']}: `stockroom ingest fx-rates` lands the current rates"
        )


def reporting(con: duckdb.DuckDBPyConnection) -> Reporting | None:
    """The connection's reporting currency and the rates behind it (:mod:`stockroom.fx`), or
    None when amounts stay in the orders' own currency."""
    currency, rates_to, source = con.execute(
        "SELECT currency, rates_to, source FROM reporting"
    ).fetchone()
    return Reporting(currency, rates_to, source) if currency else None


def categories(con: duckdb.DuckDBPyConnection, window: Window) -> list[str]:
    """Categories with sales in ``window``, largest revenue first."""
    return sales(con, window, ("category",))["category"].to_list()


def currencies(con: duckdb.DuckDBPyConnection) -> str:
    """The currency amounts are reported in: the reporting currency when one is set, else
    the orders' currencies joined by ``/`` (e.g. ``BRL``), or ``-`` when there are none."""
    target = reporting(con)
    if target is not None:
        return target.currency
    rows = con.execute("SELECT DISTINCT currency FROM orders ORDER BY 1").fetchall()
    return "/".join(r[0] for r in rows) or "-"


def seller_labels(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """One row per seller id :func:`sales` can return: ``seller_id``, ``seller`` (String, the
    label people read: the Seller's name for a unified Seller ("seller:<key>", see
    :func:`stockroom.db.connect`), else the platform's display name, else -- for sources such
    as Olist that publish no seller names -- the id's first 8 characters and the city in title
    case, "4869f7a5… · Guariba"), ``city`` and ``region`` (String, nullable)."""
    names = con.execute(
        "SELECT seller_id, seller_name, city, region FROM sellers "
        "UNION ALL SELECT DISTINCT unified_id, seller, NULL, NULL FROM seller_map"
    ).pl()
    names = names.unique("seller_id", keep="first")
    label = pl.col("seller_id").str.slice(0, 8) + pl.lit("…")
    city = pl.col("city").str.strip_chars().str.to_titlecase()
    name = pl.col("seller_name").str.strip_chars()
    return names.with_columns(
        seller=pl.when(name.str.len_chars() > 0)
        .then(name)
        .when(city.str.len_chars() > 0)
        .then(pl.concat_str([label, city], separator=" · "))
        .otherwise(label)
    ).select("seller_id", "seller", "city", "region")
