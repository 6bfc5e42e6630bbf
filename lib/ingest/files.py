"""Reading source files as published, keeping each row's file and row number for error messages."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from lib.errors import InputError, InputProblem
from lib.tables import SOURCE_FILE, SOURCE_ROW


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
        raise InputError([
            InputProblem(str(path), None, c, f"missing column (found: {', '.join(frame.columns)})")
            for c in missing
        ])
    return frame.with_columns(
        pl.lit(path.name).alias(SOURCE_FILE),
        pl.int_range(1, pl.len() + 1, dtype=pl.Int64).alias(SOURCE_ROW),
    )


def parse_column(frame: pl.DataFrame, column: str, dtype: pl.DataType,
                 datetime_format: str | None = "%Y-%m-%d %H:%M:%S") -> pl.DataFrame:
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
        raise InputError([
            InputProblem(frame[SOURCE_FILE][i], int(frame[SOURCE_ROW][i]), column,
                         f"cannot parse as {kind}", as_text[i])
            for i in bad
        ])
    return frame.with_columns(parsed.alias(column))
