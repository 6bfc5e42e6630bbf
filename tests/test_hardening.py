"""Issue 14's probes, one test each: numbers as the user meant them, secrets, exports, the audit
log, empty sources, honest run records, CLI mistakes and the smaller ones."""

from __future__ import annotations

import http.server
import io
import json
import re
import subprocess
import sys
import threading
import time
import zipfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest
import sqlalchemy as sa

from stockroom import audit, config, export, store, workbench
from stockroom.errors import InputError
from stockroom.ingest.http import Fetcher, FetchError
from stockroom.procurement import repo
from stockroom_jobs.ingest import ingest_card_api, ingest_listings_files, ingest_sql
from stockroom_jobs.runs import EmptySource
from tests.conftest import land_orders
from tests.test_ingest_files import fingerprint

DAY = date(2024, 6, 27)
HEADER = "platform;seller_id;sku;quantity;price;notes\n"


def _write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_text(text, encoding=encoding)
    return path


def _quarantine(root: Path) -> pl.DataFrame:
    return workbench.quarantined(workbench.engine(root))


# -- 2. numbers as the user meant them --------------------------------------------------------


def test_decimal_commas_and_thousands_read_as_written(tmp_path):
    """A `;` export with `1,50` lands 1.5 (it landed 150.0), `1.234,50` lands 1234.5 and a
    `1.000` quantity 1000; a `,` export keeps `1,097.00` as 1097."""
    eu = _write(
        tmp_path / "eu.csv",
        HEADER + "ebay;a;A1;2;1,50;\nebay;a;A2;1.000;1.234,50;\nebay;a;A3;3;12;\n",
    )
    ingest_listings_files([eu], tmp_path / "r1", snapshot_date=DAY)
    got = store.read_snapshot(tmp_path / "r1", "listings", DAY).sort("sku")
    assert got["price"].to_list() == [1.5, 1234.5, 12.0]
    assert got["quantity"].to_list() == [2, 1000, 3]
    us = _write(
        tmp_path / "us.csv",
        'platform,seller_id,sku,quantity,price,notes\nebay,a,B1,1,"$1,097.00",\nebay,a,B2,1,0.5,\n',
    )
    ingest_listings_files([us], tmp_path / "r2", snapshot_date=DAY)
    got = store.read_snapshot(tmp_path / "r2", "listings", DAY).sort("sku")
    assert got["price"].to_list() == [1097.0, 0.5]


def test_mixed_marks_quarantine_only_the_ambiguous_cells(tmp_path):
    """One column with both `1,50` and `2.75`: each unambiguous cell reads by its own mark; a
    `1,500` there could be either, so it is quarantined instead of guessed."""
    path = _write(
        tmp_path / "mixed.csv",
        HEADER
        + "".join(f"ebay;a;M{i};1;{p};\n" for i, p in enumerate(["1,50", "2.75"] * 20))
        + "ebay;a;AMB;1;1,500;\n",
    )
    run = ingest_listings_files([path], tmp_path / "r", snapshot_date=DAY)
    got = store.read_snapshot(tmp_path / "r", "listings", DAY)
    assert sorted(set(got["price"].to_list())) == [1.5, 2.75]
    bad = _quarantine(tmp_path / "r")
    assert run.rows_quarantined == 1 and bad["value"].to_list() == ["1,500"]


@pytest.mark.parametrize(
    "cell, column, reason",
    [
        ("inf", "price", "not a finite number"),
        ("1e400", "price", "not a finite number"),
        ("NaN", "price", "not a finite number"),
        ("bad\x00title", "title", "control characters"),
        ("esc\x1b[31m", "title", "control characters"),
    ],
)
def test_non_finite_numbers_and_control_characters_are_quarantined(tmp_path, cell, column, reason):
    price = cell if column == "price" else "3.50"
    title = cell if column == "title" else "ok"
    rows = "".join(f"ebay,a,G{i},1,2.00,ok\n" for i in range(40))
    path = _write(
        tmp_path / "x.csv",
        "platform,seller_id,sku,quantity,price,title\n" + rows + f"ebay,a,BAD,1,{price},{title}\n",
    )
    run = ingest_listings_files([path], tmp_path / "r", snapshot_date=DAY)
    assert run.rows_landed == 40 and run.rows_quarantined == 1
    bad = _quarantine(tmp_path / "r").row(0, named=True)
    assert (bad["source_row"], bad["column"]) == (41, column) and reason in bad["reason"]
    assert "\x00" not in (bad["value"] or "")


def test_cell_and_file_size_limits(tmp_path, monkeypatch):
    monkeypatch.setenv("STOCKROOM_MAX_CELL_CHARS", "100")
    rows = "".join(f"ebay,a,G{i},1,2.00,short\n" for i in range(40))
    path = _write(
        tmp_path / "x.csv",
        "platform,seller_id,sku,quantity,price,title\n"
        + rows
        + f"ebay,a,LONG,1,2.00,{'x' * 5000}\n",
    )
    run = ingest_listings_files([path], tmp_path / "r", snapshot_date=DAY)
    assert run.rows_quarantined == 1
    assert "longer than 100 characters" in _quarantine(tmp_path / "r")["reason"][0]
    monkeypatch.setenv("STOCKROOM_MAX_FILE_MB", "0.001")
    with pytest.raises(InputError, match="above the 0 MB limit"):
        ingest_listings_files([path], tmp_path / "r", snapshot_date=DAY)


def test_a_workbook_that_unpacks_too_far_is_refused_before_reading(tmp_path, monkeypatch):
    path = tmp_path / "big.xlsx"
    export.write_excel(
        pl.DataFrame(
            {
                "platform": "ebay",
                "seller_id": "a",
                "sku": [f"S{i}" for i in range(20_000)],
                "quantity": 1,
                "price": 2.5,
                "notes": "x" * 40,
            }
        ),
        path,
    )
    with zipfile.ZipFile(path) as archive:
        unpacked = sum(i.file_size for i in archive.infolist()) / 1e6
    monkeypatch.setenv("STOCKROOM_MAX_UNPACKED_MB", str(unpacked / 2))
    with pytest.raises(InputError, match="unpacks to .* above the"):
        ingest_listings_files([path], tmp_path / "r", snapshot_date=DAY)
    assert not (tmp_path / "r" / "snapshots").exists()


def test_a_ragged_line_names_its_row_and_unknown_headers_are_warned(tmp_path):
    ragged = _write(
        tmp_path / "ragged.csv",
        "platform,seller_id,sku,quantity,price,notes\nebay,a,A,1,2.0,\nebay,a,B,1,2.0,,extra\n",
    )
    with pytest.raises(InputError, match=r"ragged.csv, row 2.*7 fields where the header has 6"):
        ingest_listings_files([ragged], tmp_path / "r", snapshot_date=DAY)
    extra = _write(
        tmp_path / "extra.csv",
        "platform,seller_id,sku,quantity,price,notes,Colour,Warehouse bin\n"
        "ebay,a,A,1,2.0,,red,B7\n",
    )
    run = ingest_listings_files([extra], tmp_path / "r", snapshot_date=DAY)
    assert run.warnings == [
        "extra.csv: 2 column(s) not recognised, not landed: Colour, Warehouse bin"
    ]
    logged = workbench.runs(workbench.engine(tmp_path / "r"), limit=1)
    assert "Colour, Warehouse bin" in logged["warnings"][0]


# -- 8. empty is not success ------------------------------------------------------------------


def test_a_header_only_export_fails_unless_allowed(tmp_path):
    full = _write(tmp_path / "full.csv", HEADER + "ebay;a;A1;2;1,50;\n")
    empty = _write(tmp_path / "empty.csv", HEADER)
    root = tmp_path / "r"
    ingest_listings_files([full], root, snapshot_date=DAY)
    before = fingerprint(root)
    with pytest.raises(EmptySource, match="empty.csv.*no rows for listings.*--allow-empty"):
        ingest_listings_files([empty], root, snapshot_date=DAY + timedelta(days=1))
    assert fingerprint(root) == before  # yesterday was not carried forward as today
    run = ingest_listings_files(
        [empty], root, snapshot_date=DAY + timedelta(days=1), allow_empty=True
    )
    assert run.rows_read == 0


# -- 4. secrets -------------------------------------------------------------------------------


class _Recorder(http.server.BaseHTTPRequestHandler):
    seen: list[dict] = []
    redirect_to: str | None = None

    def do_GET(self):  # noqa: N802 (http.server's name)
        type(self).seen.append({"path": self.path, "headers": dict(self.headers)})
        if self.redirect_to and self.path.startswith("/v2/cards"):
            self.send_response(302)
            self.send_header("Location", self.redirect_to + self.path)
            self.end_headers()
            return
        body = json.dumps({"data": []}).encode()
        self.send_response(200 if not self.path.startswith("/robots") else 404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def _serve(handler: type) -> http.server.ThreadingHTTPServer:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def test_the_api_key_does_not_follow_a_redirect_to_another_origin(tmp_path):
    class Origin(_Recorder):
        seen = []

    class Elsewhere(_Recorder):
        seen = []

    other = _serve(Elsewhere)
    Origin.redirect_to = f"http://127.0.0.1:{other.server_port}"
    first = _serve(Origin)
    try:
        with Fetcher(min_interval=0, headers={"X-Api-Key": "k-SECRET-42"}) as fetcher:
            body = fetcher.get_json(f"http://127.0.0.1:{first.server_port}/v2/cards")
        assert body == {"data": []}
        asked = [s for s in Origin.seen if s["path"].startswith("/v2")]
        assert asked and asked[0]["headers"].get("X-Api-Key") == "k-SECRET-42"
        landed = [s for s in Elsewhere.seen if s["path"].startswith("/v2")]
        assert landed and all("X-Api-Key" not in s["headers"] for s in landed)
    finally:
        first.shutdown()
        other.shutdown()


@pytest.mark.parametrize("form", ["userinfo", "query"])
def test_a_database_password_is_nowhere(tmp_path, capfd, form):
    """A failing SQL pull with a password in its URL (user:password@ or ?password=): not in
    the CLI's output, the run log, any file under the data root."""
    secret = "S3cret-pw-9Q"
    url = (
        f"postgresql+psycopg://shop:{secret}@127.0.0.1:1/shop"
        if form == "userinfo"
        else f"postgresql+psycopg://shop@127.0.0.1:1/shop?password={secret}"
    )
    root = tmp_path / "r"
    with pytest.raises(Exception):  # noqa: B017 (any failure; what matters is what it says)
        ingest_sql(url, root, table="listings")
    done = subprocess.run(
        [sys.executable, "-m", "stockroom_jobs.cli", "ingest", "sql", url, "--table", "x"],
        env={**__import__("os").environ, "STOCKROOM_DATA_ROOT": str(root)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1 and "***" in done.stderr
    assert secret not in done.stdout + done.stderr
    runs = workbench.runs(workbench.engine(root), limit=None)
    assert runs.height == 2 and "***" in runs["source"][0]
    for row in runs.iter_rows(named=True):
        assert secret not in json.dumps(row, default=str)
    for path in root.rglob("*"):
        if path.is_file():
            assert secret.encode() not in path.read_bytes(), path
    assert secret not in capfd.readouterr().err


# -- 5. exports -------------------------------------------------------------------------------

FORMULAS = ['=HYPERLINK("http://x","y")', "=cmd|' /C calc'!A0", "+1+1", "-2+3", "@SUM(A1)"]


def test_csv_and_excel_exports_neutralise_formula_cells(tmp_path):
    frame = pl.DataFrame({"title": [*FORMULAS, "plain"], "price": [-1.5, 2, 3, 4, 5, 6]})
    text = export.write_csv(frame).decode()
    cells = pl.read_csv(io.StringIO(text))["title"].to_list()
    assert cells[:5] == ["'" + f for f in FORMULAS] and cells[5] == "plain"
    assert pl.read_csv(io.StringIO(text))["price"][0] == -1.5  # numbers stay numbers
    with pytest.raises(FileNotFoundError):
        export.write_csv(frame, tmp_path / "no" / "such" / "x.csv")
    assert not (tmp_path / "no").exists()
    xlsx = tmp_path / "x.xlsx"
    export.write_excel(frame, xlsx)
    with zipfile.ZipFile(xlsx) as archive:
        sheet = archive.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet  # no formula anywhere
    back = pl.read_excel(xlsx, engine="calamine")
    assert back["title"].to_list()[:5] == ["'" + f for f in FORMULAS]


def test_every_csv_writer_goes_through_the_safe_one():
    """No module writes CSV but stockroom.export (benchmarks write their own synthetic input)."""
    offenders = []
    for folder in ("lib", "jobs", "app_pages"):
        for path in (config.PROJECT_ROOT / folder).rglob("*.py"):
            text = path.read_text()
            if path.name != "export.py" and re.search(r"(?<!export)\.(write_csv|to_csv)\(", text):
                offenders.append(str(path))
    assert not offenders


# -- 6. the audit log -------------------------------------------------------------------------


def _audited(root: Path) -> sa.Engine:
    eng = workbench.engine(root)
    repo.set_settings(eng, "sku", "A", actor="Ana", reason="test", lead_time_days=7)
    repo.set_settings(eng, "sku", "B", actor="Bruno", reason="test", lead_time_days=9)
    repo.set_settings(eng, "sku", "C", actor="Carla", reason="test", lead_time_days=3)
    return eng


def _refused(eng: sa.Engine, sql: str, **params) -> str:
    with pytest.raises(sa.exc.DBAPIError) as caught, eng.begin() as conn:
        conn.execute(sa.text(sql), params)
    return str(caught.value)


def test_the_audit_log_refuses_rewrites_and_verify_names_the_first_forged_row(tmp_path):
    eng = _audited(tmp_path)
    assert audit.verify(eng).ok and audit.verify(eng).rows == 3
    assert "append-only" in _refused(eng, "UPDATE audit_log SET actor = 'x' WHERE id = 2")
    assert "append-only" in _refused(eng, "DELETE FROM audit_log WHERE id = 2")
    row = dict(
        eng.connect().execute(sa.text("SELECT * FROM audit_log WHERE id = 2")).first()._mapping
    )
    replace = (
        "INSERT OR REPLACE INTO audit_log (id, at, actor, entity, entity_key, old, new, reason, "
        "prev_hash, hash) VALUES (:id, :at, 'mallory', :entity, :entity_key, :old, :new, "
        ":reason, :prev_hash, :hash)"
    )
    refused = _refused(eng, replace, **row)
    assert "append-only" in refused or "extend the chain" in refused
    backdated = (
        "INSERT INTO audit_log (at, actor, entity, entity_key, reason, prev_hash, hash) VALUES "
        "('2001-01-01 00:00:00.000000', 'mallory', 'x', 'y', 'z', :prev, :prev)"
    )
    assert "extend the chain" in _refused(eng, backdated, prev=audit.head(eng)[1])
    assert audit.verify(eng).ok
    # someone with the file drops the guards and rewrites row 2: verify names it
    with eng.begin() as conn:
        conn.execute(sa.text("DROP TRIGGER audit_log_no_update"))
        conn.execute(sa.text("UPDATE audit_log SET actor = 'mallory' WHERE id = 2"))
    verdict = audit.verify(eng)
    assert verdict.first_broken == 2 and "does not match its hash" in verdict.problem
    assert verdict.missing_guards == ("audit_log_no_update",)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "stockroom_jobs.cli",
            "audit",
            "verify",
            "--data-root",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1 and "BROKEN at row 2" in done.stderr


def test_the_audit_log_on_postgresql_refuses_truncate(tmp_path, postgres, monkeypatch):
    monkeypatch.setenv("STOCKROOM_DB_URL", postgres)
    eng = _audited(tmp_path)
    assert audit.verify(eng).ok
    assert "append-only" in _refused(eng, "TRUNCATE audit_log")
    assert "append-only" in _refused(eng, "UPDATE audit_log SET actor = 'x'")
    assert "extend the chain" in _refused(
        eng,
        "INSERT INTO audit_log (at, actor, entity, entity_key, prev_hash, hash) VALUES "
        "(now() - interval '1 year', 'm', 'x', 'y', :p, :p)",
        p=audit.head(eng)[1],
    )
    workbench.reset_engines()


def test_the_cli_signs_with_the_os_user(tmp_path, monkeypatch):
    monkeypatch.setenv("STOCKROOM_USER", "dana.ops")
    workbench.engine(tmp_path)
    done = subprocess.run(
        [
            sys.executable, "-m", "stockroom_jobs.cli", "po", "add", "--data-root", str(tmp_path),
            "--sku", "A", "--supplier", "Acme", "--quantity", "5", "--expected", "2030-01-10",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    lines = repo.purchase_order_lines(workbench.engine(tmp_path))
    assert lines["created_by"].to_list() == ["dana.ops"]


# -- 8/9. run records that tell the truth -----------------------------------------------------


def test_retries_and_their_causes_are_in_the_run_record(tmp_path):
    from stockroom import cards
    from stockroom.sim.marketplace import SimConfig, simulate
    from stockroom.sim.server import MarketServer, load_card_json

    listings = next(simulate(SimConfig(listings=300, sellers=5, days=1)).days()).listings
    srv = MarketServer(listings, load_card_json(cards.BUNDLED / "api_json" / "cards"))
    with srv:
        srv.inject("/v2/cards?page=1&pageSize=250", "503", "503")
        ingest_card_api(srv.base_url, tmp_path, snapshot_date=DAY, min_interval=0)
        empty = MarketServer(listings, [])
        with empty, pytest.raises(EmptySource, match="no rows for products"):
            ingest_card_api(empty.base_url, tmp_path / "e", snapshot_date=DAY, min_interval=0)
    run = workbench.runs(workbench.engine(tmp_path), limit=1).row(0, named=True)
    assert run["retries"] == 2 and run["retry_causes"] == "HTTP 503 x2"


def test_truncated_json_is_retried_and_names_the_url():
    class Truncated(_Recorder):
        seen = []

        def do_GET(self):  # noqa: N802
            type(self).seen.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b'{"data": [1, 2')

    server = _serve(Truncated)
    url = f"http://127.0.0.1:{server.server_port}/v2/cards"
    try:
        with (
            Fetcher(min_interval=0, attempts=3, backoff=0.01, respect_robots=False) as fetcher,
            pytest.raises(FetchError, match=f"GET {url}.*not complete JSON.*gave up after 3"),
        ):
            fetcher.get_json(url)
        assert len(Truncated.seen) == 3
    finally:
        server.shutdown()


def test_a_retry_after_above_the_limit_fails_saying_so(monkeypatch):
    class Busy(_Recorder):
        def do_GET(self):  # noqa: N802
            self.send_response(429)
            self.send_header("Retry-After", "3600")
            self.end_headers()

    monkeypatch.setenv("STOCKROOM_MAX_RETRY_AFTER", "60")
    server = _serve(Busy)
    try:
        started = time.perf_counter()
        with (
            Fetcher(min_interval=0, respect_robots=False) as fetcher,
            pytest.raises(FetchError, match="wait 3,600 s before retrying, above the 60 s"),
        ):
            fetcher.get(f"http://127.0.0.1:{server.server_port}/x")
        assert time.perf_counter() - started < 5
    finally:
        server.shutdown()


def test_the_forecast_run_is_recorded_from_its_start(tmp_path):
    from stockroom_jobs.forecast import run_forecast
    from tests.test_forecast_job import orders

    olist_copy = tmp_path  # a small shop: three SKUs, 200 days
    land_orders(tmp_path, orders(range(0, 200), "steady", 3) + orders(range(0, 9), "new", 1))

    seen = []
    stages = []  # when each stage was announced

    def step(message: str) -> None:
        stages.append(datetime.now(UTC))
        if message.startswith("fitting"):
            seen.append(workbench.runs(workbench.engine(olist_copy), limit=1, job="forecast"))

    run_forecast(olist_copy, on_step=step)
    assert seen and seen[0]["status"][0] == "running"  # there while fitting
    logged = workbench.runs(workbench.engine(olist_copy), limit=1, job="forecast")
    assert logged["status"][0] == "succeeded"
    # The record spans every stage: opened before the first was announced, closed after the last.
    assert logged["started_at"][0] <= stages[0] and logged["finished_at"][0] >= stages[-1]


# -- 10/11. CLI mistakes ----------------------------------------------------------------------


def _cli(*args: str, root: Path | None = None) -> subprocess.CompletedProcess:
    env = {**__import__("os").environ, "COLUMNS": "400"}
    if root is not None:
        env["STOCKROOM_DATA_ROOT"] = str(root)
    return subprocess.run(
        [sys.executable, "-m", "stockroom_jobs.cli", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )


def test_cli_mistakes_fail_loudly(olist_root, tmp_path):
    out = _cli("snapshots", "nosuchtable", root=olist_root)
    assert out.returncode == 2 and "no table 'nosuchtable'" in out.stderr
    out = _cli("report", "../../x", root=olist_root)
    assert out.returncode == 1 and "unknown report '../../x'" in out.stderr
    out = _cli("report", "seller_concentration", "--as-of", "2030-01-01", root=olist_root)
    assert out.returncode == 1 and "after the newest orders snapshot" in out.stderr
    out = _cli("ingest", "olist", str(tmp_path / "no" / "such" / "dir"), root=tmp_path / "r")
    assert out.returncode == 1 and str(tmp_path / "no" / "such" / "dir") in out.stderr
    typo = tmp_path / "typo-root"
    out = _cli("forecast", "--data-root", str(typo))
    assert out.returncode == 2 and "holds no Stockroom data" in out.stderr
    assert not typo.exists()
    target = tmp_path / "nonexistent" / "dir" / "x.csv"
    out = _cli("procure", "--export", str(target), root=olist_root)
    assert out.returncode != 0 and not (tmp_path / "nonexistent").exists()


def test_the_lock_file_pins_every_artefact_by_hash():
    text = (config.PROJECT_ROOT / "requirements.lock").read_text()
    pins = [ln for ln in text.splitlines() if "==" in ln and not ln.lstrip().startswith("#")]
    blocks = text.split("==")[1:]
    assert pins and all("--hash=sha256:" in b.split("\n    # via")[0] for b in blocks)
