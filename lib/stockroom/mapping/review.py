"""The review queue: what needs a human, ranked by what is at stake, and bulk decisions.

Impact of an external SKU = revenue at stake = sum over its active listings of price x
quantity (USD or the listing currency), so the queue starts where a wrong or missing mapping
costs most.
"""

from __future__ import annotations

import duckdb
import polars as pl
import sqlalchemy as sa

from stockroom.mapping import repo


def stakes(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Revenue at stake per external SKU of the connection's ``listings`` view, aggregated in
    DuckDB: platform, external_sku, title (one listing's), listings (Int64), at_stake (Float64,
    price x quantity of its active listings, in the listing currency)."""
    return con.execute(
        """
        SELECT platform, sku AS external_sku, any_value(title) AS title,
               count(*) AS listings,
               coalesce(sum(price * quantity) FILTER (WHERE status = 'active'), 0.0) AS at_stake
        FROM listings GROUP BY platform, sku
        """
    ).pl()


def queue(eng: sa.Engine, stake: pl.DataFrame, catalog: pl.DataFrame) -> pl.DataFrame:
    """Mappings in ``review`` (read with a WHERE in SQL), most revenue at stake first.

    ``stake``: :func:`stakes` of a listings snapshot; ``catalog``: sku, title (candidate
    details). Columns: platform, external_sku, title (a listing title), listings (int),
    at_stake (float, price x quantity of active listings), product_sku (candidate, may be
    null), candidate_title, confidence (0-1), method, reason.
    """
    pending = repo.mappings(eng, status="review")
    return (
        pending.join(stake, on=["platform", "external_sku"], how="left")
        .join(
            catalog.select(
                pl.col("sku").alias("product_sku"), pl.col("title").alias("candidate_title")
            ),
            on="product_sku",
            how="left",
        )
        .with_columns(pl.col("at_stake").fill_null(0.0), pl.col("listings").fill_null(0))
        .sort(["at_stake", "confidence"], descending=True)
        .select(
            "platform",
            "external_sku",
            "title",
            "listings",
            "at_stake",
            "product_sku",
            "candidate_title",
            "confidence",
            "method",
            "reason",
        )
    )


def bulk_accept(eng: sa.Engine, min_confidence: float, *, actor: str) -> int:
    """Confirm every review item that has a candidate with confidence >= ``min_confidence``
    (0-1); each decision audited. Returns how many were confirmed."""
    pending = repo.mappings(eng).filter(
        (pl.col("status") == "review")
        & pl.col("product_sku").is_not_null()
        & (pl.col("confidence") >= min_confidence)
    )
    for row in pending.iter_rows(named=True):
        repo.decide(
            eng,
            row["platform"],
            row["external_sku"],
            action="approve",
            actor=actor,
            reason=f"bulk accept at confidence >= {min_confidence:.2f}",
        )
    return pending.height


def create_product(
    eng: sa.Engine, platform: str, external_sku: str, *, sku: str, title: str, actor: str
) -> None:
    """Add a catalog product and map the external SKU to it (both audited)."""
    repo.add_products(
        eng,
        pl.DataFrame({"sku": [sku], "title": [title], "kind": ["goods"]}),
        actor=actor,
        reason=f"created while reviewing {platform}/{external_sku}",
    )
    repo.decide(
        eng,
        platform,
        external_sku,
        action="reassign",
        product_sku=sku,
        actor=actor,
        reason="new product",
    )
