"""`stockroom forecast`: the forecasts snapshot."""

from __future__ import annotations

import time
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


def forecast_command(
    as_of: AsOfOption = None,
    horizon: Annotated[int, typer.Option(min=1, max=91, help="Days to forecast.")] = 28,
    promo_calendar: Annotated[
        Path | None,
        typer.Option(help="CSV/Excel/Parquet of promotions: sku and date (or start and end)."),
    ] = None,
    data_root: DataRootOption = None,
) -> None:
    """Forecast daily units per SKU from the orders and land a `forecasts` snapshot
    (rules: dormant, cold start, demand spike, low confidence)."""
    from stockroom_jobs.forecast import read_promo_calendar, run_forecast

    root = existing_root(data_root)
    started = time.perf_counter()
    promos = read_promo_calendar(promo_calendar) if promo_calendar else None

    def step(message: str) -> None:  # one line per stage: readable in a terminal and a log
        console.print(f"[{time.perf_counter() - started:5.1f} s] {message}", highlight=False)

    summary = run_forecast(
        root, parse_date(as_of, "--as-of"), horizon, promo_calendar=promos, on_step=step
    )
    for line in summary.lines():
        console.print(f"  {line}")
    console.print(f"run {summary.run_id} ({time.perf_counter() - started:.1f} s)")
