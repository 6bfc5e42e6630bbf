"""Fee schedules: what each platform keeps of a sale, as versioned data (not code).

A schedule is a CSV with the columns of :data:`stockroom.tables.FEE_SCHEDULES`: one row per
(platform, category, price tier, effective date) with the commission (``fee_share``), the payment
processing or cash-out fee (``payment_share``), the fixed fee per order and the shipping the
seller pays, in the row's currency, and the public page the figures come from. The bundled
schedule (``fee_schedules.csv`` beside this module) is the default; a seller's own file
(``[market] fees`` in ``stockroom.toml``) replaces it.

**Which row applies** to a sale of price *p* of a product of category *c* on platform *P* on day
*d*, in currency *k*: among the rows of *P* in *k* with ``effective_from <= d`` and
``price_from <= p`` and category *c* or ``*``, the one with the category *c* if any (a
category's own rule beats the general one), then the largest ``price_from`` (the tier), then
the latest ``effective_from`` (a newer version of a tier replaces the older one).

**Net proceeds** (what the seller is paid, in the sale's currency)::

    net = p * (1 - fee_share - payment_share) - fixed_fee - shipping

The market table's ``fee_share`` is the two percentages together.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl

from stockroom.errors import InputError, InputProblem
from stockroom.tables import FEE_SCHEDULES, SOURCE_FILE, SOURCE_ROW

#: the schedule shipped with Stockroom (sources in its ``source_url`` column)
BUNDLED = Path(__file__).with_name("fee_schedules.csv")
#: platforms that publish prices but sell nothing: never a best platform
PRICE_GUIDES = ("pricecharting",)
#: the columns :func:`apply` adds
FEE_COLUMNS = ("fee_share_total", "fixed_fee", "shipping")


def load(path: str | Path | None = None) -> pl.DataFrame:
    """A validated fee schedule: the CSV at ``path`` (default :data:`BUNDLED`).

    Returns one row per schedule row with the columns of ``FEE_SCHEDULES`` (shares 0-1, money in
    ``currency``, ``effective_from`` a date). Raises :class:`InputError` naming the file, the
    (1-based, header not counted) row and the column of the first bad cell -- a share outside
    [0, 1], a negative fee, an unknown platform or currency, a date that is no date -- and
    refuses the whole file (no row of a wrong schedule is ever used).
    """
    path = Path(path) if path is not None else BUNDLED
    if not path.is_file():
        raise InputError([InputProblem(str(path), None, None, "fee schedule not found")])
    try:
        raw = pl.read_csv(path, infer_schema=False)
    except pl.exceptions.PolarsError as exc:
        raise InputError([InputProblem(str(path), None, None, f"not a CSV file ({exc})")]) from None
    raw = raw.with_columns(
        pl.lit(path.name).alias(SOURCE_FILE),
        pl.int_range(1, raw.height + 1, dtype=pl.Int64).alias(SOURCE_ROW),
    )
    if "category" in raw.columns:
        raw = raw.with_columns(pl.col("category").fill_null("*"))
    return FEE_SCHEDULES.conform(raw)


def apply(
    frame: pl.DataFrame,
    schedules: pl.DataFrame,
    *,
    price: str = "price",
    day: str = "day",
    category: str = "category",
) -> pl.DataFrame:
    """``frame`` with the fees of each row's sale added (see the module doc for which schedule
    row applies): ``fee_share_total`` (share 0-1: commission + payment), ``fixed_fee`` and
    ``shipping`` (money per order in the row's currency).

    ``frame`` needs ``platform``, ``currency`` and the ``price`` (Float64), ``day`` (Date) and
    ``category`` (String; null = general rules only) columns; rows and their order are kept.
    Rows whose price is null get null fees. Raises :class:`InputError` naming the platform and
    currency of a row no schedule covers (an unknown platform, a currency the platform's
    schedule is not in, or a day before its first schedule).
    """
    if frame.is_empty():
        return frame.with_columns(pl.lit(None, pl.Float64).alias(c) for c in FEE_COLUMNS)
    rows = frame.select(
        pl.int_range(pl.len(), dtype=pl.UInt32).alias("_i"),
        "platform",
        "currency",
        pl.col(price).alias("_price"),
        pl.col(day).cast(pl.Date).alias("_day"),
        (pl.col(category) if category in frame.columns else pl.lit(None, pl.String)).alias("_cat"),
    )
    sched = schedules.select(
        "platform",
        "currency",
        pl.col("category").alias("_rule_cat"),
        "price_from",
        "effective_from",
        (pl.col("fee_share") + pl.col("payment_share")).alias("fee_share_total"),
        "fixed_fee",
        "shipping",
    )
    matched = (
        rows.join(sched, on=["platform", "currency"], how="inner")
        .filter(
            (pl.col("effective_from") <= pl.col("_day"))
            & (pl.col("price_from") <= pl.col("_price"))
            & ((pl.col("_rule_cat") == "*") | (pl.col("_rule_cat") == pl.col("_cat")))
        )
        # a category's own rule first, then the highest tier, then the newest version
        .with_columns((pl.col("_rule_cat") == "*").alias("_general"))
        .sort(
            ["_i", "_general", "price_from", "effective_from"],
            descending=[False, False, True, True],
        )
    )
    best = matched.unique("_i", keep="first").select("_i", *FEE_COLUMNS)
    out = rows.join(best, on="_i", how="left")
    uncovered = out.filter(pl.col("fee_share_total").is_null() & pl.col("_price").is_not_null())
    if uncovered.height:
        first = uncovered.row(0, named=True)
        raise InputError(
            [
                InputProblem(
                    "fee schedule",
                    None,
                    "platform",
                    f"no fee schedule for platform {first['platform']!r} in "
                    f"{first['currency']} on {first['_day']} ({uncovered.height} rows)",
                )
            ]
        )
    return frame.with_columns(out.sort("_i").select(*FEE_COLUMNS))


def net_proceeds(
    price: pl.Expr, fee_share: pl.Expr, fixed_fee: pl.Expr, shipping: pl.Expr
) -> pl.Expr:
    """``price * (1 - fee_share) - fixed_fee - shipping``: what the seller is paid for one unit
    sold at ``price`` (money in the price's currency; ``fee_share`` 0-1, all percentages)."""
    return price * (1 - fee_share) - fixed_fee - shipping


def price_for_net(
    net: pl.Expr, fee_share: pl.Expr, fixed_fee: pl.Expr, shipping: pl.Expr
) -> pl.Expr:
    """The price whose net proceeds are ``net`` (the inverse of :func:`net_proceeds`): the
    lowest price that recovers a cost of ``net`` after fees."""
    return (net + fixed_fee + shipping) / (1 - fee_share)


def schedule_on(schedules: pl.DataFrame, day: date) -> pl.DataFrame:
    """The schedule rows in force on ``day`` (for display): per (platform, category,
    price_from, currency) the latest version with ``effective_from <= day``."""
    return (
        schedules.filter(pl.col("effective_from") <= day)
        .sort("effective_from")
        .unique(["platform", "category", "price_from", "currency"], keep="last")
        .sort(["platform", "category", "price_from"])
    )
