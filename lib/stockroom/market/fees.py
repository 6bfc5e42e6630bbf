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

import numpy as np
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


def tiers(schedules: pl.DataFrame, day: date) -> pl.DataFrame:
    """The schedule in force on ``day`` resolved into price tiers: the one place the rule of
    the module doc is applied. One row per (platform, currency, category, price_from): from
    that price up to the next tier's, the fees a sale pays -- ``fee_share_total`` (share 0-1),
    ``fixed_fee`` and ``shipping`` (money). ``category`` is ``*`` (every category without
    rules of its own) or a category with its own rows; its tiers merge its own rows with the
    general ones (at each breakpoint of either, the row the rule picks); every such category
    has tiers on every platform.
    """
    inforce = schedule_on(schedules, day)
    # every category with rules of its own on any platform gets tiers on every platform (its
    # own rows, if any, merged with that platform's general ones)
    categories = ["*", *sorted(set(inforce["category"]) - {"*"})]
    out = []
    for (platform, currency), rows in inforce.group_by(
        ["platform", "currency"], maintain_order=True
    ):
        general = rows.filter(pl.col("category") == "*")
        for category in categories:
            own = rows.filter(pl.col("category") == category) if category != "*" else general[:0]
            for brk in sorted(set(own["price_from"]) | set(general["price_from"])):
                for pool in (own, general):
                    chosen = pool.filter(pl.col("price_from") <= brk).sort("price_from")
                    if chosen.height:
                        r = chosen.row(-1, named=True)
                        out.append(
                            (platform, currency, category, brk,
                             r["fee_share"] + r["payment_share"], r["fixed_fee"], r["shipping"])
                        )  # fmt: skip
                        break
    return pl.DataFrame(
        out,
        schema={
            "platform": pl.String,
            "currency": pl.String,
            "category": pl.String,
            "price_from": pl.Float64,
            "fee_share_total": pl.Float64,
            "fixed_fee": pl.Float64,
            "shipping": pl.Float64,
        },
        orient="row",
    )


def _lit(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def tier_sql(tiered: pl.DataFrame, category: str = "category") -> str:
    """A SQL expression of the tier category of a row (``*`` unless its ``category`` has tiers
    of its own in ``tiered``) -- the key :func:`net_sql` reads."""
    own = sorted(set(tiered["category"]) - {"*"})
    if not own:
        return "'*'"
    return (
        f"CASE WHEN {category} IN ({', '.join(_lit(c) for c in own)}) THEN {category} ELSE '*' END"
    )


def net_sql(
    tiered: pl.DataFrame,
    price: str,
    *,
    platform: str = "platform",
    currency: str = "currency",
    tier: str = "_tier",
) -> str:
    """A SQL expression of the net proceeds of a sale at ``price`` under ``tiered``
    (:func:`tiers` of one day), null where no tier covers the row: the tiers written out as
    nested ``CASE`` (a handful of platforms and tiers), so a query prices every row without a
    join. ``tier``: the row's tier category (:func:`tier_sql`)."""
    branches = []
    for (plat, cur, cat), rows in tiered.group_by(
        ["platform", "currency", "category"], maintain_order=True
    ):
        inner = " ".join(
            f"WHEN {price} >= {r['price_from']!r} THEN {price} * (1 - {r['fee_share_total']!r})"
            f" - {r['fixed_fee'] + r['shipping']!r}"
            for r in rows.sort("price_from", descending=True).iter_rows(named=True)
        )
        branches.append(
            f"WHEN {platform} = {_lit(plat)} AND {currency} = {_lit(cur)} "
            f"AND {tier} = {_lit(cat)} THEN CASE {inner} END"
        )
    return f"CASE {' '.join(branches)} END" if branches else "NULL"


def tier_category(category: pl.Expr, tiered: pl.DataFrame) -> pl.Expr:
    """``category`` where it has tiers of its own in ``tiered`` (:func:`tiers`), else ``*``."""
    own = sorted(set(tiered["category"]) - {"*"})
    return pl.when(category.is_in(own)).then(category).otherwise(pl.lit("*"))


def apply(
    frame: pl.DataFrame,
    schedules: pl.DataFrame,
    *,
    price: str = "price",
    day: str = "day",
    category: str = "category",
) -> pl.DataFrame:
    """``frame`` with the fees of each row's sale added (see the module doc for which schedule
    row applies; :func:`tiers` applies it): ``fee_share_total`` (share 0-1: commission +
    payment), ``fixed_fee`` and ``shipping`` (money per order in the row's currency).

    ``frame`` needs ``platform``, ``currency`` and the ``price`` (Float64), ``day`` (Date) and
    ``category`` (String; null or absent = general rules only) columns; rows and their order
    are kept. Rows whose price is null get null fees. Raises :class:`InputError` naming the
    platform and currency of a row no schedule covers (an unknown platform, a currency the
    platform's schedule is not in, or a day before its first schedule).
    """
    if frame.is_empty():
        return frame.with_columns(pl.lit(None, pl.Float64).alias(c) for c in FEE_COLUMNS)
    cat = pl.col(category) if category in frame.columns else pl.lit(None, pl.String)
    rows = frame.select(
        pl.int_range(pl.len(), dtype=pl.UInt32).alias("_i"),
        "platform",
        "currency",
        pl.col(price).cast(pl.Float64).alias("_price"),
        pl.col(day).cast(pl.Date).alias("_day"),
        cat.alias("_cat"),
    )
    # the schedule changes only on its effective dates: price each run of days between two
    # of them with one set of tiers (a year of one item's history is one or two joins)
    starts = sorted(set(schedules["effective_from"]))
    rows = rows.with_columns(
        pl.col("_day")
        .map_batches(
            lambda d: pl.Series(np.searchsorted(starts, d.to_numpy(), side="right")),
            return_dtype=pl.Int64,
        )
        .alias("_epoch")
    )
    parts = []
    for (epoch,), part in rows.group_by(["_epoch"], maintain_order=True):
        if epoch == 0:  # before the first schedule: nothing covers it
            parts.append(
                part.select("_i", *(pl.lit(None, pl.Float64).alias(c) for c in FEE_COLUMNS))
            )
            continue
        tiered = fees_on(schedules, starts[epoch - 1])
        keyed = part.with_columns(tier_category(pl.col("_cat"), tiered).alias("_tier"))
        priced = keyed.filter(pl.col("_price").is_not_null()).sort("_price")
        joined = priced.join_asof(
            tiered.rename({"category": "_tier"}).sort("price_from"),
            left_on="_price",
            right_on="price_from",
            by=["platform", "currency", "_tier"],
            strategy="backward",
            check_sortedness=False,  # sorted by price as a whole, so within every group
        )
        parts.append(joined.select("_i", *FEE_COLUMNS))
    out = rows.select("_i").join(pl.concat(parts), on="_i", how="left").sort("_i")
    _check_covered(
        out.with_columns(rows["platform"], rows["currency"], rows["_price"], rows["_day"]),
    )
    return frame.with_columns(out.select(*FEE_COLUMNS))


def fees_on(schedules: pl.DataFrame, day: date) -> pl.DataFrame:
    """:func:`tiers` of ``day``, remembered for the schedule frame (a page prices many rows of
    the same few days)."""
    key = (id(schedules), day)
    hit = _TIERS.get(key)
    if hit is None or hit[0] is not schedules:
        hit = (schedules, tiers(schedules, day))
        if len(_TIERS) > 256:
            _TIERS.clear()
        _TIERS[key] = hit
    return hit[1]


_TIERS: dict[tuple[int, date], tuple[pl.DataFrame, pl.DataFrame]] = {}


def _check_covered(out: pl.DataFrame) -> None:
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
