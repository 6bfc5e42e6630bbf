"""A StockX-like catalog and market-data API on 127.0.0.1, served from one day's market rows.

Endpoints (JSON; every one needs ``Authorization: Bearer <token>`` when a token is set, and
answers 401 otherwise -- 403 once the token is revoked with :meth:`MarketDataServer.revoke`):

* ``/v2/catalog/search?query=&pageSize=&cursor=`` -- products (one per sneaker: ``productId``,
  ``urlKey``, ``title``, ``brand``, ``productType``), ``nextCursor`` until the last page
  (cursor pagination; the cursor is opaque);
* ``/v2/catalog/products/<productId>/variants`` -- its variants (one per size: ``variantId``,
  ``variantValue``);
* ``/v2/catalog/products/<productId>/market-data?currencyCode=USD`` -- per variant:
  ``lowestAskAmount``, ``highestBidAmount``, ``lastSaleAmount``, ``lastSaleDate``,
  ``salesLast30Days``, ``volatility`` (amounts as strings, as StockX sends them).

Faults per request path, as :class:`stockroom.sim.server.LocalServer` queues them: ``429``,
``500``, ``503``, ``slow``, ``drop``, ``truncate`` (half the JSON) and ``missing`` (the
first variant's ``lowestAskAmount`` left out).
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit

import polars as pl

from stockroom.sim.server import Hit, LocalServer

_NS = uuid.UUID("9b2f0c1e-4d3a-4e8b-a6f2-1c7d5e3b9a40")


def product_id(url_key: str) -> str:
    return str(uuid.uuid5(_NS, url_key))


def variant_id(url_key: str, size: str) -> str:
    return str(uuid.uuid5(_NS, f"{url_key}/{size}"))


class MarketDataServer(LocalServer):
    """Serve ``rows`` (market rows of one platform and day, the ``market`` table's columns plus
    ``brand`` and ``url_key``/``size`` splitting the sku) on ``http://127.0.0.1:<port>``."""

    def __init__(
        self, rows: pl.DataFrame, *, token: str | None = None, port: int = 0, slow_s: float = 2.0
    ):
        self.token = token
        self.revoked = False
        self.slow_s = slow_s
        self.hits: list[Hit] = []
        self._variants = {
            key[0]: part.sort("size")
            for key, part in rows.partition_by("url_key", as_dict=True).items()
        }
        self._products = sorted(self._variants)
        self._by_id = {product_id(k): k for k in self._products}
        self._listen(_handler(self), port)

    @classmethod
    def from_market(
        cls, market: pl.DataFrame, products: pl.DataFrame, platform: str = "stockx", **kwargs
    ) -> MarketDataServer:
        """From ``market`` rows (one day) and the ``products`` snapshot: the sku is
        ``<urlKey>-<size>`` as :func:`stockroom.ingest.exports.stockx_sales` builds it."""
        rows = (
            market.filter(pl.col("platform") == platform)
            .join(products.select("sku", "brand"), on="sku", how="left")
            .with_columns(
                pl.col("sku").str.extract(r"^(.*)-[^-]+$").alias("url_key"),
                pl.col("sku").str.extract(r"-([^-]+)$").alias("size"),
            )
        )
        return cls(rows, **kwargs)

    def revoke(self) -> None:
        """From now on the token is refused with 403 (a revoked key)."""
        self.revoked = True

    def search(self, query: str, size: int, cursor: str | None) -> dict:
        keys = [k for k in self._products if query.lower() in k.lower().replace("-", " ")]
        start = int(base64.urlsafe_b64decode(cursor).decode()) if cursor else 0
        chunk = keys[start : start + size]
        following = start + size
        return {
            "count": len(keys),
            "products": [self._product(k) for k in chunk],
            "nextCursor": (
                base64.urlsafe_b64encode(str(following).encode()).decode()
                if following < len(keys)
                else None
            ),
        }

    def _product(self, key: str) -> dict:
        first = self._variants[key].row(0, named=True)
        return {
            "productId": product_id(key),
            "urlKey": key,
            "title": key.replace("-", " "),
            "brand": (first.get("brand") or "").strip() or None,
            "productType": "sneakers",
        }

    def variants(self, pid: str) -> list[dict] | None:
        key = self._by_id.get(pid)
        if key is None:
            return None
        return [
            {"productId": pid, "variantId": variant_id(key, s), "variantValue": s}
            for s in self._variants[key]["size"].to_list()
        ]

    def market_data(self, pid: str, currency: str, drop_field: bool = False) -> list[dict] | None:
        key = self._by_id.get(pid)
        if key is None:
            return None
        out = []
        for r in self._variants[key].iter_rows(named=True):
            if r["currency"] != currency:
                continue
            out.append(
                {
                    "productId": pid,
                    "variantId": variant_id(key, r["size"]),
                    "currencyCode": currency,
                    "lowestAskAmount": _amount(r["lowest_ask"]),
                    "highestBidAmount": _amount(r["highest_bid"]),
                    "lastSaleAmount": _amount(r["last_sale_price"]),
                    "lastSaleDate": (
                        r["last_sale_at"].strftime("%Y-%m-%dT%H:%M:%SZ")
                        if r["last_sale_at"]
                        else None
                    ),
                    "salesLast30Days": r["sales_30d"],
                    "volatility": r["volatility"],
                }
            )
        if drop_field and out:
            del out[0]["lowestAskAmount"]
        return out


def _amount(value: float | None) -> str | None:
    return None if value is None else f"{value:.2f}"


def _handler(server: MarketDataServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args) -> None:
            pass

        def _send(self, status: int, payload: object, fault: str | None = None) -> None:
            body = json.dumps(payload).encode()
            if fault == "truncate":
                body = body[: len(body) // 2]
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            if status == 429:
                self.send_header("Retry-After", "1")
            self.end_headers()
            self.wfile.write(body)
            with server._lock:
                server.hits.append(Hit(time.monotonic(), self.path, status))

        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            url = urlsplit(self.path)
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            fault = server.take_fault(self)
            if fault == "drop":
                return
            if fault in ("429", "500", "503"):
                return self._send(int(fault), {"message": "try again"})
            if server.token:
                if self.headers.get("Authorization") != f"Bearer {server.token}":
                    return self._send(401, {"message": "invalid token"})
                if server.revoked:
                    return self._send(403, {"message": "token revoked"})
            parts = url.path.strip("/").split("/")
            if url.path == "/v2/catalog/search":
                size = min(int(query.get("pageSize", "20")), 100)
                page = server.search(query.get("query", ""), size, query.get("cursor"))
                return self._send(200, page, fault)
            if parts[:3] == ["v2", "catalog", "products"] and len(parts) == 5:
                pid, what = parts[3], parts[4]
                if what == "variants":
                    found = server.variants(pid)
                elif what == "market-data":
                    found = server.market_data(
                        pid, query.get("currencyCode", "USD"), drop_field=fault == "missing"
                    )
                else:
                    found = None
                if found is None:
                    return self._send(404, {"message": "not found"})
                return self._send(200, found, fault)
            return self._send(404, {"message": "not found"})

    return Handler
