"""Canonical tables: each defined once (columns, dtypes, checks, key, documentation).

Every source adapter produces frames in these shapes and the snapshot store refuses anything else.
Later work extends a table by adding a (nullable) column here; readers select columns by name.

Two kinds of table:

* ``state``  -- a full picture at a date (sellers, products; later listings, stock). Reading
  ``as_of`` D gives the latest snapshot whose ``snapshot_date`` <= D.
* ``events`` -- facts that happened on a day (orders). Each ``snapshot_date`` partition holds the
  events of that day (UTC); reading ``as_of`` D gives every partition with ``snapshot_date`` <= D.

Conventions: timestamps are UTC (``Datetime('us', 'UTC')``); money is a float in the row's
``currency`` (ISO 4217); quantities are whole units (Int32).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

import pandera.polars as pa
import polars as pl

from lib.errors import InputError, InputProblem

#: Lineage columns an adapter may attach so validation errors name the source file and row.
SOURCE_FILE = "_source_file"
SOURCE_ROW = "_source_row"

#: Order statuses the canonical ``orders`` table accepts (lower case).
ORDER_STATUSES = (
    "created", "approved", "invoiced", "processing", "shipped", "delivered",
    "canceled", "unavailable", "returned", "refunded",
)
#: Statuses whose lines are not sales: excluded from revenue, units and every metric built on them.
NON_SALE_STATUSES = ("canceled", "unavailable", "returned", "refunded")


@dataclass(frozen=True)
class Column:
    name: str
    dtype: pl.DataType
    description: str
    nullable: bool = False
    checks: tuple[pa.Check, ...] = ()


@dataclass(frozen=True)
class Table:
    name: str
    kind: Literal["state", "events"]
    description: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...]
    _schema: pa.DataFrameSchema = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        schema = pa.DataFrameSchema(
            {
                c.name: pa.Column(c.dtype, checks=list(c.checks), nullable=c.nullable)
                for c in self.columns
            },
            unique=list(self.primary_key),
            strict=False,
            name=self.name,
        )
        object.__setattr__(self, "_schema", schema)

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def polars_schema(self) -> pl.Schema:
        return pl.Schema({c.name: c.dtype for c in self.columns})

    def conform(self, frame: pl.DataFrame, keep: tuple[str, ...] = (),
                source_columns: Mapping[str, str] | None = None) -> pl.DataFrame:
        """Validate ``frame`` and return it in canonical shape, sorted by the primary key.

        Input: any polars frame holding (at least) this table's columns, castable to their
        dtypes, optionally with the lineage columns ``_source_file``/``_source_row``.
        Output: exactly this table's columns, in order, with canonical dtypes (plus the ``keep``
        columns, passed through unchecked); rows sorted by the primary key so that the same input
        always gives the same bytes.

        Raises :class:`InputError` naming file, row and column of every failing cell (taken from
        the lineage columns when present, else the 1-based row of ``frame``); ``source_columns``
        maps canonical names to the source's own column names for those messages.
        """
        names = dict(source_columns or {})
        missing = [c for c in self.column_names if c not in frame.columns]
        if missing:
            raise InputError(
                [InputProblem(self.name, None, m, f"missing column for table '{self.name}'")
                 for m in missing]
            )
        lineage = [c for c in (SOURCE_FILE, SOURCE_ROW) if c in frame.columns]
        problems: list[InputProblem] = []
        cast_cols = []
        for col in self.columns:
            src = frame[col.name]
            if src.dtype == col.dtype:
                cast_cols.append(src)
                continue
            cast = src.cast(col.dtype, strict=False)
            bad = cast.is_null() & src.is_not_null()
            for idx in bad.arg_true().head(20).to_list():
                problems.append(self._problem(frame, idx, names.get(col.name, col.name),
                                              f"cannot convert to {col.dtype}", src[idx]))
            cast_cols.append(cast)
        if problems:
            raise InputError(problems)
        typed = pl.DataFrame(cast_cols).with_columns(frame.select(*lineage, *keep))
        try:
            self._schema.validate(typed, lazy=True)
        except (pa.errors.SchemaErrors, pa.errors.SchemaError) as exc:
            raise InputError(self._problems_from(typed, exc, names)) from None
        return typed.select(*self.column_names, *keep).sort(list(self.primary_key))

    def empty(self) -> pl.DataFrame:
        return pl.DataFrame(schema=self.polars_schema)

    # -- helpers -----------------------------------------------------------------------------

    def _problem(self, frame: pl.DataFrame, idx: int | None, column: str | None,
                 message: str, value: object = None) -> InputProblem:
        file, row = self.name, (idx + 1 if idx is not None else None)
        if idx is not None and SOURCE_FILE in frame.columns:
            file = str(frame[SOURCE_FILE][idx])
        if idx is not None and SOURCE_ROW in frame.columns:
            row = int(frame[SOURCE_ROW][idx])
        return InputProblem(file, row, column, message,
                            None if value is None else str(value))

    def _problems_from(self, frame: pl.DataFrame, exc: Exception,
                       names: Mapping[str, str]) -> list[InputProblem]:
        cases = getattr(exc, "failure_cases", None)
        if cases is None:  # a SchemaError from a non-lazy path
            return [InputProblem(self.name, None, None, str(exc).splitlines()[0])]
        problems = []
        for case in cases.head(50).iter_rows(named=True):
            idx = case.get("index")
            column = case.get("column")
            if column == self.name or column is None:  # DataFrameSchema-level: uniqueness
                key = ", ".join(self.primary_key)
                value = None if idx is None else "/".join(
                    str(frame[k][idx]) for k in self.primary_key)
                problems.append(self._problem(frame, idx, key,
                                              f"duplicate primary key ({key})", value))
            else:
                problems.append(self._problem(frame, idx, names.get(column, column),
                                              f"fails check {case.get('check')}",
                                              case.get("failure_case")))
        return sorted(problems, key=lambda p: (p.file, p.row or 0))


UTC_TS = pl.Datetime("us", "UTC")
_non_negative = (pa.Check.ge(0),)

SELLERS = Table(
    name="sellers",
    kind="state",
    description="One row per seller account on a platform (the platform's register of sellers).",
    primary_key=("platform", "seller_id"),
    columns=(
        Column("platform", pl.String, "Marketplace code, lower case (olist, ebay, blokpax, ...)."),
        Column("seller_id", pl.String,
               "The platform's seller id (or username when that is the id)."),
        Column("seller_name", pl.String, "Display name as the platform shows it.", nullable=True),
        Column("city", pl.String, "City of the seller's address.", nullable=True),
        Column("region", pl.String, "State/region code of the seller's address.", nullable=True),
        Column("country", pl.String, "ISO 3166-1 alpha-2 country code.", nullable=True),
    ),
)

PRODUCTS = Table(
    name="products",
    kind="state",
    description="The catalog: one row per SKU with its descriptive attributes.",
    primary_key=("sku",),
    columns=(
        Column("sku", pl.String, "Stock keeping unit: the catalog's product identifier."),
        Column("title", pl.String, "Product title.", nullable=True),
        Column("category", pl.String, "Category (English name where the source has one).",
               nullable=True),
        Column("category_source", pl.String, "Category as the source names it.", nullable=True),
        Column("brand", pl.String, "Brand.", nullable=True),
        Column("gtin", pl.String, "GTIN/UPC/EAN barcode.", nullable=True),
        Column("weight_g", pl.Float64, "Shipping weight, grams.", nullable=True,
               checks=_non_negative),
    ),
)

ORDERS = Table(
    name="orders",
    kind="events",
    description="One row per order line (a unit or several units of one SKU in one order).",
    primary_key=("platform", "order_id", "line"),
    columns=(
        Column("order_ts", UTC_TS, "When the order was placed (UTC)."),
        Column("platform", pl.String, "Marketplace code, lower case."),
        Column("order_id", pl.String, "The platform's order id."),
        Column("line", pl.Int32, "Line number within the order, from 1.", checks=(pa.Check.ge(1),)),
        Column("seller_id", pl.String, "The platform's seller id (joins sellers)."),
        Column("sku", pl.String, "SKU sold (joins products)."),
        Column("quantity", pl.Int32, "Units on the line.", checks=(pa.Check.ge(1),)),
        Column("unit_price", pl.Float64, "Price per unit, in `currency`, excluding freight.",
               checks=_non_negative),
        Column("freight", pl.Float64, "Freight charged for the line, in `currency`.",
               nullable=True, checks=_non_negative),
        Column("currency", pl.String, "ISO 4217 currency code.",
               checks=(pa.Check.str_length(3, 3),)),
        Column("status", pl.String, "Order status, one of ORDER_STATUSES.",
               checks=(pa.Check.isin(ORDER_STATUSES),)),
    ),
)

TABLES: dict[str, Table] = {t.name: t for t in (SELLERS, PRODUCTS, ORDERS)}


def table(name: str) -> Table:
    """Look up a canonical table; raises ``KeyError`` naming the known tables."""
    try:
        return TABLES[name]
    except KeyError:
        raise KeyError(f"unknown table {name!r}; known: {', '.join(TABLES)}") from None
