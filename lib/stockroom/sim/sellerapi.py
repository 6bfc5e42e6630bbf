"""Wildberries- and Ozon-style seller APIs on 127.0.0.1, fed by real demand.

:class:`SellerApiServer` serves the shapes :mod:`stockroom.ingest.marketplaces` reads, from a
canonical ``orders`` frame (real order lines, e.g. the UCI Online Retail sample in
``data/raw/own``): each order goes to Wildberries or Ozon by a hash of its id; Wildberries
rows are one unit each (as WB reports them), its cancellations carry ``isCancel`` and a sale
row (``S...``) follows every delivered unit a day later; Ozon gets postings with products and
statuses. Warehouse stock is seeded per SKU. Only rows changed up to :attr:`clock` are served,
so a test moves the clock to make "new" data appear. As WB documents, ``dateFrom`` is
inclusive: a page repeats the rows of its cursor's second, which the client recognises.

Faults are queued per route (``/api/v1/supplier/orders``, ``/v3/posting/fbs/list``, ...) and
each is used by one request: ``429`` (Retry-After 1), ``500``, ``503``, ``truncate`` (half the
JSON body) and ``401``. :meth:`revoke` makes every later request answer 401. Every request is
recorded in :attr:`hits` (time, route, status, the credential header names it carried).
"""

from __future__ import annotations

import json
import time
import zlib
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import numpy as np
import polars as pl

from stockroom.sim.server import LocalServer

WB_WAREHOUSES = ("Коледино", "Электросталь")
OZON_WAREHOUSES = ("Хоругвино", "Тверь")
MOSCOW = ZoneInfo("Europe/Moscow")


class SellerApiServer(LocalServer):
    """Serve WB statistics and Ozon seller routes on ``http://127.0.0.1:<port>``.

    ``orders``: canonical order lines (order_ts UTC, order_id, sku, quantity, unit_price,
    status); ``wb_token`` / ``ozon_client`` + ``ozon_key``: the credentials demanded;
    ``page_size``: rows per WB answer and the cap of an Ozon page. Use as a context manager.
    """

    def __init__(
        self,
        orders: pl.DataFrame,
        *,
        wb_token: str = "wb-secret",
        ozon_client: str = "1234",
        ozon_key: str = "ozon-secret",
        page_size: int = 500,
        seed: int = 0,
        port: int = 0,
    ):
        self.wb_token, self.ozon_client, self.ozon_key = wb_token, ozon_client, ozon_key
        self.page_size = page_size
        self.hits: list[tuple[float, str, int, tuple[str, ...]]] = []
        self.revoked = False
        lines = orders.sort("order_ts", "order_id")
        to_wb = pl.col("order_id").map_elements(
            lambda o: zlib.crc32(o.encode()) % 2 == 0, return_dtype=pl.Boolean
        )
        self.wb_orders, self.wb_sales = _wb_rows(lines.filter(to_wb))
        self.ozon_postings = _ozon_postings(lines.filter(~to_wb))
        rng = np.random.default_rng(seed)
        skus = sorted(lines["sku"].unique().to_list())
        first, last = lines["order_ts"].min(), lines["order_ts"].max()
        self.wb_stocks = [
            {
                "lastChangeDate": _msk(first),
                "warehouseName": w,
                "supplierArticle": s,
                "nmId": zlib.crc32(s.encode()) % 10**8,
                "quantity": int(rng.integers(0, 60)),
                "inWayToClient": int(rng.integers(0, 5)),
                "inWayFromClient": 0,
            }
            for s in skus
            for w in WB_WAREHOUSES
        ]
        self.ozon_stock = [
            {
                "sku": zlib.crc32(s.encode()) % 10**9,
                "item_code": s,
                "item_name": s,
                "warehouse_name": w,
                "free_to_sell_amount": int(rng.integers(0, 60)),
                "promised_amount": 0,
                "reserved_amount": int(rng.integers(0, 5)),
            }
            for s in skus
            for w in OZON_WAREHOUSES
        ]
        #: rows changed after this instant are not served yet (Moscow time text, as WB writes)
        self.clock = _msk(last + timedelta(days=2))
        self._listen(_handler(self), port)

    def set_clock(self, moment: datetime) -> None:
        """Serve only what changed up to ``moment`` (UTC or aware)."""
        self.clock = _msk(moment)

    def revoke(self) -> None:
        """The token is revoked: every later request answers 401."""
        self.revoked = True

    # -- answers ---------------------------------------------------------------------------

    def wb_page(self, kind: str, date_from: str) -> list[dict]:
        rows = {"orders": self.wb_orders, "sales": self.wb_sales, "stocks": self.wb_stocks}[kind]
        since = _parse_msk(date_from)
        fresh = [
            r
            for r in rows
            if _parse_msk(r["lastChangeDate"]) >= since
            and _parse_msk(r["lastChangeDate"]) <= _parse_msk(self.clock)
        ]
        return fresh[: self.page_size]

    def ozon_page(self, body: dict) -> dict:
        flt = body.get("filter") or {}
        since = datetime.fromisoformat(str(flt.get("since")).replace("Z", "+00:00"))
        to = datetime.fromisoformat(str(flt.get("to")).replace("Z", "+00:00"))
        until = min(to, _parse_msk(self.clock))
        chosen = [
            p
            for p in self.ozon_postings
            if since <= datetime.fromisoformat(p["in_process_at"].replace("Z", "+00:00")) <= until
        ]
        limit = min(int(body.get("limit", 1000)), self.page_size)
        offset = int(body.get("offset", 0))
        page = chosen[offset : offset + limit]
        return {"result": {"postings": page, "has_next": offset + limit < len(chosen)}}

    def ozon_stock_page(self, body: dict) -> dict:
        limit = min(int(body.get("limit", 100)), self.page_size)
        offset = int(body.get("offset", 0))
        return {"result": {"rows": self.ozon_stock[offset : offset + limit]}}


def _msk(moment) -> str:
    aware = moment if moment.tzinfo else moment.replace(tzinfo=ZoneInfo("UTC"))
    return aware.astimezone(MOSCOW).strftime("%Y-%m-%dT%H:%M:%S")


def _parse_msk(text: str) -> datetime:
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=MOSCOW)


def _wb_rows(lines: pl.DataFrame) -> tuple[list[dict], list[dict]]:
    orders, sales = [], []
    for r in lines.iter_rows(named=True):
        cancelled = r["status"] in ("canceled", "returned", "refunded")
        for unit in range(min(int(r["quantity"]), 50)):  # WB reports one unit per row
            srid = f"{r['order_id']}.{r['line']}.{unit}"
            placed = _msk(r["order_ts"])
            orders.append(
                {
                    "date": placed,
                    "lastChangeDate": placed,
                    "supplierArticle": r["sku"],
                    "warehouseName": WB_WAREHOUSES[zlib.crc32(srid.encode()) % 2],
                    "priceWithDisc": round(float(r["unit_price"]) * 100, 2),
                    "isCancel": cancelled,
                    "srid": srid,
                }
            )
            if not cancelled:
                sold = _msk(r["order_ts"] + timedelta(days=1))
                sales.append(
                    {
                        "date": sold,
                        "lastChangeDate": sold,
                        "supplierArticle": r["sku"],
                        "saleID": f"S{zlib.crc32(srid.encode())}",
                        "srid": srid,
                    }
                )
    sales.sort(key=lambda s: s["lastChangeDate"])
    return orders, sales


def _ozon_postings(lines: pl.DataFrame) -> list[dict]:
    postings = []
    for (order_id,), group in lines.group_by("order_id", maintain_order=True):
        first = group.row(0, named=True)
        status = (
            "cancelled" if first["status"] in ("canceled", "returned", "refunded") else "delivered"
        )
        postings.append(
            {
                "posting_number": f"{order_id}-0001-1",
                "order_id": zlib.crc32(str(order_id).encode()),
                "status": status,
                "in_process_at": first["order_ts"].strftime("%Y-%m-%dT%H:%M:%SZ"),
                "products": [
                    {
                        "offer_id": r["sku"],
                        "name": r["sku"],
                        "quantity": int(r["quantity"]),
                        "price": f"{float(r['unit_price']) * 100:.4f}",
                        "currency_code": "RUB",
                    }
                    for r in group.iter_rows(named=True)
                ],
            }
        )
    return postings


def _handler(server: SellerApiServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args) -> None:
            pass

        def _send(self, status: int, payload: object, route: str, fault: str | None = None) -> None:
            body = json.dumps(payload, ensure_ascii=False).encode()
            if fault == "truncate":
                body = body[: max(1, len(body) // 2)]
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            if status == 429:
                self.send_header("Retry-After", "1")
            self.end_headers()
            self.wfile.write(body)
            sent = tuple(
                h for h in ("Authorization", "Client-Id", "Api-Key") if self.headers.get(h)
            )
            server.hits.append((time.monotonic(), route, status, sent))

        def _gate(self, route: str, authorised: bool) -> str | None:
            """Answer a fault or a refusal; returns the fault to apply to a 200, if any."""
            fault = server._next_fault(route)
            if server.revoked or fault == "401" or not authorised:
                self._send(401, {"title": "unauthorized", "detail": "token invalid"}, route)
                return "done"
            if fault in ("429", "500", "503"):
                self._send(int(fault), {"title": "error"}, route)
                return "done"
            return fault

        def do_GET(self) -> None:  # noqa: N802
            parts = urlsplit(self.path)
            route = parts.path
            kind = route.rsplit("/", 1)[-1]
            if not route.startswith("/api/v1/supplier/") or kind not in (
                "orders",
                "sales",
                "stocks",
            ):
                self._send(404, {"title": "not found"}, route)
                return
            fault = self._gate(route, self.headers.get("Authorization") == server.wb_token)
            if fault == "done":
                return
            date_from = parse_qs(parts.query).get("dateFrom", ["2000-01-01T00:00:00"])[0]
            self._send(200, server.wb_page(kind, date_from), route, fault)

        def do_POST(self) -> None:  # noqa: N802
            route = urlsplit(self.path).path
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            ok = (
                self.headers.get("Client-Id") == server.ozon_client
                and self.headers.get("Api-Key") == server.ozon_key
            )
            if route not in ("/v3/posting/fbs/list", "/v2/analytics/stock_on_warehouses"):
                self._send(404, {"message": "not found"}, route)
                return
            fault = self._gate(route, ok)
            if fault == "done":
                return
            if route == "/v3/posting/fbs/list":
                self._send(200, server.ozon_page(body), route, fault)
            else:
                self._send(200, server.ozon_stock_page(body), route, fault)

    return Handler
