"""Order today: the buyer's morning lists from forecasts, stock and open purchase orders
(stockroom.procurement): order today, already ordered, attention required -- sorted by revenue at
risk, with "mark as ordered", per-SKU settings and the purchase-request CSV."""

from pathlib import Path

import polars as pl
import streamlit as st

from app_pages import _common, _data
from stockroom import export, workbench
from stockroom.procurement import actions, repo
from stockroom.procurement.plan import purchase_requests

LABELS = {
    actions.ORDER_TODAY: "Order today",
    actions.ALREADY_ORDERED: "Already ordered",
    actions.ATTENTION: "Attention required",
    actions.OK: "OK",
}


f = _common.filters()
root = Path(f.data_root)
locations = _data.stock_locations(f)
st.title("Order today")
location = None
if len(locations) > 1:
    choice = st.selectbox(
        "Stock location",
        ["All locations", *locations],
        help="One location: what its stock covers of the whole demand; all: summed.",
    )
    location = None if choice == "All locations" else choice
day, plan = _data.plan(f, _data.version(f), location)
actor = _common.signer("place orders")
if day is None:
    st.info(
        "No forecasts yet: run `stockroom forecast` (and land stock, e.g. "
        "`stockroom ingest demo-stock` for the bundled demo), then reload."
    )
    st.stop()
if f.category:
    plan = plan.filter(pl.col("category") == f.category)
st.caption(
    f"plan for {day} (forecasts of that day, stock and open POs as they stand now) · "
    "priority = revenue at risk = expected lost units before the next possible "
    "delivery × last price"
)
_common.provenance(_data.snapshots_as_of(f), "order_plan", _data.daily_status(f), "plan")

counts = dict(plan.group_by("action").len().iter_rows())
wape = _data.forecast_wape(f)
tiles = st.columns(6)
for tile, action in zip(
    tiles, (actions.ORDER_TODAY, actions.ALREADY_ORDERED, actions.ATTENTION), strict=False
):
    tile.metric(LABELS[action], f"{counts.get(action, 0):,}")
at_risk = plan.filter(pl.col("revenue_at_risk") > 0)
tiles[3].metric(
    "SKUs at risk",
    f"{at_risk.height:,}",
    help="Expected to run out before the next possible delivery (lead time).",
)
tiles[4].metric(
    "Revenue at risk",
    f"{plan['revenue_at_risk'].sum():,.0f}",
    help="Orders' currency; lost units before the next delivery × last price.",
)
tiles[5].metric(
    "Forecast WAPE",
    f"{wape:.1%}" if wape is not None else "–",
    help="Backtest error of the forecasts behind this plan (Forecast page).",
)

columns = {
    "sku": st.column_config.TextColumn("SKU", width="medium"),
    "sales_8w": st.column_config.LineChartColumn("Sales, 8 weeks", y_min=0),
    "available": st.column_config.NumberColumn("Available", format="localized"),
    "runway_days": st.column_config.NumberColumn("Runway (days)", format="%.1f"),
    "stockout_date": st.column_config.DateColumn("Stockout"),
    "order_qty": st.column_config.NumberColumn("Order qty", format="localized"),
    "on_order": st.column_config.NumberColumn("On order", format="localized"),
    "po_coverage": st.column_config.ProgressColumn(
        "PO coverage", format="percent", min_value=0, max_value=1
    ),
    "revenue_at_risk": st.column_config.NumberColumn("Revenue at risk", format="%.2f"),
    "confidence": "Confidence",
    "reason": st.column_config.TextColumn("Why", width="large"),
}
shown = [
    "sku",
    "revenue_at_risk",
    "order_qty",
    "available",
    "runway_days",
    "stockout_date",
    "sales_8w",
    "reason",
    "on_order",
    "po_coverage",
    "confidence",
    "supplier",
    "category",
]
tabs = st.tabs(
    [
        f"{LABELS[a]} ({counts.get(a, 0):,})"
        for a in (actions.ORDER_TODAY, actions.ALREADY_ORDERED, actions.ATTENTION)
    ]
    + ["All SKUs", "Settings"]
)
for tab, action in zip(
    tabs, (actions.ORDER_TODAY, actions.ALREADY_ORDERED, actions.ATTENTION), strict=False
):
    with tab:
        rows = plan.filter(pl.col("action") == action)
        if rows.is_empty():
            st.caption("Nothing here today.")
            continue
        if action == actions.ALREADY_ORDERED:
            st.dataframe(
                rows.select(shown), column_config=columns, hide_index=True, width="stretch"
            )
            continue
        st.dataframe(rows.select(shown), column_config=columns, hide_index=True, width="stretch")
        candidates = rows.filter(pl.col("order_qty") > 0)["sku"].to_list()
        picked = st.multiselect(
            "SKUs to mark as ordered (recommended quantity)",
            candidates,
            key=f"pick-{action}",
            placeholder="pick SKUs from the list",
        )
        orderable = rows.filter(pl.col("sku").is_in(picked))
        if st.button(
            f"Mark {orderable.height} selected as ordered",
            disabled=orderable.is_empty() or not actor,
            key=f"order-{action}",
            icon=":material/shopping_cart:",
            help="Creates one purchase order per supplier (audited) with the "
            "recommended quantities, expected after each SKU's lead time.",
        ):
            numbers = repo.place_orders_from_plan(
                workbench.engine(root),
                orderable,
                day,
                actor=actor,
                reason=f"marked as ordered from {LABELS[action]}",
            )
            st.toast(f"{orderable.height} SKU(s) ordered: {', '.join(numbers)}")
            st.rerun()
        requests = purchase_requests(rows, day)
        st.download_button(
            "Download purchase requests (CSV)",
            lambda requests=requests: export.write_csv(requests),
            f"purchase_requests_{day}.csv",
            "text/csv",
            key=f"requests-{action}",
            icon=":material/download:",
            disabled=requests.is_empty(),
        )
with tabs[3]:
    _common.table_with_downloads(
        plan.drop("sales_8w"), name=f"order_plan_{day}", column_config=columns
    )
with tabs[4]:
    st.caption(
        "Settings resolve per SKU: its own > its supplier's > its platform's > the "
        "default (built-in: lead time 14 d, weekly review, 95 % service level). "
        "Every change is audited."
    )
    sku = st.selectbox("SKU", plan["sku"].to_list(), key="settings-sku")
    current = plan.filter(pl.col("sku") == sku).row(0, named=True)
    with st.form("settings"):
        cols = st.columns(3)
        supplier = cols[0].text_input("Supplier", current["supplier"])
        lead = cols[1].number_input("Lead time (days)", 0, 365, int(current["lead_time_days"]))
        review = cols[2].number_input("Review period (days)", 1, 90, int(current["review_days"]))
        level = cols[0].slider("Service level", 0.50, 0.995, float(current["service_level"]), 0.005)
        moq = cols[1].number_input("MOQ (units)", 0, 1_000_000, int(current["moq"]))
        pack = cols[2].number_input("Pack size (units)", 1, 100_000, int(current["pack_size"]))
        if st.form_submit_button("Save settings for this SKU", disabled=not actor):
            repo.set_settings(
                workbench.engine(root),
                "sku",
                sku,
                actor=actor,
                reason="edited on the Order today page",
                supplier=supplier if supplier != "unassigned" else None,
                lead_time_days=int(lead),
                review_days=int(review),
                service_level=float(level),
                moq=int(moq),
                pack_size=int(pack),
            )
            st.toast(f"settings saved for {sku}")
            st.rerun()
