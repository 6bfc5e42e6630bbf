"""The resale book as of a day, read from the ``resale_items`` / ``resale_listings`` snapshots:
what the Resale page, the report, the CLI and the exports all start from.

:func:`book` reads the latest snapshot on or before the as-of day, computes every item's P&L
(:func:`stockroom.resale.pnl.item_pnl`) and makes sure the full-text index of that snapshot
exists; it remembers the last few books per (data root, snapshot content, as-of day).
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import polars as pl

from stockroom import store
from stockroom.resale import pnl, search
from stockroom.tables import RESALE_ITEMS, RESALE_LISTINGS

_CACHE: OrderedDict[tuple, Book] = OrderedDict()
_CACHE_SIZE = 4
#: the dashboard's default period: this many days ending on the book's last activity day
PERIOD_DAYS = 30


@dataclass(frozen=True)
class Book:
    """``day``: the snapshot day read (None: no resale snapshot yet); ``as_of``: the day the
    P&L is computed for; ``items`` / ``listings``: the snapshot frames; ``pnl``: one row per
    item (:func:`stockroom.resale.pnl.item_pnl`); ``index``: the full-text index file."""

    day: date | None
    as_of: date | None
    items: pl.DataFrame
    listings: pl.DataFrame
    pnl: pl.DataFrame
    index: Path | None

    @property
    def currency(self) -> str | None:
        found = self.items["currency"].unique().drop_nulls()
        return found[0] if found.len() else None

    def last_activity(self) -> date | None:
        """The latest day anything happened (an acquisition, listing or sale) up to as_of."""
        days = [
            self.pnl["acquired_on"].max(),
            self.pnl["listed_on"].max(),
            self.pnl["sold_on"].max(),
        ]
        days = [d for d in days if d is not None]
        return max(days) if days else None

    def period(self, days: int = PERIOD_DAYS) -> tuple[date, date] | None:
        """The default dashboard period: ``days`` days ending on :meth:`last_activity` (on the
        as-of day when nothing happened by then; None for an empty book)."""
        end = self.last_activity() or self.as_of
        return None if end is None else (end - timedelta(days=days - 1), end)


def _content(root: Path, table: str, day: date) -> str:
    manifest = store.read_manifest(root, table, day)
    return "".join(f["sha256"] for f in manifest["files"])


def book(root: Path, as_of: date | None = None) -> Book:
    """The resale book of ``root`` as of ``as_of`` (default: the latest snapshot's day).
    Returns an empty book (``day`` None) when no resale snapshot exists yet."""
    root = Path(root)
    day = store.resolve_as_of(root, RESALE_ITEMS.name, as_of)
    if day is None:
        empty = pnl.item_pnl(RESALE_ITEMS.empty(), RESALE_LISTINGS.empty(), as_of or date.today())
        return Book(None, as_of, RESALE_ITEMS.empty(), RESALE_LISTINGS.empty(), empty, None)
    listings_day = store.resolve_as_of(root, RESALE_LISTINGS.name, day)
    items_hash = _content(root, RESALE_ITEMS.name, day)
    key = (
        str(root),
        day,
        items_hash,
        listings_day and _content(root, RESALE_LISTINGS.name, listings_day),
        as_of,
    )
    hit = _CACHE.get(key)
    if hit is not None:
        _CACHE.move_to_end(key)
        return hit
    items = store.read_snapshot(root, RESALE_ITEMS.name, day)
    listings = (
        store.read_snapshot(root, RESALE_LISTINGS.name, listings_day)
        if listings_day is not None
        else RESALE_LISTINGS.empty()
    )
    when = as_of or day
    frame = pnl.item_pnl(items, listings, when)
    index = search.index_path(root, items_hash)
    if not index.exists():
        search.build(items, index)
    result = Book(day, when, items, listings, frame, index)
    _CACHE[key] = result
    while len(_CACHE) > _CACHE_SIZE:
        _CACHE.popitem(last=False)
    return result


def item_detail(book: Book, item_id: str) -> dict | None:
    """One item's row of the book (its P&L) and its listings, or None if it is not there:
    ``{"item": dict, "listings": DataFrame}``."""
    row = book.pnl.filter(pl.col("item_id") == item_id)
    if row.is_empty():
        return None
    listings = book.listings.filter(pl.col("item_id") == item_id).sort("listing_id")
    return {"item": row.row(0, named=True), "listings": listings}
