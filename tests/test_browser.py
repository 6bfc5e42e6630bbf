"""Every page in a real headless Chromium against a real `stockroom serve` on 127.0.0.1, with
the data each page needs: the bundled Olist data forecast with the demo stock (Seller
concentration, Supply, Forecast, Order today, Data health), a seeded reconciliation scenario
(Reconciliation), a mapped simulated marketplace (Mapping, Holdings), the StockX market
(Market) and the resale demo (Resale).

Each server opens on Data health (its cold start, guarded at :data:`COLD_START_GUARD_SECONDS`);
every other page's first render (title and KPI tiles on screen, the frontend loaded anew) is
measured, and the test fails loudly above :data:`GUARD_SECONDS`:
a guard against a page turning slow, not the benchmark (`stockroom bench pages` is)."""

from __future__ import annotations

import json
import shutil

import pytest

pytestmark = pytest.mark.browser

#: a page whose first render takes longer than this (seconds) fails the test. It was 5 s; on
#: 2026-12-02 the 2-core machine ran about twice as slow as the day before (pandas' CSV-to-Parquet
#: 4.8 s against 2.2 s) and the previous release itself failed 5 s (Order today 5.3 s), so the
#: guard catches a page turning several times slower, not noise; figures are the benchmark's
GUARD_SECONDS = 10.0
#: a server whose start (to the first page's content) takes longer than this fails the test; the
#: previous release took 10.7 s on a quiet machine, 11.5-19.9 s inside this test on a slow one
COLD_START_GUARD_SECONDS = 30.0


@pytest.fixture(scope="module")
def demo_roots(olist_demo, tmp_path_factory):
    from stockroom.sim.marketplace import SimConfig
    from stockroom_jobs.ingest import ingest_simulation
    from stockroom_jobs.mapping import run_mapping
    from stockroom_jobs.market import ingest_stockx_market
    from stockroom_jobs.reconcile import ingest_reconcile_demo, run_reconcile
    from stockroom_jobs.resale import land_demo

    shop = tmp_path_factory.mktemp("browser") / "shop"
    shutil.copytree(olist_demo, shop)
    sync = tmp_path_factory.mktemp("browser-sync")
    ingest_reconcile_demo(sync, items=600, inject=6, seed=2)
    run_reconcile(sync)
    mapped = tmp_path_factory.mktemp("browser-mapped")
    ingest_simulation(mapped, SimConfig(listings=4_000, sellers=40, days=1, seed=5))
    run_mapping(mapped)
    market = tmp_path_factory.mktemp("browser-market")
    ingest_stockx_market(None, market)
    resale = tmp_path_factory.mktemp("browser-resale")
    land_demo(resale, invoices_count=9)
    return shop, sync, mapped, market, resale


def test_every_page_renders_in_chromium(browser, demo_roots, tmp_path):
    shop, sync, mapped, market, resale = demo_roots
    # each server opens on Data health: that first visit is the server's cold start (its
    # session imports the app), so every page after it is timed as a user opening it
    health = {"data_health": browser.PAGES["data_health"]}
    others = {k: v for k, v in browser.PAGES.items() if k != "data_health"}
    servers = {}
    with browser.serve(shop) as url:
        servers["shop"] = browser.visit(
            url, tmp_path, {**health, **others, **browser.FORECAST_PAGES}
        )
    with browser.serve(sync) as url:
        servers["sync"] = browser.visit(
            url, tmp_path / "sync", {**health, **browser.RECONCILE_PAGES}
        )
    with browser.serve(mapped) as url:
        servers["mapped"] = browser.visit(url, tmp_path / "mapped", {**health, **browser.SIM_PAGES})
    with browser.serve(market) as url:
        servers["market"] = browser.visit(
            url, tmp_path / "market", {**health, **browser.MARKET_PAGES}
        )
    with browser.serve(resale) as url:
        servers["resale"] = browser.visit(
            url, tmp_path / "resale", {**health, **browser.RESALE_PAGES}
        )
    seen = {name: info for visited in servers.values() for name, info in visited.items()}
    seen["data_health"] = servers["shop"]["data_health"]
    assert set(seen) == {
        "seller_concentration",
        "supply",
        "data_health",
        "forecast",
        "order_today",
        "reconciliation",
        "mapping",
        "holdings",
        "market",
        "resale",
    }
    for name, info in seen.items():
        assert info["errors"] == 0, name
        assert info["tables"] >= 1 and len(info["metrics"]) >= 4, name
    for name in ("seller_concentration", "supply", "data_health", "forecast", "order_today"):
        assert (tmp_path / f"{name}.png").stat().st_size > 20_000, name
    assert (tmp_path / "sync" / "reconciliation.png").stat().st_size > 20_000
    assert (tmp_path / "mapped" / "mapping.png").stat().st_size > 20_000
    assert (tmp_path / "mapped" / "holdings.png").stat().st_size > 20_000
    assert seen["holdings"]["charts"] == 2 and "Value (USD)" in seen["holdings"]["metrics"]
    assert (tmp_path / "market" / "market.png").stat().st_size > 20_000
    # the item's price history and the best-platform split (in its tab), the repricing list
    assert seen["market"]["charts"] == 2 and "At stake (USD)" in seen["market"]["metrics"]
    # the resale dashboard: tiles, unsold stock by age, the return by platform, the search
    # table; and the first item's price history (in its tab)
    assert (tmp_path / "resale" / "resale.png").stat().st_size > 20_000
    assert seen["resale"]["charts"] == 3 and "Net profit (USD)" in seen["resale"]["metrics"]
    # concentration: most concentrated categories, the monthly trend, the top sellers
    assert seen["seller_concentration"]["charts"] == 3 and seen["supply"]["charts"] == 2
    assert "Job success rate" in seen["data_health"]["metrics"]
    assert {"HHI per category", "CR4 per category", "Revenue, HHI > 1,800"} <= set(
        seen["seller_concentration"]["metrics"]
    )
    colds = {server: visited["data_health"]["cold_start"] for server, visited in servers.items()}
    renders = {n: i["seconds"] for n, i in seen.items() if n != "data_health"}
    complete = {n: i["complete_seconds"] for n, i in seen.items() if n != "data_health"}
    print(f"first render (s): {json.dumps(renders)}; charts and tables: {json.dumps(complete)}")
    print(f"cold start, `stockroom serve` to Data health's content (s): {json.dumps(colds)}")
    slow = {name: s for name, s in renders.items() if s > GUARD_SECONDS}
    assert not slow, f"pages slower than {GUARD_SECONDS} s to first render: {slow} (all: {renders})"
    cold = {server: s for server, s in colds.items() if s > COLD_START_GUARD_SECONDS}
    assert not cold, f"app start slower than {COLD_START_GUARD_SECONDS} s: {cold}"


def test_import_page_uploads_in_chromium(browser, tmp_path):
    """A seller's eBay orders report uploaded through the real file input, imported and
    recorded: the orders land in the store of the served data root."""
    import polars as pl

    from stockroom import store, workbench
    from stockroom.config import PROJECT_ROOT

    root = tmp_path / "root"
    root.mkdir()
    export = PROJECT_ROOT / "data" / "raw" / "own" / "ebay_orders.csv"
    with browser.serve(root) as url:
        seen = browser.upload(url, export, "Ana Costa", tmp_path)
    assert seen["errors"] == 0
    assert "ebay-orders" in seen["layout"]
    days = store.snapshot_dates(root, "orders")
    landed = pl.concat([store.read_snapshot(root, "orders", d) for d in days])
    assert landed.height == sum(1 for _ in export.open()) - 1
    run = workbench.runs(workbench.engine(root)).row(0, named=True)
    assert run["job"] == "import-orders" and run["status"] == "succeeded"
    assert (tmp_path / "import.png").stat().st_size > 20_000


def test_resale_page_imports_auction_invoices_in_chromium(browser, tmp_path):
    """Three auction invoices (one per layout) put in the Resale page's file input and
    imported in a child process with progress: every lot lands, to the cent, and the page
    shows the new book."""
    from datetime import date

    from stockroom import workbench
    from stockroom.resale import repo
    from stockroom.sim import invoices as sim

    root = tmp_path / "root"
    root.mkdir()
    written = sim.write_invoices(tmp_path / "pdf", 3, date(2026, 9, 1), seed=5)
    files = [tmp_path / "pdf" / f"{inv.invoice_id}.pdf" for inv in written]
    with browser.serve(root) as url:
        seen = browser.upload_invoices(url, files, "Ana Costa", tmp_path)
    assert seen["errors"] == 0
    assert seen["success"].count(": landed") == 3, seen["success"]
    items = repo.items(workbench.engine(root))
    assert round(items["cost"].sum(), 2) == round(float(sum(inv.total for inv in written)), 2)
    assert (tmp_path / "resale_import.png").stat().st_size > 20_000


def test_order_today_ticks_a_row_and_marks_it_ordered_in_chromium(browser, olist_demo, tmp_path):
    """The buyer's click: the first Order today row's checkbox in the real grid, then the
    button; the purchase order lands signed by the buyer and the SKU moves to Already
    ordered."""
    import polars as pl

    from stockroom import workbench
    from stockroom.procurement import actions, repo
    from stockroom.procurement.plan import build_plan

    root = tmp_path / "shop"
    shutil.copytree(olist_demo, root)
    _, plan = build_plan(root)
    first = plan.filter(pl.col("action") == actions.ORDER_TODAY).row(0, named=True)
    with browser.serve(root) as url:
        seen = browser.tick_and_order(url, "Ana Costa")
    assert seen["errors"] == 0
    assert seen["button"].endswith("Mark 1 ticked as ordered")
    assert "1 SKU(s) ordered" in seen["toast"]
    assert int(seen["after"].replace(",", "")) == int(seen["before"].replace(",", "")) + 1
    line = repo.purchase_order_lines(workbench.engine(root), "open").filter(
        pl.col("created_by") == "Ana Costa"
    )
    assert line["sku"].to_list() == [first["sku"]]
    assert line["quantity"].to_list() == [first["order_qty"]]
