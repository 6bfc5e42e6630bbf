"""Analytics on the unified Seller and catalog product (the mapping applied at query time),
with the platforms' own ids when the mapping is switched off."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from stockroom import concentration, sales, store, supply, workbench
from stockroom.config import PROJECT_ROOT
from stockroom.db import cached, connect
from stockroom.mapping import repo
from stockroom.mapping.sellers import resolve
from tests.conftest import order_lines

DAY = date(2024, 3, 10)
WINDOW = sales.make_window(DAY, 7)
# Acme sells on three platforms under three ids and spellings; Zed on one
ACCOUNTS = [
    ("ebay", "acme_cards_99", "Acme Cards"),
    ("blokpax", "0x7f3a", "ACME CARDS"),
    ("shootstrayt", "acme-cards", "acme cards"),
    ("ebay", "zed_1", "Zed Collectibles"),
]
LINES = [  # (platform, order, seller id, platform SKU, units, price)
    ("ebay", "e1", "acme_cards_99", "EB-1", 1, 30.0),
    ("blokpax", "b1", "0x7f3a", "BP-1", 1, 20.0),
    ("shootstrayt", "s1", "acme-cards", "SS-1", 2, 10.0),
    ("ebay", "e2", "zed_1", "EB-2", 1, 30.0),
]


@pytest.fixture
def three_platforms(tmp_path):
    frames = []
    for platform, order, seller, sku, units, price in LINES:
        line = order_lines([(DAY, order, seller, sku, units, price)])
        frames.append(line.with_columns(platform=pl.lit(platform)))
    store.write_snapshots(tmp_path, "orders", {DAY: pl.concat(frames)}, run_id="t", sources=[])
    accounts = pl.DataFrame(ACCOUNTS, schema=["platform", "seller_id", "seller_name"], orient="row")
    sellers = accounts.with_columns(city=pl.lit(None, pl.String), region=pl.lit(None, pl.String))
    sellers = sellers.with_columns(country=pl.lit(None, pl.String))
    store.write_snapshot(tmp_path, "sellers", sellers, DAY, run_id="t", sources=[])
    eng = workbench.engine(tmp_path)
    aliases, suggestions = resolve(accounts)
    repo.save_sellers(eng, aliases, suggestions, actor="test", reason="stockroom map")
    # the three platform SKUs are one catalog card
    repo.add_products(eng, pl.DataFrame({"sku": ["card-1"]}), actor="test", reason="catalog")
    proposed = pl.DataFrame(
        {
            "platform": ["ebay", "blokpax", "shootstrayt"],
            "external_sku": ["EB-1", "BP-1", "SS-1"],
            "product_sku": ["card-1"] * 3,
            "method": ["gtin"] * 3,
            "confidence": [1.0] * 3,
            "status": ["auto"] * 3,
            "reason": [None] * 3,
        }
    )
    repo.save_mappings(eng, proposed, actor="test", reason="stockroom map")
    return tmp_path


def hhi(*revenues: float) -> float:
    total = sum(revenues)
    return sum((100 * r / total) ** 2 for r in revenues)


def test_one_seller_on_three_platforms_counts_once(three_platforms):
    con = connect(three_platforms)
    summary = concentration.summary(con, WINDOW)
    assert summary["sellers"] == 2  # Acme (30 + 20 + 20) and Zed (30)
    assert summary["hhi"] == pytest.approx(hhi(70, 30))
    table = concentration.seller_table(con, WINDOW)
    assert table["seller"].to_list() == ["Acme Cards", "Zed Collectibles"]  # names, not ids
    assert table["revenue"].to_list() == pytest.approx([70.0, 30.0])
    cov = sales.mapping_coverage(con, WINDOW)
    assert cov["seller_share"] == pytest.approx(1.0)
    assert cov["product_share"] == pytest.approx(70 / 100)  # Zed's EB-2 is not mapped
    products = supply.product_supply(con, WINDOW)
    assert products.filter(pl.col("sku") == "card-1")["sellers"].to_list() == [1]
    # switched off: each platform's own accounts and SKUs
    (three_platforms / "stockroom.toml").write_text("use_mapping = false\n")
    off = connect(three_platforms)
    assert concentration.summary(off, WINDOW)["sellers"] == 4
    assert concentration.summary(off, WINDOW)["hhi"] == pytest.approx(hhi(30, 20, 20, 30))
    assert supply.product_supply(off, WINDOW).height == 4
    assert sales.mapping_coverage(off, WINDOW)["mapping"] is False


def test_a_corrected_mapping_changes_history_at_query_time(three_platforms):
    before = supply.product_supply(cached(three_platforms, DAY), WINDOW)
    assert before.filter(pl.col("sku") == "card-1")["units"].to_list() == [4]
    repo.decide(
        workbench.engine(three_platforms),
        "blokpax",
        "BP-1",
        action="reject",
        actor="Ana",
        reason="a different card",
    )
    # the landed snapshots are unchanged; the shared connection sees the audited decision
    after = supply.product_supply(cached(three_platforms, DAY), WINDOW)
    assert after.filter(pl.col("sku") == "card-1")["units"].to_list() == [3]
    assert "BP-1" in after["sku"].to_list()
    assert store.read_snapshot(three_platforms, "orders", DAY)["sku"].to_list().count("BP-1") == 1


@pytest.fixture(scope="module")
def mapped_sim(tmp_path_factory):
    from stockroom.sim.marketplace import SimConfig, simulate
    from stockroom_jobs.ingest import ingest_simulation
    from stockroom_jobs.mapping import run_mapping

    root = tmp_path_factory.mktemp("mapped_sim")
    config = SimConfig(listings=4_000, sellers=40, days=3, seed=5)
    ingest_simulation(root, config)
    run_mapping(root)
    return root, simulate(config).seller_truth


def test_sellers_on_the_simulated_marketplace_match_the_truth(mapped_sim):
    root, truth = mapped_sim
    con = connect(root)
    first, last = sales.order_days(con)
    window = sales.make_window(last, None, first)
    accounts = con.execute("SELECT DISTINCT platform, seller_id FROM orders").pl()
    true_sellers = accounts.join(truth, on=["platform", "seller_id"])["seller_key"].n_unique()
    assert accounts.height > true_sellers  # some sellers trade on several platforms
    assert concentration.summary(con, window)["sellers"] == true_sellers
    assert sales.mapping_coverage(con, window)["seller_share"] == pytest.approx(1.0)


def test_pages_count_sellers_across_platforms(mapped_sim, monkeypatch):
    root, _ = mapped_sim
    monkeypatch.setenv("STOCKROOM_DATA_ROOT", str(root))
    at = AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=120).run()
    assert not at.exception and not at.error
    assert any("one Seller across platforms (100.0% of revenue" in c.value for c in at.caption)
    sellers = at.dataframe[0].value
    assert not sellers["seller"].str.startswith("seller:").any()  # the Sellers' names
    at.switch_page("app_pages/supply.py").run()
    assert not at.exception
    assert any("one catalog product across SKUs" in c.value for c in at.caption)
