"""Import: upload the seller's own exports (orders, stock, central inventory, purchase orders,
suppliers) from the browser. The file is kept under ``<data root>/uploads/``, previewed as
Stockroom reads it (layout recognised, first rows), then imported by the same job as
`stockroom import` (run in its own process, recorded in the run log); the quarantined rows of
that run are shown."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import streamlit as st

from app_pages import _common, _data
from stockroom.errors import StockroomError
from stockroom.ingest import business, tabular

KINDS = {
    "Orders (Shopify, eBay, Online Retail or any export)": "orders",
    "Stock on hand per location": "stock",
    "Central inventory": "inventory",
    "Purchase orders with receipts": "pos",
    "Suppliers and per-SKU settings": "settings",
}
LAYOUTS = ["Recognise from the headers", *business.LAYOUTS]

f = _common.filters(need_orders=False)
root = Path(f.data_root)
st.title("Import your data")
st.caption(
    "CSV, TSV or Excel, any delimiter, encoding or header spelling Stockroom knows; Shopify's "
    "orders and inventory exports and eBay's orders report are recognised by their headers. "
    "Bad rows are quarantined with file, row and column; nothing already stored is changed "
    "by a file that fails."
)
actor = _common.signer("import files", "import")

left, right = st.columns([2, 3])
kind_label = left.selectbox("What the file holds", list(KINDS))
kind = KINDS[kind_label]
options: list[str] = []
with right:
    if kind in ("orders", "stock"):
        layout = st.selectbox("Layout", LAYOUTS, help="Default: recognised from the headers.")
        if layout != LAYOUTS[0]:
            options += ["--layout", layout]
    if kind == "orders":
        c1, c2 = st.columns(2)
        platform = c1.text_input("Platform (when the file does not say)", "shop")
        currency = c2.text_input("Currency (when the file does not say)", "USD", max_chars=3)
        options += ["--platform", platform.strip().lower() or "shop", "--currency", currency]
    if kind in ("stock", "inventory"):
        c1, c2 = st.columns(2)
        day = c1.date_input("Stock as of", value=datetime.now(UTC).date())
        options += ["--snapshot-date", day.isoformat()]
        if kind == "stock" and c2.checkbox(
            "Register new locations", help="Otherwise rows of unknown locations are quarantined."
        ):
            options.append("--add-locations")

upload = st.file_uploader(
    "Export file", type=["csv", "tsv", "txt", "xlsx", "xlsm", "xls"], key=f"upload-{kind}"
)
if upload is None:
    st.stop()

folder = root / "uploads"
folder.mkdir(parents=True, exist_ok=True)
stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
saved_key = f"saved-{upload.file_id}"
if saved_key not in st.session_state:  # one copy per upload, kept as the raw input
    path = folder / f"{stamp}-{Path(upload.name).name}"
    path.write_bytes(upload.getvalue())
    st.session_state[saved_key] = str(path)
path = Path(st.session_state[saved_key])

st.subheader("Preview")
if kind in ("orders", "stock", "inventory"):
    try:
        chosen = options[options.index("--layout") + 1] if "--layout" in options else None
        found, mapped = business.read(path, kind, chosen)
        frame = next(iter(mapped.frames.values())).drop("_source_file", "_source_row")
        st.caption(
            f"{upload.name}: layout **{found.name}**, {frame.height:,} rows; columns read: "
            + ", ".join(f"{src} → {canon}" for canon, src in mapped.source_columns.items())
        )
        if mapped.sheet.ignored:
            st.caption("Not imported (no matching column): " + ", ".join(mapped.sheet.ignored))
        st.dataframe(frame.head(20), hide_index=True, width="stretch")
    except (StockroomError, ValueError) as exc:
        st.error(f"This file cannot be imported as {kind}: {exc}")
        st.stop()
else:
    try:
        sheet = (
            next(iter(tabular.read_excel_sheets(path).values()))
            if path.suffix.lower() in tabular.EXCEL_SUFFIXES
            else tabular.read_csv(path)
        )
    except StockroomError as exc:
        st.error(f"This file cannot be read: {exc}")
        st.stop()
    st.caption(f"{upload.name}: {sheet.height:,} rows; the first 20 as read")
    st.dataframe(sheet.drop("_source_file", "_source_row").head(20), hide_index=True)

if st.button("Import", type="primary", disabled=actor is None, key="import-button") and actor:
    command = [sys.executable, "-m", "stockroom_jobs.cli", "import", str(path), "--kind", kind]
    command += [*options, "--data-root", str(root)]
    with st.status(f"Importing {upload.name}...", expanded=True) as status:
        env = {**os.environ, "STOCKROOM_USER": actor or ""}
        done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=3600)
        output = (done.stdout + done.stderr).strip()
        st.code(output or "(no output)", language=None)
        status.update(
            label=f"{upload.name}: imported" if done.returncode == 0 else f"{upload.name}: failed",
            state="complete" if done.returncode == 0 else "error",
        )
    st.session_state["last-import"] = (str(path), done.returncode, output)

last = st.session_state.get("last-import")
if last and last[0] == str(path):
    _, code, output = last
    if code == 0:
        st.success("Imported. The run is recorded on Data health.")
    else:
        st.error(output.splitlines()[-1] if output else "the import failed")
    run = _data.run_for_source(f, str(path))
    if run is not None:
        st.caption(
            f"Run {run['run_id']}: {run['status']}, read {run['rows_read']:,}, landed "
            f"{run['rows_landed']:,}, quarantined {run['rows_quarantined']:,}"
        )
        bad = _data.quarantined_rows(f, run["run_id"])
        if bad.height:
            st.subheader(f"Quarantined rows ({bad.height:,} cells)")
            st.dataframe(
                bad.select("source_file", "source_row", "column", "value", "reason"),
                hide_index=True,
                width="stretch",
            )
