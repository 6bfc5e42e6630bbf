"""The app's server process: Streamlit's own command line, with a head start.

Once Streamlit listens, while the first browser downloads and starts the frontend (1-2 s), a
background thread imports what every page reads with (polars, DuckDB, plotly and the library's
read side) and opens the data root's workbench database and DuckDB views for the latest day.
The first page then starts from warm modules instead of paying for them; a session that
arrives first simply waits on Python's import lock for the module in progress. Nothing here
changes what a page shows. ``stockroom serve`` execs this module.
"""

from __future__ import annotations

import contextlib
import importlib
import socket
import sys
import threading

import tenacity

#: modules every page imports, heaviest first
WARM_MODULES = (
    "polars",
    "duckdb",
    "plotly.graph_objects",
    "sqlalchemy",
    "stockroom.db",
    "stockroom.sales",
    "stockroom.concentration",
    "stockroom.supply",
    "stockroom.charts",
    "stockroom.health",
    "stockroom.workbench",
    "stockroom.procurement.plan",
    "stockroom.forecast.views",
    "stockroom.reconcile.views",
    "stockroom.mapping.review",
)


@tenacity.retry(
    retry=tenacity.retry_if_exception_type(OSError),
    stop=tenacity.stop_after_delay(60),
    wait=tenacity.wait_fixed(0.05),
    reraise=True,
)
def _listening(port: int) -> None:
    """Return once the server accepts connections on ``port`` (so the imports below do not
    hold the GIL while Streamlit is still starting); raises ``OSError`` after 60 s."""
    socket.create_connection(("127.0.0.1", port), timeout=0.5).close()


def warm(port: int | None = None) -> None:
    """Once the server listens on ``port``: import :data:`WARM_MODULES`, then open the
    workbench database and the shared DuckDB connection of the data root's latest order day.
    Errors are left for the pages to report (a missing data root is a page hint, not a server
    failure)."""
    try:
        if port:
            with contextlib.suppress(OSError):  # not listening after 60 s: warm up anyway
                _listening(port)
        for name in WARM_MODULES:
            importlib.import_module(name)
        from stockroom import config, db, store, workbench

        root = config.data_root()
        workbench.engine(root)
        days = store.snapshot_dates(root, "orders")
        if days:
            db.cached(root, days[-1])
    except Exception:  # noqa: BLE001 -- a head start only; the page shows the real error
        pass


def main() -> None:
    """``python -m stockroom_jobs.serve run app.py --server.port ...``: Streamlit's CLI."""
    args = sys.argv[1:]
    port = int(args[args.index("--server.port") + 1]) if "--server.port" in args else 8501
    threading.Thread(target=warm, args=(port,), name="stockroom-warm", daemon=True).start()
    from streamlit.web import cli

    sys.argv = ["streamlit", *sys.argv[1:]]
    cli.main()


if __name__ == "__main__":
    main()
