"""Seller concentration: how much of the revenue the largest sellers hold
(stockroom.concentration)."""

import streamlit as st

from app_pages import _common, _data
from stockroom import charts

f = _common.filters()
summary = _data.concentration_summary(f)
previous = _data.concentration_previous(f)
currency = _data.currency(f)

st.title("Seller concentration")
st.caption(
    f"{f.category or 'All categories'} · {f.window.label()} · as of {f.as_of} · "
    f"revenue in {currency}, excluding freight and cancelled lines"
)
if summary["sellers"] is None:
    st.warning("No sales in this window and category. Widen the window or pick another category.")
    st.stop()

tiles = st.columns(6)
tiles[0].metric(
    "HHI (0-10,000)",
    f"{summary['hhi']:,.0f}",
    _common.delta(summary, previous, "hhi", "+,.0f"),
    delta_color="off",
    help=f"{summary['band']}. Herfindahl-Hirschman Index, 2023 US Merger Guidelines "
    "scale: < 1,000 unconcentrated, 1,000-1,800 moderate, > 1,800 high. "
    "Delta: vs. the previous window of the same length.",
)
tiles[1].metric(
    "CR4",
    f"{summary['cr4']:.1%}",
    _common.delta(summary, previous, "cr4", "+.1%"),
    delta_color="off",
    help="Share of revenue held by the 4 largest sellers.",
)
tiles[2].metric("CR1", f"{summary['cr1']:.1%}", help="Share of the largest seller.")
tiles[3].metric(
    "Effective sellers",
    f"{summary['effective_sellers']:,.0f}",
    help="10,000 / HHI: equal-sized sellers that would give the same HHI.",
)
tiles[4].metric(
    "Gini",
    f"{summary['gini']:.2f}",
    help="Inequality of revenue across sellers: 0 equal, 1 one seller has all.",
)
tiles[5].metric(
    "Sellers with sales",
    f"{summary['sellers']:,}",
    _common.delta(summary, previous, "sellers", "+,d"),
)
st.caption(f"Concentration band: **{summary['band']}**.")

monthly = _data.concentration_monthly(f)
sellers = _data.seller_table(f)
trend, top = st.columns([3, 2])
trend.plotly_chart(charts.concentration_trend(monthly), width="stretch")
top.plotly_chart(charts.top_sellers(sellers, 15), width="stretch")

money = st.column_config.NumberColumn(f"Revenue ({currency})", format="localized")
sellers_tab, categories_tab = st.tabs(["Sellers", "Categories"])
with sellers_tab:
    rows = st.select_slider(
        "Sellers to show", [10, 25, 50, 100, 250, 500, "all"], value=50, key="concentration-rows"
    )
    shown = sellers if rows == "all" else sellers.head(rows)
    _common.table_with_downloads(
        shown,
        name=f"sellers_{f.as_of}",
        column_config={
            "rank": st.column_config.NumberColumn("#", width="small"),
            "seller_id": st.column_config.TextColumn("Seller id", width="medium"),
            "city": "City",
            "region": "State",
            "revenue": money,
            "share": st.column_config.ProgressColumn(
                "Share", format="percent", min_value=0, max_value=float(sellers["share"].max())
            ),
            "cumulative_share": st.column_config.NumberColumn("Cumulative share", format="percent"),
            "units": st.column_config.NumberColumn("Units", format="localized"),
            "orders": st.column_config.NumberColumn("Orders", format="localized"),
            "products": st.column_config.NumberColumn("SKUs sold", format="localized"),
        },
        caption=f"{shown.height:,} of {sellers.height:,} sellers.",
    )
with categories_tab:
    by_category = _data.concentration_by_category(f)
    _common.table_with_downloads(
        by_category,
        name=f"concentration_by_category_{f.as_of}",
        column_config={
            "category": "Category",
            "sellers": st.column_config.NumberColumn("Sellers", format="localized"),
            "revenue": money,
            "hhi": st.column_config.NumberColumn("HHI", format="%.0f"),
            "cr1": st.column_config.NumberColumn("CR1", format="percent"),
            "cr4": st.column_config.NumberColumn("CR4", format="percent"),
            "top10_share": st.column_config.NumberColumn("Top-10 share", format="percent"),
            "effective_sellers": st.column_config.NumberColumn("Effective sellers", format="%.1f"),
            "gini": st.column_config.NumberColumn("Gini", format="%.2f"),
        },
        caption="All categories in the window (the category filter does not apply here).",
    )
