"""A reseller's listings and sales on several platforms, and items for the benchmark
(synthetic, seeded; vectorised so a million items take seconds).

* :func:`random_items` -- items in the ``resale_items`` shape: names, descriptions, keywords,
  categories, conditions, storage locations and bins, costs (log-normal around a category
  median) and acquisition days spread over a period.
* :func:`simulate_listings` -- for given items, the listings in the ``resale_listings`` shape:
  most items are listed a few days after they arrive on a platform that suits their category,
  at 1.2-1.9 x cost; each platform sells at its own pace (an exponential time to sale) at
  85-100 % of the ask; an item unsold after :data:`RELIST_AFTER` days is often ended and listed
  again elsewhere 10 % cheaper. Sales after the end day stay listed; never-listed items stay
  "not listed", so the aging buckets fill up.

Fees per platform are the simulator's assumptions (:data:`PLATFORMS`: a share of the sale
price plus a fixed amount, in the range of what such platforms charge), not a fee schedule.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import polars as pl

from stockroom.tables import RESALE_ITEMS, RESALE_LISTINGS


@dataclass(frozen=True)
class Platform:
    fee_share: float
    fixed_fee: float
    mean_days_to_sell: float
    sell_probability: float
    buyer_pays_shipping: bool


PLATFORMS = {
    "ebay": Platform(0.1325, 0.30, 24.0, 0.75, True),
    "etsy": Platform(0.095, 0.45, 40.0, 0.55, True),
    "facebook": Platform(0.05, 0.0, 12.0, 0.65, False),
    "shop": Platform(0.029, 0.30, 55.0, 0.40, True),
}
#: platforms by category, with weights
FIT = {
    "furniture": {"facebook": 0.7, "ebay": 0.1, "etsy": 0.2},
    "electronics": {"ebay": 0.6, "facebook": 0.4},
    "collectibles": {"ebay": 0.5, "etsy": 0.3, "shop": 0.2},
    "trading cards": {"ebay": 0.8, "shop": 0.2},
    "art": {"etsy": 0.5, "ebay": 0.3, "shop": 0.2},
    "sneakers": {"ebay": 0.7, "shop": 0.3},
}
_MEDIAN_COST = {
    "furniture": 60.0,
    "electronics": 80.0,
    "collectibles": 25.0,
    "trading cards": 15.0,
    "art": 90.0,
    "sneakers": 140.0,
}
_SHIPPING = {
    "furniture": 0.0,
    "electronics": 12.0,
    "collectibles": 8.0,
    "trading cards": 4.0,
    "art": 18.0,
    "sneakers": 14.0,
}
_WORDS = {
    "furniture": [
        "oak",
        "pine",
        "walnut",
        "side table",
        "armchair",
        "dresser",
        "bookcase",
        "stool",
    ],
    "electronics": ["Sony", "Bose", "iPad", "Dyson", "headphones", "camera", "speaker", "console"],
    "collectibles": ["Hummel", "Pyrex", "Lego", "Star Wars", "figurine", "bowl", "set", "tin"],
    "trading cards": ["Pokemon", "Charizard", "holo", "PSA 9", "binder", "rookie", "base set"],
    "art": ["oil", "canvas", "lithograph", "signed", "framed", "harbour", "portrait", "print"],
    "sneakers": ["Nike", "Dunk", "Jordan 1", "Yeezy", "New Balance 550", "size 10", "size 9"],
}
_ADJ = ["vintage", "boxed", "antique", "restored", "rare", "mint", "used", "estate"]
CONDITIONS = ("new", "like new", "good", "fair", "for parts")
LOCATIONS = ("Garage", "Basement", "Storage unit 14", "Spare room")
#: days without a sale after which an item is often ended and listed elsewhere
RELIST_AFTER = 45
_SOLD_MONEY = ("sold_price", "platform_fees", "buyer_shipping", "actual_shipping")


def _pick(rng: np.random.Generator, options: list, n: int, p=None) -> np.ndarray:
    return np.asarray(options, dtype=object)[rng.choice(len(options), size=n, p=p)]


def random_items(n: int, seed: int, start: date, end: date, prefix: str = "bench") -> pl.DataFrame:
    """``n`` items in the ``resale_items`` shape acquired between ``start`` and ``end``."""
    rng = np.random.default_rng(seed)
    categories = list(FIT)
    cat = _pick(rng, categories, n)
    words = np.empty(n, dtype=object)
    for c in categories:
        mask = cat == c
        k = int(mask.sum())
        a, b = _pick(rng, _WORDS[c], k), _pick(rng, _WORDS[c], k)
        words[mask] = np.char.add(np.char.add(a.astype(str), " "), b.astype(str)).astype(object)
    adj = _pick(rng, _ADJ, n)
    median = np.vectorize(_MEDIAN_COST.get)(cat).astype(float)
    cost = np.round(median * rng.lognormal(0.0, 0.6, n), 2)
    span = (end - start).days + 1
    acquired = np.datetime64(start) + rng.integers(0, span, n).astype("timedelta64[D]")
    ids = np.char.add(f"{prefix}-", np.arange(1, n + 1).astype(str))
    frame = pl.DataFrame(
        {
            "item_id": ids,
            "lot_id": ids,
            "name": np.char.add(np.char.add(adj.astype(str), " "), words.astype(str)),
            "description": np.char.add(
                np.char.add(words.astype(str), ", "), _pick(rng, list(CONDITIONS), n).astype(str)
            ),
            "category": cat.astype(str),
            "condition": _pick(rng, list(CONDITIONS), n).astype(str),
            "location": _pick(rng, list(LOCATIONS), n).astype(str),
            "bin": np.char.add("B", rng.integers(1, 40, n).astype(str)),
            "estimated_value": np.round(cost * rng.uniform(1.3, 2.2, n), 2),
            "keywords": np.char.add(adj.astype(str), np.where(rng.random(n) < 0.2, " gift", "")),
            "acquired_on": acquired,
            "cost": cost,
        }
    )
    return frame.with_columns(
        pl.lit("sim").alias("auction_house"),
        pl.lit("USD").alias("currency"),
        pl.lit(False).alias("needs_repair"),
        pl.lit(False).alias("consignment"),
        pl.lit(False).alias("returned"),
        pl.col("acquired_on").cast(pl.Date),
    ).pipe(lambda f: RESALE_ITEMS.conform(f) if n <= 50_000 else _shape(f, RESALE_ITEMS))


def _shape(frame: pl.DataFrame, table) -> pl.DataFrame:
    """``frame`` with the table's columns and dtypes (missing nullable ones null), unchecked
    (the benchmark's million rows; small frames go through ``conform``)."""
    cols = [
        pl.col(c.name).cast(c.dtype)
        if c.name in frame.columns
        else pl.lit(None, c.dtype).alias(c.name)
        for c in table.columns
    ]
    return frame.select(cols)


def simulate_listings(
    items: pl.DataFrame, seed: int, end: date, listed_share: float = 0.9
) -> pl.DataFrame:
    """The listings of ``items`` up to ``end`` (see the module doc) in the ``resale_listings``
    shape, ids from 1; ``listed_share`` of the items are listed at all."""
    rng = np.random.default_rng(seed)
    n = items.height
    end64 = np.datetime64(end)
    cat = items["category"].fill_null("collectibles").to_numpy().astype(str)
    cost = items["cost"].to_numpy()
    acquired = items["acquired_on"].to_numpy().astype("datetime64[D]")
    first_platform = np.empty(n, dtype=object)
    second_platform = np.empty(n, dtype=object)
    for c, fit in FIT.items():
        mask = cat == c
        names, weights = list(fit), np.array(list(fit.values()))
        first_platform[mask] = _pick(rng, names, int(mask.sum()), weights / weights.sum())
        second_platform[mask] = _pick(rng, list(PLATFORMS), int(mask.sum()))
    unknown = first_platform == None  # noqa: E711 (numpy element-wise)
    first_platform[unknown] = "ebay"
    second_platform[second_platform == first_platform] = "ebay"
    second_platform[(second_platform == "ebay") & (first_platform == "ebay")] = "shop"
    listed_on = acquired + (1 + rng.exponential(7, n)).astype("timedelta64[D]")
    listed = (rng.random(n) < listed_share) & (listed_on <= end64)
    price = np.round(cost * rng.uniform(1.2, 1.9, n), 2)
    rows = [_outcome(rng, first_platform, listed, listed_on, price, cat, end64, relist=True)]
    first = rows[0]
    again = first["_relist"]
    relisted_on = listed_on + np.timedelta64(RELIST_AFTER, "D")
    # cross-listing: a second platform a few days later, ended when the item sells or is
    # relisted (none when it sold before the cross-listing would have started)
    cross_on = listed_on + rng.integers(0, 4, n).astype("timedelta64[D]")
    sold_first = first["status"] == "sold"
    cross = listed & (rng.random(n) < 0.52) & ~(sold_first & (first["sold_on"] <= cross_on))
    cross_platform = _pick(rng, list(PLATFORMS), n)
    clash = (cross_platform == first_platform) | (cross_platform == second_platform)
    while clash.any():  # another platform than the first and the relist (4 to pick from)
        cross_platform[clash] = _pick(rng, list(PLATFORMS), int(clash.sum()))
        clash = (cross_platform == first_platform) | (cross_platform == second_platform)
    ended = (first["status"] != "listed") | again
    rows.append(
        {
            "_keep": cross,
            "platform": cross_platform.astype(str),
            "status": np.where(ended, "expired", "listed"),
            "list_price": np.round(price * 1.05, 2),
            "listed_on": cross_on,
            # ended with the sale, or with the first listing when the item was relisted
            "ended_on": np.where(
                ended,
                np.where(sold_first, first["sold_on"], relisted_on),
                np.datetime64("NaT"),
            ),
            **{k: np.full(n, np.nan) for k in _SOLD_MONEY},
            "sold_on": np.full(n, np.datetime64("NaT"), dtype="datetime64[D]"),
        }
    )
    rows.append(
        _outcome(
            rng,
            second_platform,
            again,
            relisted_on,
            np.round(price * 0.9, 2),
            cat,
            end64,
            relist=False,
        )
    )
    ids = items["item_id"].to_numpy()
    frames = []
    for part in rows:
        keep = part.pop("_keep")
        part.pop("_relist", None)
        frames.append(pl.DataFrame({"item_id": ids[keep], **{k: v[keep] for k, v in part.items()}}))
    out = pl.concat(frames, how="diagonal").fill_nan(None)
    out = out.with_columns(
        pl.int_range(1, pl.len() + 1, dtype=pl.Int64).alias("listing_id"),
        pl.lit("USD").alias("currency"),
        pl.col("listed_on", "sold_on", "ended_on").cast(pl.Date),
    )
    return _shape(out, RESALE_LISTINGS) if n > 50_000 else RESALE_LISTINGS.conform(out)


def _outcome(rng, platform, active, listed_on, price, cat, end64, relist: bool) -> dict:
    """One round of listings: who sells, when, for how much; who is ended and relisted."""
    n = len(platform)
    spec = {k: np.vectorize(lambda p, k=k: getattr(PLATFORMS[p], k))(platform) for k in (
        "fee_share", "fixed_fee", "mean_days_to_sell", "sell_probability", "buyer_pays_shipping"
    )}  # fmt: skip
    sells = rng.random(n) < spec["sell_probability"]
    days = rng.exponential(spec["mean_days_to_sell"]).astype(int)
    sold_on = listed_on + days.astype("timedelta64[D]")
    sold = active & sells & (sold_on <= end64)
    if relist:
        stale = active & ~sold & (listed_on + np.timedelta64(RELIST_AFTER, "D") <= end64)
        sold = sold & (days < RELIST_AFTER)
        relisted = stale & (rng.random(n) < 0.6)
    else:
        relisted = np.zeros(n, dtype=bool)
    sale_price = np.round(price * rng.uniform(0.85, 1.0, n), 2)
    ship = np.vectorize(_SHIPPING.get)(cat).astype(float)
    buyer_ship = np.where(spec["buyer_pays_shipping"], ship, 0.0)
    status = np.where(sold, "sold", np.where(relisted, "expired", "listed"))
    ended = np.where(relisted, listed_on + np.timedelta64(RELIST_AFTER, "D"), np.datetime64("NaT"))
    return {
        "_keep": active,
        "_relist": relisted,
        "platform": platform.astype(str),
        "status": status,
        "list_price": price,
        "listed_on": listed_on,
        "sold_on": np.where(sold, sold_on, np.datetime64("NaT")),
        "ended_on": ended,
        "sold_price": np.where(sold, sale_price, np.nan),
        "platform_fees": np.where(
            sold, np.round(sale_price * spec["fee_share"] + spec["fixed_fee"], 2), np.nan
        ),
        "buyer_shipping": np.where(sold, buyer_ship, np.nan),
        "actual_shipping": np.where(sold, np.round(ship * rng.uniform(0.8, 1.2, n), 2), np.nan),
    }
