"""A client for a StockX-like catalog and market-data API (served for tests and demos by
:mod:`stockroom.sim.marketdata`), through the shared polite :class:`~stockroom.ingest.http.Fetcher`
(robots, pacing, retries of 429/5xx and cut-short bodies).

Walk: catalog search (cursor pagination) -> each product's variants -> each product's market
data (one call per product, every variant in it) -> ``market`` rows as text cells with lineage
(``_source_file`` = the market-data URL, ``_source_row`` = the variant's position in it).
"""

from __future__ import annotations

import json

import httpx
import polars as pl

from stockroom.errors import InputError, InputProblem, StockroomError
from stockroom.ingest.api import json_text
from stockroom.ingest.http import Fetcher
from stockroom.tables import SOURCE_FILE, SOURCE_ROW

#: fields every market-data entry must carry (a value may be null: no bid yet); a missing one
#: is an API change, refused naming the URL, the entry and the field
REQUIRED = (
    "variantId",
    "currencyCode",
    "lowestAskAmount",
    "highestBidAmount",
    "lastSaleAmount",
    "lastSaleDate",
    "salesLast30Days",
)
COLUMNS = (
    "sku",
    "platform",
    "lowest_ask",
    "highest_bid",
    "last_sale_price",
    "last_sale_at",
    "sales_30d",
    "volatility",
    "currency",
    "platform_listing_id",
    "platform_specific",
)


def _list(body: object, url: str, what: str) -> list:
    if not isinstance(body, list):
        raise StockroomError(f"{url}: expected a list of {what}, got {type(body).__name__}")
    return body


def stockx_market(
    base_url: str,
    fetcher: Fetcher,
    query: str = "",
    currency: str = "USD",
    page_size: int = 50,
    platform: str = "stockx",
) -> tuple[pl.DataFrame, int]:
    """Every variant's market data as text ``market`` rows (columns :data:`COLUMNS` plus
    lineage), and the number of requests answered. ``sku`` = ``<urlKey>-<variantValue>``
    (the catalog's sneaker x size); ``platform_listing_id`` = the variant id;
    ``platform_specific`` = JSON of the product and variant ids.

    Raises :class:`InputError` naming the market-data URL, the entry (1-based) and the field
    when an entry lacks one of :data:`REQUIRED` or names an unknown variant, and
    :class:`~stockroom.ingest.http.FetchError` (or :class:`~stockroom.ingest.http.Refused` for
    401/403) when the API does not answer usably after the fetcher's retries.
    """
    base = base_url.rstrip("/")
    search = f"{base}/v2/catalog/search"
    cursor: str | None = None
    products: list[dict] = []
    calls = 0
    while True:
        params = {"query": query, "pageSize": page_size}
        if cursor:
            params["cursor"] = cursor
        page = fetcher.get_json(search, params=params)
        calls += 1
        if not isinstance(page, dict) or not isinstance(page.get("products"), list):
            raise StockroomError(f"{search}: the answer has no 'products' list")
        products.extend(page["products"])
        cursor = page.get("nextCursor")
        if not cursor:
            break
    rows: list[dict] = []
    for product in products:
        pid, key = product.get("productId"), product.get("urlKey")
        if not pid or not key:
            raise InputError(
                [InputProblem(search, None, "productId" if not pid else "urlKey", "missing")]
            )
        variants_url = f"{base}/v2/catalog/products/{pid}/variants"
        variants = _list(fetcher.get_json(variants_url), variants_url, "variants")
        sizes = {v.get("variantId"): v.get("variantValue") for v in variants}
        data_url = f"{base}/v2/catalog/products/{pid}/market-data"
        entries = _list(
            fetcher.get_json(data_url, params={"currencyCode": currency}), data_url, "entries"
        )
        calls += 2
        source = str(httpx.URL(data_url, params={"currencyCode": currency}))
        for i, entry in enumerate(entries, start=1):
            missing = [f for f in REQUIRED if not isinstance(entry, dict) or f not in entry]
            if missing:
                raise InputError(
                    [InputProblem(source, i, f, "missing from the API's answer") for f in missing]
                )
            size = sizes.get(entry["variantId"])
            if size is None:
                raise InputError(
                    [
                        InputProblem(
                            source,
                            i,
                            "variantId",
                            "not a variant of the product",
                            json_text(entry["variantId"]),
                        )
                    ]
                )
            rows.append(
                {
                    "sku": f"{key}-{size}",
                    "platform": platform,
                    "lowest_ask": json_text(entry["lowestAskAmount"]),
                    "highest_bid": json_text(entry["highestBidAmount"]),
                    "last_sale_price": json_text(entry["lastSaleAmount"]),
                    "last_sale_at": json_text(entry["lastSaleDate"]),
                    "sales_30d": json_text(entry["salesLast30Days"]),
                    "volatility": json_text(entry.get("volatility")),
                    "currency": json_text(entry["currencyCode"]),
                    "platform_listing_id": json_text(entry["variantId"]),
                    "platform_specific": json.dumps(
                        {"productId": pid, "variantId": entry["variantId"]}, sort_keys=True
                    ),
                    SOURCE_FILE: source,
                    SOURCE_ROW: i,
                }
            )
    schema = {**{c: pl.String for c in COLUMNS}, SOURCE_FILE: pl.String, SOURCE_ROW: pl.Int64}
    return pl.DataFrame(rows, schema=schema), calls
