"""Seller exports (CSV/Excel) mapped to canonical tables.

* :func:`listings_from_export` -- the agreed import format for listings: ``platform, seller_id,
  sku, quantity, price, notes`` plus optional ``title, seller_name, listed_at, status, currency,
  url`` (and ``listing_id``), under any header spelling :data:`stockroom.ingest.tabular.ALIASES`
  knows.
* :func:`stockx_sales` -- the StockX sales workbook (one row per sale): ``orders`` and the
  ``products`` it names.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl

from stockroom.ingest.files import money, numbers, parse_timestamps
from stockroom.ingest.tabular import Sheet, read_table
from stockroom.tables import LISTINGS, ORDERS, PRODUCTS, SOURCE_FILE, SOURCE_ROW

#: Columns the listing import format requires (``platform`` may come from ``--platform``).
LISTING_REQUIRED = ("seller_id", "sku", "quantity", "price")


@dataclass(frozen=True)
class Mapped:
    """Canonical frame(s) from one file, the rows already set aside, and the header mapping."""

    frames: dict[str, pl.DataFrame]
    rejected: pl.DataFrame
    source_columns: dict[str, str]
    sheet: Sheet


def listings_from_export(
    path: Path, platform: str | None = None, currency: str = "USD", seller_id: str | None = None
) -> Mapped:
    """Read a listings export (CSV/TSV/Excel) into canonical ``listings`` rows (text cells).

    ``platform`` fills a missing/blank platform column, ``seller_id`` a missing seller column
    (a seller's export of its own listings names no seller); ``currency`` (ISO 4217) a missing
    currency. ``listing_id`` defaults to ``<seller_id>:<sku>``, ``status`` to ``active``.
    Timestamps without a zone are taken as UTC. Raises :class:`stockroom.errors.InputError` for a
    file that cannot be read or lacks a required column (naming the headers found).
    """
    required = LISTING_REQUIRED if platform else ("platform", *LISTING_REQUIRED)
    if seller_id:
        required = tuple(c for c in required if c != "seller_id")
    sheet = read_table(path, required)
    delimiter = sheet.dialect.delimiter if sheet.dialect else None
    frame = sheet.frame
    if seller_id:
        frame = frame.with_columns(
            pl.coalesce(
                pl.col("seller_id") if "seller_id" in frame.columns else pl.lit(None, pl.String),
                pl.lit(seller_id),
            ).alias("seller_id")
        )
    frame, rejected = listings_from_text(
        frame, sheet.columns, platform, currency, delimiter=delimiter
    )
    return Mapped({LISTINGS.name: frame}, rejected, sheet.columns, sheet)


def listings_from_text(
    frame: pl.DataFrame,
    columns: dict[str, str],
    platform: str | None = None,
    currency: str = "USD",
    *,
    delimiter: str | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Canonically named text columns (any subset; lineage kept) -> ``listings`` rows and the
    rows whose ``listed_at`` does not parse (``QUARANTINE_SCHEMA``). Defaults as in
    :func:`listings_from_export`. Price and quantity are read with their column's decimal mark
    (:func:`stockroom.ingest.files.numbers`; ``delimiter`` is the file's, a hint for columns
    that do not show their mark)."""

    def text(name):
        return (
            pl.col(name)
            if name in frame.columns  # noqa: E731
            else pl.lit(None, pl.String)
        )

    frame = (
        frame.select(
            pl.coalesce(text("platform").str.to_lowercase(), pl.lit(platform)).alias("platform"),
            pl.coalesce(
                text("listing_id"), pl.concat_str(text("seller_id"), pl.lit(":"), text("sku"))
            ).alias("listing_id"),
            text("seller_id").alias("seller_id"),
            text("seller_name").alias("seller_name"),
            text("sku").alias("sku"),
            text("title").alias("title"),
            text("quantity").alias("quantity"),
            text("price").alias("price"),
            pl.coalesce(text("currency").str.to_uppercase(), pl.lit(currency)).alias("currency"),
            pl.coalesce(text("status").str.to_lowercase(), pl.lit("active")).alias("status"),
            text("listed_at").alias("listed_at"),
            text("url").alias("url"),
            text("notes").alias("notes"),
            SOURCE_FILE,
            SOURCE_ROW,
        )
        .pipe(numbers, ["price", "quantity"], delimiter)
        .pipe(_whole_numbers, "quantity")
    )
    return parse_timestamps(frame, "listed_at", LISTINGS.name, columns.get("listed_at"))


def _whole_numbers(frame: pl.DataFrame, column: str) -> pl.DataFrame:
    """``3.0`` (how spreadsheets store whole numbers) -> ``3``; only when needed."""
    src = frame[column]
    if src.dtype != pl.String or src.cast(pl.Int64, strict=False).null_count() == src.null_count():
        return frame
    return frame.with_columns(pl.col(column).str.replace(r"\.0+$", ""))


STOCKX_PLATFORM = "stockx"


def stockx_sales(path: Path) -> Mapped:
    """The StockX 2019 Data Contest workbook (or its CSV) as ``orders`` and ``products``.

    One order line per sale row: ``order_ts`` = Order Date at 00:00 UTC (the file has dates
    only), ``seller_id`` = ``stockx`` (sellers are anonymous in the file), ``sku`` = sneaker
    name + ``-`` + US size (one SKU per size, as StockX lists them), price in USD, status
    ``delivered``. ``order_id`` = file stem + row number, stable for the same file. The catalog
    gets one product per SKU with brand and ``category`` = ``sneakers``.
    """
    sheet = read_table(path, ("order_date", "title", "price", "size"))
    frame = sheet.frame
    stem = Path(path).stem
    size = pl.col("size").str.replace(r"\.0$", "")
    lines = frame.select(
        pl.col("order_date").alias("order_ts"),
        pl.lit(STOCKX_PLATFORM).alias("platform"),
        pl.concat_str(pl.lit(stem + "-"), pl.col(SOURCE_ROW).cast(pl.String)).alias("order_id"),
        pl.lit("1").alias("line"),
        pl.lit(STOCKX_PLATFORM).alias("seller_id"),
        pl.concat_str(pl.col("title"), pl.lit("-"), size).alias("sku"),
        pl.lit("1").alias("quantity"),
        pl.col("price").alias("unit_price"),
        pl.lit(None, pl.String).alias("freight"),
        pl.lit("USD").alias("currency"),
        pl.lit("delivered").alias("status"),
        SOURCE_FILE,
        SOURCE_ROW,
    ).with_columns(money("unit_price"))
    lines, rejected = parse_timestamps(lines, "order_ts", ORDERS.name, sheet.columns["order_date"])
    products = (
        frame.select(
            pl.concat_str(pl.col("title"), pl.lit("-"), size).alias("sku"),
            pl.concat_str(pl.col("title").str.replace_all("-", " "), pl.lit(" size "), size).alias(
                "title"
            ),
            pl.lit("sneakers").alias("category"),
            pl.lit("sneakers").alias("category_source"),
            (pl.col("brand") if "brand" in frame.columns else pl.lit(None, pl.String)).alias(
                "brand"
            ),
            pl.lit(None, pl.String).alias("gtin"),
            pl.lit(None, pl.String).alias("weight_g"),
            SOURCE_FILE,
            SOURCE_ROW,
        )
        .filter(pl.col("sku").is_not_null())
        .unique("sku", keep="first", maintain_order=True)
    )
    return Mapped({ORDERS.name: lines, PRODUCTS.name: products}, rejected, sheet.columns, sheet)


def by_day(frame: pl.DataFrame, column: str = "order_ts") -> dict:
    """Split an events frame into daily partitions by the UTC date of ``column``."""
    keyed = frame.with_columns(pl.col(column).dt.date().alias("_day"))
    return {
        key[0]: part.drop("_day")
        for key, part in keyed.partition_by("_day", as_dict=True, maintain_order=True).items()
        if key[0] is not None
    }
