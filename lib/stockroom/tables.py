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
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Literal

import polars as pl

from stockroom.errors import InputError, InputProblem

if TYPE_CHECKING:
    import pandera.polars as pa

#: Lineage columns an adapter may attach so validation errors name the source file and row.
SOURCE_FILE = "_source_file"
SOURCE_ROW = "_source_row"

#: Columns of quarantined cells (see :meth:`Table.split`); the workbench database keeps them.
QUARANTINE_SCHEMA = pl.Schema(
    {
        "table": pl.String,
        "source_file": pl.String,
        "source_row": pl.Int64,
        "column": pl.String,
        "value": pl.String,
        "reason": pl.String,
        "record": pl.String,
    }
)
_IDX = "_row_idx"
_CELL_SCHEMA = pl.Schema(
    {_IDX: pl.UInt32, "column": pl.String, "value": pl.String, "reason": pl.String}
)

#: Order statuses the canonical ``orders`` table accepts (lower case).
ORDER_STATUSES = (
    "created",
    "approved",
    "invoiced",
    "processing",
    "shipped",
    "delivered",
    "canceled",
    "unavailable",
    "returned",
    "refunded",
)
#: Statuses whose lines are not sales: excluded from revenue, units and every metric built on them.
NON_SALE_STATUSES = ("canceled", "unavailable", "returned", "refunded")


#: control characters no cell may hold (tab, line feed and carriage return are text)
_CONTROL = r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]"
_CONTROL_CHARS = [chr(c) for c in (*range(0, 9), 11, 12, *range(14, 32), 127)]


@dataclass(frozen=True)
class Check:
    """A value check, named after pandera's ``Check`` constructor (``ge``, ``isin``,
    ``str_length``, ...) with its arguments. Kept as plain data and built into pandera when a
    table is first validated, so reading snapshots (the pages) never imports pandera."""

    name: str
    args: tuple = ()

    def build(self) -> pa.Check:
        import pandera.polars as pa

        return getattr(pa.Check, self.name)(*self.args)


@dataclass(frozen=True)
class Column:
    name: str
    dtype: pl.DataType
    description: str
    nullable: bool = False
    checks: tuple[Check, ...] = ()


@dataclass(frozen=True)
class Table:
    name: str
    kind: Literal["state", "events"]
    description: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...]
    #: rows per Parquet row group of its snapshot files (None: polars' default); small groups
    #: let a query for a few keys skip the rest of a large day by the groups' min/max
    row_group_rows: int | None = None
    #: a state table whose daily snapshots are also compacted into month files (events tables
    #: always are), sorted by ``compact_order`` (default: snapshot_date, then the key)
    compacted: bool = False
    compact_order: tuple[str, ...] | None = None

    def _pandera(self, unique: bool) -> pa.DataFrameSchema:
        import pandera.polars as pa

        return pa.DataFrameSchema(
            {
                c.name: pa.Column(
                    c.dtype, checks=[k.build() for k in c.checks], nullable=c.nullable
                )
                for c in self.columns
            },
            unique=list(self.primary_key) if unique else None,
            strict=False,
            name=self.name,
        )

    @cached_property
    def _schema(self) -> pa.DataFrameSchema:
        """The whole-frame schema (dtypes, checks, primary key unique), built on first use."""
        return self._pandera(unique=True)

    @cached_property
    def _row_schema(self) -> pa.DataFrameSchema:
        """The same without the uniqueness check (row by row, for quarantining)."""
        return self._pandera(unique=False)

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def polars_schema(self) -> pl.Schema:
        return pl.Schema({c.name: c.dtype for c in self.columns})

    def conform(
        self,
        frame: pl.DataFrame,
        keep: tuple[str, ...] = (),
        source_columns: Mapping[str, str] | None = None,
    ) -> pl.DataFrame:
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
        frame = self._with_optional(frame)
        missing = [c for c in self.column_names if c not in frame.columns]
        if missing:
            raise InputError(
                [
                    InputProblem(self.name, None, m, f"missing column for table '{self.name}'")
                    for m in missing
                ]
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
                problems.append(
                    self._problem(
                        frame,
                        idx,
                        names.get(col.name, col.name),
                        f"cannot convert to {col.dtype}",
                        src[idx],
                    )
                )
            cast_cols.append(cast)
        if problems:
            raise InputError(problems)
        typed = pl.DataFrame(cast_cols).with_columns(frame.select(*lineage, *keep))
        for cell in self._cell_rules(typed.with_row_index(_IDX)):
            for r in cell.head(20).iter_rows(named=True):
                problems.append(
                    self._problem(
                        frame, r[_IDX], names.get(r["column"], r["column"]), r["reason"], r["value"]
                    )
                )
        if problems:
            raise InputError(problems)
        import pandera.errors

        try:
            self._schema.validate(typed, lazy=True)
        except (pandera.errors.SchemaErrors, pandera.errors.SchemaError) as exc:
            raise InputError(self._problems_from(typed, exc, names)) from None
        return typed.select(*self.column_names, *keep).sort(list(self.primary_key))

    def split(
        self,
        frame: pl.DataFrame,
        source_columns: Mapping[str, str] | None = None,
        keep: tuple[str, ...] = (),
    ) -> tuple[pl.DataFrame, pl.DataFrame]:
        """Row-level validation: return ``(good, bad)`` instead of raising for bad rows.

        ``good`` is what :meth:`conform` would return for the rows that pass every check, in
        input order (not re-sorted: the same input still gives the same bytes, and sorting a
        million string keys costs more than the rest of the validation).
        ``bad`` has the :data:`QUARANTINE_SCHEMA` columns, one row per failing cell: ``table``,
        ``source_file``, ``source_row`` (1-based data row of the source file, header excluded),
        ``column`` (the source's own name), ``value`` (as text), ``reason`` and ``record`` (the
        whole input row as JSON, so nothing is lost). A row whose primary key repeats an earlier
        good row is bad too (the first occurrence lands).

        Dtypes, nullability and value checks are pandera's (one vectorised pass over the frame);
        only the cast and the duplicate-key rule are done here. Raises :class:`InputError` only
        for problems of the whole input (a missing column), never for a bad row.
        """
        names = dict(source_columns or {})
        frame = self._with_optional(frame)
        missing = [c for c in self.column_names if c not in frame.columns]
        if missing:
            raise InputError(
                [
                    InputProblem(
                        str(frame[SOURCE_FILE][0])
                        if SOURCE_FILE in frame.columns and frame.height
                        else self.name,
                        None,
                        names.get(m, m),
                        f"missing column for table '{self.name}'",
                    )
                    for m in missing
                ]
            )
        frame = frame.with_row_index(_IDX)
        lineage = [c for c in (SOURCE_FILE, SOURCE_ROW) if c in frame.columns]
        cells: list[pl.DataFrame] = []  # _IDX, column, value, reason
        cast_cols = []
        for col in self.columns:
            src = frame[col.name]
            if src.dtype == col.dtype:
                cast_cols.append(src)
                continue
            cast = src.cast(col.dtype, strict=False)
            bad = cast.is_null() & src.is_not_null()
            if bad.any():
                cells.append(
                    pl.DataFrame(
                        {
                            _IDX: frame[_IDX].filter(bad),
                            "column": col.name,
                            "value": src.filter(bad).cast(pl.String),
                            "reason": f"cannot convert to {col.dtype}",
                        },
                        schema=_CELL_SCHEMA,
                    )
                )
            cast_cols.append(cast)
        typed = pl.DataFrame(cast_cols).with_columns(frame.select(_IDX, *lineage, *keep))
        cells.extend(self._cell_rules(typed))
        import pandera.errors

        try:
            self._row_schema.validate(typed, lazy=True)
        except pandera.errors.SchemaErrors as exc:
            cases = exc.failure_cases.filter(pl.col("index").is_not_null())
            if cases.height:
                idx = typed[_IDX].gather(cases["index"].cast(pl.UInt32))
                cells.append(
                    pl.DataFrame(
                        {
                            _IDX: idx,
                            "column": cases["column"].cast(pl.String),
                            "value": cases["failure_case"].cast(pl.String),
                            "reason": ("fails check " + cases["check"].cast(pl.String)),
                        },
                        schema=_CELL_SCHEMA,
                    )
                )
        bad_cells = (pl.concat(cells) if cells else pl.DataFrame(schema=_CELL_SCHEMA)).unique(
            [_IDX, "column"], keep="first", maintain_order=True
        )
        keep_rows = (
            typed.filter(~pl.col(_IDX).is_in(bad_cells[_IDX].implode()))
            if bad_cells.height
            else typed
        )
        dup = ~pl.struct(list(self.primary_key)).is_first_distinct()
        key_text = pl.concat_str(
            [pl.col(k).cast(pl.String).fill_null("\x00") for k in self.primary_key],
            separator="\x1f",
        )
        unique = keep_rows.select(key_text.n_unique()).item() == keep_rows.height
        dupes = keep_rows.clear() if unique else keep_rows.filter(dup)
        if dupes.height:
            key = ", ".join(self.primary_key)
            cells_dup = dupes.select(
                _IDX,
                pl.lit(key).alias("column"),
                pl.concat_str(
                    [pl.col(k).cast(pl.String) for k in self.primary_key], separator="/"
                ).alias("value"),
                pl.lit(f"duplicate primary key ({key}): an earlier row has it").alias("reason"),
            )
            bad_cells = pl.concat([bad_cells, cells_dup])
            keep_rows = keep_rows.filter(~dup)
        good = keep_rows.select(*self.column_names, *keep)
        return good, self._quarantine(frame, bad_cells, names)

    def _with_optional(self, frame: pl.DataFrame) -> pl.DataFrame:
        """Nullable columns the frame lacks are null (a column added to a table later need not
        be supplied by every adapter); a missing required column stays an error."""
        absent = [c for c in self.columns if c.nullable and c.name not in frame.columns]
        if not absent:
            return frame
        return frame.with_columns([pl.lit(None, c.dtype).alias(c.name) for c in absent])

    def _cell_rules(self, typed: pl.DataFrame) -> list[pl.DataFrame]:
        """The rules every table shares, beyond each column's checks (``_IDX``, column, value,
        reason per failing cell): numbers are finite (``inf``, ``1e400`` and ``NaN`` are not
        prices); text holds no control characters (a NUL byte, an escape) and is at most
        :func:`stockroom.config.max_cell_chars` characters long."""
        from stockroom import config

        limit = config.max_cell_chars()
        rules: list[tuple[str, pl.Expr, str]] = []
        for col in self.columns:
            c = pl.col(col.name)
            if col.dtype in (pl.Float32, pl.Float64):
                rules.append((col.name, c.is_infinite() | c.is_nan(), "not a finite number"))
            elif col.dtype == pl.String:
                rules.append(
                    (
                        col.name,
                        c.str.contains_any(_CONTROL_CHARS),  # Aho-Corasick: faster than a regex
                        "contains control characters (NUL, escape, ...)",
                    )
                )
                rules.append(
                    (
                        col.name,
                        c.str.len_bytes() > limit,  # cheap first; characters checked below
                        f"longer than {limit:,} characters (STOCKROOM_MAX_CELL_CHARS)",
                    )
                )
        if not rules:
            return []
        flags = typed.select(
            [expr.fill_null(False).alias(f"_r{i}") for i, (_, expr, _) in enumerate(rules)]
        )
        out = []
        for i, (name, _, reason) in enumerate(rules):
            mask = flags[f"_r{i}"]
            if not mask.any():
                continue
            hit = typed.filter(mask)
            if reason.startswith("longer"):
                hit = hit.filter(pl.col(name).str.len_chars() > limit)
                if not hit.height:
                    continue
            value = pl.col(name).cast(pl.String)
            out.append(
                hit.select(
                    _IDX,
                    pl.lit(name).alias("column"),
                    (value.str.slice(0, 200) if reason.startswith("longer") else value)
                    .str.replace_all(_CONTROL, "\ufffd")
                    .alias("value"),
                    pl.lit(reason).alias("reason"),
                ).cast(_CELL_SCHEMA)
            )
        return out

    def _quarantine(
        self, frame: pl.DataFrame, cells: pl.DataFrame, names: Mapping[str, str]
    ) -> pl.DataFrame:
        if not cells.height:
            return pl.DataFrame(schema=QUARANTINE_SCHEMA)
        data_cols = [c for c in frame.columns if c not in (_IDX, SOURCE_FILE, SOURCE_ROW)]
        rows = frame.join(cells.select(_IDX).unique(), on=_IDX).select(
            _IDX,
            (
                pl.col(SOURCE_FILE).cast(pl.String)
                if SOURCE_FILE in frame.columns
                else pl.lit(self.name)
            ).alias("source_file"),
            (
                pl.col(SOURCE_ROW).cast(pl.Int64)
                if SOURCE_ROW in frame.columns
                else pl.col(_IDX).cast(pl.Int64) + 1
            ).alias("source_row"),
            pl.struct([pl.col(c).cast(pl.String) for c in data_cols])
            .struct.json_encode()
            .alias("record"),
        )
        renamed = cells.with_columns(pl.col("column").replace(dict(names)))
        return (
            renamed.join(rows, on=_IDX, how="left")
            .with_columns(pl.lit(self.name).alias("table"))
            .sort("source_file", "source_row", "column")
            .select(*QUARANTINE_SCHEMA.names())
            .cast(dict(QUARANTINE_SCHEMA))
        )

    def empty(self) -> pl.DataFrame:
        return pl.DataFrame(schema=self.polars_schema)

    # -- helpers -----------------------------------------------------------------------------

    def _problem(
        self,
        frame: pl.DataFrame,
        idx: int | None,
        column: str | None,
        message: str,
        value: object = None,
    ) -> InputProblem:
        file, row = self.name, (idx + 1 if idx is not None else None)
        if idx is not None and SOURCE_FILE in frame.columns:
            file = str(frame[SOURCE_FILE][idx])
        if idx is not None and SOURCE_ROW in frame.columns:
            row = int(frame[SOURCE_ROW][idx])
        return InputProblem(file, row, column, message, None if value is None else str(value))

    def _problems_from(
        self, frame: pl.DataFrame, exc: Exception, names: Mapping[str, str]
    ) -> list[InputProblem]:
        cases = getattr(exc, "failure_cases", None)
        if cases is None:  # a SchemaError from a non-lazy path
            return [InputProblem(self.name, None, None, str(exc).splitlines()[0])]
        problems = []
        for case in cases.head(50).iter_rows(named=True):
            idx = case.get("index")
            column = case.get("column")
            if column == self.name or column is None:  # DataFrameSchema-level: uniqueness
                key = ", ".join(self.primary_key)
                value = (
                    None if idx is None else "/".join(str(frame[k][idx]) for k in self.primary_key)
                )
                problems.append(
                    self._problem(frame, idx, key, f"duplicate primary key ({key})", value)
                )
            else:
                problems.append(
                    self._problem(
                        frame,
                        idx,
                        names.get(column, column),
                        f"fails check {case.get('check')}",
                        case.get("failure_case"),
                    )
                )
        return sorted(problems, key=lambda p: (p.file, p.row or 0))


UTC_TS = pl.Datetime("us", "UTC")
_non_negative = (Check("ge", (0,)),)

SELLERS = Table(
    name="sellers",
    kind="state",
    description="One row per seller account on a platform (the platform's register of sellers).",
    primary_key=("platform", "seller_id"),
    columns=(
        Column("platform", pl.String, "Marketplace code, lower case (olist, ebay, blokpax, ...)."),
        Column(
            "seller_id", pl.String, "The platform's seller id (or username when that is the id)."
        ),
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
        Column(
            "category",
            pl.String,
            "Category (English name where the source has one).",
            nullable=True,
        ),
        Column("category_source", pl.String, "Category as the source names it.", nullable=True),
        Column("brand", pl.String, "Brand.", nullable=True),
        Column("gtin", pl.String, "GTIN/UPC/EAN barcode.", nullable=True),
        Column(
            "weight_g", pl.Float64, "Shipping weight, grams.", nullable=True, checks=_non_negative
        ),
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
        Column(
            "line", pl.Int32, "Line number within the order, from 1.", checks=(Check("ge", (1,)),)
        ),
        Column("seller_id", pl.String, "The platform's seller id (joins sellers)."),
        Column("sku", pl.String, "SKU sold (joins products)."),
        Column("quantity", pl.Int32, "Units on the line.", checks=(Check("ge", (1,)),)),
        Column(
            "unit_price",
            pl.Float64,
            "Price per unit, in `currency`, excluding freight.",
            checks=_non_negative,
        ),
        Column(
            "freight",
            pl.Float64,
            "Freight charged for the line, in `currency`.",
            nullable=True,
            checks=_non_negative,
        ),
        Column(
            "currency", pl.String, "ISO 4217 currency code.", checks=(Check("str_length", (3, 3)),)
        ),
        Column(
            "status",
            pl.String,
            "Order status, one of ORDER_STATUSES.",
            checks=(Check("isin", (ORDER_STATUSES,)),),
        ),
    ),
)

#: Listing statuses: on sale, ended by the seller, or sold out.
LISTING_STATUSES = ("active", "ended", "sold")

LISTINGS = Table(
    name="listings",
    kind="state",
    description="One row per listing (an offer of one SKU by one seller on one platform) as "
    "the platform showed it on the snapshot date.",
    primary_key=("platform", "listing_id"),
    columns=(
        Column("platform", pl.String, "Marketplace code, lower case (ebay, blokpax, ...)."),
        Column(
            "listing_id",
            pl.String,
            "The platform's listing/item id (``<seller_id>:<sku>`` when the source has none).",
        ),
        Column("seller_id", pl.String, "The platform's seller id or username."),
        Column("seller_name", pl.String, "Seller name as the platform writes it.", nullable=True),
        Column("sku", pl.String, "The seller's SKU (external until mapped to the catalog)."),
        Column("title", pl.String, "Listing title.", nullable=True),
        Column("quantity", pl.Int32, "Units available, >= 0.", checks=_non_negative),
        Column("price", pl.Float64, "Asking price per unit, in `currency`.", checks=_non_negative),
        Column(
            "currency", pl.String, "ISO 4217 currency code.", checks=(Check("str_length", (3, 3)),)
        ),
        Column(
            "status",
            pl.String,
            "One of LISTING_STATUSES.",
            checks=(Check("isin", (LISTING_STATUSES,)),),
        ),
        Column("listed_at", UTC_TS, "When the listing started (UTC).", nullable=True),
        Column("url", pl.String, "Listing page.", nullable=True),
        Column("notes", pl.String, "Free text from the source.", nullable=True),
    ),
)

STOCK = Table(
    name="stock",
    kind="state",
    description="The seller's own inventory: units on hand and reserved per SKU and location.",
    primary_key=("seller_id", "location", "sku"),
    columns=(
        Column("seller_id", pl.String, "Whose stock (the seller's id on its home platform)."),
        Column("location", pl.String, "Warehouse/location code."),
        Column("sku", pl.String, "SKU (the seller's own)."),
        Column("on_hand", pl.Int32, "Units physically on hand, >= 0.", checks=_non_negative),
        Column("reserved", pl.Int32, "Units promised to open orders, >= 0.", checks=_non_negative),
        Column(
            "unit_cost",
            pl.Float64,
            "Cost per unit, in `currency`.",
            nullable=True,
            checks=_non_negative,
        ),
        Column(
            "currency",
            pl.String,
            "ISO 4217 currency code.",
            nullable=True,
            checks=(Check("str_length", (3, 3)),),
        ),
    ),
)

# quantiles of the demand summed over days 1..horizon (the forecasts' lead-time columns)
LEAD_BANDS = ("lead_q05", "lead_q25", "lead_q50", "lead_q75", "lead_q95")

FORECASTS = Table(
    name="forecasts",
    kind="state",
    description="One forecast run: per SKU and target day, the point forecast, quantiles, the "
    "model used and flags. The snapshot date is the run's as-of date.",
    primary_key=("sku", "target_date"),
    columns=(
        Column("sku", pl.String, "SKU (the catalog product when mapped, else the sold SKU)."),
        Column("target_date", pl.Date, "Day forecast (UTC)."),
        Column(
            "horizon", pl.Int32, "Days after the as-of date, 1..H.", checks=(Check("ge", (1,)),)
        ),
        Column("yhat", pl.Float64, "Point forecast, units/day.", checks=_non_negative),
        Column("q05", pl.Float64, "5 % quantile, units/day.", nullable=True),
        Column("q25", pl.Float64, "25 % quantile, units/day.", nullable=True),
        Column("q50", pl.Float64, "Median, units/day.", nullable=True),
        Column("q75", pl.Float64, "75 % quantile, units/day.", nullable=True),
        Column("q95", pl.Float64, "95 % quantile, units/day.", nullable=True),
        *(
            Column(
                k,
                pl.Float64,
                f"{int(k[-2:])} % quantile of the demand summed over days 1..horizon, units "
                "(calibrated on such sums, not a sum of daily quantiles).",
                nullable=True,
            )
            for k in LEAD_BANDS
        ),
        Column(
            "model",
            pl.String,
            "global_xgboost / seasonal_naive / tsb / winsorized_smoothing / category_average / "
            "reference_class / dormant.",
        ),
        Column(
            "flags",
            pl.String,
            "Comma-separated: dormant, cold_start, demand_spike, low_confidence (empty when none).",
        ),
        Column("category", pl.String, "The SKU's product category ('uncategorised' if none)."),
        Column(
            "backtest_units",
            pl.Float64,
            "Units actually sold in the H days before the "
            "as-of date (the backtest window; same value on every row of the SKU).",
            nullable=True,
        ),
        Column(
            "backtest_abs_error",
            pl.Float64,
            "Sum of |actual - forecast| over the backtest "
            "window, units, by the model used, fitted without those days; WAPE of any "
            "group = sum(backtest_abs_error) / sum(backtest_units).",
            nullable=True,
        ),
        Column(
            "backtest_mase",
            pl.Float64,
            "MASE over the backtest window (Hyndman & "
            "Koehler 2006; in-sample one-step naive scale).",
            nullable=True,
        ),
        Column(
            "baseline_abs_error",
            pl.Float64,
            "Sum of |actual - forecast| over the same backtest window for the seasonal "
            "naive forecast (last week repeated) made at the same origin, units; the "
            "baseline the model is judged against.",
            nullable=True,
        ),
        Column(
            "drivers",
            pl.String,
            "Global model only: top-5 SHAP contributions to the "
            "first day's forecast as JSON [[feature, log-effect], ...]; exp(log-effect) "
            "is the multiplicative effect. Empty otherwise.",
        ),
    ),
)

ORDER_PLAN = Table(
    name="order_plan",
    kind="state",
    description="The procurement plan of one morning (stockroom.procurement.plan): per SKU its "
    "action, reason, stock, runway, demand over the protection period, open POs and "
    "the recommended order. The snapshot date is the forecasts' as-of date.",
    primary_key=("sku",),
    columns=(
        Column("sku", pl.String, "SKU."),
        Column(
            "product",
            pl.String,
            "What people read: the title, else the category in words and a short SKU.",
        ),
        Column("category", pl.String, "Product category."),
        Column("supplier", pl.String, "Supplier from the settings ('unassigned' if none)."),
        Column("platform", pl.String, "Platform selling most units.", nullable=True),
        Column("action", pl.String, "order_today / already_ordered / attention_required / ok."),
        Column("reason", pl.String, "Why, in words ('' for ok)."),
        Column(
            "attention",
            pl.String,
            "Attention required's main reason: partial_po / below_moq / new_product / "
            "check_forecast ('' otherwise).",
        ),
        Column("next_step", pl.String, "What the buyer does, in words ('' for ok)."),
        Column(
            "revenue_at_risk",
            pl.Float64,
            "Lost units before the next possible delivery "
            "x unit price (in `currency`); the priority.",
            checks=_non_negative,
        ),
        Column("currency", pl.String, "ISO 4217 code of the SKU's orders.", nullable=True),
        Column("on_hand", pl.Int64, "Units on hand (all locations)."),
        Column("reserved", pl.Int64, "Units reserved."),
        Column("available", pl.Int64, "on_hand - reserved, >= 0."),
        Column("burn_rate", pl.Float64, "Forecast units/day over the next 28 days."),
        Column(
            "runway_days", pl.Float64, "Days of stock; null = no demand forecast.", nullable=True
        ),
        Column("stockout_date", pl.Date, "Day the stock runs out on the forecast.", nullable=True),
        Column(
            "lead_time_days",
            pl.Int64,
            "Lead time, days: the median of the supplier's PO receipts when it has enough "
            "of them, else the setting.",
        ),
        Column(
            "lead_time_receipts",
            pl.Int64,
            "Received POs the lead time is read from (their spread enters the protection "
            "period's demand); 0 = the lead-time setting. Null in plans made before it.",
            nullable=True,
        ),
        Column("review_days", pl.Int64, "Review period, days."),
        Column(
            "service_level", pl.Float64, "Target fill rate (units served from stock), share 0-1."
        ),
        Column("reorder_threshold_days", pl.Float64, "Runway at or below which to order."),
        Column("demand_protection", pl.Float64, "Forecast units over lead time + review."),
        Column(
            "order_up_to",
            pl.Float64,
            "Order-up-to level S meeting the target fill rate at least cost, units.",
        ),
        Column("on_order", pl.Int64, "Units on open POs."),
        Column("on_order_in_time", pl.Int64, "Of those, arriving within lead time + review."),
        Column("po_coverage", pl.Float64, "Share 0-1 of the need covered by open POs."),
        Column("required", pl.Float64, "Units needed before rounding, >= 0."),
        Column("order_qty", pl.Int64, "Recommended order, rounded to pack size and MOQ."),
        Column("moq", pl.Int64, "Minimum order quantity, units."),
        Column("pack_size", pl.Int64, "Pack size, units."),
        Column("unit_price", pl.Float64, "Last selling price per unit.", nullable=True),
        Column("unit_cost", pl.Float64, "Unit cost of the stock on hand.", nullable=True),
        Column(
            "exception",
            pl.String,
            "dormant_stock / overstock / too_much_on_order ('' for none).",
        ),
        Column("excess_units", pl.Float64, "Units beyond the overstock ceiling, >= 0."),
        Column(
            "money_tied_up",
            pl.Float64,
            "Excess units x unit cost (else last price), in `currency`.",
            checks=_non_negative,
        ),
        Column("model", pl.String, "Forecast model used."),
        Column("flags", pl.String, "Forecast flags."),
        Column("confidence", pl.String, "normal / low / none."),
    ),
)

INVENTORY = Table(
    name="inventory",
    kind="state",
    description="The seller's central inventory, the single source of truth that "
    "reconciliation holds every platform's listings against.",
    primary_key=("sku",),
    columns=(
        Column("sku", pl.String, "The seller's SKU (the one its listings carry)."),
        Column("title", pl.String, "Item title.", nullable=True),
        Column("quantity", pl.Int64, "Units available now, >= 0.", checks=_non_negative),
        Column("price", pl.Float64, "List price per unit, in `currency`.", checks=_non_negative),
        Column("currency", pl.String, "ISO 4217 currency code.", nullable=True),
        Column(
            "status",
            pl.String,
            "active / ended / sold.",
            checks=(Check("isin", (LISTING_STATUSES,)),),
        ),
        Column(
            "platforms",
            pl.String,
            "Comma-separated platforms the item should be listed on (e.g. 'shopify,ebay').",
            nullable=True,
        ),
        Column("brand", pl.String, "Brand.", nullable=True),
        Column("category", pl.String, "Category.", nullable=True),
        Column(
            "cost",
            pl.Float64,
            "Cost per unit, in `currency`.",
            nullable=True,
            checks=_non_negative,
        ),
        Column("location", pl.String, "Where the item is kept (warehouse/bin).", nullable=True),
    ),
)

INVENTORY_LEDGER = Table(
    name="inventory_ledger",
    kind="events",
    description="Platform orders the central inventory has recorded (decremented), one row "
    "per order; partitioned by the UTC day recorded.",
    primary_key=("platform", "order_id"),
    columns=(
        Column("recorded_at", UTC_TS, "When the central inventory recorded it (UTC)."),
        Column("platform", pl.String, "Platform of the order."),
        Column("order_id", pl.String, "The platform's order id."),
        Column("sku", pl.String, "SKU decremented."),
        Column("quantity", pl.Int64, "Units decremented.", checks=(Check("ge", (1,)),)),
    ),
)

FLAGS = Table(
    name="flags",
    kind="state",
    description="Reconciliation flags of the latest sync of the day (stockroom.reconcile): every "
    "drift between the central inventory and a platform, with its evidence, "
    "suggested action, when it was first seen and whether it is still open.",
    primary_key=("key",),
    columns=(
        Column("key", pl.String, "Identity across runs: type|platform|listing (or order/SKU)."),
        Column(
            "flag_type",
            pl.String,
            "sold_elsewhere, oversold, external_listing, "
            "missing_listing, quantity_mismatch, price_mismatch, "
            "stale_listing, duplicate_listing, unrecorded_sale.",
        ),
        Column("severity", pl.String, "high / medium / low."),
        Column("platform", pl.String, "Platform.", nullable=True),
        Column("listing_id", pl.String, "Listing concerned.", nullable=True),
        Column("sku", pl.String, "SKU concerned.", nullable=True),
        Column("central_value", pl.String, "The central record's value.", nullable=True),
        Column("platform_value", pl.String, "The platform's value.", nullable=True),
        Column(
            "action",
            pl.String,
            "end_listing / update_quantity / update_price / "
            "create_listing / import_listing / review.",
        ),
        Column("evidence", pl.String, "Why, in words."),
        Column("first_seen", UTC_TS, "Run that first raised it (UTC)."),
        Column("last_seen", UTC_TS, "Latest run that raised it (UTC)."),
        Column("open", pl.Boolean, "Still raised by the latest run."),
    ),
)

FX_RATES = Table(
    name="fx_rates",
    kind="state",
    description="Euro foreign exchange reference rates of the European Central Bank: one row "
    "per (business day, currency); the snapshot holds the whole history as published.",
    primary_key=("day", "currency"),
    columns=(
        Column("day", pl.Date, "The ECB business day the rate was published for."),
        Column(
            "currency",
            pl.String,
            "ISO 4217 currency code (EUR itself at 1).",
            checks=(Check("str_length", (3, 3)),),
        ),
        Column(
            "per_eur",
            pl.Float64,
            "Units of `currency` per 1 EUR.",
            checks=(Check("gt", (0,)),),
        ),
    ),
)

#: Platforms the market data knows (fee schedules, the market table); a row naming another
#: platform is refused (a typo must not become a platform of its own).
MARKET_PLATFORMS = ("stockx", "alias", "goat", "ebay", "shootstrayt", "pricecharting", "blokpax")
#: currencies market prices and fee schedules may be in (ISO 4217)
MARKET_CURRENCIES = ("USD", "EUR", "GBP", "CAD", "AUD", "JPY", "CHF", "BRL", "RUB")
_share = (Check("ge", (0,)), Check("le", (1,)))

MARKET = Table(
    name="market",
    kind="state",
    description="What each product fetches on each platform on the snapshot day: one row per "
    "(product, platform) per day -- our own ask and bid where we list it, the market's lowest "
    "ask, highest bid and last sale, the 30-day sales count, volatility and the platform's fee "
    "share. Prices are per unit in `currency`.",
    primary_key=("sku", "platform"),
    # a day of 80,000 rows in ~10 groups sorted by sku: one item's year reads one group a day;
    # month files sorted by item then day, so the same year reads one group a month
    row_group_rows=8_192,
    compacted=True,
    compact_order=("sku", "platform", "snapshot_date"),
    columns=(
        Column("sku", pl.String, "Catalog product (joins products): e.g. sneaker x size."),
        Column(
            "platform",
            pl.String,
            "Marketplace code, one of MARKET_PLATFORMS.",
            checks=(Check("isin", (MARKET_PLATFORMS,)),),
        ),
        Column("ask_price", pl.Float64, "Our ask, if we list it.", True, _non_negative),
        Column("bid_price", pl.Float64, "Our bid, if we bid.", True, _non_negative),
        Column("lowest_ask", pl.Float64, "The market's lowest ask.", True, _non_negative),
        Column("highest_bid", pl.Float64, "The market's highest bid.", True, _non_negative),
        Column("last_sale_price", pl.Float64, "Price of the last sale.", True, _non_negative),
        Column("last_sale_at", UTC_TS, "When the last sale happened (UTC).", nullable=True),
        Column(
            "sales_30d",
            pl.Int32,
            "Sales in the 30 days up to and including the snapshot day.",
            checks=_non_negative,
        ),
        Column(
            "volatility",
            pl.Float64,
            "Standard deviation of the log changes between consecutive daily median sale "
            "prices over the last 30 days, clipped to [0, 1] "
            "(stockroom.market.volatility; historical volatility, Hull ch. 15).",
            nullable=True,
            checks=_share,
        ),
        Column(
            "fee_share",
            pl.Float64,
            "The platform's percentage fees as a share of the price (0-1) on the snapshot day.",
            checks=_share,
        ),
        Column(
            "currency",
            pl.String,
            "ISO 4217 code of every price on the row.",
            checks=(Check("isin", (MARKET_CURRENCIES,)),),
        ),
        Column("platform_listing_id", pl.String, "The platform's id for the item.", True),
        Column(
            "platform_specific",
            pl.String,
            "JSON of what only that platform has (StockX variant id, authentication, "
            "processing days; Alias condition notes, shipping included).",
            nullable=True,
        ),
    ),
)

PRICE_OUTLOOK = Table(
    name="price_outlook",
    kind="state",
    description="The price forecaster's median sale price of the next 30 days per item on the "
    "snapshot day (stockroom.market.price_forecast.outlook), with the check that decides "
    "whether repricing trusts it.",
    primary_key=("sku",),
    columns=(
        Column("sku", pl.String, "Catalog product."),
        Column("last", pl.Float64, "The last sale price up to the day.", checks=_non_negative),
        Column(
            "forecast_30d",
            pl.Float64,
            "Forecast median sale price of the 30 days after the day.",
            checks=_non_negative,
        ),
        Column("change", pl.Float64, "forecast_30d / last - 1 (share, signed)."),
        Column(
            "trusted",
            pl.Boolean,
            "The forecaster beat the last sale (lower MAPE) on the latest month whose outcome "
            "is known, trained on what came before it.",
        ),
        Column("model_mape", pl.Float64, "That month's MAPE of the forecaster (share)."),
        Column("last_sale_mape", pl.Float64, "That month's MAPE of the last sale (share)."),
        Column("scored", pl.Int64, "Item-days scored in that month."),
    ),
)

FEE_SCHEDULES = Table(
    name="fee_schedules",
    kind="state",
    description="What each platform charges a seller, versioned: one row per (platform, "
    "category, price tier, effective date). Read from a CSV (stockroom.market.fees), not "
    "landed as a snapshot.",
    primary_key=("platform", "category", "price_from", "effective_from"),
    columns=(
        Column(
            "platform",
            pl.String,
            "Marketplace code, one of MARKET_PLATFORMS.",
            checks=(Check("isin", (MARKET_PLATFORMS,)),),
        ),
        Column("category", pl.String, "Category the row applies to; '*' for every category."),
        Column(
            "price_from",
            pl.Float64,
            "The row applies to sale prices >= this (a price tier), in `currency`.",
            checks=_non_negative,
        ),
        Column("effective_from", pl.Date, "First day the schedule applies."),
        Column(
            "fee_share", pl.Float64, "Commission / transaction fee, share of price.", checks=_share
        ),
        Column(
            "payment_share",
            pl.Float64,
            "Payment processing / cash-out fee, share of price.",
            checks=_share,
        ),
        Column(
            "fixed_fee", pl.Float64, "Fixed fee per order, in `currency`.", checks=_non_negative
        ),
        Column(
            "shipping",
            pl.Float64,
            "Shipping the seller pays per order, in `currency`.",
            checks=_non_negative,
        ),
        Column(
            "currency",
            pl.String,
            "ISO 4217 code of the fixed amounts.",
            checks=(Check("isin", (MARKET_CURRENCIES,)),),
        ),
        Column("source_url", pl.String, "The public page the figures come from."),
        Column("note", pl.String, "What the row stands for, and how sure we are of it.", True),
    ),
)

_currency = (Check("str_length", (3, 3)),)
#: statuses of a resale listing (stockroom.workbench.RESALE_STATUSES)
RESALE_STATUSES = ("not_listed", "listed", "sold", "expired")


def _money(name: str, description: str, nullable: bool = True) -> Column:
    return Column(name, pl.Float64, description, nullable, _non_negative)


def _text(name: str, description: str) -> Column:
    return Column(name, pl.String, description, nullable=True)


_ITEM_TEXT = (
    _text("description", "Free text from the invoice or the seller."),
    _text("category", "Category (e.g. sneakers, trading cards, furniture)."),
    _text("subcategory", "Subcategory."),
    _text("condition", "Condition as the seller grades it (new, used, for parts, ...)."),
    _text("brand", "Brand."),
    _text("model", "Model or product line."),
    _text("size", "Size (shoes: US size)."),
    _text("location", "Storage location (room, shelf, unit)."),
    _text("bin", "Bin within the location."),
    _money("estimated_value", "What the seller thinks it would fetch, in `currency`."),
    _text("keywords", "Search keywords, space separated."),
    _text("notes", "Free notes."),
)

RESALE_LOTS = Table(
    name="resale_lots",
    kind="state",
    description="Acquisitions as imported (a spreadsheet or a PDF invoice's lots): one row per "
    "lot; premium, tax and shipping are the lot's own share (stockroom.resale.costs). Not a "
    "snapshot: lots live in the workbench database.",
    primary_key=("lot_id",),
    columns=(
        Column("lot_id", pl.String, "Unique lot id (auction_house:invoice:lot when invoiced)."),
        _text("auction_house", "Where it was bought (auction house, shop)."),
        _text("auction_id", "The auction's (sale's) id."),
        _text("lot_number", "Lot number in the auction."),
        Column("acquired_on", pl.Date, "Acquisition (invoice) date."),
        Column("name", pl.String, "Item name.", checks=(Check("str_length", (1, 500)),)),
        *_ITEM_TEXT,
        Column("quantity", pl.Int32, "Pieces in the lot, >= 1.", checks=(Check("ge", (1,)),)),
        _money("hammer", "Winning bid (hammer price), in `currency`.", nullable=False),
        _money("premium", "Buyer's premium, in `currency`.", nullable=False),
        _money("tax", "Sales tax, in `currency`.", nullable=False),
        _money("shipping", "Shipping paid to receive it, in `currency`.", nullable=False),
        Column("currency", pl.String, "ISO 4217 code.", checks=_currency),
    ),
)

RESALE_ITEMS = Table(
    name="resale_items",
    kind="state",
    description="The resale inventory on the snapshot day: one row per physical item (a lot "
    "of n pieces gives n items), soft-deleted items left out. Exported from the workbench "
    "database (stockroom.resale.repo.snapshot).",
    primary_key=("item_id",),
    columns=(
        Column("item_id", pl.String, "Item id (lot_id, or lot_id-n for lots of n > 1)."),
        Column("lot_id", pl.String, "The acquisition it came from."),
        _text("invoice_key", "auction_house:invoice_id of the invoice, if invoiced."),
        _text("auction_house", "Where it was bought."),
        Column("name", pl.String, "Item name."),
        *_ITEM_TEXT,
        Column("acquired_on", pl.Date, "Acquisition date."),
        _money("cost", "Total cost of the item: its share of the lot's total cost.", False),
        Column("currency", pl.String, "ISO 4217 code of cost and value.", checks=_currency),
        Column("needs_repair", pl.Boolean, "Flag: needs repair before it can sell."),
        Column("consignment", pl.Boolean, "Flag: sold for someone else."),
        Column("returned", pl.Boolean, "Flag: came back from a buyer."),
    ),
)

RESALE_LISTINGS = Table(
    name="resale_listings",
    kind="state",
    description="Every listing of a resale item on a platform on the snapshot day, through to "
    "its sale: one row per listing (an item may be listed on several platforms, at most one "
    "active listing per platform, and sells once).",
    primary_key=("listing_id",),
    columns=(
        Column("listing_id", pl.Int64, "The workbench's listing id."),
        Column("item_id", pl.String, "The item listed."),
        Column("platform", pl.String, "Where (ebay, stockx, etsy, facebook, shop, ...)."),
        Column(
            "status",
            pl.String,
            "One of RESALE_STATUSES.",
            checks=(Check("isin", (RESALE_STATUSES,)),),
        ),
        _money("list_price", "Current asking price, in `currency`."),
        Column("listed_on", pl.Date, "Day it was listed.", nullable=True),
        Column("sold_on", pl.Date, "Day it sold.", nullable=True),
        Column("ended_on", pl.Date, "Day an expired listing ended.", nullable=True),
        _money("sold_price", "Sale price (before fees), in `currency`."),
        _money("platform_fees", "Fees the platform kept, in `currency`."),
        _money("buyer_shipping", "Shipping the buyer paid, in `currency`."),
        _money("actual_shipping", "What shipping cost the seller, in `currency`."),
        Column("currency", pl.String, "ISO 4217 code.", checks=_currency),
    ),
)

TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        SELLERS,
        PRODUCTS,
        ORDERS,
        LISTINGS,
        STOCK,
        FORECASTS,
        ORDER_PLAN,
        INVENTORY,
        INVENTORY_LEDGER,
        FLAGS,
        FX_RATES,
        MARKET,
        PRICE_OUTLOOK,
        RESALE_ITEMS,
        RESALE_LISTINGS,
    )
}


def table(name: str) -> Table:
    """Look up a canonical table; raises ``KeyError`` naming the known tables."""
    try:
        return TABLES[name]
    except KeyError:
        raise KeyError(f"unknown table {name!r}; known: {', '.join(TABLES)}") from None
