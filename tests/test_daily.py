"""`stockroom daily`, the schedule (a clock set by the test) and the alerts, with a real SMTP
server (aiosmtpd) and a real webhook receiver on 127.0.0.1."""

from __future__ import annotations

import multiprocessing
import shutil
from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl
import pytest
import sqlalchemy as sa

from stockroom import alerts, health, sources, store, workbench
from stockroom.config import PROJECT_ROOT
from stockroom_jobs import daily

OWN = PROJECT_ROOT / "data" / "raw" / "own"
TODAY = date(2026, 12, 2)


@pytest.fixture
def smtp():
    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Message

    class Inbox(Message):
        def __init__(self):
            super().__init__()
            self.messages = []

        def handle_message(self, message):
            self.messages.append(message)

    import socket

    with socket.socket() as probe:  # a free port (aiosmtpd's controller needs a real one)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield port, inbox.messages
    controller.stop()


def _config(
    root: Path,
    extra: str = "",
    *,
    smtp_port: int = 1,
    hook: str | None = None,
    rules: str = '["stockout", "order_today", "source_failed", "job_failed"]',
) -> None:
    shutil.copytree(OWN, root / "own", dirs_exist_ok=True)
    hooks = f'webhook = ["{hook}"]' if hook else ""
    (root / "stockroom.toml").write_text(f"""
[[sources]]
name = "shop-orders"
kind = "files"
paths = ["own/shopify_orders.csv", "own/ebay_orders.csv"]
import = "orders"

[[sources]]
name = "stock"
kind = "files"
paths = ["own/shopify_inventory.csv"]
import = "stock"
snapshot_date = 2011-12-09

[[sources]]
name = "inventory"
kind = "files"
paths = ["own/inventory.csv"]
import = "inventory"
snapshot_date = 2011-12-09

[[sources]]
name = "suppliers"
kind = "files"
paths = ["own/suppliers.csv"]
import = "settings"
{extra}
[alerts]
email = ["buyer@example.com"]
{hooks}
smtp_port = {smtp_port}
rules = {rules}
""")


def test_daily_runs_every_step_once_and_alerts_once(tmp_path, smtp, webhook):
    port, inbox = smtp
    hook, posted = webhook
    _config(tmp_path, smtp_port=port, hook=hook)
    results = daily.run_day(tmp_path, TODAY)
    status = {r.step: r.status for r in results}
    assert status == dict.fromkeys([*sources.STEPS, "alerts"], "succeeded"), results
    assert store.resolve_as_of(tmp_path, "order_plan", None) == date(2011, 12, 9)
    assert (tmp_path / "reports").is_dir() and list((tmp_path / "reports").glob("*.html"))
    eng = workbench.engine(tmp_path)
    opened = alerts.open_alerts(eng)
    assert "order_today" in set(opened["rule"]) and "stockout" in set(opened["rule"])
    assert len(inbox) == opened.height == len(posted)  # one message per new alert
    assert any("to order today" in m.get_payload() for m in inbox)
    assert all(p["rule"] in ("order_today", "stockout") for p in posted)
    # the same day again: every step is done, nothing re-runs, nothing is sent twice
    again = daily.run_day(tmp_path, TODAY)
    assert [r.step for r in again] == ["alerts"]
    assert len(inbox) == opened.height and len(posted) == opened.height
    assert health.freshness(tmp_path)["stale"] is False
    # locations are kept: the plan of one warehouse's stock, or of all
    from stockroom.errors import StockroomError
    from stockroom.procurement.plan import build_plan, stock_locations

    assert stock_locations(tmp_path) == ["Leeds 3PL", "London warehouse"]
    stock = store.read_snapshot(tmp_path, "stock", date(2011, 12, 9))
    _, leeds = build_plan(tmp_path, location="Leeds 3PL")
    _, every = build_plan(tmp_path)
    assert (
        leeds["on_hand"].sum() == stock.filter(pl.col("location") == "Leeds 3PL")["on_hand"].sum()
    )
    assert every["on_hand"].sum() == stock["on_hand"].sum()
    with pytest.raises(StockroomError, match="Leeds 3PL, London warehouse"):
        build_plan(tmp_path, location="Leeds")


def test_a_failed_step_stops_its_dependents_and_keeps_yesterday(tmp_path, smtp):
    port, inbox = smtp
    _config(tmp_path, smtp_port=port)
    daily.run_day(tmp_path, date(2026, 12, 1))
    plan_before = store.snapshot_dates(tmp_path, "order_plan")
    broken = '[[sources]]\nname = "supplier-feed"\nkind = "files"\npaths = ["own/gone.csv"]\n'
    _config(tmp_path, broken, smtp_port=port)
    results = {r.step: r for r in daily.run_day(tmp_path, TODAY)}
    assert results["sync"].status == "failed" and "gone.csv" in results["sync"].detail
    for step in ("forecast", "plan", "reconcile", "reports"):
        assert results[step].status == "skipped", step
    assert store.snapshot_dates(tmp_path, "order_plan") == plan_before  # yesterday's stays
    fresh = health.freshness(tmp_path)
    assert fresh["stale"] and fresh["day"] == TODAY
    rules = {
        (r["rule"], r["key"])
        for r in alerts.open_alerts(workbench.engine(tmp_path)).iter_rows(named=True)
    }
    assert ("job_failed", "sync") in rules and ("source_failed", "supplier-feed") in rules
    # fixed: the failed step is claimed again and the dependents run
    _config(tmp_path, smtp_port=port)
    results = {r.step: r.status for r in daily.run_day(tmp_path, TODAY)}
    assert results["sync"] == results["plan"] == "succeeded"
    state = {
        r["rule"]: r["status"]
        for r in alerts.open_alerts(workbench.engine(tmp_path)).iter_rows(named=True)
    }
    assert state["job_failed"] == state["source_failed"] == "cleared"  # re-armed


def test_schedule_due_steps_with_a_set_clock():
    settings = sources.Settings.model_validate(
        {
            "schedule": {
                "sync": "06:00",
                "forecast": "06:30",
                "plan": "07:00",
                "reconcile": "07:00",
                "reports": "07:15",
                "timezone": "Europe/London",
            }
        }  # fmt: skip
    )
    day = date(2026, 7, 1)  # summer time: 06:00 London is 05:00 UTC
    at = lambda h, m: datetime(2026, 7, 1, h, m, tzinfo=UTC)  # noqa: E731
    # 04:59 UTC = 05:59 London: nothing of today yet -> yesterday's steps are caught up
    assert daily.due(settings, at(4, 59), set()) == [(date(2026, 6, 30), s) for s in sources.STEPS]
    yesterday = {(date(2026, 6, 30), s) for s in sources.STEPS}
    assert daily.due(settings, at(4, 59), yesterday) == []
    assert daily.due(settings, at(5, 0), yesterday) == [(day, "sync")]
    assert daily.due(settings, at(6, 15), yesterday | {(day, "sync")}) == [
        (day, "plan"),
        (day, "reconcile"),
        (day, "reports"),
    ][:0] + [(day, "forecast"), (day, "plan"), (day, "reconcile"), (day, "reports")]
    # a laptop off for a week: only the latest day is run, older days are superseded by it
    assert daily.due(settings, at(12, 0), set()) == [(day, s) for s in sources.STEPS]


def test_apscheduler_triggers_fire_at_the_configured_local_times(tmp_path):
    (tmp_path / "stockroom.toml").write_text(
        '[schedule]\nsync = "06:00"\nforecast = "07:00"\ntimezone = "Europe/Berlin"\n'
    )
    sched = daily.scheduler(tmp_path, blocking=False)
    jobs = {j.id: j for j in sched.get_jobs()}
    assert set(jobs) == {f"stockroom-local-{s}" for s in sources.STEPS}  # company, step
    now = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
    fire = jobs["stockroom-local-sync"].trigger.get_next_fire_time(None, now)
    assert fire.astimezone(UTC) == datetime(2026, 12, 3, 5, 0, tzinfo=UTC)  # 06:00 CET
    assert jobs["stockroom-local-forecast"].misfire_grace_time is None  # late, never skipped


def _tick(root: str, now: str) -> None:
    daily.tick(Path(root), datetime.fromisoformat(now))


def test_two_schedulers_never_run_the_same_day_twice(tmp_path):
    _config(tmp_path, rules="[]")
    workbench.engine(tmp_path)  # migrated before the race
    now = "2026-12-02T09:00:00+00:00"
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_tick, args=(str(tmp_path), now)) for _ in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(300)
    assert all(p.exitcode == 0 for p in procs)
    eng = workbench.engine(tmp_path)
    with eng.connect() as conn:
        steps = conn.execute(
            sa.select(workbench.daily_steps.c.step, workbench.daily_steps.c.status)
        ).all()
        forecasts = conn.execute(
            sa.select(sa.func.count())
            .select_from(workbench.job_runs)
            .where(workbench.job_runs.c.job == "forecast")
        ).scalar()
    assert sorted(s for s, _ in steps) == sorted(sources.STEPS)
    assert {st for _, st in steps} == {"succeeded"}
    assert forecasts == 1


def test_alert_rearm_and_digest(tmp_path, smtp, webhook):
    port, inbox = smtp
    hook, posted = webhook
    eng = workbench.engine(tmp_path)
    cfg = sources.Alerts(email=["a@example.com"], webhook=[hook], smtp_port=port, digest=True)
    a, b = (
        alerts.Condition("stockout", "SKU1", "SKU1 runs out"),
        alerts.Condition("order_today", "order_today", "2 to order"),
    )
    new, _ = alerts.update(eng, [a, b])
    assert new == [a, b]
    alerts.send(eng, cfg, new)
    assert (
        len(inbox) == 1
        and "SKU1 runs out" in inbox[0].get_payload()
        and "2 to order" in inbox[0].get_payload()
    )
    assert len(posted) == 1 and len(posted[0]["digest"]) == 2
    assert alerts.update(eng, [a, b]) == ([], [])  # still holding: silent
    assert alerts.update(eng, [b]) == ([], [("stockout", "SKU1")])  # cleared
    new, _ = alerts.update(eng, [a, b])
    assert new == [a]  # re-armed: sent again
