"""Marketplace seller APIs (Wildberries- and Ozon-style): orders, sales and warehouse stock.

Two shapes, as those marketplaces publish them:

* **statistics API** (Wildberries, ``statistics-api``): ``GET /api/v1/supplier/orders``,
  ``/sales`` and ``/stocks`` with ``dateFrom`` (RFC 3339, Moscow time); each answer is a JSON
  array of rows changed after ``dateFrom``, oldest first, at most a page of them; the next page
  asks again from the last row's ``lastChangeDate``; an empty array ends it. Token in the
  ``Authorization`` header. Orders carry ``srid`` (the order line's id), ``supplierArticle``
  (the seller's SKU), ``priceWithDisc``, ``isCancel``; sales carry ``saleID`` (``S...`` a sale,
  ``R...`` a return); stocks ``warehouseName``, ``quantity``, ``inWayToClient``.
* **seller API** (Ozon, ``api-seller``): ``POST /v3/posting/fbs/list`` with
  ``filter.since/to``, ``limit`` and ``offset`` -> ``result.postings[]`` (``posting_number``,
  ``status``, ``in_process_at``, ``products[]`` with ``offer_id``, ``quantity``, ``price`` as
  text, ``currency_code``) and ``result.has_next``; ``POST /v2/analytics/stock_on_warehouses``
  with ``limit``/``offset`` -> ``result.rows[]`` (``item_code``, ``warehouse_name``,
  ``free_to_sell_amount``, ``reserved_amount``). Credentials in ``Client-Id`` and ``Api-Key``
  (the source's token is ``<client id>:<api key>``).

Both map onto the canonical ``orders`` and ``stock`` tables (text cells with lineage: the URL
as ``_source_file``, the row's position as ``_source_row``). A watermark (the newest change
seen) is returned with each pull; the job stores it only after the rows have landed, so a
failed run reads them again.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from stockroom.errors import InputError, InputProblem
from stockroom.ingest.http import Fetcher
from stockroom.tables import SOURCE_FILE, SOURCE_ROW

KINDS = ("wildberries", "ozon")
#: Ozon posting statuses -> canonical order statuses
OZON_STATUS = {
    "awaiting_registration": "created",
    "acceptance_in_progress": "created",
    "awaiting_approve": "created",
    "awaiting_packaging": "processing",
    "awaiting_deliver": "processing",
    "arbitration": "processing",
    "driver_pickup": "shipped",
    "delivering": "shipped",
    "delivered": "delivered",
    "cancelled": "canceled",
    "not_accepted": "canceled",
}
MOSCOW = "Europe/Moscow"


@dataclass
class Pulled:
    """Canonical text frames from one pull and the watermark to store once they landed."""

    orders: pl.DataFrame
    stock: pl.DataFrame
    watermark: str | None
    pages: int


def headers(kind: str, token: str | None) -> dict[str, str]:
    """The credential headers of ``kind`` for ``token`` (None: none sent)."""
    if not token:
        return {}
    if kind == "wildberries":
        return {"Authorization": token}
    client_id, _, api_key = token.partition(":")
    if not api_key:
        raise ValueError("an Ozon token is '<Client-Id>:<Api-Key>'")
    return {"Client-Id": client_id, "Api-Key": api_key}


def _rows_frame(rows: list[dict], url: str, columns: dict[str, pl.Expr]) -> pl.DataFrame:
    frame = pl.DataFrame(rows, infer_schema_length=None) if rows else pl.DataFrame()
    if not rows:
        return pl.DataFrame(
            schema={
                **dict.fromkeys(columns, pl.String),
                SOURCE_FILE: pl.String,
                SOURCE_ROW: pl.Int64,
            }
        )
    return frame.with_row_index(SOURCE_ROW, offset=1).select(
        *[expr.alias(name) for name, expr in columns.items()],
        pl.lit(url).alias(SOURCE_FILE),
        pl.col(SOURCE_ROW).cast(pl.Int64),
    )


def _field(name: str) -> pl.Expr:
    return pl.col(name).cast(pl.String)


def _stock_columns(
    platform: str, warehouse: str, sku: str, *, on_hand: tuple[str, ...], reserved: str | None
) -> dict[str, pl.Expr]:
    """Canonical ``stock`` text columns of a marketplace's warehouse rows: location
    ``<platform>:<warehouse>``, on hand = the first ``on_hand`` field plus the others (missing
    ones count 0; a missing first one stays missing and is quarantined), in RUB."""
    total = pl.sum_horizontal(
        [pl.col(f).cast(pl.Int64, strict=False).fill_null(0) for f in on_hand]
    )
    return {
        "seller_id": pl.lit("own"),
        "location": pl.concat_str(pl.lit(f"{platform}:"), _field(warehouse)),
        "sku": _field(sku),
        "on_hand": total.cast(pl.String),
        "reserved": _field(reserved) if reserved else pl.lit("0"),
        "unit_cost": pl.lit(None, pl.String),
        "currency": pl.lit("RUB"),
    }


def _require(rows: list[dict], fields: tuple[str, ...], url: str) -> None:
    for i, row in enumerate(rows, start=1):
        if not isinstance(row, dict):
            raise InputError([InputProblem(url, i, None, "not a JSON object")])
        missing = [f for f in fields if f not in row]
        if missing:
            raise InputError(
                [
                    InputProblem(url, i, f, "missing field (the API's shape changed?)")
                    for f in missing
                ]
            )


# -- statistics API (Wildberries style) -----------------------------------------------------------


def _wb_pages(
    fetcher: Fetcher, url: str, since: str, fields: tuple[str, ...]
) -> tuple[list[dict], int]:
    rows: list[dict] = []
    seen: set[str] = set()
    cursor, pages = since, 0
    while True:
        page = fetcher.get_json(url, params={"dateFrom": cursor, "flag": 0})
        pages += 1
        if not isinstance(page, list):
            raise InputError([InputProblem(url, None, None, "expected a JSON array of rows")])
        _require(page, fields, url)
        new = [r for r in page if _wb_key(r) not in seen]
        if not new:
            return rows, pages
        rows.extend(new)
        seen.update(_wb_key(r) for r in new)
        cursor = max(str(r["lastChangeDate"]) for r in page)


def _wb_key(row: dict) -> str:
    return "|".join(
        str(row.get(k))
        for k in ("srid", "saleID", "warehouseName", "supplierArticle", "lastChangeDate")
    )


def wildberries(fetcher: Fetcher, base_url: str, since: str) -> Pulled:
    """Orders, sales and stocks changed after ``since`` (``YYYY-MM-DDTHH:MM:SS``, Moscow time).

    Orders: one canonical line per ``srid`` (WB reports one unit per order row): ``order_ts``
    = ``date`` (Moscow time -> UTC), price ``priceWithDisc`` in RUB, status ``canceled`` when
    ``isCancel``, ``delivered`` when a sale of the same ``srid`` came in this pull, ``returned``
    when a return did, else ``created``. Stock: one row per (warehouse, SKU) with ``on_hand`` =
    ``quantity`` + ``inWayToClient`` and ``reserved`` = ``inWayToClient``, location
    ``wildberries:<warehouseName>``. The watermark is the newest ``lastChangeDate`` seen.
    Raises :class:`InputError` naming the URL and row of a row missing a field.
    """
    base = base_url.rstrip("/") + "/api/v1/supplier/"
    order_fields = (
        "srid",
        "date",
        "lastChangeDate",
        "supplierArticle",
        "priceWithDisc",
        "isCancel",
    )
    orders, p1 = _wb_pages(fetcher, base + "orders", since, order_fields)
    sales, p2 = _wb_pages(fetcher, base + "sales", since, ("srid", "saleID", "lastChangeDate"))
    stocks, p3 = _wb_pages(
        fetcher,
        base + "stocks",
        since,
        ("lastChangeDate", "warehouseName", "supplierArticle", "quantity"),
    )
    outcome = {}
    for s in sorted(sales, key=lambda r: str(r["lastChangeDate"])):
        outcome[str(s["srid"])] = "returned" if str(s["saleID"]).startswith("R") else "delivered"
    status = pl.DataFrame(
        {"srid": list(outcome), "_outcome": list(outcome.values())},
        schema={"srid": pl.String, "_outcome": pl.String},
    )
    order_frame = (
        pl.DataFrame(orders, infer_schema_length=None).with_columns(pl.col("srid").cast(pl.String))
        if orders
        else None
    )
    if order_frame is not None:
        order_frame = order_frame.join(status, on="srid", how="left")
        cols = {
            "order_ts": pl.col("date")
            .cast(pl.String)
            .str.replace(r"(\.\d+)?$", "")
            .str.to_datetime("%Y-%m-%dT%H:%M:%S", strict=False)
            .dt.replace_time_zone(MOSCOW)
            .dt.convert_time_zone("UTC")
            .dt.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "platform": pl.lit("wildberries"),
            "order_id": _field("srid"),
            "line": pl.lit("1"),
            "seller_id": pl.lit("own"),
            "sku": _field("supplierArticle"),
            "quantity": pl.lit("1"),
            "unit_price": _field("priceWithDisc"),
            "freight": pl.lit(None, pl.String),
            "currency": pl.lit("RUB"),
            "status": pl.when(pl.col("isCancel").cast(pl.Boolean, strict=False))
            .then(pl.lit("canceled"))
            .otherwise(pl.coalesce(pl.col("_outcome"), pl.lit("created"))),
        }
        order_rows = _rows_frame(order_frame.to_dicts(), base + "orders", cols)
    else:
        order_rows = _rows_frame([], base + "orders", _ORDER_COLUMNS)
    in_way = bool(stocks) and "inWayToClient" in stocks[0]
    stock_cols = _stock_columns(
        "wildberries",
        "warehouseName",
        "supplierArticle",
        on_hand=("quantity", "inWayToClient") if in_way else ("quantity",),
        reserved="inWayToClient" if in_way else None,
    )
    # the newest row per (warehouse, SKU): a pull may see one item change twice
    latest = {}
    for r in sorted(stocks, key=lambda r: str(r["lastChangeDate"])):
        latest[(r["warehouseName"], r["supplierArticle"])] = r
    stock_rows = _rows_frame(list(latest.values()), base + "stocks", stock_cols)
    marks = [str(r["lastChangeDate"]) for r in (*orders, *sales, *stocks)]
    return Pulled(order_rows, stock_rows, max(marks) if marks else None, p1 + p2 + p3)


_ORDER_COLUMNS = dict.fromkeys(
    ("order_ts", "platform", "order_id", "line", "seller_id", "sku", "quantity", "unit_price",
     "freight", "currency", "status"),
    pl.lit(None, pl.String),
)  # fmt: skip


# -- seller API (Ozon style) ---------------------------------------------------------------


def ozon(fetcher: Fetcher, base_url: str, since: str, to: str, page_size: int = 1000) -> Pulled:
    """FBS postings processed from ``since`` to ``to`` (RFC 3339, UTC) and the stock on
    Ozon's warehouses. One canonical line per (posting, product): ``order_id`` =
    ``posting_number``, ``line`` = the product's position, ``sku`` = ``offer_id``, status by
    :data:`OZON_STATUS`. Stock: ``on_hand`` = free to sell + reserved, ``reserved`` =
    ``reserved_amount``, location ``ozon:<warehouse_name>``. The watermark is the newest
    ``in_process_at`` seen. Raises :class:`InputError` for a posting missing a field."""
    base = base_url.rstrip("/")
    url = base + "/v3/posting/fbs/list"
    lines: list[dict] = []
    offset, pages, newest = 0, 0, None
    while True:
        body = {
            "dir": "ASC",
            "filter": {"since": since, "to": to},
            "limit": page_size,
            "offset": offset,
        }
        answer = fetcher.post_json(url, body)
        pages += 1
        result = answer.get("result") if isinstance(answer, dict) else None
        if not isinstance(result, dict) or not isinstance(result.get("postings"), list):
            raise InputError(
                [InputProblem(url, None, "result.postings", "missing (the API's shape changed?)")]
            )
        postings = result["postings"]
        _require(postings, ("posting_number", "status", "in_process_at", "products"), url)
        for posting in postings:
            newest = max(newest or "", str(posting["in_process_at"]))
            for n, product in enumerate(posting["products"], start=1):
                lines.append(
                    {
                        "order_ts": str(posting["in_process_at"]),
                        "order_id": str(posting["posting_number"]),
                        "line": str(n),
                        "sku": product.get("offer_id"),
                        "quantity": str(product.get("quantity")),
                        "unit_price": str(product.get("price")),
                        "currency": product.get("currency_code") or "RUB",
                        "status": OZON_STATUS.get(str(posting["status"]), "processing"),
                    }
                )
        offset += len(postings)
        if not result.get("has_next") or not postings:
            break
    cols = {
        "order_ts": _field("order_ts"),
        "platform": pl.lit("ozon"),
        "order_id": _field("order_id"),
        "line": _field("line"),
        "seller_id": pl.lit("own"),
        "sku": _field("sku"),
        "quantity": _field("quantity"),
        "unit_price": _field("unit_price"),
        "freight": pl.lit(None, pl.String),
        "currency": _field("currency"),
        "status": _field("status"),
    }
    order_rows = _rows_frame(lines, url, cols) if lines else _rows_frame([], url, _ORDER_COLUMNS)
    stock_url = base + "/v2/analytics/stock_on_warehouses"
    rows, offset = [], 0
    while True:
        answer = fetcher.post_json(
            stock_url, {"limit": page_size, "offset": offset, "warehouse_type": "ALL"}
        )
        pages += 1
        page = (answer.get("result") or {}).get("rows") if isinstance(answer, dict) else None
        if not isinstance(page, list):
            raise InputError(
                [InputProblem(stock_url, None, "result.rows", "missing (the API's shape changed?)")]
            )
        _require(
            page,
            ("item_code", "warehouse_name", "free_to_sell_amount", "reserved_amount"),
            stock_url,
        )
        rows.extend(page)
        offset += len(page)
        if len(page) < page_size:
            break
    stock_cols = _stock_columns(
        "ozon",
        "warehouse_name",
        "item_code",
        on_hand=("free_to_sell_amount", "reserved_amount"),
        reserved="reserved_amount",
    )
    return Pulled(order_rows, _rows_frame(rows, stock_url, stock_cols), newest, pages)
