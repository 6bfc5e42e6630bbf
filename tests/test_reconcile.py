"""Reconciliation rules, one hand-made example each (stockroom.reconcile.rules)."""

from __future__ import annotations

from datetime import datetime, timedelta

import polars as pl
import pytest

from stockroom import store
from stockroom.reconcile import rules

T0 = datetime(2024, 6, 30, 9, 0)


def central(*items):
    """items: (sku, quantity, quantity_at_last_sync, price, status, platforms)."""
    return pl.DataFrame(
        [
            {
                "sku": s,
                "title": f"Item {s}",
                "quantity": q,
                "quantity_at_last_sync": q0,
                "price": p,
                "status": st,
                "platforms": pf,
            }
            for s, q, q0, p, st, pf in items
        ],
        schema={
            "sku": pl.String,
            "title": pl.String,
            "quantity": pl.Int64,
            "quantity_at_last_sync": pl.Int64,
            "price": pl.Float64,
            "status": pl.String,
            "platforms": pl.List(pl.String),
        },
    )


def listings(*rows):
    """rows: (platform, listing_id, sku, quantity, price, status[, minutes after T0])."""
    return pl.DataFrame(
        [
            {
                "platform": r[0],
                "listing_id": r[1],
                "sku": r[2],
                "title": f"Item {r[2]}",
                "quantity": r[3],
                "price": r[4],
                "status": r[5],
                "listed_at": T0 - timedelta(days=30) + timedelta(minutes=r[6] if len(r) > 6 else 0),
            }
            for r in rows
        ],
        schema={
            "platform": pl.String,
            "listing_id": pl.String,
            "sku": pl.String,
            "title": pl.String,
            "quantity": pl.Int64,
            "price": pl.Float64,
            "status": pl.String,
            "listed_at": pl.Datetime("us"),
        },
    )


def sales(*rows):
    """rows: (platform, order_id, listing_id, sku, quantity, minutes after T0)."""
    return pl.DataFrame(
        [
            {
                "platform": p,
                "order_id": o,
                "listing_id": li,
                "sku": s,
                "quantity": q,
                "order_ts": T0 + timedelta(minutes=m),
            }
            for p, o, li, s, q, m in rows
        ],
        schema={
            "platform": pl.String,
            "order_id": pl.String,
            "listing_id": pl.String,
            "sku": pl.String,
            "quantity": pl.Int64,
            "order_ts": pl.Datetime("us"),
        },
    )


def recorded(s: pl.DataFrame) -> pl.DataFrame:
    return s.select("platform", "order_id")


ALL = ["shopify", "reverb", "ebay"]


def flags(c, li, s, rec=None, config=None):
    return rules.reconcile(c, li, s, recorded(s) if rec is None else rec, config)


def test_a_clean_sync_has_no_flags():
    c = central(("A", 2, 2, 100.0, "active", ALL))
    li = listings(
        ("shopify", "s1", "A", 2, 100.0, "active"),
        ("reverb", "r1", "A", 2, 100.0, "active"),
        ("ebay", "e1", "A", 2, 100.0, "active"),
    )
    assert flags(c, li, sales()).is_empty()


def test_first_sale_wins_and_the_others_end():
    # one guitar, sold on reverb at 9:05; shopify and ebay still list it
    c = central(("G", 0, 1, 900.0, "sold", ALL))
    li = listings(
        ("shopify", "s1", "G", 1, 900.0, "active"),
        ("reverb", "r1", "G", 0, 900.0, "sold"),
        ("ebay", "e1", "G", 1, 900.0, "active"),
    )
    got = flags(c, li, sales(("reverb", "o1", "r1", "G", 1, 5)))
    assert got["flag_type"].to_list() == ["sold_elsewhere", "sold_elsewhere"]
    assert sorted(got["listing_id"]) == ["e1", "s1"]
    assert set(got["action"]) == {"end_listing"}
    assert "sold first on reverb at 2024-06-30 09:05:00" in got["evidence"][0]


def test_exact_tie_goes_by_the_hierarchy_and_the_loser_is_oversold():
    c = central(("G", 0, 1, 900.0, "sold", ALL))
    li = listings(
        ("shopify", "s1", "G", 0, 900.0, "sold"),
        ("reverb", "r1", "G", 1, 900.0, "active"),
        ("ebay", "e1", "G", 0, 900.0, "sold"),
    )
    s = sales(("ebay", "o2", "e1", "G", 1, 5), ("shopify", "o1", "s1", "G", 1, 5))
    got = flags(c, li, s)
    won = got.filter(pl.col("flag_type") == "sold_elsewhere")
    assert won["listing_id"].to_list() == ["r1"]
    assert "sold first on shopify" in won["evidence"][0]  # Shopify > eBay at the same second
    over = got.filter(pl.col("flag_type") == "oversold").row(0, named=True)
    assert over["platform"] == "ebay" and "1 short" in over["evidence"]
    # another hierarchy makes eBay the winner
    ebay_first = rules.Config(hierarchy=("ebay", "shopify", "reverb"))
    won = flags(c, li, s, config=ebay_first).filter(pl.col("flag_type") == "sold_elsewhere")
    assert "sold first on ebay" in won["evidence"][0]


def test_multi_quantity_item_sells_on_two_platforms_in_one_window():
    # 3 in stock; 1 sold on shopify, 1 on ebay -> central 1; reverb must show 1, no oversell
    c = central(("M", 1, 3, 50.0, "active", ALL))
    li = listings(
        ("shopify", "s1", "M", 2, 50.0, "active"),
        ("reverb", "r1", "M", 3, 50.0, "active"),
        ("ebay", "e1", "M", 1, 50.0, "active"),
    )
    got = flags(c, li, sales(("shopify", "o1", "s1", "M", 1, 1), ("ebay", "o2", "e1", "M", 1, 9)))
    assert got.select(
        "flag_type", "listing_id", "action", "central_value", "platform_value"
    ).rows() == [("sold_elsewhere", "r1", "update_quantity", "1", "3")]
    # had there been only 1 at the last sync: the second sale oversold it
    c1 = central(("M", 0, 1, 50.0, "sold", ALL))
    got = flags(c1, li, sales(("shopify", "o1", "s1", "M", 1, 1), ("ebay", "o2", "e1", "M", 1, 9)))
    over = got.filter(pl.col("flag_type") == "oversold").row(0, named=True)
    assert over["platform"] == "ebay" and over["platform_value"] == "2"


def test_external_missing_quantity_price_stale_duplicate_unrecorded():
    c = central(
        ("A", 4, 4, 100.0, "active", ["shopify", "ebay"]),
        ("B", 2, 2, 60.0, "active", ["shopify"]),
        ("C", 0, 0, 80.0, "ended", ["reverb"]),
        ("D", 5, 6, 20.0, "active", ["shopify"]),
    )
    li = listings(
        ("shopify", "s1", "A", 3, 100.0, "active"),  # quantity mismatch
        ("shopify", "s2", "B", 2, 63.0, "active"),  # price +5 %
        ("reverb", "r3", "C", 1, 80.0, "active"),  # stale
        ("ebay", "e9", "ZZ", 1, 10.0, "active"),  # external
        ("shopify", "s4", "D", 5, 20.0, "active", 0),
        ("shopify", "s5", "D", 5, 20.0, "active", 60),
    )  # duplicate (newer)
    s = sales(("shopify", "o7", "s4", "D", 1, 3))
    got = flags(c, li, s, rec=s.head(0))  # nothing recorded
    by_type = {t: g for (t,), g in got.group_by("flag_type")}
    assert set(by_type) == {
        "quantity_mismatch",
        "price_mismatch",
        "stale_listing",
        "external_listing",
        "missing_listing",
        "duplicate_listing",
        "unrecorded_sale",
    }
    assert by_type["quantity_mismatch"]["listing_id"].to_list() == ["s1"]
    assert by_type["price_mismatch"]["action"].to_list() == ["update_price"]
    assert by_type["stale_listing"]["listing_id"].to_list() == ["r3"]
    assert by_type["external_listing"]["listing_id"].to_list() == ["e9"]
    assert by_type["missing_listing"].select("platform", "sku").rows() == [("ebay", "A")]
    assert by_type["duplicate_listing"]["listing_id"].to_list() == ["s5"]
    assert by_type["unrecorded_sale"]["key"].to_list() == ["unrecorded_sale|shopify|o7"]
    assert "candidate" in by_type["external_listing"]["evidence"][0]
    # the SKU mapping, when it knows the listing, names the candidate product
    known = pl.DataFrame(
        {
            "platform": ["ebay"],
            "external_sku": ["ZZ"],
            "product_sku": ["B"],
            "method": ["gtin"],
            "confidence": [1.0],
            "status": ["auto"],
            "reason": [None],
        },
        schema_overrides={"reason": pl.String},
    )
    ext = rules.external_listing(c, li, known)
    assert "candidate B (mapping: gtin, 100%)" in ext["evidence"][0]
    # a looser price tolerance on shopify (10 %) clears the price flag
    loose = rules.Config(price_tolerance={"shopify": 0.10})
    assert "price_mismatch" not in flags(c, li, s, rec=s.head(0), config=loose)["flag_type"]


@pytest.mark.parametrize("n_items", [3_000])
def test_injected_discrepancies_are_found_exactly(n_items):
    from stockroom.sim.reconcile import scenario

    sc = scenario(n_items, seed=4, inject=40)
    got = rules.reconcile(sc.central, sc.listings, sc.sales, sc.recorded)
    for flag_type in rules.FLAG_TYPES:
        want = set(sc.truth.filter(pl.col("flag_type") == flag_type)["key"])
        have = set(got.filter(pl.col("flag_type") == flag_type)["key"])
        assert want, flag_type
        assert have == want, (flag_type, len(have - want), len(want - have))


def test_the_job_finds_the_injected_set_through_the_store(tmp_path):
    from datetime import UTC

    from stockroom import store
    from stockroom.reconcile.sync import ACTION_COLUMNS
    from stockroom_jobs.reconcile import ingest_reconcile_demo, run_reconcile

    ingest_reconcile_demo(tmp_path, items=600, inject=6, seed=2)
    first = datetime(2024, 6, 30, 12, tzinfo=UTC)
    summary = run_reconcile(tmp_path, export=tmp_path / "actions", now=first)
    truth = pl.read_parquet(tmp_path / "sim" / "reconcile_truth.parquet")
    day = summary.day
    landed = store.read_snapshot(tmp_path, "flags", day)
    assert set(landed["key"]) == set(truth["key"]) and landed["open"].all()
    assert summary.new == landed.height and summary.closed == 0
    ebay = pl.read_csv(tmp_path / "actions" / "actions-ebay.csv")
    assert tuple(ebay.columns) == ACTION_COLUMNS and set(ebay["platform"]) == {"ebay"}
    assert "review" not in set(ebay["action"])
    # a later sync: the same flags keep their first_seen
    later = first + timedelta(hours=12)
    again = run_reconcile(tmp_path, now=later)
    kept = store.read_snapshot(tmp_path, "flags", day)
    assert again.new == 0 and (kept["first_seen"] == first).all()
    assert (kept["last_seen"] == later).all()
    # the seller ends one stale listing on its platform: the flag closes, once
    stale = kept.filter(pl.col("flag_type") == "stale_listing").row(0, named=True)
    listings = store.read_snapshot(tmp_path, "listings", day).with_columns(
        pl.when(pl.col("listing_id") == stale["listing_id"])
        .then(pl.lit("ended"))
        .otherwise(pl.col("status"))
        .alias("status")
    )
    store.write_snapshot(tmp_path, "listings", listings, day, run_id="test", sources=[])
    third = run_reconcile(tmp_path, now=later + timedelta(hours=12))
    assert third.closed == 1
    after = store.read_snapshot(tmp_path, "flags", day)
    closed = after.filter(~pl.col("open"))
    assert closed["key"].to_list() == [stale["key"]]
    assert run_reconcile(tmp_path, now=later + timedelta(hours=24)).closed == 0
    assert stale["key"] not in set(store.read_snapshot(tmp_path, "flags", day)["key"])


def test_no_inventory_is_a_clear_error(tmp_path):
    from stockroom.errors import StockroomError
    from stockroom_jobs.reconcile import run_reconcile

    with pytest.raises(StockroomError, match="no central inventory"):
        run_reconcile(tmp_path)


def test_reconciliation_page(tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from stockroom.config import PROJECT_ROOT
    from stockroom.reconcile import views
    from stockroom_jobs.reconcile import ingest_reconcile_demo, run_reconcile

    ingest_reconcile_demo(tmp_path, items=400, inject=4, seed=5)
    run_reconcile(tmp_path)
    monkeypatch.setenv("STOCKROOM_DATA_ROOT", str(tmp_path))
    at = AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=120)
    at.switch_page("app_pages/reconciliation.py").run()
    assert not at.exception
    assert at.title[0].value == "Reconciliation"
    _, flags = views.latest(tmp_path)
    shown = {m.label: m.value for m in at.metric}
    assert shown["Open flags"] == f"{flags.height:,}"
    assert shown["High severity"] == f"{(flags['severity'] == 'high').sum():,}"
    assert len(at.get("plotly_chart")) == 2
    # the action table of the chosen platform holds exactly its non-review flags
    platform = at.selectbox(key="actions-platform").value
    want = flags.filter((pl.col("platform") == platform) & (pl.col("action") != "review"))
    assert at.dataframe[0].value.shape[0] == want.height
    # drill-down: the evidence tables of the first SKU
    sku = at.selectbox(key="evidence-sku").value
    assert sku in set(flags["sku"])
    assert len(at.dataframe) == 6
    # the central inventory: every item, flagged ones first; brand, category and price filters
    central = store.read_snapshot(
        tmp_path, "inventory", store.resolve_as_of(tmp_path, "inventory", None)
    )
    items = at.dataframe[5].value
    assert len(items) == central.height
    assert items["open_flags"].iloc[0] >= 1 and items["open_flags"].is_monotonic_decreasing
    assert at.selectbox(key="inventory-brand").options == ["All", "Pokémon TCG"]
    category = central["category"].value_counts(sort=True)["category"][0]
    at.selectbox(key="inventory-category").select(category).run()
    at.number_input(key="inventory-price-min").set_value(2.0).run()
    at.number_input(key="inventory-price-max").set_value(10.0).run()
    items = at.dataframe[5].value
    want = central.filter((pl.col("category") == category) & pl.col("price").is_between(2.0, 10.0))
    assert 0 < len(items) == want.height < central.height
    assert set(items["category"]) == {category}
    assert items["price"].between(2.0, 10.0).all()
    assert (items["value"] == items["quantity"] * items["price"]).all()
    at.number_input(key="inventory-price-min").set_value(20.0).run()
    assert any("Price range" in e.value for e in at.error)


def test_flagging_report(tmp_path):
    from stockroom_jobs.reconcile import ingest_reconcile_demo, run_reconcile
    from stockroom_jobs.report import run_report

    ingest_reconcile_demo(tmp_path, items=400, inject=4, seed=5)
    summary = run_reconcile(tmp_path)
    files = run_report("reconciliation", tmp_path, as_of=summary.day, progress=False)
    html = files.html.read_text()
    assert "Reconciliation" in html and f"{sum(summary.open_by_type.values()):,}" in html
    assert "sold_elsewhere" in html


@pytest.mark.browser
def test_reconciliation_page_in_chromium(browser, tmp_path):
    from stockroom_jobs.reconcile import ingest_reconcile_demo, run_reconcile

    ingest_reconcile_demo(tmp_path, items=400, inject=4, seed=5)
    run_reconcile(tmp_path)
    with browser.serve(tmp_path) as url:
        seen = browser.visit(url, tmp_path / "shots", browser.RECONCILE_PAGES)
    info = seen["reconciliation"]
    assert info["errors"] == 0 and info["charts"] == 2 and info["tables"] >= 1
    assert "Open flags" in info["metrics"]
