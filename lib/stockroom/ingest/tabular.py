"""CSV and Excel exports: sniff the file's dialect, map header aliases, read every cell as text.

Sellers export from every platform and spreadsheet there is, so nothing about the file is assumed:

* **encoding**: a BOM decides (UTF-8/16/32); otherwise UTF-8 if the bytes decode, else
  ``charset-normalizer``'s best guess (cp1252, latin-1, ...);
* **delimiter**: ``csv.Sniffer`` over a sample, restricted to ``, ; TAB | #``;
* **quoting**: off when no field in the sample starts with a quote (the Leipzig benchmark files
  have bare ``"`` inside text), on otherwise;
* **line endings**: LF, CRLF or CR, reported for the record (the parser takes any);
* **headers**: trimmed and matched case-, space- and punctuation-insensitively against
  :data:`ALIASES` (``Sale Price`` -> ``price``, ``Custom label (SKU)`` -> ``sku``, ...).

Excel workbooks (.xlsx/.xlsm/.xls) are read with fastexcel (calamine); the first sheet with the
required columns is used, so description sheets next to the data are skipped.

Every frame returned carries ``_source_file`` (file name, plus ``[sheet]`` for workbooks) and
``_source_row`` (1-based data row, header excluded) so validation can name the cell.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import charset_normalizer
import polars as pl

from stockroom.errors import InputError, InputProblem
from stockroom.tables import SOURCE_FILE, SOURCE_ROW

EXCEL_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".xlsb", ".ods")
DELIMITERS = ",;\t|#"
SAMPLE_BYTES = 1 << 16
WESTERN = ("cp1252", "iso8859_15", "latin_1", "cp1250", "mac_roman")

#: Canonical column -> header spellings seen in platform exports (compared after :func:`key`).
ALIASES: dict[str, tuple[str, ...]] = {
    "platform": ("platform", "marketplace", "channel", "site"),
    "listing_id": ("listing_id", "item_id", "item_number", "listing", "offer_id"),
    "seller_id": ("seller_id", "seller", "seller_username", "username", "vendor_id", "shop_id"),
    "seller_name": ("seller_name", "store_name", "shop_name", "vendor", "vendor_name"),
    "sku": (
        "sku",
        "seller_sku",
        "item_sku",
        "custom_label_sku",
        "custom_label",
        "style_code",
        "product_code",
        "article",
        "variant_sku",
    ),
    "title": ("title", "item_title", "listing_title", "product_name", "name", "sneaker_name"),
    "quantity": (
        "quantity",
        "qty",
        "available",
        "available_quantity",
        "stock",
        "quantity_available",
        "variant_inventory_qty",
    ),
    "price": (
        "price",
        "sale_price",
        "current_price",
        "start_price",
        "unit_price",
        "price_usd",
        "asking_price",
        "variant_price",
    ),
    "currency": ("currency", "currency_code"),
    "status": ("status", "listing_status", "state"),
    "listed_at": ("listed_at", "start_date", "start_time", "created_at", "listing_date"),
    "url": ("url", "listing_url", "item_url", "link"),
    "notes": ("notes", "note", "comment", "comments", "remarks"),
    "order_date": ("order_date", "sold_at", "sale_date", "order_ts", "date_sold"),
    "retail_price": ("retail_price", "msrp"),
    "brand": ("brand", "manufacturer"),
    "size": ("size", "shoe_size"),
    "region": ("buyer_region", "region", "ship_to_state"),
    "release_date": ("release_date",),
    # the seller's own business (stockroom.ingest.business)
    "order_id": ("order_id", "order_number", "order_no", "invoice", "invoice_no", "invoice_number"),
    "line": ("line", "line_no", "line_number", "line_item_number"),
    "order_ts": ("ordered_at", "order_time", "order_datetime", "invoice_date", "placed_at"),
    "freight": ("freight", "shipping", "shipping_cost", "postage"),
    "location": ("location", "warehouse", "warehouse_code", "location_code"),
    "on_hand": ("on_hand", "qty_on_hand", "on_hand_quantity", "stock_on_hand"),
    "reserved": ("reserved", "committed", "allocated", "reserved_quantity"),
    "unit_cost": ("unit_cost", "cost", "cost_price", "cost_per_item", "purchase_price"),
    "category": ("category", "product_type", "product_category"),
    "platforms": ("platforms", "channels", "list_on"),
    "as_of": ("as_of", "as_of_date", "stock_date", "count_date"),
    "supplier": ("supplier", "supplier_name", "vendor_supplier"),
    "lead_time_days": ("lead_time_days", "lead_time"),
    "review_days": ("review_days", "review_period", "review_period_days"),
    "moq": ("moq", "minimum_order_quantity", "min_order_qty"),
    "pack_size": ("pack_size", "case_pack", "pack"),
    "service_level": ("service_level", "target_service_level"),
    # resale: acquisitions (lots), listings and sales (stockroom.resale.imports)
    "lot_id": ("lot_id", "lot_key", "lot_ref"),
    "auction_house": ("auction_house", "auctioneer", "house", "bought_from", "seller_of_lot"),
    "auction_id": ("auction_id", "sale_id", "auction", "sale_number"),
    "lot_number": ("lot_number", "lot", "lot_no"),
    "acquired_on": (
        "acquired_on",
        "acquisition_date",
        "purchase_date",
        "bought_on",
        "date_acquired",
    ),
    "description": ("description", "item_description", "details"),
    "subcategory": ("subcategory", "sub_category"),
    "condition": ("condition", "item_condition"),
    "model": ("model", "model_name"),
    "hammer": ("hammer", "hammer_price", "winning_bid", "bid_amount", "bid"),
    "premium": ("premium", "buyers_premium", "buyer_premium", "buyer_s_premium"),
    "tax": ("tax", "sales_tax", "vat"),
    "bin": ("bin", "shelf", "bin_location"),
    "estimated_value": ("estimated_value", "est_value", "estimate", "value"),
    "keywords": ("keywords", "tags"),
    "list_price": ("list_price", "listing_price", "ask", "ask_price"),
    "listed_on": ("listed_on", "date_listed", "list_date"),
    "sold_on": ("sold_on", "sold_date"),
    "sold_price": ("sold_price", "sold_for"),
    "platform_fees": ("platform_fees", "fees", "selling_fees", "final_value_fee"),
    "buyer_shipping": ("buyer_shipping", "shipping_charged", "shipping_paid_by_buyer"),
    "actual_shipping": ("actual_shipping", "postage_cost", "label_cost", "shipping_label"),
}


def key(header: str) -> str:
    """Header comparison key: lower case, every run of non-alphanumerics one underscore."""
    return re.sub(r"[^0-9a-z]+", "_", header.strip().lower()).strip("_")


_ALIAS_INDEX = {key(alias): canon for canon, aliases in ALIASES.items() for alias in aliases}


@dataclass(frozen=True)
class Dialect:
    """What was detected about a text file (recorded in logs and tests)."""

    encoding: str
    bom: bool
    delimiter: str
    quoting: bool
    line_ending: str  # "LF", "CRLF", "CR" or "none"


@dataclass(frozen=True)
class Sheet:
    """One table read from a file: cells as text with lineage; ``columns`` maps canonical
    names to the source's header, ``dialect`` is None for workbooks."""

    frame: pl.DataFrame
    columns: dict[str, str]
    dialect: Dialect | None
    name: str
    ignored: tuple[str, ...] = ()  # source headers no canonical column takes (not landed)

    def warnings(self, source: str) -> list[str]:
        """What a run record should say about this sheet (unrecognised headers)."""
        if not self.ignored:
            return []
        return [
            f"{source}: {len(self.ignored)} column(s) not recognised, not landed: "
            + ", ".join(self.ignored)
        ]


_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def sniff(path: Path) -> Dialect:
    """Detect encoding, BOM, delimiter, quoting and line endings from the file's first 64 KiB."""
    raw = _read_head(path)
    encoding, bom = _encoding(raw)
    text = raw.decode(encoding, errors="replace")
    text = text[: text.rfind("\n") + 1] or text  # whole lines only
    crlf, lf, cr = text.count("\r\n"), text.count("\n"), text.count("\r")
    line_ending = "CRLF" if crlf and crlf >= lf - crlf else "LF" if lf else "CR" if cr else "none"
    lines = [ln for ln in text.splitlines() if ln.strip()][:200]
    delimiter = _delimiter(lines, path)
    quoting = any(field.startswith('"') for ln in lines for field in ln.split(delimiter))
    return Dialect(encoding, bom, delimiter, quoting, line_ending)


def _read_head(path: Path) -> bytes:
    check_size(path)
    with open(path, "rb") as fh:
        return fh.read(SAMPLE_BYTES)


def check_size(path: Path) -> None:
    """Raise :class:`InputError` naming the file when it is missing, larger than
    :func:`stockroom.config.max_file_mb`, or a workbook that would unpack to more than
    :func:`stockroom.config.max_unpacked_mb` (a zip bomb: its XML is measured from the zip's
    directory before anything is decompressed)."""
    from stockroom import config

    if not path.is_file():
        raise InputError([InputProblem(str(path), None, None, "file not found")])
    size_mb = path.stat().st_size / 1e6
    if size_mb > config.max_file_mb():
        raise InputError(
            [
                InputProblem(
                    str(path),
                    None,
                    None,
                    f"{size_mb:,.0f} MB is above the {config.max_file_mb():,.0f} MB limit "
                    "(STOCKROOM_MAX_FILE_MB)",
                )
            ]
        )
    if path.suffix.lower() in (".xlsx", ".xlsm", ".xlsb", ".ods") and zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            unpacked_mb = sum(i.file_size for i in archive.infolist()) / 1e6
        if unpacked_mb > config.max_unpacked_mb():
            raise InputError(
                [
                    InputProblem(
                        str(path),
                        None,
                        None,
                        f"the workbook unpacks to {unpacked_mb:,.0f} MB, above the "
                        f"{config.max_unpacked_mb():,.0f} MB limit (STOCKROOM_MAX_UNPACKED_MB)",
                    )
                ]
            )


def _encoding(raw: bytes) -> tuple[str, bool]:
    for bom, name in _BOMS:
        if raw.startswith(bom):
            return name, True
    try:
        raw.decode("utf-8")
        return "utf-8", False
    except UnicodeDecodeError as exc:
        if exc.start >= len(raw) - 3:  # a multi-byte char cut by the sample edge
            return "utf-8", False
    # Seller exports are mostly from Western spreadsheets: prefer a single-byte Western code
    # page when it reads cleanly (short samples otherwise fool detection into e.g. gb18030).
    # among the Western code pages that read it cleanly, the most common one wins (cp1252 over
    # cp1250: "crème" is far likelier than "crčme" in a seller's export)
    clean = [
        m for m in charset_normalizer.from_bytes(raw, cp_isolation=list(WESTERN)) if m.chaos < 0.05
    ]
    if clean:
        least = min(m.chaos for m in clean)
        near = [m.encoding for m in clean if m.chaos <= least + 0.01]
        return min(near, key=lambda e: WESTERN.index(e) if e in WESTERN else len(WESTERN)), False
    best = charset_normalizer.from_bytes(raw).best()
    return (best.encoding if best else "latin-1"), False


def _delimiter(lines: list[str], path: Path) -> str:
    if not lines:
        raise InputError([InputProblem(str(path), None, None, "empty file")])
    try:
        return csv.Sniffer().sniff("\n".join(lines[:50]), delimiters=DELIMITERS).delimiter
    except csv.Error:
        pass
    # Sniffer gives up on ragged text; take the candidate most consistent across lines
    header = lines[0]
    counts = {d: header.count(d) for d in DELIMITERS if header.count(d)}
    if not counts:
        return ","  # one column
    return max(counts, key=lambda d: (sum(ln.count(d) == counts[d] for ln in lines), counts[d]))


def read_csv(path: Path, dialect: Dialect | None = None) -> pl.DataFrame:
    """Read a delimited text file as all-text columns (headers trimmed) with lineage columns.

    Raises :class:`InputError` naming the file when it is missing or cannot be parsed.
    """
    dialect = dialect or sniff(path)
    try:
        if dialect.encoding in ("utf-8", "utf-8-sig"):
            source: Path | io.BytesIO = path
        else:  # polars reads UTF-8 only: transcode once in memory
            source = io.BytesIO(path.read_bytes().decode(dialect.encoding).encode("utf-8"))
        frame = pl.read_csv(
            source,
            separator=dialect.delimiter,
            infer_schema=False,
            quote_char='"' if dialect.quoting else None,
            truncate_ragged_lines=False,
            raise_if_empty=True,
        )
    except Exception as exc:  # polars raises several types; all mean "cannot parse"
        ragged = _ragged_row(path, dialect)
        if ragged is not None:
            raise InputError([ragged]) from exc
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError([InputProblem(str(path), None, None, f"cannot read: {first}")]) from exc
    frame = frame.rename({c: c.replace("\ufeff", "").strip() for c in frame.columns})
    return _with_lineage(frame, path.name)


def _ragged_row(path: Path, dialect: Dialect) -> InputProblem | None:
    """The first data row whose field count differs from the header's (what polars refuses
    without saying where), read again with the standard csv module."""
    with open(path, encoding=dialect.encoding, errors="replace", newline="") as fh:
        reader = csv.reader(
            fh,
            delimiter=dialect.delimiter,
            quoting=csv.QUOTE_MINIMAL if dialect.quoting else csv.QUOTE_NONE,
        )
        try:
            header = next(reader)
        except (StopIteration, csv.Error):
            return None
        for row_number, fields in enumerate(reader, start=1):
            if fields and len(fields) != len(header):
                return InputProblem(
                    path.name,
                    row_number,
                    None,
                    f"has {len(fields)} fields where the header has {len(header)} "
                    f"(delimiter {dialect.delimiter!r}); fix the row or quote the cell",
                )
    return None


def _with_lineage(frame: pl.DataFrame, name: str) -> pl.DataFrame:
    return frame.with_columns(
        pl.lit(name).alias(SOURCE_FILE),
        pl.int_range(1, pl.len() + 1, dtype=pl.Int64).alias(SOURCE_ROW),
    )


def read_excel_sheets(path: Path) -> dict[str, pl.DataFrame]:
    """Every sheet of a workbook as all-text columns (headers and cells trimmed), with lineage.
    Raises :class:`InputError` for a missing, oversized or unreadable file (:func:`check_size`).
    """
    check_size(path)
    try:
        sheets = pl.read_excel(
            path, sheet_id=0, engine="calamine", infer_schema_length=0, raise_if_empty=False
        )
    except Exception as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError([InputProblem(str(path), None, None, f"cannot read: {first}")]) from exc
    out = {}
    for name, frame in sheets.items():
        frame = frame.rename({c: c.strip() for c in frame.columns})
        frame = frame.with_columns(pl.col(pl.String).str.strip_chars())
        out[name] = _with_lineage(frame, f"{path.name}[{name}]")
    return out


def canonical_columns(
    headers: Iterable[str], extra: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Map source headers to canonical names: ``{canonical: source header}``.

    ``extra`` (canonical -> a layout's header, compared by :func:`key`; absent ones are
    skipped) wins over :data:`ALIASES`. The first header that matches a canonical name takes it.
    """
    headers = list(headers)
    by_key = {key(h): h for h in reversed(headers)}
    mapping: dict[str, str] = {}
    for canon, header in (extra or {}).items():
        if key(header) in by_key:
            mapping[canon] = by_key[key(header)]
    taken = set(mapping.values())
    for header in headers:
        if header in (SOURCE_FILE, SOURCE_ROW) or header in taken:
            continue
        canon = _ALIAS_INDEX.get(key(header))
        if canon and canon not in mapping:
            mapping[canon] = header
    return mapping


def read_table(
    path: Path, required: Iterable[str], aliases: Mapping[str, str] | None = None
) -> Sheet:
    """Read a CSV/TSV/Excel export and rename its headers to canonical names.

    Returns a :class:`Sheet` whose frame has the canonical columns found (all text; extra
    source columns are dropped) plus lineage. For a workbook the first sheet holding every
    ``required`` column is used. Raises :class:`InputError` naming the file and each missing
    required column (with the headers that were found).
    """
    path = Path(path)
    required = list(required)
    if path.suffix.lower() in EXCEL_SUFFIXES:
        candidates = [(name, frame, None) for name, frame in read_excel_sheets(path).items()]
    else:
        dialect = sniff(path)
        candidates = [(path.name, read_csv(path, dialect), dialect)]
    best = None
    for name, frame, dialect in candidates:
        columns = canonical_columns(frame.columns, aliases)
        missing = [c for c in required if c not in columns]
        if best is None or len(missing) < len(best[3]):
            best = (name, frame, columns, missing, dialect)
        if not missing:
            break
    name, frame, columns, missing, dialect = best
    where = path.name if len(candidates) == 1 else f"{path.name} (sheet {name!r})"
    return as_sheet(frame, required, aliases, where, dialect, name)


def as_sheet(
    frame: pl.DataFrame,
    required: Iterable[str],
    aliases: Mapping[str, str] | None,
    where: str,
    dialect: Dialect | None = None,
    name: str | None = None,
) -> Sheet:
    """A frame of text cells with lineage (a file read, or rows pulled from a database) as a
    :class:`Sheet` with canonical column names; raises :class:`InputError` naming ``where``
    and each missing ``required`` column (with the headers found)."""
    columns = canonical_columns(frame.columns, aliases)
    missing = [c for c in required if c not in columns]
    if missing:
        found = ", ".join(c for c in frame.columns if c not in (SOURCE_FILE, SOURCE_ROW))
        raise InputError(
            [InputProblem(where, None, c, f"missing column (found: {found})") for c in missing]
        )
    renamed = frame.select(
        *[pl.col(src).alias(canon) for canon, src in columns.items()], SOURCE_FILE, SOURCE_ROW
    )
    stripped = {c: pl.col(c).cast(pl.String).str.strip_chars() for c in columns}
    text = renamed.with_columns(
        [pl.when(s == "").then(None).otherwise(s).alias(c) for c, s in stripped.items()]
    )
    taken = set(columns.values()) | {SOURCE_FILE, SOURCE_ROW}
    ignored = tuple(c for c in frame.columns if c not in taken)
    return Sheet(text, columns, dialect, name or where, ignored)
