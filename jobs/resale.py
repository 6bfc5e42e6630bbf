"""Resale jobs: import auction invoices and spreadsheets, land the StockX resale demo, export
the resale snapshots; each a tracked run that ends by exporting ``resale_items`` /
``resale_listings`` for the day."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import polars as pl

from stockroom import store, workbench
from stockroom.resale import imports, invoices, repo, stockx
from stockroom.sim import invoices as sim_invoices
from stockroom.sim import resale as sim_resale
from stockroom_jobs.market import BUNDLED_STOCKX
from stockroom_jobs.runs import Run, tracked_run

Progress = Callable[[str, int, int], None]


def _today() -> date:
    return datetime.now(UTC).date()


def _land(run: Run, day: date | None) -> dict[str, int]:
    """Export the resale snapshots of ``day`` (default today) for this run."""
    counts = repo.snapshot(run.root, workbench.engine(run.root), day or _today(), run_id=run.run_id)
    run.rows_landed += counts["resale_items"]
    return counts


def import_invoices(
    root: Path,
    paths: list[Path],
    *,
    actor: str,
    on_progress: Progress | None = None,
    on_result: Callable[[invoices.ImportResult], None] | None = None,
    day: date | None = None,
) -> tuple[Run, list[invoices.ImportResult]]:
    """Import auction invoice PDFs (:func:`stockroom.resale.invoices.import_invoices`), then
    export the resale snapshots. A bad file stops the run; the files before it stay landed.
    ``on_result`` hears each file's result as it lands."""
    results: list[invoices.ImportResult] = []
    with tracked_run(root, "resale-invoices", ", ".join(p.name for p in paths[:5])) as run:
        eng = workbench.engine(root)

        def step(result: invoices.ImportResult) -> None:
            results.append(result)
            run.rows_read += result.lots
            if on_result is not None:
                on_result(result)
            if on_progress is not None:
                on_progress("invoices", len(results), len(paths))

        try:

            def pages(name: str, done: int, total: int) -> None:  # a bar for long files only
                if on_progress is not None and total > 5:
                    on_progress(f"pages of {name}", done, total)

            invoices.import_invoices(eng, paths, actor=actor, on_progress=step, on_page=pages)
        finally:
            if any(r.status == "landed" for r in results):
                _land(run, day)
    return run, results


def import_table(
    root: Path, path: Path, kind: str, *, actor: str, day: date | None = None
) -> tuple[Run, int]:
    """Import lots, listings or sales from a CSV/Excel file (all rows or none), then export
    the resale snapshots; returns the run and the rows stored."""
    with tracked_run(root, f"resale-{kind}", str(path)) as run:
        eng = workbench.engine(root)
        frame, warnings = imports.read(path, kind)
        for warning in warnings:
            run.warn(warning)
        run.rows_read = frame.height
        reason = f"import {path.name}"
        if kind == "lots":
            stored = repo.add_lots(eng, frame, actor=actor, reason=reason, source=path.name)["lots"]
        elif kind == "listings":
            stored = repo.add_listings(eng, frame, actor=actor, reason=reason, source=path.name)
        else:
            stored = repo.record_sales(eng, frame, actor=actor, reason=reason, source=path.name)
        _land(run, day)
    return run, stored


def snapshot(root: Path, day: date | None = None) -> Run:
    """Export the resale snapshots of ``day`` (default today) from the workbench database."""
    with tracked_run(root, "resale-snapshot", "workbench") as run:
        _land(run, day)
    return run


def land_stockx(
    root: Path, path: Path | None = None, *, actor: str = "stockx-demo", on_progress=None
) -> tuple[Run, stockx.ResaleFrames]:
    """The StockX sales as a reseller's items bought at retail and sold on StockX
    (:mod:`stockroom.resale.stockx`); the snapshot lands on the last sale day."""
    path = Path(path) if path is not None else BUNDLED_STOCKX
    with tracked_run(root, "resale-stockx", str(path)) as run:
        eng = workbench.engine(root)
        frames = stockx.frames(path)
        run.rows_read = frames.rows
        if frames.pre_release:
            run.warn(
                f"{frames.pre_release:,} sales dated before their release day left out "
                "(pre-release trading: not 'bought at retail on release day')"
            )
        steps = (
            ("lots", lambda: repo.add_lots(eng, frames.lots, actor=actor, reason="StockX demo")),
            (
                "listings",
                lambda: repo.add_listings(eng, frames.listings, actor=actor, reason="StockX demo"),
            ),
            (
                "sales",
                lambda: repo.record_sales(eng, frames.sales, actor=actor, reason="StockX demo"),
            ),
        )
        for i, (name, step) in enumerate(steps, 1):
            step()
            if on_progress is not None:
                on_progress(f"stockx {name}", i, len(steps))
        _land(run, frames.sales["sold_on"].max())
    return run, frames


def land_demo(
    root: Path,
    *,
    invoices_count: int = 24,
    seed: int = 19,
    with_stockx: bool = True,
    end: date = date(2019, 2, 13),
    on_progress=None,
) -> dict:
    """The resale demo in ``root``: the real StockX flips (:func:`land_stockx`; left out
    without ``with_stockx``) and a synthetic auction side -- ``invoices_count`` PDF invoices
    in the three layouts written to ``<root>/sim/invoices`` and imported through the
    importer, the items put on shelves, listed, cross-listed, relisted, repriced and sold on
    eBay, Etsy, Facebook and a shop (:mod:`stockroom.sim.resale`) -- in the 300 days to
    ``end`` (the last StockX sale day, 2019-02-13, with StockX); the snapshot lands on
    ``end``. Returns counts."""
    landed = repo.items(workbench.engine(root), deleted=True).height
    if landed:  # a demo is landed once: a second run would list and sell the same items again
        day = store.resolve_as_of(root, "resale_items", None)
        return {"already_landed_items": landed, "snapshot_day": str(day)}
    counts: dict = {}
    if with_stockx:
        _, frames = land_stockx(root, on_progress=on_progress)
        end = frames.sales["sold_on"].max()
        counts = {"stockx_items": frames.lots.height, "pre_release_left_out": frames.pre_release}
    start = end - timedelta(days=300)
    folder = root / "sim" / "invoices"
    every = (end - start).days // invoices_count
    written = sim_invoices.write_invoices(folder, invoices_count, start, seed, every)
    paths = [folder / f"{inv.invoice_id}.pdf" for inv in written]
    _, results = import_invoices(root, paths, actor="resale-demo", on_progress=on_progress, day=end)
    eng = workbench.engine(root)
    items = repo.items(eng).filter(pl.col("auction_house") != "retail")
    _shelve(eng, items, seed)
    events = _list_and_sell(
        eng, repo.items(eng).filter(pl.col("auction_house") != "retail"), seed, end
    )
    snap = snapshot(root, end)
    return {
        **counts,
        "invoices": len(results),
        "auction_items": items.height,
        **events,
        "snapshot_day": str(end),
        "run_id": snap.run_id,
    }


def _shelve(eng, items: pl.DataFrame, seed: int) -> None:
    """Put each auction item on a shelf with a category and an estimated value (audited)."""
    rng = random.Random(seed)
    for row in items.iter_rows(named=True):
        text = row["name"].lower()
        category = next(
            (c for c, words in _CATEGORY_WORDS.items() if any(w in text for w in words)),
            "collectibles",
        )
        repo.update_item(
            eng,
            row["item_id"],
            {
                "category": category,
                "condition": rng.choice(sim_resale.CONDITIONS[:4]),
                "location": rng.choice(sim_resale.LOCATIONS),
                "bin": f"B{rng.randint(1, 24)}",
                "keywords": category,
                "needs_repair": rng.random() < 0.05,
            },
            actor="resale-demo",
            reason="shelved on arrival",
        )
        value = round(row["cost"] * rng.uniform(1.3, 2.4), 2)
        repo.set_estimated_value(
            eng, row["item_id"], value, actor="resale-demo", reason="first estimate"
        )


_CATEGORY_WORDS = {
    "furniture": ("table", "chair", "chest", "dresser"),
    "electronics": ("dyson", "sony", "ipad", "headphones"),
    "trading cards": ("pokemon", "charizard", "card"),
    "art": ("canvas", "lithograph"),
    "sneakers": ("nike", "yeezy", "adidas"),
}


def _list_and_sell(eng, items: pl.DataFrame, seed: int, end: date) -> dict[str, int]:
    """Replay :func:`stockroom.sim.resale.simulate_listings` through the repository: list,
    end, relist, cut prices and record sales in the order they happened."""
    listings = sim_resale.simulate_listings(items, seed, end)
    first_listed = listings.sort("listed_on").unique("item_id", keep="first")
    ordered = listings.join(
        first_listed.select("item_id", pl.col("listing_id").alias("_first")), on="item_id"
    )
    rounds = {
        "first": ordered.filter(pl.col("listing_id") == pl.col("_first")),
        "other": ordered.filter(pl.col("listing_id") != pl.col("_first")),
    }
    keys = ["item_id", "platform", "list_price", "listed_on"]
    repo.add_listings(eng, rounds["first"].select(keys), actor="resale-demo", reason="listed")
    sold_items = listings.filter(pl.col("status") == "sold")["item_id"].implode()
    # relists and cross-listings still live or sold, and cross-listings the sale ended
    cross = rounds["other"].filter(
        (pl.col("status") != "expired") | pl.col("item_id").is_in(sold_items)
    )
    expired_first = rounds["first"].filter(pl.col("status") == "expired")
    for row in expired_first.iter_rows(named=True):
        repo.end_listing(
            eng,
            row["item_id"],
            row["platform"],
            actor="resale-demo",
            reason=f"no sale in {sim_resale.RELIST_AFTER} days",
            day=row["ended_on"],
        )
    repo.add_listings(
        eng, cross.select(keys), actor="resale-demo", reason="relisted / cross-listed"
    )
    sold = listings.filter(pl.col("status") == "sold")
    repo.record_sales(
        eng,
        sold.select(
            "item_id",
            "platform",
            "sold_on",
            "sold_price",
            "platform_fees",
            "buyer_shipping",
            "actual_shipping",
        ),
        actor="resale-demo",
        reason="sold",
    )
    stale = listings.filter(
        (pl.col("status") == "listed") & (pl.col("listed_on") <= end - timedelta(days=30))
    ).head(40)
    for row in stale.iter_rows(named=True):
        repo.set_list_price(
            eng,
            row["item_id"],
            row["platform"],
            round(row["list_price"] * 0.9, 2),
            actor="resale-demo",
            reason="no sale in 30 days: 10 % off",
        )
    return {"listings": listings.height, "sold": sold.height, "price_cuts": stale.height}
