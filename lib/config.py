"""The one place that knows where things are.

Data root resolution order (first hit wins):

1. an explicit ``data_root`` argument (CLI ``--data-root``, page sidebar, notebook parameter);
2. the ``STOCKROOM_DATA_ROOT`` environment variable;
3. ``[tool.stockroom] data_root`` in the project's ``pyproject.toml`` (relative to that file);
4. ``./data`` under the project root.

Everything else (snapshots, reports, staging) lives under the data root, so pointing the data
root somewhere else moves the whole workbench.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
ENV_DATA_ROOT = "STOCKROOM_DATA_ROOT"


def _pyproject_data_root() -> Path | None:
    pyproject = PROJECT_ROOT / "pyproject.toml"
    if not pyproject.is_file():
        return None
    with pyproject.open("rb") as fh:
        settings = tomllib.load(fh).get("tool", {}).get("stockroom", {})
    value = settings.get("data_root")
    return (PROJECT_ROOT / value).resolve() if value else None


def data_root(explicit: str | os.PathLike[str] | None = None) -> Path:
    """Return the absolute data root (it need not exist yet)."""
    if explicit:
        return Path(explicit).expanduser().resolve()
    env = os.environ.get(ENV_DATA_ROOT)
    if env:
        return Path(env).expanduser().resolve()
    return _pyproject_data_root() or (PROJECT_ROOT / "data").resolve()


def snapshots_dir(root: Path) -> Path:
    """``<root>/snapshots``: one folder per table, hive-partitioned by ``snapshot_date``."""
    return root / "snapshots"


def staging_dir(root: Path) -> Path:
    """``<root>/.staging``: where writes are built before the atomic swap (same filesystem)."""
    return root / ".staging"


def reports_dir(root: Path) -> Path:
    """``<root>/reports``: executed notebooks and their HTML."""
    return root / "reports"


def bundled_olist_dir() -> Path:
    """The real Olist export bundled with the project (see data/README.md for provenance)."""
    return PROJECT_ROOT / "data" / "raw" / "olist"
