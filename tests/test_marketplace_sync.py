"""Marketplace seller APIs (Wildberries / Ozon shapes) against the simulator on 127.0.0.1:
delta sync by watermark, idempotent re-runs, faults retried, a refused token pauses the source."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest

from stockroom import sources, store, workbench
from stockroom.config import PROJECT_ROOT
from stockroom.ingest import business
from stockroom.ingest.files import parse_timestamps
from stockroom.ingest.http import Refused
from stockroom.sim.sellerapi import SellerApiServer
from stockroom_jobs import sync

OWN = PROJECT_ROOT / "data" / "raw" / "own"
WB_TOKEN, OZ_CLIENT, OZ_KEY = "wb-tok-9f8e7d", "4455", "oz-key-1a2b3c"


@pytest.fixture(scope="module")
def demand() -> pl.DataFrame:
    """Real order lines (the bundled Online Retail sample) of Dec 2010 - Feb 2011."""
    mapped = business.orders(OWN / "shopify_orders.csv")
    lines, _ = parse_timestamps(mapped.frames["orders"], "order_ts", "orders")
    return lines.with_columns(
        pl.col("quantity").cast(pl.Int32), pl.col("unit_price").cast(pl.Float64),
        pl.col("line").cast(pl.Int32),
    ).filter(pl.col("order_ts") < datetime(2011, 3, 1, tzinfo=UTC))  # fmt: skip


@pytest.fixture
def server(demand, monkeypatch):
    monkeypatch.setenv("STOCKROOM_WB_TOKEN", WB_TOKEN)
    monkeypatch.setenv("STOCKROOM_OZ_TOKEN", f"{OZ_CLIENT}:{OZ_KEY}")
    with SellerApiServer(demand, wb_token=WB_TOKEN, ozon_client=OZ_CLIENT, ozon_key=OZ_KEY,
                         page_size=400) as srv:  # fmt: skip
        yield srv


def _source(kind: str, srv) -> sources.Source:
    return sources.Source(
        name="wb" if kind == "wildberries" else "oz", kind=kind, url=srv.base_url,
        since="2010-11-01T00:00:00", min_interval=0,
    )  # fmt: skip


def _orders(root: Path, platform: str) -> pl.DataFrame:
    days = store.snapshot_dates(root, "orders")
    frame = pl.concat([store.read_snapshot(root, "orders", d) for d in days])
    return frame.filter(pl.col("platform") == platform)


@pytest.mark.parametrize("kind", ["wildberries", "ozon"])
def test_delta_sync_reads_only_what_changed_and_reruns_change_nothing(tmp_path, server, kind):
    src = _source(kind, server)
    jan, feb = datetime(2011, 1, 15, tzinfo=UTC), datetime(2011, 3, 1, tzinfo=UTC)
    server.set_clock(jan)
    sync.sync_source(tmp_path, src, now=jan)
    platform = kind
    first = _orders(tmp_path, platform)
    expected_first = server.wb_orders if kind == "wildberries" else server.ozon_postings
    assert first.height > 0
    assert first["order_ts"].max() <= jan
    hits_before = len(server.hits)
    # a re-run with nothing new: no new rows, the same snapshots
    sync.sync_source(tmp_path, src, now=jan)
    assert _orders(tmp_path, platform).equals(first)
    # the clock moves: only the new rows are read (the watermark), and they land
    server.set_clock(feb)
    sync.sync_source(tmp_path, src, now=feb)
    second = _orders(tmp_path, platform)
    assert second.height > first.height and second["order_ts"].max() > jan
    if kind == "wildberries":
        assert second.height == len([r for r in expected_first])  # one line per WB order row
        # sales turned orders of this pull into delivered, cancellations stay canceled
        assert {"delivered", "canceled"} <= set(second["status"])
        requested = [h for h in server.hits[hits_before:] if h[1].endswith("/orders")]
        assert requested  # asked again from the watermark, not from the start
    else:
        assert second["order_id"].n_unique() == len(expected_first)
    stock = store.read_snapshot(tmp_path, "stock", store.resolve_as_of(tmp_path, "stock", None))
    assert stock["location"].str.starts_with(kind).all() and stock.height > 0


@pytest.mark.parametrize("kind,route", [("wildberries", "/api/v1/supplier/orders"),
                                        ("ozon", "/v3/posting/fbs/list")])  # fmt: skip
def test_faults_are_retried_and_recorded(tmp_path, server, kind, route):
    src = _source(kind, server)
    server.set_clock(datetime(2011, 1, 1, tzinfo=UTC))
    server.inject(route, "429", "503", "truncate", "500")
    sync.sync_source(tmp_path, src, now=datetime(2011, 1, 1, tzinfo=UTC))
    run = workbench.runs(workbench.engine(tmp_path)).row(0, named=True)
    assert run["status"] == "succeeded" and run["rows_landed"] > 0
    assert all(
        c in run["retry_causes"] for c in ("HTTP 429", "HTTP 503", "HTTP 500", "truncated JSON")
    )


def test_a_failed_run_rereads_never_skips(tmp_path, server):
    src = _source("wildberries", server)
    server.set_clock(datetime(2011, 1, 15, tzinfo=UTC))
    server.inject("/api/v1/supplier/sales", *["503"] * 6)  # more than the retries
    with pytest.raises(Exception, match="503"):
        sync.sync_source(tmp_path, src)
    eng = workbench.engine(tmp_path)
    assert workbench.get_watermark(eng, "api:wb") is None  # not moved: nothing is skipped
    assert not store.snapshot_dates(tmp_path, "orders")
    sync.sync_source(tmp_path, src)
    assert _orders(tmp_path, "wildberries").height == len(
        [r for r in server.wb_orders if r["lastChangeDate"] <= server.clock]
    )


@pytest.mark.parametrize("kind", ["wildberries", "ozon"])
def test_a_refused_token_pauses_the_source_and_secrets_stay_out(tmp_path, server, kind):
    src = _source(kind, server)
    server.set_clock(datetime(2011, 1, 5, tzinfo=UTC))
    sync.sync_source(tmp_path, src)
    server.revoke()
    before = len(server.hits)
    with pytest.raises(Refused):
        sync.sync_source(tmp_path, src)
    assert len(server.hits) - before == 1  # 401 is not retried
    eng = workbench.engine(tmp_path)
    assert sources.state(eng)[src.name]["status"] == "paused"
    with pytest.raises(sync.SourcePaused, match="token refused"):
        sync.sync_source(tmp_path, src)
    assert len(server.hits) - before == 1  # paused: nothing requested
    sources.set_state(eng, src.name, "active", "resumed", None)
    with pytest.raises(Refused):
        sync.sync_source(tmp_path, src)
    # tokens appear in no file, run record or database row
    for secret in (WB_TOKEN, OZ_KEY):
        for path in tmp_path.rglob("*"):
            if path.is_file():
                assert secret.encode() not in path.read_bytes(), path
