"""The market benchmark: a year of market snapshots for many products on four platforms, and
the market answers (best platform, repricing list, one item's year of history, price moves)
through the library beside a hand-written DuckDB query over the same Parquet, in one run.

Storage (what is measured): one ``market`` snapshot per day holding the whole picture of that
day (every product x platform), landed through the store like every table (validated, atomic,
manifest), written in Parquet row groups of :data:`stockroom.store.ROW_GROUP_ROWS` rows sorted
by (sku, platform), so a one-item query reads one row group per day.

Synthetic data (seeded): per product a base price (log-normal around 250 USD); per platform a
lowest ask = base x the platform's premium x an AR(1) noise whose day-over-day change is kept
within 3 %; on 5 % of (product, platform) books one injected step of 18-35 % (the truth the
price-move detector is scored against); 2 % of products carry our ask on one platform.
"""

from __future__ import annotations

import resource
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import polars as pl

from stockroom import store
from stockroom.db import connect
from stockroom.market import fees, views
from stockroom.tables import MARKET

PLATFORMS = {"stockx": 1.04, "alias": 1.06, "ebay": 1.00, "shootstrayt": 0.99}
#: after eBay's per-order fee change of 2024-03-15, so one hand-written fee CASE holds all year
START = date(2024, 4, 1)


def generate(root: Path, products: int, days: int, seed: int = 18, on_step=None) -> dict:
    """Land ``days`` market snapshots of ``products`` x 4 platforms in ``root``; returns the
    truth of the injected moves (a frame) and the write time and size."""
    rng = np.random.default_rng(seed)
    skus = np.array([f"SNKR-{i // 10:05d}-{7 + (i % 10) * 0.5:g}" for i in range(products)])
    base = np.round(np.exp(rng.normal(np.log(250), 0.6, products)), 2)
    schedule = fees.load()
    titles = pl.DataFrame(
        {
            "sku": skus,
            "title": [f"Sneaker {s[5:10]} size {s[11:]}" for s in skus],
            "category": "sneakers",
            "category_source": "sneakers",
            "brand": np.where(np.arange(products) % 2 == 0, "Nike", "Adidas"),
            "gtin": None,
            "weight_g": None,
        }
    )
    ours = rng.random(products) < 0.02
    our_platform = rng.choice(list(PLATFORMS), products)
    stock = pl.DataFrame(
        {
            "seller_id": "bench",
            "location": "home",
            "sku": skus[ours],
            "on_hand": rng.integers(1, 5, int(ours.sum())).astype(np.int32),
            "reserved": np.zeros(int(ours.sum()), dtype=np.int32),
            "unit_cost": np.round(base[ours] * 0.7, 2),
            "currency": "USD",
        }
    )
    store.write_snapshot(root, "products", titles, START, run_id="bench", sources=[])
    store.write_snapshot(root, "stock", stock, START, run_id="bench", sources=[])
    state = {}
    moves = []
    for p in PLATFORMS:
        move_day = np.where(rng.random(products) < 0.05, rng.integers(5, days, products), -1)
        size = rng.uniform(0.18, 0.35, products) * rng.choice([-1.0, 1.0], products)
        state[p] = {"noise": np.zeros(products), "prev": None, "move_day": move_day, "size": size,
                    "step": np.ones(products)}  # fmt: skip
    written, started = 0, time.perf_counter()
    chunk: dict[date, pl.DataFrame] = {}
    for d in range(days):
        day = START + timedelta(days=d)
        frames = []
        for p, premium in PLATFORMS.items():
            s = state[p]
            s["noise"] = 0.8 * s["noise"] + rng.normal(0, 0.01, products)
            target = base * premium * (1 + s["noise"])
            ask = (
                target if s["prev"] is None else np.clip(target, s["prev"] * 0.97, s["prev"] * 1.03)
            )
            s["prev"] = ask
            hit = s["move_day"] == d
            s["step"] = np.where(hit, s["step"] * (1 + s["size"]), s["step"])
            lowest = np.round(ask * s["step"], 2)
            moves.extend((skus[i], p, day) for i in np.flatnonzero(hit))
            frames.append(
                pl.DataFrame(
                    {
                        "sku": skus,
                        "platform": p,
                        "ask_price": np.where(
                            ours & (our_platform == p), np.round(base * 1.2), np.nan
                        ),
                        "bid_price": None,
                        "lowest_ask": lowest,
                        "highest_bid": np.round(ask * 0.9, 2),
                        "last_sale_price": np.round(ask * 0.98, 2),
                        "last_sale_at": None,
                        "sales_30d": rng.poisson(3, products).astype(np.int32),
                        "volatility": np.round(rng.uniform(0, 0.2, products), 4),
                        "currency": "USD",
                        "platform_listing_id": None,
                        "platform_specific": None,
                    },
                    nan_to_null=True,
                )
            )
        frame = pl.concat(frames)
        priced = fees.apply(
            frame.with_columns(pl.lit(day).alias("day"), pl.lit("sneakers").alias("category")),
            schedule,
            price="lowest_ask",
        )
        chunk[day] = priced.with_columns(pl.col("fee_share_total").alias("fee_share")).select(
            MARKET.column_names
        )
        if len(chunk) == 31 or d == days - 1:
            store.write_snapshots(root, MARKET, chunk, run_id="bench", sources=[])
            written += sum(f.height for f in chunk.values())
            chunk = {}
            if on_step:
                on_step(f"generated {d + 1}/{days} days")
    seconds = time.perf_counter() - started
    size = sum(p.stat().st_size for p in (root / "snapshots" / "market").rglob("*.parquet"))
    truth = pl.DataFrame(moves, schema=["sku", "platform", "day"], orient="row").with_columns(
        pl.col("day").cast(pl.Date)
    )
    return {"truth": truth, "rows": written, "write_seconds": seconds, "bytes": size}


def _raw_net(price: str) -> str:
    """The bundled fee schedule of the benchmark's platforms as a hand-written SQL expression
    (sneakers; the eBay per-order fee of 2024-03-15 on)."""
    return f"""CASE platform
        WHEN 'stockx' THEN {price} * (1 - 0.12)
        WHEN 'alias' THEN {price} * (1 - 0.124) - 5
        WHEN 'ebay' THEN CASE WHEN {price} >= 150 THEN {price} * (1 - 0.08)
                              WHEN {price} >= 10.01 THEN {price} * (1 - 0.1325) - 0.40
                              ELSE {price} * (1 - 0.1325) - 0.30 END
        WHEN 'shootstrayt' THEN {price} * (1 - 0.129) - 0.30 END"""


def raw_best(con, glob: str, products: str, day: date, tie: float = 0.02) -> pl.DataFrame:
    """Best platform per item with its name, as one would write it by hand for this data."""
    return con.execute(
        f"""
        WITH m AS (
            SELECT sku, platform, lowest_ask, sales_30d, round({_raw_net("lowest_ask")}, 2) AS net
            FROM read_parquet('{glob}', hive_partitioning = true)
            WHERE snapshot_date = ? AND lowest_ask IS NOT NULL
        ), ranked AS (
            SELECT *, net >= max(net) OVER (PARTITION BY sku) * (1 - {tie}) AS tied FROM m
        ), best AS (
            SELECT sku, arg_max(platform, [tied::INT, sales_30d, net]) AS best_platform,
                   arg_max(net, [tied::INT, sales_30d, net]) AS net
            FROM ranked GROUP BY sku
        )
        SELECT best.*, p.title
        FROM best LEFT JOIN read_parquet('{products}') p USING (sku)
        """,
        [day],
    ).pl()


def raw_repricing(
    con, glob: str, stock: str, products: str, day: date, above: float = 0.05
) -> pl.DataFrame:
    return con.execute(
        f"""
        WITH m AS (
            SELECT sku, platform, ask_price, lowest_ask, sales_30d,
                   fee_share, {_raw_net("1.0")} - (1 - fee_share) AS fixed_neg
            FROM read_parquet('{glob}', hive_partitioning = true)
            WHERE snapshot_date = ? AND ask_price IS NOT NULL AND sales_30d > 0
              AND ask_price > lowest_ask * (1 + {above})
        ), s AS (
            SELECT sku, sum(on_hand - reserved) AS on_hand,
                   sum(unit_cost * on_hand) / sum(on_hand) AS unit_cost
            FROM read_parquet('{stock}', hive_partitioning = true)
            GROUP BY sku
        )
        SELECT m.sku, p.title, platform, ask_price, lowest_ask,
               round(greatest(lowest_ask - 0.01,
                              (unit_cost - fixed_neg) / (1 - fee_share)), 2) AS suggested_price,
               on_hand
        FROM m LEFT JOIN s USING (sku) LEFT JOIN read_parquet('{products}') p USING (sku)
        ORDER BY on_hand * suggested_price DESC
        """,
        [day],
    ).pl()


def raw_history(con, glob: str, sku: str, start: date, end: date) -> pl.DataFrame:
    return con.execute(
        f"""
        SELECT snapshot_date AS day, platform, lowest_ask, highest_bid, last_sale_price,
               sales_30d, ask_price, round({_raw_net("lowest_ask")}, 2) AS net_lowest_ask
        FROM read_parquet('{glob}', hive_partitioning = true)
        WHERE sku = ? AND snapshot_date BETWEEN ? AND ?
        ORDER BY day, platform
        """,
        [sku, start, end],
    ).pl()


def _time(fn: Callable[[], object], repeat: int) -> dict:
    walls, cpus, out = [], [], None
    for _ in range(repeat):
        w0, c0 = time.perf_counter(), time.process_time()
        out = fn()
        walls.append(time.perf_counter() - w0)
        cpus.append(time.process_time() - c0)
    return {
        "median_s": round(statistics.median(walls), 4),
        "cpu_s": round(statistics.median(cpus), 4),
        "runs_s": [round(w, 4) for w in walls],
        "result": out,
    }


def side_by_side(name: str, ours: dict, theirs: dict) -> dict:
    """One answer's row: the library's and the raw query's median and CPU seconds (from
    :func:`_time`) and their ratio."""
    return {
        "answer": name,
        "library_s": ours["median_s"],
        "library_cpu_s": ours["cpu_s"],
        "raw_s": theirs["median_s"],
        "raw_cpu_s": theirs["cpu_s"],
        "ratio": round(ours["median_s"] / theirs["median_s"], 2),
    }


def run_market_bench(
    products: int = 20_000, days: int = 365, repeat: int = 5, seed: int = 18, on_step=None
) -> dict:
    """Generate, then time each answer through the library and the raw query (median of
    ``repeat`` warm runs each, alternating); score the price-move detector."""
    import duckdb

    work = Path(tempfile.mkdtemp(prefix="stockroom-bench-market-"))
    try:
        gen = generate(work, products, days, seed, on_step)
        glob = str(work / "snapshots" / "market" / "*" / "*.parquet")
        stock_glob = str(work / "snapshots" / "stock" / "*" / "*.parquet")
        products_glob = str(work / "snapshots" / "products" / "*" / "*.parquet")
        day = START + timedelta(days=days - 1)
        schedule = fees.load()
        sku = f"SNKR-{(products // 20):05d}-9"
        results: dict = {
            "products": products,
            "platforms": len(PLATFORMS),
            "days": days,
            "rows": gen["rows"],
            "write_seconds": round(gen["write_seconds"], 1),
            "mib_on_disk": round(gen["bytes"] / 2**20, 1),
        }
        if on_step:
            on_step("timing the answers")
        opened = _time(lambda: connect(work), repeat)
        con = opened["result"]
        raw = duckdb.connect()
        year = day - timedelta(days=days - 1)
        pairs = {
            "best platform (one day)": (
                lambda: views.best_platform(con, day, schedule),
                lambda: raw_best(raw, glob, products_glob, day),
            ),
            "repricing list (one day)": (
                lambda: views.repricing(con, day, schedule),
                lambda: raw_repricing(raw, glob, stock_glob, products_glob, day),
            ),
            "one item's year of history": (
                lambda: views.history(con, sku, year, day, schedule),
                lambda: raw_history(raw, glob, sku, year, day),
            ),
        }
        rows = []
        for name, (lib, hand) in pairs.items():
            ours, theirs = _time(lib, repeat), _time(hand, repeat)
            rows.append(
                {
                    **side_by_side(name, ours, theirs),
                    "rows": ours["result"].height,
                    "raw_rows": theirs["result"].height,
                }
            )
        best = views.best_platform(con, day, schedule).select("sku", "best_platform")
        agree = best.join(raw_best(raw, glob, products_glob, day), on="sku", suffix="_raw")
        results["best_platform_agreement"] = round(
            float((agree["best_platform"] == agree["best_platform_raw"]).mean()), 4
        )
        results["open_connection_s"] = opened["median_s"]
        results["answers"] = rows
        t0 = time.perf_counter()
        found = views.price_moves(con, START, day, threshold=0.10)
        moves_s = time.perf_counter() - t0
        keys = ["sku", "platform", "day"]
        truth = gen["truth"]
        hits = found.select(keys).join(truth, on=keys, how="inner").height
        results["moves"] = {
            "injected": truth.height,
            "found": found.height,
            "precision": round(hits / found.height, 4) if found.height else None,
            "recall": round(hits / truth.height, 4) if truth.height else None,
            "seconds": round(moves_s, 2),
        }
        results["peak_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
        return results
    finally:
        shutil.rmtree(work, ignore_errors=True)


def print_market(r: dict) -> str:
    lines = [
        f"market: {r['products']:,} products x {r['platforms']} platforms x {r['days']} days = "
        f"{r['rows']:,} rows; written in {r['write_seconds']} s, {r['mib_on_disk']} MiB on disk; "
        f"opening the views {r['open_connection_s']} s; peak {r['peak_mib']:,} MiB",
        "",
        "| answer | library (median s, CPU s) | raw DuckDB (median s, CPU s) | library / raw |",
        "|---|---|---|---|",
    ]
    for a in r["answers"]:
        lines.append(
            f"| {a['answer']} | {a['library_s']} ({a['library_cpu_s']}) | {a['raw_s']} "
            f"({a['raw_cpu_s']}) | {a['ratio']}x |"
        )
    m = r["moves"]
    lines += [
        "",
        f"best platform agrees with the raw query on {r['best_platform_agreement']:.2%} of items",
        f"price moves > 10 %: {m['found']:,} found, {m['injected']:,} injected; precision "
        f"{m['precision']}, recall {m['recall']} ({m['seconds']} s over the year)",
    ]
    return "\n".join(lines)


def run_price_forecast_bench(workbook: Path, cutoffs: list[date]) -> dict:
    """The price forecaster against the last sale and the 30-day median on the real StockX
    sales, one time split per cut-off (:func:`stockroom.market.price_forecast.backtest`)."""
    from stockroom.ingest import exports
    from stockroom.market import price_forecast

    orders = exports.stockx_sales(workbook).frames["orders"]
    sales = orders.select(
        "sku",
        pl.col("order_ts").dt.date().alias("day"),
        pl.col("unit_price").cast(pl.Float64).alias("price"),
    )
    runs = []
    for cutoff in cutoffs:
        t0 = time.perf_counter()
        result = price_forecast.backtest(sales, cutoff)
        result["seconds"] = round(time.perf_counter() - t0, 1)
        runs.append(result)
    return {"sales": sales.height, "items": sales["sku"].n_unique(), "runs": runs}


def print_price_forecast(r: dict) -> str:
    lines = [
        f"StockX: {r['sales']:,} real sales of {r['items']:,} sneaker x size items; target: the "
        "median sale price of the 30 days after each origin (origins every 7 days from the "
        "cut-off)",
        "",
        "| cut-off | scored (items) | model | MAPE | APE < 10 % | shrink |",
        "|---|---|---|---|---|---|",
    ]
    for run in r["runs"]:
        for name, m in run["models"].items():
            shrink = run["shrink"] if name == "price_forecast" else ""
            lines.append(
                f"| {run['cutoff']} | {run['scored']:,} ({run['items']}) | {name} | "
                f"{m['mape']:.2%} | {m['within_10pct']:.1%} | {shrink} |"
            )
        ratios = run["ratios"]
        lines.append(
            f"| {run['cutoff']} | | **ratio to the best baseline** | "
            f"{ratios['mape_vs_best_baseline']:.3f} | "
            f"{ratios['within_10pct_vs_best_baseline']:.3f} | |"
        )
    return "\n".join(lines)
