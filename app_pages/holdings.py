"""Holdings: inventory on the market per Seller x card x treatment, from the listings snapshots
(stockroom.holdings) -- who holds what, its value at the Seller's lowest ask, how it moved
over the window, and which products only one Seller holds."""

import polars as pl
import streamlit as st

from app_pages import _common, _data
from stockroom import charts, holdings
from stockroom import products as products_lib

f = _common.filters()
day, since = _data.holdings_days(f)

st.title("Holdings")
if day is None:
    st.info(
        "No listings snapshots on or before this date. Land listings (e.g. `stockroom ingest "
        "simulate`, a storefront or a marketplace API) and run `stockroom map`, then reload."
    )
    st.stop()

ALL = "All"
choices = _data.holdings_choices(f)
currency = _data.holdings_currency(f)
pick = st.columns([2, 1, 1])
brand = pick[0].selectbox("Brand", [ALL, *choices["brands"]], key="holdings-brand")
low, high = _common.price_range(pick[1], pick[2], "Lowest ask", currency, "holdings")
try:
    scope = holdings.Scope(
        platform=f.platform,
        brand=None if brand == ALL else brand,
        category=f.category,
        price_min=low,
        price_max=high,
    )
except ValueError as exc:
    st.error(f"Price range: {exc}.", icon=":material/error:")
    st.stop()

table = _data.holdings_table(f, scope)
risk = _data.holdings_risk(f, scope)
summary = _data.holdings_summary(f, scope)
where = " · ".join(
    part
    for part in (
        products_lib.words(f.category) if f.category else "All categories",
        scope.platform or "every platform",
        scope.brand,
    )
    if part
)
st.caption(
    f"{where} · active listings of {day} (change since {since}) · values at each Seller's "
    f"lowest ask, in {currency} · a Seller's units cross-listed on several platforms count once"
)
coverage = (
    f"{summary['seller_coverage']:.1%} of value on mapped Sellers, "
    f"{summary['product_coverage']:.1%} on catalog products"
    if summary["value"]
    else "nothing held"
)
st.caption(f"Counted per unified Seller and catalog product: {coverage}.")
if table.is_empty():
    st.warning("No active listings match. Clear a filter or widen the price range.")
    st.stop()

tiles = st.columns(6)
tiles[0].metric(f"Value ({currency})", f"{summary['value']:,.0f}")
tiles[1].metric("Units", f"{summary['units']:,}")
tiles[2].metric("Sellers", f"{summary['sellers']:,}")
tiles[3].metric(
    "Products", f"{summary['products']:,}", help="Catalog products (card x treatment) held."
)
tiles[4].metric(
    "One-seller products",
    f"{summary['single_seller_share']:.1%}",
    help="Share of products only one Seller holds: if it stops, the market has none.",
)
tiles[5].metric(
    "Value, one seller",
    f"{summary['single_seller_value_share']:.1%}",
    help="Share of the value in products only one Seller holds.",
)

trend, treatments = st.columns([3, 2])
trend.plotly_chart(charts.holdings_trend(_data.holdings_trend(f, scope), currency), width="stretch")
treatments.plotly_chart(charts.holdings_by_treatment(risk, currency), width="stretch")

money = st.column_config.NumberColumn(f"Value ({currency})", format="localized")
ask = st.column_config.NumberColumn(f"Lowest ask ({currency})", format="%.2f")
held_tab, risk_tab = st.tabs(["Seller × card × treatment", "Single-seller risk"])
with held_tab:
    _common.table_with_downloads(
        table.select(
            "seller",
            "product",
            "treatment",
            "units",
            "value",
            "lowest_ask",
            "units_change",
            "listings",
            "platforms",
            products_lib.category_words(pl.col("category")).alias("category_name"),
            "brand",
            "card_id",
            "sku",
            "seller_id",
        ),
        name=f"holdings_{day}",
        column_config={
            "seller": st.column_config.TextColumn("Seller", pinned=True),
            "product": st.column_config.TextColumn("Product", width="medium", pinned=True),
            "treatment": "Treatment",
            "units": st.column_config.NumberColumn("Units", format="localized"),
            "units_change": st.column_config.NumberColumn(
                f"Units vs {since}", format="%+d", help="Change since the trend's first day."
            ),
            "listings": st.column_config.NumberColumn("Listings"),
            "platforms": "Platforms",
            "lowest_ask": ask,
            "value": money,
            "category_name": "Category",
            "brand": "Brand",
            "card_id": "Card",
            "sku": st.column_config.TextColumn("SKU", width="small"),
            "seller_id": st.column_config.TextColumn("Seller id", width="small"),
        },
        show=1000,
        caption=f"{table.height:,} holdings, largest value first.",
    )
with risk_tab:
    _common.table_with_downloads(
        risk.select(
            "product",
            "treatment",
            "sellers",
            "top_seller",
            "top_share",
            "units",
            "value",
            "hhi",
            "single_seller",
            products_lib.category_words(pl.col("category")).alias("category_name"),
            "sku",
        ),
        name=f"holdings_risk_{day}",
        column_config={
            "product": st.column_config.TextColumn("Product", width="medium", pinned=True),
            "treatment": "Treatment",
            "sellers": st.column_config.NumberColumn("Sellers holding"),
            "top_seller": "Largest holder",
            "top_share": st.column_config.ProgressColumn(
                "Largest holder's share", format="percent", min_value=0, max_value=1
            ),
            "units": st.column_config.NumberColumn("Units", format="localized"),
            "value": money,
            "hhi": st.column_config.NumberColumn("HHI of units", format="localized"),
            "single_seller": st.column_config.CheckboxColumn("One seller"),
            "category_name": "Category",
            "sku": st.column_config.TextColumn("SKU", width="small"),
        },
        show=1000,
        caption="Products only one Seller holds first, then by value.",
    )
