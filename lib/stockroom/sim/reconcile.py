"""A seeded reconciliation scenario: one seller's central inventory listed on four platforms,
one sync window of sales, and every discrepancy type injected with its ground truth.

**Synthetic, on the real catalog**: item titles and list prices come from the bundled card
catalog (``stockroom.cards``, PriceCharting market prices); quantities, platforms, sales and the
injected drift are drawn by a seeded generator, so the same arguments give the same frames.

Clean state: every item active with 1-5 units, listed on a random non-empty subset of
:data:`PLATFORMS` at the central quantity and price. Clean sales: 5 % of items sell in the
window (some of the multi-unit ones on two platforms), recorded centrally, and every listing
already shows the result -- so they must raise no flag. Then ``inject`` items per type (on
distinct items) get exactly one discrepancy of that type; :attr:`Scenario.truth` lists the
flag keys reconciliation must find (``stockroom.reconcile.rules`` key format).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import polars as pl

from stockroom import cards

PLATFORMS = ("shopify", "reverb", "vintage_and_rare", "ebay")
SYNC_START = datetime(2024, 6, 30, 6, 0)


@dataclass
class Scenario:
    central: pl.DataFrame
    listings: pl.DataFrame
    sales: pl.DataFrame
    recorded: pl.DataFrame
    truth: pl.DataFrame  # flag_type, key


def scenario(n_items: int, seed: int = 0, inject: int = 100) -> Scenario:
    """``n_items`` items (about 2.5 listings each: 40,000 items give ~100K listings) with
    ``inject`` discrepancies of each of the nine types."""
    rng = np.random.default_rng(seed)
    catalog = cards.variants()
    pick = rng.integers(0, catalog.height, n_items)
    titles = [
        f"{n} {s} #{num} {t}"
        for n, s, num, t in zip(
            catalog["name"].gather(pick),
            catalog["set_name"].gather(pick),
            catalog["number"].gather(pick),
            catalog["treatment"].gather(pick),
            strict=True,
        )
    ]
    sets = catalog["set_name"].gather(pick).to_list()
    price = np.round(
        np.nan_to_num(catalog["market_price"].gather(pick).to_numpy(), nan=5.0)
        * rng.uniform(1.05, 1.4, n_items)
        + 1.0,
        2,
    )
    qty0 = np.where(rng.random(n_items) < 0.6, 1, rng.integers(2, 6, n_items))
    mask = rng.random((n_items, len(PLATFORMS))) < 0.62
    mask[~mask.any(axis=1), rng.integers(0, len(PLATFORMS))] = True
    items = [
        dict(
            sku=f"ITEM-{i:06d}",
            title=titles[i],
            q0=int(qty0[i]),
            price=float(price[i]),
            category=sets[i],
            platforms=[p for p, m in zip(PLATFORMS, mask[i], strict=True) if m],
        )
        for i in range(n_items)
    ]
    order = rng.permutation(n_items)
    types = (
        "sold_elsewhere",
        "oversold",
        "missing_listing",
        "quantity_mismatch",
        "price_mismatch",
        "stale_listing",
        "duplicate_listing",
        "unrecorded_sale",
    )
    role = {}
    for k, t in enumerate(types):
        for i in order[k * inject : (k + 1) * inject]:
            role[int(i)] = t
    clean_sellers = order[len(types) * inject :]
    clean_sold = set(int(i) for i in clean_sellers[: int(0.05 * n_items)])

    central, listings, sales, recorded, truth = [], [], [], [], []
    lid = 0
    oid = 0

    def listing(item, platform, quantity, status, minutes=0, price=None):
        nonlocal lid
        lid += 1
        row = dict(
            platform=platform,
            listing_id=f"{platform[:2].upper()}{lid:07d}",
            sku=item["sku"],
            title=item["title"],
            quantity=quantity,
            price=item["price"] if price is None else price,
            status=status,
            listed_at=SYNC_START - timedelta(days=20, minutes=-minutes),
        )
        listings.append(row)
        return row

    def sale(item, platform, listing_id, quantity, minutes, record=True):
        nonlocal oid
        oid += 1
        row = dict(
            platform=platform,
            order_id=f"O{oid:08d}",
            listing_id=listing_id,
            sku=item["sku"],
            quantity=quantity,
            order_ts=SYNC_START + timedelta(minutes=minutes),
        )
        sales.append(row)
        if record:
            recorded.append(dict(platform=platform, order_id=row["order_id"]))
        return row

    def key(*parts):
        return "|".join(parts)

    for i, item in enumerate(items):
        t = role.get(i)
        if t in ("sold_elsewhere", "oversold") and len(item["platforms"]) < 2:
            item["platforms"] = list(rng.choice(PLATFORMS, 2, replace=False))
        if t in ("sold_elsewhere", "oversold"):
            item["q0"] = 1
        if t == "unrecorded_sale":
            item["q0"] = max(item["q0"], 2)
        q0, plats = item["q0"], item["platforms"]
        status, q = "active", q0
        minute = int(rng.integers(1, 700))
        if t == "sold_elsewhere":
            winner = plats[0]
            rows = {p: listing(item, p, 1, "active") for p in plats}
            rows[winner].update(quantity=0, status="sold")
            sale(item, winner, rows[winner]["listing_id"], 1, minute)
            q, status = 0, "sold"
            truth += [
                dict(flag_type=t, key=key(t, p, rows[p]["listing_id"]))
                for p in plats
                if p != winner
            ]
        elif t == "oversold":
            a, b = plats[0], plats[1]
            rows = {p: listing(item, p, 0, "sold" if p in (a, b) else "ended") for p in plats}
            sale(item, a, rows[a]["listing_id"], 1, minute)
            sale(item, b, rows[b]["listing_id"], 1, minute + 3)
            q, status = 0, "sold"
            truth.append(dict(flag_type=t, key=key(t, item["sku"])))
        elif t == "unrecorded_sale":
            rows = {p: listing(item, p, q0, "active") for p in plats}
            rows[plats[0]]["quantity"] = q0 - 1
            s = sale(item, plats[0], rows[plats[0]]["listing_id"], 1, minute, record=False)
            truth.append(dict(flag_type=t, key=key(t, s["platform"], s["order_id"])))
        elif t == "stale_listing":
            q, status = 0, "ended"
            rows = [listing(item, p, 0, "ended") for p in plats]
            rows[0].update(quantity=1, status="active")
            truth.append(dict(flag_type=t, key=key(t, rows[0]["platform"], rows[0]["listing_id"])))
        elif i in clean_sold:
            rows = {p: listing(item, p, q0, "active") for p in plats}
            sold = 1 if q0 == 1 or len(plats) == 1 else 2
            q = q0 - sold
            for k in range(sold):
                p = plats[k]
                sale(item, p, rows[p]["listing_id"], 1, minute + k)
            status = "sold" if q == 0 else "active"
            for p, row in rows.items():
                row.update(
                    quantity=q, status="active" if q else ("sold" if p in plats[:sold] else "ended")
                )
        else:
            rows = {p: listing(item, p, q0, "active") for p in plats}
            if t == "missing_listing":
                gone = rows.pop(plats[-1])
                listings.remove(gone)
                truth.append(dict(flag_type=t, key=key(t, plats[-1], item["sku"])))
            elif t == "quantity_mismatch":
                row = rows[plats[0]]
                row["quantity"] = q0 + 1
                truth.append(dict(flag_type=t, key=key(t, row["platform"], row["listing_id"])))
            elif t == "price_mismatch":
                row = rows[plats[0]]
                row["price"] = round(item["price"] * 1.1 + 0.5, 2)
                truth.append(dict(flag_type=t, key=key(t, row["platform"], row["listing_id"])))
            elif t == "duplicate_listing":
                row = listing(item, plats[0], q0, "active", minutes=60)
                truth.append(dict(flag_type=t, key=key(t, row["platform"], row["listing_id"])))
        central.append(
            dict(
                sku=item["sku"],
                title=item["title"],
                quantity=q,
                quantity_at_last_sync=q0,
                price=item["price"],
                status=status,
                platforms=plats,
                category=item["category"],
            )
        )
    for k in range(inject):  # listings central has never heard of
        p = PLATFORMS[k % len(PLATFORMS)]
        ext = dict(sku=f"EXT-{k:05d}", title=f"{catalog['name'][k]} (relisted)", price=9.99)
        row = listing(ext, p, 1, "active")
        truth.append(
            dict(flag_type="external_listing", key=key("external_listing", p, row["listing_id"]))
        )

    listing_schema = {
        "platform": pl.String,
        "listing_id": pl.String,
        "sku": pl.String,
        "title": pl.String,
        "quantity": pl.Int64,
        "price": pl.Float64,
        "status": pl.String,
        "listed_at": pl.Datetime("us"),
    }
    return Scenario(
        central=pl.DataFrame(
            central,
            schema={
                "sku": pl.String,
                "title": pl.String,
                "quantity": pl.Int64,
                "quantity_at_last_sync": pl.Int64,
                "price": pl.Float64,
                "status": pl.String,
                "platforms": pl.List(pl.String),
                "category": pl.String,
            },
        ),
        listings=pl.DataFrame(listings, schema=listing_schema),
        sales=pl.DataFrame(
            sales,
            schema={
                "platform": pl.String,
                "order_id": pl.String,
                "listing_id": pl.String,
                "sku": pl.String,
                "quantity": pl.Int64,
                "order_ts": pl.Datetime("us"),
            },
        ),
        recorded=pl.DataFrame(recorded, schema={"platform": pl.String, "order_id": pl.String}),
        truth=pl.DataFrame(truth, schema={"flag_type": pl.String, "key": pl.String}),
    )
