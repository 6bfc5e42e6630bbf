"""The mapping job: Sellers and SKU mappings for the latest listings, stored and audited.

Runs the tiers in order and never lets a later tier overrule an earlier one:
sellers (normal form) -> tier 1 exact ids -> tier 2 structured SKUs -> cross-listing
propagation -> tier 3 learned title matching (trained on the SKUs mapped so far). Human decisions
stored in the workbench database are never overwritten (``stockroom.mapping.repo``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import polars as pl

from stockroom import cards, store, workbench
from stockroom.db import connect
from stockroom.errors import StockroomError
from stockroom.mapping import repo, sellers, tiers, views
from stockroom_jobs.runs import tracked_run

ACTOR = "stockroom map"


@dataclass
class MappingReport:
    """What a mapping run found. Shares are 0-1 of listing rows of the snapshot."""

    snapshot_date: date
    listings: int
    seller_coverage: float
    order_seller_coverage: float | None
    sku_auto_share: float
    sku_review_share: float
    by_method: dict[str, int] = field(default_factory=dict)
    learned_threshold: float | None = None
    holdout_precision: float | None = None
    auto_precision: float | None = None  # against the simulator's truth, if present
    counts: dict[str, int] = field(default_factory=dict)

    def lines(self) -> list[str]:
        out = [
            f"listings {self.snapshot_date}: {self.listings:,} rows",
            f"sellers: {self.seller_coverage:.1%} of listing rows and "
            + ("-" if self.order_seller_coverage is None else f"{self.order_seller_coverage:.1%}")
            + " of order rows have a Seller",
            f"SKUs: {self.sku_auto_share:.1%} of rows auto-mapped, "
            f"{self.sku_review_share:.1%} in review",
            "by method: " + ", ".join(f"{k} {v:,}" for k, v in sorted(self.by_method.items())),
        ]
        if self.learned_threshold is not None:
            out.append(
                f"learned tier: auto-accept from {self.learned_threshold:.2f} "
                f"(held-out precision {self.holdout_precision:.1%})"
            )
        if self.auto_precision is not None:
            out.append(
                f"auto-map precision against the simulator's truth: {self.auto_precision:.2%}"
            )
        return out


def run_mapping(
    root: Path,
    as_of: date | None = None,
    precision_target: float = 0.98,
    on_step: Callable[[str], None] | None = None,
) -> MappingReport:
    """Map the sellers and SKUs of the ``listings`` snapshot as of ``as_of`` (default latest).
    ``on_step`` is told each stage as it starts (for progress lines).

    Raises :class:`StockroomError` when there is no listings or products snapshot.
    """
    step = on_step or (lambda _message: None)
    day = store.resolve_as_of(root, "listings", as_of)
    cat_day = store.resolve_as_of(root, "products", as_of)
    if day is None or cat_day is None:
        raise StockroomError(
            f"no listings/products snapshot in {root} (land some with "
            "`stockroom ingest simulate` or `stockroom ingest listings`)"
        )
    eng = workbench.engine(root)
    with tracked_run(root, "map", f"listings {day}") as run:
        listings = store.read_snapshot(root, "listings", day)
        products = store.read_snapshot(root, "products", cat_day)
        run.rows_read = listings.height
        step(f"sellers: one Seller per name across platforms ({listings.height:,} listings)")
        # -- sellers ----------------------------------------------------------------------
        accounts = _all_accounts(root)
        aliases, suggestions = sellers.resolve(accounts)
        counts = repo.save_sellers(
            eng, aliases, suggestions, actor=ACTOR, reason="seller name normal form"
        )
        step("catalog")
        # -- catalog ------------------------------------------------------------------------
        variants = cards.variants()
        catalog = tiers.catalog(products, variants)
        counts["products_new"] = repo.add_products(
            eng, catalog, actor=ACTOR, reason="catalog from products snapshot"
        )
        step("SKUs: exact ids, structured SKUs, cross-listings, learned titles")
        # -- SKU tiers ----------------------------------------------------------------------
        proposed, report_extra = tiers.propose(
            listings, catalog, aliases, variants, precision_target=precision_target
        )
        step(f"saving {proposed.height:,} mappings (audited)")
        counts |= repo.save_mappings(eng, proposed, actor=ACTOR, reason="mapping tiers")
        report = _report(root, listings, day, eng, report_extra, counts)
        run.rows_landed = int(report.sku_auto_share * listings.height)
    return report


def _all_accounts(root: Path) -> pl.DataFrame:
    """Every (platform, seller_id, seller_name) in every snapshot of sellers, listings and
    orders (the backfill: history gets Sellers too). Names from the register win."""
    con = connect(root)
    return con.execute("""
        SELECT platform, seller_id, any_value(seller_name ORDER BY src) AS seller_name
        FROM (SELECT platform, seller_id, seller_name, 0 AS src FROM sellers_history
              UNION ALL SELECT DISTINCT platform, seller_id, seller_name, 1 FROM listings_history
              UNION ALL SELECT DISTINCT platform, seller_id, NULL, 2 FROM orders_history)
        GROUP BY platform, seller_id ORDER BY platform, seller_id""").pl()


def _report(
    root: Path, listings: pl.DataFrame, day: date, eng, extra: dict, counts: dict
) -> MappingReport:
    current = repo.mappings(eng)
    rows = listings.select(
        "platform", "listing_id", "seller_id", pl.col("sku").alias("external_sku")
    ).join(
        current.select("platform", "external_sku", "product_sku", "method", "status"),
        on=["platform", "external_sku"],
        how="left",
    )
    con = views.register(connect(root, day), eng)
    with_seller, order_rows, orders_with_seller = con.execute("""
        SELECT (SELECT count(*) FROM listings_mapped WHERE seller_key IS NOT NULL),
               (SELECT count(*) FROM orders_history),
               (SELECT count(*) FROM orders_history o JOIN seller_aliases a
                  ON a.platform = o.platform AND a.seller_id = o.seller_id)""").fetchone()
    auto = rows.filter(pl.col("status").is_in(["auto", "confirmed"]))
    report = MappingReport(
        snapshot_date=day,
        listings=listings.height,
        seller_coverage=with_seller / max(1, listings.height),
        order_seller_coverage=orders_with_seller / order_rows if order_rows else None,
        sku_auto_share=auto.height / max(1, listings.height),
        sku_review_share=rows.filter(pl.col("status") == "review").height / max(1, listings.height),
        by_method=dict(auto["method"].value_counts().iter_rows()),
        counts=counts,
        **extra,
    )
    truth_file = root / "sim" / "listing_truth.parquet"
    if truth_file.is_file() and auto.height:
        truth = pl.read_parquet(truth_file).select(
            "platform", "listing_id", pl.col("product_sku").alias("true_sku")
        )
        checked = auto.join(truth, on=["platform", "listing_id"])
        if checked.height:
            report.auto_precision = float((checked["product_sku"] == checked["true_sku"]).mean())
    return report
