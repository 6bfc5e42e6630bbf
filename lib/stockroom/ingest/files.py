"""Reading source files as published, keeping each row's file and row number for error messages."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from stockroom.errors import InputError, InputProblem
from stockroom.tables import SOURCE_FILE, SOURCE_ROW


def read_source(path: Path, required: list[str]) -> pl.DataFrame:
    """Read a CSV (UTF-8, BOM and CRLF tolerated; all cells as strings) or Parquet file.

    Returns the file's columns plus ``_source_file`` (str, the file name) and ``_source_row``
    (Int64, 1-based data row, header not counted). Raises :class:`InputError` naming the file if
    it is missing, unreadable, or lacks any of ``required`` columns.
    """
    if not path.is_file():
        raise InputError([InputProblem(str(path), None, None, "file not found")])
    try:
        if path.suffix.lower() == ".parquet":
            frame = pl.read_parquet(path)
        else:
            frame = pl.read_csv(path, infer_schema=False)
    except Exception as exc:  # polars raises several types; all mean "cannot read this file"
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError([InputProblem(str(path), None, None, f"cannot read: {first}")]) from exc
    frame = frame.rename({c: c.strip() for c in frame.columns})
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise InputError(
            [
                InputProblem(
                    str(path), None, c, f"missing column (found: {', '.join(frame.columns)})"
                )
                for c in missing
            ]
        )
    return frame.with_columns(
        pl.lit(path.name).alias(SOURCE_FILE),
        pl.int_range(1, pl.len() + 1, dtype=pl.Int64).alias(SOURCE_ROW),
    )


def parse_column(
    frame: pl.DataFrame,
    column: str,
    dtype: pl.DataType,
    datetime_format: str | None = "%Y-%m-%d %H:%M:%S",
) -> pl.DataFrame:
    """Convert a string column to ``dtype`` (already-typed columns pass through).

    Blank cells become null. A non-blank cell that does not parse raises :class:`InputError`
    naming file, row and column of each bad cell (up to 20).
    """
    src = frame[column]
    if src.dtype == dtype or (dtype == pl.Datetime and isinstance(src.dtype, pl.Datetime)):
        return frame
    text = src.cast(pl.String).str.strip_chars()
    text = pl.when(text == "").then(None).otherwise(text)
    as_text = frame.select(text.alias(column))[column]
    if dtype == pl.Datetime:
        parsed = as_text.str.strptime(pl.Datetime("us"), datetime_format, strict=False)
        kind = f"a timestamp ({datetime_format})"
    else:
        parsed = as_text.cast(dtype, strict=False)
        kind = f"{dtype}"
    bad = (parsed.is_null() & as_text.is_not_null()).arg_true().head(20).to_list()
    if bad:
        raise InputError(
            [
                InputProblem(
                    frame[SOURCE_FILE][i],
                    int(frame[SOURCE_ROW][i]),
                    column,
                    f"cannot parse as {kind}",
                    as_text[i],
                )
                for i in bad
            ]
        )
    return frame.with_columns(parsed.alias(column))


_MONEY = r"^[\$€£]?\s*-?[\d,]*\.?\d+\s*(?:USD|EUR|GBP)?$"


def money(column: str) -> pl.Expr:
    """Text money (``$1,097.00``, ``12.5``, ``€3``) as a plain decimal string for casting.

    Thousands commas and currency symbols go; a cell that does not look like money is left as
    it is, so validation quarantines it with its original value.
    """
    text = pl.col(column).cast(pl.String).str.strip_chars()
    return (
        pl.when(text.str.contains(_MONEY))
        .then(text.str.replace_all(r"[^\d.\-]", ""))
        .otherwise(text)
        .alias(column)
    )


# -- numbers as the user meant them: decimal comma or decimal point, per column ------------------

_SYMBOLS = r"[\$€£¥₽]|\b(?:USD|EUR|GBP|JPY|RUB|CAD|AUD|PLN|CHF)\b"
_SPACES = r"[\s\u00a0\u202f']"  # spaces, no-break spaces and apostrophes group thousands
#: cells only a decimal comma explains: 1,5 / 12,50 / 1.234,5 / 0,12345
_COMMA_DECIMAL = r"^-?(?:\d+,\d{1,2}|\d+,\d{4,}|\d{1,3}(?:\.\d{3})+,\d+)$"
#: cells only a decimal point explains: 1.5 / 12.50 / 1,234.5 / 0.12345
_POINT_DECIMAL = r"^-?(?:\d+\.\d{1,2}|\d+\.\d{4,}|\d{1,3}(?:,\d{3})+\.\d+)$"


def _number_text(column: str) -> pl.Expr:
    """The cell without currency symbols, codes and digit-grouping spaces."""
    text = pl.col(column).cast(pl.String).str.strip_chars()
    return text.str.replace_all(_SYMBOLS, "").str.replace_all(_SPACES, "")


def decimal_marks(
    frame: pl.DataFrame, columns: list[str], delimiter: str | None = None
) -> dict[str, str]:
    """The decimal mark (``","`` or ``"."``) of each number column of a text export.

    Each column decides from its own cells: one written ``1,50`` or ``1.234,5`` (only a decimal
    comma explains it) against one written ``1.50`` or ``1,234.5``. A column with no such cell
    (whole numbers, or only ``1,500``-like cells) takes the mark the other columns agree on,
    else the file's convention: ``;``-delimited files are written where the comma is the
    decimal mark (the reason they use ``;``), everything else uses the point. A column with
    cells of both kinds keeps ``"mixed"``: :func:`numbers` then reads each unambiguous cell by
    its own kind and leaves ``1,500``-like cells unparsed, so validation quarantines them.
    """
    decided: dict[str, str] = {}
    for column in columns:
        if column not in frame.columns or frame.schema[column] != pl.String:
            continue
        if delimiter != ";" and not frame[column].str.contains(",", literal=True).any():
            continue  # no comma anywhere: nothing here can be a decimal comma
        # each distinct cell once (prices repeat: a million rows hold a few thousand values)
        text = (
            frame.select(pl.col(column).unique())
            .select(_number_text(column).alias("t"))["t"]
            .drop_nulls()
        )
        comma = text.str.contains(_COMMA_DECIMAL).any()
        point = text.str.contains(_POINT_DECIMAL).any()
        if comma and point:
            decided[column] = "mixed"
        elif comma or point:
            decided[column] = "," if comma else "."
    agreed = {m for m in decided.values() if m != "mixed"}
    fallback = agreed.pop() if len(agreed) == 1 else ("," if delimiter == ";" else ".")
    return {c: decided.get(c, fallback) for c in columns}


def numbers(frame: pl.DataFrame, columns: list[str], delimiter: str | None = None) -> pl.DataFrame:
    """Number text as written by people -> plain ``1234.5`` text for casting, per column.

    Currency symbols and codes and digit-grouping spaces go; thousands separators go and the
    decimal mark becomes a point, by :func:`decimal_marks` (so ``1,50`` in a ``;`` export is
    1.5, never 150; ``1.234,50`` is 1234.5; ``$1,097.00`` is 1097). A cell that does not look like
    a number, and an ambiguous ``1,500`` in a column mixing both marks, are left as they are, so
    validation quarantines them with their original value. Columns that are already typed, or
    whose cells all read as plain numbers with a point, are returned untouched (the common case,
    ten times cheaper than the expressions).
    """
    marks = decimal_marks(frame, columns, delimiter)
    exprs = []
    for column, mark in marks.items():
        src = frame[column]
        if src.dtype != pl.String:
            continue
        plain = src.cast(pl.Float64, strict=False).null_count() == src.null_count()
        if plain and mark == "." and not src.str.contains(",", literal=True).any():
            continue
        text = _number_text(column)
        comma_read = text.str.replace_all(r"\.", "").str.replace(",", ".", literal=True)
        point_read = text.str.replace_all(",", "", literal=True)
        if mark == ",":
            value = pl.when(text.str.contains(r"^-?[\d.]*,?\d+$")).then(comma_read)
        elif mark == ".":
            value = pl.when(text.str.contains(r"^-?[\d,]*\.?\d+$")).then(point_read)
        else:
            value = (
                pl.when(text.str.contains(_COMMA_DECIMAL))
                .then(comma_read)
                .when(text.str.contains(_POINT_DECIMAL) | text.str.contains(r"^-?\d+$"))
                .then(point_read)
            )
        exprs.append(value.otherwise(pl.col(column)).alias(column))
    return frame.with_columns(exprs) if exprs else frame


def parse_timestamps(
    frame: pl.DataFrame,
    column: str,
    table: str,
    source_column: str | None = None,
    assume_tz: str = "UTC",
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Parse a text column of ISO-8601-like timestamps (or dates) to UTC; set bad rows aside.

    Accepts ``2024-06-27``, ``2024-06-27 10:00[:00]``, ``2024-06-27T10:00:00Z`` and offsets
    (``+02:00``). Naive values are taken in ``assume_tz``. Returns the frame with the column as
    ``Datetime(us, UTC)`` minus the bad rows, and those rows in ``QUARANTINE_SCHEMA``.
    """
    from stockroom.tables import QUARANTINE_SCHEMA

    if isinstance(frame.schema[column], pl.Datetime):
        col = pl.col(column)
        tz = frame.schema[column].time_zone
        fixed = col.dt.replace_time_zone(assume_tz) if tz is None else col
        return frame.with_columns(
            fixed.dt.convert_time_zone("UTC").dt.cast_time_unit("us")
        ), pl.DataFrame(schema=QUARANTINE_SCHEMA)
    text = pl.col(column).cast(pl.String).str.strip_chars()
    for fast_format in ("%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%d %H:%M:%S"):  # polars' fast paths
        fast = frame[column].str.to_datetime(fast_format, strict=False, time_unit="us")
        if fast.null_count() == frame[column].null_count():  # every cell in this format
            zone = "UTC" if fast_format.endswith("Z") else assume_tz
            fast = fast.dt.replace_time_zone(
                zone, ambiguous="earliest", non_existent="null"
            ).dt.convert_time_zone("UTC")
            if fast.null_count() == frame[column].null_count():
                return (
                    frame.with_columns(fast.alias(column)),
                    pl.DataFrame(schema=QUARANTINE_SCHEMA),
                )
    aware = text.str.contains(r"(Z|[+-]\d\d:?\d\d)$")
    parsed_aware = text.str.to_datetime(
        "%Y-%m-%dT%H:%M:%S%.f%#z", strict=False, time_unit="us", time_zone="UTC"
    )
    naive_text = text.str.replace("T", " ")
    parsed_naive = (
        pl.coalesce(
            naive_text.str.to_datetime("%Y-%m-%d %H:%M:%S%.f", strict=False, time_unit="us"),
            naive_text.str.to_datetime("%Y-%m-%d %H:%M", strict=False, time_unit="us"),
            naive_text.str.to_datetime("%Y-%m-%d", strict=False, time_unit="us"),
        )
        .dt.replace_time_zone(assume_tz, ambiguous="earliest", non_existent="null")
        .dt.convert_time_zone("UTC")
    )
    parsed = pl.when(aware).then(parsed_aware).otherwise(parsed_naive)
    out = frame.with_columns(parsed.alias("_parsed"))
    bad_mask = pl.col("_parsed").is_null() & text.is_not_null()
    bad = out.filter(bad_mask)
    rejected = bad.select(
        pl.lit(table).alias("table"),
        pl.col(SOURCE_FILE).cast(pl.String).alias("source_file"),
        pl.col(SOURCE_ROW).cast(pl.Int64).alias("source_row"),
        pl.lit(source_column or column).alias("column"),
        pl.col(column).cast(pl.String).alias("value"),
        pl.lit("cannot parse as a timestamp (YYYY-MM-DD[ HH:MM[:SS]][Z|+HH:MM])").alias("reason"),
        pl.struct(
            [pl.col(c).cast(pl.String) for c in frame.columns if c not in (SOURCE_FILE, SOURCE_ROW)]
        )
        .struct.json_encode()
        .alias("record"),
    )
    good = out.filter(~bad_mask).with_columns(pl.col("_parsed").alias(column)).drop("_parsed")
    return good, rejected.cast(dict(QUARANTINE_SCHEMA))
