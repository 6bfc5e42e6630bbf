"""Auction invoices as PDFs, in three layouts in the style of online auction platforms
(synthetic: the houses, lots and amounts are made up; seeded).

* ``lot-lines`` -- one line per lot with its hammer price, buyer's premium, tax and line total;
  shipping once for the invoice (a timed-auction platform's buyer invoice).
* ``summary-percent`` -- one line per lot with the winning bid only; buyer's premium and sales
  tax as percentages in a summary block, then shipping and the total (a liquidation house).
* ``catalogue`` -- a catalogue sale over several pages: lot, title (wrapping onto a second
  line when long), estimate and hammer; a repeated page header ("Page n of m") and "carried
  forward" subtotals; premium, tax and shipping on the last page.

:func:`render` writes one :class:`Invoice` (written with fpdf2); :func:`expected_lots` is the
truth the importer must reproduce to the cent (invoice-level charges allocated by
:mod:`stockroom.resale.costs`).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from stockroom.resale import costs

LAYOUTS = ("lot-lines", "summary-percent", "catalogue")
HOUSES = {
    "lot-lines": "Lakeside Estate Auctions",
    "summary-percent": "Midwest Liquidation Co.",
    "catalogue": "Harbor Fine Art & Antiques",
}
#: lots per page of the catalogue layout (the rest go on the next page)
CATALOGUE_ROWS = 18


@dataclass(frozen=True)
class Lot:
    """One lot as the invoice prints it; ``premium`` and ``tax`` are set for ``lot-lines``
    only (the other layouts charge them on the whole invoice)."""

    lot_number: str
    description: str
    quantity: int
    hammer: Decimal
    premium: Decimal | None = None
    tax: Decimal | None = None
    estimate: str | None = None
    category: str | None = None


@dataclass(frozen=True)
class Invoice:
    layout: str
    house: str
    invoice_id: str
    auction_id: str
    invoice_date: date
    lots: tuple[Lot, ...]
    premium_rate: Decimal = Decimal("0.18")
    tax_rate: Decimal = Decimal("0.0725")
    shipping: Decimal = Decimal("0.00")
    meta: dict = field(default_factory=dict)

    @property
    def hammer_total(self) -> Decimal:
        return sum((lot.hammer for lot in self.lots), Decimal("0.00"))

    @property
    def premium_total(self) -> Decimal:
        if self.layout == "lot-lines":
            return sum((lot.premium for lot in self.lots), Decimal("0.00"))
        return costs.cents(self.hammer_total * self.premium_rate)

    @property
    def tax_total(self) -> Decimal:
        if self.layout == "lot-lines":
            return sum((lot.tax for lot in self.lots), Decimal("0.00"))
        return costs.cents((self.hammer_total + self.premium_total) * self.tax_rate)

    @property
    def total(self) -> Decimal:
        return self.hammer_total + self.premium_total + self.tax_total + self.shipping


def money(value: Decimal) -> str:
    """``1234.5`` -> ``1,234.50``."""
    return f"{value:,.2f}"


def expected_lots(invoice: Invoice) -> list[dict]:
    """Per lot: lot_number, description, quantity, hammer, premium, tax, shipping and
    total_cost (Decimal), as the importer must land them."""
    hammers = [lot.hammer for lot in invoice.lots]
    shipping = costs.allocate(invoice.shipping, hammers)
    if invoice.layout == "lot-lines":
        premium = [lot.premium for lot in invoice.lots]
        tax = [lot.tax for lot in invoice.lots]
    else:
        premium = costs.allocate(invoice.premium_total, hammers)
        tax = costs.allocate(invoice.tax_total, hammers)
    out = []
    for i, lot in enumerate(invoice.lots):
        out.append(
            {
                "lot_number": lot.lot_number,
                "description": lot.description,
                # a catalogue prints no quantity: each lot is one piece (a set sells as one)
                "quantity": 1 if invoice.layout == "catalogue" else lot.quantity,
                "hammer": lot.hammer,
                "premium": premium[i],
                "tax": tax[i],
                "shipping": shipping[i],
                "total_cost": lot.hammer + premium[i] + tax[i] + shipping[i],
            }
        )
    return out


# -- writing ------------------------------------------------------------------------------------


def render(invoice: Invoice, path: Path) -> Path:
    """Write ``invoice`` as a PDF at ``path`` in its layout; returns the path."""
    from fpdf import FPDF

    pdf = FPDF(format="Letter", unit="mm")
    pdf.set_auto_page_break(False)
    pdf.set_creator("stockroom.sim.invoices")
    {"lot-lines": _lot_lines, "summary-percent": _summary_percent, "catalogue": _catalogue}[
        invoice.layout
    ](pdf, invoice)
    if invoice.meta.get("password"):
        pdf.set_encryption(owner_password="owner", user_password=invoice.meta["password"])
    path = Path(path)
    pdf.output(str(path))
    return path


def _percent(rate: Decimal) -> str:
    """``0.0725`` -> ``7.25``."""
    return format((rate * 100).normalize(), "f")


def _row(pdf, cells: list[tuple[float, str, str]], height: float = 6) -> None:
    """One line of cells (width mm, text, align L/R)."""
    for width, text, align in cells:
        pdf.cell(width, height, text, align=align)
    pdf.ln(height)


def _summary(pdf, inv: Invoice, labels: tuple[str, ...], widths: tuple[int, int]) -> None:
    """The summary block: hammer, premium, tax, shipping and total (the printed total may be
    tampered with through ``meta``), each label formatted with the ``pct`` and ``tax`` rates."""
    rates = {"pct": _percent(inv.premium_rate), "tax": _percent(inv.tax_rate)}
    values = (
        inv.hammer_total,
        inv.premium_total,
        inv.tax_total,
        inv.shipping,
        inv.meta.get("printed_total", inv.total),
    )
    for label, value in zip(labels, values, strict=True):
        _row(pdf, [(widths[0], label.format(**rates), "R"), (widths[1], money(value), "R")])


def _lot_lines(pdf, inv: Invoice) -> None:
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 14)
    _row(pdf, [(190, inv.house.upper(), "L")], 8)
    pdf.set_font("Helvetica", "", 10)
    _row(pdf, [(190, "Buyer Invoice", "L")])
    _row(
        pdf,
        [(95, f"Invoice: {inv.invoice_id}", "L"), (95, f"Date: {inv.invoice_date:%Y-%m-%d}", "R")],
    )
    _row(pdf, [(190, f"Auction: {inv.auction_id}", "L")])
    _row(pdf, [(190, "Bidder: 4471", "L")])
    pdf.ln(3)
    widths = (14, 78, 12, 22, 22, 20, 22)
    pdf.set_font("Helvetica", "B", 9)
    heads = ("Lot", "Description", "Qty", "Hammer", "Premium", "Tax", "Total")
    _row(
        pdf,
        [(w, h, "L" if i < 2 else "R") for i, (w, h) in enumerate(zip(widths, heads, strict=True))],
    )
    pdf.set_font("Helvetica", "", 9)
    for lot in inv.lots:
        line = lot.hammer + lot.premium + lot.tax
        texts = (
            lot.lot_number,
            lot.description,
            str(lot.quantity),
            money(lot.hammer),
            money(lot.premium),
            money(lot.tax),
            money(line),
        )
        _row(
            pdf,
            [
                (w, t, "L" if i < 2 else "R")
                for i, (w, t) in enumerate(zip(widths, texts, strict=True))
            ],
        )
    pdf.ln(3)
    total = inv.meta.get("printed_total", inv.total)
    for label, value in (
        ("Lots subtotal", inv.hammer_total + inv.premium_total + inv.tax_total),
        ("Shipping", inv.shipping),
        ("Invoice total", total),
    ):
        _row(pdf, [(168, label, "R"), (22, money(value), "R")])
    _row(pdf, [(190, "Currency: USD. Payment due within 7 days.", "L")])


def _summary_percent(pdf, inv: Invoice) -> None:
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 14)
    _row(pdf, [(190, f"{inv.house} - INVOICE", "L")], 8)
    pdf.set_font("Helvetica", "", 10)
    _row(pdf, [(190, f"Invoice # {inv.invoice_id}", "L")])
    _row(
        pdf,
        [
            (95, f"Sale: {inv.auction_id}", "L"),
            (95, f"Sale date: {inv.invoice_date:%m/%d/%Y}", "R"),
        ],
    )
    pdf.ln(3)
    widths = (20, 120, 15, 35)
    pdf.set_font("Helvetica", "B", 9)
    _row(pdf, [(20, "Lot #", "L"), (120, "Item", "L"), (15, "Qty", "R"), (35, "Winning bid", "R")])
    pdf.set_font("Helvetica", "", 9)
    for lot in inv.lots:
        texts = (lot.lot_number, lot.description, str(lot.quantity), money(lot.hammer))
        _row(
            pdf,
            [
                (w, t, "L" if i < 2 else "R")
                for i, (w, t) in enumerate(zip(widths, texts, strict=True))
            ],
        )
    pdf.ln(3)
    labels = (
        "Subtotal (hammer)",
        "Buyer's premium ({pct}%)",
        "Sales tax ({tax}% on hammer + premium)",
        "Shipping & handling",
        "Total due",
    )
    _summary(pdf, inv, labels, (155, 35))


def _catalogue(pdf, inv: Invoice) -> None:
    pages = [inv.lots[i : i + CATALOGUE_ROWS] for i in range(0, len(inv.lots), CATALOGUE_ROWS)]
    carried = Decimal("0.00")
    for number, lots in enumerate(pages, 1):
        pdf.add_page()
        pdf.set_font("Helvetica", "B", 13)
        _row(pdf, [(190, inv.house, "L")], 8)
        pdf.set_font("Helvetica", "", 9)
        _row(
            pdf,
            [
                (110, f"Invoice {inv.invoice_id} / Sale {inv.auction_id}", "L"),
                (80, f"Page {number} of {len(pages)}", "R"),
            ],
        )
        _row(pdf, [(190, f"Invoice date: {inv.invoice_date:%d %B %Y}", "L")])
        pdf.ln(2)
        pdf.set_font("Helvetica", "B", 9)
        _row(
            pdf, [(16, "Lot", "L"), (112, "Title", "L"), (32, "Estimate", "R"), (30, "Hammer", "R")]
        )
        pdf.set_font("Helvetica", "", 9)
        if number > 1:
            _row(pdf, [(160, "Carried forward", "R"), (30, money(carried), "R")])
        for lot in lots:
            top = pdf.get_y()
            pdf.cell(16, 5, lot.lot_number)
            pdf.multi_cell(112, 5, lot.description, new_x="RIGHT", new_y="TOP")
            pdf.cell(32, 5, lot.estimate or "", align="R")
            pdf.cell(30, 5, money(lot.hammer), align="R")
            lines = max(
                1, len(pdf.multi_cell(112, 5, lot.description, dry_run=True, output="LINES"))
            )
            pdf.set_xy(pdf.l_margin, top + 5 * lines + 1)
            carried += lot.hammer
        if number < len(pages):
            _row(pdf, [(160, "Carried forward to next page", "R"), (30, money(carried), "R")])
    pdf.ln(3)
    labels = (
        "Hammer total",
        "Buyer's premium at {pct}%",
        "Tax at {tax}%",
        "Packing and shipping",
        "Amount due",
    )
    _summary(pdf, inv, labels, (160, 30))


# -- random invoices for the demo and the benchmark ----------------------------------------------

_GOODS = {
    "furniture": ["oak side table", "mid-century armchair", "pine blanket chest", "bentwood chair"],
    "electronics": [
        "Dyson V8 vacuum (customer return)",
        "Sony WH-1000XM4 headphones",
        "iPad Air 64GB",
    ],
    "collectibles": ["Hummel figurine", "Pyrex mixing bowl set", "Star Wars figures, loose"],
    "trading cards": ["Pokemon base set binder", "PSA 9 Charizard holo", "sports card shoebox"],
    "art": ["oil on canvas, harbour scene, signed", "framed lithograph, numbered 12/150"],
    "sneakers": ["Nike Dunk Low Panda size 10", "Adidas Yeezy 350 V2 size 9.5"],
}
_ADJ = ("vintage", "boxed", "assorted", "antique", "lot of", "estate", "rare", "restored")


def random_invoice(rng: random.Random, layout: str, number: int, day: date) -> Invoice:
    """A plausible invoice of ``layout`` (seeded by ``rng``): 3-40 lots of made-up goods."""
    n = rng.randint(3, 40 if layout == "catalogue" else 14)
    lots = []
    number = rng.randint(1, 120)
    for _ in range(n):
        number += rng.randint(1, 4)
        category = rng.choice(list(_GOODS))
        name = f"{rng.choice(_ADJ)} {rng.choice(_GOODS[category])}"
        if layout == "catalogue" and rng.random() < 0.3:
            name += ", with provenance from a private collection and the original receipt"
        hammer = costs.cents(
            rng.choice([5, 10, 15, 20, 25, 40, 60, 85, 120, 250, 400]) * rng.uniform(0.5, 2.0)
        )
        qty = 1 if rng.random() < 0.8 or layout == "catalogue" else rng.randint(2, 6)
        premium = costs.cents(hammer * Decimal("0.18")) if layout == "lot-lines" else None
        tax = costs.cents((hammer + premium) * Decimal("0.0825")) if premium is not None else None
        low = int(hammer * Decimal("0.8"))
        lots.append(
            Lot(
                lot_number=str(number),
                description=name[:1].upper() + name[1:],
                quantity=qty,
                hammer=hammer,
                premium=premium,
                tax=tax,
                estimate=f"{low:,}-{int(low * 1.5) + 10:,}",
                category=category,
            )
        )
    prefix = {"lot-lines": "LEA", "summary-percent": "MLC", "catalogue": "H"}[layout]
    return Invoice(
        layout=layout,
        house=HOUSES[layout],
        invoice_id=f"{prefix}-{day:%Y}-{number:05d}",
        auction_id=f"{prefix}{day:%m%d}-{rng.randint(1, 9)}",
        invoice_date=day,
        lots=tuple(lots),
        premium_rate=Decimal(rng.choice(["0.15", "0.18", "0.20", "0.25"])),
        tax_rate=Decimal(rng.choice(["0.0625", "0.07", "0.0725", "0.0825"])),
        shipping=costs.cents(rng.choice([0, 0, 15, 25, 40, 65])),
    )


def write_invoices(
    folder: Path, count: int, start: date, seed: int = 19, every_days: int = 4
) -> list[Invoice]:
    """``count`` random invoices (the three layouts in turn, about ``every_days`` apart from
    ``start``) written as ``<folder>/<invoice_id>.pdf``; returns them."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for i in range(count):
        layout = LAYOUTS[i % len(LAYOUTS)]
        day = start + timedelta(days=rng.randint(0, 3) + every_days * i)
        invoice = random_invoice(rng, layout, i + 1, day)
        render(invoice, folder / f"{invoice.invoice_id}.pdf")
        out.append(invoice)
    return out


def tampered(invoice: Invoice, delta: Decimal = Decimal("10.00")) -> Invoice:
    """The same invoice with a printed total ``delta`` off (for the importer's check)."""
    return replace(invoice, meta={**invoice.meta, "printed_total": invoice.total + delta})
