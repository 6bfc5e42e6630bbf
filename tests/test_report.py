"""The papermill report: executed notebook + HTML with the same numbers as lib."""

from __future__ import annotations

import json

import pytest

from stockroom import concentration
from stockroom.db import connect
from stockroom.errors import StockroomError
from stockroom.sales import make_window, order_days
from stockroom_jobs.report import available_reports, run_report


def test_seller_concentration_report(olist_root, capfd):
    files = run_report(
        "seller_concentration",
        olist_root,
        window_days=365,
        category="health_beauty",
        progress=False,
    )
    # the kernel talks over private IPC sockets: no warning about unencrypted TCP on stderr
    assert "without encryption" not in capfd.readouterr().err
    assert files.html.parent == olist_root / "reports"
    assert files.html.name == "seller_concentration-2018-08-29-365d-health_beauty.html"
    con = connect(olist_root)
    first, last = order_days(con)
    want = concentration.summary(con, make_window(last, 365, first), "health_beauty")
    html = files.html.read_text()
    assert "Seller concentration — health_beauty" in html
    assert f"{want['hhi']:,.0f}" in html and f"{want['cr4']:.1%}" in html
    assert "concentration.summary(con" not in html  # code cells are hidden
    notebook = json.loads(files.notebook.read_text())
    injected = [
        c for c in notebook["cells"] if "injected-parameters" in c["metadata"].get("tags", [])
    ]
    assert "health_beauty" in "".join(injected[0]["source"])
    assert not list(olist_root.glob("reports/*.tmp.*"))


def test_report_and_app_answer_with_the_same_default_window(olist_root, monkeypatch):
    """No window given: the report reads the app's default window, so both show the same
    per-category headline for the same data."""
    from streamlit.testing.v1 import AppTest

    from stockroom.config import DEFAULT_WINDOW_DAYS, PROJECT_ROOT

    files = run_report("seller_concentration", olist_root, progress=False)
    assert files.html.name == f"seller_concentration-2018-08-29-{DEFAULT_WINDOW_DAYS}d.html"
    html = files.html.read_text()
    monkeypatch.setenv("STOCKROOM_DATA_ROOT", str(olist_root))
    at = AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=120).run()
    shown = {m.label: m.value for m in at.metric}
    assert f"**{shown['HHI per category']}**" in html.replace("<strong>", "**").replace(
        "</strong>", "**"
    )
    assert f"{shown['CR4 per category']}" in html
    con = connect(olist_root)
    first, last = order_days(con)
    across = concentration.across_categories(
        concentration.by_category(con, make_window(last, DEFAULT_WINDOW_DAYS, first))
    )
    assert shown["HHI per category"] == f"{across['hhi']:,.0f}"


def test_report_failure_names_the_cell(olist_root):
    with pytest.raises(StockroomError, match="no sales"):
        run_report("seller_concentration", olist_root, category="no-such-category", progress=False)


def test_unknown_report_lists_the_known_ones(olist_root):
    assert "seller_concentration" in available_reports()
    with pytest.raises(StockroomError, match="available: .*seller_concentration"):
        run_report("nope", olist_root, progress=False)
