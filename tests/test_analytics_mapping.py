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
    return build(tmp_path, ACCOUNTS, LINES)


def build(tmp_path, accounts_rows, lines):
    """A data root with these accounts and order lines, mapped as `stockroom map` would."""
    frames = []
    for platform, order, seller, sku, units, price in lines:
        line = order_lines([(DAY, order, seller, sku, units, price)])
        frames.append(line.with_columns(platform=pl.lit(platform)))
    store.write_snapshots(tmp_path, "orders", {DAY: pl.concat(frames)}, run_id="t", sources=[])
    accounts = pl.DataFrame(
        accounts_rows, schema=["platform", "seller_id", "seller_name"], orient="row"
    )
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


def test_who_dominates_where(three_platforms):
    con = connect(three_platforms)
    shares = concentration.platform_shares(con, WINDOW)
    # ebay is the largest platform (60 of 100), then blokpax and shootstrayt (20 each)
    assert shares.columns == [
        "seller_id",
        "seller",
        "revenue",
        "share",
        "ebay",
        "blokpax",
        "shootstrayt",
    ]
    acme = shares.row(0, named=True)
    assert acme["seller"] == "Acme Cards" and acme["share"] == pytest.approx(0.7)
    assert (acme["ebay"], acme["blokpax"], acme["shootstrayt"]) == pytest.approx((0.5, 1.0, 1.0))
    zed = shares.row(1, named=True)
    assert (zed["ebay"], zed["blokpax"]) == pytest.approx((0.5, 0.0))
    per_platform = concentration.by_platform(con, WINDOW)
    assert per_platform["platform"].to_list() == ["ebay", "blokpax", "shootstrayt"]
    assert per_platform["hhi"].to_list() == pytest.approx([5_000, 10_000, 10_000])
    assert per_platform["revenue_share"].to_list() == pytest.approx([0.6, 0.2, 0.2])
    # mapping off: Acme's three accounts are three sellers, each alone on its platform
    (three_platforms / "stockroom.toml").write_text("use_mapping = false\n")
    off = concentration.platform_shares(connect(three_platforms), WINDOW)
    assert off.height == 4 and off["share"].max() == pytest.approx(0.3)


def test_seller_review_merge_split_rename_are_audited_and_change_the_figures(tmp_path):
    # "Zed Collectables" on blokpax is a near name of eBay's "Zed Collectibles": a suggestion
    accounts = [*ACCOUNTS, ("blokpax", "0x99", "Zed Collectables")]
    lines = [*LINES, ("blokpax", "b2", "0x99", "BP-2", 1, 10.0)]
    root = build(tmp_path, accounts, lines)
    eng = workbench.engine(root)
    assert concentration.summary(connect(root), WINDOW)["sellers"] == 3
    links = repo.seller_links_frame(eng)
    assert links.height == 1 and {links["seller"][0], links["other"][0]} == {
        "Zed Collectibles",
        "Zed Collectables",
    }
    moved = repo.confirm_link(eng, links["id"][0], actor="Ana", reason="same shop")
    assert moved == 1
    after = concentration.summary(cached(root, DAY), WINDOW)
    assert after["sellers"] == 2 and after["hhi"] == pytest.approx(hhi(70, 40))
    assert repo.seller_links_frame(eng).is_empty()  # the queue is worked
    assert repo.seller_links_frame(eng, "confirmed").height == 1

    # split eBay's Acme account off: Acme keeps blokpax + shootstrayt (40)
    new_key = repo.split_account(eng, "ebay", "acme_cards_99", actor="Ana", reason="sold")
    split = concentration.seller_table(cached(root, DAY), WINDOW)
    assert split.height == 3 and split["revenue"].to_list() == pytest.approx([40, 40, 30])
    repo.rename_seller(eng, new_key, "Acme Outlet", actor="Ana", reason="its own shop")
    names = concentration.seller_table(cached(root, DAY), WINDOW)["seller"].to_list()
    assert "Acme Outlet" in names and "Acme Cards" in names
    # a re-run of the automatic mapping keeps what people decided
    aliases, suggestions = resolve(
        pl.DataFrame(accounts, schema=["platform", "seller_id", "seller_name"], orient="row")
    )
    repo.save_sellers(eng, aliases, suggestions, actor="stockroom", reason="stockroom map")
    assert concentration.summary(cached(root, DAY), WINDOW)["sellers"] == 3

    # merge it back: the figures return to two Sellers
    acme = [k for k, n in _seller_names(eng).items() if n == "Acme Cards"][0]
    assert repo.merge_sellers(eng, acme, new_key, actor="Ana", reason="same shop") == 1
    assert concentration.summary(cached(root, DAY), WINDOW)["hhi"] == pytest.approx(hhi(70, 40))
    trail = repo.history(eng, "seller_alias", "ebay/acme_cards_99")
    assert trail["actor"].to_list()[-2:] == ["Ana", "Ana"]  # split off, then merged back
    assert [r["reason"] for r in trail.tail(2).iter_rows(named=True)] == ["sold", "same shop"]
    renamed = repo.history(eng, "seller", str(new_key))
    assert '"split_from"' in renamed["new"][0] and '"Acme Outlet"' in renamed["new"][1]
    from stockroom import audit

    assert audit.verify(eng).ok


def _seller_names(eng) -> dict[int, str]:
    import sqlalchemy as sa

    with eng.connect() as conn:
        return dict(
            conn.execute(
                sa.select(workbench.sellers_t.c.seller_key, workbench.sellers_t.c.name)
            ).all()
        )


def test_mapping_page_splits_an_account_off_and_the_figures_follow(
    mapped_sim, tmp_path, monkeypatch
):
    import shutil

    root = tmp_path / "root"
    shutil.copytree(mapped_sim[0], root)  # the module's root stays as mapped
    con = connect(root)
    first, last = sales.order_days(con)
    window = sales.make_window(last, None, first)
    before = concentration.summary(con, window)["sellers"]
    # an account that traded and shares its Seller with another platform's account
    traded = con.execute(
        "SELECT DISTINCT o.platform, o.seller_id, m.unified_id FROM orders o "
        "JOIN seller_map m USING (platform, seller_id)"
    ).pl()
    shared = traded.filter(pl.col("unified_id").is_duplicated()).sort("platform", "seller_id")
    platform, seller_id = shared.row(0)[:2]

    monkeypatch.setenv("STOCKROOM_DATA_ROOT", str(root))
    at = AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=120).run()
    at.switch_page("app_pages/mapping.py").run()
    assert not at.exception
    assert any("Sellers behind" in c.value for c in at.caption)
    assert at.button(key="split").disabled  # nobody to sign yet
    at.sidebar.text_input(key="signer_input").input("Ana Costa").run()
    at.selectbox(key="split-account").select((platform, seller_id)).run()
    at.text_input(key="split-name").input("Split Shop").run()
    at.button(key="split").click().run()
    assert not at.exception
    after = concentration.summary(cached(root, last), window)["sellers"]
    assert after == before + 1
    log = repo.history(workbench.engine(root), "seller_alias", f"{platform}/{seller_id}")
    assert log["actor"][-1] == "Ana Costa" and "Mapping page" in log["reason"][-1]

    # the Platforms tab: each platform's concentration and who dominates where
    at.switch_page("app_pages/seller_concentration.py").run()
    assert not at.exception
    tables = {tuple(t.value.columns[:2]): t.value for t in at.dataframe}
    per_platform = next(v for k, v in tables.items() if k[0] == "platform" and "hhi" in v.columns)
    assert set(per_platform["platform"]) == {"ebay", "blokpax", "shootstrayt"}
    dominates = next(v for k, v in tables.items() if "seller" in k and "ebay" in v.columns)
    assert "Split Shop" in set(dominates["seller"]) or dominates.shape[0] == 15


def test_a_platform_filter_answers_for_that_platform_only(three_platforms, monkeypatch):
    """A platform-scoped connection: every view over orders counts that platform's lines
    (eBay: Acme 30 and Zed 30), and the sidebar's Platform filter on the pages uses it."""
    ebay = connect(three_platforms, platform="ebay")
    summary = concentration.summary(ebay, WINDOW)
    assert summary["sellers"] == 2 and summary["revenue"] == pytest.approx(60.0)
    assert summary["hhi"] == pytest.approx(hhi(30, 30))
    assert set(sales.sales(ebay, WINDOW, ("platform",))["platform"]) == {"ebay"}
    assert connect(three_platforms, platform="nowhere").execute(
        "SELECT count(*) FROM orders"
    ).fetchone() == (0,)

    monkeypatch.setenv("STOCKROOM_DATA_ROOT", str(three_platforms))
    at = AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=120).run()
    assert not at.exception and not at.error
    before = at.dataframe[0].value
    assert before["revenue"].tolist() == pytest.approx([70.0, 30.0])
    assert at.selectbox(key="platform").options == [
        "All platforms",
        "blokpax",
        "ebay",
        "shootstrayt",
    ]
    at.selectbox(key="platform").select("ebay").run()
    assert not at.exception and not at.error
    assert at.dataframe[0].value["revenue"].tolist() == pytest.approx([30.0, 30.0])
    assert any("on ebay" in c.value for c in at.caption)
    at.switch_page("app_pages/supply.py").run()  # the choice stays on the next page
    assert at.selectbox(key="platform").value == "ebay"
    at.switch_page("app_pages/forecast.py").run()  # a page without it does not show it
    assert not [s for s in at.selectbox if s.key == "platform"]


def test_raw_platform_accounts_stay_available_as_a_drill_down(three_platforms, monkeypatch):
    con = connect(three_platforms)
    accounts = concentration.seller_accounts(con, WINDOW)
    acme = accounts.filter(pl.col("platform_seller_id") == "acme_cards_99")["seller_id"].item()
    mine = accounts.filter(pl.col("seller_id") == acme)
    assert mine.select("platform", "platform_seller_id", "seller_name", "revenue").rows() == [
        ("ebay", "acme_cards_99", "Acme Cards", 30.0),
        ("blokpax", "0x7f3a", "ACME CARDS", 20.0),
        ("shootstrayt", "acme-cards", "acme cards", 20.0),
    ]
    assert mine["share_of_seller"].to_list() == pytest.approx([30 / 70, 20 / 70, 20 / 70])

    monkeypatch.setenv("STOCKROOM_DATA_ROOT", str(three_platforms))
    at = AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=120).run()
    drill = at.selectbox(key="seller-accounts")
    assert drill.value == acme and drill.format_func(acme) == "Acme Cards"
    shown = at.dataframe[1].value
    assert shown["platform_seller_id"].tolist() == ["acme_cards_99", "0x7f3a", "acme-cards"]
    assert not any("publishes no seller names" in c.value for c in at.caption)
