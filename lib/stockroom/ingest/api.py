"""HTTP JSON API clients (paginated) mapped to canonical tables.

* :func:`card_api_products` -- the public trading-card API (``/v2/cards?page=&pageSize=``,
  envelope ``data/page/pageSize/count/totalCount``, key in ``X-Api-Key``) -> ``products``.
* :func:`browse_listings` -- an eBay-Browse-like item search (``limit/offset`` with a ``next``
  link; ``itemSummaries`` with ``seller.username``; bearer token) -> ``listings``.

Tokens come from :func:`stockroom.config.source_token`: the environment variable
``STOCKROOM_<SOURCE>_TOKEN``, else ``[sources.<source>] token`` in ``.streamlit/secrets.toml``.
They are sent as headers only: never
logged, never put in a URL, a frame, a snapshot or the database.
"""

from __future__ import annotations

import json

import httpx
import polars as pl

from stockroom.errors import StockroomError
from stockroom.ingest.files import money
from stockroom.ingest.http import Fetcher
from stockroom.tables import SOURCE_FILE, SOURCE_ROW


def card_api_products(
    base_url: str, fetcher: Fetcher, page_size: int = 250, query: str | None = None
) -> tuple[pl.DataFrame, int]:
    """Every card from the card API as text ``products`` rows (+ lineage), and the page count.

    ``sku`` = card id (``base1-58``), ``title`` = ``<name> <number>``, ``category`` = set name
    (``set.name`` when the API embeds the set, else the id's prefix), ``brand`` = Pokémon TCG.
    Lineage: ``_source_file`` = the page URL (without the key), ``_source_row`` = position.
    """
    url = base_url.rstrip("/") + "/v2/cards"
    frames, page, pages = [], 1, 0
    while True:
        params = {"page": page, "pageSize": page_size, **({"q": query} if query else {})}
        body = fetcher.get_json(url, params=params)
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, list):
            raise StockroomError(f"{url} page {page}: no 'data' list in the response")
        pages += 1
        if data:
            bad = next((i for i, c in enumerate(data, 1) if not isinstance(c, dict)), None)
            if bad is not None:
                raise StockroomError(f"{url} page {page}: item {bad} of 'data' is not an object")
            rows = [_card_row(c) for c in data]
            frames.append(
                pl.DataFrame(rows, schema=dict.fromkeys(CARD_FIELDS, pl.String)).with_columns(
                    pl.lit(str(httpx.URL(url, params=params))).alias(SOURCE_FILE),
                    pl.int_range(1, pl.len() + 1, dtype=pl.Int64).alias(SOURCE_ROW),
                )
            )
        total = body.get("totalCount", 0)
        total = total if isinstance(total, int) and not isinstance(total, bool) else 0
        if not data or page * page_size >= total:
            break
        page += 1
    raw = (
        pl.concat(frames)
        if frames
        else pl.DataFrame(
            schema={
                "sku": pl.String,
                "title": pl.String,
                "category": pl.String,
                "category_source": pl.String,
                "rarity": pl.String,
                SOURCE_FILE: pl.String,
                SOURCE_ROW: pl.Int64,
            }
        )
    )
    return raw.select(
        "sku",
        "title",
        "category",
        "category_source",
        pl.lit("Pokémon TCG").alias("brand"),
        pl.lit(None, pl.String).alias("gtin"),
        pl.lit(None, pl.String).alias("weight_g"),
        SOURCE_FILE,
        SOURCE_ROW,
    ), pages


def browse_listings(
    base_url: str, fetcher: Fetcher, query: str = "", limit: int = 200, platform: str = "ebay"
) -> tuple[pl.DataFrame, int]:
    """All item summaries of a Browse-like search as text ``listings`` rows, and the page count.

    ``listing_id`` = ``legacyItemId`` (else ``itemId``), ``seller_id`` = ``seller.username``,
    ``sku`` = ``sellerCustomLabel`` (else the item id), ``quantity`` = the first
    ``estimatedAvailableQuantity``, ``price`` and ``currency`` from ``price``.
    """
    url: str | None = base_url.rstrip("/") + "/buy/browse/v1/item_summary/search"
    params: dict | None = {"q": query, "limit": limit, "offset": 0}
    frames, pages = [], 0
    while url:
        page_url = str(httpx.URL(url, params=params))
        body = fetcher.get_json(url, params=params)
        items = body.get("itemSummaries", []) if isinstance(body, dict) else None
        if not isinstance(items, list):
            raise StockroomError(f"{url}: 'itemSummaries' is not a list")
        pages += 1
        rows = []
        for item in items:
            seller = item.get("seller") or {}
            price = item.get("price") or {}
            avail = (item.get("estimatedAvailabilities") or [{}])[0]
            item_id = item.get("legacyItemId") or item.get("itemId")
            rows.append(
                {
                    "listing_id": item_id,
                    "seller_id": seller.get("username"),
                    "seller_name": seller.get("username"),
                    "sku": item.get("sellerCustomLabel") or item_id,
                    "title": item.get("title"),
                    "quantity": json_text(avail.get("estimatedAvailableQuantity")),
                    "price": json_text(price.get("value")),
                    "currency": price.get("currency"),
                    "listed_at": item.get("itemCreationDate"),
                    "url": item.get("itemWebUrl"),
                }
            )
        if rows:
            frames.append(
                pl.DataFrame(rows, schema={k: pl.String for k in rows[0]}).with_columns(
                    pl.lit(page_url).alias(SOURCE_FILE),
                    pl.int_range(1, pl.len() + 1, dtype=pl.Int64).alias(SOURCE_ROW),
                )
            )
        url, params = body.get("next"), None
    cols = (
        "listing_id",
        "seller_id",
        "seller_name",
        "sku",
        "title",
        "quantity",
        "price",
        "currency",
        "listed_at",
        "url",
    )
    raw = (
        pl.concat(frames)
        if frames
        else pl.DataFrame(
            schema={**{k: pl.String for k in cols}, SOURCE_FILE: pl.String, SOURCE_ROW: pl.Int64}
        )
    )
    return raw.select(
        pl.lit(platform).alias("platform"),
        "listing_id",
        "seller_id",
        "seller_name",
        "sku",
        "title",
        "quantity",
        "price",
        "currency",
        pl.lit("active").alias("status"),
        "listed_at",
        "url",
        pl.lit(None, pl.String).alias("notes"),
        SOURCE_FILE,
        SOURCE_ROW,
    ).with_columns(money("price")), pages


def json_text(value: object) -> str | None:
    """A JSON scalar as text (numbers and booleans as JSON writes them); a list or an object as
    its JSON text, so validation sees and quarantines it with its value."""
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


CARD_FIELDS = ("sku", "title", "category", "category_source", "rarity")


def _card_row(card: dict) -> dict:
    """One card object -> text cells (any JSON shape: a field of the wrong type becomes text)."""
    sku = json_text(card.get("id"))
    prefix = sku.rsplit("-", 1)[0] if sku else None
    card_set = card.get("set") if isinstance(card.get("set"), dict) else {}
    title = " ".join(t for t in (json_text(card.get("name")), json_text(card.get("number"))) if t)
    return {
        "sku": sku,
        "title": title or None,
        "category": json_text(card_set.get("name")) or prefix,
        "category_source": json_text(card_set.get("id")) or prefix,
        "rarity": json_text(card.get("rarity")),
    }
