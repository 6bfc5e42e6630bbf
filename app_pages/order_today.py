"""Order today: the buyer's morning lists from forecasts, stock and open purchase orders
(stockroom.procurement): order today, already ordered, attention required split by reason with
the step each asks for, and exceptions (dormant stock, overstock, too much on order) ranked by
the money they tie up. Rows are ticked to mark them as ordered; every row names its product
and links to its forecast and SHAP drivers."""

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
LISTS = (actions.ORDER_TODAY, actions.ALREADY_ORDERED, actions.ATTENTION)


def compact(value: float) -> str:
    """12,345 -> '12,345'; 848,736 -> '848.7K'; 1,234,567 -> '1.23M' (fits a tile)."""
    if abs(value) >= 1e6:
        return f"{value / 1e6:,.2f}M"
    return f"{value / 1e3:,.1f}K" if abs(value) >= 1e5 else f"{value:,.0f}"


def money(amounts: pl.DataFrame, column: str, currency: str) -> str:
    """Sum of ``column``: compact in ``currency`` when there is one, else per currency."""
    if currency:
        return compact(amounts[column].sum())
    totals = amounts.group_by(pl.col("currency").fill_null("")).agg(pl.col(column).sum())
    parts = [f"{compact(v)} {c}".strip() for c, v in totals.sort(column).iter_rows() if v]
    return " + ".join(reversed(parts)) or "0"


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
actor = _common.signer("place orders", "order")
if day is None:
    st.info(
        "No forecasts yet: run `stockroom forecast` (and land stock, e.g. "
        "`stockroom ingest demo-stock` for the bundled demo), then reload."
    )
    st.stop()
if f.category:
    plan = plan.filter(pl.col("category") == f.category)
currencies = plan["currency"].drop_nulls().unique().sort().to_list()
currency = currencies[0] if len(currencies) == 1 else ""
st.caption(
    f"plan for {day} (forecasts of that day, stock and open POs as they stand now) · "
    "priority = revenue at risk = expected lost units before the next possible "
    "delivery × last price" + (f" · amounts in {', '.join(currencies)}" if currencies else "")
)
_common.provenance(_data.snapshots_as_of(f), "order_plan", _data.daily_status(f), "plan")

plan = plan.with_columns(
    ("/forecast?sku=" + pl.col("sku")).alias("forecast_link"),
    # the lead time the plan protects, and where it comes from
    pl.when(pl.col("lead_time_receipts").fill_null(0) > 0)
    .then(
        pl.format(
            "{} d (median of {} receipts)", pl.col("lead_time_days"), pl.col("lead_time_receipts")
        )
    )
    .otherwise(pl.format("{} d (setting)", pl.col("lead_time_days")))
    .alias("lead_time_label"),
    pl.col("attention")
    .replace_strict({k: v[0] for k, v in actions.ATTENTION_REASONS.items()}, default="")
    .alias("attention_label"),
    pl.col("exception")
    .replace_strict({k: v[0] for k, v in actions.EXCEPTIONS.items()}, default="")
    .alias("exception_label"),
)
counts = dict(plan.group_by("action").len().iter_rows())
exceptions = plan.filter(pl.col("exception") != "").sort("money_tied_up", descending=True)
tiles = st.columns(6)
for tile, action in zip(tiles, LISTS, strict=False):
    tile.metric(LABELS[action], f"{counts.get(action, 0):,}")
unit = f", {currency}" if currency else ""
tiles[3].metric(
    f"Revenue at risk{unit}",
    money(plan, "revenue_at_risk", currency),
    help="Lost units before the next possible delivery (lead time) × last price, "
    f"{plan.filter(pl.col('revenue_at_risk') > 0).height:,} SKUs.",
)
tiles[4].metric(
    f"Money tied up{unit}",
    money(exceptions, "money_tied_up", currency),
    help="Exceptions: dormant stock, overstock and too much on order, at unit cost "
    "(else the last price).",
)
_common.accuracy_metric(tiles[5], _data.forecast_accuracy(f))

amount = f"%.2f {currency}".strip() if currency else "%.2f"
columns = {
    "product": st.column_config.TextColumn("Product", width="medium"),
    "order_qty": st.column_config.NumberColumn("Order qty", format="localized", width="small"),
    "revenue_at_risk": st.column_config.NumberColumn("Revenue at risk", format=amount),
    "reason": st.column_config.TextColumn("Why", width="large"),
    "next_step": st.column_config.TextColumn("What to do", width="medium"),
    "attention_label": st.column_config.TextColumn("Attention", width="medium"),
    "exception_label": st.column_config.TextColumn("Exception", width="medium"),
    "stockout_date": st.column_config.DateColumn(
        "Stockout", help="Day the stock runs out on the forecast; today = out of stock now."
    ),
    "available": st.column_config.NumberColumn("Available", format="localized"),
    "runway_days": st.column_config.NumberColumn("Runway (days)", format="%.1f"),
    "sales_8w": st.column_config.LineChartColumn("Sales, 8 weeks", y_min=0),
    "on_order": st.column_config.NumberColumn("On order", format="localized"),
    "po_coverage": st.column_config.ProgressColumn(
        "PO coverage", format="percent", min_value=0, max_value=1
    ),
    "excess_units": st.column_config.NumberColumn("Excess units", format="%.0f"),
    "money_tied_up": st.column_config.NumberColumn("Money tied up", format=amount),
    "unit_price": st.column_config.NumberColumn("Last price", format=amount),
    "supplier": "Supplier",
    "lead_time_label": st.column_config.TextColumn(
        "Lead time",
        help="Median of the supplier's received POs when it has 5 or more (their spread is "
        "protected too), else the lead-time setting.",
    ),
    "category": "Category",
    "confidence": "Confidence",
    "sku": st.column_config.TextColumn("SKU", width="small"),
    "forecast_link": st.column_config.LinkColumn(
        "Forecast", display_text="forecast & drivers", help="Its forecast and SHAP drivers."
    ),
}
#: the detail every list ends with, after what a buyer acts on
DETAIL = ["sales_8w", "supplier", "lead_time_label", "category", "sku", "forecast_link"]
#: per list, the columns in order: what a buyer acts on first (the product, the quantity,
#: the money and the why), the detail after
SHOWN = {
    actions.ORDER_TODAY: [
        "product",
        "order_qty",
        "revenue_at_risk",
        "reason",
        "stockout_date",
        "available",
        "runway_days",
        *DETAIL,
    ],
    actions.ALREADY_ORDERED: [
        "product",
        "on_order",
        "po_coverage",
        "stockout_date",
        "available",
        "runway_days",
        *DETAIL,
    ],
    actions.ATTENTION: [
        "product",
        "order_qty",
        "revenue_at_risk",
        "attention_label",
        "next_step",
        "reason",
        "stockout_date",
        "available",
        "on_order",
        "po_coverage",
        *DETAIL,
    ],
}


def tick_and_order(rows: pl.DataFrame, action: str, key: str) -> None:
    """``rows`` as a table whose rows are ticked, then marked as ordered (one audited PO per
    supplier) with the recommended quantities; and the purchase-request CSV."""
    event = st.dataframe(
        rows.select(SHOWN[action]),
        column_config=columns,
        hide_index=True,
        width="stretch",
        on_select="rerun",
        selection_mode="multi-row",
        key=f"table-{key}",
    )
    ticked = rows[sorted(event.selection.rows)] if event.selection.rows else rows.head(0)
    orderable = ticked.filter(pl.col("order_qty") > 0)
    left, right = st.columns([2, 1])
    clicked = left.button(
        f"Mark {orderable.height} ticked as ordered"
        if orderable.height
        else "Tick rows in the table to mark them as ordered",
        disabled=orderable.is_empty() or not actor,
        key=f"order-{key}",
        icon=":material/shopping_cart:",
        help="Creates one purchase order per supplier (audited) with the "
        "recommended quantities, expected after each SKU's lead time.",
    )
    if clicked and actor and not orderable.is_empty():  # a forced click of a disabled button
        # (a crafted message) does nothing: the role, not the button, decides
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
    right.download_button(
        "Purchase requests (CSV)",
        lambda requests=requests: export.write_csv(requests) if _common.may_export() else b"",
        f"purchase_requests_{day}.csv",
        "text/csv",
        key=f"requests-{key}",
        icon=":material/download:",
        disabled=requests.is_empty() or not _common.may_export(),
    )


tabs = st.tabs(
    [f"{LABELS[a]} ({counts.get(a, 0):,})" for a in LISTS]
    + [f"Exceptions ({exceptions.height:,})", "All SKUs", "Settings"]
)
with tabs[0]:
    rows = plan.filter(pl.col("action") == actions.ORDER_TODAY)
    if rows.is_empty():
        st.caption("Nothing to order today.")
    else:
        tick_and_order(rows, actions.ORDER_TODAY, actions.ORDER_TODAY)
with tabs[1]:
    rows = plan.filter(pl.col("action") == actions.ALREADY_ORDERED)
    if rows.is_empty():
        st.caption("No open purchase order covers a need right now.")
    else:
        st.caption("Open POs arriving in time cover the need until the next review.")
        st.dataframe(
            rows.select(SHOWN[actions.ALREADY_ORDERED]),
            column_config=columns,
            hide_index=True,
            width="stretch",
        )
with tabs[2]:
    rows = plan.filter(pl.col("action") == actions.ATTENTION)
    if rows.is_empty():
        st.caption("Nothing needs a decision today.")
    else:
        order = {k: i for i, k in enumerate(actions.ATTENTION_REASONS)}
        summary = (
            rows.group_by("attention")
            .agg(pl.len().alias("skus"), pl.col("revenue_at_risk").sum())
            .with_columns(
                pl.col("attention")
                .replace_strict({k: v[0] for k, v in actions.ATTENTION_REASONS.items()})
                .alias("attention_label"),
                pl.col("attention")
                .replace_strict({k: v[1] for k, v in actions.ATTENTION_REASONS.items()})
                .alias("next_step"),
                pl.col("attention").replace_strict(order).alias("_order"),
            )
            .sort("_order")
        )
        st.dataframe(
            summary.select("attention_label", "skus", "revenue_at_risk", "next_step"),
            column_config=columns | {"skus": st.column_config.NumberColumn("SKUs")},
            hide_index=True,
            width="stretch",
        )
        reasons = summary["attention"].to_list()
        picked = st.segmented_control(
            "Reason",
            reasons,
            format_func=lambda k: (
                f"{actions.ATTENTION_REASONS[k][0]} "
                f"({summary.filter(pl.col('attention') == k)['skus'][0]:,})"
            ),
            default=reasons[0],
            key="attention-reason",
        )
        reason = picked or reasons[0]
        st.caption(f"**What to do:** {actions.ATTENTION_REASONS[reason][1]}.")
        tick_and_order(
            rows.filter(pl.col("attention") == reason), actions.ATTENTION, f"attention-{reason}"
        )
with tabs[3]:
    if exceptions.is_empty():
        st.caption("No dormant stock, overstock or over-sized PO.")
    else:
        by_kind = (
            exceptions.group_by("exception", "exception_label")
            .agg(pl.len().alias("skus"), pl.col("money_tied_up").sum())
            .with_columns(
                pl.col("exception")
                .replace_strict({k: v[1] for k, v in actions.EXCEPTIONS.items()})
                .alias("next_step")
            )
            .sort("money_tied_up", descending=True)
        )
        st.dataframe(
            by_kind.select("exception_label", "skus", "money_tied_up", "next_step"),
            column_config=columns | {"skus": st.column_config.NumberColumn("SKUs")},
            hide_index=True,
            width="stretch",
        )
        st.caption(
            f"Ranked by money tied up. Overstock: cover beyond {actions.OVERSTOCK_DAYS} days "
            "of forecast demand (or the order-up-to level, if higher)."
        )
        _common.table_with_downloads(
            exceptions.select(
                "product",
                "exception_label",
                "money_tied_up",
                "excess_units",
                "available",
                "on_order",
                "runway_days",
                "unit_price",
                "supplier",
                "category",
                "sku",
                "forecast_link",
            ),
            name=f"exceptions_{day}",
            column_config=columns,
            show=1_000,
        )
with tabs[4]:
    _common.table_with_downloads(
        plan.drop("sales_8w", "attention_label", "exception_label"),
        name=f"order_plan_{day}",
        column_config=columns,
    )
with tabs[5]:
    st.caption(
        "Settings resolve per SKU: its own > its supplier's > its platform's > the "
        "default (built-in: lead time 14 d, weekly review, 95 % target fill rate -- or, "
        "with a holding cost, the newsvendor critical ratio of margin and holding cost). "
        "Every change is audited."
    )
    names = dict(zip(plan["sku"], plan["product"], strict=True))
    sku = st.selectbox(
        "Product",
        plan["sku"].to_list(),
        format_func=lambda s: f"{names[s]} ({s})" if names[s] != s else s,
        key="settings-sku",
    )
    current = plan.filter(pl.col("sku") == sku).row(0, named=True)
    with st.form("settings"):
        cols = st.columns(3)
        supplier = cols[0].text_input("Supplier", current["supplier"])
        lead = cols[1].number_input("Lead time (days)", 0, 365, int(current["lead_time_days"]))
        review = cols[2].number_input("Review period (days)", 1, 90, int(current["review_days"]))
        level = cols[0].slider(
            "Target fill rate", 0.50, 0.995, float(current["service_level"]), 0.005
        )
        moq = cols[1].number_input("MOQ (units)", 0, 1_000_000, int(current["moq"]))
        pack = cols[2].number_input("Pack size (units)", 1, 100_000, int(current["pack_size"]))
        eng = workbench.engine(root)
        rate = repo.resolve(eng, pl.DataFrame({"sku": [sku], "platform": [current["platform"]]}))[
            "holding_cost_rate"
        ][0]
        holding = cols[0].number_input(
            "Holding cost (% of cost a year; 0 = none)",
            0.0,
            1000.0,
            float(rate or 0.0) * 100,
            1.0,
            help="With a holding cost and no target fill rate set, the target is the "
            "newsvendor critical ratio: margin ÷ (margin + holding cost per review period).",
        )
        if st.form_submit_button("Save settings for this SKU", disabled=not actor) and actor:
            changed = {}
            if abs(float(level) - float(current["service_level"])) > 1e-9:
                changed["service_level"] = float(level)  # else it stays unset (or derived)
            repo.set_settings(
                eng,
                "sku",
                sku,
                actor=actor,
                reason="edited on the Order today page",
                supplier=supplier if supplier != "unassigned" else None,
                lead_time_days=int(lead),
                review_days=int(review),
                moq=int(moq),
                pack_size=int(pack),
                holding_cost_rate=float(holding) / 100 if holding > 0 else None,
                **changed,
            )
            st.toast(f"settings saved for {sku}")
            st.rerun()
