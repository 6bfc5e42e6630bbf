"""Reconciliation: open flags by type and platform, the actions per platform, drill-down to
the evidence, and the trend of open flags across syncs (stockroom.reconcile)."""

from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import streamlit as st

from app_pages import _common, _data
from stockroom import charts, config, holdings
from stockroom.reconcile import views
from stockroom.reconcile.sync import action_list

DEMO_ROOT = "reconcile-demo"

f = _common.filters()
root = Path(f.data_root)
day, flags, trend = _data.flags(f)
st.title("Reconciliation")
if day is None:
    st.info(
        "No reconciliation in this data root yet: land a central inventory (e.g. "
        "`stockroom ingest reconcile-demo`) and run `stockroom reconcile`, then reload."
    )
    demo = config.PROJECT_ROOT / "data" / DEMO_ROOT
    if _data.has_flags(demo):
        _common.demo_button(
            str(root),
            demo,
            f"Open the reconciliation demo ({DEMO_ROOT}/)",
            ":material/sync:",
            "run.sh lands a seeded 4-platform scenario there (synthetic), apart from the real "
            "Olist data so the two never mix.",
        )
    st.stop()
now = datetime.now(UTC)
open_ = views.open_flags(flags, now)
st.caption(
    f"sync of {day} · the central inventory is the source of truth · "
    f"{flags.height - open_.height:,} flag(s) closed since the previous run"
)
_common.provenance(_data.snapshots_as_of(f), "flags", _data.daily_status(f), "reconcile")
tiles = st.columns(5)
tiles[0].metric("Open flags", f"{open_.height:,}")
tiles[1].metric(
    "High severity",
    f"{(open_['severity'] == 'high').sum():,}",
    help="sold elsewhere, oversold, stale listing, unrecorded sale",
)
tiles[2].metric("Platforms affected", f"{open_['platform'].drop_nulls().n_unique():,}")
tiles[3].metric("SKUs affected", f"{open_['sku'].drop_nulls().n_unique():,}")
oldest = open_["age_hours"].max() if open_.height else None
tiles[4].metric(
    "Oldest open flag",
    f"{oldest / 24:.1f} days" if oldest is not None else "–",
    help="Since the run that first raised it.",
)

left, right = st.columns(2)
left.plotly_chart(charts.flags_by_type(views.by_type_and_platform(flags)), width="stretch")
right.plotly_chart(charts.flags_trend(trend), width="stretch")

central = _data.central_inventory(f, day)
actions_tab, flags_tab, inventory_tab = st.tabs(
    ["Actions per platform", "Flags and evidence", "Central inventory"]
)
with actions_tab:
    actions = action_list(open_.drop("age_hours"), central)
    platforms = sorted(actions["platform"].unique().to_list())
    if not platforms:
        st.caption("Nothing to do on any platform.")
    else:
        platform = st.selectbox("Platform", platforms, key="actions-platform")
        mine = actions.filter(pl.col("platform") == platform)
        _common.table_with_downloads(
            mine,
            name=f"actions-{platform}-{day}",
            column_config={"evidence": st.column_config.TextColumn("Evidence", width="large")},
            caption="The file a bulk-edit tool or a sync job reads (review flags need a "
            "person and are not in it).",
        )
with flags_tab:
    types = ["All types", *sorted(open_["flag_type"].unique().to_list())]
    kind = st.selectbox("Flag type", types, key="flag-type")
    shown = open_ if kind == "All types" else open_.filter(pl.col("flag_type") == kind)
    _common.table_with_downloads(
        shown.select(
            "flag_type",
            "severity",
            "platform",
            "listing_id",
            "sku",
            "central_value",
            "platform_value",
            "action",
            "evidence",
            "age_hours",
            "key",
        ),
        name=f"flags-{day}",
        column_config={
            "age_hours": st.column_config.NumberColumn("Age (h)", format="%.1f"),
            "evidence": st.column_config.TextColumn("Evidence", width="large"),
        },
    )
    skus = shown["sku"].drop_nulls().unique(maintain_order=True).to_list()
    if skus:
        sku = st.selectbox("Drill down to a SKU", skus, key="evidence-sku")
        found = _data.evidence(f, day, sku)
        st.markdown(f"**Central record of {sku}**")
        st.dataframe(found["central"], hide_index=True, width="stretch")
        st.markdown("**Its listings on every platform**")
        st.dataframe(found["listings"], hide_index=True, width="stretch")
        st.markdown("**Orders in the sync window**")
        st.dataframe(found["orders"], hide_index=True, width="stretch")
with inventory_tab:
    ALL = "All"
    pick = st.columns(5)
    on = pick[0].selectbox(
        "Platform",
        [ALL, *sorted({p for ps in central["platforms"].drop_nulls() for p in ps.split(",") if p})],
        key="inventory-platform",
    )
    brand = pick[1].selectbox(
        "Brand", [ALL, *sorted(central["brand"].drop_nulls().unique())], key="inventory-brand"
    )
    category = pick[2].selectbox(
        "Category",
        [ALL, *sorted(central["category"].drop_nulls().unique())],
        key="inventory-category",
    )
    currency = "/".join(sorted(central["currency"].drop_nulls().unique())) or "-"
    low, high = _common.price_range(pick[3], pick[4], "Price", currency, "inventory")
    try:
        scope = holdings.Scope(
            platform=None if on == ALL else on,
            brand=None if brand == ALL else brand,
            category=None if category == ALL else category,
            price_min=low,
            price_max=high,
        )
    except ValueError as exc:
        st.error(f"Price range: {exc}.", icon=":material/error:")
    else:
        items = views.central_items(central, open_, scope)
        _common.table_with_downloads(
            items.select(
                "title",
                "open_flags",
                "quantity",
                "price",
                "value",
                "flag_types",
                "status",
                "platforms",
                "brand",
                "category",
                "sku",
            ),
            name=f"central-inventory-{day}",
            column_config={
                "title": st.column_config.TextColumn("Item", width="medium", pinned=True),
                "open_flags": st.column_config.NumberColumn("Open flags"),
                "quantity": st.column_config.NumberColumn("Units", format="localized"),
                "price": st.column_config.NumberColumn(f"Price ({currency})", format="%.2f"),
                "value": st.column_config.NumberColumn(f"Value ({currency})", format="localized"),
                "flag_types": "Flags",
                "status": "Status",
                "platforms": "Should be on",
                "brand": "Brand",
                "category": "Category",
                "sku": st.column_config.TextColumn("SKU", width="small"),
            },
            show=1000,
            caption=f"{items.height:,} of {central.height:,} items; items with open flags "
            "first, then by value.",
        )
