"""Names people read: a product label for every SKU, so no page shows a bare hash.

The label is the catalog's title (``products`` snapshot), else the central inventory's title
(``inventory`` snapshot), else -- for catalogs that publish no titles, like Olist's -- the
category in words with a short SKU to tell products apart ("Bed bath table · 4c2a9f").
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl

from stockroom import store

#: SKUs longer than this are shortened to their first :data:`SHORT` characters in labels.
LONG_SKU = 12
SHORT = 6


def category_words(category: pl.Expr) -> pl.Expr:
    """'bed_bath_table' -> 'Bed bath table' (null stays null)."""
    words = category.str.replace_all("_", " ").str.strip_chars()
    return words.str.slice(0, 1).str.to_uppercase() + words.str.slice(1)


def words(category: str) -> str:
    """:func:`category_words` of one name: 'office_furniture' -> 'Office furniture'."""
    return pl.select(category_words(pl.lit(category))).item()


def _titles(root: Path, table: str, as_of: date | None) -> pl.DataFrame:
    day = store.resolve_as_of(root, table, as_of)
    empty = pl.DataFrame(schema={"sku": pl.String, "title": pl.String})
    if day is None:
        return empty
    frame = store.read_snapshot(root, table, day)
    if "title" not in frame.columns:
        return empty
    return (
        frame.select("sku", pl.col("title").str.strip_chars())
        .filter(pl.col("title").str.len_chars() > 0)
        .unique("sku", keep="first")
    )


def labels(skus: pl.DataFrame, root: Path, as_of: date | None = None) -> pl.DataFrame:
    """``skus`` (sku: str, category: str, nullable) with a ``product`` column (str, never
    null): the title from the catalog or central inventory as of ``as_of``, else the
    category in words ("Uncategorised" without one) and the SKU (shortened to 6 characters
    when longer than 12)."""
    titles = pl.concat(
        [_titles(root, "products", as_of), _titles(root, "inventory", as_of)]
    ).unique("sku", keep="first", maintain_order=True)
    short = (
        pl.when(pl.col("sku").str.len_chars() > LONG_SKU)
        .then(pl.col("sku").str.slice(0, SHORT))
        .otherwise(pl.col("sku"))
    )
    category = category_words(pl.col("category").fill_null("uncategorised"))
    fallback = pl.concat_str([category, short], separator=" · ")
    return (
        skus.join(titles, on="sku", how="left")
        .with_columns(pl.coalesce("title", fallback).alias("product"))
        .drop("title")
    )
