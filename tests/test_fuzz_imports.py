"""Property-based tests (Hypothesis): generated CSV, Excel and JSON thrown at the imports.

Invariants, for every generated input:
* either the run lands exactly the valid rows and quarantines the rest with a reason (rows read =
  landed + quarantined, and the snapshot holds exactly the landed rows), or it fails with an
  :class:`InputError` naming the file (and row/column where there is one);
* on failure nothing stored changes (the snapshot files are byte-identical);
* no landed price is non-finite or negative, and no landed text holds a control character.

The example counts are printed in the closing note of issue 14 (``--hypothesis-show-statistics``).
"""

from __future__ import annotations

import http.server
import json
import math
import threading
from datetime import date
from pathlib import Path

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stockroom import export, store, workbench
from stockroom.errors import InputError, StockroomError
from stockroom.ingest.http import FetchError
from stockroom_jobs.ingest import ingest_card_api, ingest_listings_files
from tests.test_ingest_files import fingerprint

DAY = date(2024, 6, 27)
FUZZ = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

numbers = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(-(10**6), 10**9).map(str),
    st.sampled_from(["1,50", "1.234,50", "$1,097.00", "1,500", "1e400", "-0", "12 €", "", " "]),
)
text = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=30)
row = st.fixed_dictionaries(
    {
        "platform": st.sampled_from(["ebay", "EBAY", "shopify", "", "blokpax"]),
        "seller_id": st.sampled_from(["a", "b", "", "c d"]),
        "sku": st.one_of(text, st.sampled_from(["A1", "A1", "B2"])),  # duplicates happen
        "quantity": numbers,
        "price": numbers,
        "notes": text,
    }
)


def _invariants(root: Path, before: dict, outcome) -> None:
    if isinstance(outcome, InputError):
        assert outcome.problems and all(p.file for p in outcome.problems)
        assert fingerprint(root) == before, "a failed import changed what was stored"
        return
    run = outcome
    assert run.rows_read == run.rows_landed + run.rows_quarantined
    landed = store.read_snapshot(root, "listings", DAY)
    assert landed.height == run.rows_landed
    assert landed["price"].is_finite().all() and (landed["price"] >= 0).all()
    for column in ("sku", "seller_id", "notes"):
        assert not landed[column].str.contains(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]").any()
    bad = workbench.quarantined(workbench.engine(root), run.run_id, limit=100_000)
    assert bad["reason"].is_not_null().all()
    assert bad.select("source_file", "source_row").unique().height == run.rows_quarantined


def _land(path: Path, root: Path):
    try:
        return ingest_listings_files([path], root, snapshot_date=DAY, max_bad_share=1.0)
    except InputError as exc:
        return exc


@FUZZ
@given(rows=st.lists(row, max_size=25), delimiter=st.sampled_from([",", ";", "\t", "|"]))
def test_generated_csv(tmp_path_factory, rows, delimiter):
    folder = tmp_path_factory.mktemp("csv")
    root = folder / "root"
    path = folder / "export.csv"
    pl.DataFrame(rows, schema=dict.fromkeys(row_keys(), pl.String)).write_csv(
        path, separator=delimiter
    )
    before = fingerprint(root) if root.exists() else {}
    _invariants(root, before, _land(path, root))


@settings(FUZZ, max_examples=20)
@given(rows=st.lists(row, min_size=1, max_size=15))
def test_generated_excel(tmp_path_factory, rows):
    folder = tmp_path_factory.mktemp("xlsx")
    root = folder / "root"
    path = folder / "export.xlsx"
    export.write_excel(pl.DataFrame(rows, schema=dict.fromkeys(row_keys(), pl.String)), path)
    _invariants(root, {}, _land(path, root))


def row_keys() -> list[str]:
    return ["platform", "seller_id", "sku", "quantity", "price", "notes"]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text, inner, max_size=3),
    max_leaves=8,
)
card = st.fixed_dictionaries(
    {"id": st.one_of(text, st.sampled_from(["base1-4", "base1-4", "xy-1"]))},
    optional={"name": json_values, "number": json_values, "rarity": json_values,
              "set": json_values},
)  # fmt: skip
body = st.one_of(
    st.fixed_dictionaries({"data": st.lists(card, max_size=8)}),
    json_values,
    st.binary(max_size=40),  # not JSON at all
)


class _Catalog(http.server.BaseHTTPRequestHandler):
    payload = b"{}"

    def do_GET(self):  # noqa: N802
        page = int(self.path.split("page=")[1].split("&")[0]) if "page=" in self.path else 1
        data = type(self).payload if page == 1 else b'{"data": []}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@settings(FUZZ, max_examples=25)
@given(payload=body)
def test_generated_json_catalog(tmp_path_factory, payload):
    root = tmp_path_factory.mktemp("json") / "root"
    raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    handler = type("Catalog", (_Catalog,), {"payload": raw})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True).start()
    try:
        run = ingest_card_api(
            f"http://127.0.0.1:{server.server_port}",
            root,
            snapshot_date=DAY,
            min_interval=0,
            attempts=2,
            backoff=0.01,
        )
    except (StockroomError, FetchError) as exc:
        assert str(exc)
        assert not (root / "snapshots").exists() or not list(
            (root / "snapshots").rglob("*.parquet")
        )
        return
    finally:
        server.shutdown()
        server.server_close()
    assert run.rows_read == run.rows_landed + run.rows_quarantined
    landed = store.read_snapshot(root, "products", DAY)
    assert landed.height == run.rows_landed and landed["sku"].is_unique().all()
    assert not any(isinstance(v, float) and math.isnan(v) for v in landed["sku"].to_list())
