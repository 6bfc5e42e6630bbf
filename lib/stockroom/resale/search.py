"""Find anything in the resale inventory: full-text search with ranking, filters, sorting, and a
pick list by storage location.

The text index is SQLite's FTS5 (the ``sqlite3`` module every Python has), built from a
``resale_items`` snapshot into ``<data root>/search/`` and named after that snapshot's content
hash, so it is rebuilt only when the items change and is the same whichever database holds
the workbench. Ranking is FTS5's BM25 with the name weighted above keywords, description and
notes (:data:`WEIGHTS`). A query is words (each must appear; the last may be a prefix, so
results come while typing); ``"quoted phrases"`` match as phrases; ``-word`` excludes.
"""

from __future__ import annotations

import os
import re
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import filelock
import polars as pl

#: indexed columns and their BM25 weights (name counts most)
WEIGHTS = {"name": 10.0, "keywords": 5.0, "description": 2.0, "notes": 1.0}
SORTS = ("relevance", "acquired_on", "estimated_value", "name", "roi", "days_listed", "age_days")
_TOKEN = re.compile(r'-?"[^"]+"|-?[^\s"]+')


def index_path(root: Path, content_hash: str) -> Path:
    """Where the index of the items snapshot with ``content_hash`` lives."""
    return Path(root) / "search" / f"resale_items-{content_hash[:16]}.sqlite"


def build(items: pl.DataFrame, path: Path) -> Path:
    """Write the FTS5 index of ``items`` (item_id plus the :data:`WEIGHTS` columns) to
    ``path``: built in a temporary file, then renamed into place, under a file lock (two
    processes asking at once build it once). Returns ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with filelock.FileLock(f"{path}.lock"):
        if path.exists():
            return path
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        tmp.unlink(missing_ok=True)
        con = sqlite3.connect(tmp)
        try:
            cols = ", ".join(WEIGHTS)
            con.execute(
                f"CREATE VIRTUAL TABLE items USING fts5(item_id UNINDEXED, {cols}, "
                "tokenize = 'unicode61 remove_diacritics 2')"
            )
            rows = items.select("item_id", *WEIGHTS).iter_rows()
            con.executemany(f"INSERT INTO items VALUES (?, {', '.join('?' * len(WEIGHTS))})", rows)
            con.execute("INSERT INTO items(items) VALUES ('optimize')")
            con.commit()
        finally:
            con.close()
        os.replace(tmp, path)
    return path


def fts_query(text: str) -> str | None:
    """The user's words as an FTS5 query (see module doc); None when there are none."""
    parts = []
    tokens = _TOKEN.findall(text or "")
    for i, token in enumerate(tokens):
        negate = token.startswith("-")
        token = token.lstrip("-")
        if token.startswith('"'):
            words = token.strip('"').replace('"', " ").split()
            if not words:
                continue
            term = '"' + " ".join(words) + '"'
        else:
            clean = re.sub(r"[^\w]+", " ", token).split()
            if not clean:
                continue
            last = i == len(tokens) - 1 and not negate
            term = " ".join(f'"{w}"' for w in clean) + ("*" if last else "")
        parts.append(("NOT " if negate else "") + term)
    positive = [p for p in parts if not p.startswith("NOT ")]
    if not positive:
        return None
    return " ".join(_ordered(parts))


def _ordered(parts: list[str]) -> list[str]:
    """FTS5 needs a positive term before NOT: positives first, then exclusions."""
    return [p for p in parts if not p.startswith("NOT ")] + [
        p for p in parts if p.startswith("NOT ")
    ]


def match(path: Path, text: str, limit: int = 100_000) -> pl.DataFrame:
    """Items matching ``text`` in the index at ``path``: item_id, score (BM25, higher is
    better), best first. An empty query matches nothing (an empty frame)."""
    schema = {"item_id": pl.String, "score": pl.Float64}
    query = fts_query(text)
    if query is None:
        return pl.DataFrame(schema=schema)
    weights = ", ".join(str(w) for w in WEIGHTS.values())
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        rows = con.execute(
            f"SELECT item_id, -bm25(items, 0.0, {weights}) AS score FROM items "
            "WHERE items MATCH ? ORDER BY bm25(items, 0.0, " + weights + ") LIMIT ?",
            (query, limit),
        ).fetchall()
    finally:
        con.close()
    return pl.DataFrame(rows, schema=schema, orient="row")


@dataclass(frozen=True)
class Filters:
    """What to keep (None = anything): category, condition, location, bin, status (sold /
    listed / not listed), platform (listed or sold there), ROI range (shares, inclusive)."""

    category: str | None = None
    condition: str | None = None
    location: str | None = None
    bin: str | None = None
    status: str | None = None
    platform: str | None = None
    roi_min: float | None = None
    roi_max: float | None = None

    def apply(self, frame: pl.DataFrame) -> pl.DataFrame:
        keep = pl.lit(True)
        for name in ("category", "condition", "location", "bin", "status"):
            value = getattr(self, name)
            if value:
                keep &= pl.col(name) == value
        if self.platform:
            keep &= pl.col("platform").str.contains(rf"(^|, ){re.escape(self.platform)}(,|$)")
        if self.roi_min is not None:
            keep &= pl.col("roi") >= self.roi_min
        if self.roi_max is not None:
            keep &= pl.col("roi") <= self.roi_max
        return frame.filter(keep.fill_null(False))


def search(
    pnl: pl.DataFrame,
    index: Path | None,
    text: str = "",
    filters: Filters | None = None,
    sort: str = "relevance",
    descending: bool | None = None,
    limit: int = 200,
) -> pl.DataFrame:
    """Items of an :func:`stockroom.resale.pnl.item_pnl` frame matching ``text`` (through the
    index at ``index``; no text = every item) and ``filters``, sorted by ``sort`` (one of
    :data:`SORTS`; relevance falls back to newest first without text), at most ``limit``
    rows. Returns the pnl columns plus ``score`` (Float64, BM25; null without text).
    Raises ``ValueError`` for an unknown sort."""
    if sort not in SORTS:
        raise ValueError(f"sort must be one of {', '.join(SORTS)}, not {sort!r}")
    filters = filters or Filters()
    if (text or "").strip() and index is not None:
        hits = match(index, text)
        frame = pnl.join(hits, on="item_id", how="inner")
    else:
        frame = pnl.with_columns(pl.lit(None, pl.Float64).alias("score"))
        if sort == "relevance":
            sort = "acquired_on"
    frame = filters.apply(frame)
    if descending is None:
        descending = sort != "name"
    key = "score" if sort == "relevance" else sort
    return frame.sort([key, "item_id"], descending=[descending, False], nulls_last=True).head(limit)


def pick_list(frame: pl.DataFrame) -> pl.DataFrame:
    """The items of ``frame`` in walking order: by location, bin, then name (missing
    locations last), with location, bin, item_id, name, condition, status, list_price."""
    return frame.sort(["location", "bin", "name", "item_id"], nulls_last=True).select(
        pl.col("location").fill_null("(no location)"),
        pl.col("bin").fill_null(""),
        "item_id",
        "name",
        "condition",
        "status",
        "list_price",
    )
