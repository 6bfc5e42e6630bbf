"""Report job: execute a parameterised notebook with papermill and export it to HTML."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from stockroom.config import DEFAULT_WINDOW_DAYS, PROJECT_ROOT, reports_dir
from stockroom.errors import StockroomError
from stockroom.store import resolve_as_of

NOTEBOOKS_DIR = PROJECT_ROOT / "notebooks"


def available_reports() -> list[str]:
    """Report names: the notebooks in ``notebooks/`` (file stems)."""
    return sorted(p.stem for p in NOTEBOOKS_DIR.glob("*.ipynb"))


@dataclass(frozen=True)
class ReportFiles:
    notebook: Path
    html: Path


def run_report(
    name: str,
    root: Path,
    *,
    as_of: date | None = None,
    window_days: int | None = DEFAULT_WINDOW_DAYS,
    category: str | None = None,
    progress: bool = True,
    extra: dict | None = None,
) -> ReportFiles:
    """Execute ``notebooks/<name>.ipynb`` with the standard parameters (``data_root``, ``as_of``,
    ``window_days``, ``category``) and write ``<root>/reports/<name>-<as_of>-<window>[-<category>]``
    ``.ipynb`` and ``.html`` (code hidden). ``window_days`` defaults to the app's window
    (:data:`stockroom.config.DEFAULT_WINDOW_DAYS`); None is the whole history. ``extra``:
    further notebook parameters (e.g. ``bench`` for ``forecast_accuracy``). ``as_of``
    defaults to the latest orders snapshot. Files are written under a temporary name and
    renamed into place.

    Raises :class:`StockroomError` for an unknown report or a failing cell (naming the cell).
    """
    import nbformat
    import papermill
    from nbconvert import HTMLExporter
    from traitlets.config import Config

    if name not in available_reports():  # a name, never a path ("../../x")
        known = ", ".join(available_reports())
        raise StockroomError(f"unknown report {name!r}; available: {known}")
    source = NOTEBOOKS_DIR / f"{name}.ipynb"
    latest = resolve_as_of(root, "orders", None)
    if as_of is not None and latest is not None and as_of > latest:
        raise StockroomError(
            f"--as-of {as_of} is after the newest orders snapshot ({latest}); "
            "give a date on or before it"
        )
    out_dir = reports_dir(root)
    out_dir.mkdir(parents=True, exist_ok=True)
    as_of = as_of or latest
    stem = "-".join(
        part
        for part in (
            name,
            as_of.isoformat() if as_of else "empty",
            f"{window_days}d" if window_days else "all",
            category.replace("/", "_").replace(" ", "_") if category else None,
        )
        if part
    )
    notebook, html = out_dir / f"{stem}.ipynb", out_dir / f"{stem}.html"
    tmp_notebook = notebook.with_suffix(".tmp.ipynb")
    parameters = {
        "data_root": str(root),
        "as_of": as_of.isoformat() if as_of else None,
        "window_days": window_days,
        "category": category,
        **(extra or {}),
    }
    try:
        # the kernel talks over IPC sockets in a private temporary folder, not TCP on
        # localhost (ipykernel warns that TCP is unencrypted, and any local user could connect)
        with tempfile.TemporaryDirectory(prefix="stockroom-kernel-") as sockets:
            papermill.execute_notebook(
                str(source),
                str(tmp_notebook),
                parameters=parameters,
                kernel_name="python3",
                progress_bar=progress,
                cwd=str(PROJECT_ROOT),
                log_output=False,
                config=Config({"KernelManager": {"transport": "ipc", "ip": f"{sockets}/kernel"}}),
                # jupyter_client interrupts the kernel (SIGINT) before every shutdown, and an
                # idle kernel logs it as an ERROR; a cell's own errors arrive as messages
                extra_arguments=["--IPKernelApp.log_level=CRITICAL"],
            )
    except papermill.PapermillExecutionError as exc:
        raise StockroomError(
            f"report {name} failed in cell {exc.exec_count}: {exc.ename}: {exc.evalue}"
        ) from None
    body, _ = HTMLExporter(
        exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True
    ).from_notebook_node(nbformat.read(tmp_notebook, as_version=4))
    tmp_html = html.with_suffix(".tmp.html")
    tmp_html.write_text(body, encoding="utf-8")
    os.replace(tmp_notebook, notebook)
    os.replace(tmp_html, html)
    return ReportFiles(notebook, html)
