"""Adapter for the Olist Brazilian e-commerce marketplace export (Kaggle, CC BY-NC-SA 4.0).

Reads the files as published -- the Kaggle CSVs (``olist_*_dataset.csv``, UTF-8 BOM and CRLF in
some) or their Parquet conversions, including the 23 % order sample shipped in ``data/raw/olist``
-- and returns canonical ``sellers``, ``products`` and ``orders`` frames (``stockroom.tables``).

Mapping:

* one ``orders`` row per order item: ``order_ts`` = ``order_purchase_timestamp`` read as
  America/Sao_Paulo local time and converted to UTC; ``line`` = ``order_item_id``; quantity 1
  (Olist numbers every unit as its own item); ``unit_price`` = ``price`` and ``freight`` =
  ``freight_value`` in BRL; ``status`` = ``order_status``.
* ``products``: ``sku`` = ``product_id``; ``category`` = English name from the translation
  file when present (else the Portuguese name); Olist publishes no titles or brands.
* ``sellers``: ``seller_id``, city, state (``region``), country BR; Olist publishes no names.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import polars as pl

from stockroom.errors import InputError, InputProblem
from stockroom.ingest.files import parse_column, read_source
from stockroom.tables import SOURCE_FILE, SOURCE_ROW

PLATFORM = "olist"
CURRENCY = "BRL"
LOCAL_TZ = "America/Sao_Paulo"

#: logical file -> accepted file names (first found wins), and the columns we need from it.
FILES: dict[str, tuple[tuple[str, ...], list[str]]] = {
    "orders": (
        (
            "olist_orders_dataset.csv",
            "olist_orders_dataset.parquet",
            "orders.parquet",
            "orders_sample.parquet",
        ),
        ["order_id", "order_status", "order_purchase_timestamp"],
    ),
    "order_items": (
        (
            "olist_order_items_dataset.csv",
            "olist_order_items_dataset.parquet",
            "order_items.parquet",
            "order_items_sample.parquet",
        ),
        ["order_id", "order_item_id", "product_id", "seller_id", "price", "freight_value"],
    ),
    "sellers": (
        ("olist_sellers_dataset.csv", "olist_sellers_dataset.parquet", "sellers.parquet"),
        ["seller_id", "seller_city", "seller_state"],
    ),
    "products": (
        ("olist_products_dataset.csv", "olist_products_dataset.parquet", "products.parquet"),
        ["product_id", "product_category_name", "product_weight_g"],
    ),
}
OPTIONAL_FILES: dict[str, tuple[tuple[str, ...], list[str]]] = {
    "category_translation": (
        (
            "product_category_name_translation.csv",
            "product_category_name_translation.parquet",
            "category_translation.parquet",
        ),
        ["product_category_name", "product_category_name_english"],
    ),
}


#: canonical column -> Olist column, per table, so validation errors name the raw column.
SOURCE_COLUMNS: dict[str, dict[str, str]] = {
    "orders": {
        "order_ts": "order_purchase_timestamp",
        "line": "order_item_id",
        "sku": "product_id",
        "unit_price": "price",
        "freight": "freight_value",
        "status": "order_status",
    },
    "products": {
        "sku": "product_id",
        "weight_g": "product_weight_g",
        "category": "product_category_name",
    },
    "sellers": {"city": "seller_city", "region": "seller_state"},
}


@dataclass(frozen=True)
class OlistExport:
    """Canonical frames from one Olist export (not yet validated; the store validates).

    ``orders`` keeps the lineage columns ``_source_file``/``_source_row`` (of the order-items
    file) so that validation errors point at the raw row. ``first_day``/``last_day`` are the UTC
    dates of the first and last order.
    """

    sellers: pl.DataFrame
    products: pl.DataFrame
    orders: pl.DataFrame
    sources: list[Path]
    first_day: date
    last_day: date


def locate(directory: Path) -> dict[str, Path]:
    """Find the export's files in ``directory``; raises :class:`InputError` naming any missing."""
    if not directory.is_dir():
        raise InputError([InputProblem(str(directory), None, None, "directory not found")])
    found: dict[str, Path] = {}
    problems = []
    for logical, (names, _) in {**FILES, **OPTIONAL_FILES}.items():
        hit = next((directory / n for n in names if (directory / n).is_file()), None)
        if hit is not None:
            found[logical] = hit
        elif logical in FILES:
            problems.append(
                InputProblem(
                    str(directory / names[0]),
                    None,
                    None,
                    f"file not found (looked for {' or '.join(names)})",
                )
            )
    if problems:
        raise InputError(problems)
    return found


def _local_to_utc(column: str) -> pl.Expr:
    """Sao Paulo wall-clock time -> UTC. Times skipped by a DST start are read in standard time
    (UTC-3, i.e. one hour later on the wall clock); repeated times take the earlier instant."""
    ts = pl.col(column)
    first = ts.dt.replace_time_zone(LOCAL_TZ, ambiguous="earliest", non_existent="null")
    skipped = (ts + pl.duration(hours=1)).dt.replace_time_zone(
        LOCAL_TZ, ambiguous="earliest", non_existent="null"
    )
    return pl.coalesce(first, skipped).dt.convert_time_zone("UTC")


def read_export(directory: Path) -> OlistExport:
    """Read an Olist export folder into canonical frames. Raises :class:`InputError`."""
    paths = locate(directory)
    raw = {
        name: read_source(path, (FILES | OPTIONAL_FILES)[name][1]) for name, path in paths.items()
    }

    orders = parse_column(raw["orders"], "order_purchase_timestamp", pl.Datetime)
    items = raw["order_items"]
    items = parse_column(items, "order_item_id", pl.Int32)
    items = parse_column(items, "price", pl.Float64)
    items = parse_column(items, "freight_value", pl.Float64)

    lines = items.join(
        orders.select("order_id", "order_status", "order_purchase_timestamp"),
        on="order_id",
        how="left",
    )
    orphans = lines.filter(
        pl.col("order_status").is_null() & pl.col("order_purchase_timestamp").is_null()
    )
    if orphans.height:
        raise InputError(
            [
                InputProblem(
                    r[SOURCE_FILE],
                    r[SOURCE_ROW],
                    "order_id",
                    f"order not found in {paths['orders'].name}",
                    r["order_id"],
                )
                for r in orphans.head(20).iter_rows(named=True)
            ]
        )
    canonical_orders = lines.select(
        _local_to_utc("order_purchase_timestamp").alias("order_ts"),
        pl.lit(PLATFORM).alias("platform"),
        "order_id",
        pl.col("order_item_id").alias("line"),
        "seller_id",
        pl.col("product_id").alias("sku"),
        pl.lit(1, pl.Int32).alias("quantity"),
        pl.col("price").alias("unit_price"),
        pl.col("freight_value").alias("freight"),
        pl.lit(CURRENCY).alias("currency"),
        pl.col("order_status").str.strip_chars().str.to_lowercase().alias("status"),
        SOURCE_FILE,
        SOURCE_ROW,
    )
    bad_ts = canonical_orders.filter(pl.col("order_ts").is_null())
    if bad_ts.height:
        raise InputError(
            [
                InputProblem(
                    paths["orders"].name,
                    None,
                    "order_purchase_timestamp",
                    "order without a purchase timestamp",
                    r["order_id"],
                )
                for r in bad_ts.head(20).iter_rows(named=True)
            ]
        )

    sellers = raw["sellers"].select(
        pl.lit(PLATFORM).alias("platform"),
        pl.col("seller_id").str.strip_chars(),
        pl.lit(None, pl.String).alias("seller_name"),
        pl.col("seller_city").cast(pl.String).alias("city"),
        pl.col("seller_state").cast(pl.String).alias("region"),
        pl.lit("BR").alias("country"),
        SOURCE_FILE,
        SOURCE_ROW,
    )

    products = parse_column(raw["products"], "product_weight_g", pl.Float64)
    category_local = pl.col("product_category_name").cast(pl.String)
    if "category_translation" in raw:
        translation = (
            raw["category_translation"]
            .select(
                pl.col("product_category_name").cast(pl.String),
                pl.col("product_category_name_english").cast(pl.String).alias("category_en"),
            )
            .unique("product_category_name", keep="first")
        )
        products = products.join(translation, on="product_category_name", how="left")
        category = pl.coalesce("category_en", category_local)
    else:
        category = category_local
    products = products.select(
        pl.col("product_id").str.strip_chars().alias("sku"),
        pl.lit(None, pl.String).alias("title"),
        category.alias("category"),
        category_local.alias("category_source"),
        pl.lit(None, pl.String).alias("brand"),
        pl.lit(None, pl.String).alias("gtin"),
        pl.col("product_weight_g").alias("weight_g"),
        SOURCE_FILE,
        SOURCE_ROW,
    )

    days = canonical_orders["order_ts"].dt.date()
    if days.is_empty():
        raise InputError([InputProblem(paths["order_items"].name, None, None, "no order lines")])
    return OlistExport(
        sellers=sellers,
        products=products,
        orders=canonical_orders,
        sources=[paths[k] for k in sorted(paths)],
        first_day=days.min(),
        last_day=days.max(),
    )


def orders_by_day(orders: pl.DataFrame) -> dict[date, pl.DataFrame]:
    """Split canonical orders into daily partitions keyed by the UTC date of ``order_ts``."""
    keyed = orders.with_columns(pl.col("order_ts").dt.date().alias("_day"))
    return {
        key[0]: part.drop("_day")
        for key, part in keyed.partition_by("_day", as_dict=True, maintain_order=True).items()
    }


__all__ = ["OlistExport", "read_export", "orders_by_day", "locate"]
