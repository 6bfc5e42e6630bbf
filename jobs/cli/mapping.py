"""`stockroom map`: sellers and SKUs across platforms."""

from __future__ import annotations

import time
from typing import Annotated

import typer

from stockroom_jobs.cli.common import (
    AsOfOption,
    DataRootOption,
    console,
    existing_root,
    parse_date,
)


def map_command(
    as_of: AsOfOption = None,
    precision: Annotated[
        float,
        typer.Option(min=0.5, max=1.0, help="Precision target for auto-accepting learned matches."),
    ] = 0.98,
    data_root: DataRootOption = None,
) -> None:
    """Map sellers and SKUs of the latest listings (tiers: exact ids, structured SKUs,
    cross-listings, learned titles); store them audited; print coverage and precision."""
    from stockroom_jobs.mapping import run_mapping

    root = existing_root(data_root)
    started = time.perf_counter()

    def step(message: str) -> None:
        console.print(f"[{time.perf_counter() - started:5.1f} s] {message}", highlight=False)

    report = run_mapping(root, parse_date(as_of, "--as-of"), precision, on_step=step)
    for line in report.lines():
        console.print(f"  {line}")
    console.print(f"done in {time.perf_counter() - started:.1f} s")
