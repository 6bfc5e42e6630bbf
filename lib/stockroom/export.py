"""The workbench's one CSV, Excel and Parquet writer: CSV and Excel safe to open in a
spreadsheet.

Listing titles, SKUs, seller names and notes come from sellers and scraped pages, so a cell may
hold ``=HYPERLINK(...)``, ``=cmd|' /C calc'!A0``, ``+...``, ``-...`` or ``@SUM(...)``; opened in
Excel or LibreOffice such a cell runs as a formula (CSV injection). Following the OWASP "CSV
Injection" rules, :func:`neutralise` prefixes every text cell that starts with ``=``, ``+``,
``-``, ``@``, a tab or a carriage return with a single quote, so the spreadsheet shows it as
text; numbers (including negative ones) are numeric columns and stay as they are. The Excel
writer goes further: its workbook never turns a string into a formula or a link
(xlsxwriter's ``strings_to_formulas`` / ``strings_to_urls`` off), and text is neutralised too so
the file is the same whichever program reads it.

Every CSV or Excel file Stockroom writes (page downloads, ``procure --export``, reconciliation
action lists) goes through :func:`write_csv` / :func:`write_excel`.
"""

from __future__ import annotations

import io
from pathlib import Path

import polars as pl

#: first characters that make a spreadsheet read a cell as a formula (OWASP)
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` with every text cell that starts like a formula prefixed with ``'``.

    Input and output: any frame; only String columns change, and only those cells. A cell
    already starting with ``'`` is left as it is."""
    pattern = "^[" + "".join("\\" + c if c in "-\\" else c for c in FORMULA_START) + "]"
    text = [name for name, dtype in frame.schema.items() if dtype == pl.String]
    if not text:
        return frame
    return frame.with_columns(
        pl.when(pl.col(c).str.contains(pattern)).then("'" + pl.col(c)).otherwise(pl.col(c)).alias(c)
        for c in text
    )


def write_csv(frame: pl.DataFrame, target: str | Path | None = None) -> bytes | None:
    """Write ``frame`` as UTF-8 CSV with formula cells neutralised; with no ``target`` return the
    bytes (for a download button). Raises ``FileNotFoundError`` when ``target``'s folder does
    not exist (it is never created: a mistyped path fails instead of writing elsewhere)."""
    safe = neutralise(frame)
    if target is None:
        return safe.write_csv().encode("utf-8")
    target = Path(target)
    if not target.parent.is_dir():
        raise FileNotFoundError(f"{target.parent} does not exist (not creating it)")
    safe.write_csv(target)
    return None


def write_parquet(frame: pl.DataFrame, target: str | Path | None = None) -> bytes | None:
    """Write ``frame`` as Parquet (typed columns: no formula risk, nothing neutralised); with no
    ``target`` return the bytes. Same folder rule as :func:`write_csv`."""
    if target is None:
        buffer = io.BytesIO()
        frame.write_parquet(buffer)
        return buffer.getvalue()
    target = Path(target)
    if not target.parent.is_dir():
        raise FileNotFoundError(f"{target.parent} does not exist (not creating it)")
    frame.write_parquet(target)
    return None


def write_excel(
    frame: pl.DataFrame, target: str | Path | None = None, sheet: str = "data"
) -> bytes | None:
    """Write ``frame`` as an .xlsx workbook whose cells are values, never formulas or links;
    with no ``target`` return the bytes. Same folder rule as :func:`write_csv`."""
    import xlsxwriter

    buffer = io.BytesIO()
    options = {"strings_to_formulas": False, "strings_to_urls": False, "in_memory": True}
    if target is not None:
        target = Path(target)
        if not target.parent.is_dir():
            raise FileNotFoundError(f"{target.parent} does not exist (not creating it)")
    with xlsxwriter.Workbook(buffer if target is None else str(target), options) as book:
        neutralise(frame).write_excel(book, worksheet=sheet, autofit=True)
    return buffer.getvalue() if target is None else None
