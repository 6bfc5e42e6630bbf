"""The SKU mapping tiers as one pure function: listings, catalog and seller aliases in, the
proposed mappings out (``stockroom map`` stores them, audited).

Tier 1 exact ids (:func:`stockroom.mapping.skus.exact`), tier 2 the structured ShootStrayt
SKUs (:func:`~stockroom.mapping.skus.parse_structured`), cross-listings by the same Seller
(:func:`~stockroom.mapping.skus.cross_listed`), tier 3 learned title matching per platform
(:func:`stockroom.mapping.learned.map_by_title`) for what is left.
"""

from __future__ import annotations

import polars as pl

from stockroom.mapping import learned, skus


def catalog(products: pl.DataFrame, variants: pl.DataFrame) -> pl.DataFrame:
    """The ``products`` snapshot with each card's catalog facts (product name, set_id, number,
    rarity, treatment, market_price from :func:`stockroom.cards.variants`) and ``kind``
    (``card`` when the SKU is a known card variant, else ``goods``)."""
    return products.join(
        variants.select(
            "sku",
            pl.col("name").alias("product"),
            "set_id",
            "number",
            "rarity",
            "treatment",
            "market_price",
        ),
        on="sku",
        how="left",
    ).with_columns(
        pl.when(pl.col("set_id").is_not_null())
        .then(pl.lit("card"))
        .otherwise(pl.lit("goods"))
        .alias("kind")
    )


def propose(
    listings: pl.DataFrame,
    catalog: pl.DataFrame,
    aliases: pl.DataFrame,
    variants: pl.DataFrame,
    *,
    precision_target: float = 0.98,
) -> tuple[pl.DataFrame, dict]:
    """Proposed mappings of every (platform, external SKU) of ``listings``: rows of
    :func:`stockroom.mapping.skus.exact`'s shape (platform, external_sku, product_sku, method,
    confidence, status, reason), and the learned tier's threshold and hold-out precision
    (shares 0-1; empty when it did not run). ``aliases``: platform, seller_id, seller_key."""
    external = listings.group_by("platform", pl.col("sku").alias("external_sku")).agg(
        pl.col("title").first(), pl.col("price").median()
    )
    tier1 = skus.exact(
        external,
        catalog.with_columns(pl.col("sku").str.split(":").list.first().alias("card_id")),
    )
    rest = external.join(tier1, on=["platform", "external_sku"], how="anti")
    tier2 = skus.parse_structured(rest.filter(pl.col("platform") == "shootstrayt"), variants)
    mapped = pl.concat([tier1, tier2.filter(pl.col("status") == "auto")])
    keyed = listings.join(
        aliases.select("platform", "seller_id", "seller_key"),
        on=["platform", "seller_id"],
        how="left",
    )
    propagated = pl.concat(
        [
            skus.cross_listed(keyed, mapped, variants, platform=p)
            for p in keyed["platform"].unique().to_list()
        ]
    )
    propagated = propagated.join(mapped, on=["platform", "external_sku"], how="anti")
    mapped = pl.concat([mapped, propagated])
    todo = external.join(mapped, on=["platform", "external_sku"], how="anti").join(
        tier2.filter(pl.col("status") == "review"), on=["platform", "external_sku"], how="anti"
    )
    results = [mapped, tier2.filter(pl.col("status") == "review")]
    report_extra = {}
    if todo.height:
        catalog_text = catalog.select("sku", "title", pl.col("market_price").alias("price"))
        by_title = []
        for platform in todo["platform"].unique().sort().to_list():
            labels = mapped.filter(pl.col("platform") == platform)
            if labels.height < 50:  # learn from other platforms' labels if too few
                labels = mapped
            records = pl.concat(
                [  # labelled SKUs (with their titles) + those to map
                    external.join(
                        labels.select("platform", "external_sku"),
                        on=["platform", "external_sku"],
                    ),
                    todo.filter(pl.col("platform") == platform),
                ]
            )
            result = learned.map_by_title(
                records, catalog_text, labels, precision_target=precision_target
            )
            by_title.append(
                result.mappings.join(
                    todo.select("platform", "external_sku"), on=["platform", "external_sku"]
                )
            )
            report_extra = {
                "learned_threshold": result.threshold,
                "holdout_precision": result.holdout_precision,
            }
        results.append(pl.concat(by_title))
    return pl.concat(results), report_extra
