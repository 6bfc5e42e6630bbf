"""One atomic place_order: the PO number comes from the database, all lines and one audit row
in one transaction. Two processes placing orders at the same moment, on SQLite and on a real
PostgreSQL: no duplicate numbers, no half POs."""

from __future__ import annotations

import multiprocessing as mp
from datetime import date, timedelta

import polars as pl
import pytest
import sqlalchemy as sa

from stockroom import workbench
from stockroom.procurement import repo

DAY = date(2026, 12, 2)
ORDERS_PER_PROCESS = 12
LINES = 3


def _buyer(root: str, who: str, barrier) -> list[str]:
    barrier.wait(timeout=120)  # both open the (new) database at once: migrations race too
    eng = workbench.engine(root)
    barrier.wait(timeout=120)  # both buyers click at the same moment
    return [
        repo.place_order(
            eng,
            supplier="acme",
            order_date=DAY,
            actor=who,
            reason="concurrency test",
            lines=[
                repo.OrderLine(f"{who}-{k}-{i}", 1 + i, DAY + timedelta(days=7))
                for i in range(LINES)
            ],
        )
        for k in range(ORDERS_PER_PROCESS)
    ]


def _worker(root, who, barrier, queue) -> None:
    try:
        queue.put((who, _buyer(root, who, barrier)))
    except Exception as exc:  # report, do not hang the test (a broken barrier included)
        barrier.abort()
        queue.put((who, f"{type(exc).__name__}: {exc}"))


def _two_buyers_at_once(root) -> None:
    ctx = mp.get_context("spawn")
    barrier, queue = ctx.Barrier(2), ctx.Queue()
    procs = [
        ctx.Process(target=_worker, args=(str(root), who, barrier, queue))
        for who in ("alice", "bob")
    ]
    for p in procs:
        p.start()
    results = dict(queue.get(timeout=240) for _ in procs)
    for p in procs:
        p.join(timeout=60)
    for who, numbers in results.items():
        assert isinstance(numbers, list), f"{who} failed: {numbers}"
    every = results["alice"] + results["bob"]
    assert len(set(every)) == len(every) == 2 * ORDERS_PER_PROCESS  # no duplicate numbers
    assert sorted(every) == [
        f"PO-{DAY:%Y%m%d}-{k:03d}" for k in range(1, 2 * ORDERS_PER_PROCESS + 1)
    ]
    eng = workbench.engine(root)
    lines = repo.purchase_order_lines(eng, None)
    per_po = lines.group_by("po_number").agg(pl.len(), pl.col("created_by").n_unique())
    assert per_po.height == len(every)
    assert (per_po["len"] == LINES).all()  # no half POs ...
    assert (per_po["created_by"] == 1).all()  # ... and no PO mixing two buyers' lines
    with eng.connect() as conn:
        headers = conn.execute(
            sa.select(sa.func.count()).select_from(workbench.purchase_order_headers)
        ).scalar()
        audited = conn.execute(
            sa.select(sa.func.count())
            .select_from(workbench.audit_log)
            .where(workbench.audit_log.c.entity == "purchase_order")
        ).scalar()
    assert headers == audited == len(every)  # audited once per PO


def test_two_processes_place_orders_at_once_on_sqlite(tmp_path, monkeypatch):
    monkeypatch.delenv("STOCKROOM_DB_URL", raising=False)
    _two_buyers_at_once(tmp_path)


def test_two_processes_place_orders_at_once_on_postgresql(tmp_path, monkeypatch, postgres):
    monkeypatch.setenv("STOCKROOM_DB_URL", postgres)  # the spawned buyers inherit it
    _two_buyers_at_once(tmp_path)


def test_a_bad_line_writes_nothing(tmp_path):
    eng = workbench.engine(tmp_path)
    good = repo.OrderLine("A", 5, DAY + timedelta(days=3))
    with pytest.raises(ValueError, match="B: quantity must be a whole number > 0"):
        repo.place_order(
            eng,
            supplier="acme",
            order_date=DAY,
            actor="t",
            reason="r",
            lines=[good, repo.OrderLine("B", 0, DAY)],
        )
    with pytest.raises(ValueError, match="appears twice"):
        repo.place_order(
            eng, supplier="acme", order_date=DAY, actor="t", reason="r", lines=[good, good]
        )
    assert repo.purchase_order_lines(eng, None).is_empty()


def test_a_failure_inside_the_transaction_leaves_no_half_po(tmp_path):
    eng = workbench.engine(tmp_path)
    number = repo.place_order(
        eng,
        supplier="acme",
        order_date=DAY,
        actor="t",
        reason="r",
        lines=[repo.OrderLine("A", 5, DAY)],
    )
    # the same explicit number again: the header insert fails after nothing else was written
    with pytest.raises(ValueError, match=f"PO {number} already exists"):
        repo.place_order(
            eng,
            supplier="other",
            order_date=DAY,
            actor="t",
            reason="r",
            po_number=number,
            lines=[repo.OrderLine("B", 1, DAY)],
        )
    lines = repo.purchase_order_lines(eng, None)
    assert lines["sku"].to_list() == ["A"] and lines["supplier"].to_list() == ["acme"]


def test_place_orders_from_plan_makes_one_po_per_supplier(tmp_path):
    eng = workbench.engine(tmp_path)
    plan = pl.DataFrame(
        {
            "sku": ["A", "B", "C", "D"],
            "supplier": ["x", "y", "x", "y"],
            "order_qty": [4, 2, 7, 0],
            "lead_time_days": [7, 14, 3, 1],
        }
    )
    numbers = repo.place_orders_from_plan(eng, plan, DAY, actor="buyer", reason="test")
    lines = repo.purchase_order_lines(eng, None).sort("sku")
    assert len(numbers) == 2 and lines["sku"].to_list() == ["A", "B", "C"]  # D: nothing due
    assert lines.filter(pl.col("sku") == "B")["expected_delivery"][0] == DAY + timedelta(14)
    by_po = dict(lines.group_by("po_number").agg(pl.col("supplier").first()).iter_rows())
    assert sorted(by_po.values()) == ["x", "y"]


def test_migration_0004_gives_every_existing_po_its_header(tmp_path):
    """POs written before headers existed (revision 0003) get one header per number, and the
    next allocated number continues after them."""
    from datetime import UTC, datetime

    eng = sa.create_engine(f"sqlite:///{tmp_path / 'workbench.db'}")
    workbench.upgrade(eng, "0003")
    now = datetime.now(UTC)
    old = [
        ("PO-20261202-001", "A", "acme"),
        ("PO-20261202-001", "B", "acme"),
        ("PO-20261202-002", "C", "zeta"),
    ]
    with eng.begin() as conn:
        rows = [
            {
                "po_number": n,
                "sku": sku,
                "supplier": sup,
                "quantity": 3,
                "order_date": DAY,
                "expected_delivery": DAY,
                "status": "open",
                "created_by": "old",
                "updated_at": now,
            }
            for n, sku, sup in old
        ]
        # the table as revision 0003 made it (today's has company_id, from 0009)
        conn.execute(sa.table("purchase_orders", *map(sa.column, rows[0])).insert(), rows)
    workbench.upgrade(eng)
    with eng.connect() as conn:
        headers = conn.execute(
            sa.select(
                workbench.purchase_order_headers.c.po_number,
                workbench.purchase_order_headers.c.supplier,
            )
        ).all()
    assert sorted(headers) == [("PO-20261202-001", "acme"), ("PO-20261202-002", "zeta")]
    number = repo.place_order(
        eng,
        supplier="acme",
        order_date=DAY,
        actor="t",
        reason="r",
        lines=[repo.OrderLine("D", 1, DAY)],
    )
    assert number == "PO-20261202-003"
