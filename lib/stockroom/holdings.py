"""Inventory on the market per Seller x card x treatment, from the daily listings snapshots.

A *holding* is what one Seller offers of one catalog product on one snapshot day. For a card
catalog the product is a variant, ``<card id>:<treatment>`` (:mod:`stockroom.cards`): a card
in one printing treatment, the unit a buyer pays for; its :func:`card_id` and
:func:`treatment` are the two halves of that SKU. Sellers and products are the unified Seller
and catalog product when the data root applies its mapping (:func:`stockroom.sales.mapping_parts`),
so one shop on three platforms is one holder; unmapped accounts and SKUs stay as they are.

Rules (units in brackets):

* only ``active`` listings count; ``ended`` and ``sold`` ones hold nothing;
* **units** [units]: per platform, the sum of the Seller's listed quantities of the product;
  across platforms the *largest* of those sums -- a multi-marketplace seller cross-lists the
  same stock on every platform (the simulator, like listing tools, shows every listing of an
  item with the same quantity), so adding platforms up would count one box three times. It is
  therefore a lower bound when a seller lists different units on different platforms;
* **listings** [count]: active listings across platforms; **platforms**: which ones;
* **lowest ask** [reporting currency per unit]: the Seller's lowest asking price for the
  product on any platform, converted at the ECB rate of the snapshot day when the data root
  sets a reporting currency (:mod:`stockroom.fx`);
* **value** [reporting currency]: units x lowest ask -- what the holding fetches at the
  Seller's own cheapest ask, a conservative valuation;
* **single-seller risk** per product: how many Sellers hold it, the largest holder's share of
  its units (0-1) and the units' HHI (sum of squared shares x 10,000, as in
  :mod:`stockroom.concentration`); a product with one holder is *single-seller*: if that
  Seller stops, the market has none.

Filters (:class:`Scope`): platform, brand, category (the catalog's, "(uncategorised)" for
products it does not know) and an asking-price range per unit in the reporting currency.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import polars as pl

from stockroom import products, sales

HOLDING_KEYS = ("seller_id", "sku")


@dataclass(frozen=True)
class Scope:
    """Which listings count (and which central inventory items,
    :func:`stockroom.reconcile.views.central_items`): ``platform``, ``brand`` and ``category``
    (None: all) and an
    asking-price range per unit, ``price_min`` and ``price_max`` inclusive (None: open), in the
    reporting currency (the listings' own currency without one)."""

    platform: str | None = None
    brand: str | None = None
    category: str | None = None
    price_min: float | None = None
    price_max: float | None = None

    def __post_init__(self) -> None:
        for name in ("price_min", "price_max"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise ValueError(f"{name} must be >= 0, got {value}")
        if (
            self.price_min is not None
            and self.price_max is not None
            and self.price_min > self.price_max
        ):
            raise ValueError(f"price_min ({self.price_min}) is above price_max ({self.price_max})")


def card_id(sku: pl.Expr) -> pl.Expr:
    """The card of a variant SKU ``<card id>:<treatment>`` (the SKU itself otherwise)."""
    return sku.str.split(":").list.first()


def treatment(sku: pl.Expr) -> pl.Expr:
    """The treatment of a variant SKU in words ("reverse-holo" -> "Reverse holo"); null for a
    SKU that is not a variant."""
    words = sku.str.split_exact(":", 1).struct.field("field_1").str.replace_all("-", " ")
    return words.str.slice(0, 1).str.to_uppercase() + words.str.slice(1)


def listing_days(con: duckdb.DuckDBPyConnection, as_of: date | None = None) -> list[date]:
    """The listings snapshot days on or before ``as_of`` (every day for None), oldest first."""
    rows = con.execute(
        "SELECT DISTINCT snapshot_date FROM listings_history "
        "WHERE $as_of IS NULL OR snapshot_date <= $as_of ORDER BY 1",
        {"as_of": as_of},
    ).fetchall()
    return [r[0] for r in rows]


def choices(con: duckdb.DuckDBPyConnection, day: date) -> dict[str, list[str]]:
    """What the filters can pick on ``day``: ``platforms`` and ``brands`` (sorted) of the active
    listings."""
    lines = _lines(con, Scope())
    params = _params(Scope(), day, day, con)
    platforms = con.execute(
        f"SELECT DISTINCT platform FROM ({lines}) ORDER BY 1", params
    ).fetchall()
    brands = con.execute(
        f"SELECT DISTINCT brand FROM ({lines}) WHERE brand IS NOT NULL ORDER BY 1", params
    ).fetchall()
    return {"platforms": [r[0] for r in platforms], "brands": [r[0] for r in brands]}


def currency(con: duckdb.DuckDBPyConnection, day: date) -> str:
    """What values are in: the reporting currency when the data root sets one, else the
    currencies the active listings of ``day`` ask in, joined by ``/`` ("-" without any)."""
    target = sales.reporting(con)
    if target is not None:
        return target.currency
    rows = con.execute(
        "SELECT DISTINCT currency FROM listings_history WHERE snapshot_date = $day "
        "AND status = 'active' ORDER BY 1",
        {"day": day},
    ).fetchall()
    return "/".join(r[0] for r in rows) or "-"


def _lines(con: duckdb.DuckDBPyConnection, scope: Scope) -> str:
    """``listing_lines.sql`` with prices in the reporting currency (``_no_rate``: a listing
    whose currency has no rate on or before its day) and the price range applied."""
    lines = sales.sql("listing_lines").format(**sales.mapping_parts(con, "l"))
    if sales.reporting(con) is None:
        lines = f"SELECT *, false AS _no_rate FROM ({lines})"
    else:
        lines = (
            "SELECT x.* REPLACE (CASE WHEN x.currency = $to THEN x.price "
            "ELSE x.price * f.factor END AS price), "
            "x.currency <> $to AND f.factor IS NULL AS _no_rate "
            f"FROM ({lines}) AS x ASOF LEFT JOIN fx_factors AS f "
            "ON f.currency = x.currency AND x.day >= f.day"
        )
    return (
        f"SELECT * FROM ({lines}) WHERE ($price_min IS NULL OR price >= $price_min) "
        "AND ($price_max IS NULL OR price <= $price_max)"
    )


def _params(scope: Scope, first: date, last: date, con=None) -> dict:
    params = {
        "first": first,
        "last": last,
        "platform": scope.platform,
        "brand": scope.brand,
        "category": scope.category,
        "uncategorised": sales.UNCATEGORISED,
        "price_min": scope.price_min,
        "price_max": scope.price_max,
    }
    if con is not None and (target := sales.reporting(con)) is not None:
        params["to"] = target.currency
    return params


def _holdings_sql(con: duckdb.DuckDBPyConnection, scope: Scope, details: bool = True) -> str:
    """One row per (day, seller_id, sku) with the module's rules and currency guards; without
    ``details`` only the figures (no category, brand, title, platforms or mapping flags: what
    a trend needs, at a fraction of the memory on long windows)."""
    inner = (
        "any_value(category) AS category, any_value(brand) AS brand, "
        "any_value(title) AS title, bool_and(seller_mapped) AS seller_mapped, "
        "bool_and(sku_mapped) AS sku_mapped,"
        if details
        else ""
    )
    outer = (
        "any_value(category) AS category, any_value(brand) AS brand, "
        "any_value(title) AS listing_title, "
        "string_agg(platform, ', ' ORDER BY platform) AS platforms, "
        "bool_and(seller_mapped) AS seller_mapped, bool_and(sku_mapped) AS sku_mapped,"
        if details
        else ""
    )
    return f"""
        WITH per_platform AS (
            SELECT day, seller_id, sku, platform, {inner}
                   sum(units) AS units, count(*) AS listings, min(price) AS lowest_ask,
                   min(currency) AS _currency_min, max(currency) AS _currency_max,
                   min(currency) FILTER (WHERE _no_rate) AS _no_rate_currency,
                   min(day) FILTER (WHERE _no_rate) AS _no_rate_day
            FROM ({_lines(con, scope)})
            GROUP BY day, seller_id, sku, platform
        )
        SELECT day, seller_id, sku, {outer}
               CAST(max(units) AS BIGINT) AS units, CAST(sum(listings) AS BIGINT) AS listings,
               min(lowest_ask) AS lowest_ask, max(units) * min(lowest_ask) AS value,
               min(_currency_min) AS _currency_min, max(_currency_max) AS _currency_max,
               min(_no_rate_currency) AS _no_rate_currency, min(_no_rate_day) AS _no_rate_day
        FROM per_platform
        GROUP BY day, seller_id, sku
    """


GUARDS = ("_currency_min", "_currency_max", "_no_rate_currency", "_no_rate_day")


def _check(con: duckdb.DuckDBPyConnection, frame: pl.DataFrame, label: str) -> pl.DataFrame:
    """Refuse values summed across currencies (no reporting currency) or a listing without a
    rate (:func:`stockroom.sales.check_currencies`); ``frame`` without the guard columns."""
    converted = sales.reporting(con) is not None
    guards = frame.drop("_currency_min", "_currency_max") if converted else frame
    sales.check_currencies(guards, f"the asks of the listings of {label}", "their value")
    return frame.drop(GUARDS)


def holdings(
    con: duckdb.DuckDBPyConnection,
    day: date,
    scope: Scope = Scope(),
    *,
    since: date | None = None,
) -> pl.DataFrame:
    """The holdings of the listings snapshot of ``day``, one row per (Seller, product).

    Columns: ``seller_id`` (String: "seller:<key>" for a unified Seller), ``sku`` (String:
    the catalog product), ``card_id``, ``treatment`` (String, see :func:`card_id`,
    :func:`treatment`), ``category``, ``brand``, ``listing_title`` (String: a title one of
    the listings shows, nullable), ``units``, ``listings`` (Int64),
    ``platforms`` (String, "blokpax, ebay"), ``lowest_ask``, ``value`` (Float64, reporting
    currency), ``seller_mapped``, ``sku_mapped`` (Boolean: the mapping put it on a Seller /
    catalog product), and with ``since`` (an earlier snapshot day) ``units_since`` (Int64,
    0 when the Seller did not list the product then) and ``units_change`` (Int64). Sorted by
    value, descending. Empty without listings on ``day``.

    Raises :class:`~stockroom.fx.MixedCurrencyError` when, without a reporting currency, the
    asks are in more than one currency.
    """
    days = [day] if since is None or since == day else [since, day]
    frame = con.execute(
        f"SELECT * FROM ({_holdings_sql(con, scope)}) WHERE day IN (SELECT unnest($days))",
        _params(scope, min(days), max(days), con) | {"days": days},
    ).pl()
    frame = _check(con, frame, str(day))
    now = frame.filter(pl.col("day") == day).drop("day")
    if since is not None:
        before = frame.filter(pl.col("day") == since).select(*HOLDING_KEYS, units_since="units")
        now = now.join(before, on=list(HOLDING_KEYS), how="left").with_columns(
            pl.col("units_since").fill_null(0)
        )
        now = now.with_columns(units_change=pl.col("units") - pl.col("units_since"))
    return now.with_columns(
        card_id=card_id(pl.col("sku")), treatment=treatment(pl.col("sku"))
    ).sort(["value", *HOLDING_KEYS], descending=[True, False, False], nulls_last=True)


def daily(
    con: duckdb.DuckDBPyConnection, first: date, last: date, scope: Scope = Scope()
) -> pl.DataFrame:
    """Per listings snapshot day in ``[first, last]`` and Seller: ``day`` (Date),
    ``seller_id`` (String), ``units``, ``listings``, ``products`` (Int64: products held),
    ``value`` (Float64, reporting currency) -- the trend of every Seller's holdings (sum over
    sellers for the market's). Sorted by day, then value descending."""
    frame = con.execute(
        f"""
        SELECT day, seller_id, CAST(sum(units) AS BIGINT) AS units,
               CAST(sum(listings) AS BIGINT) AS listings, CAST(count(*) AS BIGINT) AS products,
               sum(value) AS value, min(_currency_min) AS _currency_min,
               max(_currency_max) AS _currency_max,
               min(_no_rate_currency) AS _no_rate_currency, min(_no_rate_day) AS _no_rate_day
        FROM ({_holdings_sql(con, scope, details=False)})
        GROUP BY day, seller_id
        """,
        _params(scope, first, last, con),
    ).pl()
    frame = _check(con, frame, f"{first} to {last}")
    return frame.sort(["day", "value", "seller_id"], descending=[False, True, False])


def history(
    con: duckdb.DuckDBPyConnection, first: date, last: date, scope: Scope = Scope()
) -> pl.DataFrame:
    """Every holding on every listings snapshot day in ``[first, last]``: ``day`` (Date) and
    the columns of :func:`holdings` (without the change columns) -- units, listings and value
    per Seller x card x treatment per day. Sorted by day, then value descending.

    Raises :class:`~stockroom.fx.MixedCurrencyError` as :func:`holdings` does."""
    frame = con.execute(
        f"SELECT * FROM ({_holdings_sql(con, scope)})", _params(scope, first, last, con)
    ).pl()
    frame = _check(con, frame, f"{first} to {last}")
    return frame.with_columns(
        card_id=card_id(pl.col("sku")), treatment=treatment(pl.col("sku"))
    ).sort(["day", "value", *HOLDING_KEYS], descending=[False, True, False, False], nulls_last=True)


def named(
    con: duckdb.DuckDBPyConnection, table: pl.DataFrame, root: Path, as_of: date | None
) -> pl.DataFrame:
    """:func:`holdings` with the names people read: ``seller`` (the Seller's name,
    :func:`stockroom.sales.seller_labels`; the id when it has none) and ``product`` (the
    catalog title, :func:`stockroom.products.labels`; for a SKU the mapping did not resolve,
    the title its listing shows)."""
    table = with_seller_names(con, products.labels(table, root, as_of))
    return table.with_columns(
        product=pl.when(pl.col("sku_mapped"))
        .then(pl.col("product"))
        .otherwise(pl.coalesce("listing_title", "product"))
    )


def with_seller_names(con: duckdb.DuckDBPyConnection, frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` (with ``seller_id``) and ``seller``: the Seller's name
    (:func:`stockroom.sales.seller_labels`), the id when it has none."""
    names = sales.seller_labels(con).select("seller_id", "seller")
    return frame.join(names, on="seller_id", how="left").with_columns(
        seller=pl.col("seller").fill_null(pl.col("seller_id"))
    )


def named_risk(table: pl.DataFrame) -> pl.DataFrame:
    """:func:`product_risk` of a :func:`named` table, with ``product`` and ``top_seller``
    (the largest holder's name)."""
    top = table.select(top_seller_id="seller_id", top_seller="seller").unique("top_seller_id")
    return (
        product_risk(table)
        .join(top, on="top_seller_id", how="left")
        .join(table.select("sku", "product").unique("sku"), on="sku", how="left")
    )


def product_risk(holdings: pl.DataFrame) -> pl.DataFrame:
    """Single-seller risk per product from :func:`holdings` (products with units only).

    Columns: ``sku``, ``card_id``, ``treatment``, ``category`` (String), ``sku_mapped``
    (Boolean: a catalog product, not a platform's own SKU), ``units``,
    ``listings``, ``sellers`` (Int64: Sellers holding it), ``value`` (Float64),
    ``top_seller_id`` (String: the largest holder by units, ties by id), ``top_share``
    (Float64, share 0-1 of units), ``hhi`` (Float64, 0-10,000, of units) and
    ``single_seller`` (Boolean). Sorted single-seller first, then by value descending."""
    held = holdings.filter(pl.col("units") > 0)
    share = pl.col("units") / pl.col("units").sum()
    per = held.group_by("sku").agg(
        pl.col("card_id", "treatment", "category", "sku_mapped").first(),
        pl.col("units").sum(),
        pl.col("listings").sum(),
        sellers=pl.col("seller_id").n_unique().cast(pl.Int64),
        value=pl.col("value").sum(),
        top_seller_id=pl.col("seller_id")
        .sort_by(["units", "seller_id"], descending=[True, False])
        .first(),
        top_units=pl.col("units").max(),
        hhi=(share**2).sum() * 10_000,
    )
    return (
        per.with_columns(
            top_share=pl.col("top_units") / pl.col("units"),
            single_seller=pl.col("sellers") == 1,
        )
        .drop("top_units")
        .sort(["single_seller", "value", "sku"], descending=[True, True, False], nulls_last=True)
    )


def summary(holdings: pl.DataFrame, risk: pl.DataFrame) -> dict:
    """Headline figures of one day's holdings: ``units``, ``listings``, ``sellers``,
    ``products``, ``cards`` (int), ``value`` (float, reporting currency),
    ``single_seller_share`` (share 0-1 of products with one holder),
    ``single_seller_value_share`` (share 0-1 of value in those products), ``seller_coverage``
    and ``product_coverage`` (share 0-1 of value whose Seller / product the mapping
    resolved). Shares are None when there is nothing held."""
    held = holdings.filter(pl.col("units") > 0)
    value = float(held["value"].sum())

    def value_share(mask: pl.Expr) -> float | None:
        return float(held.filter(mask)["value"].sum()) / value if value else None

    single = risk.filter(pl.col("single_seller"))
    return {
        "units": int(held["units"].sum()),
        "listings": int(holdings["listings"].sum()),
        "sellers": held["seller_id"].n_unique(),
        "products": risk.height,
        "cards": held["card_id"].n_unique(),
        "value": value,
        "single_seller_share": single.height / risk.height if risk.height else None,
        "single_seller_value_share": float(single["value"].sum()) / value if value else None,
        "seller_coverage": value_share(pl.col("seller_mapped")),
        "product_coverage": value_share(pl.col("sku_mapped")),
    }
