"""Every page's reads: typed data functions over the library, cached by Streamlit and keyed by
the shared :class:`~app_pages._common.Filters` (data root, store stamp, as-of, window,
category) -- plus the workbench database's audit version where a page shows state people
change (POs, settings, mappings). Pages call these and render; no page reads the store or runs
SQL itself.

The caches are ``st.cache_resource``: every session gets the same frame object instead of a
copy unpickled on each rerun (the Forecast page's 346K-row frame cost 100 ms a rerun that way).
Polars frames are immutable in use (every operation returns a new frame), and pages only read
what these return.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import ParamSpec, TypeVar

import polars as pl
import streamlit as st

from app_pages._common import Filters
from stockroom import (
    concentration,
    health,
    holdings,
    market,
    products,
    sales,
    store,
    supply,
    tables,
    workbench,
)
from stockroom.db import analytics_stamp, cached
from stockroom.errors import StockroomError
from stockroom.forecast import views as forecast_views
from stockroom.mapping import repo as mapping_repo
from stockroom.mapping import review
from stockroom.market import views as market_views
from stockroom.procurement.plan import build_plan
from stockroom.reconcile import views as reconcile_views
from stockroom.resale import pnl as resale_pnl
from stockroom.resale import repo as resale_repo
from stockroom.resale import search as resale_find
from stockroom.resale import views as resale_views

HISTORY_DAYS = 120
P = ParamSpec("P")
R = TypeVar("R")


def _by_day(cached: Callable[P, R]) -> Callable[P, R]:
    """Call ``cached`` with :attr:`Filters.day` (window and category dropped from the key)."""

    @functools.wraps(cached)
    def call(f: Filters, *args, **kwargs):
        return cached(f.day, *args, **kwargs)

    return call


def _root(f: Filters) -> Path:
    return Path(f.data_root)


def version(f: Filters) -> int:
    """The workbench database's audit version (not cached: one indexed max())."""
    return workbench.audit_version(workbench.engine(_root(f)))


# -- seller concentration and supply (DuckDB over the order snapshots) ---------------------


def _view(name: str, f: Filters) -> object:
    """The view ``name`` for these filters, cached until the store, the settings (reporting
    currency, mapping on or off) or an audited decision (a mapping corrected) change."""
    return _cached_view(name, f, analytics_stamp(_root(f)))


@st.cache_resource(show_spinner="Querying snapshots…", max_entries=256)
def _cached_view(name: str, f: Filters, stamp: tuple) -> object:
    con = cached(_root(f), f.as_of, platform=f.platform)
    window, previous, category = f.window, f.previous_window, f.category
    views = {
        "concentration_summary": lambda: concentration.summary(con, window, category),
        "concentration_previous": lambda: (
            concentration.summary(con, previous, category) if previous else None
        ),
        "concentration_monthly": lambda: concentration.monthly(con, f.as_of, category),
        "seller_table": lambda: concentration.seller_table(con, window, category),
        "seller_accounts": lambda: concentration.seller_accounts(con, window, category),
        "concentration_by_category": lambda: concentration.by_category(con, window),
        "concentration_by_platform": lambda: concentration.by_platform(con, window, category),
        "platform_shares": lambda: concentration.platform_shares(con, window, category),
        "concentration_across": lambda: concentration.across_categories(
            _view("concentration_by_category", f), top=10
        ),
        "concentration_across_previous": lambda: (
            concentration.across_categories(concentration.by_category(con, previous))
            if previous
            else None
        ),
        "concentration_monthly_across": lambda: concentration.monthly_across_categories(
            con, f.as_of
        ),
        # every category's (sku, seller) sales of the window, queried once per window and
        # shared by the supply figures below (a category is a filter on it)
        "sku_sellers": lambda: supply.sku_sellers(con, window),
        "supply_summary": lambda: supply.supply_summary(
            con, window, category, sku_seller=_view("sku_sellers", f.all_categories)
        ),
        "supply_previous": lambda: (
            supply.supply_summary(con, previous, category) if previous else None
        ),
        "supply_monthly": lambda: supply.monthly_supply(con, f.as_of, category),
        "category_supply": lambda: supply.category_supply(
            con, window, sku_seller=_view("sku_sellers", f.all_categories)
        ),
        "product_supply": lambda: products.labels(
            supply.product_supply(
                con, window, category, sku_seller=_view("sku_sellers", f.all_categories)
            ),
            _root(f),
            f.as_of,
        ),
        "top_suppliers": lambda: supply.top_suppliers(
            con, window, category, 20, sku_seller=_view("sku_sellers", f.all_categories)
        ),
        "currency": lambda: sales.currencies(con),
        "reporting": lambda: sales.reporting(con),
        "mapping_coverage": lambda: sales.mapping_coverage(con, window),
        "holdings_days": lambda: _holdings_days(con, window),
        "holdings_choices": lambda: (
            holdings.choices(con, _view("holdings_days", f)[0])
            if _view("holdings_days", f)[0]
            else {"platforms": [], "brands": []}
        ),
        "holdings_currency": lambda: holdings.currency(con, _view("holdings_days", f)[0]),
    }
    return views[name]()


def _holdings_days(con, window: sales.Window) -> tuple[date | None, date | None]:
    days = holdings.listing_days(con, window.as_of)
    if not days:
        return None, None
    in_window = [d for d in days if d >= window.start.date()]
    return days[-1], (in_window or days[-1:])[0]


def concentration_summary(f: Filters) -> dict:
    """:func:`stockroom.concentration.summary` of the window."""
    return _view("concentration_summary", f)


def concentration_previous(f: Filters) -> dict | None:
    """The same for the previous window of the same length (None for all history)."""
    return _view("concentration_previous", f)


def concentration_monthly(f: Filters) -> pl.DataFrame:
    """Monthly concentration up to the as-of date (any window: keyed without it)."""
    return _view("concentration_monthly", f.any_window)


def seller_table(f: Filters) -> pl.DataFrame:
    return _view("seller_table", f)


def seller_accounts(f: Filters) -> pl.DataFrame:
    """:func:`stockroom.concentration.seller_accounts` of the window (every Seller)."""
    return _view("seller_accounts", f)


def concentration_by_category(f: Filters) -> pl.DataFrame:
    return _view("concentration_by_category", f.all_categories)


def concentration_by_platform(f: Filters) -> pl.DataFrame:
    """:func:`stockroom.concentration.by_platform` of the window and category."""
    return _view("concentration_by_platform", f)


def platform_shares(f: Filters) -> pl.DataFrame:
    """:func:`stockroom.concentration.platform_shares` of the window and category."""
    return _view("platform_shares", f)


def concentration_across(f: Filters) -> dict:
    """:func:`stockroom.concentration.across_categories` of the window (the 10 most
    concentrated categories)."""
    return _view("concentration_across", f.all_categories)


def concentration_across_previous(f: Filters) -> dict | None:
    """The same for the previous window of the same length (None for all history)."""
    return _view("concentration_across_previous", f.all_categories)


def concentration_monthly_across(f: Filters) -> pl.DataFrame:
    """:func:`stockroom.concentration.monthly_across_categories` up to the as-of date."""
    return _view("concentration_monthly_across", f.all_categories.any_window)


def supply_summary(f: Filters) -> dict:
    return _view("supply_summary", f)


def supply_previous(f: Filters) -> dict | None:
    return _view("supply_previous", f)


def supply_monthly(f: Filters) -> pl.DataFrame:
    """Monthly supply up to the as-of date (any window: keyed without it)."""
    return _view("supply_monthly", f.any_window)


def category_supply(f: Filters) -> pl.DataFrame:
    return _view("category_supply", f)


def product_supply(f: Filters) -> pl.DataFrame:
    """:func:`stockroom.supply.product_supply` with ``product`` (the label people read,
    :func:`stockroom.products.labels`)."""
    return _view("product_supply", f)


def top_suppliers(f: Filters) -> pl.DataFrame:
    return _view("top_suppliers", f)


def mapping_note(f: Filters) -> str:
    """How sellers and products are counted, with the mapping's coverage of the window's
    revenue (:func:`stockroom.sales.mapping_coverage`), for a caption."""
    cov = _view("mapping_coverage", f.all_categories)
    if not cov["mapping"]:
        return "each platform's own seller ids and SKUs (use_mapping = false in stockroom.toml)"
    if not cov["seller_share"] and not cov["product_share"]:
        return "each platform's own seller ids and SKUs (nothing mapped: `stockroom map`)"
    return (
        f"one Seller across platforms ({cov['seller_share']:.1%} of revenue on mapped "
        f"sellers) and one catalog product across SKUs ({cov['product_share']:.1%})"
    )


def money_note(f: Filters) -> str:
    """What the amounts are in, for a caption: the reporting currency and the rates behind
    it (:class:`stockroom.fx.Reporting`), or the orders' own currency."""
    target = _view("reporting", f.day)
    return target.note() if target else f"revenue in {_view('currency', f.day)}"


def currency(f: Filters) -> str:
    """The orders' currencies, e.g. ``BRL`` (``-`` when none)."""
    return _view("currency", f)


# -- holdings (inventory on the market, from the listings snapshots) -------------------------


def holdings_days(f: Filters) -> tuple[date | None, date | None]:
    """(the listings snapshot day the holdings are read from: the newest on or before as-of;
    the day their trend starts: the first listings day in the window), or (None, None)
    without listings."""
    return _view("holdings_days", f)


def holdings_choices(f: Filters) -> dict[str, list[str]]:
    """:func:`stockroom.holdings.choices` of the holdings day (platforms, brands)."""
    return _view("holdings_choices", f.any_window)


def holdings_currency(f: Filters) -> str:
    """:func:`stockroom.holdings.currency` of the holdings day."""
    return _view("holdings_currency", f.any_window)


def holdings_table(f: Filters, scope: holdings.Scope) -> pl.DataFrame:
    """:func:`stockroom.holdings.holdings` of the holdings day, with the change since the
    trend's first day, the Seller's name (``seller``) and the product's title (``product``)."""
    return _holdings_view("table", f, scope, analytics_stamp(_root(f)))


def holdings_risk(f: Filters, scope: holdings.Scope) -> pl.DataFrame:
    """:func:`stockroom.holdings.product_risk` with ``product`` and ``top_seller`` names."""
    return _holdings_view("risk", f, scope, analytics_stamp(_root(f)))


def holdings_summary(f: Filters, scope: holdings.Scope) -> dict:
    """:func:`stockroom.holdings.summary` of the holdings day."""
    return holdings.summary(holdings_table(f, scope), holdings_risk(f, scope))


def holdings_trend(f: Filters, scope: holdings.Scope) -> pl.DataFrame:
    """:func:`stockroom.holdings.daily` from the trend's first day, with ``seller`` names."""
    return _holdings_view("trend", f, scope, analytics_stamp(_root(f)))


@st.cache_resource(show_spinner="Reading listings…", max_entries=64)
def _holdings_view(name: str, f: Filters, scope: holdings.Scope, stamp: tuple) -> pl.DataFrame:
    con = cached(_root(f), f.as_of, platform=f.platform)
    day, since = holdings_days(f)
    if name == "trend":
        return holdings.with_seller_names(con, holdings.daily(con, since, day, scope))
    if name == "risk":
        return holdings.named_risk(holdings_table(f, scope))
    table = holdings.holdings(con, day, scope, since=since)
    return holdings.named(con, table, _root(f), f.as_of)


# -- forecast --------------------------------------------------------------------------------


@_by_day
@st.cache_resource(show_spinner="Reading forecasts…", max_entries=8)
def forecasts(f: Filters) -> tuple:
    """(snapshot day, forecasts frame, one row per SKU with its product label, accuracy by
    category) of the latest forecasts on or before the as-of date; all None when there are
    none."""
    day, frame = forecast_views.latest(_root(f), f.as_of)
    if day is None:
        return None, None, None, None
    skus = forecast_views.sku_table(frame)
    names = products.labels(skus.select("sku", "category"), _root(f), day)
    skus = skus.join(names.select("sku", "product"), on="sku", how="left", maintain_order="left")
    return (day, frame, skus, forecast_views.accuracy_by_category(frame))


@_by_day
@st.cache_resource(show_spinner=False, max_entries=8)
def saved_forecaster(f: Filters, day: date) -> dict | None:
    """The manifest of the forecaster behind the forecasts of ``day`` (None if not saved)."""
    return forecast_views.saved_forecaster(_root(f), day)


@_by_day
@st.cache_resource(show_spinner=False, max_entries=64)
def sales_history(f: Filters, day: date, sku: str) -> pl.DataFrame:
    """Daily units of ``sku`` over the :data:`HISTORY_DAYS` days up to ``day`` (the forecasts
    snapshot's date; date, units float; 0 on days without a sale)."""
    history = forecast_views.daily_sales(_root(f), day, sku)
    days = pl.DataFrame(
        {"date": pl.date_range(day - timedelta(days=HISTORY_DAYS - 1), day, "1d", eager=True)}
    )
    return days.join(history.select("date", "units"), on="date", how="left").with_columns(
        pl.col("units").fill_null(0.0)
    )


@_by_day
@st.cache_resource(show_spinner=False, max_entries=16)
def forecast_accuracy(f: Filters) -> dict | None:
    """The "All" row of :func:`stockroom.forecast.views.accuracy_by_category` for the
    forecasts behind the plan (wape, baseline_wape, relative_mae, mase, ...; None without
    forecasts)."""
    accuracy = forecasts(f)[3]
    return accuracy.row(0, named=True) if accuracy is not None and accuracy.height else None


# -- order today -----------------------------------------------------------------------------


@_by_day
@st.cache_resource(show_spinner="Building the plan…", max_entries=16)
def plan(
    f: Filters, db_version: int, location: str | None = None
) -> tuple[date | None, pl.DataFrame | None]:
    """(day, plan frame) of :func:`stockroom.procurement.plan.build_plan` as of the as-of
    date, of one ``location``'s stock or all; (None, None) without forecasts. ``db_version``
    (:func:`version`) refreshes it when a PO or a setting changes."""
    try:
        return build_plan(_root(f), f.as_of, location)
    except StockroomError:
        return None, None


# -- reconciliation --------------------------------------------------------------------------


@_by_day
@st.cache_resource(show_spinner="Reading flags…", max_entries=16)
def flags(f: Filters) -> tuple[date | None, pl.DataFrame | None, pl.DataFrame]:
    """(sync day, its flags snapshot, the trend of open flags per sync) as of the as-of date."""
    day, frame = reconcile_views.latest(_root(f), f.as_of)
    return day, frame, reconcile_views.trend(_root(f))


@_by_day
@st.cache_resource(show_spinner=False, max_entries=16)
def central_inventory(f: Filters, day: date) -> pl.DataFrame:
    """The central inventory of the sync ``day`` (every column of the ``inventory`` table;
    empty with its columns when there is none)."""
    inv_day = store.resolve_as_of(_root(f), "inventory", day)
    if inv_day is None:
        return tables.table("inventory").empty()
    return store.read_snapshot(_root(f), "inventory", inv_day)


@_by_day
@st.cache_resource(show_spinner=False, max_entries=64)
def evidence(f: Filters, day: date, sku: str) -> dict[str, pl.DataFrame]:
    """:func:`stockroom.reconcile.views.evidence` of one SKU."""
    return reconcile_views.evidence(_root(f), day, sku)


def has_market(root: Path) -> bool:
    """Whether the data root ``root`` holds a market snapshot (the demo button)."""
    return bool(store.snapshot_dates(root, "market"))


def has_flags(root: Path) -> bool:
    """Whether the data root ``root`` holds a flags snapshot (the demo button)."""
    return store.resolve_as_of(root, "flags", None) is not None


# -- mapping ---------------------------------------------------------------------------------


@_by_day
@st.cache_resource(show_spinner="Reading listings…", max_entries=16)
def listings_state(f: Filters) -> dict | None:
    """As of the as-of date: the listings snapshot's ``day``, its ``stakes`` (one row per
    external SKU with its listing count and revenue at stake,
    :func:`stockroom.mapping.review.stakes`) and the ``catalog`` (sku, title); None without
    listings or products. Not keyed by the database version: a mapping decision does not
    re-read the snapshots."""
    root = _root(f)
    day = store.resolve_as_of(root, "listings", f.as_of)
    cat_day = store.resolve_as_of(root, "products", f.as_of)
    if day is None or cat_day is None:
        return None
    con = cached(root, f.as_of)
    return {
        "day": day,
        "stakes": review.stakes(con),
        "catalog": con.execute("SELECT sku, title FROM products").pl(),
    }


@_by_day
@st.cache_resource(show_spinner="Reading mappings…", max_entries=16)
def mapping_state(f: Filters, db_version: int) -> dict | None:
    """:func:`listings_state` plus the status of every stored mapping (``mappings``:
    platform, external_sku, status) and the review ``queue``
    (most revenue at stake first); None without listings or products. ``db_version``
    (:func:`version`) refreshes it after a decision."""
    listings = listings_state(f)
    if listings is None:
        return None
    eng = workbench.engine(_root(f))
    return {
        **listings,
        "mappings": mapping_repo.mapping_status(eng),
        "queue": review.queue(eng, listings["stakes"], listings["catalog"]),
    }


@_by_day
@st.cache_resource(show_spinner=False, max_entries=16)
def mapping_history(f: Filters, db_version: int) -> pl.DataFrame:
    """The newest 500 audited mapping decisions (LIMIT in SQL)."""
    eng = workbench.engine(_root(f))
    return mapping_repo.history(eng, "sku_mapping", limit=500, newest_first=True)


# -- data health -----------------------------------------------------------------------------


@_by_day
@st.cache_resource(show_spinner=False, max_entries=16, ttl=60)
def job_runs(f: Filters) -> pl.DataFrame:
    """The newest 5,000 job runs (wall-clock time: the operational log, not filtered by the
    as-of date; refreshed every minute)."""
    return workbench.runs(workbench.engine(_root(f)), limit=5_000)


def source_health(runs: pl.DataFrame) -> pl.DataFrame:
    """Freshness per source (:func:`stockroom.health.by_source`)."""
    return health.by_source(runs)


@_by_day
@st.cache_resource(show_spinner=False, max_entries=16)
def snapshots_as_of(f: Filters) -> pl.DataFrame:
    """Per table, the snapshot the pages read at the as-of date
    (:func:`stockroom.health.snapshots_as_of`)."""
    return health.snapshots_as_of(_root(f), f.as_of)


@_by_day
@st.cache_resource(show_spinner=False, max_entries=16, ttl=60)
def quarantine(f: Filters) -> pl.DataFrame:
    """The newest 2,000 quarantined cells."""
    return workbench.quarantined(workbench.engine(_root(f)), limit=2_000)


# -- imports and the daily run (not cached: they change as the user acts) ---------------------


def run_for_source(f: Filters, source: str) -> dict | None:
    """The newest job run whose source names ``source`` (an uploaded file), or None."""
    runs = workbench.runs(workbench.engine(_root(f)), limit=50)
    hit = runs.filter(pl.col("source").str.contains(source, literal=True))
    return hit.row(0, named=True) if hit.height else None


def quarantined_rows(f: Filters, run_id: str) -> pl.DataFrame:
    """The quarantined cells of one run (file, row, column, value, reason, record)."""
    return workbench.quarantined(workbench.engine(_root(f)), run_id)


@_by_day
@st.cache_resource(show_spinner=False, max_entries=16)
def stock_locations(f: Filters) -> list[str]:
    """The stock snapshot's locations at the as-of date (sorted)."""
    from stockroom.procurement.plan import stock_locations as locations

    return locations(_root(f), f.as_of)


def daily_status(f: Filters) -> dict:
    """The latest `stockroom daily` run's steps (:func:`stockroom.health.freshness`)."""
    return health.freshness(_root(f))


@_by_day
@st.cache_resource(show_spinner=False, max_entries=16)
def seller_review(f: Filters, db_version: int) -> dict:
    """The Seller review: ``links`` (the suggested links still in review,
    :func:`stockroom.mapping.repo.seller_links_frame`) and ``accounts`` (every platform
    account with its Seller: platform, seller_id, seller_key, seller, status)."""
    eng = workbench.engine(_root(f))
    return {
        "links": mapping_repo.seller_links_frame(eng),
        "accounts": mapping_repo.seller_aliases_frame(eng).sort("seller", "platform"),
    }


# -- market ------------------------------------------------------------------------------------


def market_day(f: Filters) -> date | None:
    """The market snapshot day the Market page reads (the newest on or before as-of)."""
    return _market_view("day", f.day, _market_stamp(f))


def market_context(f: Filters) -> market.Context:
    """:func:`stockroom.market.context` of the data root (thresholds, fees, price limits)."""
    return _market_view("context", f.day, _market_stamp(f))


def market_best(f: Filters) -> pl.DataFrame:
    """:func:`stockroom.market.views.best_platform` of the market day."""
    return _market_view("best", f.day, _market_stamp(f))


def market_outlook(f: Filters):
    """:func:`stockroom.market.views.outlook`: the price outlook landed for the market day
    (None: none landed)."""
    return _market_view("outlook", f.day, _market_stamp(f))


def market_repricing(f: Filters) -> pl.DataFrame:
    """:func:`stockroom.market.views.repricing` of the market day, with the price outlook."""
    return _market_view("repricing", f.day, _market_stamp(f))


def market_moves(f: Filters, days: int = 30) -> pl.DataFrame:
    """:func:`stockroom.market.views.price_moves` of the ``days`` to the market day."""
    return _market_view(("moves", days), f.day, _market_stamp(f))


def market_summary(f: Filters, by: str | None, days: int = 30) -> pl.DataFrame:
    """:func:`stockroom.market.views.platform_summary` of the ``days`` to the market day."""
    return _market_view(("summary", by, days), f.day, _market_stamp(f))


def market_item(f: Filters, sku: str, days: int = 365) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(the item's platforms on the market day: :func:`stockroom.market.views.snapshot`;
    its history over ``days``: :func:`stockroom.market.views.history`)."""
    return _market_view(("item", sku, days), f.day, _market_stamp(f))


def _market_stamp(f: Filters) -> tuple:
    return (analytics_stamp(_root(f)), market.stamp(_root(f)))


@st.cache_resource(show_spinner="Reading the market…", max_entries=64)
def _market_view(name, f: Filters, stamp: tuple):
    con = cached(_root(f), f.as_of)
    if name == "day":
        return market_views.market_day(con, f.as_of)
    if name == "context":
        return market.context(_root(f))
    day, ctx = market_day(f), market_context(f)
    if name == "best":
        return market_views.best_platform(con, day, ctx.schedule, ctx.rules)
    if name == "outlook":
        return market_views.outlook(con, day)
    if name == "repricing":
        return market_views.repricing(
            con, day, ctx.schedule, ctx.rules, ctx.price_rules, market_outlook(f)
        )
    kind, *args = name
    if kind == "moves":
        start = day - timedelta(days=args[0] - 1)
        return market_views.price_moves(con, start, day, ctx.rules.move_threshold)
    if kind == "summary":
        return market_views.platform_summary(con, day - timedelta(days=args[1] - 1), day, args[0])
    sku, days = args
    return (
        market_views.snapshot(con, day, ctx.schedule, sku),
        market_views.history(con, sku, day - timedelta(days=days - 1), day, ctx.schedule),
    )


# -- resale --------------------------------------------------------------------------------------


def has_resale(root: Path) -> bool:
    """Whether ``root`` holds a resale snapshot (the demo button's test)."""
    return bool(store.snapshot_dates(root, tables.RESALE_ITEMS.name))


def resale_book(f: Filters, as_of: date | None) -> resale_views.Book:
    """:func:`stockroom.resale.views.book` of the data root as of ``as_of`` (None: the latest
    resale snapshot's day)."""
    return _resale_view("book", f.day, as_of)


def resale_summary(f: Filters, as_of: date | None, start: date, end: date) -> pl.DataFrame:
    """:func:`stockroom.resale.pnl.summary` of ``start``..``end`` against the period before."""
    return _resale_view(("summary", start, end), f.day, as_of)


def resale_aging(f: Filters, as_of: date | None, buckets: tuple[int, ...]) -> pl.DataFrame:
    """:func:`stockroom.resale.pnl.aging` with ``buckets`` (upper bounds, days)."""
    return _resale_view(("aging", buckets), f.day, as_of)


def resale_performance(
    f: Filters, as_of: date | None, by: str, start: date | None, end: date
) -> pl.DataFrame:
    """:func:`stockroom.resale.pnl.performance` per platform or category."""
    return _resale_view(("performance", by, start, end), f.day, as_of)


def resale_search(
    f: Filters,
    as_of: date | None,
    text: str,
    filters: resale_find.Filters,
    sort: str,
    limit: int = 500,
) -> pl.DataFrame:
    """:func:`stockroom.resale.search.search` over the book (not cached: a query is ms)."""
    book = resale_book(f, as_of)
    return resale_find.search(book.pnl, book.index, text, filters, sort, limit=limit)


def resale_item(f: Filters, as_of: date | None, item_id: str, db_version: int) -> dict | None:
    """One item's P&L row, listings and price history (the workbench's, so keyed by the audit
    version: an edit shows at once)."""
    detail = resale_views.item_detail(resale_book(f, as_of), item_id)
    if detail is None:
        return None
    history = resale_repo.price_history(workbench.engine(_root(f)), item_id)
    return {**detail, "history": history}


@st.cache_resource(show_spinner="Reading the resale book…", max_entries=64)
def _resale_view(name, f: Filters, as_of: date | None):
    book = resale_views.book(_root(f), as_of)
    if name == "book":
        return book
    kind, *args = name
    if kind == "summary":
        return resale_pnl.summary(book.pnl, *args)
    if kind == "aging":
        return resale_pnl.aging(book.pnl, args[0])
    by, start, end = args
    return resale_pnl.performance(book.pnl, book.listings, by, end, start)
