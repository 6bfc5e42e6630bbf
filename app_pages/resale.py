"""Resale: what each item cost, what it made, how long it sat and which platform and category
pay (stockroom.resale) -- the period's tiles against the period before, unsold stock by age,
profit per platform and category, a search over every item with a pick list, one item's
listings and price history (with a price change signed and explained), and imports of auction
invoices (PDF) and spreadsheets."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import streamlit as st

from app_pages import _common, _data
from stockroom import charts, config, export, sources, workbench
from stockroom.resale import pnl, repo, search

DEMO_ROOT = "resale-demo"
ANY = "Any"

f = _common.filters(need_orders=False)
root = Path(f.data_root)
# the sidebar's as-of date when the root has orders; else the latest resale snapshot
as_of = f.as_of if st.session_state.get("filters") else None
st.title("Resale")
last_import = st.session_state.get("resale-last-import")
if last_import is not None and last_import[0] == 0:  # shown once, after the rerun it caused
    said = [x.strip() for x in last_import[1] if ": landed" in x or ": already imported" in x]
    st.success("Imported: the book below includes it. " + " · ".join(said))
    del st.session_state["resale-last-import"]
book = _data.resale_book(f, as_of)
if book.day is None:
    st.info(
        "No resale book in this data root yet. Import auction invoices or a spreadsheet of "
        "lots in the Import tab below, or land the demo with `stockroom resale demo` (real "
        "StockX flips plus synthetic auction lots), then reload."
    )
    demo = config.PROJECT_ROOT / "data" / DEMO_ROOT
    if _data.has_resale(demo):
        _common.demo_button(
            f.data_root,
            demo,
            f"Open the resale demo ({DEMO_ROOT}/)",
            ":material/sell:",
            "run.sh lands the StockX resale demo there, apart from the other demos.",
        )

currency = book.currency or "USD"
money = f"({currency})"
if book.day is not None:
    st.caption(
        f"Book of {book.day} · {book.pnl.height:,} items · P&L as of {book.as_of} · money in "
        f"{currency} · net profit = sold price + shipping paid by the buyer − platform fees − "
        "actual shipping − total cost (hammer + premium + tax + shipping)"
    )
    default = book.period()
    period = st.date_input(
        "Period",
        value=default,
        max_value=book.as_of,
        help="Compared with the period of the same length just before it.",
        key="resale-period",
    )
    start, end = period if isinstance(period, tuple) and len(period) == 2 else default
    summary = {
        r["metric"]: r for r in _data.resale_summary(f, as_of, start, end).iter_rows(named=True)
    }

    def tile(column, metric: str, title: str, help_text: str | None = None) -> None:
        r = summary[metric]
        column.metric(
            title,
            pnl.display(r["current"], r["unit"]),
            None if r["change"] is None else pnl.display(r["change"], r["unit"], sign=True),
            help=help_text or r["label"],
            delta_color="inverse"
            if metric in ("items", "tied_up", "avg_days_to_sell")
            else "normal",
        )

    row1, row2 = st.columns(4), st.columns(4)
    tile(row1[0], "profit", f"Net profit {money}")
    tile(row1[1], "revenue", f"Revenue {money}")
    tile(row1[2], "sold", "Items sold")
    tile(row1[3], "avg_roi", "Average ROI", "Mean of the sold items' ROI (net profit / cost)")
    tile(row2[0], "items", "Items on hand")
    tile(row2[1], "invested", f"Invested {money}")
    tile(row2[2], "avg_days_to_sell", "Days to sell", "Average days from acquisition to sale")
    tile(row2[3], "sell_through", "Sell-through", "Sold / (sold + unsold at the period's end)")
    before = start - timedelta(days=1)
    st.caption(f"{start} to {end}, against {before - (end - start)} to {before}.")

    settings = sources.load(root).resale
    aging = _data.resale_aging(f, as_of, tuple(settings.aging_buckets))
    platforms = _data.resale_performance(f, as_of, "platform", start, end)
    left, right = st.columns(2)
    left.plotly_chart(charts.resale_aging(aging, currency), width="stretch")
    right.plotly_chart(charts.resale_roi_by(platforms, "platform", currency), width="stretch")

tabs = st.tabs(["Find items", "Platforms", "Categories", "Aging", "Item", "Import"])
find_tab, platforms_tab, categories_tab, aging_tab, item_tab, import_tab = tabs

PERF_COLUMNS = {
    "listed": st.column_config.NumberColumn("Listed", help="Items listed in the period."),
    "sold": st.column_config.NumberColumn("Sold"),
    "revenue": st.column_config.NumberColumn(f"Revenue {money}", format="localized"),
    "avg_sale_price": st.column_config.NumberColumn(f"Avg sale {money}", format="%.2f"),
    "fees": st.column_config.NumberColumn(f"Fees {money}", format="localized"),
    "conversion": st.column_config.NumberColumn(
        "Conversion", format="percent", help="Share of the items listed in the period that sold."
    ),
    "profit": st.column_config.NumberColumn(f"Net profit {money}", format="localized"),
    "roi": st.column_config.NumberColumn("ROI", format="percent"),
    "avg_days_to_sell": st.column_config.NumberColumn("Days to sell", format="%.0f"),
}

if book.day is not None:
    with find_tab:
        text = st.text_input(
            "Search name, description, keywords and notes",
            placeholder='e.g. bentwood chair, "oil on canvas", yeezy -zebra',
            key="resale-q",
        )
        c = st.columns(6)
        choices = book.pnl

        def pick(column, label: str, name: str) -> str | None:
            values = sorted(v for v in choices[name].unique().to_list() if v)
            chosen = column.selectbox(label, [ANY, *values], key=f"resale-{name}")
            return None if chosen == ANY else chosen

        platform_choice = c[4].selectbox(
            "Platform", [ANY, *sorted(book.listings["platform"].unique().to_list())],
            key="resale-platform",
        )  # fmt: skip
        roi_pct = c[5].number_input("ROI at least (%)", value=None, step=10.0, key="resale-roi")
        wanted = search.Filters(
            category=pick(c[0], "Category", "category"),
            condition=pick(c[1], "Condition", "condition"),
            location=pick(c[2], "Location", "location"),
            status=pick(c[3], "Status", "status"),
            platform=None if platform_choice == ANY else platform_choice,
            roi_min=None if roi_pct is None else roi_pct / 100,
        )
        sort = st.radio(
            "Sort by", search.SORTS, horizontal=True, key="resale-sort",
            format_func=lambda s: s.replace("_", " "),
        )  # fmt: skip
        found = _data.resale_search(f, as_of, text, wanted, sort)
        _common.table_with_downloads(
            found.select(
                "name",
                "status",
                "platform",
                "location",
                "bin",
                "cost",
                "list_price",
                "net_profit",
                "roi",
                "days_listed",
                "age_days",
                "category",
                "condition",
                "acquired_on",
                "item_id",
            ),  # fmt: skip
            name="resale_search",
            column_config={
                "name": st.column_config.TextColumn("Item", width="medium", pinned=True),
                "status": st.column_config.TextColumn("Status", pinned=True),
                "platform": "Platform",
                "location": "Location",
                "bin": "Bin",
                "cost": st.column_config.NumberColumn(f"Cost {money}", format="%.2f"),
                "list_price": st.column_config.NumberColumn(f"List price {money}", format="%.2f"),
                "net_profit": st.column_config.NumberColumn(f"Net profit {money}", format="%.2f"),
                "roi": st.column_config.NumberColumn("ROI", format="percent"),
                "days_listed": st.column_config.NumberColumn("Days listed"),
                "age_days": st.column_config.NumberColumn("Age (days)"),
                "category": "Category",
                "condition": "Condition",
                "acquired_on": "Acquired",
                "item_id": st.column_config.TextColumn("Item id", width="small"),
            },
            caption=f"{found.height:,} items (best match first when searching; at most 500).",
        )
        st.download_button(
            "Pick list by location (CSV)",
            lambda: export.write_csv(search.pick_list(found)) if _common.may_export() else b"",
            "pick_list.csv",
            "text/csv",
            disabled=not _common.may_export(),
            icon=":material/checklist:",
            help="These items in walking order: location, bin, name.",
        )

    for tab, by in ((platforms_tab, "platform"), (categories_tab, "category")):
        with tab:
            frame = _data.resale_performance(f, as_of, by, start, end)
            _common.table_with_downloads(
                frame,
                name=f"resale_{by}_{start}_{end}",
                column_config={
                    by: st.column_config.TextColumn(by.title(), pinned=True),
                    **PERF_COLUMNS,
                },
                caption=f"Sales and profit of {start} to {end}; highest profit first.",
            )

    with aging_tab:
        text_buckets = st.text_input(
            "Buckets (upper bounds in days)",
            ",".join(str(b) for b in settings.aging_buckets),
            key="resale-buckets",
            help="Default: [resale] aging_buckets in stockroom.toml.",
        )
        try:
            edges = tuple(int(x) for x in text_buckets.split(",") if x.strip())
            table = _data.resale_aging(f, as_of, edges)
        except ValueError as exc:
            st.error(f"Buckets: {exc}")
            table = aging
        st.dataframe(
            table,
            column_config={
                "bucket": "Age",
                "items": "Items",
                "cost": st.column_config.NumberColumn(f"Cost tied up {money}", format="localized"),
                "estimated_value": st.column_config.NumberColumn(
                    f"Est. value {money}", format="localized"
                ),
                "share_of_cost": st.column_config.NumberColumn("Share of cost", format="percent"),
                "listed": st.column_config.NumberColumn("Listed somewhere"),
            },
            hide_index=True,
            width="stretch",
        )
        older = st.number_input(
            "Show unsold items older than (days)",
            value=settings.aging_alert_days or 90,
            step=30,
            key="resale-older",
            help="Default: [resale] aging_alert_days in stockroom.toml (alerts past it).",
        )
        crossed = pnl.crossed(book.pnl, int(older))
        st.caption(
            f"{crossed.height:,} unsold items older than {older} days tie up "
            f"{crossed['cost'].sum():,.2f} {currency}. `[resale] aging_alert_days` in "
            "stockroom.toml sends an alert when an item crosses it."
        )
        st.dataframe(crossed.head(500), hide_index=True, width="stretch")

    with item_tab:
        ids = (
            found["item_id"].to_list() if found.height else book.pnl["item_id"].head(500).to_list()
        )
        names = dict(zip(book.pnl["item_id"].to_list(), book.pnl["name"].to_list(), strict=True))
        item_id = st.selectbox(
            "Item (from the search results)", ids, format_func=lambda i: f"{names.get(i, i)} · {i}",
            key="resale-item",
        )  # fmt: skip
        detail = _data.resale_item(f, as_of, item_id, _data.version(f)) if item_id else None
        if detail is not None:
            item = detail["item"]
            c = st.columns(5)
            days = ("Item: days to sell", item["days_to_sell"])
            if item["days_to_sell"] is None:
                days = ("Item: age (days)", item["age_days"])
            profit = item["net_profit"]
            c[0].metric(f"Item: total cost {money}", f"{item['cost']:,.2f}")
            c[1].metric("Item: status", item["status"], item["platform"], delta_color="off")
            c[2].metric(f"Item: net profit {money}", "–" if profit is None else f"{profit:,.2f}")
            c[3].metric("Item: ROI", "–" if item["roi"] is None else f"{item['roi']:.0%}")
            c[4].metric(*days)
            st.caption(
                f"{item['name']} · {item['category'] or 'no category'} · {item['condition'] or ''} "
                f"· acquired {item['acquired_on']} · {item['location'] or 'no location'} "
                f"{item['bin'] or ''}"
            )
            st.dataframe(detail["listings"].drop("item_id"), hide_index=True, width="stretch")
            if detail["history"].height:
                st.plotly_chart(
                    charts.resale_price_history(detail["history"], currency), width="stretch"
                )
                st.dataframe(detail["history"], hide_index=True, width="stretch")
            live = detail["listings"].filter(pl.col("status") == "listed")
            # the signed-in buyer, or the name typed in the sidebar (its widget is drawn by
            # the Import tab's signer below; its value is in the session from the start)
            actor = _common.signed("reprice")
            if actor is None:
                st.caption(
                    "Sign your changes: enter your name in the sidebar (a viewer or analyst "
                    "cannot change items or prices)."
                )
            if live.height:
                with st.form("resale-price"):
                    a, b, c2 = st.columns([1, 1, 2])
                    platform = a.selectbox("Platform", live["platform"].to_list())
                    price = b.number_input(f"New list price {money}", min_value=0.0, step=1.0)
                    reason = c2.text_input("Why", placeholder="e.g. 30 days without a sale")
                    if st.form_submit_button("Change the price", disabled=actor is None) and actor:
                        if not reason.strip():
                            st.error("Say why: the reason is kept in the price history.")
                        else:
                            eng = workbench.engine(root)
                            repo.set_list_price(
                                eng, item_id, platform, price, actor=actor, reason=reason
                            )
                            repo.export_today(root, eng)
                            st.success(f"{platform}: {price:,.2f} {currency}")
                            st.rerun()
            k = f"resale-edit-{item_id}-"  # per item: a keyed widget keeps its value otherwise
            with st.form("resale-edit"):
                st.markdown("**Edit the item** (signed and kept in the audit log)")
                a, b, c2, d = st.columns(4)
                changes = {
                    "location": a.text_input("Location", item["location"] or "", key=f"{k}loc"),
                    "bin": b.text_input("Bin", item["bin"] or "", key=f"{k}bin"),
                    "condition": c2.text_input(
                        "Condition", item["condition"] or "", key=f"{k}cond"
                    ),
                    "keywords": d.text_input("Keywords", item["keywords"] or "", key=f"{k}kw"),
                }
                flags = st.columns(4)
                for column, flag in zip(
                    flags, ("needs_repair", "consignment", "returned"), strict=False
                ):
                    changes[flag] = column.checkbox(
                        flag.replace("_", " "), bool(item[flag]), key=f"{k}{flag}"
                    )
                value = flags[3].number_input(
                    f"Estimated value {money}",
                    min_value=0.0,
                    value=float(item["estimated_value"] or 0.0),
                    step=1.0,
                    key=f"{k}value",
                )
                changes["notes"] = st.text_input("Notes", item["notes"] or "", key=f"{k}notes")
                reason = st.text_input(
                    "Why", placeholder="e.g. moved to the garage; appraised", key=f"{k}why"
                )
                save, delete = st.columns([1, 5])
                saved = save.form_submit_button("Save", disabled=actor is None, key=f"{k}save")
                deleted = delete.form_submit_button(
                    "Delete the item", disabled=actor is None, key=f"{k}delete"
                )
                if (saved or deleted) and actor:
                    eng = workbench.engine(root)
                    if not reason.strip():
                        st.error("Say why: the reason is kept with the change.")
                    elif deleted:
                        repo.delete_item(eng, item_id, actor=actor, reason=reason)
                    else:
                        text = {
                            k: (v.strip() or None) if isinstance(v, str) else v
                            for k, v in changes.items()
                        }
                        repo.update_item(eng, item_id, text, actor=actor, reason=reason)
                        if value != (item["estimated_value"] or 0.0):
                            repo.set_estimated_value(
                                eng, item_id, value, actor=actor, reason=reason
                            )
                    if reason.strip():
                        repo.export_today(root, eng)
                        st.rerun()

with import_tab:
    st.caption(
        "Auction invoices (PDF: the lot-lines, summary-percent and catalogue layouts) or a "
        "spreadsheet of lots, listings or sales. Each file runs in its own process with "
        "progress; a file imported before lands nothing; a file that does not add up lands "
        "nothing and says which page and line."
    )
    actor = _common.signer("import files", "import")
    kind = st.radio(
        "What", ["invoices (PDF)", "lots", "listings", "sales"], horizontal=True, key="resale-kind"
    )
    pdf = kind.startswith("invoices")
    uploads = st.file_uploader(
        "Files", type=["pdf"] if pdf else ["csv", "xlsx", "xls"], accept_multiple_files=pdf,
        key=f"resale-upload-{kind}",
    )  # fmt: skip
    files = uploads if isinstance(uploads, list) else ([uploads] if uploads else [])
    if (
        files
        and st.button("Import", type="primary", disabled=actor is None, key="resale-import")
        and actor
    ):
        folder = root / "uploads"
        folder.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        paths = []
        for upload in files:
            path = folder / f"{stamp}-{Path(upload.name).name}"
            path.write_bytes(upload.getvalue())
            paths.append(str(path))
        command = [sys.executable, "-m", "stockroom_jobs.cli", "resale"]
        command += ["import-invoices", *paths] if pdf else ["import", kind, paths[0]]
        command += ["--actor", actor, "--data-root", str(root)]
        bar = st.progress(0.0, text=f"0 of {len(paths)} files")
        lines: list[str] = []
        with st.status("Importing…", expanded=True) as status:
            proc = subprocess.Popen(
                command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
            )
            for line in proc.stdout:
                lines.append(line.rstrip())
                done = sum(1 for x in lines if ": landed" in x or ": already imported" in x)
                bar.progress(min(done / len(paths), 1.0), text=f"{done} of {len(paths)} files")
                st.text(line.rstrip())
            code = proc.wait()
            status.update(
                label="Imported" if code == 0 else "Failed",
                state="complete" if code == 0 else "error",
            )
        st.session_state["resale-last-import"] = (code, lines)
        if code == 0:
            st.rerun()  # the tiles, tables and search read the new book
    last = st.session_state.get("resale-last-import")
    if last is not None and last[0] != 0:
        st.error(last[1][-1] if last[1] else "the import failed")
