"""`stockroom procure` (the morning plan) and `stockroom po ...` (purchase orders)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table as RichTable

from stockroom import config
from stockroom.errors import StockroomError
from stockroom_jobs.cli.common import (
    AsOfOption,
    DataRootOption,
    console,
    existing_root,
    parse_date,
)


def _engine(data_root: Path | None):
    """The workbench database's engine (SQLAlchemy is imported when a command runs)."""
    from stockroom import workbench

    return workbench.engine(config.data_root(data_root))


def _repo():
    from stockroom.procurement import repo

    return repo


po_app = typer.Typer(
    help="Open purchase orders (workbench database, audited).", no_args_is_help=True
)


def procure_command(
    as_of: AsOfOption = None,
    export: Annotated[
        Path | None,
        typer.Option(help="Write the purchase-request CSV (what to order, by supplier) here."),
    ] = None,
    location: Annotated[
        str | None,
        typer.Option(
            help="Plan on one stock location's stock only (printed and exported, not landed)."
        ),
    ] = None,
    data_root: DataRootOption = None,
) -> None:
    """The morning plan: order today / already ordered / attention required per SKU from
    forecasts, stock and open POs; lands the `order_plan` snapshot."""
    from stockroom_jobs.procure import run_plan

    root = existing_root(data_root)
    summary = run_plan(root, parse_date(as_of, "--as-of"), export, location)
    for line in summary.lines():
        console.print(f"  {line}")
    if export:
        console.print(f"purchase requests written: {export}")


@po_app.command("add")
def po_add(
    sku: Annotated[str, typer.Option(help="SKU ordered.")],
    quantity: Annotated[int, typer.Option(min=1, help="Units.")],
    supplier: Annotated[str, typer.Option(help="Supplier.")],
    expected: Annotated[str, typer.Option(help="Expected delivery, YYYY-MM-DD.")],
    order_date: Annotated[str | None, typer.Option(help="Order date (default today).")] = None,
    po_number: Annotated[str | None, typer.Option(help="Default: PO-YYYYMMDD-NNN.")] = None,
    actor: Annotated[
        str | None,
        typer.Option(
            help="Who signs it in the audit log (default: STOCKROOM_USER, else the OS user)."
        ),
    ] = None,
    data_root: DataRootOption = None,
) -> None:
    """Record an open purchase order of one line (a new PO number)."""
    repo = _repo()
    eng = _engine(data_root)
    ordered = parse_date(order_date, "--order-date") or date.today()
    try:
        number = repo.place_order(
            eng,
            supplier=supplier,
            order_date=ordered,
            po_number=po_number,
            actor=actor or config.actor(),
            reason="stockroom po add",
            lines=[repo.OrderLine(sku, quantity, parse_date(expected, "--expected"))],
        )
    except ValueError as exc:
        raise StockroomError(str(exc)) from None
    console.print(f"{number}: {quantity} x {sku} from {supplier}, expected {expected}")


@po_app.command("import")
def po_import(
    path: Annotated[
        Path,
        typer.Argument(
            help="CSV/Excel: po_number, sku, supplier, quantity, "
            "order_date, expected_delivery[, status]."
        ),
    ],
    actor: Annotated[
        str | None,
        typer.Option(
            help="Who signs it in the audit log (default: STOCKROOM_USER, else the OS user)."
        ),
    ] = None,
    data_root: DataRootOption = None,
) -> None:
    """Import PO lines; all or nothing (a bad cell names its file, row and column)."""
    n = _repo().import_pos(_engine(data_root), path, actor=actor or config.actor())
    console.print(f"{n} purchase order lines imported")


@po_app.command("list")
def po_list(
    status: Annotated[str, typer.Option(help="open / received / cancelled / all.")] = "open",
    data_root: DataRootOption = None,
) -> None:
    """List purchase order lines."""
    lines = _repo().purchase_order_lines(_engine(data_root), None if status == "all" else status)
    out = RichTable(
        "po_number", "sku", "supplier", "quantity", "received", "ordered", "expected", "status"
    )
    for r in lines.iter_rows(named=True):
        out.add_row(
            r["po_number"],
            r["sku"],
            r["supplier"],
            f"{r['quantity']:,}",
            f"{r['received_quantity'] or 0:,}",
            str(r["order_date"]),
            str(r["expected_delivery"]),
            r["status"],
        )
    Console().print(out)


@po_app.command("receive")
def po_receive(
    po_number: Annotated[str, typer.Argument(help="PO number.")],
    sku: Annotated[str, typer.Argument(help="SKU line.")],
    quantity: Annotated[
        int | None,
        typer.Option(min=1, help="Units received (default: all still open; partial allowed)."),
    ] = None,
    received_at: Annotated[
        str | None, typer.Option("--date", help="Day received, YYYY-MM-DD (default today).")
    ] = None,
    cancel: Annotated[bool, typer.Option(help="Cancel instead of receive.")] = False,
    actor: Annotated[
        str | None,
        typer.Option(
            help="Who signs it in the audit log (default: STOCKROOM_USER, else the OS user)."
        ),
    ] = None,
    data_root: DataRootOption = None,
) -> None:
    """Record a receipt of a PO line (the date and quantity; partial receipts add up), or
    cancel it: what is received stops counting as on order."""
    repo = _repo()
    eng = _engine(data_root)
    who = actor or config.actor()
    try:
        if cancel:
            repo.set_po_status(
                eng, po_number, sku, "cancelled", actor=who, reason="stockroom po receive --cancel"
            )
            console.print(f"{po_number} / {sku}: cancelled")
            return
        after = repo.receive(
            eng,
            po_number,
            sku,
            quantity,
            received_at=parse_date(received_at, "--date"),
            actor=who,
            reason="stockroom po receive",
        )
    except (KeyError, ValueError) as exc:
        raise StockroomError(str(exc).strip("'")) from None
    console.print(
        f"{po_number} / {sku}: {after['received_quantity']} received by {after['received_at']}"
        f" ({after['status']})"
    )
