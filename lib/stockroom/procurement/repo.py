"""Procurement state in the workbench database: purchase orders and replenishment settings,
every change audited in ``audit_log`` (who, when, old -> new, why).

Settings resolve per SKU: the SKU's own row, else its supplier's, else its platform's, else
the ``default`` row, else :data:`DEFAULTS` -- field by field, so a SKU can override only its
MOQ and inherit the rest.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import sqlalchemy as sa
import tenacity

from stockroom import audit
from stockroom.errors import InputError, InputProblem
from stockroom.ingest import tabular
from stockroom.mapping.repo import _audit
from stockroom.workbench import (
    procurement_settings,
    purchase_order_headers,
    purchase_orders,
)

PO_STATUSES = ("open", "received", "cancelled")
SCOPES = ("sku", "supplier", "platform", "default")
FIELDS = (
    "lead_time_days",
    "review_days",
    "service_level",
    "moq",
    "pack_size",
    "reorder_threshold_days",
    "holding_cost_rate",
)
#: settings that are shares or fractional days (the others are whole numbers)
FLOAT_FIELDS = ("service_level", "reorder_threshold_days", "holding_cost_rate")


@dataclass(frozen=True)
class Settings:
    """Built-in defaults: lead time 14 days, weekly review, 95 % target fill rate, no MOQ,
    single units, reorder threshold None = derived (runway at which stock falls below the
    order-up-to level), no holding cost rate (share of unit cost per year; with one, an
    unset target fill rate becomes the newsvendor critical ratio: see
    :func:`stockroom.procurement.policy.critical_ratio`)."""

    lead_time_days: int = 14
    review_days: int = 7
    service_level: float = 0.95
    moq: int = 0
    pack_size: int = 1
    reorder_threshold_days: float | None = None
    holding_cost_rate: float | None = None


DEFAULTS = Settings()
PO_COLUMNS = (
    "po_number",
    "sku",
    "supplier",
    "quantity",
    "order_date",
    "expected_delivery",
    "status",
)


def _check_po(quantity: int, order_date: date, expected: date, status: str) -> str | None:
    if quantity is None or quantity <= 0:
        return "quantity must be a whole number > 0"
    if expected < order_date:
        return "expected_delivery is before order_date"
    if status not in PO_STATUSES:
        return f"status must be one of {', '.join(PO_STATUSES)}"
    return None


@dataclass(frozen=True)
class OrderLine:
    """One line of a purchase order: ``quantity`` units (> 0) of ``sku``, expected on
    ``expected_delivery`` (on or after the order date)."""

    sku: str
    quantity: int
    expected_delivery: date


def _next_number(conn: sa.Connection, day: date) -> str:
    """``PO-YYYYMMDD-NNN``: one past the highest number of the day in the headers table."""
    prefix = f"PO-{day:%Y%m%d}-"
    used = (
        conn.execute(
            sa.select(purchase_order_headers.c.po_number).where(
                purchase_order_headers.c.po_number.like(prefix + "%")
            )
        )
        .scalars()
        .all()
    )
    last = max(
        (int(n.removeprefix(prefix)) for n in used if n.removeprefix(prefix).isdigit()), default=0
    )
    return f"{prefix}{last + 1:03d}"


def place_order(
    eng: sa.Engine,
    *,
    supplier: str,
    order_date: date,
    lines: list[OrderLine],
    actor: str,
    reason: str,
    po_number: str | None = None,
) -> str:
    """Create one purchase order atomically and return its number.

    The number is ``po_number`` when given, else the next ``PO-YYYYMMDD-NNN`` of
    ``order_date``, allocated by the database: the header's primary key makes a number
    unique, and when two writers (threads, processes, buyers clicking at once) take the same
    one, the later transaction fails on it and is retried with the next number (tenacity,
    up to 30 tries; SQLite's "database is locked" is retried the same way). The header, every
    line and one audit row are written in one transaction: a crash leaves no half PO.
    Raises ValueError for no lines, a SKU twice, a bad quantity or delivery date, an empty
    supplier, or a given ``po_number`` that already exists."""
    if not lines:
        raise ValueError("a purchase order needs at least one line")
    if not str(supplier or "").strip():
        raise ValueError("a purchase order needs a supplier")
    skus = [line.sku for line in lines]
    if len(set(skus)) != len(skus):
        raise ValueError(f"a SKU appears twice in the order: {sorted(skus)}")
    for line in lines:
        problem = _check_po(line.quantity, order_date, line.expected_delivery, "open")
        if problem:
            raise ValueError(f"{line.sku}: {problem}")

    def attempt() -> str:
        now = datetime.now(UTC)
        with eng.begin() as conn:
            number = po_number or _next_number(conn, order_date)
            conn.execute(
                purchase_order_headers.insert().values(
                    po_number=number,
                    supplier=supplier,
                    order_date=order_date,
                    created_by=actor,
                    created_at=now,
                )
            )
            rows = [
                {
                    "po_number": number,
                    "sku": line.sku,
                    "supplier": supplier,
                    "quantity": int(line.quantity),
                    "order_date": order_date,
                    "expected_delivery": line.expected_delivery,
                    "status": "open",
                    "created_by": actor,
                    "updated_at": now,
                }
                for line in lines
            ]
            conn.execute(purchase_orders.insert(), rows)
            audit.append(
                conn,
                [
                    _audit(
                        now,
                        actor,
                        "purchase_order",
                        number,
                        None,
                        {
                            "supplier": supplier,
                            "order_date": order_date,
                            "lines": [
                                {k: r[k] for k in ("sku", "quantity", "expected_delivery")}
                                for r in rows
                            ],
                        },
                        reason,
                    )
                ],
            )
        return number

    if po_number is not None:
        try:
            return attempt()
        except sa.exc.IntegrityError:
            raise ValueError(f"PO {po_number} already exists") from None
    retrying = tenacity.Retrying(
        retry=tenacity.retry_if_exception_type((sa.exc.IntegrityError, sa.exc.OperationalError)),
        stop=tenacity.stop_after_attempt(30),
        wait=tenacity.wait_random(0.005, 0.05),
        reraise=True,
    )
    return retrying(attempt)


def place_orders_from_plan(
    eng: sa.Engine, rows: pl.DataFrame, day: date, *, actor: str, reason: str
) -> list[str]:
    """Order the recommended quantities of plan ``rows`` (sku, supplier, order_qty,
    lead_time_days; rows with order_qty 0 are skipped): one purchase order per supplier
    (:func:`place_order`, each atomic), ordered ``day``, each line expected after its SKU's
    lead time. Returns the PO numbers, by supplier name."""
    numbers = []
    wanted = rows.filter(pl.col("order_qty") > 0).sort("supplier", "sku")
    for (supplier,), lines in wanted.group_by("supplier", maintain_order=True):
        numbers.append(
            place_order(
                eng,
                supplier=supplier,
                order_date=day,
                actor=actor,
                reason=reason,
                lines=[
                    OrderLine(
                        r["sku"],
                        int(r["order_qty"]),
                        day + timedelta(days=int(r["lead_time_days"])),
                    )
                    for r in lines.iter_rows(named=True)
                ],
            )
        )
    return numbers


def set_po_status(
    eng: sa.Engine, po_number: str, sku: str, status: str, *, actor: str, reason: str
) -> dict:
    """Mark a PO line received or cancelled (audited). Raises KeyError / ValueError."""
    if status not in PO_STATUSES:
        raise ValueError(f"status must be one of {', '.join(PO_STATUSES)}")
    where = (purchase_orders.c.po_number == po_number) & (purchase_orders.c.sku == sku)
    now = datetime.now(UTC)
    with eng.begin() as conn:
        row = conn.execute(sa.select(purchase_orders).where(where)).first()
        if row is None:
            raise KeyError(f"no PO line {po_number} / {sku}")
        old = {c: row._mapping[c] for c in PO_COLUMNS}
        conn.execute(purchase_orders.update().where(where).values(status=status, updated_at=now))
        audit.append(
            conn,
            [
                _audit(
                    now,
                    actor,
                    "purchase_order",
                    f"{po_number}/{sku}",
                    old,
                    {**old, "status": status},
                    reason,
                )
            ],
        )
    return {**old, "status": status}


#: header spellings of a PO file beyond the canonical names (compared by tabular.key)
_PO_ALIASES = {
    "po": "po_number",
    "po_no": "po_number",
    "purchase_order": "po_number",
    "ordered_at": "order_date",
    "ordered": "order_date",
    "expected_at": "expected_delivery",
    "expected": "expected_delivery",
    "eta": "expected_delivery",
    "received": "received_quantity",
    "received_qty": "received_quantity",
    "qty": "quantity",
}


_SETTING_HEADERS = ("sku", "supplier", *FIELDS)


def _read_rows(path: Path) -> pl.DataFrame:
    """A PO or settings file (CSV/TSV/Excel) with headers as :func:`tabular.key`s."""
    path = Path(path)
    frame = (
        next(iter(tabular.read_excel_sheets(path).values()))
        if path.suffix.lower() in tabular.EXCEL_SUFFIXES
        else tabular.read_csv(path)
    )
    renamed = {}
    for c in frame.columns:
        if c.startswith("_"):
            continue
        k = tabular.key(c)
        canon = tabular._ALIAS_INDEX.get(k)
        renamed[c] = _PO_ALIASES.get(k) or (canon if canon in _SETTING_HEADERS else k)
    return frame.rename(renamed)


def _cell_date(r: dict, col: str, path: Path, i: int, problems: list) -> date | None:
    text = str(r.get(col) or "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        problems.append(InputProblem(str(path), i, col, "not a date YYYY-MM-DD", text))
        return None


def _cell_int(r: dict, col: str, path: Path, i: int, problems: list) -> int | None:
    text = str(r.get(col) or "").strip()
    if not text:
        return None
    try:
        return int(float(text)) if float(text).is_integer() else int(text)
    except ValueError:
        problems.append(InputProblem(str(path), i, col, "not a whole number", text))
        return None


def import_pos(eng: sa.Engine, path: Path, *, actor: str) -> int:
    """Import PO lines from CSV/TSV/Excel: po_number, sku, supplier, quantity, order_date,
    expected_delivery, optional status, received_at and received_quantity (partial receipts;
    headers such as ``PO number``, ``Ordered at``, ``Expected at`` are understood). Dates
    YYYY-MM-DD.

    Idempotent: a line already on file with the same values is skipped; one whose receipt
    changed gets the new receipt (a line is ``received`` once its received quantity reaches
    its quantity). All or nothing: any bad cell -- a receipt larger than the line, a delivery
    before the order -- raises :class:`InputError` naming the file, row and column, and
    nothing is written. Returns the number of lines added or changed. Audited."""
    path = Path(path)
    frame = _read_rows(path)
    missing = [c for c in PO_COLUMNS[:-1] if c not in frame.columns]
    if missing:
        found = ", ".join(c for c in frame.columns if not c.startswith("_"))
        raise InputError(
            [InputProblem(str(path), None, c, f"missing column (found: {found})") for c in missing]
        )
    problems, rows = [], []
    for i, r in enumerate(frame.iter_rows(named=True), start=1):
        before = len(problems)
        qty = _cell_int(r, "quantity", path, i, problems)
        ordered = _cell_date(r, "order_date", path, i, problems)
        expected = _cell_date(r, "expected_delivery", path, i, problems)
        received_at = _cell_date(r, "received_at", path, i, problems)
        received = _cell_int(r, "received_quantity", path, i, problems) or 0
        for col, value in (
            ("quantity", qty),
            ("order_date", ordered),
            ("expected_delivery", expected),
        ):
            if value is None and len(problems) == before:
                problems.append(InputProblem(str(path), i, col, "empty"))
        if len(problems) > before:
            continue
        status = (r.get("status") or "open").strip().lower()
        problem = _check_po(qty, ordered, expected, status)
        if problem:
            column = (
                "quantity"
                if "quantity" in problem
                else "status"
                if "status" in problem
                else "expected_delivery"
            )
            problems.append(InputProblem(str(path), i, column, problem))
            continue
        if received < 0 or received > qty:
            problems.append(
                InputProblem(
                    str(path),
                    i,
                    "received_quantity",
                    f"a receipt of {received} is larger than the line's {qty} units"
                    if received > qty
                    else "negative",
                    str(received),
                )
            )
            continue
        for col in ("po_number", "sku", "supplier"):
            if not str(r[col] or "").strip():
                problems.append(InputProblem(str(path), i, col, "empty"))
        if received and received_at is None:
            received_at = expected
        if received >= qty and status == "open":
            status = "received"
        rows.append(
            {
                "po_number": str(r["po_number"]).strip(),
                "sku": str(r["sku"]).strip(),
                "supplier": str(r["supplier"]).strip(),
                "quantity": qty,
                "order_date": ordered,
                "expected_delivery": expected,
                "status": status,
                "received_quantity": received,
                "received_at": received_at,
                "_row": i,
            }
        )
    if problems:
        raise InputError(problems)
    now = datetime.now(UTC)
    written = 0
    with eng.begin() as conn:
        have = {(r.po_number, r.sku): r._mapping for r in conn.execute(sa.select(purchase_orders))}
        clashes = [
            InputProblem(
                str(path),
                r["_row"],
                "quantity",
                "differs from the line on file",
                str(r["quantity"]),
            )
            for r in rows
            if (r["po_number"], r["sku"]) in have
            and have[(r["po_number"], r["sku"])]["quantity"] != r["quantity"]
        ]
        if clashes:
            raise InputError(clashes)
        headers = {h for (h,) in conn.execute(sa.select(purchase_order_headers.c.po_number))}
        new_headers, inserts, entries = {}, [], []
        for r in rows:
            row = {k: v for k, v in r.items() if k != "_row"}
            old = have.get((r["po_number"], r["sku"]))
            key = f"{r['po_number']}/{r['sku']}"
            if old is None:
                if r["po_number"] not in headers:
                    new_headers.setdefault(
                        r["po_number"],
                        {
                            "po_number": r["po_number"],
                            "supplier": r["supplier"],
                            "order_date": r["order_date"],
                            "created_by": actor,
                            "created_at": now,
                        },
                    )
                inserts.append({**row, "created_by": actor, "updated_at": now})
                entries.append(
                    _audit(
                        now, actor, "purchase_order", key, None, row, f"imported from {path.name}"
                    )
                )
                continue
            before = {c: old[c] for c in ("received_quantity", "received_at", "status")}
            after = {c: row[c] for c in before}
            if after["received_quantity"] == before["received_quantity"] or (
                after["received_quantity"] < before["received_quantity"]
            ):
                continue  # same receipt (or an older file): nothing to change
            where = (purchase_orders.c.po_number == r["po_number"]) & (
                purchase_orders.c.sku == r["sku"]
            )
            conn.execute(purchase_orders.update().where(where).values(**after, updated_at=now))
            entries.append(
                _audit(
                    now,
                    actor,
                    "purchase_order",
                    key,
                    before,
                    after,
                    f"receipt imported from {path.name}",
                )
            )
        if new_headers:
            conn.execute(purchase_order_headers.insert(), list(new_headers.values()))
        if inserts:
            conn.execute(purchase_orders.insert(), inserts)
        if entries:
            audit.append(conn, entries)
        written = len(entries)
    return written


def receive(
    eng: sa.Engine,
    po_number: str,
    sku: str,
    quantity: int | None = None,
    *,
    received_at: date | None = None,
    actor: str,
    reason: str = "received",
) -> dict:
    """Record a receipt of ``quantity`` units (default: all still open) of a PO line on
    ``received_at`` (default today). Partial receipts add up; the line becomes ``received``
    when they reach its quantity. Audited. Raises KeyError for an unknown line and ValueError
    for a line that is not open or a receipt larger than the units still open."""
    where = (purchase_orders.c.po_number == po_number) & (purchase_orders.c.sku == sku)
    now = datetime.now(UTC)
    with eng.begin() as conn:
        row = conn.execute(sa.select(purchase_orders).where(where).with_for_update()).first()
        if row is None:
            raise KeyError(f"no PO line {po_number} / {sku}")
        line = row._mapping
        if line["status"] != "open":
            raise ValueError(f"{po_number} / {sku} is {line['status']}, not open")
        still = line["quantity"] - (line["received_quantity"] or 0)
        qty = still if quantity is None else quantity
        if qty <= 0:
            raise ValueError("a receipt must be at least 1 unit")
        if qty > still:
            raise ValueError(
                f"a receipt of {qty} is larger than the {still} units still open on "
                f"{po_number} / {sku} (ordered {line['quantity']}, received "
                f"{line['received_quantity'] or 0})"
            )
        before = {c: line[c] for c in ("received_quantity", "received_at", "status")}
        after = {
            "received_quantity": (line["received_quantity"] or 0) + qty,
            "received_at": received_at or now.date(),
            "status": "received" if qty == still else "open",
        }
        # the receipt applies to the line as read: a concurrent receipt makes this one fail
        # (and roll back) instead of both adding to the same starting figure
        same = where & (purchase_orders.c.received_quantity == (line["received_quantity"] or 0))
        done = conn.execute(purchase_orders.update().where(same).values(**after, updated_at=now))
        if done.rowcount != 1:
            raise ValueError(f"{po_number} / {sku} was changed meanwhile; try again")
        audit.append(
            conn,
            [_audit(now, actor, "purchase_order", f"{po_number}/{sku}", before, after, reason)],
        )
    return after


def import_settings(eng: sa.Engine, path: Path, *, actor: str) -> int:
    """Import suppliers and per-SKU settings from CSV/TSV/Excel: columns sku, supplier and
    any of lead_time_days, review_days, moq, pack_size, service_level (``Lead time``, ``MOQ``,
    ``Service level`` ... understood). A row with a SKU sets that SKU (its supplier and
    overrides); a row without one sets the supplier's terms. Blank cells inherit. All or
    nothing: a bad cell raises :class:`InputError` naming file, row and column. Returns rows
    written (each audited through :func:`set_settings`)."""
    path = Path(path)
    frame = _read_rows(path)
    if "sku" not in frame.columns and "supplier" not in frame.columns:
        found = ", ".join(c for c in frame.columns if not c.startswith("_"))
        raise InputError(
            [
                InputProblem(
                    str(path), None, "sku", f"missing column sku or supplier (found: {found})"
                )
            ]
        )
    problems, todo = [], []
    for i, r in enumerate(frame.iter_rows(named=True), start=1):
        sku = str(r.get("sku") or "").strip()
        supplier = str(r.get("supplier") or "").strip() or None
        if not sku and not supplier:
            problems.append(InputProblem(str(path), i, "sku", "neither a SKU nor a supplier"))
            continue
        fields = {}
        for f in (
            "lead_time_days",
            "review_days",
            "moq",
            "pack_size",
            "service_level",
            "holding_cost_rate",
        ):
            text = str(r.get(f) or "").strip()
            if not text:
                continue
            try:
                value = float(text.rstrip("%")) / (100 if text.endswith("%") else 1)
                fields[f] = value if f in FLOAT_FIELDS else int(value)
            except ValueError:
                problems.append(InputProblem(str(path), i, f, "not a number", text))
        todo.append((i, sku, supplier, fields))
    if problems:
        raise InputError(problems)
    for i, _sku, _supplier, fields in todo:  # validate every row before the first write
        try:
            _check_fields(fields)
        except ValueError as exc:
            problems.append(InputProblem(str(path), i, str(exc).split(" ")[0], str(exc)))
    if problems:
        raise InputError(problems)
    for _i, sku, supplier, fields in todo:
        scope, key = ("sku", sku) if sku else ("supplier", supplier)
        set_settings(
            eng,
            scope,
            key,
            actor=actor,
            reason=f"imported from {path.name}",
            supplier=supplier if sku else None,
            **fields,
        )
    return len(todo)


#: Quantiles of a supplier's lead time the plan mixes over, and the receipts it needs first.
LEAD_POINTS = 8
MIN_RECEIPTS = 5


def supplier_lead_times(
    eng: sa.Engine, points: int = LEAD_POINTS, min_receipts: int = MIN_RECEIPTS
) -> pl.DataFrame:
    """Each supplier's lead times as they are, from received purchase orders: one lead time
    per PO (its last receipt date - its order date, days). Returns supplier (str), receipts
    (int: received POs), lead_days (list of ``points`` ints: the lead times' quantiles at the
    levels (k + 0.5) / points, inverted CDF, so each is a lead time that happened) and
    median_days (int), for the suppliers with at least ``min_receipts`` received POs --
    fewer say too little about the spread, and the lead-time setting stands."""
    lines = purchase_order_lines(eng, "received").filter(pl.col("received_at").is_not_null())
    per_po = lines.group_by("po_number", "supplier").agg(
        (pl.col("received_at").max() - pl.col("order_date").min()).dt.total_days().alias("days")
    )
    levels = (np.arange(points) + 0.5) / points
    rows = []
    for (supplier,), g in per_po.sort("supplier", "po_number").group_by(
        "supplier", maintain_order=True
    ):
        days = g["days"].to_numpy()
        if len(days) >= min_receipts:
            q = np.quantile(days, levels, method="inverted_cdf").astype(int)
            rows.append(
                {
                    "supplier": supplier,
                    "receipts": len(days),
                    "lead_days": q.tolist(),
                    "median_days": int(np.quantile(days, 0.5, method="inverted_cdf")),
                }
            )
    return pl.DataFrame(
        rows,
        schema={
            "supplier": pl.String,
            "receipts": pl.Int64,
            "lead_days": pl.List(pl.Int64),
            "median_days": pl.Int64,
        },
    )


def purchase_order_lines(eng: sa.Engine, status: str | None = "open") -> pl.DataFrame:
    """PO lines (all statuses when ``status`` is None): po_number, sku, supplier, quantity
    (int), order_date, expected_delivery (Date), status, created_by, updated_at,
    received_quantity (units received so far), received_at (Date of the last receipt) and
    outstanding (quantity - received_quantity: what is still on order)."""
    query = sa.select(purchase_orders).order_by(
        purchase_orders.c.expected_delivery, purchase_orders.c.po_number
    )
    if status:
        query = query.where(purchase_orders.c.status == status)
    with eng.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(query)]
    return pl.DataFrame(
        rows,
        schema={
            "po_number": pl.String,
            "sku": pl.String,
            "supplier": pl.String,
            "quantity": pl.Int64,
            "order_date": pl.Date,
            "expected_delivery": pl.Date,
            "status": pl.String,
            "created_by": pl.String,
            "updated_at": pl.Datetime("us", "UTC"),
            "received_quantity": pl.Int64,
            "received_at": pl.Date,
        },
    ).with_columns(
        (pl.col("quantity") - pl.col("received_quantity").fill_null(0)).alias("outstanding")
    )


_FIELD_CHECKS = {
    "lead_time_days": lambda v: v >= 0,
    "review_days": lambda v: v >= 1,
    "service_level": lambda v: 0 < v < 1,
    "moq": lambda v: v >= 0,
    "pack_size": lambda v: v >= 1,
    "reorder_threshold_days": lambda v: v >= 0,
    "holding_cost_rate": lambda v: 0 < v <= 10,
}


def _check_fields(fields: dict) -> None:
    for f, v in fields.items():
        if v is not None and not _FIELD_CHECKS[f](v):
            raise ValueError(f"{f} = {v} is out of range")


def set_settings(
    eng: sa.Engine,
    scope: str,
    key: str,
    *,
    actor: str,
    reason: str,
    supplier: str | None = None,
    **fields,
) -> dict:
    """Create or change the settings of one scope (``sku``/``supplier``/``platform`` + its
    key, or ``default``); fields left out keep their value (None clears it). Audited.
    Raises ValueError for an unknown scope/field or a value out of range."""
    if scope not in SCOPES:
        raise ValueError(f"scope must be one of {', '.join(SCOPES)}")
    unknown = set(fields) - set(FIELDS)
    if unknown:
        raise ValueError(f"unknown setting(s): {', '.join(sorted(unknown))}")
    _check_fields(fields)
    key = "*" if scope == "default" else key
    where = (procurement_settings.c.scope == scope) & (procurement_settings.c.scope_key == key)
    now = datetime.now(UTC)
    with eng.begin() as conn:
        row = conn.execute(sa.select(procurement_settings).where(where)).first()
        old = {c: row._mapping[c] for c in ("supplier", *FIELDS)} if row else None
        new = {**(old or {c: None for c in ("supplier", *FIELDS)}), **fields}
        if supplier is not None:
            new["supplier"] = supplier
        if row:
            conn.execute(procurement_settings.update().where(where).values(**new, updated_at=now))
        else:
            conn.execute(
                procurement_settings.insert().values(
                    scope=scope, scope_key=key, **new, updated_at=now
                )
            )
        audit.append(
            conn,
            [_audit(now, actor, "procurement_setting", f"{scope}/{key}", old, new, reason)],
        )
    return new


def assign_suppliers(eng: sa.Engine, suppliers: dict[str, str], *, actor: str, reason: str) -> int:
    """Give SKUs without a settings row of their own their supplier (one transaction,
    audited); SKUs that already have one are left alone. Returns how many were assigned."""
    now = datetime.now(UTC)
    with eng.begin() as conn:
        have = {
            k
            for (k,) in conn.execute(
                sa.select(procurement_settings.c.scope_key).where(
                    procurement_settings.c.scope == "sku"
                )
            )
        }
        rows = [
            {
                "scope": "sku",
                "scope_key": sku,
                "supplier": supplier,
                **{f: None for f in FIELDS},
                "updated_at": now,
            }
            for sku, supplier in sorted(suppliers.items())
            if sku not in have
        ]
        if rows:
            conn.execute(procurement_settings.insert(), rows)
            audit.append(
                conn,
                [
                    _audit(
                        now,
                        actor,
                        "procurement_setting",
                        f"sku/{r['scope_key']}",
                        None,
                        {"supplier": r["supplier"]},
                        reason,
                    )
                    for r in rows
                ],
            )
    return len(rows)


def settings_frame(eng: sa.Engine) -> pl.DataFrame:
    """Every settings row: scope, scope_key, supplier and the FIELDS (null = inherit)."""
    with eng.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(sa.select(procurement_settings))]
    return pl.DataFrame(
        rows,
        schema={
            "scope": pl.String,
            "scope_key": pl.String,
            "supplier": pl.String,
            "lead_time_days": pl.Int64,
            "review_days": pl.Int64,
            "service_level": pl.Float64,
            "moq": pl.Int64,
            "pack_size": pl.Int64,
            "reorder_threshold_days": pl.Float64,
            "updated_at": pl.Datetime("us", "UTC"),
            "holding_cost_rate": pl.Float64,
        },
    )


def resolve(eng: sa.Engine, skus: pl.DataFrame) -> pl.DataFrame:
    """Effective settings per SKU. ``skus``: sku and platform (str, may be null). Returns
    sku, supplier (str, 'unassigned' when none), and every field of :class:`Settings`
    (sku row > supplier row > platform row > default row > built-in), field by field, and
    service_level_set (bool: a target fill rate was set on some level -- not the built-in
    one the plan may replace by the newsvendor critical ratio)."""
    rows = settings_frame(eng)
    out = skus.select("sku", "platform")
    by_sku = (
        rows.filter(pl.col("scope") == "sku")
        .drop("scope", "updated_at")
        .rename(
            {"scope_key": "sku", **{f: f"{f}__sku" for f in FIELDS}, "supplier": "supplier__sku"}
        )
    )
    out = out.join(by_sku, on="sku", how="left")
    by_platform = (
        rows.filter(pl.col("scope") == "platform")
        .drop("scope", "updated_at", "supplier")
        .rename({"scope_key": "platform", **{f: f"{f}__platform" for f in FIELDS}})
    )
    out = out.join(by_platform, on="platform", how="left")
    out = out.with_columns(pl.coalesce("supplier__sku", pl.lit("unassigned")).alias("supplier"))
    by_supplier = (
        rows.filter(pl.col("scope") == "supplier")
        .drop("scope", "updated_at", "supplier")
        .rename({"scope_key": "supplier", **{f: f"{f}__supplier" for f in FIELDS}})
    )
    out = out.join(by_supplier, on="supplier", how="left")
    default = rows.filter(pl.col("scope") == "default")
    exprs = []
    for f in FIELDS:
        fallback = (
            default[f][0] if default.height and default[f][0] is not None else getattr(DEFAULTS, f)
        )
        exprs.append(
            pl.coalesce(
                f"{f}__sku",
                f"{f}__supplier",
                f"{f}__platform",
                pl.lit(fallback, dtype=pl.Float64 if f in FLOAT_FIELDS else pl.Int64),
            ).alias(f)
        )
    # was a target fill rate set anywhere (else the plan may derive it from the costs)?
    set_default = bool(default.height and default["service_level"][0] is not None)
    exprs.append(
        pl.any_horizontal(
            pl.col("service_level__sku").is_not_null(),
            pl.col("service_level__supplier").is_not_null(),
            pl.col("service_level__platform").is_not_null(),
            pl.lit(set_default),
        ).alias("service_level_set")
    )
    return out.select("sku", "supplier", *exprs)
