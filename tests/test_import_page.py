"""The Import page (AppTest): upload a real export, preview it as read, import it as the CLI
does (a recorded run), see the quarantined rows; and the stale marker of the daily run."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from stockroom import store, workbench
from stockroom.config import PROJECT_ROOT

APP = str(PROJECT_ROOT / "app.py")
OWN = PROJECT_ROOT / "data" / "raw" / "own"


@pytest.fixture
def page(tmp_path, monkeypatch):
    monkeypatch.setenv("STOCKROOM_DATA_ROOT", str(tmp_path))
    at = AppTest.from_file(APP, default_timeout=180).run()
    at.switch_page("app_pages/imports.py").run()
    return at


def _upload(at: AppTest, name: str, body: bytes) -> None:
    at.file_uploader[0].set_value((name, body, "text/csv"))
    at.run()


def test_upload_preview_and_import_of_an_ebay_orders_report(page, tmp_path):
    at = page
    assert not at.exception
    body = (OWN / "ebay_orders.csv").read_bytes()
    _upload(at, "ebay_orders.csv", body)
    assert at.button(key="import-button").disabled  # unsigned: decisions wait for a name
    text = " ".join(c.value for c in at.caption)
    assert "layout **ebay-orders**" in text and "Custom Label → sku" in text
    preview = at.dataframe[0].value
    assert len(preview) == 20 and list(preview["sku"][:1]) == ["22530"]
    at.sidebar.text_input(key="signer_input").input("Ana Costa").run()
    at.button(key="import-button").click().run()
    assert not at.exception
    assert any("Imported" in s.value for s in at.success)
    runs = workbench.runs(workbench.engine(tmp_path))
    run = runs.row(0, named=True)
    assert run["job"] == "import-orders" and run["status"] == "succeeded"
    rows = sum(1 for _ in (OWN / "ebay_orders.csv").open()) - 1
    days = store.snapshot_dates(tmp_path, "orders")
    landed = pl.concat([store.read_snapshot(tmp_path, "orders", d) for d in days])
    assert landed.height == rows and set(landed["platform"]) == {"ebay"}
    assert list((tmp_path / "uploads").glob("*ebay_orders.csv"))  # the raw file is kept


def test_upload_with_bad_rows_shows_the_quarantine(page, tmp_path):
    at = page
    at.selectbox[0].set_value("Stock on hand per location").run()
    body = b"sku,location,on hand,reserved\nA,W1,5,0\nB,W1,-2,0\n" + b"".join(
        f"S{i},W1,{i},0\n".encode() for i in range(40)
    )
    _upload(at, "stock.csv", body)
    at.sidebar.text_input(key="signer_input").input("Ana Costa").run()
    at.button(key="import-button").click().run()
    assert not at.exception
    quarantine = at.dataframe[-1].value
    assert list(quarantine["column"]) == ["on hand"] and list(quarantine["source_row"]) == [2]
    day = store.resolve_as_of(tmp_path, "stock", None)
    assert store.read_snapshot(tmp_path, "stock", day).height == 41


def test_unreadable_file_is_refused_before_anything_is_imported(page, tmp_path):
    at = page
    _upload(at, "orders.csv", b"just,some,columns\n1,2,3\n")
    assert at.error and "cannot be imported as orders" in at.error[0].value
    assert not store.snapshot_dates(tmp_path, "orders")


def test_pages_mark_results_stale_when_the_daily_run_failed(tmp_path, monkeypatch):
    from stockroom_jobs import daily, own

    own.import_files([OWN / "shopify_orders.csv"], tmp_path)
    own.import_files(
        [OWN / "shopify_inventory.csv"], tmp_path, snapshot_date=datetime(2011, 12, 9).date()
    )
    (tmp_path / "stockroom.toml").write_text(
        '[[sources]]\nname = "feed"\nkind = "files"\npaths = ["nowhere/*.csv"]\n'
        "[alerts]\nrules = []\n"
    )
    from stockroom_jobs.forecast import run_forecast
    from stockroom_jobs.procure import run_plan

    run_forecast(tmp_path)
    run_plan(tmp_path)
    daily.run_day(tmp_path, datetime.now(UTC).date())
    monkeypatch.setenv("STOCKROOM_DATA_ROOT", str(tmp_path))
    at = AppTest.from_file(APP, default_timeout=180).run()
    at.switch_page("app_pages/order_today.py").run()
    assert not at.exception
    warning = " ".join(w.value for w in at.warning)
    assert "Stale" in warning and "sync failed" in warning and "nowhere" in warning
    assert any("order_plan snapshot of 2011-12-09: computed" in c.value for c in at.caption)
    # one location's stock or all: the buyer picks, the plan follows
    where = next(s for s in at.selectbox if s.label == "Stock location")
    assert where.options == ["All locations", "Leeds 3PL", "London warehouse"]
    where.set_value("Leeds 3PL").run()
    assert not at.exception and where.value == "Leeds 3PL"


def test_purchase_orders_upload_previews_and_imports(page, tmp_path):
    from stockroom.procurement import repo

    at = page
    at.selectbox[0].set_value("Purchase orders with receipts").run()
    _upload(at, "purchase_orders.csv", (OWN / "purchase_orders.csv").read_bytes())
    assert any("12 rows" in c.value for c in at.caption)
    at.sidebar.text_input(key="signer_input").input("Ana Costa").run()
    at.button(key="import-button").click().run()
    assert not at.exception and any("Imported" in s.value for s in at.success)
    lines = repo.purchase_order_lines(workbench.engine(tmp_path), None)
    assert lines.height == 12 and lines["received_quantity"].sum() > 0
    assert set(lines["created_by"]) == {"Ana Costa"}  # signed by the page's name
