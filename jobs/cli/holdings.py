"""`stockroom holdings`: inventory on the market per Seller x card x treatment."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Annotated

import typer

from stockroom_jobs.cli.common import (
    AsOfOption,
    DataRootOption,
    check_out,
    console,
    existing_root,
    parse_date,
    write_out,
)


def holdings_command(
    as_of: AsOfOption = None,
    since_days: Annotated[
        int, typer.Option(min=0, help="The change in units is against this many days earlier.")
    ] = 30,
    platform: Annotated[str | None, typer.Option(help="Only this platform's listings.")] = None,
    brand: Annotated[str | None, typer.Option(help="Only this brand.")] = None,
    category: Annotated[str | None, typer.Option(help="Only this catalog category.")] = None,
    price_min: Annotated[
        float | None, typer.Option(min=0, help="Lowest asking price per unit (inclusive).")
    ] = None,
    price_max: Annotated[
        float | None, typer.Option(min=0, help="Highest asking price per unit (inclusive).")
    ] = None,
    risk: Annotated[
        bool, typer.Option("--risk", help="Export single-seller risk per product instead.")
    ] = False,
    daily: Annotated[
        bool,
        typer.Option(
            "--daily", help="Export every day's holdings since --since-days instead (the trend)."
        ),
    ] = False,
    out: Annotated[
        Path | None,
        typer.Option(help="Write every row to this .csv, .xlsx or .parquet file."),
    ] = None,
    data_root: DataRootOption = None,
) -> None:
    """Who holds what on the market (active listings, per unified Seller and catalog product):
    units, listings, value at the lowest ask and the change since --since-days, and which
    products only one Seller holds. Prints the headline and the largest holdings; --out
    exports them."""
    from rich.table import Table

    from stockroom import holdings
    from stockroom.db import connect

    check_out(out)
    if risk and daily:
        raise typer.BadParameter("choose one of --risk and --daily", param_hint="--daily")
    root = existing_root(data_root)
    try:
        scope = holdings.Scope(platform, brand, category, price_min, price_max)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--price-min/--price-max") from None
    as_of_day = parse_date(as_of, "--as-of")
    con = connect(root, as_of_day)
    days = holdings.listing_days(con, as_of_day)
    if not days:
        raise typer.BadParameter(f"{root} has no listings snapshots", param_hint="--data-root")
    day = days[-1]
    since = next((d for d in days if d >= day - timedelta(days=since_days)), day)
    table = holdings.named(con, holdings.holdings(con, day, scope, since=since), root, day)
    risks = holdings.named_risk(table)
    summary = holdings.summary(table, risks)
    currency = holdings.currency(con, day)
    console.print(
        f"holdings on {day} (change since {since}): {summary['value']:,.2f} {currency} in "
        f"{summary['units']:,} units, {summary['listings']:,} listings, "
        f"{summary['sellers']:,} sellers, {summary['products']:,} products; "
        f"one seller holds {summary['single_seller_share'] or 0:.1%} of products "
        f"({summary['single_seller_value_share'] or 0:.1%} of value)",
        highlight=False,
    )
    view = Table("Seller", "Product", "Treatment", "Units", f"Value ({currency})", "Change")
    for row in table.head(15).iter_rows(named=True):
        view.add_row(
            row["seller"],
            row["product"],
            row["treatment"] or "",
            f"{row['units']:,}",
            f"{row['value']:,.2f}",
            f"{row['units_change']:+d}",
        )
    console.print(view)
    frame = risks if risk else table
    if daily and out is not None:
        frame = holdings.named(con, holdings.history(con, since, day, scope), root, day)
    write_out(frame, out, "risk" if risk else "daily" if daily else "holdings")
