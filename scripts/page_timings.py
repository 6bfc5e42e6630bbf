"""Time a checkout's pages through Streamlit's AppTest, for side-by-side runs of two releases.

Run it with the Python of the checkout to measure (each release imports its own library):

    <checkout>/.venv/bin/python scripts/page_timings.py --app <checkout>/app.py --root DIR

Per page: the first render of a new session on cleared caches (p50 of ``--repeat``) and the
rerun after each window change (90 / 30 / 180 / 365 days; p50 and p95 over all of them).
Only Streamlit and the app are used, so it runs on releases without ``stockroom bench pages``
(which also times the queries beside hand-written DuckDB; prefer it for one release).
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import time
from pathlib import Path

PAGES = ("seller_concentration", "supply", "forecast", "order_today", "data_health", "mapping")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--app", type=Path, required=True, help="The checkout's app.py.")
    parser.add_argument("--root", type=Path, required=True, help="A data root.")
    parser.add_argument("--pages", default=",".join(PAGES))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--mapping-clicks",
        type=int,
        default=0,
        help="Also time N clicks of Reject on the Mapping page (writes decisions: use a copy).",
    )
    args = parser.parse_args()
    from stockroom import config

    os.environ[config.ENV_DATA_ROOT] = str(args.root.resolve())
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    def clear() -> None:
        st.cache_data.clear()
        st.cache_resource.clear()
        try:  # releases with the shared DuckDB connection
            from stockroom import db

            db._cache.clear()
        except (ImportError, AttributeError):
            pass

    clear()
    AppTest.from_file(str(args.app), default_timeout=600).run()  # imports, outside the figures
    for page in args.pages.split(","):
        firsts, changes = [], []
        for _ in range(args.repeat):
            clear()
            at = AppTest.from_file(str(args.app), default_timeout=600)
            started = time.perf_counter()
            at.run()
            if page != "seller_concentration":
                at.switch_page(f"app_pages/{page}.py").run()
            firsts.append(time.perf_counter() - started)
            windows = [b for b in at.sidebar.selectbox if b.label == "Window"]
            for label in ("90 days", "30 days", "180 days", "365 days") if windows else ():
                started = time.perf_counter()
                [b for b in at.sidebar.selectbox if b.label == "Window"][0].select(label).run()
                changes.append(time.perf_counter() - started)
            if at.exception:
                raise SystemExit(f"{page} raised: {at.exception[0].message}")
        changes.sort()
        if not changes:  # a page without a window (releases after issue 17's sidebar)
            changes = [math.nan]
        p95 = changes[max(0, math.ceil(0.95 * len(changes)) - 1)]
        if page == "mapping" and args.mapping_clicks:
            clicks = []
            for _ in range(args.mapping_clicks):
                started = time.perf_counter()
                at.button[1].click().run()  # Reject the item on top of the review queue
                clicks.append(time.perf_counter() - started)
            print(f"mapping: a Reject click and its rerun, p50 {statistics.median(clicks):.3f} s")
        print(
            f"{page:22} first render p50 {statistics.median(firsts):6.2f} s   window change "
            f"p50 {statistics.median(changes):6.3f} s  p95 {p95:6.3f} s",
            flush=True,
        )


if __name__ == "__main__":
    main()
