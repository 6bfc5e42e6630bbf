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


def test_report_failure_names_the_cell(olist_root):
    with pytest.raises(StockroomError, match="no sales"):
        run_report("seller_concentration", olist_root, category="no-such-category", progress=False)


def test_unknown_report_lists_the_known_ones(olist_root):
    assert "seller_concentration" in available_reports()
    with pytest.raises(StockroomError, match="available: .*seller_concentration"):
        run_report("nope", olist_root, progress=False)
