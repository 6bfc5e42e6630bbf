"""Resale state in the workbench database: lots and their items, listings and sales, price
history; every change audited (``audit_log``: who, when, old -> new, why).

Writes are all-or-nothing: a batch with one bad row raises :class:`InputError` naming the
file, row and column, and nothing is stored. Items are never deleted, only marked
(``deleted_at``); price history is append-only (the database refuses UPDATE and DELETE).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl
import sqlalchemy as sa

from stockroom import audit, store
from stockroom.errors import InputError, InputProblem
from stockroom.resale import costs
from stockroom.tables import RESALE_ITEMS, RESALE_LISTINGS, RESALE_LOTS, SOURCE_FILE, SOURCE_ROW
from stockroom.workbench import (
    resale_invoices,
    resale_items,
    resale_listings,
    resale_lots,
    resale_price_history,
)

#: item fields a person may edit with :func:`update_item` (money goes through the price setters)
EDITABLE = (
    "name",
    "description",
    "category",
    "subcategory",
    "condition",
    "brand",
    "model",
    "size",
    "location",
    "bin",
    "needs_repair",
    "consignment",
    "returned",
    "keywords",
    "notes",
)
_ITEM_FROM_LOT = (
    "name",
    "description",
    "category",
    "subcategory",
    "condition",
    "brand",
    "model",
    "size",
    "location",
    "bin",
    "estimated_value",
    "keywords",
    "notes",
)
_BATCH = 5_000


def _now() -> datetime:
    return datetime.now(UTC)


def _where(frame: pl.DataFrame, idx: int, default: str) -> tuple[str, int]:
    """(file, row) of the frame's row ``idx`` from its lineage columns, else (default, idx+1)."""
    file = str(frame[SOURCE_FILE][idx]) if SOURCE_FILE in frame.columns else default
    row = int(frame[SOURCE_ROW][idx]) if SOURCE_ROW in frame.columns else idx + 1
    return file, row


def _require(actor: str, reason: str | None = None, need_reason: bool = False) -> None:
    if not str(actor or "").strip():
        raise ValueError("a change needs the person or job that makes it (actor)")
    if need_reason and not str(reason or "").strip():
        raise ValueError("a price change needs a reason")


# -- lots and items ----------------------------------------------------------------------------


def item_ids(lot_id: str, quantity: int) -> list[str]:
    """The ids of a lot's items: the lot id itself for one piece, ``lot_id-1`` ... otherwise."""
    return [lot_id] if quantity == 1 else [f"{lot_id}-{n}" for n in range(1, quantity + 1)]


def add_lots(
    eng: sa.Engine,
    lots: pl.DataFrame,
    *,
    actor: str,
    reason: str,
    invoice: dict | None = None,
    source: str | None = None,
) -> dict[str, int]:
    """Store acquisitions and their items, audited; returns ``{"lots", "items", "skipped"}``.

    ``lots``: the :data:`stockroom.tables.RESALE_LOTS` columns (premium, tax and shipping per
    lot; lineage columns ``_source_file``/``_source_row`` name the rows in errors). Each lot of
    quantity n gives n items of cost total / n (:mod:`stockroom.resale.costs`). ``invoice``
    (the ``resale_invoices`` row, with ``sha256``) is stored with its lots in one transaction.

    Idempotent: a lot already stored with the same values is skipped; one stored with other
    values raises :class:`InputError` (edit the stored lot instead). Raises
    :class:`InputError` for bad cells (negative amounts, no name, quantity < 1, ...) naming
    the file, row and column; nothing is stored then.
    """
    _require(actor)
    label = source or (invoice or {}).get("source_file") or "lots"
    # conform validates with the lineage columns and sorts by lot id: keep a copy of them
    lineage = {c: f"_keep{c}" for c in (SOURCE_FILE, SOURCE_ROW) if c in lots.columns}
    typed = RESALE_LOTS.conform(
        lots.with_columns(pl.col(c).alias(k) for c, k in lineage.items()),
        keep=tuple(lineage.values()),
    ).rename({k: c for c, k in lineage.items()})
    now = _now()
    with eng.begin() as conn:
        stored = _stored_lots(conn, typed["lot_id"].to_list())
        lot_rows, item_rows, problems, skipped = [], [], [], 0
        for idx, lot in enumerate(typed.iter_rows(named=True)):
            row = _lot_row(lot, invoice, label, actor, now)
            old = stored.get(lot["lot_id"])
            if old is not None:
                changed = [k for k in _COMPARE if _differs(old[k], row[k])]
                if not changed:
                    skipped += 1
                    continue
                file, line = _where(typed, idx, label)
                problems.append(
                    InputProblem(
                        file,
                        line,
                        changed[0],
                        f"lot {lot['lot_id']} is already stored with another {changed[0]}; "
                        "edit the stored lot instead",
                        str(row[changed[0]]),
                    )
                )
                continue
            lot_rows.append(row)
            shares = costs.split_items(row["total_cost"], lot["quantity"])
            for item_id, cost in zip(item_ids(lot["lot_id"], lot["quantity"]), shares, strict=True):
                item_rows.append(
                    {
                        "item_id": item_id,
                        "lot_id": lot["lot_id"],
                        **{k: lot[k] for k in _ITEM_FROM_LOT},
                        "acquired_on": lot["acquired_on"],
                        "cost": float(cost),
                        "currency": lot["currency"],
                        "needs_repair": False,
                        "consignment": False,
                        "returned": False,
                        "created_at": now,
                        "updated_at": now,
                    }
                )
        if problems:
            raise InputError(problems)
        if invoice is not None and lot_rows:
            conn.execute(resale_invoices.insert().values(**invoice))
        for start in range(0, len(lot_rows), _BATCH):
            conn.execute(resale_lots.insert(), lot_rows[start : start + _BATCH])
        for start in range(0, len(item_rows), _BATCH):
            conn.execute(resale_items.insert(), item_rows[start : start + _BATCH])
        values = [
            {"item_id": r["item_id"], "new_value": r["estimated_value"]}
            for r in item_rows
            if r["estimated_value"] is not None
        ]
        _history(conn, values, "estimated_value", None, actor, reason or "acquired", now, item_rows)
        if lot_rows:
            audit.append(
                conn,
                [
                    audit.entry(
                        actor,
                        "resale_lots",
                        (invoice or {}).get("invoice_key") or label,
                        None,
                        {
                            "lots": len(lot_rows),
                            "items": len(item_rows),
                            "first_lot": lot_rows[0]["lot_id"],
                            "last_lot": lot_rows[-1]["lot_id"],
                            "total_cost": round(sum(r["total_cost"] for r in lot_rows), 2),
                        },
                        reason,
                    )
                ],
            )
    return {"lots": len(lot_rows), "items": len(item_rows), "skipped": skipped}


_COMPARE = (
    "acquired_on",
    "name",
    "quantity",
    "hammer",
    "premium",
    "tax",
    "shipping",
    "currency",
)


def _differs(a: object, b: object) -> bool:
    if isinstance(a, float | int) and isinstance(b, float | int):
        return abs(float(a) - float(b)) > 0.005
    return a != b


def _lot_row(lot: dict, invoice: dict | None, source: str, actor: str, now: datetime) -> dict:
    amounts = {k: costs.cents(lot[k]) for k in ("hammer", "premium", "tax", "shipping")}
    return {
        "lot_id": lot["lot_id"],
        "invoice_key": (invoice or {}).get("invoice_key"),
        **{k: lot[k] for k in ("auction_house", "auction_id", "lot_number", "acquired_on")},
        **{k: lot[k] for k in ("name", "description", "category", "subcategory", "condition")},
        "quantity": lot["quantity"],
        **{k: float(v) for k, v in amounts.items()},
        "total_cost": float(sum(amounts.values())),
        "currency": lot["currency"],
        "source": source,
        "created_by": actor,
        "created_at": now,
    }


def _stored_lots(conn: sa.Connection, lot_ids: list[str]) -> dict[str, dict]:
    out = {}
    for start in range(0, len(lot_ids), _BATCH):
        chunk = lot_ids[start : start + _BATCH]
        for r in conn.execute(sa.select(resale_lots).where(resale_lots.c.lot_id.in_(chunk))):
            out[r.lot_id] = dict(r._mapping)
    return out


def invoice_by_sha(eng: sa.Engine, sha256: str) -> dict | None:
    """The stored invoice imported from a file with this sha256, or None."""
    with eng.connect() as conn:
        row = conn.execute(
            sa.select(resale_invoices).where(resale_invoices.c.sha256 == sha256)
        ).first()
    return None if row is None else dict(row._mapping)


def _history(
    conn: sa.Connection,
    changes: list[dict],
    field: str,
    listing: dict | None,
    actor: str,
    reason: str,
    now: datetime,
    items: list[dict],
) -> None:
    """Append price-history rows (item_id, old_value, new_value[, listing_id]) for ``field``."""
    if not changes:
        return
    currency = {r["item_id"]: r["currency"] for r in items}
    rows = [
        {
            "item_id": c["item_id"],
            "listing_id": c.get("listing_id", (listing or {}).get("listing_id")),
            "field": field,
            "old_value": c.get("old_value"),
            "new_value": c["new_value"],
            "currency": c.get("currency") or currency[c["item_id"]],
            "changed_at": now,
            "actor": actor,
            "reason": reason,
        }
        for c in changes
    ]
    for start in range(0, len(rows), _BATCH):
        conn.execute(resale_price_history.insert(), rows[start : start + _BATCH])


def _item(conn: sa.Connection, item_id: str) -> dict:
    row = conn.execute(sa.select(resale_items).where(resale_items.c.item_id == item_id)).first()
    if row is None or row.deleted_at is not None:
        raise KeyError(f"no item {item_id!r}" + (" (deleted)" if row is not None else ""))
    return dict(row._mapping)


def update_item(eng: sa.Engine, item_id: str, changes: dict, *, actor: str, reason: str) -> dict:
    """Change an item's :data:`EDITABLE` fields (location, bin, flags, notes, ...), audited;
    returns the changed fields' new values. Raises ``KeyError`` for an unknown or deleted item,
    ``ValueError`` for a field that is not editable here."""
    _require(actor)
    bad = [k for k in changes if k not in EDITABLE]
    if bad:
        raise ValueError(f"not editable here: {', '.join(bad)} (editable: {', '.join(EDITABLE)})")
    with eng.begin() as conn:
        old = _item(conn, item_id)
        diff = {k: v for k, v in changes.items() if old[k] != v}
        if not diff:
            return {}
        conn.execute(
            resale_items.update()
            .where(resale_items.c.item_id == item_id)
            .values(**diff, updated_at=_now())
        )
        audit.append(
            conn,
            [audit.entry(actor, "resale_item", item_id, {k: old[k] for k in diff}, diff, reason)],
        )
    return diff


def delete_item(
    eng: sa.Engine, item_id: str, *, actor: str, reason: str, restore: bool = False
) -> None:
    """Mark an item deleted (or restore it), audited; the row and its history stay. Raises
    ``KeyError`` for an unknown item."""
    _require(actor)
    with eng.begin() as conn:
        row = conn.execute(
            sa.select(resale_items.c.deleted_at).where(resale_items.c.item_id == item_id)
        ).first()
        if row is None:
            raise KeyError(f"no item {item_id!r}")
        when = None if restore else _now()
        conn.execute(
            resale_items.update().where(resale_items.c.item_id == item_id).values(deleted_at=when)
        )
        audit.append(
            conn,
            [
                audit.entry(
                    actor,
                    "resale_item",
                    item_id,
                    {"deleted_at": row.deleted_at},
                    {"deleted_at": when},
                    reason,
                )
            ],
        )


def set_estimated_value(
    eng: sa.Engine, item_id: str, value: float, *, actor: str, reason: str
) -> None:
    """Set an item's estimated value (>= 0, in its currency): price history and audit rows.
    Raises ``ValueError`` for a negative value or no reason, ``KeyError`` for no such item."""
    _require(actor, reason, need_reason=True)
    if value is None or value < 0:
        raise ValueError(f"estimated value must be >= 0, not {value}")
    value = float(costs.cents(value))
    with eng.begin() as conn:
        item = _item(conn, item_id)
        if item["estimated_value"] == value:
            return
        conn.execute(
            resale_items.update()
            .where(resale_items.c.item_id == item_id)
            .values(estimated_value=value, updated_at=_now())
        )
        change = {"item_id": item_id, "old_value": item["estimated_value"], "new_value": value}
        _history(conn, [change], "estimated_value", None, actor, reason, _now(), [item])
        audit.append(
            conn,
            [
                audit.entry(
                    actor,
                    "resale_item",
                    item_id,
                    {"estimated_value": item["estimated_value"]},
                    {"estimated_value": value},
                    reason,
                )
            ],
        )


# -- listings and sales --------------------------------------------------------------------------

_LISTING_IN = ("item_id", "platform", "list_price", "listed_on")
_SALE_IN = ("item_id", "platform", "sold_on", "sold_price")
_SALE_OPTIONAL = ("platform_fees", "buyer_shipping", "actual_shipping")


def _missing(frame: pl.DataFrame, needed: Iterable[str], label: str) -> None:
    gone = [c for c in needed if c not in frame.columns]
    if gone:
        raise InputError([InputProblem(label, None, c, "missing column") for c in gone])


def _cast(frame: pl.DataFrame, label: str, spec: dict[str, pl.DataType]) -> pl.DataFrame:
    """``frame`` with ``spec``'s columns cast; raises InputError naming the first bad cells."""
    problems = []
    out = []
    for name, dtype in spec.items():
        if name not in frame.columns:
            out.append(pl.lit(None, dtype).alias(name))
            continue
        src = frame[name]
        cast = src.cast(dtype, strict=False) if src.dtype != dtype else src
        bad = cast.is_null() & src.is_not_null()
        if dtype == pl.Float64:
            bad = bad | (cast < 0).fill_null(False)
        for idx in bad.arg_true().head(20).to_list():
            file, row = _where(frame, idx, label)
            reason = "must be a number >= 0" if dtype == pl.Float64 else f"cannot read as {dtype}"
            problems.append(InputProblem(file, row, name, reason, str(src[idx])))
        out.append(cast)
    if problems:
        raise InputError(problems)
    return frame.with_columns(out)


def add_listings(
    eng: sa.Engine, listings: pl.DataFrame, *, actor: str, reason: str, source: str = "listings"
) -> int:
    """List items on platforms, audited; returns how many listings were stored.

    ``listings``: item_id, platform, list_price (>= 0), listed_on (date); optional currency
    (default the item's), status (``listed`` or ``not_listed``), external_id. Raises
    :class:`InputError` naming file, row and column for an unknown or deleted item, a listing
    day before the item was acquired, or a second active listing of one item on one
    platform; nothing is stored then.
    """
    _require(actor)
    _missing(listings, _LISTING_IN, source)
    frame = _cast(
        listings,
        source,
        {
            "list_price": pl.Float64,
            "listed_on": pl.Date,
            "item_id": pl.String,
            "platform": pl.String,
        },
    )
    now = _now()
    with eng.begin() as conn:
        items = _items_of(conn, frame["item_id"].unique().to_list())
        active = _active(conn, frame["item_id"].unique().to_list())
        rows, problems = [], []
        for idx, r in enumerate(frame.iter_rows(named=True)):
            file, line = _where(frame, idx, source)
            item = items.get(r["item_id"])
            status = r.get("status") or "listed"
            platform = str(r["platform"] or "").strip().lower()
            if item is None:
                problems.append(InputProblem(file, line, "item_id", "no such item", r["item_id"]))
            elif not platform:
                problems.append(InputProblem(file, line, "platform", "missing platform"))
            elif status not in ("listed", "not_listed"):
                problems.append(
                    InputProblem(
                        file, line, "status", "a new listing is listed or not_listed", status
                    )
                )
            elif r["listed_on"] is not None and r["listed_on"] < item["acquired_on"]:
                problems.append(
                    InputProblem(
                        file,
                        line,
                        "listed_on",
                        f"listed before the item was acquired ({item['acquired_on']})",
                        str(r["listed_on"]),
                    )
                )
            elif status == "listed" and (r["item_id"], platform) in active:
                problems.append(
                    InputProblem(
                        file,
                        line,
                        "platform",
                        f"item {r['item_id']} already has an active listing on {platform}",
                        platform,
                    )
                )
            else:
                if status == "listed":
                    active.add((r["item_id"], platform))
                rows.append(
                    {
                        "item_id": r["item_id"],
                        "platform": platform,
                        "status": status,
                        "list_price": None
                        if r["list_price"] is None
                        else float(costs.cents(r["list_price"])),
                        "listed_on": r["listed_on"],
                        "currency": r.get("currency") or item["currency"],
                        "external_id": r.get("external_id"),
                        "created_at": now,
                        "updated_at": now,
                    }
                )
        if problems:
            raise InputError(problems)
        ids = _insert_listings(conn, rows)
        changes = [
            {
                "item_id": r["item_id"],
                "listing_id": lid,
                "new_value": r["list_price"],
                "currency": r["currency"],
            }
            for r, lid in zip(rows, ids, strict=True)
            if r["list_price"] is not None
        ]
        _history(conn, changes, "list_price", None, actor, reason or "listed", now, rows)
        if rows:
            audit.append(
                conn,
                [
                    audit.entry(
                        actor,
                        "resale_listings",
                        source,
                        None,
                        {"listings": len(rows), "first": ids[0], "last": ids[-1]},
                        reason,
                    )
                ],
            )
    return len(rows)


def _insert_listings(conn: sa.Connection, rows: list[dict]) -> list[int]:
    """Insert listing rows, returning their ids in order (one INSERT ... RETURNING per batch)."""
    ids: list[int] = []
    for start in range(0, len(rows), _BATCH):
        chunk = rows[start : start + _BATCH]
        result = conn.execute(
            resale_listings.insert().returning(
                resale_listings.c.listing_id, sort_by_parameter_order=True
            ),
            chunk,
        )
        ids.extend(r[0] for r in result)
    return ids


def _items_of(conn: sa.Connection, item_ids: list[str]) -> dict[str, dict]:
    out = {}
    for start in range(0, len(item_ids), _BATCH):
        chunk = item_ids[start : start + _BATCH]
        q = sa.select(
            resale_items.c.item_id, resale_items.c.acquired_on, resale_items.c.currency
        ).where(resale_items.c.item_id.in_(chunk), resale_items.c.deleted_at.is_(None))
        out.update({r.item_id: dict(r._mapping) for r in conn.execute(q)})
    return out


def _active(conn: sa.Connection, item_ids: list[str]) -> set[tuple[str, str]]:
    out = set()
    for start in range(0, len(item_ids), _BATCH):
        chunk = item_ids[start : start + _BATCH]
        q = sa.select(resale_listings.c.item_id, resale_listings.c.platform).where(
            resale_listings.c.item_id.in_(chunk), resale_listings.c.status == "listed"
        )
        out.update((r.item_id, r.platform) for r in conn.execute(q))
    return out


def record_sales(
    eng: sa.Engine, sales: pl.DataFrame, *, actor: str, reason: str, source: str = "sales"
) -> int:
    """Mark listings sold, audited; returns how many sales were stored.

    ``sales``: item_id, platform, sold_on (date), sold_price (>= 0); optional platform_fees,
    buyer_shipping, actual_shipping (>= 0, default 0). The item's active listing on that
    platform becomes ``sold``; its active listings elsewhere are ended (``expired``, as a
    cross-lister delists a sold item). Raises :class:`InputError` naming file, row and column
    for a sale without an active listing on that platform, an item sold twice, a sale day
    before the acquisition or listing day, or a negative amount; nothing is stored then.
    """
    _require(actor)
    _missing(sales, _SALE_IN, source)
    frame = _cast(
        sales,
        source,
        {
            "item_id": pl.String,
            "platform": pl.String,
            "sold_on": pl.Date,
            "sold_price": pl.Float64,
            **dict.fromkeys(_SALE_OPTIONAL, pl.Float64),
        },
    )
    now = _now()
    with eng.begin() as conn:
        ids = frame["item_id"].unique().to_list()
        items = _items_of(conn, ids)
        listed = _listings_of(conn, ids)
        problems, updates, seen = [], [], set()
        for idx, r in enumerate(frame.iter_rows(named=True)):
            file, line = _where(frame, idx, source)
            platform = str(r["platform"] or "").strip().lower()
            item = items.get(r["item_id"])
            mine = listed.get(r["item_id"], [])
            live = [x for x in mine if x["platform"] == platform and x["status"] == "listed"]
            if item is None:
                problems.append(InputProblem(file, line, "item_id", "no such item", r["item_id"]))
            elif r["item_id"] in seen or any(x["status"] == "sold" for x in mine):
                problems.append(
                    InputProblem(file, line, "item_id", "item already sold", r["item_id"])
                )
            elif not live:
                problems.append(
                    InputProblem(
                        file,
                        line,
                        "platform",
                        f"a sale without a listing: item {r['item_id']} is not listed on "
                        f"{platform or '(no platform)'}",
                        platform,
                    )
                )
            elif r["sold_on"] is None or r["sold_price"] is None:
                col = "sold_on" if r["sold_on"] is None else "sold_price"
                problems.append(InputProblem(file, line, col, "missing"))
            elif r["sold_on"] < item["acquired_on"]:
                problems.append(
                    InputProblem(
                        file,
                        line,
                        "sold_on",
                        f"sold before the item was acquired ({item['acquired_on']})",
                        str(r["sold_on"]),
                    )
                )
            elif live[0]["listed_on"] is not None and r["sold_on"] < live[0]["listed_on"]:
                problems.append(
                    InputProblem(
                        file,
                        line,
                        "sold_on",
                        f"sold before it was listed ({live[0]['listed_on']})",
                        str(r["sold_on"]),
                    )
                )
            else:
                seen.add(r["item_id"])
                updates.append(
                    (
                        live[0]["listing_id"],
                        r["item_id"],
                        {
                            "status": "sold",
                            "sold_on": r["sold_on"],
                            "sold_price": float(costs.cents(r["sold_price"])),
                            **{k: float(costs.cents(r[k] or 0)) for k in _SALE_OPTIONAL},
                            "updated_at": now,
                        },
                    )
                )
        if problems:
            raise InputError(problems)
        lid = sa.bindparam("_lid")
        if updates:
            conn.execute(
                resale_listings.update()
                .where(resale_listings.c.listing_id == lid)
                .values({k: sa.bindparam(k) for k in updates[0][2]}),
                [{"_lid": u[0], **u[2]} for u in updates],
            )
            # the item's other live listings end on its sale day
            sold_on = sa.bindparam("_sold_on")
            conn.execute(
                resale_listings.update()
                .where(
                    resale_listings.c.item_id == sa.bindparam("_item"),
                    resale_listings.c.status == "listed",
                )
                .values(status="expired", ended_on=sold_on, updated_at=now),
                [{"_item": u[1], "_sold_on": u[2]["sold_on"]} for u in updates],
            )
            audit.append(
                conn,
                [
                    audit.entry(
                        actor,
                        "resale_sales",
                        source,
                        None,
                        {
                            "sales": len(updates),
                            "revenue": round(sum(u[2]["sold_price"] for u in updates), 2),
                        },
                        reason,
                    )
                ],
            )
    return len(updates)


def _listings_of(conn: sa.Connection, item_ids: list[str]) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for start in range(0, len(item_ids), _BATCH):
        chunk = item_ids[start : start + _BATCH]
        q = sa.select(resale_listings).where(resale_listings.c.item_id.in_(chunk))
        for r in conn.execute(q):
            out.setdefault(r.item_id, []).append(dict(r._mapping))
    return out


def set_list_price(
    eng: sa.Engine, item_id: str, platform: str, price: float, *, actor: str, reason: str
) -> None:
    """Change the list price of the item's active listing on ``platform`` (>= 0, in the
    listing's currency): price history and audit rows. Raises ``KeyError`` when the item has
    no active listing there, ``ValueError`` for a negative price or no reason."""
    _require(actor, reason, need_reason=True)
    if price is None or price < 0:
        raise ValueError(f"list price must be >= 0, not {price}")
    price = float(costs.cents(price))
    with eng.begin() as conn:
        row = conn.execute(
            sa.select(resale_listings).where(
                resale_listings.c.item_id == item_id,
                resale_listings.c.platform == platform,
                resale_listings.c.status == "listed",
            )
        ).first()
        if row is None:
            raise KeyError(f"item {item_id!r} has no active listing on {platform}")
        if row.list_price == price:
            return
        conn.execute(
            resale_listings.update()
            .where(resale_listings.c.listing_id == row.listing_id)
            .values(list_price=price, updated_at=_now())
        )
        change = {
            "item_id": item_id,
            "listing_id": row.listing_id,
            "old_value": row.list_price,
            "new_value": price,
            "currency": row.currency,
        }
        _history(conn, [change], "list_price", None, actor, reason, _now(), [])
        audit.append(
            conn,
            [
                audit.entry(
                    actor,
                    "resale_listing",
                    str(row.listing_id),
                    {"list_price": row.list_price},
                    {"list_price": price},
                    reason,
                )
            ],
        )


def end_listing(
    eng: sa.Engine,
    item_id: str,
    platform: str,
    *,
    actor: str,
    reason: str,
    day: date | None = None,
) -> None:
    """End (expire) the item's active listing on ``platform`` on ``day`` (default today),
    audited; ``KeyError`` if there is none."""
    _require(actor)
    with eng.begin() as conn:
        done = conn.execute(
            resale_listings.update()
            .where(
                resale_listings.c.item_id == item_id,
                resale_listings.c.platform == platform,
                resale_listings.c.status == "listed",
            )
            .values(status="expired", ended_on=day or _now().date(), updated_at=_now())
        )
        if done.rowcount == 0:
            raise KeyError(f"item {item_id!r} has no active listing on {platform}")
        audit.append(
            conn,
            [
                audit.entry(
                    actor,
                    "resale_listing",
                    f"{item_id}@{platform}",
                    {"status": "listed"},
                    {"status": "expired"},
                    reason,
                )
            ],
        )


# -- reading and the Parquet snapshot ------------------------------------------------------------


def items(eng: sa.Engine, *, deleted: bool = False) -> pl.DataFrame:
    """The items in :data:`stockroom.tables.RESALE_ITEMS` shape (deleted ones left out unless
    ``deleted``), with the lot's invoice_key and auction_house."""
    i, lot = resale_items, resale_lots
    cols = [c for c in RESALE_ITEMS.column_names if c not in ("invoice_key", "auction_house")]
    q = sa.select(*[i.c[c] for c in cols], lot.c.invoice_key, lot.c.auction_house).join(
        lot, lot.c.lot_id == i.c.lot_id
    )
    if not deleted:
        q = q.where(i.c.deleted_at.is_(None))
    with eng.connect() as conn:
        frame = pl.read_database(
            q.order_by(i.c.item_id), conn, schema_overrides=RESALE_ITEMS.polars_schema
        )
    return frame.select(RESALE_ITEMS.column_names).cast(dict(RESALE_ITEMS.polars_schema))


def listings(eng: sa.Engine) -> pl.DataFrame:
    """Every listing of a live item in :data:`stockroom.tables.RESALE_LISTINGS` shape."""
    q = (
        sa.select(*[resale_listings.c[c] for c in RESALE_LISTINGS.column_names])
        .join(resale_items, resale_items.c.item_id == resale_listings.c.item_id)
        .where(resale_items.c.deleted_at.is_(None))
        .order_by(resale_listings.c.listing_id)
    )
    with eng.connect() as conn:
        frame = pl.read_database(q, conn, schema_overrides=RESALE_LISTINGS.polars_schema)
    return frame.select(RESALE_LISTINGS.column_names).cast(dict(RESALE_LISTINGS.polars_schema))


def price_history(eng: sa.Engine, item_id: str) -> pl.DataFrame:
    """One item's price history, oldest first: changed_at (UTC), field (list_price /
    estimated_value), platform (for list prices), old_value, new_value, currency, actor,
    reason."""
    h, li = resale_price_history, resale_listings
    q = (
        sa.select(
            h.c.changed_at,
            h.c.field,
            li.c.platform,
            h.c.old_value,
            h.c.new_value,
            h.c.currency,
            h.c.actor,
            h.c.reason,
        )
        .outerjoin(li, li.c.listing_id == h.c.listing_id)
        .where(h.c.item_id == item_id)
        .order_by(h.c.id)
    )
    schema = {
        "changed_at": pl.Datetime("us", "UTC"),
        "field": pl.String,
        "platform": pl.String,
        "old_value": pl.Float64,
        "new_value": pl.Float64,
        "currency": pl.String,
        "actor": pl.String,
        "reason": pl.String,
    }
    with eng.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(q)]
    for r in rows:
        if r["changed_at"].tzinfo is None:
            r["changed_at"] = r["changed_at"].replace(tzinfo=UTC)
    return pl.DataFrame(rows, schema=schema)


def snapshot(root: Path, eng: sa.Engine, day: date, *, run_id: str) -> dict[str, int]:
    """Export the live items and their listings as the ``resale_items`` and
    ``resale_listings`` snapshots of ``day`` (one atomic commit for both); returns rows per
    table."""
    frames = {"resale_items": items(eng), "resale_listings": listings(eng)}
    batches = [store.prepare(name, {day: frame}) for name, frame in frames.items()]
    store.commit_all(root, batches, run_id=run_id, sources=[])
    return {name: frame.height for name, frame in frames.items()}


def export_today(root: Path, eng: sa.Engine) -> dict[str, int]:
    """:func:`snapshot` of today (UTC) under a new run id: what an edit on the page calls so
    the book shows it."""
    return snapshot(root, eng, _now().date(), run_id=store.new_run_id("resale-edit"))
