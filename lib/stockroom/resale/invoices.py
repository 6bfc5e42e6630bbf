"""Auction invoices (PDF) -> lots: read with pdfplumber, checked to the cent, landed once.

Three layouts are known (:data:`LAYOUTS`), recognised by the header of their lot table:

* ``lot-lines`` -- ``Lot Description Qty Hammer Premium Tax Total``: premium and tax per lot,
  each line's total checked; shipping for the whole invoice.
* ``summary-percent`` -- ``Lot # Item Qty Winning bid``: buyer's premium and sales tax as
  percentages in the summary (tax on hammer + premium), each checked against its percentage.
* ``catalogue`` -- ``Lot Title Estimate Hammer`` over several pages: titles may wrap onto a
  second line; "Carried forward" subtotals are checked page by page.

In every layout the lots' hammer prices must add up to the printed hammer subtotal and
hammer + premium + tax + shipping to the printed total, to the cent. Invoice-level charges are
allocated to lots pro rata by hammer price (:mod:`stockroom.resale.costs`).

Anything else -- an unknown layout, an unreadable, encrypted or empty PDF, a line of the lot
table that cannot be read, an amount that does not add up -- raises :class:`InputError`
naming the file, page and line, and nothing is stored. A file whose sha256 was imported
before lands nothing (idempotent), nor does the same invoice (house and number) again.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import polars as pl
import sqlalchemy as sa

from stockroom import store
from stockroom.errors import InputError, InputProblem
from stockroom.resale import costs, repo
from stockroom.workbench import resale_invoices

LAYOUTS = {
    "lot-lines": re.compile(r"^Lot Description Qty Hammer Premium Tax Total$"),
    "summary-percent": re.compile(r"^Lot # Item Qty Winning bid$"),
    "catalogue": re.compile(r"^Lot Title Estimate Hammer$"),
}
_AMT = r"\$?-?[\d,]*\d\.\d{2}"
_ROWS = {
    "lot-lines": re.compile(
        rf"^(?P<lot>\S+) (?P<desc>.+?) (?P<qty>\d+) (?P<hammer>{_AMT}) (?P<premium>{_AMT}) "
        rf"(?P<tax>{_AMT}) (?P<total>{_AMT})$"
    ),
    "summary-percent": re.compile(rf"^(?P<lot>\S+) (?P<desc>.+?) (?P<qty>\d+) (?P<hammer>{_AMT})$"),
    "catalogue": re.compile(
        rf"^(?P<lot>\d+[A-Za-z]?) (?P<desc>.+?) (?P<est>[\d,]+-[\d,]+) (?P<hammer>{_AMT})$"
    ),
}
#: summary lines per layout: label pattern -> field (a percentage group where one is printed)
_SUMMARY = {
    "lot-lines": (
        (r"Lots subtotal", "lines_total"),
        (r"Shipping", "shipping"),
        (r"Invoice total", "total"),
    ),
    "summary-percent": (
        (r"Subtotal \(hammer\)", "hammer_total"),
        (r"Buyer's premium \((?P<pct>[\d.]+)%\)", "premium"),
        (r"Sales tax \((?P<pct>[\d.]+)% on hammer \+ premium\)", "tax"),
        (r"Shipping & handling", "shipping"),
        (r"Total due", "total"),
    ),
    "catalogue": (
        (r"Hammer total", "hammer_total"),
        (r"Buyer's premium at (?P<pct>[\d.]+)%", "premium"),
        (r"Tax at (?P<pct>[\d.]+)%", "tax"),
        (r"Packing and shipping", "shipping"),
        (r"Amount due", "total"),
    ),
}
_SKIP = re.compile(
    r"^(Invoice \S+ / Sale \S+ Page \d+ of \d+|Invoice date: .*|Currency: .*|Bidder: .*)$"
)
_CARRIED = re.compile(rf"^Carried forward(?: to next page)? (?P<amount>{_AMT})$")


@dataclass
class Where:
    file: str
    page: int
    line: int

    def problem(self, message: str, column: str | None = None, value: str | None = None):
        where = f"{self.file}, page {self.page}, line {self.line}"
        return InputProblem(where, None, column, message, value)


@dataclass
class ParsedInvoice:
    """One invoice as read: header fields, lots (lot_number, description, quantity, hammer,
    premium and tax where printed per lot) and the printed totals (Decimal)."""

    layout: str
    house: str
    invoice_id: str
    auction_id: str | None
    invoice_date: date
    pages: int
    lots: list[dict] = field(default_factory=list)
    totals: dict[str, Decimal] = field(default_factory=dict)
    rates: dict[str, Decimal] = field(default_factory=dict)
    currency: str = "USD"

    @property
    def invoice_key(self) -> str:
        """``house code:invoice id`` (the house's initials: ``HFAA:H-2026-00003``)."""
        return f"{house_code(self.house)}:{self.invoice_id}"

    def allocated(self) -> list[dict]:
        """The lots with premium, tax, shipping and total_cost to the cent (Decimal)."""
        hammers = [lot["hammer"] for lot in self.lots]
        shipping = costs.allocate(self.totals["shipping"], hammers)
        if self.layout == "lot-lines":
            premium = [lot["premium"] for lot in self.lots]
            tax = [lot["tax"] for lot in self.lots]
        else:
            premium = costs.allocate(self.totals["premium"], hammers)
            tax = costs.allocate(self.totals["tax"], hammers)
        return [
            {
                **lot,
                "premium": premium[i],
                "tax": tax[i],
                "shipping": shipping[i],
                "total_cost": lot["hammer"] + premium[i] + tax[i] + shipping[i],
            }
            for i, lot in enumerate(self.lots)
        ]

    def lots_frame(self, source: str) -> pl.DataFrame:
        """The lots in ``RESALE_LOTS`` shape (lot id ``house code:invoice:lot``), with
        lineage."""
        rows = [
            {
                "lot_id": f"{self.invoice_key}:{lot['lot_number']}",
                "auction_house": self.house,
                "auction_id": self.auction_id,
                "lot_number": lot["lot_number"],
                "acquired_on": self.invoice_date,
                "name": lot["description"],
                "description": lot["description"],
                "quantity": lot["quantity"],
                **{k: float(lot[k]) for k in ("hammer", "premium", "tax", "shipping")},
                "currency": self.currency,
                "_source_file": f"{source}, page {lot['where'].page}",
                "_source_row": lot["where"].line,
            }
            for lot in self.allocated()
        ]
        return pl.DataFrame(rows)


def house_code(house: str) -> str:
    """An auction house's short code: the initials of its words (``Harbor Fine Art &
    Antiques`` -> ``HFAA``)."""
    return "".join(w[0] for w in re.findall(r"[A-Za-z0-9]+", house)).upper() or "HOUSE"


def _amount(text: str) -> Decimal:
    return Decimal(text.replace("$", "").replace(",", ""))


def read_lines(path: Path, on_page: Callable[[int, int], None] | None = None) -> list[list[str]]:
    """The text lines of each page (``on_page(done, pages)`` after each). Raises
    :class:`InputError` naming the file for a file that is not a readable PDF, an encrypted
    one, or one without text."""
    import pdfplumber
    from pdfminer.pdfdocument import PDFPasswordIncorrect
    from pdfplumber.utils.exceptions import PdfminerException

    name = Path(path).name
    try:
        with pdfplumber.open(path) as pdf:
            pages = []
            for page in pdf.pages:
                pages.append((page.extract_text() or "").splitlines())
                page.close()  # frees the page's parsed objects: a long catalogue stays small
                if on_page is not None:
                    on_page(len(pages), len(pdf.pages))
    except (PdfminerException, PDFPasswordIncorrect) as exc:
        cause = exc.args[0] if exc.args else exc
        reason = (
            "the PDF is encrypted (open it with its password and save an unprotected copy)"
            if isinstance(cause, PDFPasswordIncorrect) or "password" in repr(cause).lower()
            else f"not a readable PDF ({type(cause).__name__})"
        )
        raise InputError([InputProblem(name, None, None, reason)]) from None
    except FileNotFoundError:
        raise InputError([InputProblem(str(path), None, None, "file not found")]) from None
    if not any(line.strip() for lines in pages for line in lines):
        raise InputError(
            [InputProblem(name, None, None, "the PDF has no text (a scan? OCR it first)")]
        )
    return [[line.strip() for line in lines] for lines in pages]


def detect(pages: list[list[str]], name: str) -> str:
    """The layout whose lot-table header the first page holds; :class:`InputError` if none."""
    for layout, header in LAYOUTS.items():
        if any(header.match(line) for line in pages[0]):
            return layout
    raise InputError(
        [
            Where(name, 1, 1).problem(
                "unknown invoice layout: no lot table header of a known layout ("
                + "; ".join(p.pattern.strip("^$") for p in LAYOUTS.values())
                + ")"
            )
        ]
    )


def _header(layout: str, pages: list[list[str]], name: str) -> dict:
    text = "\n".join(pages[0])
    first = pages[0][0]
    if layout == "lot-lines":
        fields = {
            "house": first.title(),
            "invoice_id": r"Invoice: (\S+)",
            "invoice_date": r"Date: (\d{4}-\d{2}-\d{2})",
            "auction_id": r"Auction: (.+)",
        }
        fmt = "%Y-%m-%d"
    elif layout == "summary-percent":
        fields = {
            "house": first.removesuffix(" - INVOICE"),
            "invoice_id": r"Invoice # (\S+)",
            "invoice_date": r"Sale date: (\d{2}/\d{2}/\d{4})",
            "auction_id": r"Sale: (\S+)",
        }
        fmt = "%m/%d/%Y"
    else:
        fields = {
            "house": first,
            "invoice_id": r"Invoice (\S+) / Sale",
            "invoice_date": r"Invoice date: (\d{1,2} \w+ \d{4})",
            "auction_id": r"/ Sale (\S+)",
        }
        fmt = "%d %B %Y"
    out = {}
    for key, pattern in fields.items():
        if key == "house":
            out[key] = pattern.strip()
            continue
        found = re.search(pattern, text, re.M)
        if not found:
            raise InputError(
                [Where(name, 1, 1).problem(f"no {key.replace('_', ' ')} on the first page", key)]
            )
        out[key] = found.group(1).strip()
    try:
        out["invoice_date"] = datetime.strptime(out["invoice_date"], fmt).date()
    except ValueError:
        raise InputError(
            [Where(name, 1, 1).problem("not a date", "invoice_date", out["invoice_date"])]
        ) from None
    return out


def parse(path: Path, on_page: Callable[[int, int], None] | None = None) -> ParsedInvoice:
    """Read one invoice PDF (see the module doc); ``on_page(done, pages)`` after each page is
    read. Raises :class:`InputError` naming the file, page and line of the first problem."""
    name = Path(path).name
    pages = read_lines(path, on_page)
    layout = detect(pages, name)
    invoice = ParsedInvoice(layout=layout, pages=len(pages), **_header(layout, pages, name))
    row, header = _ROWS[layout], LAYOUTS[layout]
    summary = [
        (re.compile(rf"^{label} (?P<amount>{_AMT})$"), key) for label, key in _SUMMARY[layout]
    ]
    seen: dict[str, Where] = {}
    running = Decimal("0.00")
    for page_no, lines in enumerate(pages, 1):
        in_table, last = False, None
        for line_no, line in enumerate(lines, 1):
            where = Where(name, page_no, line_no)
            if header.match(line):
                in_table, last = True, None
                continue
            hit = next(((m, key) for p, key in summary if (m := p.match(line))), None)
            if hit:
                match, key = hit
                invoice.totals[key] = _amount(match["amount"])
                seen[key] = where
                if "pct" in match.groupdict():
                    invoice.rates[key] = Decimal(match["pct"]) / 100
                in_table = False
                continue
            carried = _CARRIED.match(line)
            if carried:
                if _amount(carried["amount"]) != running:
                    raise InputError(
                        [
                            where.problem(
                                f"carried forward {carried['amount']} but the lots so far add "
                                f"up to {running:,}",
                                "hammer",
                            )
                        ]
                    )
                continue
            if not in_table or _SKIP.match(line) or (page_no > 1 and line_no == 1):
                continue
            lot = row.match(line)
            if lot:
                record = _lot(layout, lot, where)
                running += record["hammer"]
                invoice.lots.append(record)
                last = record
            elif layout == "catalogue" and last is not None and not re.search(_AMT + "$", line):
                last["description"] += " " + line  # a title wrapped onto a second line
            else:
                raise InputError([where.problem("cannot read this lot line", None, line)])
    _check(invoice, seen, name, pages)
    return invoice


def _lot(layout: str, match: re.Match, where: Where) -> dict:
    record = {
        "lot_number": match["lot"],
        "description": match["desc"].strip(),
        "quantity": int(match.groupdict().get("qty") or 1),
        "hammer": _amount(match["hammer"]),
        "where": where,
    }
    if record["quantity"] < 1:
        raise InputError([where.problem("quantity must be at least 1", "qty", match["qty"])])
    if layout == "lot-lines":
        record["premium"] = _amount(match["premium"])
        record["tax"] = _amount(match["tax"])
        total = _amount(match["total"])
        if record["hammer"] + record["premium"] + record["tax"] != total:
            raise InputError(
                [
                    where.problem(
                        f"hammer {match['hammer']} + premium {match['premium']} + tax "
                        f"{match['tax']} is not the line total {match['total']}",
                        "total",
                    )
                ]
            )
    return record


def _check(invoice: ParsedInvoice, seen: dict[str, Where], name: str, pages: list) -> None:
    """Every printed total present and consistent, to the cent."""
    end = Where(name, len(pages), len(pages[-1]))
    if not invoice.lots:
        raise InputError([end.problem("no lots found in the invoice")])
    numbers: dict[str, Where] = {}
    for lot in invoice.lots:
        if lot["lot_number"] in numbers:
            raise InputError(
                [lot["where"].problem("lot number appears twice", "lot", lot["lot_number"])]
            )
        numbers[lot["lot_number"]] = lot["where"]
    needed = [key for _, key in _SUMMARY[invoice.layout]]
    missing = [k for k in needed if k not in invoice.totals]
    if missing:
        raise InputError([end.problem(f"no {missing[0].replace('_', ' ')} line in the summary")])
    t = invoice.totals
    hammer = sum((lot["hammer"] for lot in invoice.lots), Decimal("0.00"))
    if invoice.layout == "lot-lines":
        premium = sum((lot["premium"] for lot in invoice.lots), Decimal("0.00"))
        tax = sum((lot["tax"] for lot in invoice.lots), Decimal("0.00"))
        if hammer + premium + tax != t["lines_total"]:
            raise InputError(
                [
                    seen["lines_total"].problem(
                        f"the lot lines add up to {hammer + premium + tax}, the subtotal says "
                        f"{t['lines_total']}",
                        "subtotal",
                    )
                ]
            )
        t.update(hammer_total=hammer, premium=premium, tax=tax)
    else:
        if hammer != t["hammer_total"]:
            raise InputError(
                [
                    seen["hammer_total"].problem(
                        f"the lots' hammer prices add up to {hammer}, the invoice says "
                        f"{t['hammer_total']}",
                        "hammer_total",
                    )
                ]
            )
        premium_due = costs.cents(hammer * invoice.rates["premium"])
        tax_due = costs.cents((hammer + t["premium"]) * invoice.rates["tax"])
        for key, due in (("premium", premium_due), ("tax", tax_due)):
            if t[key] != due:
                rate = invoice.rates[key] * 100
                raise InputError(
                    [
                        seen[key].problem(
                            f"{key} {t[key]} is not {rate.normalize():f}% (= {due})", key
                        )
                    ]
                )
    parts = t["hammer_total"] + t["premium"] + t["tax"] + t["shipping"]
    if parts != t["total"]:
        raise InputError(
            [
                seen["total"].problem(
                    f"amounts do not add up: hammer {t['hammer_total']} + premium {t['premium']} "
                    f"+ tax {t['tax']} + shipping {t['shipping']} = {parts}, the invoice says "
                    f"{t['total']}",
                    "total",
                )
            ]
        )


@dataclass(frozen=True)
class ImportResult:
    """What :func:`import_invoice` did: ``landed`` (lots and items stored) or ``already
    imported`` (nothing stored), with the invoice key and counts."""

    file: str
    status: str
    invoice_key: str
    layout: str | None = None
    lots: int = 0
    items: int = 0
    total: float = 0.0


def import_invoice(
    eng: sa.Engine,
    path: Path,
    *,
    actor: str,
    on_page: Callable[[int, int], None] | None = None,
) -> ImportResult:
    """Parse ``path`` and store its invoice, lots and items in one transaction (audited);
    a file (sha256) or an invoice (house + number) already stored lands nothing, also when
    two imports of it run at once (the database's unique keys decide; the loser retries and
    finds it landed). ``on_page(done, pages)`` reports reading progress. Raises
    :class:`InputError` (see :func:`parse`), or for an invoice number already imported from
    another file with other amounts."""
    import tenacity

    path = Path(path)
    sha = store.file_sha256(path) if path.is_file() else None
    known = _landed(eng, path, sha, None)
    if known is not None:
        return known
    invoice = parse(path, on_page=on_page)
    retrying = tenacity.Retrying(
        retry=tenacity.retry_if_exception_type((sa.exc.IntegrityError, sa.exc.OperationalError)),
        stop=tenacity.stop_after_attempt(5),
        wait=tenacity.wait_random(0.05, 0.5),
        reraise=True,
    )
    return retrying(_store_invoice, eng, path, sha, invoice, actor)


def _landed(
    eng: sa.Engine, path: Path, sha: str | None, invoice: ParsedInvoice | None
) -> ImportResult | None:
    """``already imported`` when the file (by sha256) or the invoice (by key, same total) is
    stored; None when neither is. Raises :class:`InputError` for the invoice's key stored with
    another total."""
    if sha is not None:
        known = repo.invoice_by_sha(eng, sha)
        if known is not None:
            return ImportResult(
                path.name, "already imported", known["invoice_key"], known["layout"]
            )
    if invoice is None:
        return None
    with eng.connect() as conn:
        stored = conn.execute(
            sa.select(resale_invoices).where(resale_invoices.c.invoice_key == invoice.invoice_key)
        ).first()
    if stored is None:
        return None
    if abs(stored.total - float(invoice.totals["total"])) < 0.005:
        return ImportResult(path.name, "already imported", invoice.invoice_key, invoice.layout)
    raise InputError(
        [
            InputProblem(
                path.name,
                None,
                "total",
                f"invoice {invoice.invoice_key} was imported before from "
                f"{stored.source_file} with total {stored.total:,.2f}",
                f"{invoice.totals['total']:,}",
            )
        ]
    )


def _store_invoice(
    eng: sa.Engine, path: Path, sha: str | None, invoice: ParsedInvoice, actor: str
) -> ImportResult:
    known = _landed(eng, path, sha, invoice)
    if known is not None:
        return known
    t = invoice.totals
    row = {
        "invoice_key": invoice.invoice_key,
        "invoice_id": invoice.invoice_id,
        "auction_house": invoice.house,
        "auction_id": invoice.auction_id,
        "invoice_date": invoice.invoice_date,
        "layout": invoice.layout,
        "hammer_total": float(t["hammer_total"]),
        "premium_total": float(t["premium"]),
        "tax_total": float(t["tax"]),
        "shipping_total": float(t["shipping"]),
        "total": float(t["total"]),
        "currency": invoice.currency,
        "source_file": path.name,
        "sha256": sha,
        "pages": invoice.pages,
        "imported_by": actor,
        "imported_at": datetime.now(UTC),
    }
    counts = repo.add_lots(
        eng,
        invoice.lots_frame(path.name),
        actor=actor,
        reason=f"invoice {invoice.invoice_id} ({path.name})",
        invoice=row,
        source=path.name,
    )
    if not counts["lots"]:  # every lot already stored: another import landed it first
        return ImportResult(path.name, "already imported", invoice.invoice_key, invoice.layout)
    return ImportResult(
        path.name,
        "landed",
        invoice.invoice_key,
        invoice.layout,
        counts["lots"],
        counts["items"],
        float(t["total"]),
    )


def import_invoices(
    eng: sa.Engine,
    paths: list[Path],
    *,
    actor: str,
    on_progress: Callable[[ImportResult], None] | None = None,
    on_page: Callable[[str, int, int], None] | None = None,
) -> list[ImportResult]:
    """:func:`import_invoice` for each file in turn (each its own transaction: a bad file
    stops the run with its :class:`InputError`, the files before it stay landed);
    ``on_progress`` is called after each, ``on_page(file name, done, pages)`` as a file is
    read."""
    out = []
    for path in paths:
        pages = (
            None if on_page is None else (lambda d, n, name=Path(path).name: on_page(name, d, n))
        )
        result = import_invoice(eng, path, actor=actor, on_page=pages)
        out.append(result)
        if on_progress is not None:
            on_progress(result)
    return out
