"""Seller concentration: how much of the revenue the largest sellers hold
(stockroom.concentration).

A market is a category: with "All categories" the headline is the revenue-weighted
concentration of the categories and the most concentrated of them, with their DOJ/FTC bands;
the marketplace pooled (every category's sellers in one market) is shown below it, labelled as
such. With one category chosen, the headline is that category's concentration."""

import polars as pl
import streamlit as st

from app_pages import _common, _data
from stockroom import charts, products
from stockroom.concentration import HHI_BANDS

f = _common.filters()
summary = _data.concentration_summary(f)
previous = _data.concentration_previous(f)
currency = _data.currency(f)
scope = products.words(f.category) if f.category else "All categories"
if f.platform:
    scope += f" on {f.platform}"

st.title("Seller concentration")
st.caption(
    f"{scope} · {f.window.label()} · as of {f.as_of} · "
    f"{_data.money_note(f)}, excluding freight and cancelled lines"
)
st.caption(f"Counted as {_data.mapping_note(f)}.")
if summary["sellers"] is None:
    st.warning("No sales in this window and category. Widen the window or pick another category.")
    st.stop()

BAND_HELP = (
    "2023 US DOJ/FTC Merger Guidelines: HHI < 1,000 unconcentrated, 1,000-1,800 moderately, "
    "> 1,800 highly concentrated."
)


def market_tiles(row: dict, before: dict | None, hhi_label: str, cr4_label: str) -> None:
    """The tiles of one market (one category, or every category pooled)."""
    tiles = st.columns(6)
    tiles[0].metric(
        hhi_label,
        f"{row['hhi']:,.0f}",
        _common.delta(row, before, "hhi", "+,.0f"),
        delta_color="off",
        help=f"{row['band']}. Herfindahl-Hirschman Index, 0-10,000. {BAND_HELP} "
        "Delta: vs. the previous window of the same length.",
    )
    tiles[1].metric(
        cr4_label,
        f"{row['cr4']:.1%}",
        _common.delta_points(row, before, "cr4"),
        delta_color="off",
        help="Share of revenue held by the 4 largest sellers; delta in percentage points.",
    )
    tiles[2].metric("CR1", f"{row['cr1']:.1%}", help="Share of the largest seller.")
    tiles[3].metric(
        "Effective sellers",
        f"{row['effective_sellers']:,.0f}",
        help="10,000 / HHI: equal-sized sellers that would give the same HHI.",
    )
    tiles[4].metric(
        "Gini",
        f"{row['gini']:.2f}",
        help="Inequality of revenue across sellers: 0 equal, 1 one seller has all.",
    )
    tiles[5].metric(
        "Sellers with sales",
        f"{row['sellers']:,}",
        _common.delta(row, before, "sellers", "+,d"),
    )


across = _data.concentration_across(f) if f.category is None else None
if across is not None and across["hhi"] is None:  # no sale has a category: one market
    st.caption("No sale in this window has a product category: the marketplace is one market.")
    across = None
if across is not None:
    across_before = _data.concentration_across_previous(f)
    st.subheader("Per category: a category is the market")
    tiles = st.columns(5)
    tiles[0].metric(
        "HHI per category",
        f"{across['hhi']:,.0f}",
        _common.delta(across, across_before, "hhi", "+,.0f"),
        delta_color="off",
        help=f"{across['band']}. The categories' HHI (0-10,000) weighted by their revenue "
        f"(Autor et al., QJE 2020). {BAND_HELP} Delta: vs. the previous window.",
    )
    tiles[1].metric(
        "CR4 per category",
        f"{across['cr4']:.1%}",
        _common.delta_points(across, across_before, "cr4"),
        delta_color="off",
        help="The 4 largest sellers' share in each category, weighted by the categories' "
        "revenue; delta in percentage points.",
    )
    tiles[2].metric(
        "Revenue, HHI > 1,800",
        f"{across['highly_concentrated_share']:.1%}",
        _common.delta_points(across, across_before, "highly_concentrated_share"),
        delta_color="off",
        help="Share of revenue in categories with HHI above 1,800.",
    )
    tiles[3].metric("Categories with sales", f"{across['categories']:,}")
    tiles[4].metric(
        "Sellers with sales",
        f"{summary['sellers']:,}",
        _common.delta(summary, previous, "sellers", "+,d"),
    )
    st.caption(
        f"Weighted over categories: **{across['band']}**. Sales without a category are left "
        "out of the per-category figures."
    )
    most = across["most_concentrated"]
    left, right = st.columns([2, 3])
    if most.height:
        left.plotly_chart(charts.category_hhi(most), width="stretch")
    right.plotly_chart(
        charts.concentration_trend(
            _data.concentration_monthly_across(f), scope=" (per category, weighted)"
        ),
        width="stretch",
    )
    with st.expander("The marketplace pooled: every category's sellers as one market"):
        st.caption(
            "Pooling sellers of unrelated categories (furniture with watches) understates "
            "market power; shown for comparison with tools that report it this way."
        )
        market_tiles(summary, previous, "HHI, pooled", "CR4, pooled")
else:
    market_tiles(summary, previous, "HHI (0-10,000)", "CR4")
    st.caption(f"Concentration band: **{summary['band']}**. {BAND_HELP}")
    monthly = _data.concentration_monthly(f if f.category else f.all_categories)
    st.plotly_chart(charts.concentration_trend(monthly, scope=f" · {scope}"), width="stretch")

sellers = _data.seller_table(f)
st.plotly_chart(charts.top_sellers(sellers, 15), width="stretch")

money = st.column_config.NumberColumn(f"Revenue ({currency})", format="localized")
# the columns of a table of markets (categories, platforms): concentration.by_category
MARKET_COLUMNS = {
    "hhi": st.column_config.ProgressColumn(
        "HHI", format="%.0f", min_value=0, max_value=10_000, pinned=True
    ),
    "band": st.column_config.TextColumn("Band (DOJ/FTC 2023)"),
    "sellers": st.column_config.NumberColumn("Sellers", format="localized"),
    "revenue": money,
    "revenue_share": st.column_config.NumberColumn("Revenue share", format="percent"),
    "cr1": st.column_config.NumberColumn("CR1", format="percent"),
    "cr4": st.column_config.NumberColumn("CR4", format="percent"),
    "top10_share": st.column_config.NumberColumn("Top-10 share", format="percent"),
    "effective_sellers": st.column_config.NumberColumn("Effective sellers", format="%.1f"),
    "gini": st.column_config.NumberColumn("Gini", format="%.2f"),
}
sellers_tab, categories_tab, platforms_tab = st.tabs(["Sellers", "Categories", "Platforms"])
with sellers_tab:
    rows = st.select_slider(
        "Sellers to show", [10, 25, 50, 100, 250, 500, "all"], value=50, key="concentration-rows"
    )
    shown = sellers if rows == "all" else sellers.head(rows)
    _common.table_with_downloads(
        shown,
        name=f"sellers_{f.as_of}",
        column_config={
            "rank": st.column_config.NumberColumn("#", width="small", pinned=True),
            "seller": st.column_config.TextColumn("Seller", width="medium", pinned=True),
            "revenue": money,
            "share": st.column_config.ProgressColumn(
                "Share", format="percent", min_value=0, max_value=float(sellers["share"].max())
            ),
            "cumulative_share": st.column_config.NumberColumn("Cumulative share", format="percent"),
            "units": st.column_config.NumberColumn("Units", format="localized"),
            "orders": st.column_config.NumberColumn("Orders", format="localized"),
            "products": st.column_config.NumberColumn("SKUs sold", format="localized"),
            "city": "City",
            "region": "State",
            "seller_id": st.column_config.TextColumn("Seller id", width="small"),
        },
        caption=f"{shown.height:,} of {sellers.height:,} sellers."
        + (
            " The source publishes no seller names: a seller is its id's first characters "
            "and its city."
            if sellers["seller"].str.contains("…").any()
            else ""
        ),
    )
    names = dict(zip(sellers["seller_id"], sellers["seller"], strict=True))
    pick = st.selectbox(
        "Drill down to a Seller's platform accounts",
        shown["seller_id"].to_list(),
        format_func=lambda key: names.get(key, key),
        key="seller-accounts",
    )
    if pick is not None:
        accounts = _data.seller_accounts(f).filter(pl.col("seller_id") == pick)
        st.dataframe(
            accounts.drop("seller_id"),
            column_config={
                "platform": st.column_config.TextColumn("Platform", pinned=True),
                "platform_seller_id": "Id on the platform",
                "seller_name": "Name on the platform",
                "revenue": money,
                "units": st.column_config.NumberColumn("Units", format="localized"),
                "orders": st.column_config.NumberColumn("Orders", format="localized"),
                "share_of_seller": st.column_config.ProgressColumn(
                    "Share of the Seller", format="percent", min_value=0, max_value=1
                ),
            },
            hide_index=True,
            width="stretch",
        )
with categories_tab:
    by_category = _data.concentration_by_category(f)
    high = HHI_BANDS[1][0]
    _common.table_with_downloads(
        by_category.sort("hhi", descending=True),
        name=f"concentration_by_category_{f.as_of}",
        column_config={
            "category": None,
            "category_name": st.column_config.TextColumn("Category", pinned=True),
            **MARKET_COLUMNS,
        },
        caption=f"Every category in the window, most concentrated first "
        f"({(by_category['hhi'] > high).sum():,} above HHI {high:,.0f}); the category filter "
        "does not apply here. Small categories reach a high HHI with a few sellers: see "
        "their revenue share.",
    )
with platforms_tab:
    platforms = _data.concentration_by_platform(f)
    if platforms.height < 2:
        st.caption(
            f"One platform ({', '.join(platforms['platform'])}) in this window: nothing to split."
        )
    _common.table_with_downloads(
        platforms,
        name=f"concentration_by_platform_{f.as_of}",
        column_config={
            "platform": st.column_config.TextColumn("Platform", pinned=True),
            **MARKET_COLUMNS,
        },
        caption="Each platform as a market of its own, largest revenue first.",
    )
    if platforms.height >= 2:
        shares = _data.platform_shares(f)
        st.markdown("**Who dominates where**: the largest Sellers' share of each platform")
        _common.table_with_downloads(
            shares,
            name=f"platform_shares_{f.as_of}",
            column_config={
                "seller_id": None,
                "seller": st.column_config.TextColumn("Seller", pinned=True),
                "revenue": money,
                "share": st.column_config.NumberColumn("All platforms", format="percent"),
                **{
                    p: st.column_config.ProgressColumn(
                        p, format="percent", min_value=0, max_value=1
                    )
                    for p in platforms["platform"]
                },
            },
            caption="Share of each platform's revenue (0 % where the Seller does not sell "
            "there) beside the share of all platforms.",
        )
