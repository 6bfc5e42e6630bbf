"""CSV/Excel exports: dialect detection on real files, header aliases, quarantine, limits."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from stockroom import store, workbench
from stockroom.config import bundled_olist_dir
from stockroom.db import connect
from stockroom.errors import InputError
from stockroom.ingest import tabular
from stockroom_jobs.ingest import ingest_listings_files, ingest_stockx
from stockroom_jobs.runs import TooManyBadRows
from tests.conftest import SHARED_DATA

DAY = date(2024, 6, 27)
LEIPZIG = SHARED_DATA / "entity_matching" / "leipzig"


def fingerprint(root: Path) -> dict:
    return {
        p.relative_to(root).as_posix(): store.file_sha256(p)
        for p in sorted((root / "snapshots").rglob("*"))
        if p.is_file()
    }


@pytest.mark.parametrize(
    "name, delimiter, rows, line_ending",
    [
        ("abt_buy/abt.csv", "|", 1_076, "LF"),
        ("abt_buy/buy.csv", "|", 1_076, "LF"),
        ("abt_buy/gt.csv", "|", 1_076, "LF"),
        ("amazon_google/amazon.csv", "#", 1_354, "CRLF"),
        ("amazon_google/gp.csv", "#", 3_039, "CRLF"),
        ("amazon_google/gt.csv", "#", 1_103, "LF"),
    ],
)
def test_leipzig_files_separators_without_quoting(name, delimiter, rows, line_ending):
    path = LEIPZIG / name
    if not path.is_file():
        pytest.skip(f"shared data not present at {path}")
    dialect = tabular.sniff(path)
    assert (dialect.delimiter, dialect.quoting, dialect.line_ending) == (
        delimiter,
        False,
        line_ending,
    )
    frame = tabular.read_csv(path, dialect)
    assert frame.height == rows  # the README's published counts
    # no quoting: a bare quote inside a text cell stays part of the text
    text = path.read_text(encoding="utf-8")
    if '"' in text:
        assert frame.select(
            pl.concat_str(pl.all().exclude("_source_row").fill_null(""))
            .str.contains('"', literal=True)
            .any()
        ).item()


def test_olist_raw_csv_bom_and_crlf():
    path = bundled_olist_dir() / "product_category_name_translation.csv"
    dialect = tabular.sniff(path)
    assert (dialect.encoding, dialect.bom, dialect.delimiter, dialect.line_ending) == (
        "utf-8-sig",
        True,
        ",",
        "CRLF",
    )
    frame = tabular.read_csv(path, dialect)
    assert frame.columns[0] == "product_category_name"  # BOM not glued to the first header
    assert frame.height == 71


def test_stockx_workbook_two_sheets_and_leading_spaces(tmp_path):
    path = SHARED_DATA / "stockx" / "StockX-Data-Contest-2019-3.xlsx"
    if not path.is_file():
        pytest.skip(f"shared data not present at {path}")
    sheet = tabular.read_table(path, ("order_date", "title", "price"))
    assert sheet.name == "Raw Data"  # the description sheet is skipped
    assert sheet.columns["price"] == "Sale Price"  # alias
    run = ingest_stockx(path, tmp_path)
    assert run.rows_quarantined == 0
    con = connect(tmp_path)
    assert con.execute("SELECT count(*) FROM orders").fetchone()[0] == 99_956
    brands = {r[0] for r in con.execute("SELECT DISTINCT brand FROM products").fetchall()}
    assert brands == {"Yeezy", "Off-White"}  # " Yeezy" in the file: stripped
    first, last = con.execute(
        "SELECT min(order_ts)::DATE, max(order_ts)::DATE FROM orders"
    ).fetchone()
    assert (first, last) == (date(2017, 9, 1), date(2019, 2, 13))


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def test_encodings_and_delimiters_are_detected(tmp_path):
    rows = (
        "Marketplace;Seller;Custom label (SKU);Qty;Sale Price;Notes;Title\r\n"
        "ebay;müller;SKU-1;2;€12,50;;Pokémon Glurak\r\n"
        "ebay;müller;SKU-2;1;3.00;neu;Mew\r\n"
    )
    cp1252 = write(tmp_path / "cp1252.csv", rows.replace("€12,50", "12.50"), "cp1252")
    utf16 = write(tmp_path / "utf16.csv", "\ufeff" + rows.replace("€12,50", "12.50"), "utf-16")
    for path, encoding in ((cp1252, "cp1252"), (utf16, "utf-16")):
        dialect = tabular.sniff(path)
        assert dialect.delimiter == ";" and dialect.line_ending == "CRLF"
        assert (dialect.encoding == "utf-16") == (encoding == "utf-16")  # BOM decides
        sheet = tabular.read_table(path, ("seller_id", "sku", "quantity", "price"))
        assert sheet.frame["seller_id"].to_list() == ["müller", "müller"]
        assert sheet.frame["title"].to_list() == ["Pokémon Glurak", "Mew"]


def test_header_aliases_land_listings(tmp_path):
    path = write(
        tmp_path / "ebay_export.csv",
        "Item number,Custom label (SKU),Seller,Qty,Sale Price,Currency,Start date,"
        'Notes\n1001,PIKA-58,cardshop,3,"$1,097.00",usd,2024-06-01 10:00,\n'
        "1002,MEW-8,cardshop,0,4.5,USD,2024-06-02T08:00:00Z,sold out\n",
    )
    run = ingest_listings_files([path], tmp_path / "root", platform="ebay", snapshot_date=DAY)
    assert run.rows_landed == 2
    got = store.read_snapshot(tmp_path / "root", "listings", DAY).sort("listing_id")
    assert got["listing_id"].to_list() == ["1001", "1002"]
    assert got["price"].to_list() == [1097.0, 4.5]
    assert got["currency"].to_list() == ["USD", "USD"]
    assert got["platform"].to_list() == ["ebay", "ebay"]
    assert got["listed_at"].dt.hour().to_list() == [10, 8]


def test_missing_required_column_names_file_column_and_headers(tmp_path):
    path = write(tmp_path / "bad.csv", "platform,seller_id,sku,price\nebay,a,b,1\n")
    with pytest.raises(InputError) as err:
        ingest_listings_files([path], tmp_path / "root", snapshot_date=DAY)
    message = str(err.value)
    assert "bad.csv" in message and "column 'quantity'" in message
    assert "found: platform, seller_id, sku, price" in message
    runs = workbench.runs(workbench.engine(tmp_path / "root"))
    assert runs["status"].to_list() == ["failed"]


GOOD = "platform,seller_id,sku,quantity,price,notes,listed_at,status\n"


def listing_rows(n: int, bad: dict[int, str] | None = None) -> str:
    lines = [f"ebay,s1,SKU-{i},{i % 5},{1 + i}.25,,2024-06-01,active" for i in range(1, n + 1)]
    for row, line in (bad or {}).items():
        lines[row - 1] = line
    return GOOD + "\n".join(lines) + "\n"


BAD_ROWS = {
    3: "ebay,s1,SKU-3,-2,1.00,,2024-06-01,active",  # negative quantity
    5: "ebay,s1,SKU-5,1,abc,,2024-06-01,active",  # price not a number
    7: "ebay,s1,SKU-7,1,1.00,,2024-13-45,active",  # not a date
    9: "ebay,s1,SKU-9,1,1.00,,2024-06-01,lost",  # unknown status
    11: "ebay,s1,SKU-1,1,1.00,,2024-06-01,active",  # repeats row 1's listing
    13: "ebay,,SKU-13,1,1.00,,2024-06-01,active",  # no seller
}
EXPECTED = {  # row -> (column, value, reason fragment)
    3: ("quantity", "-2", "greater_than_or_equal_to"),
    5: ("price", "abc", "cannot convert to Float64"),
    7: ("listed_at", "2024-13-45", "cannot parse as a timestamp"),
    9: ("status", "lost", "isin"),
    11: ("platform, listing_id", "ebay/s1:SKU-1", "duplicate primary key"),
    13: ("seller_id", None, "not_nullable"),
}


def test_bad_rows_are_quarantined_with_file_row_column_value_reason(tmp_path):
    path = write(tmp_path / "listings.csv", listing_rows(200, BAD_ROWS))
    root = tmp_path / "root"
    run = ingest_listings_files([path], root, snapshot_date=DAY)
    assert (run.rows_read, run.rows_landed, run.rows_quarantined) == (200, 194, 6)
    bad = workbench.quarantined(workbench.engine(root), run.run_id)
    by_row = {r["source_row"]: r for r in bad.iter_rows(named=True)}
    assert set(by_row) == set(EXPECTED)
    for row, (column, value, reason) in EXPECTED.items():
        got = by_row[row]
        assert got["source_file"] == "listings.csv"
        assert (got["column"], got["value"]) == (column, value), got
        assert reason in got["reason"], got
        assert json.loads(got["record"])["sku"] == BAD_ROWS[row].split(",")[2]
    landed = store.read_snapshot(root, "listings", DAY)
    assert landed.height == 194 and "SKU-3" not in landed["sku"].to_list()


def test_too_many_bad_rows_fail_loudly_and_land_nothing(tmp_path):
    root = tmp_path / "root"
    ingest_listings_files([write(tmp_path / "day1.csv", listing_rows(50))], root, snapshot_date=DAY)
    before = fingerprint(root)
    path = write(tmp_path / "day1_again.csv", listing_rows(50, BAD_ROWS))  # 12 % bad
    with pytest.raises(TooManyBadRows) as err:
        ingest_listings_files([path], root, snapshot_date=DAY)
    assert "6 of 50 rows (12.0%)" in str(err.value) and "nothing landed" in str(err.value)
    assert "day1_again.csv, row 3, column 'quantity'" in str(err.value)
    assert fingerprint(root) == before
    runs = workbench.runs(workbench.engine(root))
    assert runs["status"].to_list() == ["failed", "succeeded"]
    assert runs["rows_quarantined"][0] == 6 and runs["rows_landed"][0] == 0
    # the same file passes under a looser limit
    run = ingest_listings_files([path], root, snapshot_date=DAY, max_bad_share=0.2)
    assert run.rows_landed == 44


def test_same_input_twice_lands_the_same_bytes(tmp_path):
    path = write(tmp_path / "listings.csv", listing_rows(30))
    root = tmp_path / "root"
    ingest_listings_files([path], root, snapshot_date=DAY)
    first = fingerprint(root)
    run = ingest_listings_files([path], root, snapshot_date=DAY)
    assert run.statuses["listings"] == {"unchanged": 1}
    after = fingerprint(root)
    parquet = [k for k in first if k.endswith(".parquet")]
    assert all(first[k] == after[k] for k in parquet)


def test_sources_cover_their_own_scope(tmp_path):
    """Two platforms' exports landed separately make one picture; re-landing one replaces only
    that seller's rows on that platform."""
    root = tmp_path / "root"
    ebay = write(tmp_path / "ebay.csv", listing_rows(4))
    shop = write(tmp_path / "shop.csv", listing_rows(3).replace("ebay,", "shopify,"))
    ingest_listings_files([ebay], root, snapshot_date=DAY)
    ingest_listings_files([shop], root, snapshot_date=DAY)
    assert store.read_snapshot(root, "listings", DAY).height == 7
    write(tmp_path / "ebay.csv", listing_rows(2))
    ingest_listings_files([ebay], root, snapshot_date=DAY)
    counts = dict(store.read_snapshot(root, "listings", DAY)["platform"].value_counts().iter_rows())
    assert counts == {"ebay": 2, "shopify": 3}
