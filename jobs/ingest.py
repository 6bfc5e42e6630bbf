"""Ingestion jobs: read a source with a ``lib.ingest`` adapter, land validated snapshots.

Every job runs inside :func:`jobs.runs.tracked_run` (recorded in the workbench database) and
lands through :meth:`jobs.runs.Run.land` (row-level validation, quarantine, bad-share limit,
atomic snapshot swaps).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl

from jobs.runs import MAX_BAD_SHARE, Part, Run, tracked_run
from lib import store
from lib.ingest import exports, olist
from lib.tables import LISTINGS, ORDERS, PRODUCTS, SELLERS

Progress = Callable[[str, int, int], None]


def ingest_olist(source_dir: Path, root: Path, on_progress: Progress | None = None,
                 max_bad_share: float = MAX_BAD_SHARE) -> Run:
    """Land an Olist export as snapshots (see ``lib.ingest.olist`` for the mapping).

    Snapshot policy: ``orders`` is an events table, one partition per UTC day of order activity
    (what a daily job would land); the seller register and the catalog have no history in the
    export, so each is landed once per load dated on the export's first day of activity, which
    makes every ``as_of`` inside the export see them.

    Rows failing a check (negative price, unknown status, repeated key, ...) are quarantined;
    cells the export's own format cannot parse (a date that is no date) raise
    :class:`lib.errors.InputError` and nothing lands. ``on_progress(table, done, total)`` is
    called as partitions land.
    """
    with tracked_run(root, "ingest-olist", str(source_dir)) as run:
        export = olist.read_export(source_dir)
        parts = [
            Part(SELLERS, {export.first_day: export.sellers}, olist.SOURCE_COLUMNS["sellers"]),
            Part(PRODUCTS, {export.first_day: export.products},
                 olist.SOURCE_COLUMNS["products"]),
            Part(ORDERS, olist.orders_by_day(export.orders), olist.SOURCE_COLUMNS["orders"]),
        ]
        run.land(parts, sources=store.describe_sources(export.sources),
                 max_bad_share=max_bad_share, on_progress=on_progress)
    return run


def _today() -> date:
    return datetime.now(UTC).date()


def ingest_listings_files(paths: Sequence[Path], root: Path, *, platform: str | None = None,
                          currency: str = "USD", snapshot_date: date | None = None,
                          max_bad_share: float = MAX_BAD_SHARE,
                          on_progress: Progress | None = None) -> Run:
    """Land listings exports (CSV/TSV/Excel in the agreed import format) as one ``listings``
    snapshot dated ``snapshot_date`` (default: today, UTC).

    Several files (one per platform, say) make one snapshot together. Bad rows are quarantined;
    see :meth:`jobs.runs.Run.land` for the bad-share limit.
    """
    paths = [Path(p) for p in paths]
    day = snapshot_date or _today()
    with tracked_run(root, "ingest-listings", ", ".join(str(p) for p in paths)) as run:
        mapped = [exports.listings_from_export(p, platform, currency) for p in paths]
        frame = pl.concat([m.frames[LISTINGS.name] for m in mapped], how="vertical_relaxed")
        rejected = pl.concat([m.rejected for m in mapped])
        columns = {k: v for m in mapped for k, v in m.source_columns.items()}
        run.land([Part(LISTINGS, {day: frame}, columns, rejected)],
                 sources=store.describe_sources(paths), max_bad_share=max_bad_share,
                 on_progress=on_progress)
    return run


def ingest_stockx(path: Path, root: Path, *, max_bad_share: float = MAX_BAD_SHARE,
                  on_progress: Progress | None = None) -> Run:
    """Land the StockX sales workbook: ``orders`` per day of sale, ``products`` once (dated on
    the first day of sales)."""
    with tracked_run(root, "ingest-stockx", str(path)) as run:
        mapped = exports.stockx_sales(Path(path))
        orders = mapped.frames[ORDERS.name]
        days = exports.by_day(orders)
        first = min(days) if days else _today()
        run.land([
            Part(PRODUCTS, {first: mapped.frames[PRODUCTS.name]}, mapped.source_columns),
            Part(ORDERS, days, mapped.source_columns, mapped.rejected),
        ], sources=store.describe_sources([Path(path)]), max_bad_share=max_bad_share,
            on_progress=on_progress)
    return run
