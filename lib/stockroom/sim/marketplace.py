"""A seeded multi-platform marketplace simulator on the real card catalog and prices.

**Synthetic.** The catalog (cards, sets, treatments) and the starting market prices are real
(``stockroom.cards``: Pokémon TCG data with PriceCharting prices of 2024-06-27). Everything else is
made up by a seeded random generator, so the same :class:`SimConfig` always gives the same data:

* **sellers** -- made-up shop names; each seller is on 1-3 of eBay, Blokpax and ShootStrayt and
  is *written differently on each* (eBay: a lower-case username such as ``palletcards_42``;
  Blokpax: CamelCase ``PalletCards`` with a numeric account id; ShootStrayt: a display name
  such as ``Pallet Cards LLC`` or ``PALLET CARDS ✦`` with a slug id). Shop sizes follow a
  Pareto law, so a few sellers hold much of the stock (realistic concentration).
* **items and listings** -- each seller owns items (a card variant, units on hand, its own SKU);
  each item is listed on one or more of the seller's platforms, with that platform's id, SKU
  format and title style: eBay uses the seller's custom label, Blokpax its asset id
  ``<card id>-<treatment>``, ShootStrayt the structured ``{PRODUCT}-{SET}-{NUMBER}-{RARITY}-
  {TREATMENT}``. Asking prices are the market price times a log-normal markup.
* **days** -- each day every item sells Poisson(rate) units (popular cards and cheaper asks
  sell more), on one of its listings' platforms chosen at random; on-hand stock drops and every
  listing of the item shows the new quantity (listings of a sold-out item become ``sold``);
  some sold-out items are restocked, some listings are ended, 3 % of asks change price.

Output per day: a full ``listings`` snapshot, that day's ``orders`` and the sellers' ``stock``;
once: ``sellers`` (one row per platform account) and ``products`` (the catalog). The ground
truth of which accounts are one seller is :attr:`Simulation.seller_truth`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import numpy as np
import polars as pl

from stockroom import cards

PLATFORMS = ("ebay", "blokpax", "shootstrayt")
CURRENCY = "USD"

_PLACES = (
    "Pallet",
    "Viridian",
    "Pewter",
    "Cerulean",
    "Vermilion",
    "Lavender",
    "Celadon",
    "Fuchsia",
    "Saffron",
    "Cinnabar",
    "Indigo",
    "Goldenrod",
    "Ecruteak",
    "Olivine",
    "Azalea",
    "Mahogany",
    "Blackthorn",
    "Littleroot",
    "Oldale",
    "Petalburg",
    "Rustboro",
    "Dewford",
    "Slateport",
    "Mauville",
    "Lilycove",
    "Mossdeep",
    "Sootopolis",
    "Pacifidlog",
    "Twinleaf",
    "Sandgem",
    "Jubilife",
    "Oreburgh",
    "Floaroma",
    "Eterna",
    "Hearthome",
    "Solaceon",
    "Veilstone",
    "Pastoria",
    "Celestic",
    "Canalave",
    "Snowpoint",
    "Sunyshore",
)
_KINDS = (
    "Cards",
    "Collectibles",
    "TCG",
    "Breaks",
    "Vault",
    "Trading Co",
    "Games",
    "Card Shop",
    "Hobby",
    "Singles",
    "Collect",
    "Rares",
)
_DECOR = ("", " LLC", " Official", " ✦", " Inc.", " (Store)", "™")


@dataclass(frozen=True)
class SimConfig:
    """Size and seed of a simulation. ``listings`` is approximate (items x platforms listed)."""

    listings: int = 20_000
    sellers: int = 200
    days: int = 14
    start: date = date(2024, 6, 27)
    seed: int = 7
    platforms: tuple[str, ...] = PLATFORMS

    def __post_init__(self) -> None:
        if not 1 <= self.sellers <= 20_000:
            raise ValueError("sellers must be 1..20,000")
        if self.listings < self.sellers:
            raise ValueError("need at least one listing per seller")
        if self.days < 1:
            raise ValueError("days must be >= 1")
        unknown = set(self.platforms) - set(PLATFORMS)
        if unknown:
            raise ValueError(f"unknown platforms {sorted(unknown)}; known: {PLATFORMS}")


@dataclass
class Day:
    """One simulated day: the canonical frames a daily ingestion would land."""

    day: date
    listings: pl.DataFrame
    orders: pl.DataFrame
    stock: pl.DataFrame


@dataclass
class Simulation:
    config: SimConfig
    sellers: pl.DataFrame  # canonical `sellers`: one row per platform account
    products: pl.DataFrame  # canonical `products`: the card catalog (internal SKUs)
    seller_truth: pl.DataFrame  # seller_key, platform, seller_id, seller_name
    listing_truth: pl.DataFrame  # platform, listing_id, product sku, seller_key, item
    _state: dict = field(repr=False, default_factory=dict)

    def days(self) -> Iterator[Day]:
        """Yield each simulated day in order (generated lazily; deterministic)."""
        yield from _run_days(self)


def simulate(config: SimConfig, catalog: pl.DataFrame | None = None) -> Simulation:
    """Build sellers, catalog, items and listings for ``config`` (days come from ``.days()``)."""
    rng = np.random.default_rng(config.seed)
    catalog = cards.variants() if catalog is None else catalog
    n_sellers = config.sellers
    platforms = np.array(config.platforms)

    # -- sellers: a true identity and how each platform writes it --------------------------
    combos = [(p, k) for p in _PLACES for k in _KINDS]
    order = rng.permutation(len(combos))
    names = []
    for i in range(n_sellers):
        place, kind = combos[order[i % len(combos)]]
        names.append(f"{place} {kind}" + (f" {i // len(combos) + 1}" if i >= len(combos) else ""))
    on_platform = rng.random((n_sellers, len(platforms))) < 0.55
    on_platform[np.arange(n_sellers), rng.integers(0, len(platforms), n_sellers)] = True
    accounts = []
    for s, name in enumerate(names):
        compact = "".join(ch for ch in name if ch.isalnum())
        for p_idx, platform in enumerate(platforms):
            if not on_platform[s, p_idx]:
                continue
            if platform == "ebay":
                sid = compact.lower() + (f"_{rng.integers(1, 99)}" if rng.random() < 0.5 else "")
                shown = sid
            elif platform == "blokpax":
                sid = f"{100000 + s * 7 + 3}"
                shown = "".join(w[:1].upper() + w[1:] for w in name.split())
            else:
                sid = "-".join(name.lower().split())
                decor = _DECOR[rng.integers(0, len(_DECOR))]
                shown = (name.upper() if rng.random() < 0.2 else name) + decor
            accounts.append((s, platform, sid, shown))
    truth = pl.DataFrame(
        accounts,
        schema={
            "seller_key": pl.Int32,
            "platform": pl.String,
            "seller_id": pl.String,
            "seller_name": pl.String,
        },
        orient="row",
    )
    sellers = truth.select(
        "platform",
        "seller_id",
        "seller_name",
        pl.lit(None, pl.String).alias("city"),
        pl.lit(None, pl.String).alias("region"),
        pl.lit("US").alias("country"),
    )

    # -- items: Pareto shop sizes, popular cards listed more ------------------------------
    avg_platforms = 1 + 0.6 * (on_platform.sum(1).mean() - 1)
    n_items = max(n_sellers, int(config.listings / avg_platforms))
    size = rng.pareto(1.2, n_sellers) + 1
    item_seller = rng.choice(n_sellers, n_items, p=size / size.sum())
    item_seller[:n_sellers] = np.arange(n_sellers)  # every seller has at least one item
    popularity = 1 / np.arange(1, catalog.height + 1) ** 0.8
    popularity = popularity[rng.permutation(catalog.height)]
    item_product = rng.choice(catalog.height, n_items, p=popularity / popularity.sum())
    market = catalog["market_price"].to_numpy()
    ask = np.round(market[item_product] * rng.lognormal(0.05, 0.2, n_items), 2).clip(0.25)
    on_hand = (1 + rng.geometric(0.35, n_items)).astype(np.int32)
    rate = (
        0.08
        * (popularity[item_product] / popularity.max()) ** 0.3
        * (market[item_product] / ask) ** 2
    )

    # -- listings: each item on one or more of its seller's platforms ---------------------
    seller_platforms = on_platform[item_seller]  # items x platforms
    listed = seller_platforms & (rng.random(seller_platforms.shape) < 0.6)
    first = np.argmax(seller_platforms, axis=1)
    listed[np.arange(n_items), first] = True
    item_idx, plat_idx = np.nonzero(listed)
    account = truth.with_row_index("acc").select(
        "acc", "seller_key", "platform", "seller_id", "seller_name"
    )
    prod = catalog[item_product[item_idx]]
    base = pl.DataFrame(
        {
            "item": item_idx.astype(np.int32),
            "seller_key": item_seller[item_idx].astype(np.int32),
            "platform": platforms[plat_idx],
        }
    ).with_columns(pl.int_range(pl.len()).alias("n"))
    base = base.join(
        account.drop("acc"), on=["seller_key", "platform"], how="left", maintain_order="left"
    )
    seller_code = (
        pl.col("seller_name").str.replace_all(r"[^A-Za-z]", "").str.slice(0, 4).str.to_uppercase()
    )
    listed_days = rng.integers(1, 400, len(item_idx))
    start_ts = datetime.combine(config.start, datetime.min.time(), tzinfo=UTC)
    static = (
        base.with_columns(
            sku_product=prod["sku"],
            name=prod["name"],
            set_name=prod["set_name"],
            number=prod["number"],
            rarity=prod["rarity"],
            treatment=prod["treatment"],
            ss_sku=prod["shootstrayt_sku"],
            card_id=prod["card_id"],
            printed=prod["printedTotal"].cast(pl.String),
        )
        .with_columns(
            pl.when(pl.col("platform") == "ebay")
            .then(
                pl.concat_str(
                    pl.lit("1"), (pl.col("n") * 7919 % 10**11).cast(pl.String).str.zfill(11)
                )
            )
            .when(pl.col("platform") == "blokpax")
            .then(pl.concat_str(pl.lit("bpx-"), pl.col("n").cast(pl.String).str.zfill(8)))
            .otherwise(pl.concat_str(pl.lit("ss-"), pl.col("n").cast(pl.String).str.zfill(8)))
            .alias("listing_id"),
            pl.when(pl.col("platform") == "ebay")
            .then(
                pl.concat_str(seller_code, pl.lit("-"), pl.col("item").cast(pl.String).str.zfill(6))
            )
            .when(pl.col("platform") == "blokpax")
            .then(pl.concat_str(pl.col("card_id"), pl.lit("-"), pl.col("treatment")))
            .otherwise(pl.col("ss_sku"))
            .alias("sku"),
            pl.when(pl.col("platform") == "ebay")
            .then(
                pl.concat_str(
                    pl.lit("Pokemon "),
                    pl.col("set_name"),
                    pl.lit(" "),
                    pl.col("name"),
                    pl.lit(" "),
                    pl.col("number"),
                    pl.lit("/"),
                    pl.col("printed").fill_null("?"),
                    pl.lit(" "),
                    pl.col("rarity").fill_null(""),
                    pl.lit(" "),
                    pl.col("treatment").str.replace_all("-", " ").str.to_titlecase(),
                    pl.lit(" NM"),
                )
            )
            .when(pl.col("platform") == "blokpax")
            .then(
                pl.concat_str(
                    pl.col("name"),
                    pl.lit(" #"),
                    pl.col("number"),
                    pl.lit(" · "),
                    pl.col("set_name"),
                )
            )
            .otherwise(
                pl.concat_str(
                    pl.col("name"),
                    pl.lit(" - "),
                    pl.col("set_name"),
                    pl.lit(" "),
                    pl.col("number"),
                    pl.lit(" ("),
                    pl.col("treatment").str.to_titlecase(),
                    pl.lit(")"),
                )
            )
            .alias("title"),
            (pl.lit(start_ts) - pl.duration(days=pl.Series(listed_days))).alias("listed_at"),
        )
        .with_columns(
            pl.when(pl.col("platform") == "ebay")
            .then(pl.concat_str(pl.lit("https://www.ebay.com/itm/"), pl.col("listing_id")))
            .when(pl.col("platform") == "blokpax")
            .then(pl.concat_str(pl.lit("https://blokpax.com/listing/"), pl.col("listing_id")))
            .otherwise(
                pl.concat_str(
                    pl.lit("https://shootstrayt.com/"),
                    pl.col("seller_id"),
                    pl.lit("/"),
                    pl.col("listing_id"),
                )
            )
            .alias("url"),
        )
    )
    listing_truth = static.select(
        "platform",
        "listing_id",
        pl.col("sku_product").alias("product_sku"),
        "seller_key",
        "item",
        "sku",
    )
    products = catalog.select(
        "sku",
        pl.concat_str(
            "name",
            pl.lit(" "),
            "number",
            pl.lit(" "),
            "set_name",
            pl.lit(" ("),
            "treatment",
            pl.lit(")"),
        ).alias("title"),
        pl.col("set_name").alias("category"),
        pl.col("set_id").alias("category_source"),
        pl.lit(cards.BRAND).alias("brand"),
        pl.lit(None, pl.String).alias("gtin"),
        pl.lit(None, pl.Float64).alias("weight_g"),
    )
    sim = Simulation(config, sellers, products, truth, listing_truth)
    sim._state = {
        "rng": rng,
        "static": static,
        "item_idx": item_idx,
        "on_hand": on_hand,
        "ask": ask,
        "rate": rate,
        "item_seller": item_seller,
        "item_product": item_product,
        "ended": np.zeros(len(item_idx), dtype=bool),
        "names": names,
        "account": account,
        "catalog_sku": catalog["sku"],
    }
    return sim


def _run_days(sim: Simulation) -> Iterator[Day]:
    st, cfg = sim._state, sim.config
    rng = np.random.default_rng(cfg.seed + 1)  # days have their own stream: same days always
    on_hand, ask = st["on_hand"].copy(), st["ask"].copy()
    ended = st["ended"].copy()
    static, item_idx = st["static"], st["item_idx"]
    n_items = len(on_hand)
    first_listing = np.full(n_items, -1)
    # listings of each item (for choosing the platform a sale happens on)
    order = np.argsort(item_idx, kind="stable")
    counts = np.bincount(item_idx, minlength=n_items)
    offsets = np.concatenate([[0], np.cumsum(counts)])
    first_listing[:] = order[offsets[:-1]]
    listing_cols = static.select(
        "platform", "listing_id", "seller_id", "seller_name", "sku", "title", "listed_at", "url"
    )
    home = (
        static.sort("n")
        .group_by("seller_key", maintain_order=True)
        .first()
        .select("seller_key", pl.col("seller_id").alias("home_id"))
    )
    stock_base = (
        pl.DataFrame(
            {
                "item": np.arange(n_items, dtype=np.int32),
                "seller_key": st["item_seller"].astype(np.int32),
            }
        )
        .join(home, on="seller_key", how="left", maintain_order="left")
        .with_columns(
            pl.concat_str(pl.lit("ITEM-"), pl.col("item").cast(pl.String).str.zfill(7)).alias("sku")
        )
    )
    for d in range(cfg.days):
        day = cfg.start + timedelta(days=d)
        active_items = np.bincount(item_idx[~ended], minlength=n_items) > 0
        units = np.minimum(rng.poisson(st["rate"]), on_hand) * active_items
        sold_items = np.nonzero(units)[0]
        # each item's sale happens on one of its active listings
        pick = offsets[sold_items] + (rng.random(len(sold_items)) * counts[sold_items]).astype(int)
        listing_of_sale = order[pick]
        live = ~ended[listing_of_sale]
        listing_of_sale = np.where(live, listing_of_sale, first_listing[sold_items])
        on_hand[sold_items] -= units[sold_items]
        seconds = rng.integers(0, 86_400, len(sold_items))
        day_ts = datetime.combine(day, datetime.min.time(), tzinfo=UTC)
        sale_rows = static[listing_of_sale].select("platform", "listing_id", "seller_id", "sku")
        orders = sale_rows.select(
            (pl.lit(day_ts) + pl.duration(seconds=pl.Series(seconds))).alias("order_ts"),
            "platform",
            pl.concat_str(
                pl.col("platform").str.slice(0, 2).str.to_uppercase(),
                pl.lit("-"),
                pl.lit(day.strftime("%Y%m%d")),
                pl.lit("-"),
                pl.int_range(pl.len()).cast(pl.String).str.zfill(7),
            ).alias("order_id"),
            pl.lit(1, pl.Int32).alias("line"),
            "seller_id",
            "sku",
            pl.Series("quantity", units[sold_items], dtype=pl.Int32),
            pl.Series("unit_price", ask[item_idx[listing_of_sale]]),
            pl.lit(None, pl.Float64).alias("freight"),
            pl.lit(CURRENCY).alias("currency"),
            pl.lit("delivered").alias("status"),
        )
        # restock 4 % of sold-out items, end 0.2 % of listings, reprice 3 % of items
        sold_out = np.nonzero(on_hand == 0)[0]
        restock = sold_out[rng.random(len(sold_out)) < 0.04]
        on_hand[restock] = (1 + rng.geometric(0.35, len(restock))).astype(np.int32)
        ended |= rng.random(len(ended)) < 0.002
        moved = rng.random(n_items) < 0.03
        ask[moved] = np.round(ask[moved] * rng.normal(1.0, 0.08, moved.sum()), 2).clip(0.25)
        qty = on_hand[item_idx]
        status = np.where(ended, "ended", np.where(qty > 0, "active", "sold"))
        listings = listing_cols.with_columns(
            pl.Series("quantity", np.where(ended, 0, qty), dtype=pl.Int32),
            pl.Series("price", ask[item_idx]),
            pl.lit(CURRENCY).alias("currency"),
            pl.Series("status", status),
            pl.lit(None, pl.String).alias("notes"),
        ).select(
            "platform",
            "listing_id",
            "seller_id",
            "seller_name",
            "sku",
            "title",
            "quantity",
            "price",
            "currency",
            "status",
            "listed_at",
            "url",
            "notes",
        )
        stock = stock_base.select(
            pl.col("home_id").alias("seller_id"),
            pl.lit("main").alias("location"),
            "sku",
            pl.Series("on_hand", on_hand, dtype=pl.Int32),
            pl.lit(0, pl.Int32).alias("reserved"),
            pl.Series("unit_cost", np.round(ask * 0.6, 2)),
            pl.lit(CURRENCY).alias("currency"),
        )
        yield Day(day, listings, orders, stock)
