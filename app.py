"""Stockroom's Streamlit entry point: one shared sidebar, pages listed with st.navigation.

Run with ``stockroom serve`` (or ``streamlit run app.py``).
"""

import streamlit as st

from app_pages import _access, _common
from stockroom.errors import StockroomError

st.set_page_config(page_title="Stockroom", page_icon=":material/inventory:", layout="wide")
# the gate: with sign-in configured, a visitor who is not signed in sees the sign-in page only
# (the run stops inside); then the person's company, role and data root for every page
st.session_state["identity"] = identity = _access.identity()

concentration = st.Page(
    "app_pages/seller_concentration.py",
    title="Seller concentration",
    icon=":material/pie_chart:",
    default=True,
)
supply = st.Page("app_pages/supply.py", title="Supply", icon=":material/inventory_2:")
holdings = st.Page("app_pages/holdings.py", title="Holdings", icon=":material/style:")
market = st.Page("app_pages/market.py", title="Market", icon=":material/storefront:")
resale = st.Page("app_pages/resale.py", title="Resale", icon=":material/sell:")
forecast = st.Page("app_pages/forecast.py", title="Forecast", icon=":material/trending_up:")
order_today = st.Page(
    "app_pages/order_today.py", title="Order today", icon=":material/shopping_cart:"
)
navigation = st.navigation(
    [
        concentration,
        supply,
        holdings,
        market,
        resale,
        forecast,
        order_today,
        st.Page(
            "app_pages/reconciliation.py", title="Reconciliation", icon=":material/sync_problem:"
        ),
        st.Page("app_pages/mapping.py", title="Mapping", icon=":material/link:"),
        *(  # the pages a role may open: importing files takes a buyer or an admin
            [st.Page("app_pages/imports.py", title="Import", icon=":material/upload_file:")]
            if identity.may("import")
            else []
        ),
        st.Page("app_pages/data_health.py", title="Data health", icon=":material/monitor_heart:"),
        *(  # people, sources, schedule, secrets: admins only
            [st.Page("app_pages/admin.py", title="Admin", icon=":material/admin_panel_settings:")]
            if identity.may("admin")
            else []
        ),
    ]
)
# the sidebar shows only the filters the open page honours
honours = {
    concentration.url_path: ("window", "category", "platform"),
    supply.url_path: ("window", "category", "platform"),
    holdings.url_path: ("window", "category", "platform"),
    forecast.url_path: ("category",),
    order_today.url_path: ("category",),
}.get(navigation.url_path, ())
try:
    st.session_state["filters"] = _common.sidebar(honours)
    navigation.run()
except StockroomError as exc:  # bad settings, money in two currencies, ...: say what to do
    st.error(str(exc), icon=":material/error:")
