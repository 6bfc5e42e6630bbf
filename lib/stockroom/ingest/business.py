"""The seller's own business from its exports: orders, stock per location, central inventory.

Each reader takes a CSV/TSV/Excel file (the dialect, encoding and header-alias handling of
:mod:`stockroom.ingest.tabular`) and returns canonical text frames with lineage, ready for
:meth:`stockroom_jobs.runs.Run.land` (which validates, quarantines and records). A file is read
in one of these **layouts**, recognised by its headers (or named with ``layout=``):

========================  ===========  ========================================================
layout                    kind         recognised by (headers)
========================  ===========  ========================================================
``shopify-orders``        orders       ``Name``, ``Lineitem sku``, ``Lineitem quantity``
``ebay-orders``           orders       ``Order Number``, ``Custom Label``, ``Sold For``
``online-retail``         orders       ``InvoiceNo``, ``StockCode`` (UCI Online Retail)
``shopify-inventory``     stock        ``Handle``, ``Location``, ``SKU`` + ``On hand``/``Available``
``orders`` / ``stock`` /  as named     the agreed columns under any alias
``inventory``
========================  ===========  ========================================================

The platform layouts are the columns those platforms publish for their own exports:
Shopify's order export (help.shopify.com/en/manual/fulfillment/managing-orders/exporting-orders)
and inventory export (help.shopify.com/en/manual/products/inventory/getting-started-with-inventory/
inventory-csv), eBay Seller Hub's Orders report (the "Download report" CSV of Seller Hub >
Orders), and the UCI Online Retail data set's invoice lines (Chen, Sain & Guo 2012).

Returns, cancellations: an order line with a negative quantity is a return (``returned``, the
quantity made positive); a "C"-prefixed invoice (the Online Retail layout only: elsewhere an
order id may start with C) or a Shopify order with ``Cancelled at`` is ``canceled``; Shopify's
``refunded`` financial status is ``refunded``. Such lines stay in ``orders`` and are excluded
from sales by :data:`stockroom.tables.NON_SALE_STATUSES`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from stockroom.errors import InputError, InputProblem
from stockroom.ingest.exports import Mapped, _whole_numbers
from stockroom.ingest.files import numbers, parse_timestamps
from stockroom.ingest.tabular import Sheet, as_sheet, key, read_table
from stockroom.tables import INVENTORY, ORDERS, PRODUCTS, SOURCE_FILE, SOURCE_ROW, STOCK

KINDS = ("orders", "stock", "inventory")
#: seller_id given to the seller's own orders and stock when the file names none
OWN_SELLER = "own"


@dataclass(frozen=True)
class Layout:
    """A published export layout: ``columns`` maps canonical names to its headers,
    ``signature`` lists the headers (compared by :func:`stockroom.ingest.tabular.key`) that
    identify it; ``platform`` is the platform its rows come from (None: given by the user)."""

    name: str
    kind: str
    columns: dict[str, str]
    signature: tuple[str, ...]
    platform: str | None = None
    required: tuple[str, ...] = field(default=())
    currency: str | None = None  # the layout's currency when its files carry none


LAYOUTS: dict[str, Layout] = {
    layout.name: layout
    for layout in (
        Layout(
            "shopify-orders",
            "orders",
            {
                "order_id": "Name",
                "order_ts": "Created at",
                "sku": "Lineitem sku",
                "title": "Lineitem name",
                "quantity": "Lineitem quantity",
                "unit_price": "Lineitem price",
                "currency": "Currency",
                "financial_status": "Financial Status",
                "cancelled_at": "Cancelled at",
                "freight": "Shipping",
            },
            ("name", "lineitem_sku", "lineitem_quantity"),
            platform="shopify",
            required=("order_id", "order_ts", "sku", "quantity", "unit_price"),
        ),
        Layout(
            "ebay-orders",
            "orders",
            {
                "order_id": "Order Number",
                "order_ts": "Sale Date",
                "sku": "Custom Label",
                "title": "Item Title",
                "quantity": "Quantity",
                "unit_price": "Sold For",
                "freight": "Shipping And Handling",
                "listing_id": "Item Number",
            },
            ("order_number", "custom_label", "sold_for"),
            platform="ebay",
            required=("order_id", "order_ts", "sku", "quantity", "unit_price"),
        ),
        Layout(
            "online-retail",
            "orders",
            {
                "order_id": "InvoiceNo",
                "order_ts": "InvoiceDate",
                "sku": "StockCode",
                "title": "Description",
                "quantity": "Quantity",
                "unit_price": "UnitPrice",
            },
            ("invoiceno", "stockcode"),
            required=("order_id", "order_ts", "sku", "quantity", "unit_price"),
            currency="GBP",
        ),
        Layout(
            "shopify-inventory",
            "stock",
            {
                "sku": "SKU",
                "title": "Title",
                "location": "Location",
                "on_hand": "On hand",
                "reserved": "Committed",
                "available": "Available",
                "unavailable": "Unavailable",
            },
            ("handle", "location", "sku"),
            platform="shopify",
            required=("sku", "location"),
        ),
        Layout(
            "orders",
            "orders",
            {},
            (),
            required=("order_id", "sku", "quantity"),
        ),
        Layout("stock", "stock", {}, (), required=("sku", "location")),
        Layout("inventory", "inventory", {}, (), required=("sku", "quantity", "price")),
    )
}


def detect_layout(headers: list[str], kind: str | None = None) -> Layout:
    """The platform layout whose signature headers are all present (first match), else the
    generic layout of ``kind``. Raises :class:`ValueError` when neither decides, or when the
    headers are a platform layout of another kind (a Shopify inventory export as orders)."""
    keys = {key(h) for h in headers}
    for layout in LAYOUTS.values():
        if layout.signature and set(layout.signature) <= keys:
            if kind is None or layout.kind == kind:
                return layout
            raise ValueError(
                f"the headers are those of a {layout.name} export, which holds {layout.kind}, "
                f"not {kind} (import it as {layout.kind})"
            )
    if kind is None:
        raise ValueError(
            "cannot tell what this file holds from its headers; name the kind "
            f"({', '.join(KINDS)}) or the layout ({', '.join(LAYOUTS)})"
        )
    return LAYOUTS[kind]


def _headers(path: Path | Sheet) -> list[str]:
    from stockroom.ingest import tabular

    if isinstance(path, Sheet):
        return path.frame.columns
    path = Path(path)
    if path.suffix.lower() in tabular.EXCEL_SUFFIXES:
        return next(iter(tabular.read_excel_sheets(path).values())).columns
    return tabular.read_csv(path).columns


def read(path: Path, kind: str | None = None, layout: str | None = None) -> tuple[Layout, Mapped]:
    """Read one export: its layout (given or detected) and the canonical frames it holds.

    ``kind`` is ``orders``, ``stock`` or ``inventory`` (or None: decided by the layout).
    Options that fill what a file leaves out (platform, currency, seller, location, day) are
    arguments of the per-kind functions; this entry point uses their defaults.
    """
    path = Path(path)
    chosen = LAYOUTS[layout] if layout else detect_layout(_headers(path), kind)
    if kind and chosen.kind != kind:
        raise ValueError(f"layout {chosen.name} holds {chosen.kind}, not {kind}")
    reader = {"orders": orders, "stock": stock, "inventory": inventory}[chosen.kind]
    return chosen, reader(path, layout=chosen)


def _sheet(path: Path | Sheet, layout: Layout) -> Sheet:
    try:
        if isinstance(path, Sheet):  # rows pulled from a database, already named
            return as_sheet(path.frame, layout.required, layout.columns or None, _where(path))
        return read_table(path, layout.required, layout.columns or None)
    except InputError as exc:
        raise InputError(
            [
                InputProblem(p.file, p.row, p.column, f"{p.message} [layout {layout.name}]")
                for p in exc.problems
            ]
        ) from None


def _where(path: Path | Sheet) -> str:
    return path.name if isinstance(path, Sheet) else Path(path).name


def _text(frame: pl.DataFrame, name: str) -> pl.Expr:
    return pl.col(name) if name in frame.columns else pl.lit(None, pl.String)


def orders(
    path: Path | Sheet,
    *,
    layout: Layout | None = None,
    platform: str | None = None,
    currency: str = "USD",
    seller_id: str = OWN_SELLER,
) -> Mapped:
    """An orders export -> canonical ``orders`` lines and the ``products`` they name.

    Lines: ``line`` is the file's own line number when it has one, else the position of the
    row within its order (stable for the same export, so a re-import replaces, never doubles);
    ``platform`` is the layout's, else the file's ``platform`` column, else ``platform``
    (required then); ``currency`` fills a missing currency (an eBay ``Sold For`` of ``£2.55``
    says GBP); ``seller_id`` is the file's, else ``own``. Statuses: see the module docstring.
    Timestamps: ``2011-01-05 08:26:00 +0000`` (Shopify), ``Dec-01-10`` (eBay), ISO (others);
    naive ones are UTC. Rows whose timestamp does not parse are set aside (``rejected``).
    Products: one per SKU with the first title seen (``title`` null when the file has none).
    Raises :class:`InputError` for an unreadable file or a missing column (naming the layout).
    """
    layout = layout or detect_layout(_headers(path), "orders")
    sheet = _sheet(path, layout)
    frame = sheet.frame
    chosen = layout.platform or platform
    if "platform" not in frame.columns and not chosen:
        raise InputError(
            [InputProblem(_where(path), None, "platform", "missing: give --platform for this file")]
        )
    order_key = _text(frame, "order_id")
    if layout.name == "shopify-orders":  # order-level cells sit on the order's first row only
        frame = frame.with_columns(
            [
                pl.col(c).forward_fill().over("order_id")
                for c in ("order_ts", "currency", "financial_status", "cancelled_at")
                if c in frame.columns
            ]
        )
    for name, alias in (
        ("order_ts", "order_date"),
        ("order_ts", "listed_at"),
        ("unit_price", "price"),
    ):
        if name not in frame.columns and alias in frame.columns:  # the generic layout's aliases
            frame = frame.rename({alias: name})
            sheet.columns[name] = sheet.columns.pop(alias)
    for name in ("order_ts", "unit_price"):
        if name not in frame.columns:
            raise InputError(
                [
                    InputProblem(
                        _where(path),
                        None,
                        name,
                        f"missing column (found: {', '.join(sheet.columns.values())})",
                    )
                ]
            )
    ts = _text(frame, "order_ts").str.strip_chars()
    if layout.name == "shopify-orders":  # "2011-01-05 08:26:00 +0000" -> ISO with an offset
        ts = ts.str.replace(r"^(\S+) (\S+) ([+-]\d{4})$", "${1}T${2}${3}")
    elif layout.name == "ebay-orders":  # "Dec-01-10" (eBay's report) -> 2010-12-01
        ts = pl.coalesce(
            ts.str.to_date("%b-%d-%y", strict=False).cast(pl.String),
            ts,
        )
    qty_text = _text(frame, "quantity").str.strip_chars()
    symbol_currency = (
        pl.col("unit_price")
        .str.extract(r"^\s*([£$€])", 1)
        .replace_strict({"£": "GBP", "$": "USD", "€": "EUR"}, default=None)
        if "unit_price" in frame.columns
        else pl.lit(None, pl.String)
    )
    lines = frame.select(
        ts.alias("order_ts"),
        pl.coalesce(_text(frame, "platform").str.to_lowercase(), pl.lit(chosen)).alias("platform"),
        order_key.str.strip_chars().alias("order_id"),
        (
            pl.col("line")
            if "line" in frame.columns
            else pl.int_range(1, pl.len() + 1).over("order_id").cast(pl.String)
        ).alias("line"),
        pl.coalesce(_text(frame, "seller_id"), pl.lit(seller_id)).alias("seller_id"),
        _text(frame, "sku").alias("sku"),
        qty_text.str.strip_prefix("-").alias("quantity"),
        _text(frame, "unit_price").alias("unit_price"),
        _text(frame, "freight").alias("freight"),
        pl.coalesce(
            _text(frame, "currency").str.to_uppercase(),
            symbol_currency,
            pl.lit(layout.currency or currency),
        ).alias("currency"),
        _status(frame, qty_text, layout.name == "online-retail").alias("status"),
        SOURCE_FILE,
        SOURCE_ROW,
    )
    delimiter = sheet.dialect.delimiter if sheet.dialect else None
    lines = lines.pipe(numbers, ["unit_price", "freight", "quantity"], delimiter).pipe(
        _whole_numbers, "quantity"
    )
    lines, rejected = parse_timestamps(
        lines, "order_ts", ORDERS.name, sheet.columns.get("order_ts")
    )
    products = (
        frame.select(
            _text(frame, "sku").alias("sku"),
            _text(frame, "title").alias("title"),
            *[pl.lit(None, pl.String).alias(c) for c in PRODUCTS.column_names[2:]],
            SOURCE_FILE,
            SOURCE_ROW,
        )
        .filter(pl.col("sku").is_not_null())
        .unique("sku", keep="first", maintain_order=True)
    )
    return Mapped({ORDERS.name: lines, PRODUCTS.name: products}, rejected, sheet.columns, sheet)


def _status(frame: pl.DataFrame, qty_text: pl.Expr, c_invoices: bool) -> pl.Expr:
    given = _text(frame, "status").str.to_lowercase().str.replace("cancelled", "canceled")
    financial = _text(frame, "financial_status").str.to_lowercase()
    c_prefixed = _text(frame, "order_id").str.strip_chars().str.starts_with("C")
    return (
        # Online Retail: "C"-prefixed invoices cancel (elsewhere an id may start with C)
        pl.when(c_prefixed & pl.lit(c_invoices))
        .then(pl.lit("canceled"))
        .when(_text(frame, "cancelled_at").is_not_null())
        .then(pl.lit("canceled"))
        .when(financial.is_in(["refunded", "voided"]))
        .then(pl.lit("refunded"))
        .when(qty_text.str.starts_with("-"))
        .then(pl.lit("returned"))
        .otherwise(pl.coalesce(given, pl.lit("delivered")))
    )


def stock(
    path: Path | Sheet,
    *,
    layout: Layout | None = None,
    seller_id: str = OWN_SELLER,
    location: str | None = None,
    currency: str | None = None,
) -> Mapped:
    """A stock export -> canonical ``stock`` rows: one per SKU and location, kept apart.

    ``on_hand`` is the file's on-hand column; Shopify files that carry only ``Available``
    have on hand = available + committed + unavailable. ``reserved`` is the file's
    reserved/committed column, else 0. ``location`` fills a missing location column (one
    warehouse per file). ``unit_cost`` and ``currency`` when given. The as-of day, when the
    file has an ``as_of`` column, is returned as the frame's ``as_of`` column (the job lands
    one snapshot per day found). Raises :class:`InputError` as :func:`orders`.
    """
    layout = layout or detect_layout(_headers(path), "stock")
    required = tuple(c for c in layout.required if c != "location" or location is None)
    sheet = _sheet(path, Layout(layout.name, layout.kind, layout.columns, (), required=required))
    frame = sheet.frame
    on_hand = _text(frame, "on_hand")
    if "on_hand" not in frame.columns:
        parts = [
            pl.col(c).cast(pl.Float64, strict=False).fill_null(0)
            for c in ("available", "reserved", "unavailable")
            if c in frame.columns
        ]
        if "quantity" in frame.columns:
            on_hand = pl.col("quantity")
        elif "available" in frame.columns:
            on_hand = pl.sum_horizontal(parts).cast(pl.Int64).cast(pl.String)
        else:
            raise InputError(
                [
                    InputProblem(
                        _where(path),
                        None,
                        "on_hand",
                        f"missing column (found: {', '.join(sheet.columns.values())})",
                    )
                ]
            )
    rows = frame.select(
        pl.coalesce(_text(frame, "seller_id"), pl.lit(seller_id)).alias("seller_id"),
        pl.coalesce(_text(frame, "location"), pl.lit(location)).alias("location"),
        _text(frame, "sku").alias("sku"),
        on_hand.alias("on_hand"),
        pl.coalesce(_text(frame, "reserved"), pl.lit("0")).alias("reserved"),
        _text(frame, "unit_cost").alias("unit_cost"),
        pl.coalesce(_text(frame, "currency").str.to_uppercase(), pl.lit(currency)).alias(
            "currency"
        ),
        _text(frame, "as_of").alias("as_of"),
        SOURCE_FILE,
        SOURCE_ROW,
    )
    delimiter = sheet.dialect.delimiter if sheet.dialect else None
    rows = (
        rows.pipe(numbers, ["on_hand", "reserved", "unit_cost"], delimiter)
        .pipe(_whole_numbers, "on_hand")
        .pipe(_whole_numbers, "reserved")
    )
    return Mapped({STOCK.name: rows}, _no_rejects(), sheet.columns, sheet)


def inventory(
    path: Path | Sheet,
    *,
    layout: Layout | None = None,
    currency: str | None = None,
) -> Mapped:
    """A central inventory file -> canonical ``inventory`` rows (one per SKU): title, brand,
    category, quantity, price, cost, currency, location, status (default ``active``) and the
    platforms the item should be listed on. Raises :class:`InputError` as :func:`orders`."""
    layout = layout or LAYOUTS["inventory"]
    sheet = _sheet(path, layout)
    frame = sheet.frame
    rows = frame.select(
        _text(frame, "sku").alias("sku"),
        _text(frame, "title").alias("title"),
        pl.coalesce(_text(frame, "quantity"), _text(frame, "on_hand")).alias("quantity"),
        _text(frame, "price").alias("price"),
        pl.coalesce(_text(frame, "currency").str.to_uppercase(), pl.lit(currency)).alias(
            "currency"
        ),
        pl.coalesce(_text(frame, "status").str.to_lowercase(), pl.lit("active")).alias("status"),
        _text(frame, "platforms").str.to_lowercase().alias("platforms"),
        _text(frame, "brand").alias("brand"),
        _text(frame, "category").alias("category"),
        _text(frame, "unit_cost").alias("cost"),
        _text(frame, "location").alias("location"),
        SOURCE_FILE,
        SOURCE_ROW,
    )
    delimiter = sheet.dialect.delimiter if sheet.dialect else None
    rows = rows.pipe(numbers, ["quantity", "price", "cost"], delimiter).pipe(
        _whole_numbers, "quantity"
    )
    return Mapped({INVENTORY.name: rows}, _no_rejects(), sheet.columns, sheet)


def _no_rejects() -> pl.DataFrame:
    from stockroom.tables import QUARANTINE_SCHEMA

    return pl.DataFrame(schema=QUARANTINE_SCHEMA)
