"""Price alerts on the items a seller follows (``[[market.watch]]`` in ``stockroom.toml``).

Two rules, evaluated on the latest market snapshot (sent, de-duplicated and re-armed by
:mod:`stockroom.alerts` like every other rule):

* ``price_target`` -- key ``<sku>@<platform>:below`` / ``:above``: the lowest ask is at or below
  the watch's ``below`` (a buy target reached) or at or above its ``above`` (a sell target).
  Open while it holds; cleared when the price leaves the target, re-armed for the next time.
* ``price_move`` -- key ``<sku>@<platform>``: the lowest ask moved more than the watch's
  ``move`` (default ``[market] move_threshold``) between the previous snapshot day and the
  latest (:func:`stockroom.market.views.price_moves`). Cleared on the next day without a move.
"""

from __future__ import annotations

from datetime import date

import duckdb
import polars as pl

from stockroom.market import views
from stockroom.sources import Watch


def conditions(
    con: duckdb.DuckDBPyConnection, day: date, watches: list[Watch], default_move: float
) -> list[tuple[str, str, str]]:
    """``(rule, key, message)`` of every watch that fires on the market ``day``."""
    if not watches:
        return []
    skus = sorted({w.sku for w in watches})
    rows = con.execute(
        """
        SELECT m.sku, m.platform, m.lowest_ask, m.currency, coalesce(p.title, m.sku) AS title
        FROM market_history m LEFT JOIN products p USING (sku)
        WHERE m.snapshot_date = ? AND m.sku IN (SELECT unnest(?))
        """,
        [day, skus],
    ).pl()
    out = []
    for w in watches:
        mine = rows.filter(pl.col("sku") == w.sku)
        if w.platform:
            mine = mine.filter(pl.col("platform") == w.platform)
        for r in mine.filter(pl.col("lowest_ask").is_not_null()).iter_rows(named=True):
            where = f"{r['sku']}@{r['platform']}"
            price = f"{r['lowest_ask']:,.2f} {r['currency']}"
            if w.below is not None and r["lowest_ask"] <= w.below:
                out.append(
                    (
                        "price_target",
                        f"{where}:below",
                        f"{r['title']} on {r['platform']}: lowest ask {price} is at or below "
                        f"your target {w.below:,.2f} ({day})",
                    )
                )
            if w.above is not None and r["lowest_ask"] >= w.above:
                out.append(
                    (
                        "price_target",
                        f"{where}:above",
                        f"{r['title']} on {r['platform']}: lowest ask {price} is at or above "
                        f"your target {w.above:,.2f} ({day})",
                    )
                )
        threshold = w.move or default_move
        moved = views.price_moves(con, day, day, threshold, sku=w.sku)
        if w.platform:
            moved = moved.filter(pl.col("platform") == w.platform)
        for r in moved.iter_rows(named=True):
            out.append(
                (
                    "price_move",
                    f"{r['sku']}@{r['platform']}",
                    f"{r['title']} on {r['platform']}: lowest ask moved {r['change']:+.1%} "
                    f"({r['before']:,.2f} -> {r['after']:,.2f} {r['currency']}) on {day}",
                )
            )
    return out
