"""The plan end to end on a hand-made store: one SKU per action, POs and settings from the
workbench database, rounding, coverage and priority."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import polars as pl
import pytest

from stockroom import store, workbench
from stockroom.errors import StockroomError
from stockroom.forecast import views as forecast_views
from stockroom.forecast.forecaster import ForecasterConfig
from stockroom.procurement import actions, repo
from stockroom.procurement.plan import PLAN_COLUMNS, build_plan, recent_rate
from stockroom_jobs.forecast import run_forecast
from tests.conftest import land_orders

AS_OF = date(2024, 6, 30)
ON_HAND = {
    "A-order": 10,
    "B-covered": 10,
    "C-partial": 10,
    "D-plenty": 900,
    "E-dormant": 5,
    "F-moq": 40,
}


@pytest.fixture(scope="module")
def shop(tmp_path_factory):
    return build_shop(tmp_path_factory.mktemp("shop"))


def build_shop(root):
    """Six SKUs of one seller at AS_OF: orders, forecasts, stock, settings and two open POs
    (the Order today page's cases), landed in ``root``."""
    rows = []
    for sku in ("A-order", "B-covered", "C-partial", "D-plenty", "F-moq"):
        rows += [(AS_OF - timedelta(days=d), f"{sku}-{d}", "s1", sku, 4, 2.5) for d in range(150)]
    rows += [
        (AS_OF - timedelta(days=d), f"E-{d}", "s1", "E-dormant", 1, 9.0) for d in range(60, 150)
    ]
    land_orders(root, rows, {s: "cards" for s in ON_HAND})
    run_forecast(root, AS_OF, horizon=28, config=ForecasterConfig.shipped(28, trees=40, depth=3))
    stock = pl.DataFrame(
        {
            "seller_id": "s1",
            "location": "main",
            "sku": list(ON_HAND),
            "on_hand": list(ON_HAND.values()),
            "reserved": 0,
            "unit_cost": 1.0,
            "currency": "USD",
        },
        schema_overrides={"on_hand": pl.Int32, "reserved": pl.Int32},
    )
    store.write_snapshot(root, "stock", stock, AS_OF, run_id="test", sources=[])
    eng = workbench.engine(root)
    repo.set_settings(
        eng,
        "default",
        "",
        actor="t",
        reason="test",
        lead_time_days=7,
        review_days=7,
        service_level=0.95,
    )
    repo.set_settings(eng, "sku", "F-moq", actor="t", reason="test", moq=1000, pack_size=12)
    for sku, qty in (("B-covered", 300), ("C-partial", 10)):
        repo.place_order(
            eng,
            po_number=f"PO-{sku}",
            supplier="acme",
            order_date=AS_OF - timedelta(days=2),
            lines=[repo.OrderLine(sku, qty, AS_OF + timedelta(days=5))],
            actor="t",
            reason="test",
        )
    return root


def test_one_action_per_sku_with_the_expected_list(shop):
    day, plan = build_plan(shop)
    assert day == AS_OF and tuple(plan.columns) == PLAN_COLUMNS
    got = dict(zip(plan["sku"], plan["action"], strict=True))
    assert got == {
        "A-order": actions.ORDER_TODAY,
        "B-covered": actions.ALREADY_ORDERED,
        "C-partial": actions.ATTENTION,
        "D-plenty": actions.OK,
        "E-dormant": actions.OK,
        "F-moq": actions.ATTENTION,
    }
    assert plan["sku"].n_unique() == plan.height
    why = dict(zip(plan["sku"], plan["reason"], strict=True))
    assert "open POs cover" in why["C-partial"]
    assert "below the MOQ of 1000" in why["F-moq"]
    attention = dict(zip(plan["sku"], plan["attention"], strict=True))
    assert (attention["C-partial"], attention["F-moq"], attention["A-order"]) == (
        "partial_po",
        "below_moq",
        "",
    )
    # dormant stock is an exception with the money it ties up (5 units at cost 1.0 USD);
    # D-plenty's 900 units are about 225 days of its 4 a day: overstock
    row = {r["sku"]: r for r in plan.iter_rows(named=True)}
    assert row["E-dormant"]["exception"] == "dormant_stock"
    assert row["E-dormant"]["money_tied_up"] == pytest.approx(5.0)
    assert row["D-plenty"]["exception"] == "overstock"
    d = row["D-plenty"]
    assert d["excess_units"] == pytest.approx(900 - max(d["order_up_to"], 90 * d["burn_rate"]))
    assert {r["currency"] for r in row.values() if r["action"] != actions.OK} == {"USD"}
    # names people read: no title in this catalog, so the category in words and the SKU
    assert row["A-order"]["product"] == "Cards · A-order"


def test_quantities_by_hand(shop):
    _, plan = build_plan(shop)
    row = {r["sku"]: r for r in plan.iter_rows(named=True)}
    a = row["A-order"]
    # 4 units/day over P = 14 days, plus safety stock from the interval (none: the history
    # is exactly constant, so the calibration errors are 0); order = S - 10 on hand
    assert a["demand_protection"] == pytest.approx(56, rel=0.15)
    assert a["order_up_to"] >= a["demand_protection"]
    assert a["order_qty"] == int(np.ceil(a["order_up_to"] - 10 - 1e-9))
    assert a["runway_days"] == pytest.approx(10 / a["burn_rate"])
    assert a["stockout_date"] == AS_OF + timedelta(days=3)  # 4, 8, 12 > 10
    # F: needs about 14 x 4 - 40, rounded up to the MOQ 1000 in packs of 12 -> 1008
    assert row["F-moq"]["order_qty"] == 1008
    # C: a 10-unit PO arriving in 5 days covers part of S - 10
    c = row["C-partial"]
    assert c["on_order_in_time"] == 10
    assert c["po_coverage"] == pytest.approx(10 / (c["order_up_to"] - 10))
    assert row["B-covered"]["order_qty"] == 0 and row["B-covered"]["po_coverage"] == 1.0
    # priority: lost units before the next delivery (7 days) x price 2.5
    lost = max(a["demand_protection"] / 14 * 7 - 10, 0)
    assert a["revenue_at_risk"] == pytest.approx(lost * 2.5, rel=0.15)
    assert row["D-plenty"]["revenue_at_risk"] == 0
    assert a["sales_8w"] == [28] * 8


def test_marking_as_ordered_moves_the_sku(shop, tmp_path):
    import shutil

    root = tmp_path / "copy"
    shutil.copytree(shop, root)
    _, plan = build_plan(root)
    a = plan.filter(pl.col("sku") == "A-order").row(0, named=True)
    eng = workbench.engine(root)
    (number,) = repo.place_orders_from_plan(
        eng, plan.filter(pl.col("sku") == "A-order"), AS_OF, actor="buyer", reason="order today"
    )
    assert number == f"PO-{AS_OF:%Y%m%d}-001"
    line = repo.purchase_order_lines(eng).filter(pl.col("po_number") == number).row(0, named=True)
    assert (line["sku"], line["quantity"], line["supplier"]) == (
        "A-order",
        a["order_qty"],
        a["supplier"],
    )
    assert line["expected_delivery"] == AS_OF + timedelta(days=a["lead_time_days"])
    _, after = build_plan(root)
    assert after.filter(pl.col("sku") == "A-order")["action"][0] == actions.ALREADY_ORDERED
    history = (
        workbench.engine(root)
        .connect()
        .exec_driver_sql(
            "SELECT actor, entity, entity_key FROM audit_log WHERE entity = 'purchase_order'"
        )
        .fetchall()
    )
    assert ("buyer", "purchase_order", number) in history  # one audit row for the whole PO


def test_settings_resolve_field_by_field(shop):
    eng = workbench.engine(shop)
    got = repo.resolve(
        eng, pl.DataFrame({"sku": ["F-moq", "A-order"], "platform": ["ebay", "ebay"]})
    )
    f, a = got.row(0, named=True), got.row(1, named=True)
    assert (f["moq"], f["pack_size"], f["lead_time_days"]) == (1000, 12, 7)
    assert (a["moq"], a["pack_size"], a["service_level"]) == (0, 1, 0.95)
    with pytest.raises(ValueError, match="service_level"):
        repo.set_settings(eng, "sku", "A-order", actor="t", reason="x", service_level=1.5)


def test_bad_po_import_names_file_row_column_and_writes_nothing(shop, tmp_path):
    import shutil

    from stockroom.errors import InputError

    root = tmp_path / "import"
    shutil.copytree(shop, root)
    eng = workbench.engine(root)
    before = repo.purchase_order_lines(eng, None).height
    bad = tmp_path / "pos.csv"
    bad.write_text(
        "po_number,sku,supplier,quantity,order_date,expected_delivery\n"
        "PO-9,A-order,acme,12,2024-06-30,2024-07-07\n"
        "PO-9,D-plenty,acme,-3,2024-06-30,2024-07-07\n"
        "PO-10,D-plenty,acme,5,2024-06-31,2024-07-07\n"
    )
    with pytest.raises(InputError) as err:
        repo.import_pos(eng, bad, actor="t")
    assert "pos.csv" in str(err.value) and "row 2" in str(err.value)
    assert {(p.row, p.column) for p in err.value.problems} == {(2, "quantity"), (3, "order_date")}
    assert repo.purchase_order_lines(eng, None).height == before
    good = tmp_path / "good.csv"
    good.write_text(
        "po_number,sku,supplier,quantity,order_date,expected_delivery\n"
        "PO-11,D-plenty,acme,5,2024-06-30,2024-07-07\n"
    )
    assert repo.import_pos(eng, good, actor="t") == 1
    assert repo.purchase_order_lines(eng, None).height == before + 1


def order_today_page(shop, tmp_path, monkeypatch):
    """(Order today on a copy of ``shop``, run once; the copy's root)."""
    import shutil

    from streamlit.testing.v1 import AppTest

    from stockroom.config import PROJECT_ROOT

    root = tmp_path / "page"
    shutil.copytree(shop, root)
    monkeypatch.setenv("STOCKROOM_DATA_ROOT", str(root))
    at = AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=120)
    at.switch_page("app_pages/order_today.py").run()
    return at, root


def test_order_today_page_marks_as_ordered(shop, tmp_path, monkeypatch):
    at, root = order_today_page(shop, tmp_path, monkeypatch)
    assert not at.exception
    assert at.title[0].value == "Order today"
    shown = {m.label: m.value for m in at.metric}
    assert (shown["Order today"], shown["Already ordered"], shown["Attention required"]) == (
        "1",
        "1",
        "2",
    )
    _, plan = build_plan(root)
    assert shown["Revenue at risk, USD"] == f"{plan['revenue_at_risk'].sum():,.0f}"
    # nothing ticked: the button says how to use it and is off
    button = at.button(key=f"order-{actions.ORDER_TODAY}")
    assert button.disabled and "Tick rows" in button.label
    # the buyer reads names, quantities, money and why first (the columns left to right)
    table = next(d for d in at.dataframe if d.key == f"table-{actions.ORDER_TODAY}")
    assert list(table.value.columns[:4]) == ["product", "order_qty", "revenue_at_risk", "reason"]
    assert table.value["product"].tolist() == ["Cards · A-order"]
    assert table.value["forecast_link"].tolist() == ["/forecast?sku=A-order"]
    assert table.value["lead_time_label"].tolist() == ["7 d (setting)"]  # no receipts yet
    # tick the row (the table's selection state), as a click on its checkbox does
    at.session_state[f"table-{actions.ORDER_TODAY}"] = {
        "selection": {"rows": [0], "columns": [], "cells": []}
    }
    at.run()
    button = at.button(key=f"order-{actions.ORDER_TODAY}")
    assert button.label == "Mark 1 ticked as ordered"
    assert button.disabled  # no name to sign with yet
    at.sidebar.text_input(key="signer_input").input("Bruno Lima").run()
    at.button(key=f"order-{actions.ORDER_TODAY}").click().run()
    assert not at.exception
    shown = {m.label: m.value for m in at.metric}
    assert (shown["Order today"], shown["Already ordered"]) == ("0", "2")
    pos = repo.purchase_order_lines(workbench.engine(root))
    line = pos.filter(pl.col("sku") == "A-order").row(0, named=True)
    want = plan.filter(pl.col("sku") == "A-order").row(0, named=True)
    assert line["quantity"] == want["order_qty"]
    assert line["expected_delivery"] == AS_OF + timedelta(days=7)
    assert line["created_by"] == "Bruno Lima"


def test_procure_job_lands_the_plan_and_exports_requests(shop, tmp_path):
    import shutil

    from stockroom.procurement.plan import EXPORT_COLUMNS
    from stockroom_jobs.procure import run_plan

    root = tmp_path / "job"
    shutil.copytree(shop, root)
    missing = tmp_path / "not" / "yet" / "requests.csv"  # a typo is not a folder to create
    with pytest.raises(StockroomError, match="does not exist"):
        run_plan(root, export=missing)
    assert not (tmp_path / "not").exists() and not store.snapshot_dates(root, "order_plan")
    export = tmp_path / "requests.csv"
    summary = run_plan(root, export=export)
    assert summary.counts == {
        actions.ORDER_TODAY: 1,
        actions.ALREADY_ORDERED: 1,
        actions.ATTENTION: 2,
        actions.OK: 2,
    }
    landed = store.read_snapshot(root, "order_plan", AS_OF)
    assert landed.height == 6 and "sales_8w" not in landed.columns
    requests = pl.read_csv(export, try_parse_dates=True)
    assert tuple(requests.columns) == EXPORT_COLUMNS
    # A (order today) and F (attention: below MOQ, still a recommended quantity); C has one too
    assert set(requests["sku"]) <= {"A-order", "F-moq", "C-partial"}
    assert "A-order" in set(requests["sku"])
    assert requests.filter(pl.col("sku") == "F-moq")["quantity"].to_list() in ([], [1008])


def test_order_today_report(shop):
    from stockroom_jobs.report import run_report

    files = run_report("order_today", shop, progress=False)
    html = files.html.read_text()
    assert "Order today" in html and "A-order" in html
    _, plan = build_plan(shop)
    assert f"{plan['revenue_at_risk'].sum():,.0f}" in html


def test_demo_stock_simulation_is_seeded_and_idempotent(shop, tmp_path):
    import shutil

    from stockroom.sim.stock import SUPPLIER_TERMS, demo_stock
    from stockroom_jobs.procure import ingest_demo_stock

    fc = store.read_snapshot(shop, "forecasts", AS_OF)
    a, pos_a, sup_a = demo_stock(fc, AS_OF, seed=3)
    b, pos_b, sup_b = demo_stock(fc, AS_OF, seed=3)
    assert a.equals(b) and pos_a.equals(pos_b) and sup_a == sup_b
    assert set(a["sku"]) >= {"A-order", "B-covered", "C-partial", "D-plenty", "F-moq"}
    assert (a["reserved"] <= a["on_hand"]).all()
    root = tmp_path / "demo"
    shutil.copytree(shop, root)
    eng = workbench.engine(root)
    before = repo.purchase_order_lines(eng, None).height
    _, added = ingest_demo_stock(root, seed=3)
    assert added == pos_a.height
    assert ingest_demo_stock(root, seed=3)[1] == 0  # rerun: nothing new
    assert repo.purchase_order_lines(eng, None).height == before + added
    landed = store.read_snapshot(root, "stock", AS_OF).sort("sku")
    assert landed.select("sku", "on_hand").equals(a.sort("sku").select("sku", "on_hand"))
    terms = repo.settings_frame(eng).filter(pl.col("scope") == "supplier")
    assert set(terms["scope_key"]) == set(SUPPLIER_TERMS)
    _, plan = build_plan(root)
    # SKUs with their own settings row keep them (F-moq); the rest get the demo supplier
    f = plan.filter(pl.col("sku") == "F-moq").row(0, named=True)
    assert f["moq"] == 1000


def test_the_demo_fills_every_list_and_names_every_product(olist_demo):
    """The main job's demo (real Olist demand, simulated stock and POs a buyer following the
    plan placed): open POs that cover the need land in Already ordered -- the previous demo
    had 174 open POs and an empty Already ordered -- and Attention required is split by
    reason; no row shows a bare 32-character hash as its product."""
    _, plan = build_plan(olist_demo)
    pos = repo.purchase_order_lines(workbench.engine(olist_demo), "open")
    counts = dict(plan.group_by("action").len().iter_rows())
    assert counts.get(actions.ALREADY_ORDERED, 0) > 0 and counts.get(actions.ORDER_TODAY, 0) > 0
    with_po = plan.filter(pl.col("sku").is_in(pos["sku"].unique().implode()))
    assert with_po.height == pos["sku"].n_unique()
    assert actions.ORDER_TODAY not in set(with_po["action"])
    # the simulated buyer ordered the whole need for two in three of them
    covered = with_po.filter(pl.col("action") == actions.ALREADY_ORDERED).height
    assert covered >= 0.4 * with_po.height
    attention = plan.filter(pl.col("action") == actions.ATTENTION)
    assert attention["attention"].is_in(list(actions.ATTENTION_REASONS)).all()
    assert attention["attention"].n_unique() >= 3
    assert (attention["next_step"].str.len_chars() > 0).all()
    # names, money and currency
    assert not plan["product"].str.contains(r"^[0-9a-f]{32}$").any()
    assert plan["product"].str.contains(" · ").all()  # Olist publishes no titles
    assert set(plan["currency"].drop_nulls()) == {"BRL"}
    tied = plan.filter(pl.col("exception") != "")
    assert set(tied["exception"]) <= set(actions.EXCEPTIONS) and tied.height > 0
    assert (tied["money_tied_up"] >= 0).all() and tied["money_tied_up"].sum() > 0
    # out of stock now is today, not tomorrow
    out = plan.filter((pl.col("available") == 0) & (pl.col("burn_rate") > 0))
    assert out.height and (out["stockout_date"] == plan_day(plan, olist_demo)).all()


def plan_day(plan, root):
    return store.resolve_as_of(root, "forecasts", None)


def test_order_today_page_on_the_demo_splits_attention_and_ranks_exceptions(
    olist_demo, monkeypatch
):
    from streamlit.testing.v1 import AppTest

    from stockroom.config import PROJECT_ROOT

    monkeypatch.setenv("STOCKROOM_DATA_ROOT", str(olist_demo))
    at = AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=120)
    at.switch_page("app_pages/order_today.py").run()
    assert not at.exception
    _, plan = build_plan(olist_demo)
    shown = {m.label: m.value for m in at.metric}
    ordered = plan.filter(pl.col("action") == actions.ALREADY_ORDERED).height
    assert shown["Already ordered"] == f"{ordered:,}" and ordered > 0
    assert "Revenue at risk, BRL" in shown and "Money tied up, BRL" in shown
    tied = plan["money_tied_up"].sum()
    value = shown["Money tied up, BRL"]  # compact: 848.7K
    scale = {"K": 1e3, "M": 1e6}.get(value[-1], 1)
    assert float(value.rstrip("KM").replace(",", "")) * scale == pytest.approx(tied, rel=1e-3)
    acc = forecast_views.accuracy_by_category(forecast_views.latest(olist_demo)[1])
    assert shown["Error ÷ naive"] == f"{acc['relative_mae'][0]:.2f}×"
    tables = {d.key: d.value for d in at.dataframe if d.key}
    # no bare hash in any list: names people read, the SKU further right
    for key in (f"table-{actions.ORDER_TODAY}",):
        assert not tables[key]["product"].str.fullmatch(r"[0-9a-f]{32}").any()
    # Attention required: one row per reason with its step; the first reason's rows below
    attention = plan.filter(pl.col("action") == actions.ATTENTION)
    summary = next(
        d.value for d in at.dataframe if "attention_label" in d.value.columns and not d.key
    )
    want = attention.group_by("attention").len()
    assert summary["skus"].sum() == attention.height
    assert len(summary) == want.height
    assert summary["next_step"].tolist() == [
        actions.ATTENTION_REASONS[k][1]
        for k in actions.ATTENTION_REASONS
        if k in set(want["attention"])
    ]
    # the first reason is shown; picking another shows exactly its rows
    first = next(k for k in actions.ATTENTION_REASONS if k in set(want["attention"]))
    other = next(k for k in reversed(actions.ATTENTION_REASONS) if k in set(want["attention"]))
    assert first != other and f"table-attention-{first}" in tables
    at.segmented_control(key="attention-reason").set_value(other).run()
    rows = {d.key: d.value for d in at.dataframe if d.key}[f"table-attention-{other}"]
    assert len(rows) == attention.filter(pl.col("attention") == other).height
    assert set(rows["attention_label"]) == {actions.ATTENTION_REASONS[other][0]}
    # exceptions: ranked by money tied up, largest first
    exceptions = next(d.value for d in at.dataframe if "exception_label" in d.value.columns)
    money = exceptions["money_tied_up"].tolist()
    assert money == sorted(money, reverse=True) and money[0] > 0


def test_lead_times_from_po_receipts(tmp_path):
    """A supplier's received POs give its lead-time distribution (one lead time per PO, its
    last receipt - its order date); under MIN_RECEIPTS receipts the setting stands."""
    eng = workbench.engine(tmp_path)
    start = date(2024, 1, 1)
    waits = {"slow": [10, 12, 14, 30, 11, 13], "new": [5, 6]}
    for supplier, days in waits.items():
        for k, wait in enumerate(days):
            po = f"{supplier}-{k}"
            ordered = start + timedelta(days=3 * k)
            lines = [repo.OrderLine(s, 5, ordered + timedelta(days=7)) for s in ("X", "Y")]
            repo.place_order(
                eng,
                po_number=po,
                supplier=supplier,
                order_date=ordered,
                lines=lines,
                actor="t",
                reason="test",
            )
            # the PO's lead time is its last receipt: X arrives a day early, Y on the day
            repo.receive(eng, po, "X", received_at=ordered + timedelta(days=wait - 1), actor="t")
            repo.receive(eng, po, "Y", received_at=ordered + timedelta(days=wait), actor="t")
    # one still open: not a receipt
    repo.place_order(
        eng,
        po_number="slow-open",
        supplier="slow",
        order_date=start,
        lines=[repo.OrderLine("X", 5, start + timedelta(days=7))],
        actor="t",
        reason="test",
    )
    got = repo.supplier_lead_times(eng)
    assert got["supplier"].to_list() == ["slow"]  # "new" has 2 receipts: too few
    row = got.row(0, named=True)
    assert row["receipts"] == 6 and row["median_days"] == 12
    # 8 quantiles of 10, 11, 12, 13, 14, 30 (inverted CDF): each one a lead time that happened
    assert row["lead_days"] == [10, 11, 11, 12, 13, 14, 14, 30]


def test_the_plan_protects_a_supplier_s_lead_times_as_they_are(shop):
    """A supplier whose receipts show 7 to 35 days (the setting says 7) gets its median as
    the lead time, the count of receipts beside it, and more stock for its long deliveries."""
    from dataclasses import replace

    from stockroom.procurement.plan import load_inputs, plan_frame

    inputs = load_inputs(shop)
    base = plan_frame(inputs)
    slow = pl.DataFrame(
        {
            "supplier": ["acme"],
            "receipts": [12],
            "lead_days": [[7, 7, 7, 14, 14, 21, 28, 35]],
            "median_days": [14],
        }
    )
    settings = inputs.settings.with_columns(
        pl.when(pl.col("sku") == "A-order")
        .then(pl.lit("acme"))
        .otherwise(pl.col("supplier"))
        .alias("supplier")
    )
    plan = plan_frame(replace(inputs, settings=settings, lead_times=slow))
    before = base.filter(pl.col("sku") == "A-order").row(0, named=True)
    after = plan.filter(pl.col("sku") == "A-order").row(0, named=True)
    assert (before["lead_time_days"], before["lead_time_receipts"]) == (7, 0)
    assert (after["lead_time_days"], after["lead_time_receipts"]) == (14, 12)
    # mean protection period (7 + 7 + 7 + 14 + 14 + 21 + 28 + 35) / 8 + 7 review = 23.6 days
    # of ~4 units/day, against 14 days before
    assert after["demand_protection"] == pytest.approx(
        before["demand_protection"] * 23.625 / 14, rel=0.05
    )
    assert after["order_up_to"] > before["order_up_to"] * 1.5
    other = plan.filter(pl.col("sku") == "D-plenty").row(0, named=True)
    assert other["lead_time_receipts"] == 0  # its supplier has no receipts: the setting


def test_a_holding_cost_makes_the_target_the_newsvendor_critical_ratio(tmp_path, shop):
    """With no target fill rate set anywhere and a holding cost rate, the plan's target is
    margin / (margin + holding cost per review); a target set on any level wins."""
    from dataclasses import replace

    from stockroom.procurement import policy
    from stockroom.procurement.plan import load_inputs, plan_frame

    eng = workbench.engine(tmp_path)
    frame = pl.DataFrame({"sku": ["A-order"], "platform": ["ebay"]})
    assert repo.resolve(eng, frame)["service_level_set"].to_list() == [False]
    repo.set_settings(eng, "default", "", actor="t", reason="x", holding_cost_rate=0.3)
    got = repo.resolve(eng, frame).row(0, named=True)
    assert (got["holding_cost_rate"], got["service_level_set"]) == (0.3, False)
    repo.set_settings(eng, "supplier", "unassigned", actor="t", reason="x", service_level=0.9)
    assert repo.resolve(eng, frame)["service_level_set"].to_list() == [True]
    with pytest.raises(ValueError, match="holding_cost_rate"):
        repo.set_settings(eng, "sku", "A-order", actor="t", reason="x", holding_cost_rate=-1)

    # the shop's plan: A-order sells at 2.50 and costs 1.00; held at 1,000 % a year (a
    # perishable), weekly reviews
    inputs = load_inputs(shop)
    settings = inputs.settings.with_columns(
        pl.lit(10.0).alias("holding_cost_rate"),
        (pl.col("sku") != "A-order").alias("service_level_set"),
    )
    plan = plan_frame(replace(inputs, settings=settings))
    row = {r["sku"]: r for r in plan.iter_rows(named=True)}
    want = 1.5 / (1.5 + 1.0 * 10.0 * 7 / 365)
    assert row["A-order"]["service_level"] == pytest.approx(want)
    assert want == pytest.approx(policy.critical_ratio(2.5, 1.0, 10.0, 7))
    assert row["D-plenty"]["service_level"] == 0.95  # set: the setting stands


def test_settings_form_saves_a_holding_cost_without_pinning_the_target(shop, tmp_path, monkeypatch):
    at, root = order_today_page(shop, tmp_path, monkeypatch)
    at.sidebar.text_input(key="signer_input").input("Bruno Lima").run()
    at.selectbox(key="settings-sku").select("A-order").run()
    holding = next(n for n in at.number_input if n.label.startswith("Holding cost"))
    assert holding.value == 0.0
    holding.set_value(30.0)
    next(b for b in at.button if b.label == "Save settings for this SKU").click().run()
    assert not at.exception
    rows = repo.settings_frame(workbench.engine(root)).filter(pl.col("scope_key") == "A-order")
    row = rows.row(0, named=True)
    assert row["holding_cost_rate"] == pytest.approx(0.3)
    assert row["service_level"] is None  # untouched slider: the target is not pinned


def test_the_plan_reads_the_recent_rate_off_the_last_four_weeks_of_sales():
    day = date(2024, 3, 31)
    facts = pl.DataFrame(
        {
            "sku": ["steady", "launched", "never"],
            "first_sale": [date(2023, 1, 1), day - timedelta(days=10), None],
            "sales_8w": [[7, 7, 7, 7, 14, 14, 14, 28], [0, 0, 0, 0, 0, 0, 5, 9], None],
        }
    )
    rate = recent_rate(facts, day)
    assert rate[0] == pytest.approx((14 * 3 + 28) / 28)  # the last 4 weeks, per day
    assert np.isnan(rate[1]) and np.isnan(rate[2])  # under 28 days on sale; no orders
    # first sold exactly 28 days ago, the window counts from that day: a rate
    on_sale = facts.with_columns(pl.lit(day - timedelta(days=27)).alias("first_sale"))
    assert recent_rate(on_sale, day)[1] == pytest.approx(14 / 28)
