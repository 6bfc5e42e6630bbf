"""Inventory on the market per Seller x card x treatment (stockroom.holdings): one Seller on
three platforms holds its cross-listed units once, the filters, the trend, single-seller risk
and money in one currency."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta

import polars as pl
import pytest

from stockroom import holdings, store, workbench
from stockroom.db import connect
from stockroom.fx import MixedCurrencyError
from stockroom.mapping import repo
from stockroom.tables import table
from tests.test_analytics_mapping import ACCOUNTS, LINES, build
from tests.test_fx import ecb_by_hand, report_in

DAY = date(2024, 3, 10)
BEFORE = DAY - timedelta(days=3)
HOLO = "card-1:reverse-holo"
PLAIN = "card-2:normal"
# (platform, seller id, platform SKU, quantity, price[, status, currency]) on DAY: Acme lists
# the same 3 holo cards on three platforms (eBay in two listings of 2 + 1); Zed has 1 holo
# card and Acme alone has the plain one (2 units).
ROWS = [
    ("ebay", "acme_cards_99", "EB-1", 2, 12.0),
    ("ebay", "acme_cards_99", "EB-1", 1, 11.0),
    ("blokpax", "0x7f3a", "BP-1", 3, 10.0),
    ("shootstrayt", "acme-cards", "SS-1", 2, 14.0),
    ("ebay", "zed_1", "EB-2", 1, 9.0),
    ("ebay", "acme_cards_99", "EB-3", 2, 40.0),
    ("ebay", "zed_1", "EB-4", 5, 1.0, "ended"),  # ended: holds nothing
]


def listings(rows: list[tuple]) -> pl.DataFrame:
    schema = {c.name: c.dtype for c in table("listings").columns}
    records = []
    for i, (platform, seller, sku, qty, price, *rest) in enumerate(rows):
        status = rest[0] if rest else "active"
        currency = rest[1] if len(rest) > 1 else "USD"
        records.append(
            {
                "platform": platform,
                "listing_id": f"{platform}-{i}",
                "seller_id": seller,
                "seller_name": None,
                "sku": sku,
                "title": None,
                "quantity": qty,
                "price": price,
                "currency": currency,
                "status": status,
                "listed_at": datetime(2024, 1, 1, tzinfo=UTC),
                "url": None,
                "notes": None,
            }
        )
    return pl.DataFrame(records, schema=schema)


@pytest.fixture
def market(tmp_path):
    """The accounts of test_analytics_mapping (Acme on three platforms, Zed on one), their
    platform SKUs mapped to the holo variant (EB-2 and EB-3 as well), the catalog with
    categories and brands, and listings on BEFORE (Acme: 1 holo on eBay) and DAY (ROWS)."""
    root = build(tmp_path, ACCOUNTS, LINES)
    eng = workbench.engine(root)
    repo.add_products(eng, pl.DataFrame({"sku": [HOLO, PLAIN]}), actor="test", reason="catalog")
    proposed = pl.DataFrame(
        {
            "platform": ["ebay", "blokpax", "shootstrayt", "ebay", "ebay", "ebay"],
            "external_sku": ["EB-1", "BP-1", "SS-1", "EB-2", "EB-3", "EB-4"],
            "product_sku": [HOLO, HOLO, HOLO, HOLO, PLAIN, PLAIN],
            "method": ["gtin"] * 6,
            "confidence": [1.0] * 6,
            "status": ["confirmed"] * 6,
            "reason": ["test"] * 6,
        }
    )
    repo.save_mappings(eng, proposed, actor="test", reason="corrected")
    products = pl.DataFrame(
        {
            "sku": [HOLO, PLAIN],
            "title": ["Pikachu 58 Base (Reverse Holo)", "Mew 8 Promo (Normal)"],
            "category": ["Base", "Promo"],
            "category_source": ["base1", "promo"],
            "brand": ["Pokémon TCG", "Wizards"],
            "gtin": [None, None],
            "weight_g": [None, None],
        },
        schema_overrides={"gtin": pl.String, "weight_g": pl.Float64},
    )
    store.write_snapshot(root, "products", products, BEFORE, run_id="t", sources=[])
    store.write_snapshots(
        root,
        "listings",
        {BEFORE: listings([("ebay", "acme_cards_99", "EB-1", 1, 12.0)]), DAY: listings(ROWS)},
        run_id="t",
        sources=[],
    )
    return root


def test_one_seller_on_three_platforms_holds_its_cross_listed_units_once(market):
    con = connect(market)
    got = holdings.holdings(con, DAY, since=BEFORE)
    acme_holo = got.filter(pl.col("sku") == HOLO, pl.col("units") == 3).row(0, named=True)
    # eBay 2 + 1 = 3, Blokpax 3, ShootStrayt 2: the same 3 cards shown three times
    assert acme_holo["listings"] == 4
    assert acme_holo["platforms"] == "blokpax, ebay, shootstrayt"
    assert acme_holo["lowest_ask"] == 10.0 and acme_holo["value"] == 30.0
    assert acme_holo["card_id"] == "card-1" and acme_holo["treatment"] == "Reverse holo"
    assert acme_holo["units_since"] == 1 and acme_holo["units_change"] == 2
    assert acme_holo["seller_id"].startswith("seller:") and acme_holo["seller_mapped"]
    assert got.height == 3  # Acme holo, Acme plain, Zed holo; Zed's ended listing holds nothing
    assert got["units"].sum() == 3 + 2 + 1

    risk = holdings.product_risk(got).to_dicts()
    assert [r["sku"] for r in risk] == [PLAIN, HOLO]  # single-seller first
    plain, holo = risk
    assert plain["single_seller"] and plain["sellers"] == 1 and plain["top_share"] == 1.0
    assert not holo["single_seller"] and holo["sellers"] == 2
    assert holo["top_seller_id"] == acme_holo["seller_id"]
    assert holo["top_share"] == pytest.approx(3 / 4)
    assert holo["hhi"] == pytest.approx(10_000 * ((3 / 4) ** 2 + (1 / 4) ** 2))

    summary = holdings.summary(got, holdings.product_risk(got))
    assert summary["sellers"] == 2 and summary["products"] == 2 and summary["cards"] == 2
    assert summary["value"] == pytest.approx(30.0 + 80.0 + 9.0)
    assert summary["single_seller_share"] == 0.5
    assert summary["single_seller_value_share"] == pytest.approx(80.0 / 119.0)
    assert summary["seller_coverage"] == 1.0 and summary["product_coverage"] == 1.0


def test_without_the_mapping_each_account_and_platform_sku_holds_apart(market):
    (market / "stockroom.toml").write_text("use_mapping = false\n")
    got = holdings.holdings(connect(market), DAY)
    acme = got.filter(pl.col("seller_id").is_in(["acme_cards_99", "0x7f3a", "acme-cards"]))
    # three accounts and three platform SKUs: 3 + 3 + 2 holo units, counted three times over
    assert acme.filter(pl.col("sku").is_in(["EB-1", "BP-1", "SS-1"]))["units"].sum() == 8
    assert got["seller_id"].n_unique() == 4
    summary = holdings.summary(got, holdings.product_risk(got))
    assert summary["seller_coverage"] == 0.0 and summary["product_coverage"] == 0.0


def test_filters_platform_brand_category_and_price_range(market):
    con = connect(market)
    ebay = holdings.holdings(con, DAY, holdings.Scope(platform="ebay"))
    assert ebay.filter(pl.col("sku") == HOLO)["units"].sort().to_list() == [1, 3]
    assert set(ebay["platforms"]) == {"ebay"}
    wizards = holdings.holdings(con, DAY, holdings.Scope(brand="Wizards"))
    assert wizards["sku"].to_list() == [PLAIN]
    base = holdings.holdings(con, DAY, holdings.Scope(category="Base"))
    assert set(base["sku"]) == {HOLO}
    # asks of 10-12 per unit: Acme's eBay and Blokpax holo listings; Zed's 9 and the 14 and 40
    # asks are out
    mid = holdings.holdings(con, DAY, holdings.Scope(price_min=10, price_max=12))
    assert mid.select("sku", "units", "listings", "lowest_ask").rows() == [(HOLO, 3, 3, 10.0)]
    with pytest.raises(ValueError, match="price_min"):
        holdings.Scope(price_min=20, price_max=10)
    assert holdings.choices(con, DAY) == {
        "platforms": ["blokpax", "ebay", "shootstrayt"],
        "brands": ["Pokémon TCG", "Wizards"],
    }


def test_trend_per_seller_and_day(market):
    con = connect(market)
    days = holdings.listing_days(con)
    assert days == [BEFORE, DAY]
    trend = holdings.daily(con, BEFORE, DAY)
    per_day = trend.group_by("day").agg(pl.col("units", "value").sum()).sort("day")
    assert per_day.rows() == [(BEFORE, 1, 12.0), (DAY, 6, 119.0)]
    acme = trend.filter(pl.col("day") == DAY).row(0, named=True)  # largest value first
    assert acme["units"] == 5 and acme["products"] == 2 and acme["listings"] == 5


def test_asks_in_two_currencies_are_converted_or_refused(market):
    eur = [*ROWS, ("blokpax", "0x7f3a", "BP-9", 1, 50.0, "active", "EUR")]
    store.write_snapshot(market, "listings", listings(eur), DAY, run_id="t2", sources=[])
    with pytest.raises(MixedCurrencyError, match="EUR, USD.*reporting_currency"):
        holdings.holdings(connect(market), DAY)
    report_in(market, "USD")
    got = holdings.holdings(connect(market), DAY)
    # DAY is a Sunday: Friday's ECB rate (USD per EUR)
    friday = (DAY - timedelta(days=2)).isoformat()
    rate = ecb_by_hand()[(friday, "USD")]
    row = got.filter(pl.col("sku") == "BP-9").row(0, named=True)
    assert row["lowest_ask"] == pytest.approx(50.0 * rate) and row["units"] == 1
    # the USD asks are not converted
    assert got.filter(pl.col("sku") == PLAIN)["value"].item() == 80.0


def test_holdings_page_names_sellers_and_products_and_filters(market, monkeypatch):
    """The page on the fixture: names (not ids) in the pinned columns, the figures of the
    library, and the platform and price filters narrowing the table."""
    from streamlit.testing.v1 import AppTest

    from stockroom.config import PROJECT_ROOT

    monkeypatch.setenv("STOCKROOM_DATA_ROOT", str(market))
    at = AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=120).run()
    at.switch_page("app_pages/holdings.py").run()
    assert not at.exception and not at.error
    tiles = {m.label: m.value for m in at.metric}
    assert tiles["Value (USD)"] == "119" and tiles["Units"] == "6"
    assert tiles["Sellers"] == "2" and tiles["One-seller products"] == "50.0%"
    held = at.dataframe[0].value
    assert list(held.columns[:3]) == ["seller", "product", "treatment"]
    top = held.iloc[0]  # Acme's plain card: 2 x 40
    assert top["seller"] == "Acme Cards" and top["product"] == "Mew 8 Promo (Normal)"
    assert top["value"] == 80.0 and top["treatment"] == "Normal"
    risk = at.dataframe[1].value
    assert risk.iloc[0]["product"] == "Mew 8 Promo (Normal)" and bool(risk.iloc[0]["single_seller"])
    assert risk.iloc[1]["top_seller"] == "Acme Cards" and risk.iloc[1]["sellers"] == 2

    at.selectbox(key="platform").select("blokpax").run()  # the sidebar's platform filter
    assert {m.label: m.value for m in at.metric}["Value (USD)"] == "30"
    at.selectbox(key="platform").select("All platforms").run()
    at.number_input(key="holdings-price-min").set_value(100.0).run()
    assert any("No active listings match" in w.value for w in at.warning)
    at.number_input(key="holdings-price-max").set_value(50.0).run()
    assert "Price range" in at.error[0].value


def holdings_cli(root, *args: str) -> subprocess.CompletedProcess:
    """`stockroom holdings ARGS` on ``root`` in a child process."""
    return subprocess.run(
        [sys.executable, "-m", "stockroom_jobs.cli", "holdings", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "STOCKROOM_DATA_ROOT": str(root)},
        timeout=120,
    )


def test_cli_prints_the_headline_and_exports_every_row(market, tmp_path):
    out = tmp_path / "risk.parquet"
    run = holdings_cli(market, "--risk", "--out", str(out))
    assert run.returncode == 0, run.stderr
    assert "119.00 USD in 6 units" in run.stderr and "Acme Cards" in run.stderr
    exported = pl.read_parquet(out)
    assert exported["sku"].to_list() == [PLAIN, HOLO]
    assert exported["top_seller"].to_list() == ["Acme Cards", "Acme Cards"]
    trend = tmp_path / "daily.parquet"
    run = holdings_cli(market, "--daily", "--out", str(trend))
    assert run.returncode == 0, run.stderr
    per_day = pl.read_parquet(trend).group_by("day").agg(pl.len(), pl.col("units").sum())
    assert per_day.sort("day").rows() == [(BEFORE, 1, 1), (DAY, 3, 6)]
    bad = holdings_cli(market, "--out", str(tmp_path / "x.txt"))
    assert bad.returncode != 0 and "x.txt" in bad.stderr


def test_an_ask_in_a_currency_without_a_rate_is_named(market):
    from stockroom.errors import StockroomError

    odd = [*ROWS, ("ebay", "zed_1", "EB-9", 1, 5.0, "active", "ZZZ")]
    store.write_snapshot(market, "listings", listings(odd), DAY, run_id="t3", sources=[])
    report_in(market, "EUR")
    with pytest.raises(StockroomError, match=f"no ECB reference rate for ZZZ on or before {DAY}"):
        holdings.holdings(connect(market), DAY)


def test_the_pages_bench_runs_each_page_and_its_numbers_agree_with_raw_duckdb(market, monkeypatch):
    """The harness of `stockroom bench pages` on a small mapped root (no timing asserted): every
    page with its input renders and changes its filters (window, category, platform) without
    an error, and the library's numbers equal the hand-written DuckDB query's."""
    from stockroom_bench.pages import run_pages_bench

    monkeypatch.setenv("STOCKROOM_DATA_ROOT", str(market))  # restored after the test
    pages = run_pages_bench([market], repeat=1)["roots"][0]["pages"]
    ran = {name: page for name, page in pages.items() if "skipped" not in page}
    assert {"seller_concentration", "supply", "holdings", "mapping"} <= set(ran)
    for name, page in ran.items():
        assert page["same_numbers"], (name, page["numbers"])
    # window (4), category and back, platform and back
    assert ran["holdings"]["interaction"]["n"] == 8
    assert ran["holdings"]["numbers"]["ours"]["value"] == 119.0
