"""Scrape a ShootStrayt-style storefront into canonical ``listings`` rows (httpx + bs4).

A shop page lists cards as ``li.listing-card`` (``data-listing-id``) with ``.listing-title``,
``.listing-sku`` (``{PRODUCT}-{SET}-{NUMBER}-{RARITY}-{TREATMENT}``), ``.listing-price``
(``$1,234.56``) and ``.listing-qty`` (``3 in stock``); ``a[rel=next]`` leads to the next page and
``footer.site-footer`` closes a complete page. The scraper follows ``next`` until there is none.

* A page without its footer is **truncated**: retried (with backoff) like a 5xx.
* A page without ``ul.listing-grid`` or with cards missing a field means the **layout changed**:
  the scrape stops with :class:`LayoutChanged` naming the URL and what is missing, and the page
  HTML is kept (first 64 KiB) for diagnosis. Nothing of that run lands.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import httpx
import polars as pl
from bs4 import BeautifulSoup

from stockroom.errors import StockroomError
from stockroom.ingest.files import money
from stockroom.ingest.http import Fetcher, Retryable
from stockroom.tables import SOURCE_FILE, SOURCE_ROW

PLATFORM = "shootstrayt"
FIELDS = {
    "title": ".listing-title",
    "sku": ".listing-sku",
    "price": ".listing-price",
    "quantity": ".listing-qty",
}
SAMPLE_BYTES = 64 * 1024
MAX_PAGES = 10_000


class LayoutChanged(StockroomError):
    """The page no longer has the structure the scraper knows; ``sample`` is the kept HTML."""

    def __init__(self, message: str, sample: Path | None):
        super().__init__(message + (f"; HTML kept at {sample}" if sample else ""))
        self.sample = sample


@dataclass
class ShopScrape:
    listings: pl.DataFrame  # canonical listings columns as text, with lineage
    pages: int
    url: str
    seller_id: str


def _complete(response: httpx.Response) -> None:
    if "site-footer" not in response.text:
        raise Retryable(
            f"GET {response.url}: page truncated ({len(response.content)} bytes, no footer)"
        )


def parse_shop_page(text: str, url: str) -> tuple[list[dict], str | None, str]:
    """Parse one storefront page: (listing dicts, absolute next URL or None, shop name).

    Raises :class:`LayoutChanged` (without a sample path) if the structure is not there.
    """
    soup = BeautifulSoup(text, "html.parser")
    grid = soup.select_one("ul.listing-grid")
    if grid is None:
        raise LayoutChanged(f"{url}: layout changed: no 'ul.listing-grid' on the page", None)
    shop = soup.select_one(".shop-name")
    rows = []
    for i, card in enumerate(grid.select("li.listing-card"), start=1):
        row = {"listing_id": card.get("data-listing-id")}
        for name, selector in FIELDS.items():
            node = card.select_one(selector)
            row[name] = node.get_text(strip=True) if node else None
        missing = [k for k, v in row.items() if v is None]
        if missing:
            raise LayoutChanged(
                f"{url}: layout changed: listing {i} has no {', '.join(missing)}", None
            )
        link = card.select_one(".listing-title")
        row["url"] = urljoin(url, link.get("href")) if link and link.get("href") else None
        rows.append(row)
    nxt = soup.select_one("a[rel=next]")
    next_url = urljoin(url, nxt["href"]) if nxt and nxt.get("href") else None
    return rows, next_url, shop.get_text(strip=True) if shop else ""


def scrape_shop(url: str, fetcher: Fetcher, sample_dir: Path | None = None) -> ShopScrape:
    """Scrape every page of one shop starting at ``url`` (``.../shop/<seller_id>``).

    Returns listings as text in canonical columns (``platform`` = shootstrayt, ``seller_id``
    from the URL, ``seller_name`` from the page, ``currency`` USD, ``status`` active) with
    lineage ``_source_file`` = page URL and ``_source_row`` = position on that page. Raises
    :class:`LayoutChanged` (HTML kept in ``sample_dir``) or
    :class:`stockroom.ingest.http.FetchError`.
    """
    seller_id = urlsplit(url).path.rstrip("/").split("/")[-1]
    frames, pages, seen = [], 0, set()
    next_url: str | None = url
    while next_url and pages < MAX_PAGES:
        if next_url in seen:
            raise LayoutChanged(f"{next_url}: pagination loops back to a page already read", None)
        seen.add(next_url)
        response = fetcher.get(next_url, check=_complete)
        try:
            rows, following, shop_name = parse_shop_page(response.text, str(response.url))
        except LayoutChanged as exc:
            sample = _keep_sample(sample_dir, str(response.url), response.text)
            raise LayoutChanged(str(exc), sample) from None
        pages += 1
        if rows:
            frames.append(
                pl.DataFrame(rows, schema={k: pl.String for k in rows[0]}).with_columns(
                    pl.lit(shop_name or None, pl.String).alias("seller_name"),
                    pl.lit(str(response.url)).alias(SOURCE_FILE),
                    pl.int_range(1, pl.len() + 1, dtype=pl.Int64).alias(SOURCE_ROW),
                )
            )
        next_url = following
    raw = (
        pl.concat(frames)
        if frames
        else pl.DataFrame(
            schema={
                "listing_id": pl.String,
                **{k: pl.String for k in FIELDS},
                "url": pl.String,
                "seller_name": pl.String,
                SOURCE_FILE: pl.String,
                SOURCE_ROW: pl.Int64,
            }
        )
    )
    listings = raw.select(
        pl.lit(PLATFORM).alias("platform"),
        "listing_id",
        pl.lit(seller_id).alias("seller_id"),
        "seller_name",
        "sku",
        "title",
        pl.col("quantity").str.extract(r"(\d+)").alias("quantity"),
        "price",
        pl.lit("USD").alias("currency"),
        pl.lit("active").alias("status"),
        pl.lit(None, pl.Datetime("us", "UTC")).alias("listed_at"),
        "url",
        pl.lit(None, pl.String).alias("notes"),
        SOURCE_FILE,
        SOURCE_ROW,
    ).with_columns(money("price"))
    return ShopScrape(listings, pages, url, seller_id)


def _keep_sample(directory: Path | None, url: str, text: str) -> Path | None:
    if directory is None:
        return None
    directory.mkdir(parents=True, exist_ok=True)
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", urlsplit(url).path + "_" + urlsplit(url).query)
    path = directory / f"{name.strip('_')[:120]}.html"
    path.write_text(text[:SAMPLE_BYTES])
    return path
