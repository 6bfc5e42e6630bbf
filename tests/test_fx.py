"""Money in one reporting currency: ECB reference rates, conversion at each line's day, and
no sum across currencies without it (stockroom.fx, stockroom.sales)."""

from __future__ import annotations

import csv
import functools
import http.server
import io
import subprocess
import sys
import threading
import zipfile
from datetime import date

import pytest
from streamlit.testing.v1 import AppTest

from stockroom import concentration, fx, sales, store
from stockroom.config import PROJECT_ROOT
from stockroom.db import connect
from stockroom.errors import StockroomError
from tests.conftest import land_orders

# Friday 24 August 2018, Saturday 25 (no ECB rate: Friday's applies), Monday 27
ROWS = [
    (date(2018, 8, 24), "o1", "alice", "A", 2, 10.0),  # USD
    (date(2018, 8, 25), "o2", "bob", "A", 1, 100.0),  # BRL, on a Saturday
    (date(2018, 8, 27), "o3", "carol", "B", 1, 50.0),  # EUR
    (date(2018, 8, 27), "o4", "alice", "B", 3, 20.0),  # BRL
]
CURRENCIES = {"o1": "USD", "o2": "BRL", "o3": "EUR", "o4": "BRL"}
WINDOW = sales.make_window(date(2018, 8, 27), 10)


@functools.cache
def ecb_by_hand() -> dict[tuple[str, str], float]:
    """(day, currency) -> units per EUR, read from the bundled file with the csv module."""
    with zipfile.ZipFile(fx.bundled_file()) as archive:
        text = archive.read(archive.namelist()[0]).decode()
    out = {}
    for row in csv.DictReader(io.StringIO(text)):
        for currency, value in row.items():
            if currency and currency != "Date" and value not in ("N/A", ""):
                out[(row["Date"], currency)] = float(value)
    return out


@pytest.fixture
def mixed(tmp_path):
    land_orders(tmp_path, ROWS, {"A": "cards", "B": "toys"}, CURRENCIES)
    return tmp_path


def report_in(root, currency: str) -> None:
    (root / "stockroom.toml").write_text(f'reporting_currency = "{currency}"\n')


def test_bundled_rates_are_the_ecb_file():
    rates = fx.bundled_rates()
    by_hand = ecb_by_hand()
    sample = rates.filter(rates["day"] == date(2018, 8, 24))
    for row in sample.iter_rows(named=True):
        if row["currency"] == "EUR":
            assert row["per_eur"] == 1.0
        else:
            assert row["per_eur"] == by_hand[("2018-08-24", row["currency"])]
    assert set(sample["currency"]) == {c for d, c in by_hand if d == "2018-08-24"} | {"EUR"}
    assert rates.filter(rates["day"] == date(2018, 8, 25)).is_empty()  # a Saturday


def test_two_currencies_are_never_summed_without_a_reporting_currency(mixed):
    with pytest.raises(fx.MixedCurrencyError, match="BRL, EUR, USD.*reporting_currency"):
        sales.sales(connect(mixed), WINDOW, ("seller_id",))
    with pytest.raises(fx.MixedCurrencyError):
        concentration.summary(connect(mixed), WINDOW)
    # one currency in the window (Friday's USD line alone) is summed as it is
    friday = sales.make_window(date(2018, 8, 24), 1)
    alone = sales.sales(connect(mixed), friday, ("seller_id",))
    assert alone.rows() == [("alice", 2, 20.0, 1, 1)]
    assert sales.currencies(connect(mixed)) == "BRL/EUR/USD"


def test_mixed_currency_fixture_converts_at_the_stated_rates(mixed):
    report_in(mixed, "EUR")
    con = connect(mixed)
    target = sales.reporting(con)
    assert target.currency == "EUR" and target.source == fx.BUNDLED
    assert target.rates_to == fx.bundled_rates()["day"].max()
    assert "ECB reference rate" in target.note() and str(target.rates_to) in target.note()
    rate = ecb_by_hand()
    want = {
        "alice": 2 * 10.0 / rate[("2018-08-24", "USD")] + 3 * 20.0 / rate[("2018-08-27", "BRL")],
        "bob": 100.0 / rate[("2018-08-24", "BRL")],  # Saturday: Friday's rate
        "carol": 50.0,  # already in EUR: not converted
    }
    got = sales.sales(con, WINDOW, ("seller_id",))
    assert dict(zip(got["seller_id"], got["revenue"], strict=True)) == pytest.approx(want)
    summary = concentration.summary(con, WINDOW)
    total = sum(want.values())
    assert summary["hhi"] == pytest.approx(sum((100 * v / total) ** 2 for v in want.values()))
    # to BRL: the same lines, the other way round (through the euro, on each line's day)
    report_in(mixed, "BRL")
    brl = sales.sales(connect(mixed), WINDOW, ("seller_id",))
    assert dict(zip(brl["seller_id"], brl["revenue"], strict=True))["carol"] == pytest.approx(
        50.0 * rate[("2018-08-27", "BRL")]
    )
    assert sales.currencies(connect(mixed)) == "BRL"


def test_a_currency_without_a_rate_is_named(tmp_path):
    land_orders(tmp_path, [(date(2018, 8, 24), "o1", "alice", "A", 1, 5.0)], None, {"o1": "XAU"})
    report_in(tmp_path, "EUR")
    with pytest.raises(StockroomError, match="no ECB reference rate for XAU on or before"):
        sales.sales(connect(tmp_path), WINDOW, ("seller_id",))
    report_in(tmp_path, "XYZ")
    with pytest.raises(StockroomError, match="reporting currency XYZ has no ECB"):
        connect(tmp_path)
    report_in(tmp_path, "euro")
    with pytest.raises(StockroomError, match="stockroom.toml: reporting_currency"):
        connect(tmp_path)


def ecb_zip(rows: list[str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("eurofxref-hist.csv", "\n".join(["Date,USD,BRL,", *rows]) + "\n")
    return buffer.getvalue()


@pytest.fixture
def ecb_server(tmp_path):
    """A real HTTP server on 127.0.0.1 serving a folder (the ECB's file is put there)."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield tmp_path, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def stockroom(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "stockroom_jobs.cli", *args],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_landed_rates_replace_the_bundled_ones(mixed, ecb_server):
    folder, url = ecb_server
    (folder / "eurofxref-hist.zip").write_bytes(
        ecb_zip(["2018-08-27,2.0,4.0,", "2018-08-24,2.0,5.0,"])
    )
    done = stockroom("ingest", "fx-rates", f"{url}/eurofxref-hist.zip", "--data-root", str(mixed))
    assert done.returncode == 0, done.stderr
    assert store.snapshot_dates(mixed, "fx_rates") == [date(2018, 8, 27)]
    manifest = store.read_manifest(mixed, "fx_rates", date(2018, 8, 27))
    assert manifest["sources"][0]["path"].endswith("/eurofxref-hist.zip")
    report_in(mixed, "EUR")
    con = connect(mixed)
    assert sales.reporting(con).source == "fx_rates snapshot of 2018-08-27"
    got = sales.sales(con, WINDOW, ("seller_id",))
    # alice: 20 USD / 2.0 + 60 BRL / 4.0; bob: 100 BRL / 5.0 (Friday); carol: 50 EUR
    want = {"alice": 10.0 + 15.0, "bob": 20.0, "carol": 50.0}
    assert dict(zip(got["seller_id"], got["revenue"], strict=True)) == pytest.approx(want)

    # a broken file fails the run naming the file, line and column; nothing is replaced
    (folder / "broken.zip").write_bytes(ecb_zip(["2018-08-28,2.1,oops,"]))
    bad = stockroom("ingest", "fx-rates", f"{url}/broken.zip", "--data-root", str(mixed))
    assert bad.returncode != 0
    assert "broken.zip: line 2, column BRL: not a rate" in bad.stderr + bad.stdout
    assert store.snapshot_dates(mixed, "fx_rates") == [date(2018, 8, 27)]


def test_pages_refuse_mixed_money_and_state_the_rates(mixed, monkeypatch):
    monkeypatch.setenv("STOCKROOM_DATA_ROOT", str(mixed))
    at = AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=120).run()
    assert not at.exception
    assert "cannot be summed across currencies" in at.error[0].value
    assert "reporting_currency" in at.error[0].value
    report_in(mixed, "EUR")
    at = AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=120).run()
    assert not at.exception and not at.error
    assert "converted to EUR at the ECB reference rate" in at.caption[0].value
    con = connect(mixed)
    window = sales.make_window(date(2018, 8, 27), 365, date(2018, 8, 24))
    pooled = concentration.summary(con, window)
    shown = {m.label: m.value for m in at.metric}
    assert shown["HHI, pooled"] == f"{pooled['hhi']:,.0f}"
    at.switch_page("app_pages/supply.py").run()
    assert not at.exception and "converted to EUR" in at.caption[0].value
