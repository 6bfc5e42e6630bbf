"""Per-platform order books around a real sale path, with the truth of every injected price move.

**Real:** the sales (StockX 2019 data: every sale's day and price per sneaker x size) and, on
StockX, each day's last sale, 30-day sales count and volatility.

**Synthetic** (seeded; the same seed gives the same market):

* **order books** on StockX, Alias, eBay and ShootStrayt. Each item's reference price is an
  exponentially weighted average of its daily median sale prices (half-life about a week); each
  platform's lowest ask is that reference times the platform's ask premium (:data:`BOOKS`) and a
  small persistent noise, and its highest bid the reference times its bid discount (eBay has no
  bids). A lowest ask never moves more than :data:`MAX_DRIFT` (3 %) from one day to the next on
  its own.
* **price moves**: on :data:`MOVE_SHARE` of the (item, platform) books one step change of the
  lowest ask by 18-35 % up or down on a random day, kept from then on. Each is written to the
  ground truth (:attr:`Market.moves`), so a detector of moves above 10 % is scored exactly.
* **sales off StockX**: each real sale is also "seen" on another platform with that platform's
  share (:data:`BOOKS`) -- binomial thinning of the real daily counts -- at the real median
  times the platform's ask premium.
* **our listings**: a reseller holding units of :data:`OUR_ITEMS` items bought at 1.0-1.5 x the
  real retail price, each listed on two platforms from a random day at 0.97-1.15 x the lowest ask
  that day, never repriced after -- so repricing opportunities open as the market moves.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass

import numpy as np
import polars as pl

from stockroom.market.prices import SalePath, market_stats


@dataclass(frozen=True)
class Book:
    """A platform's book: lowest ask = reference x ``ask``; highest bid = reference x ``bid``
    (None: no bids); ``share`` of the real sales seen there (1.0: the real sales)."""

    ask: float
    bid: float | None
    share: float
    specific: dict


BOOKS: dict[str, Book] = {
    "stockx": Book(1.04, 0.93, 1.0, {"authentication": True, "processing_days": 3}),
    "alias": Book(
        1.06, 0.90, 0.5, {"condition": "new, box in good condition", "shipping_included": False}
    ),
    "ebay": Book(
        1.00, None, 0.35, {"listing_format": "fixed price", "authenticity_guarantee": True}
    ),
    "shootstrayt": Book(0.99, 0.88, 0.15, {"shipping_included": True}),
}
#: largest day-over-day change of a lowest ask without an injected move (share)
MAX_DRIFT = 0.03
#: share of (item, platform) books that get one injected step move
MOVE_SHARE = 0.05
#: size range of an injected move (share of the price, up or down)
MOVE_SIZE = (0.18, 0.35)
#: how many items our reseller holds and lists
OUR_ITEMS = 80
OUR_SELLER = "demo-reseller"
CURRENCY = "USD"
_NS = uuid.UUID("6f1d2c4e-0b7a-4c55-9d8e-5a0c2f7e1b93")


@dataclass(frozen=True)
class Market:
    """The simulated market. ``rows``: one row per (day, sku, platform) in the shape of the
    ``market`` table plus ``day`` (Date); ``moves``: the injected moves (sku, platform, day,
    before, after, change as a share); ``stock``: our reseller's units and unit cost per sku."""

    rows: pl.DataFrame
    moves: pl.DataFrame
    stock: pl.DataFrame


def _reference(path: SalePath, halflife_days: float = 7.0) -> np.ndarray:
    """[D, S] EWMA of the daily median sale prices (NaN before an item's first sale)."""
    alpha = 1 - 0.5 ** (1 / halflife_days)
    ref = np.full(path.median.shape, np.nan)
    cur = np.full(path.median.shape[1], np.nan)
    for t in range(path.median.shape[0]):
        m = path.median[t]
        cur = np.where(np.isnan(cur), m, np.where(np.isnan(m), cur, cur + alpha * (m - cur)))
        ref[t] = cur
    return ref


def _asks(ref: np.ndarray, premium: float, rng: np.random.Generator) -> np.ndarray:
    """[D, S] a lowest-ask path: reference x premium x AR(1) noise, each day's change clipped
    to +-MAX_DRIFT."""
    days, items = ref.shape
    out = np.full(ref.shape, np.nan)
    noise = np.zeros(items)
    prev = np.full(items, np.nan)
    for t in range(days):
        noise = 0.8 * noise + rng.normal(0.0, 0.01, items)
        target = ref[t] * premium * (1 + noise)
        ask = np.where(
            np.isnan(prev), target, np.clip(target, prev * (1 - MAX_DRIFT), prev * (1 + MAX_DRIFT))
        )
        out[t] = ask
        prev = ask
    return out


def simulate(path: SalePath, retail: dict[str, float], seed: int = 18) -> Market:
    """The market of every platform in :data:`BOOKS` for every day and item of ``path`` from
    the item's first sale on (see the module doc). ``retail``: the real retail price per sku
    (USD), the base of our unit costs."""
    rng = np.random.default_rng(seed)
    days, items = path.median.shape
    ref = _reference(path)
    started = ~np.isnan(ref)
    frames, moves = [], []
    our = _our_listings(path, rng)
    for platform, book in BOOKS.items():
        base = _asks(ref, book.ask, rng)
        step = np.ones(ref.shape)
        chosen = np.flatnonzero(rng.random(items) < MOVE_SHARE)
        for s in chosen:
            live = np.flatnonzero(started[:, s])
            if len(live) < 10:
                continue
            t = int(rng.integers(live[0] + 5, live[-1] + 1))
            size = rng.uniform(*MOVE_SIZE) * rng.choice([-1.0, 1.0])
            step[t:, s] *= 1 + size
            before, after = (
                round(base[t - 1, s] * step[t - 1, s], 2),
                round(base[t, s] * step[t, s], 2),
            )
            moves.append((path.skus[s], platform, path.days[t], before, after, after / before - 1))
        lowest = np.round(base * step, 2)
        bid = None if book.bid is None else np.round(ref * book.bid, 2)
        if book.share >= 1.0:
            count = path.count
            median, last = path.median, path.last
        else:
            count = rng.binomial(path.count, book.share)
            median = np.where(count > 0, np.round(path.median * book.ask, 2), np.nan)
            last = median
        stats = market_stats(SalePath(path.days, path.skus, count, median, last))
        frames.append(_long(path, platform, book, started, lowest, bid, stats, our.get(platform)))
    rows = pl.concat(frames).sort("day", "sku", "platform")
    move_frame = pl.DataFrame(
        moves,
        schema={
            "sku": pl.String,
            "platform": pl.String,
            "day": pl.Date,
            "before": pl.Float64,
            "after": pl.Float64,
            "change": pl.Float64,
        },
        orient="row",
    ).sort("day", "sku", "platform")
    stock = pl.DataFrame(
        {
            "sku": [path.skus[s] for s in our["items"]],
            "on_hand": rng.integers(1, 4, len(our["items"])).astype(np.int32),
            "unit_cost": [
                round(retail.get(path.skus[s], 200.0) * rng.uniform(1.0, 1.5), 2)
                for s in our["items"]
            ],
        }
    )
    return Market(rows, move_frame, stock)


def _our_listings(path: SalePath, rng: np.random.Generator) -> dict:
    """Which items we hold, and per platform the first day and the markup of our ask."""
    total = path.count.sum(axis=0)
    popular = np.flatnonzero(total >= 30)
    items = np.sort(rng.choice(popular, size=min(OUR_ITEMS, len(popular)), replace=False))
    out: dict = {"items": items}
    platforms = list(BOOKS)
    for s in items:
        first = int(np.flatnonzero(path.count[:, s] > 0)[0])
        for p in rng.choice(platforms, size=2, replace=False):
            start = int(rng.integers(first + 7, max(first + 8, path.count.shape[0] - 60)))
            out.setdefault(str(p), {})[int(s)] = (start, rng.uniform(0.97, 1.15))
    return out


def _long(path, platform, book, started, lowest, bid, stats, ours) -> pl.DataFrame:
    d_idx, s_idx = np.nonzero(started)
    last_day = stats["last_sale_day"][d_idx, s_idx]
    days = np.array(path.days, dtype="datetime64[D]")
    ask_price = np.full(len(d_idx), np.nan)
    if ours:
        for s, (start, markup) in ours.items():
            price = round(float(np.round(lowest[start, s] * markup)), 0)
            sel = (s_idx == s) & (d_idx >= start)
            ask_price[sel] = price
    skus = np.array(path.skus)
    listing_ids = [str(uuid.uuid5(_NS, f"{platform}:{sku}"))[:13] for sku in path.skus]
    specific = json.dumps(book.specific, sort_keys=True)
    frame = pl.DataFrame(
        {
            "day": days[d_idx],
            "sku": skus[s_idx],
            "platform": platform,
            "ask_price": ask_price,
            "bid_price": np.full(len(d_idx), np.nan),
            "lowest_ask": lowest[d_idx, s_idx],
            "highest_bid": np.full(len(d_idx), np.nan) if bid is None else bid[d_idx, s_idx],
            "last_sale_price": stats["last_sale_price"][d_idx, s_idx],
            "last_sale_day": np.where(
                last_day >= 0, days[np.maximum(last_day, 0)], np.datetime64("NaT")
            ),
            "sales_30d": stats["sales_30d"][d_idx, s_idx].astype(np.int32),
            "volatility": stats["volatility"][d_idx, s_idx],
            "currency": CURRENCY,
            "platform_listing_id": np.array(listing_ids)[s_idx],
            "platform_specific": specific,
        },
        nan_to_null=True,
    )
    return frame.with_columns(
        pl.col("day").cast(pl.Date),
        pl.col("last_sale_day")
        .cast(pl.Date)
        .cast(pl.Datetime("us"))
        .dt.replace_time_zone("UTC")
        .alias("last_sale_at"),
    ).drop("last_sale_day")
