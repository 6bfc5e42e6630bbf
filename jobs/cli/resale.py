"""`stockroom resale ...`: imports (PDF invoices, spreadsheets), the P&L views, search, edits,
the Excel workbook."""

from __future__ import annotations

import getpass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from stockroom import config
from stockroom_jobs.cli.common import (
    AsOfOption,
    DataRootOption,
    bar_updater,
    check_out,
    console,
    existing_root,
    parse_date,
    progress_bar,
    show_table,
    write_out,
)

if TYPE_CHECKING:
    from stockroom.resale.views import Book

OutOption = Annotated[
    Path | None, typer.Option(help="Write every row to this .csv, .xlsx or .parquet file.")
]
ActorOption = Annotated[
    str | None, typer.Option(help="Who makes the change (audit log). Default: your user name.")
]
FromOption = Annotated[str | None, typer.Option("--from", help="Period start, YYYY-MM-DD.")]
ToOption = Annotated[str | None, typer.Option("--to", help="Period end, YYYY-MM-DD.")]

app = typer.Typer(
    help="Resale P&L: lots from auction invoices, listings and sales, profit, ROI, aging, "
    "platforms, categories, search, the Excel workbook.",
    no_args_is_help=True,
)


def _actor(actor: str | None) -> str:
    return actor or getpass.getuser()


def _book(data_root: Path | None, as_of: str | None) -> tuple[Path, Book]:
    from stockroom.resale import views

    root = existing_root(data_root)
    book = views.book(root, parse_date(as_of, "--as-of"))
    if book.day is None:
        raise typer.BadParameter(
            f"{root} has no resale snapshot yet; import lots first (`stockroom resale "
            "import-invoices`, `stockroom resale import lots`) or land the demo "
            "(`stockroom resale demo`)",
            param_hint="--data-root",
        )
    return root, book


def _period(book: Book, start: str | None, end: str | None) -> tuple[date, date]:
    """--from / --to; an end alone gets the default length (30 days) before it."""
    from datetime import timedelta

    from stockroom.resale.views import PERIOD_DAYS

    to = parse_date(end, "--to") or book.period()[1]
    frm = parse_date(start, "--from") or to - timedelta(days=PERIOD_DAYS - 1)
    if frm > to:
        raise typer.BadParameter(f"--from {frm} is after --to {to}", param_hint="--from")
    return frm, to


_MONEY = {"net_profit": "Net profit", "roi": "ROI"}


@app.command("demo")
def demo_command(data_root: DataRootOption = None):
    """Land the resale demo: the real StockX flips plus synthetic auction invoices (PDF),
    listings and sales on eBay, Etsy, Facebook and a shop."""
    from stockroom_jobs import resale

    root = config.data_root(data_root)
    with progress_bar() as bar:
        counts = resale.land_demo(root, on_progress=bar_updater(bar))
    for key, value in counts.items():
        console.print(f"  {key}: {value:,}" if isinstance(value, int) else f"  {key}: {value}")


@app.command("import-invoices")
def import_invoices_command(
    files: Annotated[list[Path], typer.Argument(help="Auction invoice PDFs.", exists=True)],
    actor: ActorOption = None,
    data_root: DataRootOption = None,
):
    """Import auction invoices (PDF): lots with premium, tax and shipping allocated, checked to
    the cent; a file imported before lands nothing."""
    from stockroom_jobs import resale

    root = config.data_root(data_root)

    def say(r) -> None:  # one line per file as it lands (the page reads them as progress)
        detail = f", {r.layout}, {r.lots} lots, {r.items} items, {r.total:,.2f}" if r.lots else ""
        console.print(
            f"  {r.file}: {r.status} ({r.invoice_key}{detail})", highlight=False, soft_wrap=True
        )

    with progress_bar() as bar:
        task = bar.add_task("invoices", total=len(files))
        run, _ = resale.import_invoices(
            root,
            list(files),
            actor=_actor(actor),
            on_progress=lambda _n, done, _t: bar.update(task, completed=done),
            on_result=say,
        )
    console.print(f"run {run.run_id}")


@app.command("import")
def import_command(
    kind: Annotated[str, typer.Argument(help="lots, listings or sales.")],
    file: Annotated[Path, typer.Argument(help="CSV or Excel file.", exists=True)],
    actor: ActorOption = None,
    data_root: DataRootOption = None,
):
    """Import lots, listings or sales from a spreadsheet: every row or none."""
    from stockroom.resale import imports
    from stockroom_jobs import resale

    if kind not in imports.KINDS:
        raise typer.BadParameter(f"use one of {', '.join(imports.KINDS)}", param_hint="KIND")
    run, stored = resale.import_table(config.data_root(data_root), file, kind, actor=_actor(actor))
    for warning in run.warnings:
        console.print(f"warning: {warning}", highlight=False)
    console.print(f"{stored:,} {kind} stored from {file.name} (run {run.run_id})")


@app.command("summary")
def summary_command(
    start: FromOption = None,
    end: ToOption = None,
    as_of: AsOfOption = None,
    out: OutOption = None,
    data_root: DataRootOption = None,
):
    """The dashboard: items, invested, listed, sold, revenue, profit, ROI, days to sell and
    sell-through against the previous period (default: the 30 days to the last activity)."""
    from stockroom.resale import pnl

    check_out(out)
    _, book = _book(data_root, as_of)
    frm, to = _period(book, start, end)
    frame = pnl.summary(book.pnl, frm, to)
    console.print(f"{frm} to {to} against the period before ({book.currency})", highlight=False)
    text = pnl.summary_text(frame)
    show_table(text, {c: c for c in text.columns}, rows=20)
    write_out(frame, out, "summary")


@app.command("aging")
def aging_command(
    buckets: Annotated[str, typer.Option(help="Bucket upper bounds in days.")] = "30,60,90,180",
    as_of: AsOfOption = None,
    out: OutOption = None,
    data_root: DataRootOption = None,
):
    """Unsold items by age with the cost they tie up."""
    from stockroom.resale import pnl

    check_out(out)
    _, book = _book(data_root, as_of)
    try:
        edges = tuple(int(b) for b in buckets.split(","))
        frame = pnl.aging(book.pnl, edges)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--buckets") from None
    show_table(
        frame,
        {
            "bucket": "Age",
            "items": "Items",
            "cost": "Cost tied up",
            "estimated_value": "Est. value",
            "share_of_cost": "Share of cost",
            "listed": "Listed",
        },
    )
    write_out(frame, out, "aging")


def _performance(by: str, start, end, as_of, out, data_root) -> None:
    from stockroom.resale import pnl

    check_out(out)
    _, book = _book(data_root, as_of)
    frm = parse_date(start, "--from")
    to = parse_date(end, "--to") or book.as_of
    frame = pnl.performance(book.pnl, book.listings, by, to, frm)
    show_table(
        frame,
        {
            by: by.title(),
            "listed": "Listed",
            "sold": "Sold",
            "revenue": "Revenue",
            "avg_sale_price": "Avg sale",
            "fees": "Fees",
            "conversion": "Conversion share",
            "profit": "Profit",
            "roi": "ROI share",
            "avg_days_to_sell": "Days to sell",
        },
    )
    write_out(frame, out, by)


@app.command("platforms")
def platforms_command(
    start: FromOption = None,
    end: ToOption = None,
    as_of: AsOfOption = None,
    out: OutOption = None,
    data_root: DataRootOption = None,
):
    """Platform profitability: listed, sold, revenue, fees, conversion, profit, ROI."""
    _performance("platform", start, end, as_of, out, data_root)


@app.command("categories")
def categories_command(
    start: FromOption = None,
    end: ToOption = None,
    as_of: AsOfOption = None,
    out: OutOption = None,
    data_root: DataRootOption = None,
):
    """Category performance: listed, sold, revenue, fees, conversion, profit, ROI."""
    _performance("category", start, end, as_of, out, data_root)


@app.command("search")
def search_command(
    text: Annotated[str, typer.Argument(help='Words; "a phrase"; -exclude.')] = "",
    category: Annotated[str | None, typer.Option()] = None,
    status: Annotated[str | None, typer.Option(help="sold, listed or not listed.")] = None,
    location: Annotated[str | None, typer.Option()] = None,
    platform: Annotated[str | None, typer.Option()] = None,
    roi_min: Annotated[float | None, typer.Option(help="Lowest ROI, a share (0.2 = 20 %).")] = None,
    sort: Annotated[
        str,
        typer.Option(
            help="relevance, acquired_on, estimated_value, name, roi, days_listed, age_days."
        ),
    ] = "relevance",
    pick: Annotated[bool, typer.Option(help="Print a pick list by location and bin.")] = False,
    limit: Annotated[int, typer.Option()] = 50,
    as_of: AsOfOption = None,
    out: OutOption = None,
    data_root: DataRootOption = None,
):
    """Find items by name, description, keywords and notes, ranked, with filters."""
    from stockroom.resale import search

    check_out(out)
    _, book = _book(data_root, as_of)
    filters = search.Filters(
        category=category, status=status, location=location, platform=platform, roi_min=roi_min
    )
    try:
        found = search.search(book.pnl, book.index, text, filters, sort, limit=limit)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--sort") from None
    console.print(f"{found.height:,} items (at most {limit})")
    if pick:
        show_table(
            search.pick_list(found),
            {
                "location": "Location",
                "bin": "Bin",
                "item_id": "Item",
                "name": "Name",
                "status": "Status",
            },
            rows=limit,
        )
    else:
        show_table(
            found,
            {
                "item_id": "Item",
                "name": "Name",
                "status": "Status",
                "location": "Location",
                "bin": "Bin",
                "cost": "Cost",
                "net_profit": "Net profit",
                "roi": "ROI share",
            },
            rows=limit,
        )
    write_out(found, out, "search")


@app.command("item")
def item_command(
    item_id: Annotated[str, typer.Argument()],
    as_of: AsOfOption = None,
    data_root: DataRootOption = None,
):
    """One item: cost, listings, sale, profit, ROI and its price history."""
    from stockroom import workbench
    from stockroom.resale import repo, views

    root, book = _book(data_root, as_of)
    detail = views.item_detail(book, item_id)
    if detail is None:
        raise typer.BadParameter(f"no item {item_id!r} in the resale book", param_hint="ITEM_ID")
    item = detail["item"]
    for key in (
        "name",
        "status",
        "platform",
        "acquired_on",
        "cost",
        "sold_on",
        "sold_price",
        "net_profit",
        "roi",
        "days_to_sell",
        "location",
        "bin",
    ):
        console.print(f"  {key}: {item[key]}", highlight=False)
    show_table(
        detail["listings"],
        {
            "platform": "Platform",
            "status": "Status",
            "list_price": "List price",
            "listed_on": "Listed",
            "sold_on": "Sold",
            "sold_price": "Sold price",
        },
    )
    history = repo.price_history(workbench.engine(root), item_id)
    show_table(
        history,
        {
            "changed_at": "When",
            "field": "Field",
            "platform": "Platform",
            "old_value": "Old",
            "new_value": "New",
            "actor": "Who",
            "reason": "Why",
        },
        rows=50,
    )


@app.command("export")
def export_command(
    out: Annotated[Path, typer.Argument(help="The .xlsx workbook to write.")],
    as_of: AsOfOption = None,
    data_root: DataRootOption = None,
):
    """The inventory with costs, listings and profit as an Excel workbook (one sheet per
    table, typed columns, frozen header), streamed row by row."""
    from stockroom.resale import imports

    if out.suffix.lower() != ".xlsx":
        raise typer.BadParameter("the workbook must be an .xlsx file", param_hint="OUT")
    _, book = _book(data_root, as_of)
    sheets = {
        "items": (book.pnl, imports.ITEM_SHEET),
        "listings": (book.listings, imports.LISTING_SHEET),
    }
    with progress_bar() as bar:
        try:
            imports.write_workbook(out, sheets, bar_updater(bar))
        except FileNotFoundError as exc:
            raise typer.BadParameter(str(exc), param_hint="OUT") from None
    console.print(f"wrote {book.pnl.height:,} items and {book.listings.height:,} listings to {out}")


@app.command("snapshot")
def snapshot_command(data_root: DataRootOption = None):
    """Export today's resale snapshots from the workbench database."""
    from stockroom_jobs import resale

    run = resale.snapshot(existing_root(data_root))
    console.print(f"resale snapshots landed (run {run.run_id})")
