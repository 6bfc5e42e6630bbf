"""Lots, listings and sales from a seller's spreadsheet (CSV or Excel), and the resale workbook
out (.xlsx).

Reading goes through the workbench's one tabular reader
(:func:`stockroom.ingest.tabular.read_table`: encodings, delimiters, Excel sheets, the agreed
header aliases), so ``Winning Bid``, ``Buyer's Premium``, ``Sales Tax``, ``Date Sold``,
``Sold For`` ... are understood. What each kind needs: :data:`REQUIRED`; a missing column
fails with the file and the headers found.

The workbook is written by xlsxwriter in constant-memory mode -- row by row, typed cells (dates
as dates, money with two decimals, shares as percentages), one sheet per table, the header
frozen -- so 100,000 items take a few tens of MiB, not the whole workbook in memory.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl

from stockroom.export import neutralise
from stockroom.ingest import files, tabular
from stockroom.tables import SOURCE_ROW

KINDS = ("lots", "listings", "sales")
REQUIRED = {
    "lots": ("title", "acquired_on", "hammer"),
    "listings": ("listing_id", "platform", "list_price"),
    "sales": ("listing_id", "platform", "sold_on", "sold_price"),
}
#: canonical names the shared aliases give -> the resale name they stand for here
_RENAME = {
    "title": "name",
    "listing_id": "item_id",
    "freight": "shipping",
    "order_date": "sold_on",
    "listed_at": "listed_on",
    "quantity": "quantity",
}
_DATES = ("acquired_on", "listed_on", "sold_on")
_MONEY = (
    "hammer",
    "premium",
    "tax",
    "shipping",
    "estimated_value",
    "list_price",
    "sold_price",
    "platform_fees",
    "buyer_shipping",
    "actual_shipping",
)


def read(path: Path, kind: str) -> tuple[pl.DataFrame, list[str]]:
    """The rows of ``path`` as resale ``kind`` (lots / listings / sales) with canonical column
    names, dates parsed, money as plain decimal text and lineage columns, and the warnings
    for the run record (headers not recognised, so not imported). Lots get defaults:
    lot_id from the file name and row when absent, quantity 1, premium/tax/shipping 0,
    currency USD. Raises :class:`InputError` naming the file and a missing column, or the
    row and column of a date that is not one."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
    path = Path(path)
    sheet = tabular.read_table(path, REQUIRED[kind])
    frame = sheet.frame.rename(
        {
            k: v
            for k, v in _RENAME.items()
            if k in sheet.frame.columns and v not in sheet.frame.columns
        }
    )
    if kind == "sales" and "sold_price" not in frame.columns and "price" in frame.columns:
        frame = frame.rename({"price": "sold_price"})
    for column in _DATES:
        if column in frame.columns:
            frame = parse_dates(frame, column, sheet.columns.get(column, column))
    frame = frame.with_columns(files.money(c) for c in _MONEY if c in frame.columns)
    if kind == "lots":
        stem = path.stem
        defaults = {
            "lot_id": pl.concat_str(pl.lit(f"{stem}:"), pl.col(SOURCE_ROW).cast(pl.String)),
            "quantity": pl.lit("1"),
            "premium": pl.lit("0"),
            "tax": pl.lit("0"),
            "shipping": pl.lit("0"),
            "currency": pl.lit("USD"),
        }
        frame = frame.with_columns(
            (pl.coalesce(pl.col(c), e) if c in frame.columns else e).alias(c)
            for c, e in defaults.items()
        )
    return frame, sheet.warnings(path.name)


def parse_dates(frame: pl.DataFrame, column: str, source: str) -> pl.DataFrame:
    """``column`` (text, or a timestamp from Excel) parsed to a Date
    (:func:`stockroom.ingest.files.parse_timestamps`); :class:`InputError` naming the file,
    row and ``source`` column of the first bad cells, so a bad date lands nothing."""
    from stockroom.errors import InputError, InputProblem

    parsed, bad = files.parse_timestamps(frame, column, "resale", source)
    if bad.height:
        raise InputError(
            [
                InputProblem(r["source_file"], r["source_row"], source, r["reason"], r["value"])
                for r in bad.head(20).iter_rows(named=True)
            ]
        )
    return parsed.with_columns(pl.col(column).dt.date())


# -- the workbook ----------------------------------------------------------------------------------

#: per sheet: (column, heading, kind) with kind text / date / money / share / int / days
ITEM_SHEET = (
    ("item_id", "Item", "text"),
    ("name", "Name", "text"),
    ("category", "Category", "text"),
    ("condition", "Condition", "text"),
    ("location", "Location", "text"),
    ("bin", "Bin", "text"),
    ("acquired_on", "Acquired", "date"),
    ("cost", "Total cost", "money"),
    ("estimated_value", "Estimated value", "money"),
    ("status", "Status", "text"),
    ("platform", "Platform", "text"),
    ("list_price", "List price", "money"),
    ("listed_on", "Listed", "date"),
    ("sold_on", "Sold", "date"),
    ("sold_price", "Sold price", "money"),
    ("buyer_shipping", "Shipping paid by buyer", "money"),
    ("platform_fees", "Platform fees", "money"),
    ("actual_shipping", "Actual shipping", "money"),
    ("net_profit", "Net profit", "money"),
    ("roi", "ROI", "share"),
    ("days_to_sell", "Days to sell", "int"),
    ("days_listed", "Days listed", "int"),
    ("age_days", "Age (days)", "int"),
    ("currency", "Currency", "text"),
)
LISTING_SHEET = (
    ("listing_id", "Listing", "int"),
    ("item_id", "Item", "text"),
    ("platform", "Platform", "text"),
    ("status", "Status", "text"),
    ("list_price", "List price", "money"),
    ("listed_on", "Listed", "date"),
    ("sold_on", "Sold", "date"),
    ("sold_price", "Sold price", "money"),
    ("platform_fees", "Platform fees", "money"),
    ("buyer_shipping", "Shipping paid by buyer", "money"),
    ("actual_shipping", "Actual shipping", "money"),
    ("currency", "Currency", "text"),
)
_CHUNK = 20_000


def write_workbook(path: Path, sheets: dict[str, tuple[pl.DataFrame, tuple]], on_rows=None) -> Path:
    """Write ``sheets`` ({sheet name: (frame, columns spec)}) to the .xlsx at ``path``,
    streaming (see module doc); text cells neutralised against formula injection
    (:func:`stockroom.export.neutralise`). ``on_rows(sheet, done, total)`` reports progress.
    Raises ``FileNotFoundError`` when the folder does not exist."""
    import xlsxwriter

    path = Path(path)
    if not path.parent.is_dir():
        raise FileNotFoundError(f"{path.parent} does not exist (not creating it)")
    options = {
        "constant_memory": True,
        "strings_to_formulas": False,
        "strings_to_urls": False,
        "strings_to_numbers": False,
    }
    with xlsxwriter.Workbook(str(path), options) as book:
        formats = {
            "head": book.add_format({"bold": True, "bottom": 1}),
            "date": book.add_format({"num_format": "yyyy-mm-dd"}),
            "money": book.add_format({"num_format": "#,##0.00"}),
            "share": book.add_format({"num_format": "0.0%"}),
            "int": None,
            "text": None,
        }
        for name, (frame, spec) in sheets.items():
            sheet = book.add_worksheet(name[:31])
            sheet.freeze_panes(1, 0)
            for j, (_, heading, kind) in enumerate(spec):
                sheet.write_string(0, j, heading, formats["head"])
                sheet.set_column(j, j, 12 if kind != "text" else 22)
            columns = [c for c, _, _ in spec]
            kinds = [k for _, _, k in spec]
            r = 1
            for start in range(0, frame.height, _CHUNK):
                chunk = neutralise(frame.slice(start, _CHUNK).select(columns))
                for row in chunk.iter_rows():
                    for j, value in enumerate(row):
                        if value is None:
                            continue
                        kind = kinds[j]
                        if kind == "text":
                            sheet.write_string(r, j, str(value))
                        elif kind == "date":
                            sheet.write_datetime(r, j, _as_datetime(value), formats["date"])
                        else:
                            sheet.write_number(r, j, value, formats[kind])
                    r += 1
                if on_rows is not None:
                    on_rows(name, min(start + _CHUNK, frame.height), frame.height)
    return path


def _as_datetime(value: date):
    from datetime import datetime

    return datetime(value.year, value.month, value.day)
