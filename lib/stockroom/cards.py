"""The trading-card catalog (real Pokémon TCG data with PriceCharting prices) and the
ShootStrayt SKU format ``{PRODUCT}-{SET}-{NUMBER}-{RARITY}-{TREATMENT}``.

A *variant* is a card in one printing treatment (normal, reverse-holo, 1st-edition, ...): the
unit a seller lists and a buyer pays for. Its internal SKU is ``<card id>:<treatment>``
(``base1-58:normal``).
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from stockroom.config import PROJECT_ROOT

BUNDLED = PROJECT_ROOT / "data" / "raw" / "pokemon_tcg"
BRAND = "Pokémon TCG"


def sku_part(expr: pl.Expr) -> pl.Expr:
    """One SKU part: upper case ASCII letters and digits only (``Mr. Mime`` -> ``MRMIME``)."""
    return (
        expr.str.normalize("NFKD")
        .str.replace_all(r"[^\x00-\x7F]", "")
        .str.to_uppercase()
        .str.replace_all(r"[^A-Z0-9]", "")
    )


def shootstrayt_sku(
    name: pl.Expr, set_id: pl.Expr, number: pl.Expr, rarity: pl.Expr, treatment: pl.Expr
) -> pl.Expr:
    """``{PRODUCT}-{SET}-{NUMBER}-{RARITY}-{TREATMENT}``, each part :func:`sku_part`."""
    return pl.concat_str(
        [
            sku_part(name),
            sku_part(set_id),
            sku_part(number),
            sku_part(rarity.fill_null("NONE")),
            sku_part(treatment),
        ],
        separator="-",
    )


def variants(directory: Path = BUNDLED) -> pl.DataFrame:
    """Every priced card variant, one row each (about 29.5K rows for the bundled catalog).

    Columns: sku (``<card id>:<treatment>``), card_id, set_id, set_name, number, name, rarity,
    treatment (str); market_price (float, USD, PriceCharting ungraded), psa10_price (float,
    USD, may be null); shootstrayt_sku (str). Sorted by sku.
    """
    cards = pl.read_parquet(directory / "cards.parquet")
    sets = pl.read_parquet(directory / "sets.parquet").select(
        pl.col("id").alias("set_id"), pl.col("name").alias("set_name"), "printedTotal"
    )
    prices = pl.read_parquet(directory / "pricecharting_prices.parquet")
    wide = prices.filter(pl.col("grade").is_in(["ungraded", "psa10"])).pivot(
        on="grade", index=["card_id", "variant"], values="price_usd", aggregate_function="first"
    )
    out = (
        wide.join(cards.rename({"id": "card_id"}), on="card_id", how="inner")
        .join(sets, on="set_id", how="left")
        .filter(pl.col("ungraded").is_not_null() & (pl.col("ungraded") > 0))
        .select(
            pl.concat_str("card_id", pl.lit(":"), "variant").alias("sku"),
            "card_id",
            "set_id",
            "set_name",
            "number",
            "name",
            "rarity",
            pl.col("variant").alias("treatment"),
            pl.col("ungraded").alias("market_price"),
            pl.col("psa10").alias("psa10_price")
            if "psa10" in wide.columns
            else pl.lit(None, pl.Float64).alias("psa10_price"),
            "printedTotal",
        )
    )
    return out.with_columns(
        shootstrayt_sku(
            pl.col("name"),
            pl.col("set_id"),
            pl.col("number"),
            pl.col("rarity"),
            pl.col("treatment"),
        ).alias("shootstrayt_sku"),
    ).sort("sku")
