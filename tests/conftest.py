"""Shared fixtures: a data root with the bundled real Olist export landed once per session; a
real S3 API (moto's server) on 127.0.0.1 with a fresh bucket per test."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import threading
import uuid
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import polars as pl
import pytest
import sqlalchemy as sa

from stockroom import store
from stockroom.config import PROJECT_ROOT, bundled_olist_dir
from stockroom_jobs.ingest import ingest_olist

SHARED_DATA = PROJECT_ROOT.parent / "shared" / "data"


@pytest.fixture(autouse=True)
def _keep_main_module():
    """Streamlit's AppTest leaves the app script as `sys.modules["__main__"]`; a later test that
    starts processes with the spawn method would then re-run app.py in every child, which fails
    and makes the pool respawn workers for ever. Put the real `__main__` back after each test."""
    main = sys.modules["__main__"]
    yield
    sys.modules["__main__"] = main


@pytest.fixture(scope="session")
def olist_root(tmp_path_factory) -> Path:
    """A data root holding the bundled real Olist sample, landed by the real job."""
    root = tmp_path_factory.mktemp("olist_root")
    ingest_olist(bundled_olist_dir(), root)
    return root


@pytest.fixture(scope="session")
def olist_demo(olist_root, tmp_path_factory) -> Path:
    """The main job's demo on the bundled Olist sample: forecasts (a small model) and the
    simulated stock and open POs of ``stockroom ingest demo-stock``. Read-only: copy it to
    change it."""
    from stockroom.forecast.forecaster import ForecasterConfig
    from stockroom_jobs.forecast import run_forecast
    from stockroom_jobs.procure import ingest_demo_stock

    root = tmp_path_factory.mktemp("olist_demo") / "shop"
    shutil.copytree(olist_root, root)
    run_forecast(root, horizon=28, config=ForecasterConfig.shipped(28, trees=40, depth=3))
    ingest_demo_stock(root, seed=0)
    return root


@pytest.fixture
def olist_copy(tmp_path) -> Path:
    """A writable copy of the bundled raw export (tests corrupt it)."""
    target = tmp_path / "olist"
    shutil.copytree(bundled_olist_dir(), target)
    return target


@pytest.fixture
def shared_olist() -> Path:
    path = SHARED_DATA / "olist"
    if not path.is_dir():
        pytest.skip(f"shared data not present at {path}")
    return path


def load_browser():
    """``scripts/browser.py`` as a module: the headless-Chromium driver the browser tests and
    the README screenshots share."""
    spec = importlib.util.spec_from_file_location(
        "browser", PROJECT_ROOT / "scripts" / "browser.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def browser():
    """The browser driver (:func:`load_browser`); skips when Chromium is not installed."""
    module = load_browser()
    if not module.chromium_path():
        pytest.skip("chromium not installed (apt-get install chromium; .ci/run does)")
    return module


def order_lines(rows: list[tuple], currencies: dict[str, str] | None = None) -> pl.DataFrame:
    """Canonical orders from (day, order_id, seller_id, sku, quantity, unit_price[, status]),
    in USD unless ``currencies`` maps the order id to another currency."""
    records = []
    for row in rows:
        day, order_id, seller, sku, qty, price, *rest = row
        records.append(
            {
                "order_ts": datetime.combine(day, datetime.min.time(), tzinfo=UTC).replace(hour=12),
                "platform": "test",
                "order_id": order_id,
                "line": 1,
                "seller_id": seller,
                "sku": sku,
                "quantity": qty,
                "unit_price": price,
                "freight": 0.0,
                "currency": (currencies or {}).get(order_id, "USD"),
                "status": rest[0] if rest else "delivered",
            }
        )
    return pl.DataFrame(records)


def land_orders(
    root: Path,
    rows: list[tuple],
    categories: dict[str, str] | None = None,
    currencies: dict[str, str] | None = None,
) -> None:
    """Write tiny canonical orders (and products with categories) into a store."""
    orders = order_lines(rows, currencies)
    by_day = {
        d: part
        for (d,), part in orders.with_columns(pl.col("order_ts").dt.date().alias("_d"))
        .partition_by("_d", as_dict=True)
        .items()
    }
    store.write_snapshots(
        root, "orders", {d: f.drop("_d") for d, f in by_day.items()}, run_id="test", sources=[]
    )
    skus = sorted(set(orders["sku"]))
    cats = categories or {}
    products = pl.DataFrame(
        {
            "sku": skus,
            "title": [None] * len(skus),
            "category": [cats.get(s) for s in skus],
            "category_source": [None] * len(skus),
            "brand": [None] * len(skus),
            "gtin": [None] * len(skus),
            "weight_g": [None] * len(skus),
        },
        schema_overrides={
            "title": pl.String,
            "category": pl.String,
            "category_source": pl.String,
            "brand": pl.String,
            "gtin": pl.String,
            "weight_g": pl.Float64,
        },
    )
    store.write_snapshot(root, "products", products, date(2000, 1, 1), run_id="test", sources=[])


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """Print the job runs this session recorded (every workbench.db under pytest's temp dir):
    the measured success rate, with the failures the bad-input tests provoke on purpose."""
    import sqlite3

    factory = getattr(config, "_tmp_path_factory", None)
    if factory is None:
        return
    counts: dict[str, int] = {}
    for db in Path(factory.getbasetemp()).rglob("workbench.db"):
        try:
            with sqlite3.connect(db) as conn:
                for status, n in conn.execute(
                    "SELECT status, count(*) FROM job_runs GROUP BY status"
                ):
                    status = "crashed" if status == "running" else status  # pid is gone
                    counts[status] = counts.get(status, 0) + n
        except sqlite3.Error:
            continue
    total = sum(counts.values())
    if total:
        parts = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
        ok = counts.get("succeeded", 0)
        terminalreporter.write_line(
            f"job runs recorded by this session: {total} ({parts}); success rate "
            f"{ok / total:.1%} (failed/crashed runs are the bad-input, fault and kill -9 "
            "tests, provoked on purpose)"
        )


# -- a real PostgreSQL --------------------------------------------------------------------


def _postgres_url(tmp_path: Path) -> str:
    """A throwaway PostgreSQL cluster (initdb + pg_ctl), or skip with the reason."""
    if os.environ.get("STOCKROOM_TEST_PG_URL"):
        return os.environ["STOCKROOM_TEST_PG_URL"]
    bins = sorted(Path("/usr/lib/postgresql").glob("*/bin"))
    initdb = shutil.which("initdb") or (str(bins[-1] / "initdb") if bins else None)
    pg_ctl = shutil.which("pg_ctl") or (str(bins[-1] / "pg_ctl") if bins else None)
    if not initdb or not Path(initdb).exists() or not pg_ctl:
        pytest.skip("PostgreSQL not installed (no initdb/pg_ctl); .ci/run installs it")
    as_user: list[str] = []
    data = tmp_path / "pg"
    if os.geteuid() == 0:  # postgres refuses to run as root: use the package's user
        if not shutil.which("runuser"):
            pytest.skip("running as root without runuser: cannot start PostgreSQL")
        as_user = ["runuser", "-u", "postgres", "--"]
        data.mkdir()
        shutil.chown(data, "postgres")
        for parent in data.parents:  # pytest's tmp folders are 0700: let postgres through
            if parent == Path("/tmp") or parent == Path("/"):
                break
            parent.chmod(parent.stat().st_mode | 0o711)
    port = 54329
    subprocess.run(
        [*as_user, initdb, "-D", str(data), "-U", "postgres", "--auth=trust"],
        check=True,
        capture_output=True,
    )
    subprocess.run(
        [
            *as_user,
            pg_ctl,
            "-D",
            str(data),
            "-w",
            "-t",
            "30",
            "-l",
            str(data / "server.log"),
            "-o",
            f"-p {port} -k {data} -h 127.0.0.1",
            "start",
        ],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        timeout=60,
    )
    # the app's role: no SUPERUSER, no BYPASSRLS, owner of its database (row-level security
    # applies to it; the workbench refuses a role it would not apply to)
    admin = sa.create_engine(
        f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres", isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as conn:
        conn.exec_driver_sql("CREATE ROLE stockroom LOGIN NOSUPERUSER NOBYPASSRLS")
        conn.exec_driver_sql("CREATE DATABASE stockroom OWNER stockroom")
    admin.dispose()
    return f"postgresql+psycopg://stockroom@127.0.0.1:{port}/stockroom"


@pytest.fixture
def postgres(tmp_path):
    from stockroom import workbench

    try:
        url = _postgres_url(tmp_path)
    except subprocess.CalledProcessError as exc:
        pytest.skip(f"could not start PostgreSQL: {exc.stderr.decode()[-200:]}")
    # every test gets a new cluster on the same URL: an engine cached by an earlier test holds
    # connections to a server that is gone, and believes its database migrated
    workbench.reset_engines()
    yield url
    workbench.reset_engines()
    if not os.environ.get("STOCKROOM_TEST_PG_URL"):
        as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        pg_ctl = shutil.which("pg_ctl") or str(
            sorted(Path("/usr/lib/postgresql").glob("*/bin"))[-1] / "pg_ctl"
        )
        subprocess.run(
            [*as_user, pg_ctl, "-D", str(tmp_path / "pg"), "-m", "immediate", "stop"],
            capture_output=True,
        )


def daily_sales(units: np.ndarray, start: date, price: float = 10.0) -> pl.DataFrame:
    """A units matrix (series x days, from ``start``) as the long daily-sales frame
    :func:`stockroom.forecast.data.panel` lays out (ids s00, s01, ...; one category)."""
    n, d = units.shape
    days = np.array([start + timedelta(days=k) for k in range(d)], dtype="datetime64[D]")
    return pl.DataFrame(
        {
            "id": np.repeat([f"s{i:02d}" for i in range(n)], d),
            "date": np.tile(days, n),
            "units": units.ravel(),
            "price": price,
            "category": "x",
            "event": False,
            "promo": False,
            "snap": False,
        }
    ).with_columns(pl.col("date").cast(pl.Date))


@pytest.fixture
def webhook():
    """A real webhook receiver on 127.0.0.1: yields (its URL, the JSON bodies posted to it)."""
    received: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append(json.loads(body))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook", received
    server.shutdown()


@pytest.fixture(scope="session")
def s3_server():
    """A real S3 API (moto's server) on 127.0.0.1; yields its endpoint URL."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3(s3_server, tmp_path, monkeypatch):
    """A fresh bucket, the S3 settings in the environment, a catalog and a cache of this
    test's own; yields the lake URL of one company (``s3://<bucket>/acme``)."""
    import boto3

    from stockroom import lake

    bucket = f"stockroom-{uuid.uuid4().hex[:12]}"
    env = {
        "STOCKROOM_S3_ENDPOINT": s3_server,
        "AWS_ACCESS_KEY_ID": "test-key",
        "AWS_SECRET_ACCESS_KEY": "test-secret",
        "AWS_REGION": "us-east-1",
        "STOCKROOM_CACHE_DIR": str(tmp_path / "cache-a"),
        "STOCKROOM_LAKE_CATALOG": f"sqlite:///{tmp_path / 'catalogs'}",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    boto3.client(
        "s3", endpoint_url=s3_server, aws_access_key_id="test-key",
        aws_secret_access_key="test-secret", region_name="us-east-1",
    ).create_bucket(Bucket=bucket)  # fmt: skip
    monkeypatch.setattr(lake, "_ATTACHED", {})  # this process attaches the test's lakes afresh
    return f"s3://{bucket}/acme"
