"""The seller's own business: orders, stock per location, central inventory, purchase orders
with receipts, suppliers -- from the platforms' published layouts, real rows, bad input."""

from __future__ import annotations

import csv
import sqlite3
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from stockroom import store, workbench
from stockroom.config import PROJECT_ROOT
from stockroom.errors import InputError
from stockroom.ingest import business
from stockroom.procurement import repo
from stockroom_jobs import own
from stockroom_jobs.runs import TooManyBadRows
from tests.conftest import SHARED_DATA

OWN = PROJECT_ROOT / "data" / "raw" / "own"
DAY = date(2011, 12, 9)


def _orders(root: Path) -> pl.DataFrame:
    days = store.snapshot_dates(root, "orders")
    return pl.concat([store.read_snapshot(root, "orders", d) for d in days])


def _copy_rows(src: Path, dst: Path, keep, edit=None) -> Path:
    with open(src, newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    header, body = rows[0], [r for i, r in enumerate(rows[1:]) if keep(i, r)]
    if edit:
        edit(header, body)
    with open(dst, "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows([header, *body])
    return dst


def test_layouts_are_recognised_by_their_headers():
    for name, expected in (
        ("shopify_orders.csv", "shopify-orders"),
        ("ebay_orders.csv", "ebay-orders"),
        ("shopify_inventory.csv", "shopify-inventory"),
    ):
        layout, _ = business.read(OWN / name)
        assert layout.name == expected
    assert business.detect_layout(["InvoiceNo", "StockCode", "Quantity"]).name == "online-retail"
    with pytest.raises(ValueError, match="cannot tell"):
        business.detect_layout(["foo", "bar"])


def test_shopify_and_ebay_orders_land_the_real_rows(tmp_path):
    shop, ebay = OWN / "shopify_orders.csv", OWN / "ebay_orders.csv"
    result = own.import_files([shop, ebay], tmp_path, kind="orders")
    assert result.layouts == ["shopify-orders", "ebay-orders"]
    orders = _orders(tmp_path)
    source_rows = sum(1 for _ in open(shop)) - 1 + sum(1 for _ in open(ebay)) - 1
    assert orders.height == source_rows
    assert result.run.rows_landed == source_rows + 80  # + the 80 SKUs as catalog products
    assert set(orders["platform"]) == {"shopify", "ebay"}
    assert set(orders["currency"]) == {"GBP"}  # Shopify's Currency column; eBay's "£" prices
    # cancellations as the exports write them: Shopify's "Cancelled at" -- kept, status canceled
    shopify = pl.read_csv(shop, infer_schema=False)
    cancelled = shopify.filter(pl.col("Cancelled at").is_not_null())["Name"].str.strip_prefix("#")
    got = orders.filter(pl.col("platform") == "shopify", pl.col("status") == "canceled")
    assert set(got["order_id"].str.strip_prefix("#")) == set(cancelled)
    assert got.height > 0 and (orders["quantity"] >= 1).all()
    # eBay's report writes a return as a negative quantity: a returned line
    ebay_c = orders.filter(pl.col("platform") == "ebay", pl.col("order_id").str.starts_with("C"))
    assert ebay_c.height > 0 and set(ebay_c["status"]) == {"returned"}
    # the order's cells on its first line only (Shopify) are carried to its other lines
    multi = orders.filter(pl.col("platform") == "shopify").group_by("order_id").len()
    assert multi["len"].max() > 1
    assert orders["order_ts"].null_count() == 0
    # one real line checked against the file: eBay "Dec-01-10", "£0.42"
    first = pl.read_csv(ebay, infer_schema=False).row(0, named=True)
    line = orders.filter(
        pl.col("platform") == "ebay",
        pl.col("order_id") == first["Order Number"],
        pl.col("line") == 1,
    ).row(0, named=True)
    assert line["sku"] == first["Custom Label"]
    assert line["unit_price"] == pytest.approx(float(first["Sold For"].lstrip("£")))
    assert line["order_ts"].date() == date(2010, 12, 1)
    # the SKUs sold became catalog products with their titles
    products = store.read_snapshot(
        tmp_path, "products", store.resolve_as_of(tmp_path, "products", None)
    )
    assert (
        products.filter(pl.col("sku") == first["Custom Label"])["title"][0] == first["Item Title"]
    )


def test_reimporting_an_orders_export_is_idempotent(tmp_path):
    shop = OWN / "shopify_orders.csv"
    own.import_files([shop], tmp_path)
    before = _orders(tmp_path)
    again = own.import_files([shop], tmp_path)
    assert set(again.run.statuses["orders"]) == {"unchanged"}
    assert _orders(tmp_path).equals(before)
    # a later export holding part of the same orders replaces those lines, adds nothing
    part = _copy_rows(shop, tmp_path / "part.csv", lambda i, r: i < 50)
    own.import_files([part], tmp_path)
    assert _orders(tmp_path).height == before.height


def test_online_retail_layout_from_the_shared_real_data(tmp_path):
    path = SHARED_DATA / "online_retail" / "online_retail_I.parquet"
    if not path.is_file():
        pytest.skip(f"shared data not present at {path}")
    tx = pl.read_parquet(path).head(3000)
    csv_path = tmp_path / "Online Retail.csv"
    tx.with_columns(pl.col("InvoiceDate").dt.strftime("%Y-%m-%d %H:%M:%S")).write_csv(csv_path)
    result = own.import_files([csv_path], tmp_path / "root", platform="shop")
    assert result.layouts == ["online-retail"]
    orders = _orders(tmp_path / "root")
    bad = result.run.rows_quarantined
    assert orders.height + bad == tx.height
    assert set(orders["currency"]) == {"GBP"}
    c_invoices = tx.filter(pl.col("InvoiceNo").str.starts_with("C"))["InvoiceNo"].unique()
    assert set(orders.filter(pl.col("status") == "canceled")["order_id"]) == set(c_invoices)
    # negative quantities outside "C" invoices (stock adjustments) are returns
    adjust = tx.filter(~pl.col("InvoiceNo").str.starts_with("C"), pl.col("Quantity") < 0)
    assert orders.filter(pl.col("status") == "returned").height == adjust.height


def test_stock_keeps_locations_and_refuses_unknown_ones(tmp_path):
    result = own.import_files([OWN / "shopify_inventory.csv"], tmp_path, snapshot_date=DAY)
    stock = store.read_snapshot(tmp_path, "stock", DAY)
    assert set(stock["location"]) == {"London warehouse", "Leeds 3PL"}  # not summed away
    shopify = pl.read_csv(OWN / "shopify_inventory.csv", infer_schema=False)
    assert stock.height == shopify.height == result.run.rows_landed
    row = shopify.row(0, named=True)
    got = stock.filter(pl.col("sku") == row["SKU"], pl.col("location") == row["Location"]).row(
        0, named=True
    )
    assert (got["on_hand"], got["reserved"]) == (int(row["On hand"]), int(row["Committed"]))
    assert own.locations(workbench.engine(tmp_path)) == ["Leeds 3PL", "London warehouse"]
    # a later file for one location with a typo in another row: the typo is quarantined, the
    # other location is carried forward
    edited = _copy_rows(
        OWN / "shopify_inventory.csv",
        tmp_path / "london.csv",
        lambda i, r: r[7] == "London warehouse",
        lambda h, body: body[0].__setitem__(7, "Londn warehouse"),
    )
    run = own.import_files(
        [edited], tmp_path, snapshot_date=date(2011, 12, 10), max_bad_share=0.5
    ).run
    assert run.rows_quarantined == 1
    bad = workbench.quarantined(workbench.engine(tmp_path), run.run_id)
    assert bad["reason"][0].startswith("unknown location") and bad["value"][0] == "Londn warehouse"
    later = store.read_snapshot(tmp_path, "stock", date(2011, 12, 10))
    assert (later["location"] == "Leeds 3PL").sum() == (stock["location"] == "Leeds 3PL").sum()


def test_negative_stock_and_bad_dates_name_file_row_and_column(tmp_path):
    path = tmp_path / "stock.csv"
    path.write_text("sku;warehouse;on hand;as of\nA;W1;5;2024-06-01\nB;W1;-3;2024-06-01\n"
                    "C;W1;2;2024-13-45\n")  # fmt: skip
    with pytest.raises(TooManyBadRows) as err:
        own.import_files([path], tmp_path / "root", kind="stock")
    text = str(err.value)
    assert "stock.csv, row 2" in text and "on hand" in text
    assert not (tmp_path / "root" / "snapshots" / "stock").exists()  # nothing landed
    bad = workbench.quarantined(workbench.engine(tmp_path / "root"))
    assert set(bad["column"]) == {"on hand", "as_of"}


def test_missing_column_and_wrong_kind(tmp_path):
    path = tmp_path / "orders.csv"
    path.write_text("order id,sku,price,date\n1,A,2.5,2024-06-01\n")
    with pytest.raises(InputError, match="quantity"):
        own.import_files([path], tmp_path / "root", kind="orders", platform="shop")
    with pytest.raises(ValueError, match="holds stock, not orders"):
        own.import_files(
            [OWN / "shopify_inventory.csv"],
            tmp_path / "r2",
            kind="orders",
            layout="shopify-inventory",
        )


def test_orders_of_skus_not_in_the_central_inventory_are_kept_and_named(tmp_path):
    own.import_files([OWN / "inventory.csv"], tmp_path, kind="inventory", snapshot_date=DAY)
    inventory = store.read_snapshot(tmp_path, "inventory", DAY)
    assert inventory.height == 80 and inventory["cost"].null_count() == 0
    assert set(inventory["location"]) == {"London warehouse"}
    path = tmp_path / "o.csv"
    path.write_text(
        "order_id,sku,quantity,unit_price,order_ts,currency\n"
        "9001,17003,2,0.29,2011-12-09 10:00,GBP\n9002,NEW-SKU,1,5,2011-12-09 11:00,GBP\n"
    )
    run = own.import_files([path], tmp_path, kind="orders", platform="shop").run
    assert _orders(tmp_path).height == 2  # both lines kept
    assert any("NEW-SKU" in w and "central inventory" in w for w in run.warnings)


def test_purchase_orders_with_partial_receipts(tmp_path):
    eng = workbench.engine(tmp_path)
    assert repo.import_pos(eng, OWN / "purchase_orders.csv", actor="t") == 12
    assert repo.import_pos(eng, OWN / "purchase_orders.csv", actor="t") == 0  # idempotent
    lines = repo.purchase_order_lines(eng, None)
    part = lines.filter(pl.col("received_quantity") > 0).row(0, named=True)
    assert part["outstanding"] == part["quantity"] - part["received_quantity"] > 0
    with pytest.raises(ValueError, match="larger than the"):
        repo.receive(eng, part["po_number"], part["sku"], part["outstanding"] + 1, actor="t")
    after = repo.receive(eng, part["po_number"], part["sku"], 1, received_at=DAY, actor="t")
    assert after["status"] == "open" and after["received_quantity"] == part["received_quantity"] + 1
    after = repo.receive(eng, part["po_number"], part["sku"], actor="t")  # the rest
    assert after["status"] == "received"
    # a receipt larger than the line in a file: all or nothing, naming row and column
    bad = _copy_rows(
        OWN / "purchase_orders.csv",
        tmp_path / "po.csv",
        lambda i, r: True,
        lambda h, body: (
            body[3].__setitem__(7, "9999"),
            body.append([*body[0][:1], "X1", "S", "5", "2011-12-01", "2011-11-01", "", ""]),
        ),
    )
    with pytest.raises(InputError) as err:
        repo.import_pos(workbench.engine(tmp_path / "fresh"), bad, actor="t")
    where = {(p.row, p.column) for p in err.value.problems}
    assert where == {(4, "received_quantity"), (13, "expected_delivery")}
    assert repo.purchase_order_lines(workbench.engine(tmp_path / "fresh"), None).is_empty()


def test_suppliers_and_per_sku_settings(tmp_path):
    eng = workbench.engine(tmp_path)
    assert repo.import_settings(eng, OWN / "suppliers.csv", actor="t") == 82
    resolved = repo.resolve(
        eng,
        pl.DataFrame(
            {"sku": ["17003", "20665"], "platform": [None, None]},
            schema={"sku": pl.String, "platform": pl.String},
        ),
    )
    hartley = resolved.filter(pl.col("sku") == "17003").row(0, named=True)
    assert (
        hartley["supplier"],
        hartley["lead_time_days"],
        hartley["moq"],
        hartley["pack_size"],
    ) == ("Hartley Gifts Ltd", 21, 24, 12)
    bad = tmp_path / "s.csv"
    bad.write_text("sku,supplier,lead time,service level\nA,S,abc,0.9\nB,S,5,1.5\n")
    with pytest.raises(InputError) as err:
        repo.import_settings(eng, bad, actor="t")
    assert "row 1" in str(err.value) and "lead_time_days" in str(err.value)


def test_sql_source_into_orders_by_watermark(tmp_path):
    db = tmp_path / "shop.db"
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE sales (order_id TEXT, line INT, sku TEXT, qty INT, unit_price REAL, "
                "ordered_at TEXT, currency TEXT, updated_at TEXT)")  # fmt: skip
    rows = [(f"o{i}", 1, f"S{i % 3}", 1 + i % 2, 2.5, f"2024-06-0{1 + i % 3} 10:00", "EUR",
             f"2024-06-0{1 + i % 3} 10:00") for i in range(9)]  # fmt: skip
    con.executemany("INSERT INTO sales VALUES (?,?,?,?,?,?,?,?)", rows)
    con.commit()
    from stockroom_jobs.ingest import ingest_sql

    root = tmp_path / "root"
    url = f"sqlite:///{db}"
    first = ingest_sql(url, root, table="sales", platform="shop", into="orders")
    assert first.rows_landed == 9 and _orders(root).height == 9
    con.execute(
        "INSERT INTO sales VALUES ('o99',1,'S1',4,3.0,'2024-06-04 09:00','EUR','2024-06-04 09:00')"
    )
    con.execute("UPDATE sales SET qty = 7, updated_at = '2024-06-04 10:00' WHERE order_id = 'o0'")
    con.commit()
    second = ingest_sql(url, root, table="sales", platform="shop", into="orders")
    assert second.rows_read == 2  # only what changed since the watermark
    orders = _orders(root)
    assert orders.height == 10 and orders.filter(pl.col("order_id") == "o0")["quantity"][0] == 7


def test_the_cli_imports_receives_and_says_what_it_did(tmp_path):
    import subprocess
    import sys

    def stockroom(*args):
        return subprocess.run(
            [sys.executable, "-m", "stockroom_jobs.cli", *args, "--data-root", str(tmp_path)],
            capture_output=True,
            text=True,
            env={**__import__("os").environ, "STOCKROOM_USER": "Ana Costa"},
        )

    done = stockroom("import", str(OWN / "ebay_orders.csv"))
    assert done.returncode == 0, done.stderr
    assert "layout: ebay-orders" in done.stderr and "not recognised" in done.stderr
    assert stockroom("import", str(OWN / "purchase_orders.csv"), "--kind", "pos").returncode == 0
    line = repo.purchase_order_lines(workbench.engine(tmp_path), None).row(0, named=True)
    done = stockroom("po", "receive", line["po_number"], line["sku"], "--quantity", "5",
                     "--date", "2011-12-10")  # fmt: skip
    assert done.returncode == 0 and "received" in done.stderr
    again = repo.purchase_order_lines(workbench.engine(tmp_path), None)
    got = again.filter(pl.col("po_number") == line["po_number"]).row(0, named=True)
    assert got["received_quantity"] == line["received_quantity"] + 5
    assert got["received_at"] == date(2011, 12, 10)
    done = stockroom("po", "receive", line["po_number"], line["sku"], "--quantity", "99999")
    assert done.returncode == 1 and "larger than the" in done.stderr
    done = stockroom("import", str(OWN / "shopify_inventory.csv"), "--kind", "orders")
    assert done.returncode == 1 and "holds stock, not orders" in done.stderr.replace("\n", " ")


def test_a_western_encoded_semicolon_orders_file_with_decimal_commas(tmp_path):
    path = tmp_path / "bestellungen.csv"
    rows = [
        "Order number;SKU;Title;Qty;Unit price;Ordered at;Currency",
        "1001;A-1;Café crème;2;3,50;2024-06-01 10:00;EUR",
        "1002;B-2;Thé vert;1;1.234,50;2024-06-02 11:00;EUR",
        *[f"10{i:02d};C-{i};Tasse;1;2,00;2024-06-03 09:00;EUR" for i in range(10, 40)],
        "1099;D-4;Tasse;1;2,00;03/06/2024 9h;EUR",
    ]
    path.write_bytes("\r\n".join(rows).encode("cp1252"))
    run = own.import_files([path], tmp_path / "root", kind="orders", platform="shop").run
    orders = _orders(tmp_path / "root")
    prices = dict(orders.select("order_id", "unit_price").iter_rows())
    assert prices["1001"] == 3.5 and prices["1002"] == 1234.5  # never 350 or 1.2345
    assert run.rows_quarantined == 1
    bad = workbench.quarantined(workbench.engine(tmp_path / "root"), run.run_id).row(0, named=True)
    assert (bad["source_file"], bad["source_row"], bad["column"]) == (
        "bestellungen.csv",
        33,
        "Ordered at",
    )
    catalog = store.read_snapshot(
        tmp_path / "root", "products", store.resolve_as_of(tmp_path / "root", "products", None)
    )
    assert "Café crème" in catalog["title"].to_list()  # read as cp1252, not mangled
