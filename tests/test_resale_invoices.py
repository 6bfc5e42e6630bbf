"""Auction invoice PDFs: each layout generated from known lots and read back to the cent; bad
files refused with file, page and line; the same invoice lands once."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import date
from decimal import Decimal

import polars as pl
import pytest
import sqlalchemy as sa

from stockroom import workbench
from stockroom.errors import InputError
from stockroom.resale import invoices, repo
from stockroom.sim import invoices as sim

D = Decimal


def _known(layout: str) -> sim.Invoice:
    """A hand-written invoice of ``layout`` with awkward amounts (odd cents, thousands)."""
    lots = (
        sim.Lot("7", "Brass desk lamp", 1, D("100.00"), D("18.00"), D("9.74"), "80-120"),
        sim.Lot(
            "12", "Bentwood chairs, set of three", 3, D("50.50"), D("9.09"), D("4.92"), "40-60"
        ),
        sim.Lot(
            "13A",
            "Oil on canvas, harbour scene",
            1,
            D("1250.99"),
            D("225.18"),
            D("121.78"),
            "900-1,400",
        ),
    )
    return sim.Invoice(
        layout=layout,
        house=sim.HOUSES[layout],
        invoice_id="INV-2026-00042",
        auction_id="S0314-2",
        invoice_date=date(2026, 3, 14),
        lots=lots,
        premium_rate=D("0.18"),
        tax_rate=D("0.0725"),
        shipping=D("37.45"),
    )


@pytest.mark.parametrize("layout", sim.LAYOUTS)
def test_each_layout_is_read_to_the_cent(tmp_path, layout):
    invoice = _known(layout)
    path = sim.render(invoice, tmp_path / f"{layout}.pdf")
    parsed = invoices.parse(path)
    assert parsed.layout == layout
    assert (parsed.invoice_id, parsed.auction_id, parsed.invoice_date) == (
        "INV-2026-00042",
        "S0314-2",
        date(2026, 3, 14),
    )
    assert parsed.house.lower() == sim.HOUSES[layout].lower()
    assert parsed.totals["total"] == invoice.total
    expected = sim.expected_lots(invoice)
    got = parsed.allocated()
    keys = (
        "lot_number",
        "description",
        "quantity",
        "hammer",
        "premium",
        "tax",
        "shipping",
        "total_cost",
    )
    assert [{k: lot[k] for k in keys} for lot in got] == [{k: e[k] for k in keys} for e in expected]
    assert sum(lot["total_cost"] for lot in got) == invoice.total


def test_summary_percent_by_hand(tmp_path):
    """Premium 18 % of hammer 1,401.49 = 252.27; tax 7.25 % of 1,653.76 = 119.90; shipping
    37.45 split 100.00 : 50.50 : 1,250.99 of the hammer."""
    invoice = _known("summary-percent")
    assert (invoice.hammer_total, invoice.premium_total, invoice.tax_total) == (
        D("1401.49"),
        D("252.27"),
        D("119.90"),
    )
    parsed = invoices.parse(sim.render(invoice, tmp_path / "inv.pdf"))
    lots = parsed.allocated()
    assert [lot["shipping"] for lot in lots] == [D("2.67"), D("1.35"), D("33.43")]
    assert [lot["premium"] for lot in lots] == [D("18.00"), D("9.09"), D("225.18")]
    assert lots[1]["total_cost"] == D("50.50") + D("9.09") + lots[1]["tax"] + D("1.35")


def test_a_long_catalogue_runs_over_pages_with_wrapped_titles(tmp_path):
    rng = random.Random(3)
    invoice = sim.random_invoice(rng, "catalogue", 9, date(2026, 5, 2))
    invoice = replace(invoice, lots=invoice.lots * 2)  # 2 x the lots: 3+ pages
    invoice = replace(
        invoice,
        lots=tuple(replace(lot, lot_number=str(i + 1)) for i, lot in enumerate(invoice.lots)),
    )
    parsed = invoices.parse(sim.render(invoice, tmp_path / "long.pdf"))
    assert parsed.pages >= 2
    assert [lot["description"] for lot in parsed.lots] == [lot.description for lot in invoice.lots]
    assert [lot["total_cost"] for lot in parsed.allocated()] == [
        e["total_cost"] for e in sim.expected_lots(invoice)
    ]


def test_many_random_invoices_round_trip(tmp_path):
    written = sim.write_invoices(tmp_path, 12, date(2026, 1, 5), seed=7)
    for invoice in written:
        parsed = invoices.parse(tmp_path / f"{invoice.invoice_id}.pdf")
        assert [lot["total_cost"] for lot in parsed.allocated()] == [
            e["total_cost"] for e in sim.expected_lots(invoice)
        ], invoice.invoice_id


@pytest.mark.parametrize("layout", sim.LAYOUTS)
def test_a_total_that_does_not_add_up_names_page_and_line(tmp_path, layout):
    path = sim.render(sim.tampered(_known(layout), D("0.01")), tmp_path / "bad.pdf")
    with pytest.raises(InputError) as err:
        invoices.parse(path)
    message = str(err.value)
    assert message.startswith("bad.pdf, page 1, line ")
    assert "amounts do not add up" in message and "column 'total'" in message


def test_unreadable_encrypted_empty_and_unknown_files_are_refused(tmp_path):
    encrypted = sim.render(
        replace(_known("lot-lines"), meta={"password": "s3cret"}), tmp_path / "enc.pdf"
    )
    with pytest.raises(InputError, match="enc.pdf: the PDF is encrypted"):
        invoices.parse(encrypted)
    junk = tmp_path / "junk.pdf"
    junk.write_bytes(b"%PDF-1.4 this is not really a PDF")
    with pytest.raises(InputError, match="junk.pdf: not a readable PDF"):
        invoices.parse(junk)
    from fpdf import FPDF

    blank, other = FPDF(), FPDF()
    blank.add_page()
    blank.output(str(tmp_path / "blank.pdf"))
    with pytest.raises(InputError, match="blank.pdf: the PDF has no text"):
        invoices.parse(tmp_path / "blank.pdf")
    other.add_page()
    other.set_font("Helvetica", size=10)
    other.cell(100, 6, "Receipt for your purchase: 1 x lamp 20.00")
    other.output(str(tmp_path / "receipt.pdf"))
    with pytest.raises(InputError, match="receipt.pdf, page 1, line 1: unknown invoice layout"):
        invoices.parse(tmp_path / "receipt.pdf")


def _stored(eng) -> tuple[int, int, int]:
    with eng.connect() as conn:
        return tuple(
            conn.execute(sa.select(sa.func.count()).select_from(t)).scalar()
            for t in (workbench.resale_invoices, workbench.resale_lots, workbench.resale_items)
        )


def test_import_lands_an_invoice_once_and_a_bad_one_not_at_all(tmp_path):
    eng = workbench.engine(tmp_path)
    invoice = _known("lot-lines")
    path = sim.render(invoice, tmp_path / "a.pdf")
    first = invoices.import_invoice(eng, path, actor="ann")
    assert (first.status, first.lots, first.items) == ("landed", 3, 5)
    assert first.invoice_key == "LEA:INV-2026-00042"
    assert invoices.import_invoice(eng, path, actor="ann").status == "already imported"
    # the same invoice downloaded again (other bytes): still once
    again = sim.render(replace(invoice, meta={"copy": 2}), tmp_path / "a (1).pdf")
    assert invoices.import_invoice(eng, again, actor="ann").status == "already imported"
    assert _stored(eng) == (1, 3, 5)
    items = repo.items(eng)
    assert items["cost"].sum() == pytest.approx(float(invoice.total))
    chairs = items.filter(pl.col("lot_id") == "LEA:INV-2026-00042:12")["cost"].to_list()
    assert len(chairs) == 3 and sum(chairs) == pytest.approx(50.50 + 9.09 + 4.92 + 1.35)
    # a different invoice under the same number with other amounts is refused
    clash = sim.render(replace(invoice, shipping=D("99.00")), tmp_path / "b.pdf")
    with pytest.raises(InputError, match="was imported before from a.pdf"):
        invoices.import_invoice(eng, clash, actor="ann")
    bad = sim.render(sim.tampered(_known("catalogue")), tmp_path / "c.pdf")
    with pytest.raises(InputError):
        invoices.import_invoice(eng, bad, actor="ann")
    assert _stored(eng) == (1, 3, 5)


def test_two_imports_of_one_invoice_at_once_land_it_once(tmp_path):
    """Two processes import the same PDF at the same moment: one lands it, the other finds it
    landed; nothing twice, nothing lost."""
    import subprocess
    import sys

    root = tmp_path / "root"
    root.mkdir()
    rng = random.Random(11)
    invoice = sim.random_invoice(rng, "catalogue", 1, date(2026, 4, 1))
    path = sim.render(invoice, tmp_path / "big.pdf")
    workbench.engine(root)  # migrated before the race (the race is the import, not the schema)
    command = [sys.executable, "-m", "stockroom_jobs.cli", "resale", "import-invoices", str(path)]
    command += ["--actor", "ann", "--data-root", str(root)]
    procs = [
        subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=300)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    said = " ".join(outputs)
    assert said.count(": landed") == 1 and said.count(": already imported") == 1, said
    eng = workbench.engine(root)
    assert _stored(eng) == (1, len(invoice.lots), len(invoice.lots))
