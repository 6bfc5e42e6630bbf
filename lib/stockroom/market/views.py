"""What an item fetches on every platform: best platform after fees, repricing, moves, history.

Every function reads the ``market`` snapshots through a DuckDB connection of
:func:`stockroom.db.connect` (views ``market_history``, ``products``, ``stock``) for one
snapshot day (the market as it was that day: :func:`market_day` resolves an as-of date), and
prices fees with a schedule of :func:`stockroom.market.fees.load`. Money is per unit in the row's
``currency``; shares are 0-1; ``sales_30d`` counts sales in the 30 days up to the day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import duckdb
import polars as pl

from stockroom.db import state_day, view_day
from stockroom.errors import InputError, InputProblem, StockroomError
from stockroom.market import fees, price_forecast
from stockroom.sales import sql


@dataclass(frozen=True)
class Rules:
    """The seller's thresholds (``[market]`` in ``stockroom.toml``).

    * ``reprice_above`` -- our ask counts as too high when above the lowest ask by more than
      this share (0.05 = 5 %).
    * ``undercut`` -- the suggested price is the lowest ask minus this amount (currency).
    * ``tie_share`` -- a platform whose net is within this share of the best net and that sells
      more (higher ``sales_30d``) wins the best-platform tie.
    * ``move_threshold`` -- a day-over-day change of a lowest ask beyond this share is a move.
    """

    reprice_above: float = 0.05
    undercut: float = 0.01
    tie_share: float = 0.02
    move_threshold: float = 0.10


def market_day(con: duckdb.DuckDBPyConnection, as_of: date | None = None) -> date | None:
    """The latest market snapshot day on or before ``as_of`` (default: the latest); None when
    there is none."""
    known, day = state_day(con, "market", as_of)
    if known:
        return day
    cut = "" if as_of is None else f" WHERE snapshot_date <= DATE '{as_of.isoformat()}'"
    return con.execute(f"SELECT max(snapshot_date) FROM market_history{cut}").fetchone()[0]


def _day_rows(con: duckdb.DuckDBPyConnection, day: date) -> str:
    """A SQL subquery of the market rows of ``day`` (with ``snapshot_date``): the connection's
    ``market`` view (one file) when it reads that day, else the history filtered to it."""
    literal = f"DATE '{day.isoformat()}'"
    if view_day(con, "market") == day:
        return f"(SELECT *, {literal} AS snapshot_date FROM market)"
    return f"(SELECT * FROM market_history WHERE snapshot_date = {literal})"


def snapshot(
    con: duckdb.DuckDBPyConnection,
    day: date,
    schedule: pl.DataFrame,
    sku: str | None = None,
    *,
    columns: str = "m.* EXCLUDE (snapshot_date)",
    where: str = "",
    params: tuple = (),
) -> pl.DataFrame:
    """The market of ``day`` with names and nets: one row per (sku, platform) with the
    market columns, ``title``, ``brand``, ``category`` and ``net_lowest_ask`` (what selling at
    the lowest ask pays after that platform's fees in force on ``day``; null on a price guide
    or without an ask). ``columns`` / ``where`` (SQL over the day's rows ``m``, with
    ``params``) narrow what is read."""
    if sku is not None:
        where, params = f"{where} AND m.sku = ?", (*params, sku)
    frame = con.execute(
        f"""
        SELECT {columns}, m.snapshot_date AS day, coalesce(p.title, m.sku) AS title, p.brand,
               p.category
        FROM {_day_rows(con, day)} m LEFT JOIN products p USING (sku)
        WHERE true {where}
        """,
        list(params),
    ).pl()
    return _with_net(frame, schedule, "lowest_ask", "net_lowest_ask")


def _with_net(frame: pl.DataFrame, schedule: pl.DataFrame, price: str, out: str) -> pl.DataFrame:
    priced = fees.apply(frame, schedule, price=price)
    net = fees.net_proceeds(
        pl.col(price), pl.col("fee_share_total"), pl.col("fixed_fee"), pl.col("shipping")
    )
    guide = pl.col("platform").is_in(fees.PRICE_GUIDES)
    return priced.with_columns(pl.when(guide).then(None).otherwise(net.round(2)).alias(out)).drop(
        *fees.FEE_COLUMNS
    )


def best_platform(
    con: duckdb.DuckDBPyConnection, day: date, schedule: pl.DataFrame, rules: Rules = Rules()
) -> pl.DataFrame:
    """Where to sell each item on ``day``: one row per sku with a lowest ask on a selling
    platform, best first by net.

    **Rule:** the platform paying the most after fees (``net_lowest_ask``) wins, unless
    another platform's net is within ``rules.tie_share`` of it and it sells faster (more
    ``sales_30d``): then the fastest of those wins (a sale sooner for at most that share less).

    Raises :class:`StockroomError` when an item's asks are in two currencies that day (nets
    in different money are not compared) and :class:`InputError` for a row no fee schedule
    covers.

    Columns: sku, title, brand, category, best_platform, net (money), lowest_ask, currency,
    sales_30d, volatility (0-1), runner_up, runner_up_net, platforms (count), why (text).
    """
    guides = ", ".join(f"'{g}'" for g in fees.PRICE_GUIDES)
    tiered = fees.fees_on(schedule, day)
    query = sql("best_platform").format(
        rows=_day_rows(con, day),
        guides=guides,
        tier=fees.tier_sql(tiered, "p.category"),
        net=fees.net_sql(tiered, "lowest_ask"),
        tie=float(rules.tie_share),
    )
    best = con.execute(query).pl()
    if best.is_empty():
        return _empty_best()
    mixed = best.filter(pl.col("_currencies") > 1)
    if mixed.height:
        raise StockroomError(
            f"{mixed.height} item(s) have asks in two currencies on {day} (e.g. "
            f"{mixed['title'][0]}): their nets cannot be compared; land each platform's market "
            "in one currency"
        )
    if best["_uncovered"].sum():
        # fees.apply names the first platform and currency no schedule covers, and raises
        snapshot(con, day, schedule, columns="m.sku, m.platform, m.lowest_ask, m.currency")
    why = (
        pl.when(pl.col("net") < pl.col("_top"))
        .then(
            pl.format(
                "sells faster ({} sales in 30 days against {}), net {} lower",
                pl.col("sales_30d"),
                pl.col("_top_sales"),
                (pl.col("_top") - pl.col("net")).round(2),
            )
        )
        .when(pl.col("platforms") == 1)
        .then(pl.lit("the only platform with an ask"))
        .otherwise(pl.lit("highest net after fees"))
    )
    return (
        best.with_columns(why.alias("why"))
        .select(_empty_best().columns)
        .sort("net", descending=True)
    )


def _empty_best() -> pl.DataFrame:
    return pl.DataFrame(
        schema={
            "sku": pl.String,
            "title": pl.String,
            "brand": pl.String,
            "category": pl.String,
            "best_platform": pl.String,
            "net": pl.Float64,
            "lowest_ask": pl.Float64,
            "currency": pl.String,
            "sales_30d": pl.Int32,
            "volatility": pl.Float64,
            "runner_up": pl.String,
            "runner_up_net": pl.Float64,
            "platforms": pl.UInt32,
            "why": pl.String,
        }
    )


def load_price_rules(path: str | Path | None) -> pl.DataFrame:
    """The seller's per-SKU price limits: a CSV with ``sku`` and optional ``floor`` and
    ``ceiling`` (money, >= 0, floor <= ceiling). None or a missing file: no limits. Raises
    :class:`InputError` naming the file, row and column of a bad cell."""
    schema = {"sku": pl.String, "floor": pl.Float64, "ceiling": pl.Float64}
    if path is None or not Path(path).is_file():
        return pl.DataFrame(schema=schema)
    path = Path(path)
    raw = pl.read_csv(path, infer_schema=False)
    if "sku" not in raw.columns:
        raise InputError([InputProblem(str(path), None, "sku", "missing column")])
    problems = []
    for col in ("floor", "ceiling"):
        if col not in raw.columns:
            raw = raw.with_columns(pl.lit(None, pl.String).alias(col))
        values = raw[col].cast(pl.Float64, strict=False)
        bad = (values.is_null() & raw[col].is_not_null()) | (values < 0)
        for i in bad.arg_true().head(5).to_list():
            problems.append(InputProblem(path.name, i + 1, col, "not a price >= 0", raw[col][i]))
    if problems:
        raise InputError(problems)
    rules = raw.select(pl.col("sku"), *(pl.col(c).cast(pl.Float64) for c in ("floor", "ceiling")))
    crossed = (rules["floor"] > rules["ceiling"]).fill_null(False)
    for i in crossed.arg_true().head(5).to_list():
        problems.append(
            InputProblem(path.name, i + 1, "floor", "floor above the ceiling", raw["floor"][i])
        )
    if problems:
        raise InputError(problems)
    return rules


def holdings(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Our units and cost per sku from the ``stock`` view (the snapshot in force): ``on_hand``
    (units, all locations) and ``unit_cost`` (the units' average cost, money)."""
    return con.execute(
        """
        SELECT sku, sum(on_hand - reserved)::INTEGER AS on_hand,
               sum(unit_cost * on_hand) / nullif(sum(on_hand), 0) AS unit_cost
        FROM stock GROUP BY sku
        """
    ).pl()


def outlook(con: duckdb.DuckDBPyConnection, day: date) -> price_forecast.Outlook | None:
    """The price outlook landed for ``day`` (``price_outlook`` snapshot of that very day, by
    ``stockroom market outlook``); None when there is none."""
    rows = con.execute(
        "SELECT * EXCLUDE (snapshot_date) FROM price_outlook_history WHERE snapshot_date = ?",
        [day],
    ).pl()
    return price_forecast.from_frame(rows)


def sales(con: duckdb.DuckDBPyConnection, day: date) -> pl.DataFrame:
    """Every unit sold up to ``day`` from the ``orders`` view (sale statuses only), as the
    price forecaster reads them: sku, day (Date, UTC), price (per unit), in time order."""
    return con.execute(
        """
        SELECT sku, order_ts::DATE AS day, unit_price AS price
        FROM orders, range(quantity)
        WHERE order_ts::DATE <= ? AND status NOT IN ('canceled', 'unavailable', 'returned',
                                                      'refunded')
        ORDER BY order_ts, platform, order_id, line
        """,
        [day],
    ).pl()


def repricing(
    con: duckdb.DuckDBPyConnection,
    day: date,
    schedule: pl.DataFrame,
    rules: Rules = Rules(),
    price_rules: pl.DataFrame | None = None,
    outlook: price_forecast.Outlook | None = None,
) -> pl.DataFrame:
    """Our asks to lower on ``day``, largest money at stake first.

    A listing qualifies when we ask more than ``rules.reprice_above`` above the market's
    lowest ask on that platform and the item sells there (``sales_30d`` > 0). The suggested
    price is the lowest ask minus ``rules.undercut``, kept within [floor, ceiling]: the floor is
    the price whose net after fees recovers the unit cost (fees at the lowest ask's tier;
    :func:`stockroom.market.fees.price_for_net`), or the seller's floor when higher; the
    ceiling is the seller's. Where the floor is at or above our ask, the action is ``hold``.
    With a trusted ``outlook`` (:func:`stockroom.market.price_forecast.outlook`: the price
    forecaster beat the last sale on the most recent scored month), an item whose median sale
    price 30 days ahead is forecast at or above our ask is held too ("hold (rising)"): the
    market is expected to come to our price. Money at stake = units on hand x net proceeds at
    the suggested price (0 for a hold).

    Columns: sku, title, platform, platform_listing_id, ask_price, lowest_ask, gap (share our
    ask is above it), suggested_price, floor, ceiling, net_suggested, on_hand, at_stake,
    currency, sales_30d, forecast_30d (money; null without a trusted outlook), action
    ("lower" to the suggested price, "hold (floor)": the floor is at or above our ask, or
    "hold (rising)").
    """
    guides = ", ".join(f"'{g}'" for g in fees.PRICE_GUIDES)
    market = snapshot(
        con,
        day,
        schedule,
        where=f"AND m.ask_price IS NOT NULL AND m.lowest_ask IS NOT NULL AND m.sales_30d > 0 "
        f"AND m.ask_price > m.lowest_ask * (1 + ?) AND m.platform NOT IN ({guides})",
        params=(rules.reprice_above,),
    )
    limits = price_rules if price_rules is not None else load_price_rules(None)
    frame = (
        fees.apply(market, schedule, price="lowest_ask")
        .join(holdings(con), on="sku", how="left")
        .join(limits, on="sku", how="left")
    )
    cost_floor = fees.price_for_net(
        pl.col("unit_cost"), pl.col("fee_share_total"), pl.col("fixed_fee"), pl.col("shipping")
    )
    floor = pl.max_horizontal(cost_floor, pl.col("floor")).round(2)
    target = pl.col("lowest_ask") - rules.undercut
    frame = frame.with_columns(floor.alias("floor")).with_columns(
        pl.min_horizontal(pl.max_horizontal(target, pl.col("floor")), pl.col("ceiling"))
        .round(2)
        .alias("suggested_price")
    )
    frame = frame.with_columns(
        fees.net_proceeds(
            pl.col("suggested_price"),
            pl.col("fee_share_total"),
            pl.col("fixed_fee"),
            pl.col("shipping"),
        )
        .round(2)
        .alias("net_suggested"),
        (pl.col("ask_price") / pl.col("lowest_ask") - 1).alias("gap"),
        pl.col("on_hand").fill_null(0),
    )
    if outlook is not None and outlook.trusted:
        frame = frame.join(outlook.forecasts.select("sku", "forecast_30d"), on="sku", how="left")
    else:
        frame = frame.with_columns(pl.lit(None, pl.Float64).alias("forecast_30d"))
    floor_hold = pl.col("suggested_price") >= pl.col("ask_price")
    rising = (pl.col("forecast_30d") >= pl.col("ask_price")).fill_null(False)
    hold = floor_hold | rising
    frame = frame.with_columns(
        pl.when(floor_hold)
        .then(pl.lit("hold (floor)"))
        .when(rising)
        .then(pl.lit("hold (rising)"))
        .otherwise(pl.lit("lower"))
        .alias("action"),
        pl.when(hold)
        .then(0.0)
        .otherwise(pl.col("on_hand") * pl.col("net_suggested"))
        .round(2)
        .alias("at_stake"),
    )
    return frame.select(
        "sku",
        "title",
        "platform",
        "platform_listing_id",
        "ask_price",
        "lowest_ask",
        "gap",
        "suggested_price",
        "floor",
        "ceiling",
        "net_suggested",
        "on_hand",
        "at_stake",
        "currency",
        "sales_30d",
        "forecast_30d",
        "action",
    ).sort(["at_stake", "gap"], descending=True)


def platform_summary(
    con: duckdb.DuckDBPyConnection, start: date, end: date, by: str | None = None
) -> pl.DataFrame:
    """Per platform (and per ``by``: "category" or "brand") over the snapshot days in
    [start, end]: ``items`` (distinct skus with a lowest ask), ``avg_lowest_ask`` (money),
    ``avg_fee_share`` (0-1), ``avg_sales_30d`` (sales per item in 30 days, averaged over the
    days), ``avg_volatility`` (0-1) and ``currency``. Raises ValueError for another ``by``."""
    if by not in (None, "category", "brand"):
        raise ValueError(f"by must be None, 'category' or 'brand', not {by!r}")
    group = "m.platform" if by is None else f"p.{by}, m.platform"
    return con.execute(
        f"""
        SELECT {group}, count(DISTINCT m.sku) AS items,
               avg(m.lowest_ask) AS avg_lowest_ask, avg(m.fee_share) AS avg_fee_share,
               avg(m.sales_30d) AS avg_sales_30d, avg(m.volatility) AS avg_volatility,
               any_value(m.currency) AS currency
        FROM market_history m LEFT JOIN products p USING (sku)
        WHERE m.snapshot_date BETWEEN ? AND ? AND m.lowest_ask IS NOT NULL
        GROUP BY ALL ORDER BY ALL
        """,
        [start, end],
    ).pl()


def price_moves(
    con: duckdb.DuckDBPyConnection,
    start: date,
    end: date,
    threshold: float = Rules.move_threshold,
    sku: str | None = None,
) -> pl.DataFrame:
    """Day-over-day changes of a lowest ask beyond ``threshold`` (share) on days in
    [start, end], against the previous day's snapshot (a gap of days is not a move). Columns:
    sku, title, platform, day, before, after, change (share, signed), currency."""
    only = "" if sku is None else " AND sku = ?"
    params = [start - timedelta(days=1), end] + ([] if sku is None else [sku])
    return con.execute(
        f"""
        WITH h AS (
            SELECT sku, platform, snapshot_date AS day, lowest_ask, currency,
                   lag(lowest_ask) OVER w AS before, lag(snapshot_date) OVER w AS prev_day
            FROM market_history
            WHERE snapshot_date BETWEEN ? AND ?{only}
            WINDOW w AS (PARTITION BY sku, platform ORDER BY snapshot_date)
        )
        SELECT h.sku, coalesce(p.title, h.sku) AS title, platform, day, before,
               lowest_ask AS after, lowest_ask / before - 1 AS change, currency
        FROM h LEFT JOIN products p USING (sku)
        WHERE prev_day = day - 1 AND before > 0 AND day >= ?
          AND abs(lowest_ask / before - 1) > ?
        ORDER BY day, sku, platform
        """,
        [*params, start, threshold],
    ).pl()


def history(
    con: duckdb.DuckDBPyConnection, sku: str, start: date, end: date, schedule: pl.DataFrame
) -> pl.DataFrame:
    """One item's market per day and platform in [start, end]: day, platform, lowest_ask,
    highest_bid, last_sale_price, sales_30d, ask_price (ours), net_lowest_ask (after the fees in
    force that day), currency."""
    frame = con.execute(
        """
        SELECT snapshot_date AS day, platform, lowest_ask, highest_bid, last_sale_price,
               sales_30d, ask_price, currency, sku, NULL::VARCHAR AS category
        FROM market_history WHERE sku = ? AND snapshot_date BETWEEN ? AND ?
        ORDER BY day, platform
        """,
        [sku, start, end],
    ).pl()
    category = con.execute("SELECT any_value(category) FROM products WHERE sku = ?", [sku])
    frame = frame.with_columns(pl.lit(category.fetchone()[0], pl.String).alias("category"))
    return _with_net(frame, schedule, "lowest_ask", "net_lowest_ask").drop("sku", "category")
