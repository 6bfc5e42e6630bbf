"""Real resale data: the StockX 2019 Data Contest sales as a reseller's lots and sales.

Each sale row (Order Date, Brand, Sneaker Name, Sale Price, Retail Price, Release Date, Shoe
Size) becomes one item **bought at retail on the release day** (cost = retail price; sales tax
and shipping of the purchase are not in the data and count as 0) and **sold on StockX on the
order day** at the sale price, with StockX's seller fees of that day from the bundled fee
schedule (:mod:`stockroom.market.fees`: Seller Level 1, 9 % transaction fee + 3 % payment
processing on the sale price; source https://stockx.com/help/articles/what-are-stockxs-fees-for-sellers).
StockX gives sellers a prepaid label and the buyer pays shipping to StockX, so neither
shipping amount touches the seller's P&L (both 0). The listing day is unknown and taken as the
release day (days listed = days to sell), the ask as the sale price.

Sales dated before their release day (StockX pre-release trading: the seller sold a pair it
could only buy later) do not fit "bought on release day" and are left out; :func:`frames`
counts them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl

from stockroom.ingest import files, tabular
from stockroom.market import fees
from stockroom.resale import imports
from stockroom.tables import SOURCE_FILE, SOURCE_ROW

PLATFORM = "stockx"
COLUMNS = ("order_date", "title", "price", "size", "retail_price", "release_date", "brand")


@dataclass(frozen=True)
class ResaleFrames:
    """What :func:`frames` gives: lots (``RESALE_LOTS`` shape), listings and sales (the
    inputs of :func:`stockroom.resale.repo.add_listings` / ``record_sales``), and how many
    sale rows were left out as pre-release sales."""

    lots: pl.DataFrame
    listings: pl.DataFrame
    sales: pl.DataFrame
    pre_release: int
    rows: int


def frames(path: Path, schedule: pl.DataFrame | None = None) -> ResaleFrames:
    """The workbook (or its CSV) at ``path`` as resale lots, listings and sales (see the
    module doc). Item ids are ``stockx-<row>`` (the 1-based data row of the file), so a
    re-import lands nothing new. Raises :class:`stockroom.errors.InputError` naming the file
    and the missing column, or a row whose date or price cannot be read."""
    schedule = fees.load() if schedule is None else schedule
    sheet = tabular.read_table(Path(path), COLUMNS)
    raw = sheet.frame
    for column in ("order_date", "release_date"):
        raw = imports.parse_dates(raw, column, sheet.columns[column])
    size = pl.col("size").str.replace(r"\.0$", "")
    typed = raw.with_columns(files.money("price"), files.money("retail_price")).select(
        pl.concat_str(pl.lit("stockx-"), pl.col(SOURCE_ROW).cast(pl.String)).alias("lot_id"),
        pl.col("order_date").alias("sold_on"),
        pl.col("release_date").alias("acquired_on"),
        pl.col("title").str.replace_all("-", " ").alias("model"),
        pl.col("brand").str.strip_chars().alias("brand"),
        size.alias("size"),
        pl.col("price").cast(pl.Float64, strict=False).alias("sold_price"),
        pl.col("retail_price").cast(pl.Float64, strict=False).alias("hammer"),
        SOURCE_FILE,
        SOURCE_ROW,
    )
    pre = typed.filter(pl.col("sold_on") < pl.col("acquired_on"))
    kept = typed.filter(pl.col("sold_on") >= pl.col("acquired_on"))
    lots = kept.select(
        "lot_id",
        pl.lit("retail").alias("auction_house"),
        pl.lit(None, pl.String).alias("auction_id"),
        pl.lit(None, pl.String).alias("lot_number"),
        "acquired_on",
        pl.concat_str(pl.col("model"), pl.lit(" (US "), pl.col("size"), pl.lit(")")).alias("name"),
        pl.lit("sneakers").alias("category"),
        pl.col("brand").alias("subcategory"),
        pl.lit("new").alias("condition"),
        "brand",
        "model",
        "size",
        pl.lit(1, pl.Int32).alias("quantity"),
        "hammer",
        *(pl.lit(0.0).alias(c) for c in ("premium", "tax", "shipping")),
        pl.lit("USD").alias("currency"),
        SOURCE_FILE,
        SOURCE_ROW,
    )
    listings = kept.select(
        pl.col("lot_id").alias("item_id"),
        pl.lit(PLATFORM).alias("platform"),
        pl.col("sold_price").alias("list_price"),  # StockX sells at the ask: the sale price
        pl.col("acquired_on").alias("listed_on"),
        SOURCE_FILE,
        SOURCE_ROW,
    )
    priced = fees.apply(
        kept.select(
            pl.lit(PLATFORM).alias("platform"),
            pl.lit("USD").alias("currency"),
            pl.lit("sneakers").alias("category"),
            pl.col("sold_price").alias("price"),
            pl.col("sold_on").alias("day"),
        ),
        schedule,
    )
    sales = kept.select(
        pl.col("lot_id").alias("item_id"),
        pl.lit(PLATFORM).alias("platform"),
        "sold_on",
        "sold_price",
        (priced["price"] * priced["fee_share_total"] + priced["fixed_fee"])
        .round(2)
        .alias("platform_fees"),
        pl.lit(0.0).alias("buyer_shipping"),
        priced["shipping"].alias("actual_shipping"),
        SOURCE_FILE,
        SOURCE_ROW,
    )
    return ResaleFrames(lots, listings, sales, pre.height, typed.height)
