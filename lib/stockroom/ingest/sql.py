"""Pull rows from any SQL database through SQLAlchemy, incrementally by an ``updated_at``
watermark.

``pull`` reads a table or a query (wrapped as a subquery), keeping only rows whose watermark
column is strictly greater than the stored watermark, ordered by it, in chunks. The caller lands
the rows and only then stores the new watermark (the largest value read), so a crash re-reads
rather than skips; re-read rows are upserted by primary key, never doubled. Known limit of any
``>`` watermark: a row written *later* with exactly the stored value is missed, so the column
needs enough precision (a microsecond timestamp or a monotonically increasing version).

Credentials stay in the URL the caller passes; :func:`safe_url` is what gets recorded.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl
import sqlalchemy as sa

from stockroom.errors import StockroomError, redact
from stockroom.tables import SOURCE_FILE, SOURCE_ROW


@dataclass
class Pulled:
    frame: pl.DataFrame  # the source's columns (as returned) + lineage
    watermark: str | None  # the largest watermark value read (ISO text), None if no rows
    source: str  # stable name for the watermark store (no password)


def safe_url(url: str | sa.URL) -> str:
    """The URL with its password masked (what logs, runs and watermarks record); a URL that
    does not parse is masked by pattern (its parse error would quote it whole)."""
    try:
        return redact(sa.make_url(url).render_as_string(hide_password=True))
    except sa.exc.ArgumentError:
        return redact(str(url))


def password(url: str | sa.URL) -> str | None:
    """The password inside a database URL (to be redacted wherever text is kept), or None."""
    try:
        parsed = sa.make_url(url)
    except sa.exc.ArgumentError:
        return None
    query = parsed.query.get("password")
    return parsed.password or (query if isinstance(query, str) else None) or None


def pull(
    url: str,
    *,
    table: str | None = None,
    query: str | None = None,
    watermark_column: str = "updated_at",
    since: str | None = None,
    chunk_rows: int = 50_000,
) -> Pulled:
    """Read new rows from ``table`` or ``query`` at ``url`` (any SQLAlchemy URL).

    ``since``: the previous watermark (rows with ``watermark_column > since`` are read; all rows
    when None). Returns the rows as a polars frame with ``_source_file`` = ``<safe url>#<table or
    'query'>`` and ``_source_row`` = 1-based position in this pull. Raises
    :class:`StockroomError` for an unknown table/column or a failing query (password masked).
    """
    if (table is None) == (query is None):
        raise ValueError("give exactly one of table or query")
    name = f"{safe_url(url)}#{table or 'query'}"
    try:
        engine = sa.create_engine(url)
    except (sa.exc.ArgumentError, ImportError) as exc:
        raise StockroomError(f"{safe_url(url)}: not a database URL ({redact(str(exc))})") from None
    try:
        with engine.connect() as conn:
            quote = conn.dialect.identifier_preparer.quote
            if table is not None:
                columns = [c["name"] for c in sa.inspect(conn).get_columns(table)]
                body = quote(table)
            else:
                columns = list(
                    conn.execute(sa.text(f"SELECT * FROM ({query}) AS q WHERE 1 = 0")).keys()
                )
                body = f"({query})"
            if watermark_column not in columns:
                raise StockroomError(
                    f"{name}: no column {watermark_column!r} (columns: {', '.join(columns)})"
                )
            mark = quote(watermark_column)
            where = f" WHERE {mark} > :since" if since is not None else ""
            stmt = sa.text(f"SELECT * FROM {body} AS q{where} ORDER BY {mark}")
            params = {"since": since} if since is not None else {}
            result = conn.execution_options(yield_per=chunk_rows).execute(stmt, params)
            columns = list(result.keys())
            chunks = []
            for part in result.partitions():
                chunks.append(
                    pl.DataFrame(
                        [tuple(r) for r in part],
                        schema=columns,
                        orient="row",
                        infer_schema_length=None,
                    )
                )
    except sa.exc.SQLAlchemyError as exc:
        first = str(exc.orig if getattr(exc, "orig", None) else exc).splitlines()[0]
        raise StockroomError(f"{name}: {redact(first, [password(url) or ''])}") from None
    finally:
        engine.dispose()
    frame = (
        pl.concat(chunks, how="vertical_relaxed")
        if chunks
        else pl.DataFrame(schema={c: pl.String for c in columns})
    )
    frame = frame.with_columns(
        pl.lit(name).alias(SOURCE_FILE),
        pl.int_range(1, pl.len() + 1, dtype=pl.Int64).alias(SOURCE_ROW),
    )
    watermark = None
    if frame.height:
        top = frame[watermark_column].max()
        watermark = top.isoformat(sep=" ") if hasattr(top, "isoformat") else str(top)
    return Pulled(frame, watermark, name)
