"""`stockroom reconcile`: the flags snapshot and the per-platform action files."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from stockroom_jobs.cli.common import (
    AsOfOption,
    DataRootOption,
    console,
    existing_root,
    parse_date,
)


def reconcile_command(
    as_of: AsOfOption = None,
    export: Annotated[
        Path | None,
        typer.Option(
            help="Folder for actions-<platform>.csv (end / update quantity / update price / "
            "create / import)."
        ),
    ] = None,
    data_root: DataRootOption = None,
) -> None:
    """Reconcile the central inventory against every platform's listings and the sync's
    orders; lands the `flags` snapshot (first seen / still open)."""
    from stockroom_jobs.reconcile import run_reconcile

    root = existing_root(data_root)
    summary = run_reconcile(root, parse_date(as_of, "--as-of"), export=export)
    for line in summary.lines():
        console.print(f"  {line}")
    if export:
        console.print(f"action files written to {export}")
