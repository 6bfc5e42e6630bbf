"""Mapping: the review queue by revenue at stake, a candidate side by side with the listing,
decisions (approve / reject / reassign / create product / bulk accept), their history, and the
Seller review (suggested links, merge, split an account off, rename)
(stockroom.mapping)."""

from pathlib import Path

import polars as pl
import streamlit as st

from app_pages import _common, _data
from stockroom import export, workbench
from stockroom.mapping import repo, review

f = _common.filters()
root = Path(f.data_root)
st.title("Mapping")
actor = _common.signer("approve, reject or reassign mappings", "map")
state = _data.mapping_state(f, _data.version(f))
if state is None:
    st.info(
        "No listings yet. Land some with `stockroom ingest simulate`, then run `stockroom map`."
    )
    st.stop()
eng = workbench.engine(root)
day, stakes, catalog, mappings = (state[k] for k in ("day", "stakes", "catalog", "mappings"))
if not mappings.height:
    st.info("Nothing mapped yet: run `stockroom map`.")
    st.stop()

# shares of listing rows: each external SKU weighs its number of listings
rows = stakes.select("platform", "external_sku", "listings").join(
    mappings, on=["platform", "external_sku"], how="left"
)
listing_rows = int(rows["listings"].sum())
share = lambda cond: rows.filter(cond)["listings"].sum() / max(1, listing_rows)  # noqa: E731
tiles = st.columns(4)
tiles[0].metric("Listings auto-mapped", f"{share(pl.col('status') == 'auto'):.1%}")
tiles[1].metric("Confirmed by a person", f"{share(pl.col('status') == 'confirmed'):.1%}")
tiles[2].metric("In review", f"{share(pl.col('status') == 'review'):.1%}")
tiles[3].metric("Rejected", f"{share(pl.col('status') == 'rejected'):.1%}")
st.caption(
    f"listings snapshot {day} (the latest on or before {f.as_of}) · {listing_rows:,} rows · "
    + (f"decisions are signed as '{actor}' and " if actor else "decisions are ")
    + "written to the audit log"
)

pending = state["queue"]
st.subheader(f"Review queue ({pending.height:,}, most revenue at stake first)")
if pending.height:
    top = pending.head(200)
    labels = [
        f"{r['platform']} · {r['external_sku']} · ${r['at_stake']:,.0f} at stake"
        for r in top.iter_rows(named=True)
    ]
    pick = st.selectbox("Item", range(len(labels)), format_func=lambda i: labels[i])
    item = top.row(pick, named=True)
    left, right = st.columns(2)
    with left:
        st.markdown("**Listing**")
        st.write(
            {
                "platform": item["platform"],
                "SKU": item["external_sku"],
                "title": item["title"],
                "listings": item["listings"],
                "at stake": f"${item['at_stake']:,.2f}",
            }
        )
    with right:
        st.markdown("**Candidate product**")
        st.write(
            {
                "product": item["product_sku"],
                "title": item["candidate_title"],
                "method": item["method"],
                "confidence": round(item["confidence"], 3),
                "why it is here": item["reason"],
            }
        )
    b1, b2, b3 = st.columns(3)
    if (
        b1.button("Approve", disabled=item["product_sku"] is None or not actor, type="primary")
        and actor
    ):
        repo.decide(
            eng,
            item["platform"],
            item["external_sku"],
            action="approve",
            actor=actor,
            reason="approved on the Mapping page",
        )
        st.rerun()
    if b2.button("Reject", disabled=not actor) and actor:
        repo.decide(
            eng,
            item["platform"],
            item["external_sku"],
            action="reject",
            actor=actor,
            reason="rejected on the Mapping page",
        )
        st.rerun()
    with b3.popover("Reassign / create product"):
        target = st.text_input("Product SKU", key="reassign_sku")
        known = target in set(catalog["sku"].to_list())
        new_title = st.text_input("Title (to create a new product)", key="new_title")
        if st.button("Reassign", disabled=not known or not actor) and actor:
            repo.decide(
                eng,
                item["platform"],
                item["external_sku"],
                action="reassign",
                product_sku=target,
                actor=actor,
                reason="reassigned on the Mapping page",
            )
            st.rerun()
        if (
            st.button(
                "Create product and map",
                disabled=known or not target or not new_title or not actor,
            )
            and actor
        ):
            review.create_product(
                eng,
                item["platform"],
                item["external_sku"],
                sku=target,
                title=new_title,
                actor=actor,
            )
            st.rerun()
    st.dataframe(
        top,
        hide_index=True,
        width="stretch",
        column_config={
            "at_stake": st.column_config.NumberColumn("at stake", format="$%.2f"),
            "confidence": st.column_config.ProgressColumn("confidence", min_value=0, max_value=1),
        },
    )
    with st.expander("Bulk accept"):
        level = st.slider("Confirm every candidate with confidence at least", 0.0, 1.0, 0.9, 0.01)
        n = pending.filter(
            pl.col("product_sku").is_not_null() & (pl.col("confidence") >= level)
        ).height
        if st.button(f"Accept {n} candidates", disabled=n == 0 or not actor) and actor:
            review.bulk_accept(eng, level, actor=actor)
            st.rerun()
else:
    st.success("Nothing to review.")

st.subheader("History")
history = _data.mapping_history(f, _data.version(f))
st.dataframe(history, hide_index=True, width="stretch")
st.download_button(
    "Download all mappings (CSV)",
    lambda: export.write_csv(repo.mappings(eng)) if _common.may_export() else b"",
    "sku_mappings.csv",
    "text/csv",
    disabled=not _common.may_export(),
    icon=":material/download:",
)

st.subheader("Sellers")
sellers = _data.seller_review(f, _data.version(f))
accounts, links = sellers["accounts"], sellers["links"]
if accounts.is_empty():
    st.info("No Sellers yet: run `stockroom map`.")
    st.stop()
named = accounts.unique("seller_key", keep="first").sort("seller")
seller_names = dict(zip(named["seller_key"], named["seller"], strict=True))
st.caption(
    f"{len(seller_names):,} Sellers behind {accounts.height:,} platform accounts. Every change "
    "is signed, written to the audit log and applied to every view on the next query."
)
queue_tab, merge_tab, split_tab, rename_tab = st.tabs(
    [f"Suggested links ({links.height:,})", "Merge", "Split an account off", "Rename"]
)
with queue_tab:
    if links.is_empty():
        st.success("No suggested link to review.")
    else:
        choices = {
            r["id"]: f"{r['seller']} ~ {r['other']} (score {r['score']:.0f}: {r['evidence']})"
            for r in links.head(200).iter_rows(named=True)
        }
        link = st.selectbox("Suggested link", list(choices), format_func=choices.get)
        same, different = st.columns(2)
        if same.button("Same Seller: merge", disabled=not actor, key="link-confirm") and actor:
            repo.confirm_link(eng, link, actor=actor, reason="confirmed on the Mapping page")
            st.rerun()
        if different.button("Different Sellers", disabled=not actor, key="link-reject") and actor:
            repo.reject_link(eng, link, actor=actor, reason="rejected on the Mapping page")
            st.rerun()
with merge_tab:
    keys = list(seller_names)
    keep = st.selectbox("Keep", keys, format_func=seller_names.get, key="merge-keep")
    other = st.selectbox(
        "Merge into it",
        [k for k in keys if k != keep],
        format_func=seller_names.get,
        key="merge-other",
    )
    if st.button("Merge", disabled=not actor or other is None, key="merge") and actor:
        repo.merge_sellers(eng, keep, other, actor=actor, reason="merged on the Mapping page")
        st.rerun()
with split_tab:
    account_labels = {
        (r["platform"], r["seller_id"]): f"{r['platform']} · {r['seller_id']} (now {r['seller']})"
        for r in accounts.iter_rows(named=True)
    }
    account = st.selectbox(
        "Account", list(account_labels), format_func=account_labels.get, key="split-account"
    )
    new_name = st.text_input("Name of its own Seller (empty: the account's name)", key="split-name")
    if st.button("Split off", disabled=not actor, key="split") and actor:
        repo.split_account(
            eng, *account, actor=actor, reason="split on the Mapping page", name=new_name or None
        )
        st.rerun()
with rename_tab:
    renamed = st.selectbox(
        "Seller", list(seller_names), format_func=seller_names.get, key="rename-key"
    )
    new_seller_name = st.text_input(
        "New name", value=seller_names[renamed], key=f"rename-name-{renamed}"
    )
    if (
        st.button("Rename", disabled=not actor or not new_seller_name.strip(), key="rename")
        and actor
    ):
        repo.rename_seller(
            eng, renamed, new_seller_name, actor=actor, reason="renamed on the Mapping page"
        )
        st.rerun()
