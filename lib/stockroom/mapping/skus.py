"""SKU mapping tiers 1 and 2: exact identifiers, then the structured ShootStrayt SKU.

Tier 1 -- exact identifiers (:func:`exact`): a valid GTIN/UPC/EAN (GS1 check digit) equal to
a catalog GTIN; a style code such as ``CW2288-111`` equal to a catalog style code; a marketplace
product id (Blokpax asset ``<card id>-<treatment>``) equal to the catalog's id for that
platform. Confidence 1.0.

Tier 2 -- structured parse (:func:`parse_structured`) of ``{PRODUCT}-{SET}-{NUMBER}-{RARITY}-
{TREATMENT}`` against the real card catalog (``stockroom.cards.variants``). Every part must agree
with
the catalog: the set exists, it has that card number, the card's name and rarity are the ones
written, and the treatment is one PriceCharting prices for that card. Anything else is an error
with its reason for the review queue -- never a guess.

Frames: input ``platform``, ``external_sku`` (str). Output: the same plus ``product_sku``
(str, null when unmapped), ``method`` (str), ``confidence`` (float 0-1), ``status`` (``auto``
or ``review``), ``reason`` (str, why it needs review).
"""

from __future__ import annotations

import polars as pl

from stockroom.cards import sku_part

OUT_SCHEMA = {
    "platform": pl.String,
    "external_sku": pl.String,
    "product_sku": pl.String,
    "method": pl.String,
    "confidence": pl.Float64,
    "status": pl.String,
    "reason": pl.String,
}
STYLE_CODE = r"^[A-Z0-9]{5,7}-[0-9]{3}$"
MARKETPLACE_IDS = {"blokpax": pl.concat_str("card_id", pl.lit("-"), "treatment")}


def gtin_valid(expr: pl.Expr) -> pl.Expr:
    """True for 8/12/13/14-digit codes whose GS1 mod-10 check digit is right (GS1 General
    Specifications 7.9.1)."""
    digits = expr.cast(pl.String).str.strip_chars()
    padded = digits.str.zfill(14)
    body = sum(
        (padded.str.slice(i, 1).cast(pl.Int32, strict=False) * (3 if i % 2 == 0 else 1))
        for i in range(13)
    )
    check = (10 - body % 10) % 10
    return (
        digits.str.contains(r"^(\d{8}|\d{12}|\d{13}|\d{14})$")
        & (check == padded.str.slice(13, 1).cast(pl.Int32, strict=False))
    ).fill_null(False)


def exact(external: pl.DataFrame, catalog: pl.DataFrame) -> pl.DataFrame:
    """Tier 1 over ``external`` (platform, external_sku) against ``catalog`` (sku and any of
    gtin, style_code, card_id + treatment). Returns mapped rows only (OUT_SCHEMA)."""
    found = []
    ext = external.select("platform", "external_sku").unique()
    if "gtin" in catalog.columns:
        gt = ext.filter(gtin_valid(pl.col("external_sku"))).with_columns(
            pl.col("external_sku").str.zfill(14).alias("_key")
        )
        cat = catalog.filter(pl.col("gtin").is_not_null()).select(
            pl.col("gtin").str.zfill(14).alias("_key"), pl.col("sku").alias("product_sku")
        )
        found.append(
            gt.join(cat, on="_key").drop("_key").with_columns(pl.lit("gtin").alias("method"))
        )
    if "style_code" in catalog.columns:
        st = ext.with_columns(pl.col("external_sku").str.to_uppercase().alias("_key")).filter(
            pl.col("_key").str.contains(STYLE_CODE)
        )
        cat = catalog.filter(pl.col("style_code").is_not_null()).select(
            pl.col("style_code").str.to_uppercase().alias("_key"),
            pl.col("sku").alias("product_sku"),
        )
        found.append(
            st.join(cat, on="_key").drop("_key").with_columns(pl.lit("style_code").alias("method"))
        )
    if {"card_id", "treatment"} <= set(catalog.columns):
        for platform, key in MARKETPLACE_IDS.items():
            cat = catalog.select(key.alias("external_sku"), pl.col("sku").alias("product_sku"))
            found.append(
                ext.filter(pl.col("platform") == platform)
                .join(cat, on="external_sku")
                .with_columns(pl.lit("marketplace_id").alias("method"))
            )
    if not found:
        return pl.DataFrame(schema=OUT_SCHEMA)
    return (
        pl.concat(found)
        .unique(["platform", "external_sku"], keep="first")
        .with_columns(
            pl.lit(1.0).alias("confidence"),
            pl.lit("auto").alias("status"),
            pl.lit(None, pl.String).alias("reason"),
        )
        .select(list(OUT_SCHEMA))
    )


def parse_structured(external: pl.DataFrame, variants: pl.DataFrame) -> pl.DataFrame:
    """Tier 2 over ``external`` (platform, external_sku) against ``variants``
    (``stockroom.cards.variants``). Every input row comes back: mapped (auto, confidence 1.0) or
    ``review`` with the first part that disagrees as the reason."""
    parts = (
        external.select("platform", "external_sku")
        .unique()
        .with_columns(pl.col("external_sku").str.split("-").alias("_parts"))
    )
    parts = parts.with_columns(
        pl.col("_parts").list.len().alias("_n"),
        *[
            pl.col("_parts").list.get(i, null_on_oob=True).alias(name)
            for i, name in enumerate(["P", "S", "N", "R", "T"])
        ],
    )
    cards = variants.select(
        sku_part(pl.col("set_id")).alias("S"),
        sku_part(pl.col("number")).alias("N"),
        sku_part(pl.col("name")).alias("_name"),
        sku_part(pl.col("rarity").fill_null("NONE")).alias("_rarity"),
        sku_part(pl.col("treatment")).alias("_treatment"),
        pl.col("sku").alias("_sku"),
        pl.col("set_id"),
        pl.col("number"),
    )
    sets = cards.select("S").unique().with_columns(pl.lit(True).alias("_set_ok"))
    per_card = cards.group_by("S", "N").agg(
        pl.col("_name").first(),
        pl.col("_rarity").first(),
        pl.col("_treatment").sort().alias("_treatments"),
        pl.col("set_id").first(),
        pl.col("number").first(),
    )
    exact_variant = cards.select("S", "N", "_treatment", "_sku").rename({"_treatment": "T"})
    joined = (
        parts.join(sets, on="S", how="left")
        .join(per_card, on=["S", "N"], how="left")
        .join(exact_variant, on=["S", "N", "T"], how="left")
    )
    card = pl.concat_str("set_id", pl.lit(" #"), "number")
    reason = (
        pl.when(pl.col("_n") != 5)
        .then(
            pl.concat_str(
                pl.lit("expected 5 parts PRODUCT-SET-NUMBER-RARITY-TREATMENT, got "),
                pl.col("_n").cast(pl.String),
            )
        )
        .when(pl.col("_set_ok").is_null())
        .then(pl.format("unknown set '{}'", pl.col("S")))
        .when(pl.col("_name").is_null())
        .then(pl.format("set '{}' has no card number '{}'", pl.col("S"), pl.col("N")))
        .when(pl.col("_name") != pl.col("P"))
        .then(pl.format("card {} is {}, the SKU says {}", card, pl.col("_name"), pl.col("P")))
        .when(pl.col("_rarity") != pl.col("R"))
        .then(pl.format("card {} is {}, the SKU says {}", card, pl.col("_rarity"), pl.col("R")))
        .when(pl.col("_sku").is_null())
        .then(
            pl.format(
                "treatment '{}' is not priced for card {} (known: {})",
                pl.col("T"),
                card,
                pl.col("_treatments").list.join(", "),
            )
        )
    )
    return joined.select(
        "platform",
        "external_sku",
        pl.when(reason.is_null()).then(pl.col("_sku")).alias("product_sku"),
        pl.lit("structured").alias("method"),
        pl.when(reason.is_null()).then(1.0).otherwise(0.0).alias("confidence"),
        pl.when(reason.is_null()).then(pl.lit("auto")).otherwise(pl.lit("review")).alias("status"),
        reason.alias("reason"),
    ).sort("platform", "external_sku")


def cross_listed(
    listings: pl.DataFrame, mapped: pl.DataFrame, catalog: pl.DataFrame, platform: str = "ebay"
) -> pl.DataFrame:
    """Propagate mappings across one seller's cross-listings (a tier between 2 and 3).

    A seller who lists one item on several platforms shows the same price and quantity on each
    (they come from one inventory). ``listings``: platform, sku, seller_key (the Seller, from
    ``stockroom.mapping.sellers``), price, quantity. ``mapped``: platform, external_sku, product_sku
    (tiers 1-2). For every group of one Seller's listings with equal price and quantity that
    holds exactly one mapped product and exactly one ``platform`` SKU, that SKU maps to the
    product (method ``cross_listing``, confidence 0.99) -- if its title names the product:
    ``catalog`` (sku, name, number) gives the card name and number that must both appear in
    the title (two items of one seller can share a price and quantity). Ambiguous groups map
    nothing.
    """
    joined = listings.join(
        mapped.select("platform", pl.col("external_sku").alias("sku"), "product_sku"),
        on=["platform", "sku"],
        how="left",
    )
    groups = joined.group_by("seller_key", "price", "quantity").agg(
        pl.col("product_sku").drop_nulls().unique().alias("products"),
        pl.col("sku").filter(pl.col("platform") == platform).unique().alias("targets"),
        pl.col("title").filter(pl.col("platform") == platform).first().alias("title"),
    )
    found = groups.filter(
        (pl.col("products").list.len() == 1) & (pl.col("targets").list.len() == 1)
    ).select(
        pl.lit(platform).alias("platform"),
        pl.col("targets").list.first().alias("external_sku"),
        pl.col("products").list.first().alias("product_sku"),
        "title",
    )
    named = catalog.select(
        pl.col("sku").alias("product_sku"),
        pl.col("name").str.to_lowercase().alias("_name"),
        pl.col("number").str.to_lowercase().alias("_number"),
    )
    words = pl.col("title").str.to_lowercase().str.extract_all(r"[a-z0-9]+")
    found = (
        found.join(named, on="product_sku")
        .filter(
            pl.col("title").str.to_lowercase().str.contains(pl.col("_name"), literal=True)
            & words.list.contains(pl.col("_number"))
        )
        .drop("title", "_name", "_number")
    )
    # one SKU reached from two groups with different products: not certain, leave it
    found = found.unique().filter(pl.col("external_sku").is_unique())
    return found.with_columns(
        pl.lit("cross_listing").alias("method"),
        pl.lit(0.99).alias("confidence"),
        pl.lit("auto").alias("status"),
        pl.lit(None, pl.String).alias("reason"),
    ).select(list(OUT_SCHEMA))
