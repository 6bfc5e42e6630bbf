"""Each page through streamlit's AppTest, against lib's own numbers on the real Olist data."""

from __future__ import annotations

import json
import shutil
from datetime import date, timedelta

import pytest
from streamlit.testing.v1 import AppTest

from stockroom import concentration, supply
from stockroom.config import PROJECT_ROOT
from stockroom.db import connect
from stockroom.sales import make_window, order_days

APP = str(PROJECT_ROOT / "app.py")


@pytest.fixture
def app(olist_root, monkeypatch):
    monkeypatch.setenv("STOCKROOM_DATA_ROOT", str(olist_root))
    return AppTest.from_file(APP, default_timeout=120)


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def expected_window(root, window_days=365):
    con = connect(root)
    first, last = order_days(con)
    return con, make_window(last, window_days, first)


def test_seller_concentration_page(app, olist_root):
    """All categories: the headline is per category (a category is the market), weighted by
    revenue, with the most concentrated categories; the marketplace pooled is labelled so."""
    at = app.run()
    assert not at.exception
    assert at.title[0].value == "Seller concentration"
    con, window = expected_window(olist_root)
    across = concentration.across_categories(concentration.by_category(con, window), top=10)
    pooled = concentration.summary(con, window)
    shown = metrics(at)
    assert shown["HHI per category"] == f"{across['hhi']:,.0f}"
    assert shown["CR4 per category"] == f"{across['cr4']:.1%}"
    assert shown["Revenue, HHI > 1,800"] == f"{across['highly_concentrated_share']:.1%}"
    assert shown["HHI, pooled"] == f"{pooled['hhi']:,.0f}"
    assert shown["CR4, pooled"] == f"{pooled['cr4']:.1%}"
    assert shown["Sellers with sales"] == f"{pooled['sellers']:,}"
    # the per-category headline is far above the pooled one on Olist (72 markets, not one)
    assert across["hhi"] > 5 * pooled["hhi"]
    # a CR4 change is in percentage points, from the previous 365 days
    before = concentration.across_categories(
        concentration.by_category(con, make_window(window.start.date() - timedelta(days=1), 365))
    )
    cr4 = next(m for m in at.metric if m.label == "CR4 per category")
    assert cr4.delta == f"{100 * (across['cr4'] - before['cr4']):+.1f} pp"
    charts = at.get("plotly_chart")
    assert len(charts) == 3
    bars = json.loads(charts[0].proto.spec)["data"][0]
    most = across["most_concentrated"]
    assert list(reversed(bars["y"])) == most["category_name"].to_list()  # names, not snake_case
    assert all(" " in n or n[0].isupper() for n in bars["y"])
    tables = at.dataframe
    assert tables[0].value.shape[0] == 50  # the default "sellers to show"
    assert tables[0].value.columns[1] == "seller"  # a label people read, the id at the end
    assert list(tables[1].value.columns[:2]) == ["platform", "platform_seller_id"]  # drill-down
    by_category = next(t.value for t in tables if "category_name" in t.value.columns)
    assert by_category["hhi"].is_monotonic_decreasing
    assert set(by_category["band"]) <= {label for _, label in concentration.HHI_BANDS}
    downloads = at.get("download_button")
    assert {d.proto.label for d in downloads} >= {"CSV", "Excel", "Parquet"}


def test_category_filter_changes_the_numbers(app, olist_root):
    at = app.run()
    at.sidebar.selectbox[1].select("watches_gifts").run()
    assert not at.exception
    con, window = expected_window(olist_root)
    want = concentration.summary(con, window, "watches_gifts")
    assert metrics(at)["HHI (0-10,000)"] == f"{want['hhi']:,.0f}"
    assert "HHI per category" not in metrics(at)
    assert "Watches gifts" in at.caption[0].value  # the category in words


def test_window_and_as_of_filters(app, olist_root):
    at = app.run()
    at.sidebar.selectbox[0].select("30 days").run()
    at.sidebar.date_input[0].set_value(date(2017, 12, 31)).run()
    assert not at.exception
    con = connect(olist_root, date(2017, 12, 31))
    want = concentration.summary(con, make_window(date(2017, 12, 31), 30))
    assert metrics(at)["Sellers with sales"] == f"{want['sellers']:,}"


def test_sidebar_shows_the_filters_the_page_honours_and_keeps_them(app):
    at = app.run()
    assert [s.label for s in at.sidebar.selectbox] == ["Window", "Category"]
    assert at.sidebar.selectbox[0].value == "365 days"  # config.DEFAULT_WINDOW_DAYS
    at.sidebar.selectbox[1].select("office_furniture").run()
    # a window without the chosen category's sales still keeps it (never silently reset)
    at.sidebar.selectbox[0].select("30 days").run()
    assert at.sidebar.selectbox[1].value == "office_furniture"
    assert "Office furniture" in at.caption[0].value
    at.switch_page("app_pages/data_health.py").run()
    assert not at.exception
    assert [s.label for s in at.sidebar.selectbox] == []  # Data health has no window
    at.switch_page("app_pages/order_today.py").run()
    assert [s.label for s in at.sidebar.selectbox] == ["Category"]
    assert at.sidebar.selectbox[0].value == "office_furniture"
    at.switch_page("app_pages/seller_concentration.py").run()
    assert [(s.label, s.value) for s in at.sidebar.selectbox] == [
        ("Window", "30 days"),
        ("Category", "office_furniture"),
    ]


def test_another_data_root_shows_a_banner_with_a_way_back(app, olist_root, tmp_path):
    at = app.run()
    assert not [i for i in at.info if "Showing the data root" in i.value]
    assert not at.sidebar.text_input  # no free-text path: a demo button is the only switch
    other = tmp_path / "other"
    shutil.copytree(olist_root / "snapshots", other / "snapshots")
    at.session_state["data-root"] = str(other)  # what a demo button does
    at.run()
    assert not at.exception
    banner = [i for i in at.info if "Showing the data root" in i.value]
    assert banner and str(other) in banner[0].value
    at.button(key="data-root-back").click().run()
    assert at.session_state["data-root"] == str(olist_root)
    assert not [i for i in at.info if "Showing the data root" in i.value]


def test_supply_page(app, olist_root):
    at = app.run()
    at.switch_page("app_pages/supply.py").run()
    assert not at.exception
    assert at.title[0].value == "Supply"
    con, window = expected_window(olist_root)
    want = supply.supply_summary(con, window)
    shown = metrics(at)
    assert shown["Products sold"] == f"{want['products']:,}"
    assert shown["One-seller products"] == f"{want['single_seller_share']:.1%}"
    assert shown["Velocity (units/day)"] == f"{want['units_per_day']:,.1f}"
    charts = at.get("plotly_chart")
    assert len(charts) == 2
    top = supply.top_suppliers(con, window, None, 20)
    bars = json.loads(charts[1].proto.spec)["data"][0]
    # sellers by id prefix and city, not bare 32-character hashes
    assert list(reversed(bars["y"])) == top["seller"].to_list()
    assert all(" · " in label and len(label) < 40 for label in bars["y"])
    categories = at.dataframe[0].value
    assert categories.columns[0] == "category_name"
    assert "Health beauty" in set(categories["category_name"])
    products = at.dataframe[1].value
    assert products.shape[0] == 100  # top products, not all of them
    assert products.columns[0] == "product" and products.columns[-1] == "sku"
    assert not products["product"].str.fullmatch(r"[0-9a-f]{32}").any()


def test_empty_data_root_explains_what_to_do(tmp_path, monkeypatch):
    monkeypatch.setenv("STOCKROOM_DATA_ROOT", str(tmp_path))
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    assert "stockroom ingest olist" in at.info[0].value


def test_data_health_page(app, olist_root):
    from stockroom import health, workbench

    at = app.run()
    at.switch_page("app_pages/data_health.py").run()
    assert not at.exception
    assert at.title[0].value == "Data health"
    runs = workbench.runs(workbench.engine(olist_root), limit=5_000)
    shown = metrics(at)
    assert shown["Job success rate"] == f"{health.success_rate(runs):.1%}"
    assert shown["Runs"] == f"{runs.height:,}"
    assert len(at.get("plotly_chart")) == 1
    as_of = health.snapshots_as_of(olist_root, date(2018, 8, 29))
    assert at.dataframe[0].value["table"].tolist() == as_of["table"].to_list()
    assert at.dataframe[1].value.shape[0] == health.by_source(runs).height


def test_data_health_reads_snapshots_as_of_the_sidebar_date(app, olist_root):
    """An earlier as-of date moves the snapshot each table resolves to (orders: the last day
    of activity on or before it), like every other page."""
    at = app.run()
    at.switch_page("app_pages/data_health.py").run()
    at.sidebar.date_input[0].set_value(date(2017, 6, 30)).run()
    assert not at.exception
    shown = at.dataframe[0].value.set_index("table")
    assert str(shown.loc["orders", "snapshot"])[:10] <= "2017-06-30"
    assert shown.loc["orders", "days_behind"] >= 0
    assert str(shown.loc["sellers", "snapshot"])[:10] <= "2017-06-30"


@pytest.fixture(scope="module")
def mapped_root(tmp_path_factory):
    from stockroom.sim.marketplace import SimConfig
    from stockroom_jobs.ingest import ingest_simulation
    from stockroom_jobs.mapping import run_mapping

    root = tmp_path_factory.mktemp("mapped")
    ingest_simulation(root, SimConfig(listings=4_000, sellers=40, days=1, seed=5))
    run_mapping(root)
    return root


def test_mapping_page_review_and_audit(mapped_root, monkeypatch):
    import polars as pl

    from stockroom import workbench
    from stockroom.mapping import repo

    monkeypatch.setenv("STOCKROOM_DATA_ROOT", str(mapped_root))
    at = AppTest.from_file(APP, default_timeout=120).run()
    at.switch_page("app_pages/mapping.py").run()
    assert not at.exception
    assert at.title[0].value == "Mapping"
    eng = workbench.engine(mapped_root)
    before = repo.mappings(eng)
    in_review = before.filter(pl.col("status") == "review")
    assert in_review.height > 0
    assert metrics(at)["In review"].endswith("%")
    label = at.selectbox[0].options[0]  # the top of the queue: most at stake
    platform, sku = label.split(" · ")[:2]
    reject = next(b for b in at.button if b.label == "Reject")
    assert reject.disabled  # nobody to sign the decision yet
    at.sidebar.text_input(key="signer_input").input("Ana Costa").run()
    next(b for b in at.button if b.label == "Reject").click().run()
    assert not at.exception
    after = repo.mappings(eng).filter(
        (pl.col("platform") == platform) & (pl.col("external_sku") == sku)
    )
    assert after["status"].to_list() == ["rejected"]
    log = repo.history(eng, "sku_mapping", f"{platform}/{sku}")
    assert log["actor"][-1] == "Ana Costa" and "Mapping page" in log["reason"][-1]


def test_concentration_without_categories_is_one_market(tmp_path, monkeypatch):
    from tests.conftest import land_orders

    day = date(2024, 3, 10)
    land_orders(tmp_path, [(day, "o1", "alice", "A", 2, 10.0), (day, "o2", "bob", "B", 1, 5.0)])
    monkeypatch.setenv("STOCKROOM_DATA_ROOT", str(tmp_path))
    at = AppTest.from_file(APP, default_timeout=120).run()
    assert not at.exception and not at.error
    assert any("has a product category" in c.value for c in at.caption)
    shares = [20 / 25, 5 / 25]
    assert metrics(at)["HHI (0-10,000)"] == f"{sum((100 * s) ** 2 for s in shares):,.0f}"
