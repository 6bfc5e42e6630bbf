"""Reconciliation rules: each a small function from the sync's frames to flags.

Inputs (polars frames):

* ``central`` -- the seller's central inventory, one row per item: sku (str), title (str),
  quantity (int, available now, after the sales it has recorded), quantity_at_last_sync
  (int), price (f64, list price), status ('active' / 'ended' / 'sold'), platforms
  (list[str]: where the item should be listed).
* ``listings`` -- every platform's listings: platform, listing_id, sku (the SKU the listing
  carries; unknown to central for external listings), title, quantity (int), price (f64),
  status ('active' / 'ended' / 'sold'), listed_at (datetime).
* ``sales`` -- the orders each platform reported since the last sync: platform, order_id,
  listing_id, sku, quantity (int), order_ts (datetime, UTC).
* ``recorded`` -- the orders the central inventory has already decremented: platform,
  order_id.

Every rule returns :data:`FLAG_SCHEMA` rows: flag_type, severity ('high' / 'medium' / 'low'),
platform, listing_id, sku, central_value, platform_value (as text), action ('end_listing',
'update_quantity', 'update_price', 'create_listing', 'import_listing', 'review'), evidence
(words), key (the flag's identity across runs: type|platform|listing or order or sku).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

#: Default order of precedence for exact ties: the first platform wins.
HIERARCHY = ("shopify", "reverb", "vintage_and_rare", "ebay")

FLAG_SCHEMA = {
    "flag_type": pl.String,
    "severity": pl.String,
    "platform": pl.String,
    "listing_id": pl.String,
    "sku": pl.String,
    "central_value": pl.String,
    "platform_value": pl.String,
    "action": pl.String,
    "evidence": pl.String,
    "key": pl.String,
}
FLAG_TYPES = (
    "sold_elsewhere",
    "oversold",
    "external_listing",
    "missing_listing",
    "quantity_mismatch",
    "price_mismatch",
    "stale_listing",
    "duplicate_listing",
    "unrecorded_sale",
)


@dataclass(frozen=True)
class Config:
    """``hierarchy``: tie-break order of platforms; ``price_tolerance``: allowed relative
    difference (share) per platform, ``default_tolerance`` otherwise."""

    hierarchy: tuple[str, ...] = HIERARCHY
    price_tolerance: dict[str, float] = field(default_factory=dict)
    default_tolerance: float = 0.005


def _flags(
    frame: pl.DataFrame,
    flag_type: str,
    severity: str,
    action: str | pl.Expr,
    evidence: pl.Expr,
    central: pl.Expr,
    platform_value: pl.Expr,
    key: pl.Expr | None = None,
) -> pl.DataFrame:
    key = (
        key
        if key is not None
        else pl.concat_str(
            pl.lit(flag_type), pl.col("platform"), pl.col("listing_id"), separator="|"
        )
    )
    action = pl.lit(action) if isinstance(action, str) else action
    return frame.select(
        pl.lit(flag_type).alias("flag_type"),
        pl.lit(severity).alias("severity"),
        pl.col("platform").cast(pl.String),
        pl.col("listing_id").cast(pl.String),
        pl.col("sku").cast(pl.String),
        central.cast(pl.String).alias("central_value"),
        platform_value.cast(pl.String).alias("platform_value"),
        action.alias("action"),
        evidence.alias("evidence"),
        key.alias("key"),
    )


def _active(listings: pl.DataFrame) -> pl.DataFrame:
    return listings.filter(pl.col("status") == "active")


def _ranked_sales(sales: pl.DataFrame, config: Config) -> pl.DataFrame:
    """Sales in the order the rules read them: time, then the platform hierarchy."""
    rank = {p: i for i, p in enumerate(config.hierarchy)}
    return sales.with_columns(
        pl.col("platform").replace_strict(rank, default=len(rank)).alias("_rank")
    ).sort(["sku", "order_ts", "_rank", "order_id"])


def sold_elsewhere(
    central: pl.DataFrame, listings: pl.DataFrame, sales: pl.DataFrame, config: Config
) -> pl.DataFrame:
    """First sale wins: for an item sold in this window, every *other* active listing must
    end when central quantity is now 0, or show the central quantity when it is still above 0.
    The winner is the earliest sale (exact ties: the platform hierarchy); the listings of the
    platforms that sold it are left to the sale itself."""
    ranked = _ranked_sales(sales, config)
    winners = ranked.group_by("sku", maintain_order=True).agg(
        pl.col("platform").first().alias("winner"),
        pl.col("order_ts").first().alias("won_at"),
        pl.col("platform").unique().alias("sold_on"),
    )
    cand = (
        _active(listings)
        .join(winners, on="sku")
        .join(central.select("sku", pl.col("quantity").alias("central_qty")), on="sku")
        .filter(~pl.col("platform").is_in(pl.col("sold_on")))
        .filter((pl.col("central_qty") == 0) | (pl.col("quantity") != pl.col("central_qty")))
    )
    return _flags(
        cand,
        "sold_elsewhere",
        "high",
        pl.when(pl.col("central_qty") == 0)
        .then(pl.lit("end_listing"))
        .otherwise(pl.lit("update_quantity")),
        pl.format(
            "sold first on {} at {}; central quantity now {}",
            pl.col("winner"),
            pl.col("won_at").dt.strftime("%Y-%m-%d %H:%M:%S"),
            pl.col("central_qty"),
        ),
        pl.col("central_qty"),
        pl.col("quantity"),
    )


def oversold(central: pl.DataFrame, sales: pl.DataFrame, config: Config) -> pl.DataFrame:
    """Platforms together sold more than the central quantity at the last sync: who sold last
    and how many units short."""
    ranked = _ranked_sales(sales, config)
    per = ranked.group_by("sku", maintain_order=True).agg(
        pl.col("quantity").sum().alias("sold"),
        pl.col("platform").last(),
        pl.col("listing_id").last(),
        pl.col("order_id").last().alias("last_order"),
    )
    over = per.join(central.select("sku", "quantity_at_last_sync"), on="sku").filter(
        pl.col("sold") > pl.col("quantity_at_last_sync")
    )
    return _flags(
        over,
        "oversold",
        "high",
        "review",
        pl.format(
            "{} sold across platforms, {} in stock at the last sync: {} short; last sale {} on {}",
            pl.col("sold"),
            pl.col("quantity_at_last_sync"),
            pl.col("sold") - pl.col("quantity_at_last_sync"),
            pl.col("last_order"),
            pl.col("platform"),
        ),
        pl.col("quantity_at_last_sync"),
        pl.col("sold"),
        key=pl.concat_str(pl.lit("oversold"), pl.col("sku"), separator="|"),
    )


def external_listing(
    central: pl.DataFrame, listings: pl.DataFrame, mappings: pl.DataFrame | None = None
) -> pl.DataFrame:
    """Active on a platform but unknown to the central inventory: suggest importing it. The
    candidate product comes from the SKU mapping when it knows the listing's (platform, SKU)
    (``mappings``: ``stockroom.mapping.repo.mappings``; auto or confirmed ones), else it is the
    central item with the most similar title (rapidfuzz token-set ratio)."""
    ext = _active(listings).join(central.select("sku"), on="sku", how="anti")
    if ext.is_empty():
        return pl.DataFrame(schema=FLAG_SCHEMA)
    from rapidfuzz import fuzz, process

    mapped: dict[tuple[str, str], str] = {}
    if mappings is not None and mappings.height:
        usable = mappings.filter(
            pl.col("status").is_in(["auto", "confirmed"]) & pl.col("product_sku").is_not_null()
        )
        mapped = {
            (p, e): f"{prod} (mapping: {m}, {c:.0%})"
            for p, e, prod, m, c in usable.select(
                "platform", "external_sku", "product_sku", "method", "confidence"
            ).iter_rows()
        }
    titles = central["title"].fill_null("").to_list()
    skus = central["sku"].to_list()
    best = []
    for platform, sku, title in ext.select("platform", "sku", "title").iter_rows():
        if (platform, sku) in mapped:
            best.append(mapped[(platform, sku)])
            continue
        hit = (
            process.extractOne(title or "", titles, scorer=fuzz.token_set_ratio) if titles else None
        )
        best.append(f"{skus[hit[2]]} (title {hit[1]:.0f}%)" if hit else "none")
    ext = ext.with_columns(pl.Series("_candidate", best))
    return _flags(
        ext,
        "external_listing",
        "medium",
        "import_listing",
        pl.format("not in the central inventory; candidate {}", pl.col("_candidate")),
        pl.lit(None, pl.String),
        pl.col("quantity"),
    )


def missing_listing(central: pl.DataFrame, listings: pl.DataFrame) -> pl.DataFrame:
    """Central item (active, in stock) marked for a platform with no active listing there."""
    want = (
        central.filter((pl.col("status") == "active") & (pl.col("quantity") > 0))
        .explode("platforms", empty_as_null=True)
        .rename({"platforms": "platform"})
        .filter(pl.col("platform").is_not_null())
    )
    have = _active(listings).select("platform", "sku").unique()
    miss = want.join(have, on=["platform", "sku"], how="anti").with_columns(
        pl.lit(None, pl.String).alias("listing_id")
    )
    return _flags(
        miss,
        "missing_listing",
        "medium",
        "create_listing",
        pl.format(
            "marked for {} with {} in stock, not listed there",
            pl.col("platform"),
            pl.col("quantity"),
        ),
        pl.col("quantity"),
        pl.lit(None, pl.String),
        key=pl.concat_str(
            pl.lit("missing_listing"), pl.col("platform"), pl.col("sku"), separator="|"
        ),
    )


def quantity_mismatch(
    central: pl.DataFrame, listings: pl.DataFrame, sales: pl.DataFrame
) -> pl.DataFrame:
    """Active listing whose quantity differs from the central quantity, for items in stock
    that did not sell in this window (those are :func:`sold_elsewhere`'s)."""
    sold = sales.select("sku").unique()
    cand = (
        _active(listings)
        .join(sold, on="sku", how="anti")
        .join(
            central.filter((pl.col("status") == "active") & (pl.col("quantity") > 0)).select(
                "sku", pl.col("quantity").alias("central_qty")
            ),
            on="sku",
        )
        .filter(pl.col("quantity") != pl.col("central_qty"))
    )
    return _flags(
        cand,
        "quantity_mismatch",
        "medium",
        "update_quantity",
        pl.format("listing shows {}, central has {}", pl.col("quantity"), pl.col("central_qty")),
        pl.col("central_qty"),
        pl.col("quantity"),
    )


def price_mismatch(central: pl.DataFrame, listings: pl.DataFrame, config: Config) -> pl.DataFrame:
    """Active listing whose price differs from the central list price by more than the
    platform's tolerance (relative, share of the central price)."""
    tol = pl.col("platform").replace_strict(
        config.price_tolerance, default=config.default_tolerance, return_dtype=pl.Float64
    )
    cand = (
        _active(listings)
        .join(
            central.filter(pl.col("status") == "active").select(
                "sku", pl.col("price").alias("central_price")
            ),
            on="sku",
        )
        .filter((pl.col("price") - pl.col("central_price")).abs() > tol * pl.col("central_price"))
    )
    return _flags(
        cand,
        "price_mismatch",
        "low",
        "update_price",
        pl.format(
            "listing asks {}, central list price {}", pl.col("price"), pl.col("central_price")
        ),
        pl.col("central_price"),
        pl.col("price"),
    )


def stale_listing(
    central: pl.DataFrame, listings: pl.DataFrame, sales: pl.DataFrame
) -> pl.DataFrame:
    """Ended or sold centrally (or out of stock without a sale in this window), still active
    on a platform: end it."""
    sold = sales.select("sku").unique()
    gone = (
        central.filter((pl.col("status") != "active") | (pl.col("quantity") == 0))
        .join(sold, on="sku", how="anti")
        .select(
            "sku", pl.col("status").alias("central_status"), pl.col("quantity").alias("central_qty")
        )
    )
    cand = _active(listings).join(gone, on="sku")
    return _flags(
        cand,
        "stale_listing",
        "high",
        "end_listing",
        pl.format(
            "central status {} with {} in stock, listing still active",
            pl.col("central_status"),
            pl.col("central_qty"),
        ),
        pl.col("central_status"),
        pl.col("status"),
    )


def duplicate_listing(listings: pl.DataFrame) -> pl.DataFrame:
    """The same SKU listed more than once (active) on one platform: keep the oldest listing,
    end the others."""
    act = _active(listings).sort(["platform", "sku", "listed_at", "listing_id"])
    dupes = act.with_columns(
        pl.col("listing_id").first().over("platform", "sku").alias("_kept"),
        pl.len().over("platform", "sku").alias("_n"),
    ).filter((pl.col("_n") > 1) & (pl.col("listing_id") != pl.col("_kept")))
    return _flags(
        dupes,
        "duplicate_listing",
        "medium",
        "end_listing",
        pl.format(
            "{} active listings of this SKU on {}; keeping {}",
            pl.col("_n"),
            pl.col("platform"),
            pl.col("_kept"),
        ),
        pl.col("_kept"),
        pl.col("listing_id"),
    )


def unrecorded_sale(sales: pl.DataFrame, recorded: pl.DataFrame) -> pl.DataFrame:
    """A platform reports a sale the central inventory never decremented: one flag per order
    (an order of several SKUs names them all, comma-separated, with its total units)."""
    miss = (
        sales.join(recorded, on=["platform", "order_id"], how="anti")
        .group_by("platform", "order_id", maintain_order=True)
        .agg(
            pl.col("listing_id").first() if "listing_id" in sales.columns else pl.lit(None),
            pl.col("sku").cast(pl.String).unique(maintain_order=True).str.join(","),
            pl.col("quantity").sum(),
        )
    )
    return _flags(
        miss,
        "unrecorded_sale",
        "high",
        "review",
        pl.format(
            "order {} of {} unit(s) on {} is not in the central stock record",
            pl.col("order_id"),
            pl.col("quantity"),
            pl.col("platform"),
        ),
        pl.lit(None, pl.String),
        pl.col("quantity"),
        key=pl.concat_str(
            pl.lit("unrecorded_sale"), pl.col("platform"), pl.col("order_id"), separator="|"
        ),
    )


def reconcile(
    central: pl.DataFrame,
    listings: pl.DataFrame,
    sales: pl.DataFrame,
    recorded: pl.DataFrame,
    config: Config | None = None,
    mappings: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Every rule over one sync; flags in :data:`FLAG_SCHEMA`, by type then key.
    ``mappings`` (optional) feeds the external-listing candidates."""
    config = config or Config()
    parts = [
        sold_elsewhere(central, listings, sales, config),
        oversold(central, sales, config),
        external_listing(central, listings, mappings),
        missing_listing(central, listings),
        quantity_mismatch(central, listings, sales),
        price_mismatch(central, listings, config),
        stale_listing(central, listings, sales),
        duplicate_listing(listings),
        unrecorded_sale(sales, recorded),
    ]
    return pl.concat([p.cast(FLAG_SCHEMA) for p in parts]).sort("flag_type", "key")
