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
)


@dataclass(frozen=True)
class Settings:
    """Built-in defaults: lead time 14 days, weekly review, 95 % cycle service level, no MOQ,
    single units, reorder threshold None = derived (runway at which stock falls below the
    order-up-to level)."""

    lead_time_days: int = 14
    review_days: int = 7
    service_level: float = 0.95
    moq: int = 0
    pack_size: int = 1
    reorder_threshold_days: float | None = None


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


def import_pos(eng: sa.Engine, path: Path, *, actor: str) -> int:
    """Import PO lines from CSV/Excel with columns po_number, sku, supplier, quantity,
    order_date, expected_delivery[, status] (dates YYYY-MM-DD). All or nothing: any bad cell
    raises :class:`InputError` naming the file, row and column, and nothing is written."""
    path = Path(path)
    frame = (
        next(iter(tabular.read_excel_sheets(path).values()))
        if path.suffix.lower() in tabular.EXCEL_SUFFIXES
        else tabular.read_csv(path)
    )
    frame = frame.rename({c: tabular.key(c) for c in frame.columns if not c.startswith("_")})
    missing = [c for c in PO_COLUMNS[:-1] if c not in frame.columns]
    if missing:
        raise InputError([InputProblem(str(path), None, c, "missing column") for c in missing])
    problems, rows = [], []
    for i, r in enumerate(frame.iter_rows(named=True), start=1):
        try:
            qty = int(str(r["quantity"]).strip())
        except ValueError:
            problems.append(
                InputProblem(str(path), i, "quantity", "not a whole number", str(r["quantity"]))
            )
            continue
        dates = {}
        for col in ("order_date", "expected_delivery"):
            try:
                dates[col] = date.fromisoformat(str(r[col]).strip())
            except ValueError:
                problems.append(
                    InputProblem(str(path), i, col, "not a date YYYY-MM-DD", str(r[col]))
                )
        if len(dates) < 2:
            continue
        status = (r.get("status") or "open").strip().lower()
        problem = _check_po(qty, dates["order_date"], dates["expected_delivery"], status)
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
        for col in ("po_number", "sku", "supplier"):
            if not str(r[col] or "").strip():
                problems.append(InputProblem(str(path), i, col, "empty"))
        rows.append(
            {
                "po_number": str(r["po_number"]).strip(),
                "sku": str(r["sku"]).strip(),
                "supplier": str(r["supplier"]).strip(),
                "quantity": qty,
                **dates,
                "status": status,
            }
        )
    if problems:
        raise InputError(problems)
    now = datetime.now(UTC)
    with eng.begin() as conn:
        have = {
            (a, b)
            for a, b in conn.execute(sa.select(purchase_orders.c.po_number, purchase_orders.c.sku))
        }
        dupes = [i for i, r in enumerate(rows, 1) if (r["po_number"], r["sku"]) in have]
        if dupes:
            raise InputError(
                [
                    InputProblem(str(path), i, "po_number", "this PO line already exists")
                    for i in dupes
                ]
            )
        if rows:
            headers = {h for (h,) in conn.execute(sa.select(purchase_order_headers.c.po_number))}
            new = {}
            for r in rows:  # new PO numbers get their header (supplier/date of the first line)
                if r["po_number"] not in headers:
                    new.setdefault(
                        r["po_number"],
                        {
                            "po_number": r["po_number"],
                            "supplier": r["supplier"],
                            "order_date": r["order_date"],
                            "created_by": actor,
                            "created_at": now,
                        },
                    )
            if new:
                conn.execute(purchase_order_headers.insert(), list(new.values()))
            conn.execute(
                purchase_orders.insert(),
                [{**r, "created_by": actor, "updated_at": now} for r in rows],
            )
            audit.append(
                conn,
                [
                    _audit(
                        now,
                        actor,
                        "purchase_order",
                        f"{r['po_number']}/{r['sku']}",
                        None,
                        r,
                        f"imported from {path.name}",
                    )
                    for r in rows
                ],
            )
    return len(rows)


def purchase_order_lines(eng: sa.Engine, status: str | None = "open") -> pl.DataFrame:
    """PO lines (all statuses when ``status`` is None): po_number, sku, supplier, quantity
    (int), order_date, expected_delivery (Date), status, created_by."""
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
        },
    )


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
    checks = {
        "lead_time_days": lambda v: v >= 0,
        "review_days": lambda v: v >= 1,
        "service_level": lambda v: 0 < v < 1,
        "moq": lambda v: v >= 0,
        "pack_size": lambda v: v >= 1,
        "reorder_threshold_days": lambda v: v >= 0,
    }
    for f, v in fields.items():
        if v is not None and not checks[f](v):
            raise ValueError(f"{f} = {v} is out of range")
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
        },
    )


def resolve(eng: sa.Engine, skus: pl.DataFrame) -> pl.DataFrame:
    """Effective settings per SKU. ``skus``: sku and platform (str, may be null). Returns
    sku, supplier (str, 'unassigned' when none), and every field of :class:`Settings`
    (sku row > supplier row > platform row > default row > built-in), field by field."""
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
                pl.lit(
                    fallback,
                    dtype=pl.Float64
                    if f in ("service_level", "reorder_threshold_days")
                    else pl.Int64,
                ),
            ).alias(f)
        )
    return out.select("sku", "supplier", *exprs)
