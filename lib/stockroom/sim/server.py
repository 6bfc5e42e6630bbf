"""A real HTTP server (127.0.0.1 only) that plays the marketplaces for scrapers and API clients.

It serves, from one simulated day of listings and the real card catalog JSON:

* ``/robots.txt`` -- disallows ``/checkout`` and ``/private``;
* ``/shop/<seller_id>?page=N`` -- a ShootStrayt-style storefront, 48 listings per page, each
  with title, price, quantity and the structured SKU, and a ``rel="next"`` link;
* ``/v2/cards?page=N&pageSize=M`` -- the public card API's envelope (``data``, ``page``,
  ``pageSize``, ``count``, ``totalCount``) over the real card JSON; needs ``X-Api-Key``;
* ``/buy/browse/v1/item_summary/search?q=&limit=&offset=`` -- an eBay-Browse-like listing API
  (item summaries with ``seller.username``, ``price``, quantity, ``next`` link); needs
  ``Authorization: Bearer <token>``.

Faults are injected per request path (with query) from a queue, each consumed by one request:
``429`` (with ``Retry-After``), ``500``, ``503``, ``slow`` (sleeps :attr:`MarketServer.slow_s`
before answering), ``truncate`` (half the HTML, correctly framed), ``layout`` (the shop's new
markup) and ``drop`` (closes the connection without an answer). Every request is logged
(time, path, status) so tests can check pacing and robots compliance.
"""

from __future__ import annotations

import html
import json
import math
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import polars as pl

ROBOTS = "User-agent: *\nDisallow: /checkout\nDisallow: /private\n"
SHOP_PAGE_SIZE = 48


@dataclass
class Hit:
    at: float
    path: str
    status: int


class LocalServer:
    """A threaded HTTP server on 127.0.0.1 with a queue of faults per path: what the
    simulators share. A subclass builds its state, then calls :meth:`_listen` with its handler
    class. Use as a context manager; :attr:`base_url` is set once started."""

    def _listen(self, handler: type[BaseHTTPRequestHandler], port: int) -> None:
        self.faults: dict[str, deque[str]] = defaultdict(deque)
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", port), handler)
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def inject(self, path: str, *faults: str) -> None:
        """Queue faults for ``path`` (e.g. ``/shop/x?page=2``); each request consumes one."""
        with self._lock:
            self.faults[path].extend(faults)

    def _next_fault(self, path: str) -> str | None:
        with self._lock:
            queue = self.faults.get(path)
            return queue.popleft() if queue else None

    def take_fault(self, handler: BaseHTTPRequestHandler) -> str | None:
        """The next fault queued for the request's path, with the two every simulator treats
        alike done here: ``drop`` (the connection closed without an answer, recorded as status
        0; the handler returns) and ``slow`` (:attr:`slow_s` seconds of sleep, then the request
        goes on). Needs the subclass's ``hits`` and ``slow_s``."""
        fault = self._next_fault(handler.path)
        if fault == "drop":
            with self._lock:
                self.hits.append(Hit(time.monotonic(), handler.path, 0))
            handler.close_connection = True
            handler.connection.close()
        elif fault == "slow":
            time.sleep(self.slow_s)
        return fault

    def start(self):
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


class MarketServer(LocalServer):
    """Serve listings and card JSON on ``http://127.0.0.1:<port>`` (port 0 = any free port).

    ``listings``: canonical listings (one simulated day); ``cards``: card objects as the public
    API returns them; ``token``: the secret the APIs require (None = open).
    Use as a context manager; :attr:`base_url` is set once started.
    """

    def __init__(
        self,
        listings: pl.DataFrame,
        cards: list[dict] | None = None,
        *,
        token: str | None = None,
        port: int = 0,
        robots: str = ROBOTS,
        slow_s: float = 2.0,
    ):
        self.listings = listings
        self.cards = cards or []
        self.token = token
        self.robots = robots
        self.slow_s = slow_s
        self.hits: list[Hit] = []
        self._shops = {
            sid: part
            for (sid,), part in listings.filter(
                (pl.col("platform") == "shootstrayt") & (pl.col("status") == "active")
            )
            .partition_by("seller_id", as_dict=True)
            .items()
        }
        self._ebay = listings.filter(
            (pl.col("platform") == "ebay") & (pl.col("status") == "active")
        )
        self._listen(_handler(self), port)

    def shops(self) -> list[str]:
        """ShootStrayt seller ids that have a storefront, largest first."""
        return sorted(self._shops, key=lambda s: (-self._shops[s].height, s))

    # -- content -------------------------------------------------------------------------------

    def shop_html(self, seller_id: str, page: int, layout: str = "v1") -> str | None:
        shop = self._shops.get(seller_id)
        if shop is None:
            return None
        shop = shop.sort("listing_id")
        pages = max(1, math.ceil(shop.height / SHOP_PAGE_SIZE))
        if page < 1 or page > pages:
            return None
        rows = shop.slice((page - 1) * SHOP_PAGE_SIZE, SHOP_PAGE_SIZE).iter_rows(named=True)
        name = html.escape(shop["seller_name"][0] or seller_id)
        e = html.escape
        if layout == "v1":
            cards = "".join(
                f'<li class="listing-card" data-listing-id="{e(r["listing_id"])}">'
                f'<a class="listing-title" href="/shop/{e(seller_id)}/{e(r["listing_id"])}">'
                f'{e(r["title"])}</a><span class="listing-sku">{e(r["sku"])}</span>'
                f'<span class="listing-price">${r["price"]:,.2f}</span>'
                f'<span class="listing-qty">{r["quantity"]} in stock</span></li>\n'
                for r in rows
            )
            nxt = (
                f'<a rel="next" href="/shop/{e(seller_id)}?page={page + 1}">Next</a>'
                if page < pages
                else ""
            )
            return (
                f"<!doctype html><html><head><meta charset='utf-8'><title>{name} · "
                f"ShootStrayt</title></head><body><header class='shop-header'><h1 "
                f"class='shop-name'>{name}</h1></header><main><ul class='listing-grid'>\n"
                f"{cards}</ul></main><nav class='pagination'><span class='page-info'>Page "
                f"{page} of {pages}</span>{nxt}</nav><footer class='site-footer'>"
                f"© ShootStrayt</footer></body></html>"
            )
        tiles = "".join(  # the redesign: new class names, price in data attributes
            f'<div class="product-tile" data-id="{e(r["listing_id"])}" '
            f'data-price="{r["price"]}"><h3>{e(r["title"])}</h3></div>'
            for r in rows
        )
        return (
            f"<!doctype html><html><body><section id='catalog'>{tiles}</section>"
            f"<footer class='site-footer'>© ShootStrayt</footer></body></html>"
        )

    def cards_page(self, page: int, page_size: int) -> dict:
        start = (page - 1) * page_size
        data = self.cards[start : start + page_size]
        return {
            "data": data,
            "page": page,
            "pageSize": page_size,
            "count": len(data),
            "totalCount": len(self.cards),
        }

    def browse_page(self, base: str, query: str, limit: int, offset: int) -> dict:
        items = self._ebay
        if query:
            items = items.filter(
                pl.col("title").str.to_lowercase().str.contains(query.lower(), literal=True)
            )
        total = items.height
        chunk = items.sort("listing_id").slice(offset, limit)
        summaries = [
            {
                "itemId": f"v1|{r['listing_id']}|0",
                "legacyItemId": r["listing_id"],
                "title": r["title"],
                "price": {"value": f"{r['price']:.2f}", "currency": r["currency"]},
                "seller": {
                    "username": r["seller_id"],
                    "feedbackPercentage": "99.8",
                    "feedbackScore": 1000,
                },
                "sellerCustomLabel": r["sku"],
                "estimatedAvailabilities": [{"estimatedAvailableQuantity": r["quantity"]}],
                "itemCreationDate": r["listed_at"].strftime("%Y-%m-%dT%H:%M:%S.000Z")
                if r["listed_at"]
                else None,
                "itemWebUrl": r["url"],
            }
            for r in chunk.iter_rows(named=True)
        ]
        path = "/buy/browse/v1/item_summary/search"
        page = {
            "href": f"{base}{path}?{urlencode({'q': query, 'limit': limit, 'offset': offset})}",
            "total": total,
            "limit": limit,
            "offset": offset,
            "itemSummaries": summaries,
        }
        if offset + limit < total:
            page["next"] = (
                f"{base}{path}?{urlencode({'q': query, 'limit': limit, 'offset': offset + limit})}"
            )
        return page


def _handler(server: MarketServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args) -> None:  # quiet; hits are recorded instead
            pass

        def _send(
            self,
            status: int,
            body: bytes,
            ctype: str,
            headers: dict | None = None,
            length: int | None = None,
        ) -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body) if length is None else length))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(body)
            with server._lock:
                server.hits.append(Hit(time.monotonic(), self.path, status))

        def _json(self, status: int, payload: dict) -> None:
            self._send(status, json.dumps(payload).encode(), "application/json")

        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            url = urlsplit(self.path)
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            fault = server.take_fault(self)
            if fault == "drop":
                return
            if fault in ("429",):
                return self._send(429, b"slow down", "text/plain", {"Retry-After": "1"})
            if fault in ("500", "503"):
                return self._send(int(fault), b"oops", "text/plain")
            if url.path == "/robots.txt":
                return self._send(200, server.robots.encode(), "text/plain")
            if url.path.startswith("/shop/"):
                seller = url.path.removeprefix("/shop/").strip("/")
                body = server.shop_html(
                    seller, int(query.get("page", "1")), layout="v2" if fault == "layout" else "v1"
                )
                if body is None:
                    return self._send(404, b"no such page", "text/plain")
                data = body.encode()
                if fault == "truncate":
                    data = data[: len(data) // 2]
                return self._send(200, data, "text/html; charset=utf-8")
            if url.path == "/v2/cards":
                if server.token and self.headers.get("X-Api-Key") != server.token:
                    return self._json(401, {"error": {"message": "invalid api key"}})
                page, size = int(query.get("page", "1")), int(query.get("pageSize", "250"))
                return self._json(200, server.cards_page(page, min(size, 250)))
            if url.path == "/buy/browse/v1/item_summary/search":
                if server.token and self.headers.get("Authorization") != f"Bearer {server.token}":
                    return self._json(401, {"errors": [{"message": "invalid access token"}]})
                limit = min(int(query.get("limit", "50")), 200)
                return self._json(
                    200,
                    server.browse_page(
                        server.base_url, query.get("q", ""), limit, int(query.get("offset", "0"))
                    ),
                )
            return self._send(404, b"not found", "text/plain")

    return Handler


def load_card_json(directory: Path) -> list[dict]:
    """Card objects from the card API's JSON files (one list per set) in ``directory``."""
    cards: list[dict] = []
    for path in sorted(Path(directory).glob("*.json")):
        cards.extend(json.loads(path.read_text()))
    return cards
