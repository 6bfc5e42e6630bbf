"""Write the bundled "your own data" sample (data/raw/own/) from the UCI Online Retail data.

The orders are real: every invoice line of 80 sampled products (seed 15) of the UK online
retailer in ../shared/data/online_retail/ (2010-12-01 .. 2011-12-09), written in two platforms'
published export layouts -- customers in the United Kingdom as a Shopify orders export, the
others as an eBay Seller Hub orders report -- so one business sells on two platforms.
Cancellations stay as the data has them ("C" invoices, negative quantities).

The rest is seeded, not real (the data set has no stock, costs or suppliers): a Shopify
inventory export with the stock on two warehouses on the last day, the central inventory (what
those warehouses can sell), the seller's own listings on Shopify (product export) and eBay
(active listings report) drifted from it as listings drift, the suppliers' terms and a few
purchase orders with partial receipts. Run:

    .venv/bin/python scripts/make_own_data.py [../shared/data/online_retail] [data/raw/own]
"""

from __future__ import annotations

import csv
import hashlib
import sys
import zlib
from datetime import timedelta
from pathlib import Path

import numpy as np
import polars as pl

SEED = 15
SKUS = 80
SHOPIFY_ORDER_COLUMNS = [
    "Name", "Email", "Financial Status", "Paid at", "Fulfillment Status", "Fulfilled at",
    "Currency", "Subtotal", "Shipping", "Taxes", "Total", "Created at", "Lineitem quantity",
    "Lineitem name", "Lineitem price", "Lineitem sku", "Lineitem requires shipping",
    "Lineitem fulfillment status", "Billing Country", "Cancelled at", "Vendor", "Id",
]  # fmt: skip
EBAY_COLUMNS = [
    "Sales Record Number", "Order Number", "Buyer Username", "Buyer Name", "Ship To Country",
    "Item Number", "Item Title", "Custom Label", "Quantity", "Sold For",
    "Shipping And Handling", "Total Price", "Sale Date", "Paid On Date", "Transaction ID",
]  # fmt: skip
SHOPIFY_INVENTORY_COLUMNS = [
    "Handle", "Title", "Option1 Name", "Option1 Value", "SKU", "HS Code", "COO", "Location",
    "Incoming", "Unavailable", "Committed", "Available", "On hand",
]  # fmt: skip
LOCATIONS = ("London warehouse", "Leeds 3PL")
SUPPLIERS = {"Hartley Gifts Ltd": (21, 24, 12), "Norfolk Homeware": (10, 0, 6)}


def main(source: Path, out: Path) -> None:
    tx = pl.read_parquet(source / "online_retail_I.parquet")
    per_sku = tx.group_by("StockCode").agg(pl.len().alias("lines"))
    pool = per_sku.filter(pl.col("lines").is_between(100, 500)).sort("StockCode")
    rng = np.random.default_rng(SEED)
    skus = sorted(rng.choice(pool["StockCode"].to_numpy(), SKUS, replace=False).tolist())
    lines = tx.filter(pl.col("StockCode").is_in(skus)).sort("InvoiceDate", "InvoiceNo")
    out.mkdir(parents=True, exist_ok=True)
    uk = lines.filter(pl.col("Country") == "United Kingdom")
    _shopify_orders(uk, out / "shopify_orders.csv")
    _ebay_orders(lines.filter(pl.col("Country") != "United Kingdom"), out / "ebay_orders.csv")
    titles = lines.group_by("StockCode").agg(
        pl.col("Description").drop_nulls().mode().first().alias("title"),
        pl.col("UnitPrice").median().alias("price"),
        (pl.col("Quantity").filter(pl.col("Quantity") > 0).sum() / 373).alias("per_day"),
    )
    titles = titles.sort("StockCode")
    available = _stock(titles, rng, out / "shopify_inventory.csv")
    _central(titles, available, out / "inventory.csv")
    _listings(titles, available, rng, out)
    _suppliers(titles, out / "suppliers.csv")
    _purchase_orders(titles, rng, lines["InvoiceDate"].max().date(), out / "purchase_orders.csv")
    sums = [
        f"{hashlib.sha256(p.read_bytes()).hexdigest()}  {p.name}" for p in sorted(out.glob("*.csv"))
    ]
    (out / "SHA256SUMS").write_text("\n".join(sums) + "\n")
    print(f"{len(skus)} SKUs, {lines.height:,} order lines ({uk.height:,} Shopify) -> {out}")


def _write(path: Path, header: list[str], rows: list[list]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)


def _shopify_orders(lines: pl.DataFrame, path: Path) -> None:
    rows = []
    for (invoice,), order in lines.group_by("InvoiceNo", maintain_order=True):
        cancelled = invoice.startswith("C")
        created = order["InvoiceDate"][0].strftime("%Y-%m-%d %H:%M:%S +0000")
        total = float((order["Quantity"].abs() * order["UnitPrice"]).sum())
        customer = order["CustomerID"][0]
        for i, r in enumerate(order.iter_rows(named=True)):
            first = i == 0  # Shopify writes the order's own cells on its first line only
            rows.append(
                [
                    f"#{invoice}",
                    f"customer{customer}@example.com" if first and customer else "",
                    ("refunded" if cancelled else "paid") if first else "",
                    created if first else "",
                    "fulfilled" if first else "",
                    created if first else "",
                    "GBP" if first else "",
                    f"{total:.2f}" if first else "",
                    "0.00" if first else "",
                    "0.00" if first else "",
                    f"{total:.2f}" if first else "",
                    created if first else "",
                    abs(r["Quantity"]),
                    r["Description"] or "",
                    f"{r['UnitPrice']:.2f}",
                    r["StockCode"],
                    "true",
                    "fulfilled",
                    r["Country"] if first else "",
                    created if first and cancelled else "",
                    "Online Retail",
                    "",
                ]
            )
    _write(path, SHOPIFY_ORDER_COLUMNS, rows)


def _ebay_orders(lines: pl.DataFrame, path: Path) -> None:
    rows = []
    for n, r in enumerate(lines.iter_rows(named=True), start=1):
        qty = r["Quantity"]
        rows.append(
            [
                n,
                r["InvoiceNo"],
                f"buyer{r['CustomerID']}" if r["CustomerID"] else "",
                "",
                r["Country"],
                f"1{zlib.crc32(r['StockCode'].encode()):011d}",
                r["Description"] or "",
                r["StockCode"],
                qty,
                f"£{r['UnitPrice']:,.2f}",
                "£0.00",
                f"£{abs(qty) * r['UnitPrice']:,.2f}",
                r["InvoiceDate"].strftime("%b-%d-%y"),
                r["InvoiceDate"].strftime("%b-%d-%y"),
                f"{r['InvoiceNo']}{n:04d}",
            ]
        )
    _write(path, EBAY_COLUMNS, rows)


def _stock(titles: pl.DataFrame, rng, path: Path) -> dict[str, int]:
    rows, available = [], {}
    for r in titles.iter_rows(named=True):
        days = rng.uniform(0, 60)  # runway between none and two months
        total = int(round(r["per_day"] * days))
        london = int(round(total * 0.7))
        for location, on_hand in zip(LOCATIONS, (london, total - london), strict=True):
            committed = int(min(on_hand, rng.poisson(max(r["per_day"], 0.1))))
            handle = (r["title"] or r["StockCode"]).lower().replace(" ", "-")
            rows.append(
                [
                    handle, r["title"], "Title", "Default Title", r["StockCode"], "", "GB",
                    location, 0, 0, committed, on_hand - committed, on_hand,
                ]
            )  # fmt: skip
            available[r["StockCode"]] = available.get(r["StockCode"], 0) + on_hand - committed
    _write(path, SHOPIFY_INVENTORY_COLUMNS, rows)
    return available


def _central(titles: pl.DataFrame, available: dict[str, int], path: Path) -> None:
    """The central inventory: what can be sold now (on hand - committed, both warehouses)."""
    rows = []
    for r in titles.iter_rows(named=True):
        price = round(float(r["price"]), 2)
        rows.append(
            [
                r["StockCode"], r["title"], "Online Retail", "gifts & homeware",
                available[r["StockCode"]], f"{price:.2f}", f"{price * 0.45:.2f}", "GBP",
                LOCATIONS[0], "shopify,ebay",
            ]
        )  # fmt: skip
    header = ["SKU", "Title", "Brand", "Category", "Quantity", "Price", "Cost", "Currency",
              "Location", "Platforms"]  # fmt: skip
    _write(path, header, rows)


def _listings(titles: pl.DataFrame, available: dict[str, int], rng, out: Path) -> None:
    """The seller's own listings on both platforms, drifted from the central inventory as
    real listings drift (seeded): a few quantities and prices out of date, three SKUs never
    listed on eBay, one eBay listing of a SKU the central inventory does not hold."""
    shopify, ebay = [], []
    for i, r in enumerate(titles.iter_rows(named=True)):
        sku, price, qty = r["StockCode"], round(float(r["price"]), 2), available[r["StockCode"]]
        handle = (r["title"] or sku).lower().replace(" ", "-")
        shop_qty = qty + int(rng.integers(1, 6)) if i % 13 == 0 else qty
        shopify.append([handle, r["title"], sku, shop_qty, f"{price:.2f}", "active"])
        if i % 27 == 5:
            continue  # never listed on eBay
        ebay_price = round(price * 1.15, 2) if i % 17 == 3 else price
        ebay.append(
            [
                f"1{zlib.crc32(sku.encode()):011d}", r["title"], sku,
                qty - 1 if i % 11 == 0 and qty else qty, f"£{ebay_price:,.2f}", "GBP",
                "2010-11-20 09:00:00", "FIXED_PRICE",
            ]
        )  # fmt: skip
    ebay.append(["199999999999", "VINTAGE TIN SIGN (old stock)", "OLD-TIN-01", 2, "£4.50", "GBP",
                 "2011-06-01 09:00:00", "FIXED_PRICE"])  # fmt: skip
    _write(out / "shopify_products.csv",
           ["Handle", "Title", "Variant SKU", "Variant Inventory Qty", "Variant Price", "Status"],
           shopify)  # fmt: skip
    _write(out / "ebay_active_listings.csv",
           ["Item number", "Title", "Custom label (SKU)", "Available quantity", "Current price",
            "Currency", "Start date", "Format"], ebay)  # fmt: skip


def _suppliers(titles: pl.DataFrame, path: Path) -> None:
    names = list(SUPPLIERS)
    rows = [[None, name, lead, 7, moq, pack, 0.95] for name, (lead, moq, pack) in SUPPLIERS.items()]
    rows += [[r["StockCode"], names[i % 2], None, None, None, None, None]
             for i, r in enumerate(titles.iter_rows(named=True))]  # fmt: skip
    _write(path, ["SKU", "Supplier", "Lead time", "Review period", "MOQ", "Pack size",
                  "Service level"], rows)  # fmt: skip


def _purchase_orders(titles: pl.DataFrame, rng, last_day, path: Path) -> None:
    names = list(SUPPLIERS)
    picked = titles.sample(12, seed=SEED).sort("StockCode")
    rows = []
    for i, r in enumerate(picked.iter_rows(named=True)):
        supplier = names[i % 2]
        ordered = last_day - timedelta(days=int(rng.integers(3, 20)))
        expected = ordered + timedelta(days=SUPPLIERS[supplier][0])
        qty = int(max(12, round(r["per_day"] * 30 / 12) * 12))
        received = qty // 2 if i % 4 == 0 else 0
        rows.append(
            [
                f"PO-{ordered:%Y%m%d}-{i + 1:03d}", r["StockCode"], supplier, qty,
                ordered.isoformat(), expected.isoformat(),
                (ordered + timedelta(days=7)).isoformat() if received else "",
                received or "",
            ]
        )  # fmt: skip
    _write(path, ["PO number", "SKU", "Supplier", "Quantity", "Order date", "Expected delivery",
                  "Received at", "Received quantity"], rows)  # fmt: skip


if __name__ == "__main__":
    main(
        Path(sys.argv[1]) if len(sys.argv) > 1 else Path("../shared/data/online_retail"),
        Path(sys.argv[2]) if len(sys.argv) > 2 else Path("data/raw/own"),
    )
