"""The resale benchmark: a million items with 1.5 million listings (synthetic,
:mod:`stockroom.sim.resale`), landed as the ``resale_items`` / ``resale_listings`` snapshots;
the dashboard, aging, platform table and a full-text search through the library beside one
hand-written DuckDB query each over the same Parquet (same numbers checked); PDF invoice import
throughput and peak memory beside pdfplumber's text extraction alone; the streamed Excel
workbook of 100,000 items beside polars' ``write_excel`` of the same frame.

"Warm": the library's book (snapshot read, every item's P&L, the text index) is built once
(timed apart, cold) and each answer is then computed from it; the raw query reads the Parquet
each time (DuckDB's own caches warm). Peak memory of the import and the export is each run's
own process (max RSS), run apart so one does not inherit the other's.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import polars as pl

from stockroom import store
from stockroom.resale import pnl, search, views
from stockroom.sim import resale as sim_resale
from stockroom_bench.market import _time, side_by_side

START, END = date(2025, 1, 1), date(2026, 11, 30)
QUERY = "vintage oak"


def generate(root: Path, items: int, seed: int = 19) -> dict:
    """Land ``items`` items and their simulated listings as one day's resale snapshots."""
    t0 = time.perf_counter()
    frame = sim_resale.random_items(items, seed, START, END)
    listings = sim_resale.simulate_listings(frame, seed + 1, END)
    made = time.perf_counter() - t0
    t0 = time.perf_counter()
    batches = [
        store.prepare("resale_items", {END: frame}),
        store.prepare("resale_listings", {END: listings}),
    ]
    store.commit_all(root, batches, run_id="bench-resale", sources=[])
    return {
        "items": frame.height,
        "listings": listings.height,
        "generate_s": round(made, 1),
        "land_s": round(time.perf_counter() - t0, 1),
        "mib_on_disk": round(
            sum(p.stat().st_size for p in (root / "snapshots").rglob("*.parquet")) / 2**20, 1
        ),
    }


def _sources(root: Path) -> tuple[str, str]:
    day = f"snapshot_date={END}"
    return (
        str(root / "snapshots" / "resale_items" / day / "part-00000.parquet"),
        str(root / "snapshots" / "resale_listings" / day / "part-00000.parquet"),
    )


def raw_dashboard(con, items: str, listings: str, start: date, end: date) -> pl.DataFrame:
    """The dashboard's metrics of the period and the one before, by hand in one query."""
    length = (end - start).days + 1
    prev_end = start - timedelta(days=1)
    prev_start = prev_end - timedelta(days=length - 1)
    return con.execute(
        f"""
        WITH sale AS (
            SELECT item_id, sold_on, sold_price + coalesce(buyer_shipping, 0) AS revenue,
                   coalesce(platform_fees, 0) AS fees,
                   sold_price + coalesce(buyer_shipping, 0) - coalesce(platform_fees, 0)
                       - coalesce(actual_shipping, 0) AS proceeds
            FROM '{listings}' WHERE status = 'sold' AND sold_on <= $end
        ), first AS (
            SELECT item_id, min(listed_on) AS listed_on FROM '{listings}'
            WHERE listed_on <= $end GROUP BY item_id
        ), i AS (
            SELECT i.item_id, acquired_on, cost, s.sold_on, s.revenue, s.fees,
                   s.proceeds - cost AS profit,
                   CASE WHEN cost > 0 THEN (s.proceeds - cost) / cost END AS roi,
                   date_diff('day', acquired_on, s.sold_on) AS dts, f.listed_on
            FROM '{items}' i LEFT JOIN sale s USING (item_id) LEFT JOIN first f USING (item_id)
            WHERE acquired_on <= $end
        ), p AS (
            SELECT * FROM (VALUES ('current', $start, $end), ('previous', $ps, $pe))
                t(period, lo, hi)
        )
        SELECT period,
            count(*) FILTER (acquired_on <= hi AND (sold_on IS NULL OR sold_on > hi)) AS items,
            sum(cost) FILTER (acquired_on BETWEEN lo AND hi) AS invested,
            sum(cost) FILTER (acquired_on <= hi AND (sold_on IS NULL OR sold_on > hi)) AS tied_up,
            count(*) FILTER (listed_on BETWEEN lo AND hi) AS listed,
            count(*) FILTER (sold_on BETWEEN lo AND hi) AS sold,
            sum(revenue) FILTER (sold_on BETWEEN lo AND hi) AS revenue,
            sum(fees) FILTER (sold_on BETWEEN lo AND hi) AS fees,
            sum(profit) FILTER (sold_on BETWEEN lo AND hi) AS profit,
            avg(roi) FILTER (sold_on BETWEEN lo AND hi) AS avg_roi,
            avg(dts) FILTER (sold_on BETWEEN lo AND hi) AS avg_days_to_sell
        FROM i, p GROUP BY period ORDER BY period
        """,
        {"start": start, "end": end, "ps": prev_start, "pe": prev_end},
    ).pl()


def raw_aging(con, items: str, listings: str, day: date) -> pl.DataFrame:
    return con.execute(
        f"""
        WITH sold AS (SELECT item_id FROM '{listings}' WHERE status = 'sold' AND sold_on <= $day),
        unsold AS (
            SELECT date_diff('day', acquired_on, $day) AS age, cost, estimated_value
            FROM '{items}' WHERE acquired_on <= $day AND item_id NOT IN (SELECT item_id FROM sold)
        )
        SELECT CASE WHEN age <= 30 THEN '0-30 d' WHEN age <= 60 THEN '31-60 d'
                    WHEN age <= 90 THEN '61-90 d' WHEN age <= 180 THEN '91-180 d'
                    ELSE '180+ d' END AS bucket,
               count(*) AS items, sum(cost) AS cost, sum(estimated_value) AS estimated_value
        FROM unsold GROUP BY bucket ORDER BY min(age)
        """,
        {"day": day},
    ).pl()


def raw_platforms(con, items: str, listings: str, start: date, end: date) -> pl.DataFrame:
    return con.execute(
        f"""
        WITH l AS (
            SELECT l.*, i.cost,
                   l.status = 'sold' AND l.sold_on BETWEEN $start AND $end AS in_period,
                   l.sold_price + coalesce(l.buyer_shipping, 0) - coalesce(l.platform_fees, 0)
                       - coalesce(l.actual_shipping, 0) - i.cost AS profit
            FROM '{listings}' l JOIN '{items}' i USING (item_id)
            WHERE i.acquired_on <= $end
        )
        SELECT platform,
            count(DISTINCT item_id) FILTER (listed_on BETWEEN $start AND $end) AS listed,
            count(DISTINCT item_id) FILTER (in_period) AS sold,
            sum(sold_price + coalesce(buyer_shipping, 0)) FILTER (in_period) AS revenue,
            sum(platform_fees) FILTER (in_period) AS fees,
            count(DISTINCT item_id) FILTER (listed_on BETWEEN $start AND $end
                AND status = 'sold' AND sold_on <= $end) / listed AS conversion,
            sum(profit) FILTER (in_period) AS profit,
            sum(profit) FILTER (in_period) / sum(cost) FILTER (in_period) AS roi
        FROM l GROUP BY platform ORDER BY profit DESC
        """,
        {"start": start, "end": end},
    ).pl()


def raw_search(con, items: str, words: str) -> pl.DataFrame:
    """Items whose name, keywords, description or notes hold every word (the last as a
    prefix), by regular expression: the same set as the index, without ranking."""
    terms = words.lower().split()
    # a word start, the whole word (every word but the last, which may be a prefix)
    patterns = [
        rf"\b{re.escape(w)}" + (r"\b" if i < len(terms) - 1 else "") for i, w in enumerate(terms)
    ]
    text = "lower(concat_ws(' ', name, keywords, description, notes))"
    where = " AND ".join(f"regexp_matches({text}, ?)" for _ in patterns)
    return con.execute(f"SELECT item_id FROM '{items}' WHERE {where}", patterns).pl()


def run_resale_bench(items: int = 1_000_000, repeat: int = 5, on_step=None) -> dict:
    import duckdb

    work = Path(tempfile.mkdtemp(prefix="stockroom-bench-resale-"))
    try:
        if on_step:
            on_step(f"generating {items:,} items")
        result = generate(work, items)
        items_glob, listings_glob = _sources(work)
        if on_step:
            on_step("building the book (every item's P&L, the text index)")
        t0, c0 = time.perf_counter(), time.process_time()
        book = views.book(work)
        result["book_cold_s"] = round(time.perf_counter() - t0, 2)
        result["book_cold_cpu_s"] = round(time.process_time() - c0, 2)
        t0 = time.perf_counter()
        search.build(book.items, work / "index-again.sqlite")
        result["index_build_s"] = round(time.perf_counter() - t0, 2)
        start, end = book.period()
        raw = duckdb.connect()
        raw.execute("SET enable_object_cache = true")
        pairs = {
            "dashboard (period vs previous)": (
                lambda: pnl.summary(book.pnl, start, end),
                lambda: raw_dashboard(raw, items_glob, listings_glob, start, end),
            ),
            "aging (5 buckets)": (
                lambda: pnl.aging(book.pnl),
                lambda: raw_aging(raw, items_glob, listings_glob, book.as_of),
            ),
            "platform table (period)": (
                lambda: pnl.performance(book.pnl, book.listings, "platform", end, start),
                lambda: raw_platforms(raw, items_glob, listings_glob, start, end),
            ),
            f'full-text search "{QUERY}" (top 200)': (
                lambda: search.search(book.pnl, book.index, QUERY, limit=200),
                lambda: raw_search(raw, items_glob, QUERY),
            ),
        }
        rows = []
        for name, (lib, hand) in pairs.items():
            if on_step:
                on_step(f"timing {name}")
            ours, theirs = _time(lib, repeat), _time(hand, repeat)
            rows.append(side_by_side(name, ours, theirs))
        result["answers"] = rows
        result["agreement"] = _agreement(book, raw, items_glob, listings_glob, start, end)
        if on_step:
            on_step("PDF import and Excel export (each in its own process)")
        result["pdf"] = _child("pdf")
        result["excel"] = _child("excel")
        result["excel_baseline"] = _child("excel-baseline")
        return result
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _agreement(book, raw, items_glob, listings_glob, start, end) -> dict:
    """Whether the library and the raw queries give the same numbers (max relative gap)."""
    ours = {r["metric"]: r for r in pnl.summary(book.pnl, start, end).iter_rows(named=True)}
    theirs = raw_dashboard(raw, items_glob, listings_glob, start, end)
    gaps = []
    for period, column in (("current", "current"), ("previous", "previous")):
        row = theirs.filter(pl.col("period") == period).row(0, named=True)
        for metric in ("items", "invested", "tied_up", "listed", "sold", "revenue", "profit"):
            a, b = ours[metric][column], float(row[metric] or 0)
            gaps.append(abs(a - b) / max(abs(b), 1e-9))
    lib_aging = pnl.aging(book.pnl)
    raw_age = raw_aging(raw, items_glob, listings_glob, book.as_of)
    aging_same = (
        lib_aging.select("bucket", "items")
        .sort("bucket")
        .equals(raw_age.select("bucket", pl.col("items").cast(pl.Int64)).sort("bucket"))
    )
    lib_pf = pnl.performance(book.pnl, book.listings, "platform", end, start).sort("platform")
    raw_pf = raw_platforms(raw, items_glob, listings_glob, start, end).sort("platform")
    pf_gap = max(
        abs(a - b) / max(abs(b), 1e-9)
        for c in ("listed", "sold", "profit")
        for a, b in zip(lib_pf[c].to_list(), raw_pf[c].cast(pl.Float64).to_list(), strict=True)
    )
    found = search.search(book.pnl, book.index, QUERY, limit=10_000_000)["item_id"]
    raw_found = raw_search(raw, items_glob, QUERY)["item_id"]
    return {
        "dashboard_max_relative_gap": max(gaps),
        "aging_same_counts": aging_same,
        "platforms_max_relative_gap": pf_gap,
        "search_matches": found.len(),
        "search_same_set": set(found.to_list()) == set(raw_found.to_list()),
    }


# -- the import and the export, each in a child process (own peak memory) ------------------------

PDF_INVOICES = 60
EXCEL_ITEMS = 100_000


def _child(task: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", f"from stockroom_bench.resale import child; child({task!r})"],
        capture_output=True,
        text=True,
        timeout=3600,
    )
    if done.returncode != 0:
        raise RuntimeError(f"bench child {task} failed: {done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def child(task: str) -> None:
    """One measurement in this (fresh) process; prints its figures as JSON: ``pdf``, ``excel``
    (the streamed workbook) or ``excel-baseline`` (polars' write_excel, built in memory)."""
    work = Path(tempfile.mkdtemp(prefix=f"stockroom-bench-{task}-"))
    try:
        out = _pdf(work) if task == "pdf" else _excel(work, streamed=task == "excel")
        out["peak_rss_mib"] = round(_peak_kib() / 1024)
        print(json.dumps(out))
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _peak_kib() -> int:
    """This process's peak resident memory, KiB (:func:`stockroom_jobs.cluster.peak_rss_mib`:
    VmHWM, which starts afresh at exec, unlike ``ru_maxrss``)."""
    from stockroom_jobs.cluster import peak_rss_mib

    return round(peak_rss_mib() * 1024)


def _pdf(work: Path) -> dict:
    import pdfplumber

    from stockroom import workbench
    from stockroom.resale import invoices
    from stockroom.sim import invoices as sim_invoices

    written = sim_invoices.write_invoices(work / "pdf", PDF_INVOICES, date(2026, 1, 5), seed=4)
    paths = [work / "pdf" / f"{inv.invoice_id}.pdf" for inv in written]
    eng = workbench.engine(work)
    t0 = time.perf_counter()
    pages = 0
    for path in paths:  # the floor: pdfplumber's text extraction alone
        with pdfplumber.open(path) as pdf:
            pages += len([page.extract_text() for page in pdf.pages])
    text_s = time.perf_counter() - t0
    t0, c0 = time.perf_counter(), time.process_time()
    results = invoices.import_invoices(eng, paths, actor="bench")
    import_s = time.perf_counter() - t0
    return {
        "invoices": len(paths),
        "pages": pages,
        "lots": sum(r.lots for r in results),
        "import_s": round(import_s, 2),
        "import_cpu_s": round(time.process_time() - c0, 2),
        "invoices_per_s": round(len(paths) / import_s, 1),
        "text_only_s": round(text_s, 2),
        "ratio_to_text_only": round(import_s / text_s, 2),
    }


def _excel(work: Path, streamed: bool) -> dict:
    import xlsxwriter

    from stockroom.resale import imports

    items = sim_resale.random_items(EXCEL_ITEMS, 7, START, END)
    listings = sim_resale.simulate_listings(items, 8, END)
    frame = pnl.item_pnl(items, listings, END)
    before = _peak_kib() / 1024
    t0, c0 = time.perf_counter(), time.process_time()
    target = work / "resale.xlsx"
    if streamed:
        sheets = {
            "items": (frame, imports.ITEM_SHEET),
            "listings": (listings, imports.LISTING_SHEET),
        }
        imports.write_workbook(target, sheets)
    else:
        with xlsxwriter.Workbook(str(target)) as book:
            frame.select(c for c, _, _ in imports.ITEM_SHEET).write_excel(book, worksheet="items")
            listings.write_excel(book, worksheet="listings")
    export_s = time.perf_counter() - t0
    cpu = time.process_time() - c0
    after = _peak_kib() / 1024
    return {
        "items": frame.height,
        "listings": listings.height,
        "export_s": round(export_s, 1),
        "export_cpu_s": round(cpu, 1),
        "mib_on_disk": round(target.stat().st_size / 2**20, 1),
        "rss_before_export_mib": round(before),
        "rss_growth_mib": round(after - before),
    }


def print_resale(r: dict) -> str:
    a = r["agreement"]
    lines = [
        f"resale: {r['items']:,} items, {r['listings']:,} listings (synthetic); generated in "
        f"{r['generate_s']} s, landed in {r['land_s']} s, {r['mib_on_disk']} MiB on disk; the "
        f"book cold (read, every item's P&L, text index) {r['book_cold_s']} s wall "
        f"({r['book_cold_cpu_s']} CPU s), of which the index {r['index_build_s']} s",
        "",
        "| answer | library, warm (median s, CPU s) | raw DuckDB (median s, CPU s) "
        "| library / raw |",
        "|---|---|---|---|",
    ]
    for x in r["answers"]:
        lines.append(
            f"| {x['answer']} | {x['library_s']} ({x['library_cpu_s']}) | {x['raw_s']} "
            f"({x['raw_cpu_s']}) | {x['ratio']}x |"
        )
    p, e, b = r["pdf"], r["excel"], r["excel_baseline"]
    lines += [
        "",
        f"same numbers: dashboard max relative gap {a['dashboard_max_relative_gap']:.2e}, aging "
        f"counts equal: {a['aging_same_counts']}, platform table max gap "
        f"{a['platforms_max_relative_gap']:.2e}, search: {a['search_matches']:,} matches, same "
        f"set: {a['search_same_set']}",
        f"PDF import: {p['invoices']} invoices ({p['pages']} pages, {p['lots']:,} lots) in "
        f"{p['import_s']} s = {p['invoices_per_s']} invoices/s ({p['import_cpu_s']} CPU s); "
        f"pdfplumber's text extraction alone {p['text_only_s']} s (import / text only "
        f"{p['ratio_to_text_only']}x); peak RSS {p['peak_rss_mib']} MiB",
        f"Excel export: {e['items']:,} items + {e['listings']:,} listings in {e['export_s']} s "
        f"({e['export_cpu_s']} CPU s), {e['mib_on_disk']} MiB; RSS grew {e['rss_growth_mib']} "
        f"MiB (peak {e['peak_rss_mib']} MiB); polars write_excel of the same frames (built in "
        f"memory): {b['export_s']} s ({b['export_cpu_s']} CPU s), RSS grew "
        f"{b['rss_growth_mib']} MiB (peak {b['peak_rss_mib']} MiB)",
    ]
    return "\n".join(lines)
