"""Supply: how many sellers stand behind each product and category, and how fast it sells
(stockroom.supply)."""

import polars as pl
import streamlit as st

from app_pages import _common, _data
from stockroom import charts
from stockroom import products as products_lib

f = _common.filters()
summary = _data.supply_summary(f)
previous = _data.supply_previous(f)
currency = _data.currency(f)

st.title("Supply")
scope = products_lib.words(f.category) if f.category else "All categories"
if f.platform:
    scope += f" on {f.platform}"
st.caption(
    f"{scope} · {f.window.label()} · as of {f.as_of} · "
    f"{_data.money_note(f)} · a seller is active for a product when it sold it in the window"
)
st.caption(f"Counted as {_data.mapping_note(f)}.")
if summary["products"] is None:
    st.warning("No sales in this window and category. Widen the window or pick another category.")
    st.stop()

tiles = st.columns(6)
tiles[0].metric(
    "Products sold", f"{summary['products']:,}", _common.delta(summary, previous, "products", "+,d")
)
tiles[1].metric(
    "Active sellers", f"{summary['sellers']:,}", _common.delta(summary, previous, "sellers", "+,d")
)
tiles[2].metric(
    "Sellers per product",
    f"{summary['sellers_per_product']:.2f}",
    help="Mean distinct active sellers per product sold.",
)
tiles[3].metric(
    "One-seller products",
    f"{summary['single_seller_share']:.1%}",
    _common.delta_points(summary, previous, "single_seller_share"),
    delta_color="inverse",
    help="Supply risk: share of products sold by exactly one seller; delta in percentage points.",
)
tiles[4].metric(
    "One-seller revenue",
    f"{summary['single_seller_revenue_share']:.1%}",
    help="Share of revenue on products sold by exactly one seller.",
)
tiles[5].metric(
    "Velocity (units/day)",
    f"{summary['units_per_day']:,.1f}",
    _common.delta(summary, previous, "units_per_day", "+,.1f"),
    help="Units sold in the window / days in the window.",
)

trend, top = st.columns([3, 2])
trend.plotly_chart(charts.supply_trend(_data.supply_monthly(f)), width="stretch")
top.plotly_chart(charts.top_suppliers(_data.top_suppliers(f)), width="stretch")

money = st.column_config.NumberColumn(f"Revenue ({currency})", format="localized")
velocity = st.column_config.NumberColumn("Units/day", format="%.3f")
categories_tab, products_tab = st.tabs(["Categories", "Products"])
with categories_tab:
    categories = _data.category_supply(f)
    if f.category:
        categories = categories.filter(categories["category"] == f.category)
    _common.table_with_downloads(
        categories.select("category_name", pl.exclude("category_name")),
        name=f"supply_by_category_{f.as_of}",
        column_config={
            "category_name": st.column_config.TextColumn("Category", pinned=True),
            "category": None,
            "products": st.column_config.NumberColumn("Products", format="localized"),
            "sellers": st.column_config.NumberColumn("Active sellers", format="localized"),
            "sellers_per_product": st.column_config.NumberColumn("Sellers/product", format="%.2f"),
            "single_seller_share": st.column_config.ProgressColumn(
                "One-seller share", format="percent", min_value=0, max_value=1
            ),
            "single_seller_revenue_share": st.column_config.NumberColumn(
                "One-seller revenue", format="percent"
            ),
            "units": st.column_config.NumberColumn("Units", format="localized"),
            "revenue": money,
            "units_per_day": velocity,
        },
    )
with products_tab:
    products = _data.product_supply(f)
    rows = st.select_slider("Products to show", [25, 100, 250, 1000], value=100, key="supply-rows")
    shown = products.head(rows).select(
        "product",
        "sellers",
        "single_seller",
        "revenue",
        "units",
        "units_per_day",
        products_lib.category_words(pl.col("category")).alias("category_name"),
        "sku",
    )
    _common.table_with_downloads(
        shown,
        name=f"supply_by_product_{f.as_of}",
        column_config={
            "product": st.column_config.TextColumn("Product", width="medium", pinned=True),
            "sellers": st.column_config.NumberColumn("Active sellers"),
            "single_seller": st.column_config.CheckboxColumn("One seller"),
            "revenue": money,
            "units": st.column_config.NumberColumn("Units", format="localized"),
            "units_per_day": velocity,
            "category_name": "Category",
            "sku": st.column_config.TextColumn("SKU", width="small"),
        },
        caption=f"Top {shown.height:,} of {products.height:,} products by revenue.",
    )
