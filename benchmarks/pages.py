"""The pages benchmark: every page of the app through Streamlit's AppTest (the page scripts run
as in the server, without a browser), and each page's queries beside a hand-written DuckDB query
over the same Parquet for the same numbers.

Per page and data root:

* **first render** -- a new session on cold caches (Streamlit's caches and the shared DuckDB
  connections cleared): the app script, the sidebar and the page, until the script ends;
* **interaction** -- one widget change and the rerun it causes, on the same session: the window
  (90 / 30 / 180 / 365 days), a category and back, a platform and back (where the data has
  two), and on the Forecast and Reconciliation
  pages another SKU. New filter values are cache misses, so the figures include queries;
* **queries** -- the library calls behind the page's headline numbers on a cold connection,
  beside **raw**, a hand-written DuckDB query over the snapshot files for the same numbers
  (checked equal). The ratio is queries / raw.

Wall seconds, p50 and p95 (nearest rank) of ``repeat`` first renders and of every interaction.
"""

from __future__ import annotations

import math
import os
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import duckdb
import polars as pl

from stockroom import (
    concentration,
    config,
    db,
    health,
    holdings,
    sales,
    sources,
    store,
    supply,
    workbench,
)
from stockroom.forecast import views as forecast_views
from stockroom.mapping import review
from stockroom.procurement.plan import build_plan
from stockroom.reconcile import views as reconcile_views
from stockroom.tables import NON_SALE_STATUSES

APP = config.PROJECT_ROOT / "app.py"
WINDOWS = ("90 days", "30 days", "180 days", "365 days")


@dataclass(frozen=True)
class Page:
    name: str
    path: str
    needs: tuple[str, ...]  # the tables without which the page only shows a hint
    queries: Callable[[Path, date], dict]  # the library's numbers
    raw: Callable[[Path, date], dict]  # the same numbers, hand-written DuckDB
    widget: str | None = None  # key of a page selectbox to change as an interaction


def _part(root: Path, table: str, as_of: date) -> str | None:
    day = store.resolve_as_of(root, table, as_of)
    return None if day is None else str(store.partition_dir(root, table, day) / store.PART_FILE)


def _orders_glob(root: Path) -> str:
    return str(store.table_dir(root, "orders") / f"{store.PARTITION_PREFIX}*" / store.PART_FILE)


def _window(root: Path, as_of: date) -> sales.Window:
    first = store.snapshot_dates(root, "orders")[0]
    return sales.make_window(as_of, 365, first)


def _raw_con(root: Path) -> duckdb.DuckDBPyConnection:
    """A plain DuckDB connection with the applied mapping rows of the data root's workbench
    database as ``sm`` (platform, platform_seller_id, seller_key) and ``km`` (platform,
    external_sku, product_sku); empty without a database or with ``use_mapping = false``."""
    con = duckdb.connect()
    sm = pl.DataFrame(
        schema={"platform": pl.String, "platform_seller_id": pl.String, "seller_key": pl.Int64}
    )
    km = pl.DataFrame(
        schema={"platform": pl.String, "external_sku": pl.String, "product_sku": pl.String}
    )
    if (root / "workbench.db").exists() and sources.load(root).use_mapping:
        eng = workbench.engine(root)
        sm = pl.read_database(
            "SELECT platform, platform_seller_id, seller_key FROM seller_aliases "
            "WHERE status IN ('auto', 'confirmed')",
            eng,
            schema_overrides=sm.schema,
        )
        km = pl.read_database(
            "SELECT platform, external_sku, product_sku FROM sku_mappings "
            "WHERE status IN ('auto', 'confirmed') AND product_sku IS NOT NULL",
            eng,
            schema_overrides=km.schema,
        )
    con.register("sm", sm.to_arrow())
    con.register("km", km.to_arrow())
    return con


#: The unified Seller and catalog product of a row ``o`` (joins of :func:`_raw_con`).
_MAPPED = (
    "o.* REPLACE (coalesce('seller:' || CAST(sm.seller_key AS VARCHAR), o.seller_id) "
    "AS seller_id, coalesce(km.product_sku, o.sku) AS sku) FROM {source} AS o "
    "LEFT JOIN sm ON sm.platform = o.platform AND sm.platform_seller_id = o.seller_id "
    "LEFT JOIN km ON km.platform = o.platform AND km.external_sku = o.sku"
)


def _raw_sales(root: Path, as_of: date) -> str:
    """The window's sales lines on the unified Seller and product (on :func:`_raw_con`)."""
    w = _window(root, as_of)
    statuses = ", ".join(f"'{s}'" for s in NON_SALE_STATUSES)
    source = f"read_parquet('{_orders_glob(root)}', hive_partitioning = true)"
    return (
        f"SELECT {_MAPPED.format(source=source)} "
        f"WHERE o.snapshot_date <= DATE '{as_of}' AND o.order_ts >= TIMESTAMPTZ '{w.start}' "
        f"AND o.order_ts < TIMESTAMPTZ '{w.end}' AND o.status NOT IN ({statuses})"
    )


def _round(d: dict) -> dict:
    return {k: round(v, 6) if isinstance(v, float) else v for k, v in d.items()}


# -- per page: the library's numbers and the hand-written query -----------------------------


def concentration_lib(root: Path, as_of: date) -> dict:
    s = concentration.summary(db.cached(root, as_of), _window(root, as_of))
    return _round({"sellers": s["sellers"], "hhi": s["hhi"], "cr4": s["cr4"]})


def concentration_raw(root: Path, as_of: date) -> dict:
    row = (
        _raw_con(root)
        .execute(
            f"""
        WITH s AS (SELECT seller_id, sum(quantity * unit_price) AS r
                   FROM ({_raw_sales(root, as_of)}) GROUP BY 1
                   HAVING sum(quantity * unit_price) > 0),
             t AS (SELECT r / sum(r) OVER () AS share FROM s)
        SELECT count(*), sum(power(100 * share, 2)),
               (SELECT sum(share) FROM (SELECT share FROM t ORDER BY share DESC LIMIT 4))
        FROM t"""
        )
        .fetchone()
    )
    return _round({"sellers": row[0], "hhi": row[1], "cr4": row[2]})


def supply_lib(root: Path, as_of: date) -> dict:
    s = supply.supply_summary(db.cached(root, as_of), _window(root, as_of))
    return _round({"products": s["products"], "single_seller_share": s["single_seller_share"]})


def supply_raw(root: Path, as_of: date) -> dict:
    row = (
        _raw_con(root)
        .execute(
            f"""
        SELECT count(*), avg(CASE WHEN n = 1 THEN 1.0 ELSE 0.0 END) FROM (
            SELECT sku, count(DISTINCT seller_id) AS n FROM ({_raw_sales(root, as_of)})
            GROUP BY sku)"""
        )
        .fetchone()
    )
    return _round({"products": row[0], "single_seller_share": row[1]})


def _top_sku(root: Path, as_of: date) -> tuple[date, str] | None:
    day = store.resolve_as_of(root, "forecasts", as_of)
    if day is None:
        return None
    fc = store.read_snapshot(root, "forecasts", day)
    totals = fc.filter(pl.col("model") != "dormant").group_by("sku").agg(pl.col("yhat").sum())
    return day, totals.sort(["yhat", "sku"])[-1, "sku"]


def forecast_lib(root: Path, as_of: date) -> dict:
    day, sku = _top_sku(root, as_of)
    _, fc = forecast_views.latest(root, as_of)
    history = forecast_views.daily_sales(root, day, sku)
    return _round(
        {
            "sku": sku,
            "forecast": fc.filter(pl.col("sku") == sku)["yhat"].sum(),
            "units_120d": history.filter(pl.col("date") > day - timedelta(days=120))["units"].sum(),
        }
    )


def forecast_raw(root: Path, as_of: date) -> dict:
    day, sku = _top_sku(root, as_of)
    con = duckdb.connect()
    forecast = con.execute(
        f"SELECT sum(yhat) FROM read_parquet('{_part(root, 'forecasts', as_of)}') WHERE sku = ?",
        [sku],
    ).fetchone()[0]
    statuses = list(NON_SALE_STATUSES)
    units = con.execute(
        f"SELECT CAST(sum(quantity) AS DOUBLE) FROM read_parquet('{_orders_glob(root)}', "
        "hive_partitioning = true) WHERE snapshot_date <= ? AND sku = ? "
        "AND NOT list_contains(?, status) AND CAST(order_ts AS DATE) > ? "
        "AND CAST(order_ts AS DATE) <= ?",
        [day, sku, statuses, day - timedelta(days=120), day],
    ).fetchone()[0]
    return _round({"sku": sku, "forecast": forecast, "units_120d": units or 0.0})


def plan_lib(root: Path, as_of: date) -> dict:
    _, plan = build_plan(root, as_of)
    return dict(plan.group_by("action").len().sort("action").iter_rows())


def plan_raw(root: Path, as_of: date) -> dict:
    rows = duckdb.connect().execute(
        f"SELECT action, count(*) FROM read_parquet('{_part(root, 'order_plan', as_of)}') "
        "GROUP BY 1 ORDER BY 1"
    )
    return dict(rows.fetchall())


def reconcile_lib(root: Path, as_of: date) -> dict:
    _, flags = reconcile_views.latest(root, as_of)
    per = reconcile_views.by_type_and_platform(flags)
    return {"open": int(per["flags"].sum()), "types": per["flag_type"].n_unique()}


def reconcile_raw(root: Path, as_of: date) -> dict:
    row = (
        duckdb.connect()
        .execute(
            f"SELECT count(*), count(DISTINCT flag_type) FROM "
            f"read_parquet('{_part(root, 'flags', as_of)}') WHERE open"
        )
        .fetchone()
    )
    return {"open": row[0], "types": row[1]}


def mapping_lib(root: Path, as_of: date) -> dict:
    stakes = review.stakes(db.cached(root, as_of))
    return _round({"external_skus": stakes.height, "at_stake": stakes["at_stake"].sum()})


def mapping_raw(root: Path, as_of: date) -> dict:
    row = (
        duckdb.connect()
        .execute(
            f"""SELECT count(*), sum(s) FROM (
            SELECT coalesce(sum(price * quantity) FILTER (WHERE status = 'active'), 0.0) AS s
            FROM read_parquet('{_part(root, "listings", as_of)}') GROUP BY platform, sku)"""
        )
        .fetchone()
    )
    return _round({"external_skus": row[0], "at_stake": row[1]})


def holdings_lib(root: Path, as_of: date) -> dict:
    con = db.cached(root, as_of)
    table = holdings.holdings(con, holdings.listing_days(con, as_of)[-1])
    summary = holdings.summary(table, holdings.product_risk(table))
    keys = ("units", "value", "sellers", "products", "single_seller_share")
    return _round({k: summary[k] for k in keys})


def holdings_raw(root: Path, as_of: date) -> dict:
    """The same figures in one hand-written DuckDB query over the listings file and the
    applied mapping rows read from the workbench database."""
    listings = f"read_parquet('{_part(root, 'listings', as_of)}')"
    row = (
        _raw_con(root)
        .execute(
            f"""WITH l AS (
            SELECT o.seller_id AS s, o.sku AS p, o.platform, o.quantity, o.price
            FROM (SELECT {_MAPPED.format(source=listings)}) AS o
            WHERE o.status = 'active'),
        pp AS (SELECT s, p, platform, sum(quantity) AS q, min(price) AS a FROM l
               GROUP BY s, p, platform),
        h AS (SELECT s, p, max(q) AS q, max(q) * min(a) AS v FROM pp GROUP BY s, p
              HAVING max(q) > 0),
        r AS (SELECT p, count(*) AS n FROM h GROUP BY p)
        SELECT (SELECT sum(q) FROM h), (SELECT sum(v) FROM h), (SELECT count(DISTINCT s) FROM h),
               (SELECT count(*) FROM r), (SELECT avg(CAST(n = 1 AS DOUBLE)) FROM r)"""
        )
        .fetchone()
    )
    keys = ("units", "value", "sellers", "products", "single_seller_share")
    return _round(dict(zip(keys, row, strict=True)))


def health_lib(root: Path, as_of: date) -> dict:
    frame = health.snapshots_as_of(root, as_of).filter(pl.col("kind") == "state")
    return dict(frame.select("table", "rows").iter_rows())


def health_raw(root: Path, as_of: date) -> dict:
    con = duckdb.connect()
    out = {}
    for table in store.TABLES:
        part = _part(root, table, as_of)
        if part and store.TABLES[table].kind == "state":
            out[table] = con.execute(f"SELECT count(*) FROM read_parquet('{part}')").fetchone()[0]
    return out


PAGES = (
    Page(
        "seller_concentration",
        "app_pages/seller_concentration.py",
        ("orders",),
        concentration_lib,
        concentration_raw,
    ),
    Page("supply", "app_pages/supply.py", ("orders",), supply_lib, supply_raw),
    Page(
        "forecast",
        "app_pages/forecast.py",
        ("forecasts",),
        forecast_lib,
        forecast_raw,
        widget="forecast-sku",
    ),
    Page("order_today", "app_pages/order_today.py", ("forecasts", "stock"), plan_lib, plan_raw),
    Page(
        "reconciliation",
        "app_pages/reconciliation.py",
        ("flags",),
        reconcile_lib,
        reconcile_raw,
        widget="evidence-sku",
    ),
    Page("mapping", "app_pages/mapping.py", ("listings",), mapping_lib, mapping_raw),
    Page("holdings", "app_pages/holdings.py", ("listings",), holdings_lib, holdings_raw),
    Page("data_health", "app_pages/data_health.py", ("orders",), health_lib, health_raw),
)


# -- the harness -----------------------------------------------------------------------------


def _same(a: dict, b: dict) -> bool:
    """Equal keys and values; floats within 1e-9 relative (sums over a million rows differ
    in the last digits with the order of addition)."""
    if a.keys() != b.keys():
        return False
    return all(
        math.isclose(x, y, rel_tol=1e-9) if isinstance(x, float) else x == y
        for x, y in ((a[k], b[k]) for k in a)
    )


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0-100) of ``values``."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def _clear_caches() -> None:
    import streamlit as st

    st.cache_data.clear()
    st.cache_resource.clear()
    with db._cache_lock:
        db._cache.clear()


def _session(page: Page, timeout: float):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(APP), default_timeout=timeout)
    at.run()
    if not page.path.endswith("seller_concentration.py"):  # the default page
        at.switch_page(page.path).run()
    return at


def _interactions(at, page: Page, root: Path, as_of: date) -> list[Callable[[], object]]:
    """Widget changes on a rendered page (each returns after the rerun)."""
    steps: list[Callable[[], object]] = []
    # the sidebar shows only the filters the page honours (keys "window", "category",
    # "platform")
    if _widget(at, "window") is not None:
        for label in WINDOWS:
            steps.append(lambda label=label: at.selectbox(key="window").select(label).run())
    category = _widget(at, "category")
    if category is not None and len(category.options) > 1:
        # the box shows categories in words; it is set by value: the largest category of the
        # window the steps above end on (365 days), then back to all
        first = store.snapshot_dates(root, "orders")[0]
        cats = sales.categories(db.cached(root, as_of), sales.make_window(as_of, 365, first))
        if cats:  # through the session state: AppTest mixes up format_funcs across pages
            back = category.value

            def choose(value: str) -> object:
                at.session_state["category"] = value
                return at.run()

            steps.append(lambda: choose(cats[0]))
            steps.append(lambda: choose(back))
    platform = _widget(at, "platform")
    if platform is not None and len(platform.options) > 1:
        steps.append(lambda: at.selectbox(key="platform").select_index(1).run())
        steps.append(lambda: at.selectbox(key="platform").select_index(0).run())
    if page.widget:
        box = _widget(at, page.widget)
        if box is not None and len(box.options) > 1:
            # the value behind a label "Product name (SKU)" is the SKU in the brackets
            for label in box.options[1:4]:
                value = label.rsplit(" (", 1)[1][:-1] if label.endswith(")") else label
                steps.append(lambda value=value: at.selectbox(key=page.widget).select(value).run())
    return steps


def _widget(at, key: str):
    """The selectbox with this key on the rendered page, or None."""
    try:
        return at.selectbox(key=key)
    except KeyError:
        return None


def _timed(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def bench_page(root: Path, page: Page, as_of: date, repeat: int, timeout: float) -> dict:
    """First renders, interactions and queries of one page (see the module doc)."""
    firsts, interactions = [], []
    for _ in range(repeat):
        _clear_caches()
        started = time.perf_counter()
        at = _session(page, timeout)
        firsts.append(time.perf_counter() - started)
        if at.exception:
            raise RuntimeError(f"{page.name} raised: {at.exception[0].message}")
        # the rerun of each change is the interaction; its first pass meets cold filters
        for step in _interactions(at, page, root, as_of):
            interactions.append(_timed(step))
            if at.exception:
                raise RuntimeError(f"{page.name} raised: {at.exception[0].message}")
    queries, raws = [], []
    ours = theirs = None
    for _ in range(repeat):
        with db._cache_lock:
            db._cache.clear()
        t0 = time.perf_counter()
        ours = page.queries(root, as_of)
        queries.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        theirs = page.raw(root, as_of)
        raws.append(time.perf_counter() - t0)

    def stats(values: list[float]) -> dict:
        return {
            "p50": round(statistics.median(values), 3),
            "p95": round(percentile(values, 95), 3),
            "n": len(values),
        }

    return {
        "first_render": stats(firsts),
        "interaction": stats(interactions) if interactions else None,
        "queries": stats(queries),
        "raw": stats(raws),
        "ratio": round(statistics.median(queries) / statistics.median(raws), 2),
        "same_numbers": _same(ours, theirs),
        "numbers": {"ours": ours, "raw": theirs},
    }


def describe(root: Path) -> dict:
    """Rows of the data root: listings (latest snapshot), listing days, order lines, SKUs."""
    con = db.connect(root)
    count = lambda sql: con.execute(sql).fetchone()[0]  # noqa: E731
    return {
        "listings": count("SELECT count(*) FROM listings"),
        "listing_days": len(store.snapshot_dates(root, "listings")),
        "order_lines": count("SELECT count(*) FROM orders"),
        "order_days": len(store.snapshot_dates(root, "orders")),
        "skus": count("SELECT count(DISTINCT sku) FROM orders"),
    }


def run_pages_bench(
    roots: list[Path],
    repeat: int = 3,
    timeout: float = 300,
    on_step: Callable[[str], None] | None = None,
) -> dict:
    """:func:`bench_page` for every page with data in each root (pages without their input
    table are listed as skipped, with the reason)."""
    results = []
    for root in roots:
        root = Path(root).resolve()
        os.environ[config.ENV_DATA_ROOT] = str(root)
        days = store.snapshot_dates(root, "orders")
        if not days:
            raise ValueError(f"{root} has no order snapshots (land some first)")
        as_of = days[-1]
        entry = {"root": str(root), "as_of": str(as_of), "size": describe(root), "pages": {}}
        _clear_caches()
        _session(PAGES[0], timeout)  # import the app's modules once, outside the figures
        for page in PAGES:
            missing = [t for t in page.needs if not store.snapshot_dates(root, t)]
            if missing:
                entry["pages"][page.name] = {"skipped": f"no {' or '.join(missing)} snapshot"}
                continue
            if on_step:
                on_step(f"{root.name}: {page.name}")
            entry["pages"][page.name] = bench_page(root, page, as_of, repeat, timeout)
        results.append(entry)
    return {"repeat": repeat, "roots": results}


def print_pages(results: dict) -> str:
    lines = []
    for entry in results["roots"]:
        size = entry["size"]
        lines.append(
            f"{entry['root']} as of {entry['as_of']}: {size['listings']:,} listings x "
            f"{size['listing_days']} days, {size['order_lines']:,} order lines on "
            f"{size['order_days']} days, {size['skus']:,} SKUs"
        )
        lines.append(
            f"  {'page':22} {'first p50':>9} {'p95':>6} {'interact p50':>12} {'p95':>6} "
            f"{'queries p50':>11} {'raw p50':>8} {'ratio':>6} same"
        )
        for name, r in entry["pages"].items():
            if "skipped" in r:
                lines.append(f"  {name:22} skipped: {r['skipped']}")
                continue
            i = r["interaction"] or {"p50": float("nan"), "p95": float("nan")}
            lines.append(
                f"  {name:22} {r['first_render']['p50']:9.2f} {r['first_render']['p95']:6.2f} "
                f"{i['p50']:12.3f} {i['p95']:6.3f} {r['queries']['p50']:11.3f} "
                f"{r['raw']['p50']:8.3f} {r['ratio']:5.1f}x {'yes' if r['same_numbers'] else 'NO'}"
            )
    lines.append(
        "seconds, wall; first = new session on cold caches; interact = one widget change "
        "and its rerun; queries = the library's calls behind the headline numbers (cold "
        "connection), raw = a hand-written DuckDB query over the same Parquet"
    )
    return "\n".join(lines)
