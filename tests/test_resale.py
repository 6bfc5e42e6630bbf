"""Resale P&L: cost allocation, the per-item formulas, the period summary, aging, platform and
category tables, the repository's refusals, search, the real StockX data, the Excel workbook."""

from __future__ import annotations

import zipfile
from datetime import date
from decimal import Decimal

import polars as pl
import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st

from stockroom import audit, workbench
from stockroom.errors import InputError
from stockroom.resale import costs, imports, pnl, repo, search, stockx, views
from stockroom.workbench import resale_items, resale_price_history
from stockroom_jobs import resale as resale_jobs
from stockroom_jobs.market import BUNDLED_STOCKX

D = date


# -- costs ---------------------------------------------------------------------------------------


def test_allocation_by_hand():
    assert costs.allocate("10.00", [1, 1, 1]) == [Decimal("3.34"), Decimal("3.33"), Decimal("3.33")]
    # 27.08 x 100 / 150.50 = 17.9934, x 50.50 / 150.50 = 9.0866: the odd cent to the larger rest
    shares = costs.allocate("27.08", ["100", "50.50", "0"])
    assert shares == [Decimal("17.99"), Decimal("9.09"), Decimal("0.00")]
    assert costs.allocate("5.00", [0, 0]) == [Decimal("2.50"), Decimal("2.50")]
    with pytest.raises(ValueError):
        costs.allocate("-1", [1])
    with pytest.raises(ValueError):
        costs.allocate("1", [])


@settings(max_examples=200, deadline=None)
@given(
    total=st.decimals(min_value=0, max_value=100_000, places=2),
    weights=st.lists(st.decimals(min_value=0, max_value=10_000, places=2), min_size=1, max_size=30),
)
def test_allocation_adds_up_to_the_cent_and_follows_the_weights(total, weights):
    shares = costs.allocate(total, weights)
    assert sum(shares) == total
    if sum(weights):
        for share, weight in zip(shares, weights, strict=True):
            exact = total * weight / sum(weights)
            assert abs(share - exact) < Decimal("0.01")


def test_lot_totals_and_item_split():
    lots = costs.lot_totals(["100", "50.50"], premium="27.09", tax="9.99", shipping="15")
    # premium 18.00 / 9.09; tax 6.64 / 3.35 (6.6379, 3.3521); shipping 9.97 / 5.03 (9.9668, 5.0332)
    assert [lot["total_cost"] for lot in lots] == [Decimal("134.61"), Decimal("67.97")]
    assert sum(lot["total_cost"] for lot in lots) == Decimal("202.58")  # 150.50 + 52.08
    assert costs.split_items("72.94", 3) == [Decimal("24.32"), Decimal("24.31"), Decimal("24.31")]


# -- the book through the repository --------------------------------------------------------------


def _lots() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "lot_id": ["A:1:1", "A:1:2", "A:1:3"],
            "auction_house": ["A"] * 3,
            "acquired_on": [D(2026, 1, 5), D(2026, 1, 5), D(2026, 2, 20)],
            "name": ["Brass desk lamp", "Bentwood chairs", "Oak side table"],
            "category": ["lighting", "furniture", "furniture"],
            "quantity": [1, 3, 1],
            "hammer": [100.0, 50.5, 40.0],
            "premium": [18.0, 9.09, 0.0],
            "tax": [6.64, 3.35, 0.0],
            "shipping": [0.0, 10.0, 0.0],
            "currency": ["USD"] * 3,
            "estimated_value": [200.0, None, 90.0],
            "notes": [None, None, "lamp shade missing"],
        }
    )


@pytest.fixture
def book_db(tmp_path):
    eng = workbench.engine(tmp_path)
    assert repo.add_lots(eng, _lots(), actor="ann", reason="test") == {
        "lots": 3,
        "items": 5,
        "skipped": 0,
    }
    listings = pl.DataFrame(
        {
            "item_id": ["A:1:1", "A:1:2-1", "A:1:1", "A:1:3"],
            "platform": ["ebay", "ebay", "etsy", "facebook"],
            "list_price": [250.0, 40.0, 260.0, 80.0],
            "listed_on": [D(2026, 1, 7), D(2026, 1, 7), D(2026, 1, 9), D(2026, 2, 21)],
        }
    )
    assert repo.add_listings(eng, listings, actor="ann", reason="listed") == 4
    sale = pl.DataFrame(
        {
            "item_id": ["A:1:1"],
            "platform": ["ebay"],
            "sold_on": [D(2026, 2, 1)],
            "sold_price": [240.0],
            "platform_fees": [31.8],
            "buyer_shipping": [15.0],
            "actual_shipping": [12.4],
        }
    )
    assert repo.record_sales(eng, sale, actor="ann", reason="sold") == 1
    return tmp_path, eng


def test_items_carry_their_share_of_the_lot_and_a_sale_ends_the_cross_listing(book_db):
    _, eng = book_db
    items = repo.items(eng)
    assert dict(zip(items["item_id"], items["cost"], strict=True)) == {
        "A:1:1": 124.64,  # 100 + 18 + 6.64
        "A:1:2-1": 24.32,  # (50.50 + 9.09 + 3.35 + 10) / 3, odd cent first
        "A:1:2-2": 24.31,
        "A:1:2-3": 24.31,
        "A:1:3": 40.0,
    }
    status = dict(
        repo.listings(eng)
        .select(pl.concat_str("item_id", pl.lit("@"), "platform"), "status")
        .iter_rows()
    )
    assert status == {
        "A:1:1@ebay": "sold",
        "A:1:1@etsy": "expired",  # delisted when it sold on eBay
        "A:1:2-1@ebay": "listed",
        "A:1:3@facebook": "listed",
    }


def test_item_pnl_by_hand(book_db):
    _, eng = book_db
    frame = pnl.item_pnl(repo.items(eng), repo.listings(eng), D(2026, 3, 1))
    lamp = frame.filter(pl.col("item_id") == "A:1:1").row(0, named=True)
    assert lamp["status"] == "sold" and lamp["platform"] == "ebay"
    assert lamp["net_proceeds"] == pytest.approx(240 + 15 - 31.8 - 12.4)  # 210.80
    assert lamp["net_profit"] == pytest.approx(210.80 - 124.64)  # 86.16
    assert lamp["roi"] == pytest.approx(86.16 / 124.64)
    assert lamp["days_to_sell"] == 27 and lamp["days_listed"] == 25 and lamp["age_days"] is None
    chair = frame.filter(pl.col("item_id") == "A:1:2-1").row(0, named=True)
    assert (chair["status"], chair["list_price"], chair["days_listed"], chair["age_days"]) == (
        "listed",
        40.0,
        53,  # 2026-01-07 .. 2026-03-01
        55,
    )
    assert frame.filter(pl.col("status") == "not listed").height == 2
    # as of an earlier day the sale has not happened and the table was not bought yet
    before = pnl.item_pnl(repo.items(eng), repo.listings(eng), D(2026, 1, 20))
    assert before.height == 4
    lamp_then = before.filter(pl.col("item_id") == "A:1:1").row(0, named=True)
    assert lamp_then["status"] == "listed" and lamp_then["platform"] == "ebay, etsy"
    assert lamp_then["net_profit"] is None


def test_summary_against_the_previous_period(book_db):
    _, eng = book_db
    frame = pnl.item_pnl(repo.items(eng), repo.listings(eng), D(2026, 2, 28))
    out = {
        r["metric"]: r
        for r in pnl.summary(frame, D(2026, 2, 1), D(2026, 2, 28)).iter_rows(named=True)
    }
    assert out["sold"]["current"] == 1 and out["sold"]["previous"] == 0
    assert out["revenue"]["current"] == pytest.approx(255.0)
    assert out["profit"]["current"] == pytest.approx(86.16)
    assert out["invested"]["current"] == pytest.approx(40.0)  # the table, 2026-02-20
    assert out["invested"]["previous"] == pytest.approx(124.64 + 72.94)  # January's lots
    assert out["items"]["current"] == 4 and out["items"]["previous"] == 4
    assert out["tied_up"]["current"] == pytest.approx(72.94 + 40.0)
    assert out["sell_through"]["current"] == pytest.approx(1 / 5)
    assert out["listed"]["previous"] == 2 and out["listed"]["current"] == 1
    assert out["avg_days_to_sell"]["current"] == 27 and out["avg_days_to_sell"]["previous"] is None
    assert out["profit"]["change"] == pytest.approx(86.16)
    with pytest.raises(ValueError):
        pnl.summary(frame, D(2026, 2, 28), D(2026, 2, 1))


def test_aging_buckets_and_the_crossing_list(book_db):
    _, eng = book_db
    frame = pnl.item_pnl(repo.items(eng), repo.listings(eng), D(2026, 4, 10))
    aged = pnl.aging(frame)
    assert aged["bucket"].to_list() == ["0-30 d", "31-60 d", "61-90 d", "91-180 d", "180+ d"]
    # chairs: 95 days old (91-180); table: 49 days (31-60)
    assert dict(zip(aged["bucket"], aged["items"], strict=True)) == {
        "0-30 d": 0, "31-60 d": 1, "61-90 d": 0, "91-180 d": 3, "180+ d": 0,
    }  # fmt: skip
    assert aged.filter(pl.col("bucket") == "91-180 d")["cost"].item() == pytest.approx(72.94)
    assert aged["share_of_cost"].sum() == pytest.approx(1.0)
    assert pnl.aging(frame, (50, 100))["items"].to_list() == [1, 3, 0]
    assert pnl.crossed(frame, 90)["item_id"].to_list() == ["A:1:2-1", "A:1:2-2", "A:1:2-3"]
    with pytest.raises(ValueError):
        pnl.bucket_labels((30, 30))


def test_platform_and_category_performance(book_db):
    _, eng = book_db
    frame = pnl.item_pnl(repo.items(eng), repo.listings(eng), D(2026, 3, 1))
    platforms = {
        r["platform"]: r
        for r in pnl.performance(frame, repo.listings(eng), "platform", D(2026, 3, 1)).iter_rows(
            named=True
        )
    }
    ebay = platforms["ebay"]
    assert (ebay["listed"], ebay["sold"], ebay["conversion"]) == (2, 1, 0.5)
    assert ebay["revenue"] == pytest.approx(255.0) and ebay["fees"] == pytest.approx(31.8)
    assert ebay["roi"] == pytest.approx(86.16 / 124.64) and ebay["avg_days_to_sell"] == 27
    assert platforms["etsy"]["sold"] == 0 and platforms["etsy"]["conversion"] == 0
    cats = {
        r["category"]: r
        for r in pnl.performance(frame, repo.listings(eng), "category", D(2026, 3, 1)).iter_rows(
            named=True
        )
    }
    assert cats["lighting"]["sold"] == 1 and cats["furniture"]["listed"] == 2
    assert cats["furniture"]["profit"] == 0
    with pytest.raises(ValueError):
        pnl.performance(frame, repo.listings(eng), "brand", D(2026, 3, 1))


def test_mixed_currencies_are_refused(book_db):
    _, eng = book_db
    items = repo.items(eng).with_columns(
        pl.when(pl.col("item_id") == "A:1:3")
        .then(pl.lit("EUR"))
        .otherwise("currency")
        .alias("currency")
    )
    with pytest.raises(ValueError, match="EUR, USD"):
        pnl.item_pnl(items, repo.listings(eng), D(2026, 3, 1))


# -- refusals: nothing stored is changed ----------------------------------------------------------


def _counts(eng) -> tuple:
    with eng.connect() as conn:
        return tuple(
            conn.execute(sa.select(sa.func.count()).select_from(t)).scalar()
            for t in (
                workbench.resale_lots,
                resale_items,
                workbench.resale_listings,
                resale_price_history,
            )
        )


def test_bad_input_names_row_and_column_and_stores_nothing(book_db):
    _, eng = book_db
    before = _counts(eng)
    bad = _lots().with_columns(
        pl.Series("lot_id", ["B:1", "B:2", "B:3"]),
        pl.Series("hammer", [10.0, -5.0, 1.0]),
        pl.Series("_source_file", ["lots.csv"] * 3),
        pl.Series("_source_row", [1, 2, 3]),
    )
    with pytest.raises(InputError) as err:
        repo.add_lots(eng, bad, actor="ann", reason="x")
    assert "lots.csv, row 2, column 'hammer'" in str(err.value)
    changed = _lots().with_columns(pl.Series("hammer", [101.0, 50.5, 40.0]))
    with pytest.raises(InputError, match="already stored with another hammer"):
        repo.add_lots(eng, changed, actor="ann", reason="x")
    early = pl.DataFrame(
        {
            "item_id": ["A:1:2-2"],
            "platform": ["ebay"],
            "sold_on": [D(2026, 1, 2)],
            "sold_price": [30.0],
        }
    )
    with pytest.raises(InputError, match="a sale without a listing"):
        repo.record_sales(eng, early, actor="ann", reason="x")
    repo_listing = pl.DataFrame(
        {
            "item_id": ["A:1:2-1"],
            "platform": ["ebay"],
            "list_price": [1.0],
            "listed_on": [D(2026, 1, 8)],
        }
    )
    with pytest.raises(InputError, match="already has an active listing on ebay"):
        repo.add_listings(eng, repo_listing, actor="ann", reason="x")
    before_acq = pl.DataFrame(
        {
            "item_id": ["A:1:2-1"],
            "platform": ["ebay"],
            "sold_on": [D(2025, 12, 1)],
            "sold_price": [30.0],
        }
    )
    with pytest.raises(InputError, match="sold before the item was acquired"):
        repo.record_sales(eng, before_acq, actor="ann", reason="x")
    twice = pl.DataFrame(
        {
            "item_id": ["A:1:1"],
            "platform": ["etsy"],
            "sold_on": [D(2026, 2, 2)],
            "sold_price": [30.0],
        }
    )
    with pytest.raises(InputError, match="already sold"):
        repo.record_sales(eng, twice, actor="ann", reason="x")
    negative = pl.DataFrame(
        {
            "item_id": ["A:1:2-1"],
            "platform": ["ebay"],
            "sold_on": [D(2026, 2, 2)],
            "sold_price": [30.0],
            "platform_fees": [-1.0],
        }
    )
    with pytest.raises(InputError, match="column 'platform_fees'"):
        repo.record_sales(eng, negative, actor="ann", reason="x")
    assert _counts(eng) == before


def test_price_history_is_append_only_and_every_edit_is_audited(book_db):
    _, eng = book_db
    repo.set_list_price(eng, "A:1:2-1", "ebay", 35, actor="bob", reason="30 days unsold")
    repo.set_estimated_value(eng, "A:1:2-2", 55, actor="bob", reason="comparable sold at 60")
    with pytest.raises(ValueError, match="reason"):
        repo.set_list_price(eng, "A:1:2-1", "ebay", 30, actor="bob", reason="")
    with pytest.raises(KeyError):
        repo.set_list_price(eng, "A:1:2-2", "ebay", 30, actor="bob", reason="x")
    history = repo.price_history(eng, "A:1:2-1")
    assert history.select(
        "field", "platform", "old_value", "new_value", "actor", "reason"
    ).rows() == [
        ("list_price", "ebay", None, 40.0, "ann", "listed"),
        ("list_price", "ebay", 40.0, 35.0, "bob", "30 days unsold"),
    ]
    with eng.begin() as conn, pytest.raises(sa.exc.DBAPIError, match="append-only"):
        conn.execute(resale_price_history.update().values(new_value=1.0))
    with eng.begin() as conn, pytest.raises(sa.exc.DBAPIError, match="append-only"):
        conn.execute(resale_price_history.delete())
    repo.update_item(eng, "A:1:3", {"location": "Garage", "bin": "B4"}, actor="bob", reason="moved")
    repo.delete_item(eng, "A:1:2-3", actor="bob", reason="broken in transit")
    assert "A:1:2-3" not in repo.items(eng)["item_id"].to_list()
    assert "A:1:2-3" in repo.items(eng, deleted=True)["item_id"].to_list()  # soft delete
    with eng.connect() as conn:
        entities = conn.execute(
            sa.text("SELECT entity, actor, reason FROM audit_log ORDER BY id")
        ).fetchall()
    assert ("resale_listing", "bob", "30 days unsold") in entities
    assert ("resale_item", "bob", "moved") in entities and (
        "resale_item",
        "bob",
        "broken in transit",
    ) in entities
    assert audit.verify(eng).ok


def test_on_postgresql_the_same_rules_hold(tmp_path, postgres, monkeypatch):
    monkeypatch.setenv("STOCKROOM_DB_URL", postgres)
    eng = workbench.engine(tmp_path)
    repo.add_lots(eng, _lots(), actor="ann", reason="pg")
    repo.add_listings(
        eng,
        pl.DataFrame(
            {
                "item_id": ["A:1:1"],
                "platform": ["ebay"],
                "list_price": [250.0],
                "listed_on": [D(2026, 1, 7)],
            }
        ),
        actor="ann",
        reason="listed",
    )
    assert repo.items(eng)["cost"].sum() == pytest.approx(124.64 + 72.94 + 40.0)
    with eng.begin() as conn, pytest.raises(sa.exc.IntegrityError):  # the partial unique index
        conn.execute(
            workbench.resale_listings.insert().values(
                item_id="A:1:1", platform="ebay", status="listed", currency="USD",
                created_at=sa.func.now(), updated_at=sa.func.now(),
            )
        )  # fmt: skip
    with eng.begin() as conn, pytest.raises(sa.exc.DBAPIError, match="append-only"):
        conn.execute(resale_price_history.delete())


# -- search ----------------------------------------------------------------------------------------


def test_search_ranks_filters_sorts_and_picks(book_db, tmp_path):
    root, eng = book_db
    repo.update_item(
        eng,
        "A:1:2-1",
        {"location": "Garage", "bin": "B2", "keywords": "lamp"},
        actor="a",
        reason="x",
    )
    repo.update_item(eng, "A:1:1", {"location": "Basement", "bin": "B9"}, actor="a", reason="x")
    resale_jobs.snapshot(root, D(2026, 3, 1))
    book = views.book(root)
    found = search.search(book.pnl, book.index, "lamp")
    # the name match ranks above a keyword match, which ranks above a note match
    assert found["item_id"].to_list() == ["A:1:1", "A:1:2-1", "A:1:3"]
    assert found["score"].is_sorted(descending=True)
    assert search.search(book.pnl, book.index, "lam")["item_id"].to_list()[0] == "A:1:1"  # prefix
    assert search.search(book.pnl, book.index, '"desk lamp"')["item_id"].to_list() == ["A:1:1"]
    assert search.search(book.pnl, book.index, "lamp -brass")["item_id"].to_list() == [
        "A:1:2-1",
        "A:1:3",
    ]
    assert search.search(book.pnl, book.index, "zeppelin").is_empty()
    sold = search.search(book.pnl, book.index, "", search.Filters(status="sold"))
    assert sold["item_id"].to_list() == ["A:1:1"]
    furniture = search.search(
        book.pnl, book.index, "", search.Filters(category="furniture"), sort="name"
    )
    assert furniture["name"].to_list() == sorted(furniture["name"].to_list())
    assert search.search(book.pnl, book.index, "", search.Filters(roi_min=0.5))[
        "item_id"
    ].to_list() == ["A:1:1"]
    assert search.search(book.pnl, book.index, "", search.Filters(platform="facebook"))[
        "item_id"
    ].to_list() == ["A:1:3"]
    picks = search.pick_list(search.search(book.pnl, book.index, "lamp"))
    assert picks["location"].to_list() == ["Basement", "Garage", "(no location)"]
    with pytest.raises(ValueError):
        search.search(book.pnl, book.index, "", sort="price")


def test_fts_query_words_phrases_and_exclusions():
    assert search.fts_query("vintage lamp") == '"vintage" "lamp"*'
    assert search.fts_query('"oak side" table -chair') == '"oak side" "table" NOT "chair"'
    assert search.fts_query("-x") is None and search.fts_query("  ") is None
    assert search.fts_query('a" OR "b') is not None  # quotes cannot break out of the query


# -- spreadsheets in, workbook out ----------------------------------------------------------------


def test_spreadsheet_import_with_aliases_and_a_missing_column(tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    lots = tmp_path / "lots.csv"
    lots.write_text(
        "Name,Purchase Date,Winning Bid,Buyer's Premium,Sales Tax,Shipping,Qty,Category\n"
        "Pyrex bowls,2026-03-01,$20.00,3.60,1.94,8.00,2,collectibles\n"
        "Hummel figurine,2026-03-01,15.00,2.70,1.46,0,1,collectibles\n"
    )
    run, stored = resale_jobs.import_table(root, lots, "lots", actor="ann", day=D(2026, 3, 2))
    assert stored == 2
    items = repo.items(workbench.engine(root))
    assert sorted(items["cost"].to_list()) == [16.77, 16.77, 19.16]  # 33.54 / 2; 15+2.70+1.46
    assert resale_jobs.import_table(root, lots, "lots", actor="ann")[1] == 0  # idempotent
    sales = tmp_path / "sales.csv"
    sales.write_text("Item ID,Platform,Sold For\nlots:1-1,ebay,30\n")
    with pytest.raises(InputError, match=r"sales.csv.*sold_on|date_sold|sold_on"):
        resale_jobs.import_table(root, sales, "sales", actor="ann")


def test_workbook_has_typed_columns_a_frozen_header_and_one_sheet_per_table(book_db, tmp_path):
    root, eng = book_db
    repo.update_item(eng, "A:1:3", {"notes": '=HYPERLINK("http://x")'}, actor="a", reason="x")
    resale_jobs.snapshot(root, D(2026, 3, 1))
    book = views.book(root)
    out = tmp_path / "resale.xlsx"
    imports.write_workbook(
        out,
        {
            "items": (book.pnl, imports.ITEM_SHEET),
            "listings": (book.listings, imports.LISTING_SHEET),
        },
    )
    items = pl.read_excel(out, sheet_name="items")
    assert items.height == 5
    assert items.schema["Total cost"] == pl.Float64 and items.schema["Acquired"] in (
        pl.Date,
        pl.Datetime("ms"),
        pl.Datetime("us"),
    )
    lamp = items.filter(pl.col("Item") == "A:1:1").row(0, named=True)
    assert lamp["Net profit"] == pytest.approx(86.16) and lamp["ROI"] == pytest.approx(
        86.16 / 124.64
    )
    assert pl.read_excel(out, sheet_name="listings").height == 4
    with zipfile.ZipFile(out) as z:
        sheet = z.read("xl/worksheets/sheet1.xml").decode()
        assert 'state="frozen"' in sheet and "<f>" not in sheet


# -- real data ------------------------------------------------------------------------------------


def test_stockx_sales_as_retail_buys_sold_on_stockx():
    frames = stockx.frames(BUNDLED_STOCKX)
    assert frames.rows == 99_956
    assert frames.pre_release == 5_601  # sold before their release day: left out
    assert frames.lots.height == frames.sales.height == 99_956 - 5_601
    first = frames.sales.filter(pl.col("item_id") == "stockx-1").row(0, named=True)
    # row 1: Yeezy Boost 350 Low V2 Beluga, US 11, retail 220, sold 1,097 on 2017-09-01;
    # StockX Level 1: 9 % transaction + 3 % payment processing
    assert first["sold_price"] == 1097.0
    assert first["platform_fees"] == pytest.approx(round(1097 * 0.12, 2))
    lot = frames.lots.filter(pl.col("lot_id") == "stockx-1").row(0, named=True)
    assert (lot["hammer"], lot["acquired_on"], lot["brand"], lot["size"]) == (
        220.0,
        D(2016, 9, 24),
        "Yeezy",
        "11",
    )


# -- the page ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def auction_root(tmp_path_factory):
    """Synthetic auction invoices imported, shelved, listed and sold (no StockX)."""
    root = tmp_path_factory.mktemp("resale-auction")
    counts = resale_jobs.land_demo(root, invoices_count=9, with_stockx=False, end=D(2026, 10, 31))
    assert counts["invoices"] == 9 and counts["sold"] > 0
    return root


def test_the_demo_replays_through_the_repository(auction_root):
    book = views.book(auction_root)
    assert book.day == D(2026, 10, 31)
    listings = book.listings
    # never two live listings of one item on one platform, never a sale before its listing
    live = listings.filter(pl.col("status") == "listed")
    assert live.select("item_id", "platform").is_duplicated().sum() == 0
    sold = listings.filter(pl.col("status") == "sold")
    assert (sold["sold_on"] >= sold["listed_on"]).all()
    assert sold["item_id"].is_unique().all()
    eng = workbench.engine(auction_root)
    with eng.connect() as conn:
        cuts = conn.execute(
            sa.select(sa.func.count())
            .select_from(resale_price_history)
            .where(resale_price_history.c.reason.like("no sale in 30 days%"))
        ).scalar()
    assert cuts > 0
    assert audit.verify(eng).ok


def test_resale_page_shows_the_library_figures(auction_root, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from stockroom.config import PROJECT_ROOT

    monkeypatch.setenv("STOCKROOM_DATA_ROOT", str(auction_root))
    at = AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=120).run()
    at.switch_page("app_pages/resale.py").run()
    assert not at.exception and not at.error
    book = views.book(auction_root)
    start, end = book.period()
    expected = {r["metric"]: r for r in pnl.summary(book.pnl, start, end).iter_rows(named=True)}
    tiles = {m.label: m for m in at.metric}
    assert tiles["Net profit (USD)"].value == pnl.display(expected["profit"]["current"], "money")
    assert tiles["Items sold"].value == pnl.display(expected["sold"]["current"], "count")
    assert tiles["Items on hand"].value == pnl.display(expected["items"]["current"], "count")
    assert tiles["Sell-through"].value == pnl.display(expected["sell_through"]["current"], "share")
    # searching narrows the table to the matches, best first
    at.text_input(key="resale-q").set_value("chair").run()
    found = at.dataframe[0].value
    assert len(found) > 0 and found["name"].str.contains("chair", case=False).all()
    want = search.search(book.pnl, book.index, "chair", limit=500)
    assert list(found["item_id"]) == want["item_id"].to_list()
    # the platform table is the library's
    platforms = pnl.performance(book.pnl, book.listings, "platform", end, start)
    shown = at.dataframe[1].value
    assert list(shown["platform"]) == platforms["platform"].to_list()
    # an earlier period reads the same book
    at.date_input(key="resale-period").set_value((D(2026, 6, 1), D(2026, 6, 30))).run()
    assert not at.exception
    june = {
        r["metric"]: r
        for r in pnl.summary(book.pnl, D(2026, 6, 1), D(2026, 6, 30)).iter_rows(named=True)
    }
    assert {m.label: m.value for m in at.metric}["Items sold"] == pnl.display(
        june["sold"]["current"], "count"
    )


def test_an_item_past_the_chosen_age_raises_one_alert(book_db):
    from stockroom import alerts, sources

    root, eng = book_db
    resale_jobs.snapshot(root, D(2026, 4, 10))
    (root / "stockroom.toml").write_text("[resale]\naging_alert_days = 90\n")
    settings = sources.load(root)
    found = [
        c for c in alerts.evaluate(root, settings, today=D(2026, 4, 10)) if c.rule == "resale_aging"
    ]
    # the three chairs (acquired 2026-01-05: 95 days); the table (49 days) is not past 90
    assert sorted(c.key for c in found) == ["A:1:2-1", "A:1:2-2", "A:1:2-3"]
    assert "unsold for 95 days, past your 90-day limit; cost 24.32 USD" in next(
        c.message for c in found if c.key == "A:1:2-1"
    )
    new, _ = alerts.update(eng, found, rules={"resale_aging"})
    assert len(new) == 3 and alerts.update(eng, found, rules={"resale_aging"})[0] == []
    # counted to today, not to the snapshot's day: a month on, the table is past 90 days too
    later = alerts.evaluate(root, settings, today=D(2026, 5, 25))
    assert sorted(c.key for c in later if c.rule == "resale_aging") == [
        "A:1:2-1", "A:1:2-2", "A:1:2-3", "A:1:3",
    ]  # fmt: skip
    (root / "stockroom.toml").write_text("[resale]\naging_buckets = [30, 30]\n")
    with pytest.raises(Exception, match="aging buckets"):
        sources.load(root)


def test_report_and_cli_read_the_same_book(auction_root, tmp_path):
    import subprocess
    import sys

    from stockroom_jobs.report import run_report

    files = run_report("resale", auction_root, window_days=60, progress=False)
    html = files.html.read_text()
    book = views.book(auction_root)
    start, end = book.period(60)
    profit = pnl.summary(book.pnl, start, end).filter(pl.col("metric") == "profit")["current"][0]
    assert f"Resale P&amp;L — {start} to {end}" in html or f"Resale P&L — {start} to {end}" in html
    assert f"{profit:,.2f} USD" in html

    def stockroom(*args):
        return subprocess.run(
            [
                sys.executable,
                "-m",
                "stockroom_jobs.cli",
                "resale",
                *args,
                "--data-root",
                str(auction_root),
            ],
            capture_output=True,
            text=True,
            timeout=300,
        )

    out = tmp_path / "platforms.csv"
    done = stockroom("platforms", "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert (
        pl.read_csv(out)["platform"].to_list()
        == pnl.performance(book.pnl, book.listings, "platform", book.as_of)["platform"].to_list()
    )
    workbook = tmp_path / "book.xlsx"
    done = stockroom("export", str(workbook))
    assert done.returncode == 0, done.stderr
    assert pl.read_excel(workbook, sheet_name="items").height == book.pnl.height
    done = stockroom("search", "chair", "--status", "listed", "--pick")
    assert done.returncode == 0 and "Location" in done.stderr
    bad = stockroom("aging", "--buckets", "30,x")
    assert bad.returncode != 0 and "--buckets" in bad.stderr


def test_an_item_is_edited_and_deleted_on_the_page_signed(tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from stockroom.config import PROJECT_ROOT

    root = tmp_path / "root"
    resale_jobs.land_demo(root, invoices_count=3, with_stockx=False, end=D(2026, 10, 31))
    monkeypatch.setenv("STOCKROOM_DATA_ROOT", str(root))
    at = AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=120).run()
    at.switch_page("app_pages/resale.py").run()
    at.sidebar.text_input(key="signer_input").set_value("Ana Costa").run()
    item_id = at.selectbox(key="resale-item").value
    k = f"resale-edit-{item_id}-"
    at.text_input(key=f"{k}loc").set_value("Garage")
    at.text_input(key=f"{k}bin").set_value("B7")
    at.number_input(key=f"{k}value").set_value(123.45)
    at.text_input(key=f"{k}why").set_value("moved and appraised")
    at.button(key=f"{k}save").click().run()
    assert not at.exception and not at.error
    eng = workbench.engine(root)
    row = repo.items(eng).filter(pl.col("item_id") == item_id).row(0, named=True)
    assert (row["location"], row["bin"], row["estimated_value"]) == ("Garage", "B7", 123.45)
    history = repo.price_history(eng, item_id)
    assert (
        history.filter(pl.col("field") == "estimated_value")["reason"][-1] == "moved and appraised"
    )
    with eng.connect() as conn:
        who = conn.execute(
            sa.text("SELECT actor, reason FROM audit_log WHERE entity_key = :k ORDER BY id"),
            {"k": item_id},
        ).fetchall()
    assert ("Ana Costa", "moved and appraised") in [tuple(r) for r in who]
    assert views.book(root).pnl.filter(pl.col("item_id") == item_id)["location"][0] == "Garage"
    # without a reason nothing changes; with one the item is soft-deleted
    at.text_input(key=f"{k}why").set_value("")
    at.button(key=f"{k}delete").click().run()
    assert item_id in repo.items(eng)["item_id"].to_list()
    at.text_input(key=f"{k}why").set_value("broken in transit")
    at.button(key=f"{k}delete").click().run()
    assert not at.exception
    assert item_id not in repo.items(eng)["item_id"].to_list()
    assert item_id in repo.items(eng, deleted=True)["item_id"].to_list()


def test_a_day_before_any_acquisition_reads_an_empty_period(book_db):
    root, _ = book_db
    resale_jobs.snapshot(root, D(2026, 3, 1))
    early = views.book(root, D(2026, 3, 1))
    assert early.pnl.height == 5
    none_yet = pnl.item_pnl(early.items, early.listings, D(2025, 12, 1))
    assert none_yet.is_empty()
    empty = views.Book(early.day, D(2025, 12, 1), early.items, early.listings, none_yet, None)
    assert empty.period() == (D(2025, 11, 2), D(2025, 12, 1))
    out = pnl.summary(none_yet, *empty.period())
    assert out.filter(pl.col("metric") == "sold")["current"][0] == 0
