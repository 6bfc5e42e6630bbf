"""Market: what every item fetches on every platform (stockroom.market) -- one item's price
history per platform with the net after fees, where each item nets the most, which of our asks
to lower (with a bulk-edit CSV), the moves of the last 30 days and the platforms side by side.
Everything as of the sidebar's date: the market as it was that day."""

import polars as pl
import streamlit as st

from app_pages import _common, _data
from stockroom import charts, config

DEMO_ROOT = "market-demo"
HISTORY_DAYS = 365

f = _common.filters()
st.title("Market")
day = _data.market_day(f)
if day is None:
    st.info(
        "No market snapshots on or before this date in this data root. Land a market with "
        "`stockroom ingest stockx-market` (real StockX sales, simulated order books), then "
        "reload."
    )
    demo = config.PROJECT_ROOT / "data" / DEMO_ROOT
    if _data.has_market(demo):
        _common.demo_button(
            f.data_root,
            demo,
            f"Open the market demo ({DEMO_ROOT}/)",
            ":material/storefront:",
            "run.sh lands the real StockX sales with simulated order books there, apart from "
            "the Olist data so the two never mix.",
        )
    st.stop()

ctx = _data.market_context(f)
best = _data.market_best(f)
reprice = _data.market_repricing(f)
moves = _data.market_moves(f)
currency = best["currency"].first() if best.height else "USD"
lower = reprice.filter(pl.col("at_stake") > 0)
st.caption(
    f"market of {day} · prices per unit in {currency} · net = lowest ask after the platform's "
    "fees in force that day (fee schedule: `stockroom market fees`) · our ask is too high when "
    f"more than {ctx.rules.reprice_above:.0%} above the lowest ask on an item that sells there"
)
tiles = st.columns(5)
tiles[0].metric("Items with an ask", f"{best.height:,}")
tiles[1].metric("Platforms", f"{best['best_platform'].n_unique() if best.height else 0}")
tiles[2].metric(
    "Asks to lower",
    f"{lower.height:,}",
    help=f"Of our {reprice.height:,} listings above the market; the others are held at their "
    "floor (cost after fees).",
)
tiles[3].metric(
    f"At stake ({currency})",
    f"{lower['at_stake'].sum():,.0f}",
    help="Units on hand x net proceeds at the suggested price, over the asks to lower.",
)
tiles[4].metric(
    "Price moves, 30 days",
    f"{moves.height:,}",
    help=f"Lowest asks that moved more than {ctx.rules.move_threshold:.0%} in a day.",
)

# -- one item ----------------------------------------------------------------------------------
labels = dict(zip(best["sku"].to_list(), best["title"].to_list(), strict=True))
first = lower["sku"].first() if lower.height else (best["sku"].first() if best.height else None)
options = sorted(labels, key=lambda s: labels[s])
sku = st.selectbox(
    "Item (type to search)",
    options,
    index=options.index(first) if first in options else 0,
    format_func=lambda s: labels.get(s, s),
    key="market-item",
)
platforms, history = _data.market_item(f, sku, HISTORY_DAYS)
chart, table = st.columns([3, 2])
chart.plotly_chart(
    charts.market_history(history, currency, f"{labels.get(sku, sku)}: the last year"),
    width="stretch",
)
with table:
    st.dataframe(
        platforms.sort("net_lowest_ask", descending=True, nulls_last=True).select(
            "platform",
            "net_lowest_ask",
            "lowest_ask",
            "highest_bid",
            "last_sale_price",
            "sales_30d",
            "volatility",
            "fee_share",
            "ask_price",
        ),
        column_config={
            "platform": st.column_config.TextColumn("Platform", pinned=True),
            "net_lowest_ask": st.column_config.NumberColumn(
                f"Net ({currency})", format="%.2f", help="Lowest ask after the platform's fees."
            ),
            "lowest_ask": st.column_config.NumberColumn(f"Lowest ask ({currency})", format="%.2f"),
            "highest_bid": st.column_config.NumberColumn(
                f"Highest bid ({currency})", format="%.2f"
            ),
            "last_sale_price": st.column_config.NumberColumn(
                f"Last sale ({currency})", format="%.2f"
            ),
            "sales_30d": st.column_config.NumberColumn("Sales, 30 days"),
            "volatility": st.column_config.NumberColumn("Volatility", format="percent"),
            "fee_share": st.column_config.NumberColumn("Fees", format="percent"),
            "ask_price": st.column_config.NumberColumn(f"Our ask ({currency})", format="%.2f"),
        },
        hide_index=True,
        width="stretch",
    )
    st.caption(
        "Best first by net. Volatility: standard deviation of the daily log price changes over "
        "30 days."
    )

# -- lists ---------------------------------------------------------------------------------------
money = f"({currency})"
reprice_tab, best_tab, moves_tab, platforms_tab = st.tabs(
    ["Repricing", "Best platform", "Price moves", "Platforms"]
)
with reprice_tab:
    outlook = _data.market_outlook(f)
    if outlook is None:
        st.caption(
            f"No price outlook landed for {day} (`stockroom market outlook --as-of {day}`): "
            "asks are judged on the day's market alone."
        )
    else:
        c = outlook.check
        verdict = (
            "used: an item forecast to sell at or above our ask is held"
            if outlook.trusted
            else "not used (it did not beat the last sale)"
        )
        st.caption(
            f"Price outlook {verdict} -- 30-day-ahead MAPE {c['model']:.1%} against the last "
            f"sale's {c['last_sale']:.1%} on the latest month whose outcome is known."
        )
    _common.table_with_downloads(
        reprice.select(
            "title",
            "platform",
            "suggested_price",
            "ask_price",
            "lowest_ask",
            "at_stake",
            "action",
            "forecast_30d",
            "gap",
            "floor",
            "ceiling",
            "on_hand",
            "sales_30d",
            "platform_listing_id",
            "sku",
        ),
        name=f"repricing_{day}",
        column_config={
            "title": st.column_config.TextColumn("Item", width="medium", pinned=True),
            "platform": st.column_config.TextColumn("Platform", pinned=True),
            "action": st.column_config.TextColumn("Action", width="small"),
            "ask_price": st.column_config.NumberColumn(f"Our ask {money}", format="%.2f"),
            "lowest_ask": st.column_config.NumberColumn(f"Lowest ask {money}", format="%.2f"),
            "suggested_price": st.column_config.NumberColumn(f"Suggested {money}", format="%.2f"),
            "at_stake": st.column_config.NumberColumn(
                f"At stake {money}", format="localized", help="Units x net at the suggestion."
            ),
            "forecast_30d": st.column_config.NumberColumn(
                f"Median in 30 days {money}",
                format="%.2f",
                help="The price forecaster's median sale price of the next 30 days (shown when "
                "it beat the last sale on the latest scored month).",
            ),
            "gap": st.column_config.NumberColumn("Above lowest ask", format="percent"),
            "floor": st.column_config.NumberColumn(
                f"Floor {money}", format="%.2f", help="Recovers the unit cost after fees."
            ),
            "ceiling": st.column_config.NumberColumn(f"Ceiling {money}", format="%.2f"),
            "on_hand": st.column_config.NumberColumn("Units"),
            "sales_30d": st.column_config.NumberColumn("Sales, 30 days"),
            "platform_listing_id": st.column_config.TextColumn("Listing id", width="small"),
            "sku": st.column_config.TextColumn("SKU", width="small"),
        },
        caption="Largest money at stake first. The CSV is the bulk-edit file "
        "(platform, listing id, suggested price).",
    )
with best_tab:
    left, right = st.columns([1, 2])
    left.plotly_chart(charts.best_platform_split(best), width="stretch")
    right.caption(
        f"**Rule:** the platform paying the most after fees wins, unless another nets within "
        f"{ctx.rules.tie_share:.0%} of it and sells more in 30 days: then the fastest of those "
        "wins (a sale sooner for at most that much less)."
    )
    with right:
        _common.table_with_downloads(
            best.select(
                "title",
                "best_platform",
                "net",
                "lowest_ask",
                "sales_30d",
                "volatility",
                "runner_up",
                "runner_up_net",
                "why",
                "sku",
            ),
            name=f"best_platform_{day}",
            column_config={
                "title": st.column_config.TextColumn("Item", width="medium", pinned=True),
                "best_platform": st.column_config.TextColumn("Best platform", pinned=True),
                "net": st.column_config.NumberColumn(f"Net {money}", format="%.2f"),
                "lowest_ask": st.column_config.NumberColumn(f"Lowest ask {money}", format="%.2f"),
                "sales_30d": st.column_config.NumberColumn("Sales, 30 days"),
                "volatility": st.column_config.NumberColumn("Volatility", format="percent"),
                "runner_up": "Runner-up",
                "runner_up_net": st.column_config.NumberColumn(
                    f"Runner-up net {money}", format="%.2f"
                ),
                "why": st.column_config.TextColumn("Why", width="medium"),
                "sku": st.column_config.TextColumn("SKU", width="small"),
            },
            show=1000,
            caption="Highest net first.",
        )
with moves_tab:
    _common.table_with_downloads(
        moves.select("day", "title", "platform", "before", "after", "change", "sku"),
        name=f"price_moves_{day}",
        column_config={
            "day": "Day",
            "title": st.column_config.TextColumn("Item", width="medium", pinned=True),
            "platform": "Platform",
            "before": st.column_config.NumberColumn(f"Before {money}", format="%.2f"),
            "after": st.column_config.NumberColumn(f"After {money}", format="%.2f"),
            "change": st.column_config.NumberColumn("Change", format="percent"),
            "sku": st.column_config.TextColumn("SKU", width="small"),
        },
        caption=f"Lowest asks that moved more than {ctx.rules.move_threshold:.0%} from one day "
        "to the next, in the 30 days to the market day.",
    )
with platforms_tab:
    by = st.radio("Per", ["platform", "category", "brand"], horizontal=True, key="market-by")
    summary = _data.market_summary(f, None if by == "platform" else by)
    _common.table_with_downloads(
        summary,
        name=f"market_platforms_{day}",
        column_config={
            "platform": "Platform",
            "items": st.column_config.NumberColumn("Items"),
            "avg_lowest_ask": st.column_config.NumberColumn(
                f"Avg lowest ask {money}", format="%.2f"
            ),
            "avg_fee_share": st.column_config.NumberColumn("Avg fees", format="percent"),
            "avg_sales_30d": st.column_config.NumberColumn(
                "Sales per item, 30 days", format="%.1f"
            ),
            "avg_volatility": st.column_config.NumberColumn("Avg volatility", format="percent"),
            "currency": "Currency",
        },
        caption="Over the 30 days to the market day.",
    )
