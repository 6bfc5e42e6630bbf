"""Isolation as an attacker tries it: signed in as Acme's admin (every permission), walk every
page with Globex's SKU, PO number, item id, company id and data root in the query string and
the session, and run the CLI on Acme with Globex's ids; nothing of Globex is ever shown, and
Globex's data is not changed. On SQLite (a file per company) and on PostgreSQL (one database,
row-level security)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import zipfile
from datetime import date, timedelta

import polars as pl
import pytest
import sqlalchemy as sa
from streamlit.testing.v1 import AppTest

from stockroom import audit, config, store, tenancy, vault, workbench
from stockroom.procurement import repo as po_repo
from stockroom.resale import repo as resale_repo
from tests.conftest import land_orders
from tests.test_access import AUTH, signed_in
from tests.test_procurement_plan import AS_OF, build_shop

APP = config.PROJECT_ROOT / "app.py"
#: every page the app can list, read from app.py (a page added later is walked too)
PAGES = sorted(set(re.findall(r'"(app_pages/[a-z_]+\.py)"', APP.read_text())))
ACME_ADMIN = "ada@acme.example"
B_SKU, B_PO, B_ITEM = "GLOBEX-SKU-4471", "PO-GLOBEX-7731", "globex-lot-1"
B_TOKEN = "globex-token-9c1e"
#: what only Globex's data says (its name, supplier, seller, warehouse, category, lot, people):
#: the attacker types Globex's ids, never this word, so any "quetzal" shown is a leak (an id
#: typed may be echoed back in a "not found"; the facts behind it never are)
SECRET = "quetzal"
MARKERS = (SECRET, B_TOKEN)
#: the attacker's query strings: Globex's ids where a page might look them up
ATTACKS = [
    {},
    {"sku": B_SKU},
    {"po": B_PO, "po_number": B_PO},
    {"item": B_ITEM, "item_id": B_ITEM},
    {"company": "globex", "company_id": "globex"},
]


def land_market(root, sku: str, listing: str) -> None:
    """A few days of one item on StockX and eBay (the market pages' and commands' input)."""
    from datetime import UTC, datetime

    for back in range(3):
        day = AS_OF - timedelta(days=back)
        frame = pl.DataFrame(
            {
                "sku": [sku, sku],
                "platform": ["stockx", "ebay"],
                "ask_price": [120.0, 125.0],
                "bid_price": [None, None],
                "lowest_ask": [110.0 + back, 118.0],
                "highest_bid": [100.0, 99.0],
                "last_sale_price": [105.0, 112.0],
                "last_sale_at": [datetime(day.year, day.month, day.day, tzinfo=UTC)] * 2,
                "sales_30d": [12, 4],
                "volatility": [0.05, 0.08],
                "fee_share": [0.12, 0.13],
                "currency": ["USD", "USD"],
                "platform_listing_id": [f"{listing}-sx", f"{listing}-eb"],
                "platform_specific": [None, None],
            },
            schema_overrides={"bid_price": pl.Float64, "platform_specific": pl.String},
        )
        store.write_snapshot(root, "market", frame, day, run_id="market", sources=[])


def resale_lot(root, lot_id: str, name: str, house: str, actor: str) -> None:
    """One auction lot of one piece, landed and snapshotted (the resale book's input)."""
    eng = workbench.engine(root)
    lots = pl.DataFrame(
        {
            "lot_id": [lot_id],
            "auction_house": [house],
            "acquired_on": [date(2024, 6, 1)],
            "name": [name],
            "quantity": [1],
            "hammer": [10.0],
            "premium": [0.0],
            "tax": [0.0],
            "shipping": [0.0],
            "currency": ["USD"],
        }
    )
    resale_repo.add_lots(eng, lots, actor=actor, reason="bought")
    resale_repo.snapshot(root, eng, AS_OF, run_id=f"resale-{lot_id}")


def build_globex(root) -> None:
    """Globex's own business: orders of its SKU, a stock snapshot, an open PO, a resale lot,
    an API token and a settings file; every id carries the word Globex."""
    rows = [
        (AS_OF - timedelta(days=d), f"G-{d}", "globex-seller", B_SKU, 2, 9.5) for d in range(90)
    ]
    land_orders(root, rows, {B_SKU: "globex_gadgets"})
    stock = pl.DataFrame(
        {
            "seller_id": "quetzal-seller",
            "location": "quetzal-wh",
            "sku": [B_SKU],
            "on_hand": [5],
            "reserved": [0],
            "unit_cost": [3.0],
            "currency": ["USD"],
        },
        schema_overrides={"on_hand": pl.Int32, "reserved": pl.Int32},
    )
    store.write_snapshot(root, "stock", stock, AS_OF, run_id="globex", sources=[])
    eng = workbench.engine(root)
    po_repo.place_order(
        eng,
        po_number=B_PO,
        supplier="Quetzal Supply",
        order_date=AS_OF - timedelta(days=1),
        lines=[po_repo.OrderLine(B_SKU, 40, AS_OF + timedelta(days=9))],
        actor="gina@quetzal.example",
        reason="quetzal restock",
    )
    resale_lot(root, B_ITEM, "Quetzal brass lamp", "Quetzal Auctions", "gina@quetzal.example")
    land_market(root, B_SKU, "quetzal-listing")
    vault.put(root, vault.secret_name("ebay"), B_TOKEN, actor="gina@quetzal.example")
    (root / "stockroom.toml").write_text('[alerts]\nemail = ["ops@quetzal.example"]\n')


def fingerprint(root) -> tuple:
    """What Globex holds: its audit chain head, row counts of every table, snapshot files."""
    eng = workbench.engine(root)
    with eng.connect() as conn:
        counts = tuple(
            conn.execute(sa.select(sa.func.count()).select_from(t)).scalar()
            for t in workbench.TENANT_TABLES
        )
    files = tuple(
        sorted(
            (str(p.relative_to(root)), p.stat().st_size)
            for p in (root / "snapshots").rglob("*")
            if p.is_file()
        )
    )
    return audit.head(eng), counts, files


def shown(at: AppTest) -> str:
    """Everything a page put on screen, as one lower-case text: texts, tiles, tables (every
    cell), select options, inputs, charts' data, errors."""
    parts = []
    for kind in (
        "title", "header", "subheader", "markdown", "caption", "text", "code", "info",
        "warning", "error", "success", "exception", "metric", "json", "latex",
    ):  # fmt: skip
        for e in at.get(kind):
            parts.append(str(getattr(e, "value", "")) + " " + str(getattr(e, "label", "")))
    for frame in at.dataframe:
        parts.append(frame.value.to_csv())
    for widget in ("selectbox", "multiselect", "radio"):
        for e in at.get(widget):
            parts.append(" ".join(map(str, e.options)))
    for widget in ("text_input", "text_area"):
        for e in at.get(widget):
            parts.append(str(e.value))
    for chart in at.get("plotly_chart"):
        parts.append(chart.proto.spec)
    return " ".join(parts).lower()


@pytest.fixture(scope="module")
def two_companies(tmp_path_factory):
    return make_install(tmp_path_factory.mktemp("attack"))


def make_install(install):
    """Acme (the Order today shop; Ada its admin) and Globex (:func:`build_globex`)."""
    acme = tenancy.add_company("acme", "Acme Trading", actor="ops", install_root=install)
    tenancy.add_company("globex", "Quetzal Resale", actor="ops", install_root=install)
    build_shop(acme)
    resale_lot(acme, "acme-lot-1", "Acme desk lamp", "Acme Auctions", "ops")
    land_market(acme, "A-order", "acme-listing")
    build_globex(install / "companies" / "globex")
    tenancy.invite("acme", ACME_ADMIN, "admin", actor="ops", install_root=install)
    tenancy.invite("globex", "gina@quetzal.example", "admin", actor="ops", install_root=install)
    return install


def walk_pages(install, monkeypatch) -> tuple[int, str]:
    """Every page x every attack, as Acme's admin; (requests made, all text shown)."""
    monkeypatch.setenv("STOCKROOM_DATA_ROOT", str(install))
    requests, seen = 0, []
    for page in PAGES:
        for params in ATTACKS:
            at = AppTest.from_file(str(APP), default_timeout=120)
            at.secrets["auth"] = AUTH
            at.user = signed_in(ACME_ADMIN)
            for key, value in params.items():
                at.query_params[key] = value
            # the session forged too: Globex picked as the company, its folder as the root
            at.session_state["company"] = "globex"
            at.session_state["data-root"] = str(install / "companies" / "globex")
            at.switch_page(page).run()
            requests += 1
            assert not at.exception, (page, params, at.exception)
            text = shown(at)
            assert "acme trading" in text, (page, params)  # the page ran, as Acme
            seen.append(text)
    return requests, " ".join(seen)


def walk_cli(install, out_dir) -> tuple[list[str], str]:
    """Every command that reads or changes a company's data, run on Acme (`--company acme`)
    with Globex's ids wherever a command takes an id; (the commands run, all their output and
    the files they wrote). Left out: `serve` (the page walk), `sim` and `bench` (no company
    data), the external `ingest` sources, and the install's own `company add|list|invite|remove`
    (refused with --company, checked below)."""
    day = str(AS_OF)
    commands = [
        ["po", "list", "--status", "all"],
        ["po", "receive", B_PO, B_SKU, "--actor", "mallory"],
        ["po", "receive", B_PO, B_SKU, "--cancel", "--actor", "mallory"],
        ["po", "add", "--po-number", B_PO, "--sku", B_SKU, "--quantity", "1", "--supplier",
         "acme-supplier", "--expected", "2024-07-30", "--actor", "mallory"],
        ["locations", "list"],
        ["sources", "list"],
        ["sources", "resume", "ebay"],
        ["alerts", "--all"],
        ["runs"],
        ["snapshots"],
        ["audit", "verify"],
        ["company", "secrets"],
        ["forecast", "--as-of", day],
        ["procure", "--as-of", day],
        ["daily", "--day", day, "--step", "plan"],
        ["schedule", "--once"],
        ["reconcile", "--as-of", day],
        ["map"],
        ["holdings", "--out", str(out_dir / "holdings.csv")],
        ["market", "best"],
        ["market", "reprice", "--out", str(out_dir / "reprice.csv")],
        ["market", "moves"],
        ["market", "summary"],
        ["market", "history", B_SKU],
        ["market", "fees"],
        ["market", "outlook"],
        ["market", "alerts"],
        ["resale", "summary"],
        ["resale", "aging"],
        ["resale", "platforms"],
        ["resale", "categories"],
        ["resale", "search", "lamp"],
        ["resale", "item", B_ITEM],
        ["resale", "export", str(out_dir / "resale.xlsx")],
        ["resale", "snapshot"],
        ["report", "order_today"],
        ["report", "resale"],
    ]  # fmt: skip
    env = {**os.environ, "STOCKROOM_DATA_ROOT": str(install)}

    def as_acme(command: list[str]) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "stockroom_jobs.cli", "--company", "acme", *command],
            capture_output=True,
            text=True,
            timeout=600,
            env=env,
        )

    out = []
    for command in commands:
        result = as_acme(command)
        out.append(result.stdout + result.stderr)
    for command in (["company", "list"], ["company", "invite", "globex", "m@evil.example"]):
        refused = as_acme(command)
        assert refused.returncode != 0 and "without --company" in refused.stderr, refused
        out.append(refused.stdout + refused.stderr)
    written = [*out_dir.rglob("*"), *(install / "companies" / "acme" / "reports").rglob("*")]
    for path in written:
        if path.suffix == ".xlsx":  # a zip of XML: read every part
            with zipfile.ZipFile(path) as book:
                out.extend(book.read(n).decode(errors="replace") for n in book.namelist())
        elif path.is_file():
            out.append(path.read_text(errors="replace"))
    return [" ".join(c) for c in commands], " ".join(out).lower()


def assert_nothing_of_globex(text: str) -> None:
    leaked = [m for m in MARKERS if m.lower() in text]
    assert not leaked, f"Globex leaked: {leaked}"


def check_isolation(install, monkeypatch) -> str:
    """Walk the pages and the CLI as Acme; nothing of Globex shows or changes."""
    globex = install / "companies" / "globex"
    before = fingerprint(globex)
    requests, text = walk_pages(install, monkeypatch)
    assert requests == len(PAGES) * len(ATTACKS) >= 60
    assert_nothing_of_globex(text)
    assert "a-order" in text  # Acme's own data was on screen (the walk was not empty)
    out_dir = install / "attacker-out"
    out_dir.mkdir()
    commands, output = walk_cli(install, out_dir)
    assert_nothing_of_globex(output)
    assert "acme" in output and "po-" in output
    assert fingerprint(globex) == before
    return f"{requests} page requests, {len(commands)} CLI commands, 0 leaks"


def test_acme_never_sees_or_changes_globex(two_companies, monkeypatch):
    print(f"isolation walk (SQLite): {check_isolation(two_companies, monkeypatch)}")


def test_on_postgresql_acme_never_sees_or_changes_globex(tmp_path, postgres, monkeypatch):
    monkeypatch.setenv("STOCKROOM_DB_URL", postgres)  # one database for both companies
    install = make_install(tmp_path / "install")
    print(f"isolation walk (PostgreSQL): {check_isolation(install, monkeypatch)}")
