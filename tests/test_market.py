"""Market data and pricing (stockroom.market): fees by hand, volatility and 30-day counts by
hand, best platform with its tie rule, repricing within floor and ceiling, price moves against
the simulator's injected truth, bad input refused with file, row and column."""

from __future__ import annotations

import math
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from stockroom import store
from stockroom.db import connect
from stockroom.errors import InputError
from stockroom.market import fees, views
from stockroom.market.prices import SalePath, market_stats
from stockroom.tables import MARKET

DAY = date(2025, 6, 2)
BUNDLED_FEES = fees.load()


def _priced(rows: list[tuple]) -> pl.DataFrame:
    frame = pl.DataFrame(
        rows, schema=["platform", "price", "day", "category"], orient="row"
    ).with_columns(pl.lit("USD").alias("currency"))
    out = fees.apply(frame, BUNDLED_FEES)
    return out.with_columns(
        fees.net_proceeds(
            pl.col("price"), pl.col("fee_share_total"), pl.col("fixed_fee"), pl.col("shipping")
        ).alias("net")
    )


def test_net_proceeds_by_hand_per_platform_tier_category_and_version():
    out = _priced(
        [
            ("stockx", 200.0, date(2018, 1, 1), "sneakers"),  # 200 x (1 - 0.09 - 0.03)
            ("alias", 200.0, date(2018, 1, 1), "sneakers"),  # 200 x (1 - 0.095 - 0.029) - 5
            ("ebay", 200.0, DAY, "sneakers"),  # athletic shoes >= 150: 8 %, no per-order fee
            ("ebay", 100.0, DAY, "sneakers"),  # under 150: 13.25 % + 0.40 since 2024-03-15
            ("ebay", 100.0, date(2023, 1, 1), "sneakers"),  # + 0.30 before
            ("ebay", 9.0, DAY, None),  # orders of 10 USD and under stay at 0.30
        ]
    )
    assert out["net"].round(4).to_list() == [176.0, 170.2, 184.0, 86.35, 86.45, 7.5075]
    assert out["fee_share_total"].to_list() == pytest.approx(
        [0.12, 0.124, 0.08, 0.1325, 0.1325, 0.1325]
    )


def test_price_for_net_inverts_net_proceeds():
    frame = pl.DataFrame({"p": [250.0], "f": [0.124], "x": [5.0], "s": [2.0]})
    net = frame.select(fees.net_proceeds(pl.col("p"), pl.col("f"), pl.col("x"), pl.col("s")))
    back = pl.DataFrame({"n": net.to_series()}).select(
        fees.price_for_net(pl.col("n"), pl.lit(0.124), pl.lit(5.0), pl.lit(2.0))
    )
    assert back.item() == pytest.approx(250.0)


def test_fees_for_a_platform_without_schedule_name_it():
    frame = pl.DataFrame(
        {"platform": ["stockx"], "currency": ["EUR"], "price": [10.0], "day": [DAY]}
    )
    with pytest.raises(InputError, match="stockx.*EUR"):
        fees.apply(frame, BUNDLED_FEES)


@pytest.mark.parametrize(
    ("cell", "value", "message"),
    [
        ("fee_share", "1.2", "fee_share"),
        ("fixed_fee", "-1", "fixed_fee"),
        ("platform", "ebya", "platform"),
        ("currency", "XXX", "currency"),
        ("effective_from", "yesterday", "effective_from"),
    ],
)
def test_bad_fee_schedule_is_refused_naming_file_row_and_column(tmp_path, cell, value, message):
    rows = BUNDLED_FEES.with_columns(pl.all().cast(pl.String))
    bad = rows.with_columns(
        pl.when(pl.int_range(pl.len()) == 2).then(pl.lit(value)).otherwise(pl.col(cell)).alias(cell)
    )
    path = tmp_path / "fees.csv"
    bad.write_csv(path)
    with pytest.raises(InputError) as err:
        fees.load(path)
    text = str(err.value)
    assert "fees.csv" in text and "row 3" in text and message in text


def _path(sales: list[tuple[str, int, float]], days: int) -> SalePath:
    start = date(2024, 1, 1)
    frame = pl.DataFrame(
        [(sku, start + timedelta(days=d), price) for sku, d, price in sales],
        schema=["sku", "day", "price"],
        orient="row",
    )
    return SalePath.from_sales(frame, end=start + timedelta(days=days - 1))


def test_sales_30d_counts_the_30_days_up_to_the_snapshot():
    path = _path([("a", 0, 10.0), ("a", 0, 12.0), ("a", 29, 11.0), ("a", 30, 11.0)], 31)
    stats = market_stats(path)
    assert stats["sales_30d"][29, 0] == 3  # days 0..29
    assert stats["sales_30d"][30, 0] == 2  # day 0 has left the window
    assert stats["last_sale_price"][30, 0] == 11.0
    assert stats["last_sale_day"][28, 0] == 0  # the last sale before day 29 was on day 0


def test_volatility_is_the_sample_std_of_log_changes_between_sale_days():
    # medians 100 (day 0), 110 (day 2), 99 (day 5): changes ln(1.1), ln(0.9) on days 2 and 5
    path = _path([("a", 0, 100.0), ("a", 2, 105.0), ("a", 2, 115.0), ("a", 5, 99.0)], 40)
    vol = market_stats(path)["volatility"][:, 0]
    expected = float(np.std([math.log(1.1), math.log(0.9)], ddof=1))
    assert vol[5] == pytest.approx(expected)
    assert math.isnan(vol[2])  # one change: undefined
    assert vol[31] == pytest.approx(expected)  # day 2 is still inside days 2..31
    assert math.isnan(vol[32])  # day 2 has left: one change again


def test_volatility_is_clipped_to_one():
    path = _path([("a", 0, 1.0), ("a", 1, 100.0), ("a", 2, 1.0)], 3)
    assert market_stats(path)["volatility"][2, 0] == 1.0


def _market_row(sku, platform, lowest, sales, ask=None, **extra):
    fee = {"stockx": 0.12, "ebay": 0.08, "alias": 0.124}[platform]
    return {
        "sku": sku,
        "platform": platform,
        "ask_price": ask,
        "bid_price": None,
        "lowest_ask": lowest,
        "highest_bid": None,
        "last_sale_price": lowest,
        "last_sale_at": None,
        "sales_30d": sales,
        "volatility": 0.05,
        "fee_share": fee,
        "currency": "USD",
        "platform_listing_id": f"{platform}-{sku}",
        "platform_specific": None,
        **extra,
    }


def _land(root: Path, rows: list[dict], stock: list[tuple] = (), day: date = DAY) -> None:
    frame = pl.DataFrame(rows, schema=MARKET.polars_schema)
    store.write_snapshot(root, "market", frame, day, run_id="t", sources=[])
    products = pl.DataFrame({"sku": sorted({r["sku"] for r in rows})}).with_columns(
        (pl.lit("Sneaker ") + pl.col("sku")).alias("title"),
        pl.lit("sneakers").alias("category"),
        pl.lit("sneakers").alias("category_source"),
        pl.lit("Nike").alias("brand"),
        pl.lit(None, pl.String).alias("gtin"),
        pl.lit(None, pl.Float64).alias("weight_g"),
    )
    store.write_snapshot(root, "products", products, day, run_id="t", sources=[])
    if stock:
        frame = pl.DataFrame(
            [("me", "home", sku, units, 0, cost, "USD") for sku, units, cost in stock],
            schema=["seller_id", "location", "sku", "on_hand", "reserved", "unit_cost", "currency"],
            orient="row",
        )
        store.write_snapshot(root, "stock", frame, day, run_id="t", sources=[])


def test_best_platform_highest_net_unless_a_faster_platform_is_within_the_tie_share(tmp_path):
    _land(
        tmp_path,
        [
            # A: eBay nets 184.00 (2 sales); StockX 206 nets 181.28, within 2 % (>= 180.32)
            # and sells 10 in 30 days: StockX wins the tie
            _market_row("A", "ebay", 200.0, 2),
            _market_row("A", "stockx", 206.0, 10),
            # B: eBay 184.00 against StockX 176.00 (below 180.32): eBay, the highest net
            _market_row("B", "ebay", 200.0, 2),
            _market_row("B", "stockx", 200.0, 10),
        ],
    )
    best = views.best_platform(connect(tmp_path), DAY, BUNDLED_FEES).sort("sku")
    a, b = best.rows(named=True)
    assert (a["best_platform"], a["net"], a["runner_up"]) == ("stockx", 181.28, "ebay")
    assert "sells faster" in a["why"]
    assert (b["best_platform"], b["net"], b["why"]) == ("ebay", 184.0, "highest net after fees")
    # with no tie allowance the highest net wins everywhere
    strict = views.best_platform(connect(tmp_path), DAY, BUNDLED_FEES, views.Rules(tie_share=0))
    assert strict.sort("sku")["best_platform"].to_list() == ["ebay", "ebay"]


def test_repricing_suggests_within_floor_and_ceiling_ordered_by_money_at_stake(tmp_path):
    _land(
        tmp_path,
        [
            _market_row("A", "stockx", 200.0, 5, ask=250.0),  # 25 % above: lower
            _market_row("B", "stockx", 200.0, 5, ask=250.0),  # cost floor above the market
            _market_row("C", "stockx", 200.0, 5, ask=250.0),  # the seller's ceiling binds
            _market_row("D", "stockx", 200.0, 5, ask=206.0),  # 3 % above: left alone
            _market_row("E", "stockx", 200.0, 0, ask=250.0),  # does not sell there: left alone
            _market_row("F", "stockx", 200.0, 5, ask=250.0),  # floor above our ask: hold
        ],
        stock=[("A", 2, 150.0), ("B", 1, 190.0), ("C", 4, 100.0), ("F", 1, 230.0)],
    )
    limits = pl.DataFrame(
        {"sku": ["C"], "floor": [None], "ceiling": [195.0]},
        schema={"sku": pl.String, "floor": pl.Float64, "ceiling": pl.Float64},
    )
    out = views.repricing(connect(tmp_path), DAY, BUNDLED_FEES, views.Rules(), limits)
    got = {r["sku"]: r for r in out.iter_rows(named=True)}
    assert set(got) == {"A", "B", "C", "F"}
    assert got["A"]["suggested_price"] == 199.99  # the lowest ask minus 0.01
    assert got["A"]["floor"] == round(150 / 0.88, 2)  # 170.45: the cost after 12 % fees
    assert got["A"]["at_stake"] == round(2 * round(199.99 * 0.88, 2), 2)
    assert got["B"]["suggested_price"] == round(190 / 0.88, 2)  # 215.91: never below cost
    assert got["C"]["suggested_price"] == 195.0  # never above the ceiling
    assert got["F"]["action"].startswith("hold") and got["F"]["at_stake"] == 0
    stakes = out["at_stake"].to_list()
    assert stakes == sorted(stakes, reverse=True)
    assert out["sku"][0] == "C"  # 4 units x 171.60 is the most money


def test_price_rules_file_errors_name_file_row_and_column(tmp_path):
    path = tmp_path / "price_rules.csv"
    path.write_text("sku,floor,ceiling\nA,10,20\nB,abc,30\n")
    with pytest.raises(InputError, match=r"price_rules.csv, row 2, column 'floor'"):
        views.load_price_rules(path)
    path.write_text("sku,floor,ceiling\nA,30,20\n")
    with pytest.raises(InputError, match="floor above the ceiling"):
        views.load_price_rules(path)


def test_market_table_refuses_shares_outside_0_1_and_duplicate_rows(tmp_path):
    row = _market_row("A", "stockx", 200.0, 1)
    with pytest.raises(InputError, match="volatility"):
        _land(tmp_path, [{**row, "volatility": 1.5}])
    with pytest.raises(InputError):
        _land(tmp_path, [row, row])
    with pytest.raises(InputError, match="lowest_ask"):
        _land(tmp_path, [{**row, "lowest_ask": -1.0}])
    assert store.snapshot_dates(tmp_path, "market") == []  # nothing stored


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    """The bundled StockX sales landed as a market (real sales, simulated order books)."""
    from stockroom_jobs.market import ingest_stockx_market

    root = tmp_path_factory.mktemp("market")
    ingest_stockx_market(None, root)
    return root


def test_price_moves_match_the_injected_moves_exactly(demo):
    truth = pl.read_parquet(demo / "sim" / "market_moves.parquet")
    con = connect(demo)
    first, last = con.execute(
        "SELECT min(snapshot_date), max(snapshot_date) FROM market_history"
    ).fetchone()
    found = views.price_moves(con, first, last, threshold=0.10)
    key = ["sku", "platform", "day"]
    hits = found.join(truth, on=key, how="inner")
    assert truth.height > 100
    assert hits.height == found.height == truth.height  # precision = recall = 1.0
    assert hits["change"].round(4).to_list() == hits["change_right"].round(4).to_list()


def test_the_demo_market_is_real_on_stockx_and_reads_as_of_any_day(demo):
    con = connect(demo, date(2018, 6, 30))
    day = views.market_day(con, date(2018, 6, 30))
    assert day == date(2018, 6, 30)
    snap = views.snapshot(con, day, BUNDLED_FEES)
    assert set(snap["platform"]) == {"stockx", "alias", "ebay", "shootstrayt"}
    # StockX's 30-day counts are the real sales of the 30 days to the day
    real = con.execute(
        """SELECT count(*) FROM orders WHERE platform = 'stockx'
           AND order_ts::DATE BETWEEN DATE '2018-06-01' AND DATE '2018-06-30'"""
    ).fetchone()[0]
    assert snap.filter(pl.col("platform") == "stockx")["sales_30d"].sum() == real


def test_cli_reprice_writes_a_bulk_edit_csv_and_settings_change_the_list(demo, tmp_path):
    out = tmp_path / "reprice.csv"
    cmd = [
        sys.executable,
        "-m",
        "stockroom_jobs.cli",
        "market",
        "reprice",
        "--data-root",
        str(demo),
        "--out",
        str(out),
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    listed = pl.read_csv(out)
    assert listed.height > 0 and {"platform_listing_id", "suggested_price"} <= set(listed.columns)
    assert (listed["suggested_price"] >= listed["floor"] - 0.005).all()
    (demo / "stockroom.toml").write_text("[market]\nreprice_above = 0.12\n")
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        fewer = pl.read_csv(out)
    finally:
        (demo / "stockroom.toml").unlink()
    assert done.returncode == 0, done.stderr
    assert 0 < fewer.height < listed.height
    assert (fewer["gap"] > 0.12).all()


def test_market_page_shows_the_item_the_lists_and_the_figures_of_the_library(demo, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from stockroom.config import PROJECT_ROOT

    monkeypatch.setenv("STOCKROOM_DATA_ROOT", str(demo))
    at = AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=120).run()
    at.switch_page("app_pages/market.py").run()
    assert not at.exception and not at.error
    con = connect(demo)
    day = views.market_day(con)
    outlook = views.outlook(con, day)
    assert outlook is not None  # landed by the job for its last day
    reprice = views.repricing(con, day, BUNDLED_FEES, outlook=outlook)
    lower = reprice.filter(pl.col("at_stake") > 0)
    tiles = {m.label: m.value for m in at.metric}
    assert tiles["Asks to lower"] == f"{lower.height:,}"
    assert tiles["At stake (USD)"] == f"{lower['at_stake'].sum():,.0f}"
    # the item shown first is the repricing list's top item, by name, with its platforms
    item = at.selectbox(key="market-item")
    assert item.value == lower["sku"][0]
    platforms = at.dataframe[0].value
    assert list(platforms.columns[:2]) == ["platform", "net_lowest_ask"]
    assert set(platforms["platform"]) == {"stockx", "alias", "ebay", "shootstrayt"}
    listed = at.dataframe[1].value  # the repricing tab
    assert list(listed.columns[:3]) == ["title", "platform", "suggested_price"]
    assert listed.iloc[0]["title"] == lower["title"][0]
    # as of an earlier day the market is that day's
    early = date(2018, 3, 1)
    at.sidebar.date_input[0].set_value(early).run()
    assert not at.exception
    assert any(str(early) in c.value for c in at.caption)


TOKEN = "sx-test-token-7c1e"


@pytest.fixture()
def api(demo):
    """The StockX-like market-data API serving the demo's last day (StockX rows)."""
    from stockroom.sim.marketdata import MarketDataServer

    con = connect(demo)
    day = views.market_day(con)
    rows = con.execute(
        "SELECT * EXCLUDE (snapshot_date) FROM market_history WHERE snapshot_date = ?", [day]
    ).pl()
    with MarketDataServer.from_market(
        rows, con.execute("SELECT * FROM products").pl(), token=TOKEN
    ) as server:
        yield server, rows.filter(pl.col("platform") == "stockx"), day


def _pull(root, server, **kw):
    from stockroom_jobs.market import ingest_market_api

    return ingest_market_api(
        server.base_url,
        root,
        query="presto",
        token=TOKEN,
        snapshot_date=DAY,
        backoff=0.01,
        **kw,
    )


def test_market_api_lands_every_variant_through_faults_and_never_writes_the_token(api, tmp_path):
    server, truth, _ = api
    search = "/v2/catalog/search?query=presto&pageSize=50"
    server.inject(search, "429", "503", "truncate")
    pid = server.search("presto", 1, None)["products"][0]["productId"]
    server.inject(f"/v2/catalog/products/{pid}/market-data?currencyCode=USD", "500", "drop")
    run = _pull(tmp_path, server)
    assert run.rows_landed > 0
    got = connect(tmp_path).execute("SELECT * FROM market ORDER BY sku").pl()
    want = truth.filter(pl.col("sku").str.to_lowercase().str.contains("presto")).sort("sku")
    assert got["sku"].to_list() == want["sku"].to_list()
    assert got["lowest_ask"].to_list() == want["lowest_ask"].to_list()
    assert got["sales_30d"].to_list() == want["sales_30d"].to_list()
    assert got["fee_share"].unique().to_list() == [0.12]  # StockX: 9 % + 3 %
    from stockroom import workbench

    runs = workbench.runs(workbench.engine(tmp_path), limit=1)
    assert runs["retries"][0] >= 5  # 429, 503, truncated, 500, dropped: each retried
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert TOKEN.encode() not in path.read_bytes(), path


def test_market_api_answer_missing_a_field_is_refused_naming_url_row_and_field(api, tmp_path):
    server, _, _ = api
    pid = server.search("presto", 1, None)["products"][0]["productId"]
    server.inject(f"/v2/catalog/products/{pid}/market-data?currencyCode=USD", "missing")
    with pytest.raises(InputError) as err:
        _pull(tmp_path, server)
    text = str(err.value)
    assert f"products/{pid}/market-data" in text and "row 1" in text
    assert "lowestAskAmount" in text
    assert store.snapshot_dates(tmp_path, "market") == []


def test_market_api_refused_token_fails_the_run_with_the_reason(api, tmp_path):
    from stockroom.ingest.http import Refused
    from stockroom_jobs.market import ingest_market_api

    server, _, _ = api
    with pytest.raises(Refused, match="401"):
        ingest_market_api(
            server.base_url, tmp_path, query="presto", token="wrong", snapshot_date=DAY
        )
    server.revoke()
    with pytest.raises(Refused, match="403"):
        _pull(tmp_path, server)
    assert store.snapshot_dates(tmp_path, "market") == []


def test_market_api_replaces_its_platform_and_carries_the_others_forward(api, demo, tmp_path):
    import shutil

    server, _, day = api
    root = tmp_path / "root"
    shutil.copytree(demo, root)
    from stockroom_jobs.market import ingest_market_api

    later = day + timedelta(days=1)
    ingest_market_api(server.base_url, root, query="presto", token=TOKEN, snapshot_date=later)
    con = connect(root, later)
    new = con.execute("SELECT platform, count(*) FROM market GROUP BY 1 ORDER BY 1").fetchall()
    old = dict(
        connect(root, day).execute("SELECT platform, count(*) FROM market GROUP BY 1").fetchall()
    )
    counts = dict(new)
    assert counts["alias"] == old["alias"] and counts["ebay"] == old["ebay"]
    assert 0 < counts["stockx"] < old["stockx"]  # only the items the query found


def test_price_alerts_fire_once_clear_and_rearm_through_a_real_webhook(tmp_path, webhook):
    """A watched item: its lowest ask falls 15 % to 170 (a move, and the buy target of 180
    reached); the next day it stays (the move clears, the target stays open and silent); then
    it rises above the target (cleared) and falls again (re-armed: sent again)."""
    hook, posted = webhook
    (tmp_path / "stockroom.toml").write_text(
        f'[alerts]\nwebhook = ["{hook}"]\n\n'
        '[[market.watch]]\nsku = "A"\nplatform = "stockx"\nbelow = 180.0\n'
    )

    def day(n: int, price: float) -> None:
        _land(tmp_path, [_market_row("A", "stockx", price, 3)], day=DAY + timedelta(days=n))

    def check() -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "stockroom_jobs.cli", "market", "alerts", "--data-root",
             str(tmp_path)],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip

    day(0, 200.0)
    day(1, 170.0)
    done = check()
    assert done.returncode == 0, done.stderr
    assert sorted(p["rule"] for p in posted) == ["price_move", "price_target"]
    move = next(p for p in posted if p["rule"] == "price_move")
    assert "-15.0%" in move["message"] and "Sneaker A" in move["message"]
    day(2, 171.0)
    assert check().returncode == 0
    assert len(posted) == 2  # the target holds (silent); the move is cleared
    day(3, 185.0)  # +8.2 %: not a move
    assert check().returncode == 0 and len(posted) == 2  # target left: cleared
    day(4, 175.0)
    assert check().returncode == 0
    assert [p["rule"] for p in posted[2:]] == ["price_target"]  # re-armed, sent again


def test_market_alerts_leave_other_rules_alone(tmp_path):
    from datetime import UTC, datetime

    from stockroom import alerts, workbench

    eng = workbench.engine(tmp_path)
    stockout = alerts.Condition("stockout", "X", "X runs out")
    alerts.update(eng, [stockout], datetime.now(UTC))
    alerts.update(eng, [], datetime.now(UTC), rules={"price_target", "price_move"})
    assert alerts.open_alerts(eng).filter(pl.col("status") == "open")["key"].to_list() == ["X"]


def test_a_trusted_rising_outlook_holds_the_ask_and_an_untrusted_one_does_not(tmp_path):
    from stockroom.market.price_forecast import Outlook

    _land(
        tmp_path,
        [_market_row("A", "stockx", 200.0, 5, ask=250.0), _market_row("B", "stockx", 200.0, 5,
                                                                       ask=250.0)],
        stock=[("A", 2, 150.0), ("B", 2, 150.0)],
    )  # fmt: skip
    forecasts = pl.DataFrame(
        {"sku": ["A", "B"], "last": [200.0, 200.0], "forecast_30d": [260.0, 210.0]}
    ).with_columns((pl.col("forecast_30d") / pl.col("last") - 1).alias("change"))
    con = connect(tmp_path)
    trusted = views.repricing(con, DAY, BUNDLED_FEES, outlook=Outlook(forecasts, True, {})).sort(
        "sku"
    )
    assert trusted["action"].to_list() == ["hold (rising)", "lower"]
    assert trusted["at_stake"][0] == 0 and trusted["forecast_30d"].to_list() == [260.0, 210.0]
    untrusted = views.repricing(con, DAY, BUNDLED_FEES, outlook=Outlook(forecasts, False, {}))
    assert untrusted["action"].to_list() == ["lower", "lower"]
    assert untrusted["forecast_30d"].is_null().all()


def _trend_sales(days: int, seed: int, drift: float, after: float | None = None) -> pl.DataFrame:
    """Daily sales of 40 items x 3 sizes; sneakers 0-19 drift by ``drift`` a day, the others
    are flat; noise 2 %. ``after`` replaces every price from day 300 on (the future)."""
    rng = np.random.default_rng(seed)
    start = date(2023, 1, 1)
    rows = []
    for g in range(40):
        for size in ("9", "10", "11"):
            level = 100.0 + 10 * g
            for d in range(days):
                rate = drift if g < 20 else 0.0
                for _ in range(rng.poisson(1.5)):
                    price = level * (1 + rate) ** d * (1 + rng.normal(0, 0.02))
                    if after is not None and d >= 300:
                        price = after
                    rows.append((f"Sneaker-{g}-{size}", start + timedelta(days=d), price))
    return pl.DataFrame(rows, schema=["sku", "day", "price"], orient="row")


def test_price_forecast_learns_a_trend_the_last_sale_misses():
    from stockroom.market import price_forecast

    sales = _trend_sales(360, seed=1, drift=0.004)  # +12.7 % over 30 days on half the items
    result = price_forecast.backtest(sales, date(2023, 1, 1) + timedelta(days=250))
    models = result["models"]
    assert models["price_forecast"]["mape"] < 0.8 * models["last_sale"]["mape"]
    assert result["ratios"]["mape_vs_best_baseline"] < 0.8


def test_price_outlook_reads_the_past_only():
    from stockroom.market import price_forecast

    day = date(2023, 1, 1) + timedelta(days=299)
    calm = price_forecast.outlook(_trend_sales(330, seed=2, drift=0.002), day)
    wild = price_forecast.outlook(_trend_sales(330, seed=2, drift=0.002, after=5.0), day)
    assert calm is not None and calm.check == wild.check
    assert calm.forecasts.equals(wild.forecasts)


def test_market_history_is_compacted_by_month_and_reads_the_same_without_it(tmp_path):
    import shutil

    for n, price in enumerate((200.0, 210.0, 190.0)):
        day = date(2025, 1, 30) + timedelta(days=n)  # Jan 30, Jan 31, Feb 1
        _land(tmp_path, [_market_row("A", "stockx", price, 1), _market_row("B", "ebay", 9.0, 1)],
              day=day)  # fmt: skip
    layout = store.read_layout(tmp_path, "market")
    assert [p.parent.name for p in layout.compacted] == ["month=2025-01", "month=2025-02"]
    query = "SELECT * FROM market_history ORDER BY snapshot_date, sku"
    compacted = connect(tmp_path).execute(query).pl()
    shutil.rmtree(tmp_path / "compacted")  # a read cache: the daily snapshots are all kept
    daily = connect(tmp_path).execute(query).pl()
    assert compacted.equals(daily) and compacted.height == 6
    assert compacted.filter(pl.col("sku") == "A")["lowest_ask"].to_list() == [200.0, 210.0, 190.0]


def test_pricecharting_lands_the_last_known_price_per_variant_and_grade(tmp_path):
    from stockroom_jobs.market import BUNDLED_PRICECHARTING, ingest_pricecharting

    run = ingest_pricecharting(None, tmp_path)
    source = pl.read_parquet(BUNDLED_PRICECHARTING)
    assert run.rows_landed == source.height
    con = connect(tmp_path)
    got = dict(
        con.execute(
            "SELECT sku, last_sale_price FROM market WHERE sku LIKE 'base1-1:1st-edition%'"
        ).fetchall()
    )
    want = source.filter((pl.col("card_id") == "base1-1") & (pl.col("variant") == "1st-edition"))
    price = dict(zip(want["grade"], want["price_usd"], strict=True))
    assert got["base1-1:1st-edition"] == price["ungraded"]
    assert got["base1-1:1st-edition:psa10"] == price["psa10"]
    day = views.market_day(con)
    assert views.best_platform(con, day, BUNDLED_FEES).is_empty()  # a guide is never the best
    bad = tmp_path / "prices.parquet"
    source.drop("grade").write_parquet(bad)
    with pytest.raises(InputError, match="grade"):
        ingest_pricecharting(bad, tmp_path / "other")


def test_best_platform_refuses_to_compare_nets_in_two_currencies(tmp_path):
    from stockroom.errors import StockroomError

    _land(
        tmp_path,
        [_market_row("A", "stockx", 200.0, 2), {**_market_row("A", "ebay", 180.0, 2),
                                                "currency": "EUR"}],
    )  # fmt: skip
    eur = BUNDLED_FEES.filter(pl.col("platform") == "ebay").with_columns(currency=pl.lit("EUR"))
    with pytest.raises(StockroomError, match="two currencies"):
        views.best_platform(connect(tmp_path), DAY, pl.concat([BUNDLED_FEES, eur]))
