"""Drive the running app in headless Chromium (Debian's /usr/bin/chromium) with Playwright.

Used by the browser test, by ``python scripts/browser.py --screenshots docs/screenshots``,
which refreshes the README's screenshots of every page, and by ``--cold-start DATA_ROOT``,
which times the app's start-up (run with the Python of the checkout to measure). Only
127.0.0.1 is contacted.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx

from stockroom import config

PROJECT_ROOT = config.PROJECT_ROOT
#: url slug -> (page title, plotly charts it shows)
PAGES = {
    "": ("Seller concentration", 3),
    "supply": ("Supply", 2),
    "data_health": ("Data health", 1),
}
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str | None:
    return config.chromium()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


#: How long (ms) the browser waits for the app to draw what a step expects: generous, since
#: the 2 cores of a CI machine may be busy; a wait that runs out fails the test.
WAIT = 120_000
#: The sidebar field a laptop user signs their decisions with (app_pages/_common.signer).
SIGNER_LABEL = "Your name (signs your decisions)"

#: base URL -> seconds from starting its `stockroom serve` to its first healthy answer
UP_AFTER: dict[str, float] = {}


@contextlib.contextmanager
def serve(data_root: Path, port: int | None = None, timeout: float = 120) -> Iterator[str]:
    """Run ``stockroom serve`` on 127.0.0.1 in a child process; yield its base URL."""
    port = port or free_port()
    spawned = time.monotonic()
    env = dict(os.environ, **{config.ENV_DATA_ROOT: str(data_root)})
    proc = subprocess.Popen(
        [sys.executable, "-m", "stockroom_jobs.cli", "serve", "--port", str(port)],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                if httpx.get(f"{url}/_stcore/health", timeout=2).text == "ok":
                    UP_AFTER[url] = time.monotonic() - spawned
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"streamlit did not come up on {url}")
            time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


#: pages that need listings and mappings (a simulated data root) rather than the Olist demo
SIM_PAGES = {"mapping": ("Mapping", 0), "holdings": ("Holdings", 2)}
RECONCILE_PAGES = {"reconciliation": ("Reconciliation", 2)}
#: pages that need market snapshots (stockroom ingest stockx-market)
MARKET_PAGES = {"market": ("Market", 1)}
#: pages that need a resale book (stockroom resale demo)
RESALE_PAGES = {"resale": ("Resale", 2)}
#: pages that need a forecasts snapshot (stockroom forecast)
FORECAST_PAGES = {"forecast": ("Forecast", 1), "order_today": ("Order today", 0)}


def visit(
    url: str, shots: Path | None = None, pages: dict[str, tuple[str, int]] | None = None
) -> dict[str, dict]:
    """Open each page, wait for its KPI tiles and charts; return what each page showed.

    Returns ``{page: {"title": str, "metrics": [label, ...], "charts": int, "tables": int,
    "errors": int, "seconds": float, "complete_seconds": float}}``; ``seconds`` is the first
    render: from asking for the page (a full load of the frontend, as a new tab) until its
    title and KPI tiles are on screen; ``complete_seconds`` until its plotly charts and first
    table are drawn too (mostly the browser loading plotly.js and the table grid, slow on a
    CPU without a GPU). The first page
    visited also gets ``cold_start``: seconds from starting ``stockroom serve`` to its health
    check answering, plus that first render (the browser's own start-up left out).
    With ``shots``, saves ``<shots>/<page>.png`` (1400 x 1500 px; Streamlit scrolls inside its
    own container, so the viewport is made tall instead of using a full-page capture).
    """
    from playwright.sync_api import sync_playwright

    seen = {}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1500 if shots else 1000})
        for slug, (title, charts) in (pages or PAGES).items():
            asked = time.monotonic()
            page.goto(f"{url}/{slug}", wait_until="commit")
            page.get_by_role("heading", name=title).wait_for(timeout=WAIT)
            page.locator('[data-testid="stMetric"]').first.wait_for(timeout=WAIT)
            shown = time.monotonic()
            if charts:
                page.locator(".js-plotly-plot").nth(charts - 1).wait_for(timeout=WAIT)
            page.locator('[data-testid="stDataFrame"]').first.wait_for(timeout=WAIT)
            drawn = time.monotonic()
            page.wait_for_timeout(1500)  # let plotly finish its transitions
            name = (slug or "seller_concentration").split("?")[0]
            seen[name] = {
                "title": title,
                "metrics": page.locator('[data-testid="stMetricLabel"]').all_inner_texts(),
                "charts": page.locator(".js-plotly-plot").count(),
                "tables": page.locator('[data-testid="stDataFrame"]').count(),
                "errors": page.locator('[data-testid="stException"]').count(),
                "seconds": round(shown - asked, 2),
                "complete_seconds": round(drawn - asked, 2),
            }
            if len(seen) == 1 and url in UP_AFTER:
                seen[name]["cold_start"] = round(UP_AFTER[url] + shown - asked, 2)
            if shots:
                shots.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=shots / f"{name}.png")
        browser.close()
    return seen


def upload(url: str, file: Path, signer: str, shots: Path | None = None) -> dict:
    """On the Import page: upload ``file`` through the browser's file input, wait for the
    preview, sign with ``signer`` and click Import; returns what the page showed
    (``layout`` caption, ``success``/``error`` text, ``errors`` = exceptions shown)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1500})
        page.goto(f"{url}/imports", wait_until="commit")
        page.get_by_role("heading", name="Import your data").wait_for(timeout=WAIT)
        page.locator('input[type="file"]').set_input_files(str(file))
        page.get_by_role("heading", name="Preview").wait_for(timeout=WAIT)
        layout = page.get_by_text(f"{file.name}: layout").first.inner_text()
        sign(page, signer)
        wait_enabled(page, "Import")
        page.get_by_role("button", name="Import", exact=True).click()
        page.get_by_text("Imported. The run is recorded").wait_for(timeout=180_000)
        seen = {
            "layout": layout,
            "success": page.get_by_text("Imported. The run is recorded").inner_text(),
            "errors": page.locator('[data-testid="stException"]').count(),
        }
        if shots:
            shots.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=shots / "import.png")
        browser.close()
    return seen


def settle(page, timeout: float = WAIT) -> None:
    """Wait until the app is not running a script (its "Running..." status widget gone)."""
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')",
        timeout=timeout,
    )


def sign(page, signer: str) -> None:
    """Type ``signer`` in the sidebar's name field, press Enter and wait until the rerun it
    asks for is over and the field still holds the name (a fill racing a rerun is lost)."""
    name = page.get_by_label(SIGNER_LABEL)
    for _ in range(3):
        settle(page)
        name.fill(signer)
        name.press("Enter")
        page.wait_for_timeout(500)  # the status widget shows a moment after the rerun starts
        settle(page)
        if name.input_value() == signer:
            return
    raise AssertionError(f"the sidebar kept {name.input_value()!r}, not {signer!r}")


def wait_enabled(page, label: str, timeout: float = WAIT, exact: bool = True) -> None:
    """Wait until a button reading ``label`` (``exact=False``: a label containing it, e.g.
    beside an icon's text) is shown and enabled; on timeout, fail with what the page shows
    instead (the buttons, warnings, uploaded files and the signer field)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        page.wait_for_function(
            "([label, exact]) => [...document.querySelectorAll('button')].some(b => "
            "(exact ? b.innerText.trim() === label : b.innerText.includes(label)) && !b.disabled)",
            arg=[label, exact],
            timeout=timeout,
        )
    except PlaywrightTimeout as exc:
        shown = page.evaluate(
            """signer => ({
              buttons: [...document.querySelectorAll('button')]
                .map(b => b.innerText.trim() + (b.disabled ? ' (disabled)' : ''))
                .filter(t => t),
              alerts: [...document.querySelectorAll('[data-testid="stAlert"]')]
                .map(a => a.innerText.trim()),
              files: [...document.querySelectorAll('[data-testid="stFileChip"]')]
                .map(f => f.innerText.trim()),
              running: !!document.querySelector('[data-testid="stStatusWidget"]'),
              signer: [...document.querySelectorAll('input')]
                .filter(i => i.getAttribute('aria-label') === signer)
                .map(i => i.value),
            })""",
            SIGNER_LABEL,
        )
        raise AssertionError(f"no enabled {label!r} button; the page shows {shown}") from exc


def open_signed(pw, url: str, slug: str, title: str, signer: str):
    """(browser, page): a 1400 x 1500 Chromium page on ``slug`` once its ``title`` heading is
    shown, signed in the sidebar as ``signer``."""
    browser = pw.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
    page = browser.new_page(viewport={"width": 1400, "height": 1500})
    page.goto(f"{url}/{slug}", wait_until="commit")
    page.get_by_role("heading", name=title).wait_for(timeout=WAIT)
    sign(page, signer)
    return browser, page


def upload_invoices(url: str, files: list[Path], signer: str, shots: Path | None = None) -> dict:
    """On the Resale page's Import tab: sign with ``signer``, put ``files`` (PDF invoices) in
    the file input and click Import; returns the progress text, ``success`` and ``errors``."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser, page = open_signed(pw, url, "resale", "Resale", signer)
        page.get_by_role("tab", name="Import").click()
        page.locator('input[type="file"]').set_input_files([str(f) for f in files])
        wait_enabled(page, "Import")
        page.get_by_role("button", name="Import", exact=True).click()
        done = page.get_by_text("Imported: the book below includes it.")
        done.wait_for(timeout=180_000)
        page.get_by_text("Net profit").first.wait_for(timeout=WAIT)  # the book, rerun
        seen = {
            "success": done.inner_text(),
            "errors": page.locator('[data-testid="stException"]').count(),
        }
        if shots:
            shots.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=shots / "resale_import.png")
        browser.close()
    return seen


def tick_and_order(url: str, signer: str, shots: Path | None = None) -> dict:
    """On Order today: sign with ``signer``, tick the first row of the Order today table (its
    checkbox in the grid, as a buyer clicks it) and click "Mark 1 ticked as ordered"; returns
    ``before``/``after`` (the Already ordered tile), ``button`` (the button's text once
    ticked), ``toast`` (the confirmation) and ``errors`` (exceptions shown)."""
    from playwright.sync_api import sync_playwright

    def tile(page) -> str:
        metric = page.locator('[data-testid="stMetric"]').filter(has_text="Already ordered")
        return metric.locator('[data-testid="stMetricValue"]').inner_text()

    with sync_playwright() as pw:
        browser, page = open_signed(pw, url, "order_today", "Order today", signer)
        page.get_by_text("Tick rows in the table").first.wait_for(timeout=WAIT)
        before = tile(page)
        grid = page.locator('[data-testid="stDataFrame"]').first
        grid.wait_for(timeout=WAIT)
        page.wait_for_timeout(1000)  # the grid draws its canvas after the frame appears
        box = grid.bounding_box()
        # the row-selection checkbox column is the grid's first; rows are 35 px under a
        # 35 px header
        page.mouse.click(box["x"] + 14, box["y"] + 35 + 17)
        button = page.get_by_role("button", name="Mark 1 ticked as ordered")
        button.wait_for(timeout=WAIT)
        wait_enabled(page, "Mark 1 ticked", exact=False)
        label = button.inner_text().strip()
        if shots:
            shots.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=shots / "order_today_ticked.png")
        button.click()
        toast = page.locator('[data-testid="stToast"]').first
        toast.wait_for(timeout=WAIT)
        seen = {"before": before, "button": label, "toast": toast.inner_text()}
        deadline = time.monotonic() + 60
        while tile(page) == before and time.monotonic() < deadline:
            page.wait_for_timeout(250)  # the page reruns with the new PO
        seen["after"] = tile(page)
        seen["errors"] = page.locator('[data-testid="stException"]').count()
        browser.close()
    return seen


def sign_in(url: str, email: str, forge: Callable[[list[dict]], list[dict]], shots=None) -> dict:
    """The sign-in in the real browser, against the identity provider the app is configured
    with (a test provider on 127.0.0.1 whose form takes the person's id): returns
    ``signed_out`` (what a visitor sees first: buttons, tiles, tables, sidebar text),
    ``signed_in`` (after the provider sends them back: heading, tiles, the sidebar's "Signed
    in as" line) and ``forged`` (for each cookie ``forge`` makes out of the real session's
    cookies, what a fresh browser holding only it sees). Saves ``sign_in.png`` and
    ``signed_in.png`` with ``shots``."""
    from playwright.sync_api import sync_playwright

    def seen(page) -> dict:
        return {
            "buttons": [  # each button's words (its icon's name is on a line before them)
                b.strip().splitlines()[-1]
                for b in page.locator("button").all_inner_texts()
                if b.strip()
            ],
            "metrics": page.locator('[data-testid="stMetric"]').count(),
            "tables": page.locator('[data-testid="stDataFrame"]').count(),
            "sidebar": " ".join(page.locator('[data-testid="stSidebar"]').all_inner_texts()),
        }

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        page = context.new_page()
        page.goto(url, wait_until="commit")
        page.get_by_role("button", name="Sign in").wait_for(timeout=WAIT)
        page.wait_for_timeout(1000)  # anything else the app would draw has drawn
        out = {"signed_out": seen(page)}
        if shots:
            shots.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=shots / "sign_in.png")
        page.get_by_role("button", name="Sign in").click()
        page.locator('input[name="sub"]').fill(email)  # the provider's own form
        page.get_by_role("button", name="Authorize").click()
        page.get_by_text(f"Signed in as {email}").wait_for(timeout=WAIT)
        page.locator('[data-testid="stMetric"]').first.wait_for(timeout=WAIT)
        out["signed_in"] = seen(page) | {
            "heading": page.locator("h1").first.inner_text(),
            "cookies": [c["name"] for c in context.cookies()],
        }
        if shots:
            page.locator(".js-plotly-plot").first.wait_for(timeout=WAIT)
            page.wait_for_timeout(1500)
            page.screenshot(path=shots / "signed_in.png")
        out["forged"] = []
        for cookie in forge(context.cookies()):
            other = browser.new_context(viewport={"width": 1400, "height": 1000})
            other.add_cookies([{**cookie, "url": url}])
            page = other.new_page()
            page.goto(url, wait_until="commit")
            page.get_by_role("button", name="Sign in").wait_for(timeout=WAIT)
            page.wait_for_timeout(1000)
            out["forged"].append(seen(page))
            other.close()
        browser.close()
    return out


def cold_start(data_root: Path, runs: int = 3) -> None:
    """Print, per run, how long a fresh ``stockroom serve`` takes to answer its health check
    and then to show the first page's content (title and KPI tiles) and charts in a new
    browser tab; run it with the Python of the checkout to measure."""
    from playwright.sync_api import sync_playwright

    for _ in range(runs):
        with serve(data_root) as url, sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1500})
            asked = time.monotonic()
            page.goto(url, wait_until="commit")
            page.locator('[data-testid="stMetric"]').first.wait_for(timeout=WAIT)
            content = time.monotonic() - asked
            page.locator(".js-plotly-plot").nth(1).wait_for(timeout=WAIT)
            charts = time.monotonic() - asked
            browser.close()
        up = UP_AFTER[url]
        print(
            f"up {up:.2f} s; first page content {up + content:.2f} s after start "
            f"(render {content:.2f} s); charts drawn {up + charts:.2f} s",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--screenshots", type=Path, default=PROJECT_ROOT / "docs" / "screenshots")
    parser.add_argument("--data-root", type=Path, default=PROJECT_ROOT / "data")
    parser.add_argument(
        "--reconcile-root",
        type=Path,
        default=PROJECT_ROOT / "data" / "reconcile-demo",
        help="A data root after `stockroom reconcile` (Reconciliation page).",
    )
    parser.add_argument(
        "--sim-root",
        type=Path,
        help="A data root with simulated listings mapped by `stockroom map`: Mapping and Holdings.",
    )
    parser.add_argument(
        "--own-root",
        type=Path,
        default=PROJECT_ROOT / "data" / "own-demo",
        help="A data root after `stockroom daily` on the bundled own data: Order today and "
        "Reconciliation into <screenshots>/own/.",
    )
    parser.add_argument(
        "--resale-root",
        type=Path,
        default=PROJECT_ROOT / "data" / "resale-demo",
        help="A data root after `stockroom resale demo` (Resale page).",
    )
    parser.add_argument(
        "--cold-start",
        type=Path,
        metavar="DATA_ROOT",
        help="Instead of screenshots: time the app's cold start on DATA_ROOT (3 runs).",
    )
    args = parser.parse_args()
    if args.cold_start:
        cold_start(args.cold_start)
        return
    import polars as pl

    from stockroom import store

    with serve(args.data_root) as url:
        pages = dict(PAGES)
        day = store.resolve_as_of(args.data_root, "forecasts", None)
        if day:
            pages.update(FORECAST_PAGES)
            # show a SKU on the global model, so the SHAP drivers chart is in the screenshot
            fc = store.read_snapshot(args.data_root, "forecasts", day)
            on_global = (
                fc.filter(pl.col("model") == "global_xgboost")
                .group_by("sku")
                .agg(pl.col("yhat").sum().alias("units"))
                .sort(["units", "sku"], descending=[True, False])
            )
            if on_global.height:
                del pages["forecast"]
                pages[f"forecast?sku={on_global['sku'][0]}"] = ("Forecast", 2)
        for slug, info in visit(url, args.screenshots, pages).items():
            print(slug, info)
    if store.resolve_as_of(args.reconcile_root, "flags", None):
        with serve(args.reconcile_root) as url:
            for slug, info in visit(url, args.screenshots, RECONCILE_PAGES).items():
                print(slug, info)
    if store.resolve_as_of(args.resale_root, "resale_items", None):
        with serve(args.resale_root) as url:
            for slug, info in visit(url, args.screenshots, RESALE_PAGES).items():
                print(slug, info)
    if args.sim_root:
        with serve(args.sim_root) as url:
            for slug, info in visit(url, args.screenshots, SIM_PAGES).items():
                print(slug, info)
    if store.resolve_as_of(args.own_root, "order_plan", None):
        own = {**RECONCILE_PAGES, "order_today": FORECAST_PAGES["order_today"]}
        with serve(args.own_root) as url:
            for slug, info in visit(url, args.screenshots / "own", own).items():
                print(slug, info)


if __name__ == "__main__":
    main()
