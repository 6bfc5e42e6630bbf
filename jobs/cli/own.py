"""`stockroom import` (the seller's own orders, stock, inventory, POs, suppliers) and
`stockroom locations`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from stockroom import config
from stockroom_jobs.cli.common import (
    AllowEmptyOption,
    DataRootOption,
    MaxBadShareOption,
    SnapshotDateOption,
    console,
    parse_date,
    run_job,
)

KINDS = ("orders", "stock", "inventory", "pos", "settings")
LAYOUT_HELP = (
    "Layout of the file: shopify-orders, ebay-orders, online-retail, shopify-inventory, or the "
    "generic orders/stock/inventory. Default: recognised by the headers."
)


def import_command(
    paths: Annotated[list[Path], typer.Argument(help="CSV/TSV/Excel exports of one kind.")],
    kind: Annotated[
        str | None,
        typer.Option(
            help="orders, stock, inventory, pos (purchase orders with receipts) or settings "
            "(suppliers and per-SKU lead time, review period, MOQ, pack size, service level). "
            "Default: recognised by the headers."
        ),
    ] = None,
    layout: Annotated[str | None, typer.Option(help=LAYOUT_HELP)] = None,
    platform: Annotated[
        str | None, typer.Option(help="Platform of orders whose layout does not say it.")
    ] = None,
    currency: Annotated[str, typer.Option(help="Currency of rows without one (ISO 4217).")] = "USD",
    seller: Annotated[str, typer.Option(help="Your seller id on your orders and stock.")] = "own",
    location: Annotated[
        str | None, typer.Option(help="Location of a stock file without a location column.")
    ] = None,
    add_locations: Annotated[
        bool,
        typer.Option(
            "--add-locations", help="Register locations the file names that are not known yet."
        ),
    ] = False,
    snapshot_date: SnapshotDateOption = None,
    max_bad_share: MaxBadShareOption = 0.05,
    allow_empty: AllowEmptyOption = False,
    data_root: DataRootOption = None,
) -> None:
    """Import your own business: orders (Shopify, eBay or any layout), stock per location,
    the central inventory, purchase orders with receipts, suppliers and per-SKU settings."""
    if kind is not None and kind not in KINDS:
        raise typer.BadParameter(", ".join(KINDS), param_hint="--kind")
    root = config.data_root(data_root)
    actor = config.actor()
    if kind in ("pos", "settings"):
        from stockroom import workbench
        from stockroom.procurement import repo

        eng = workbench.engine(root)
        for path in paths:
            if kind == "pos":
                n = repo.import_pos(eng, path, actor=actor)
                console.print(f"{path.name}: {n} purchase order line(s) added or received")
            else:
                n = repo.import_settings(eng, path, actor=actor)
                console.print(f"{path.name}: {n} supplier/SKU setting row(s) written")
        return
    from stockroom_jobs import own

    day = parse_date(snapshot_date, "--snapshot-date")
    result = {}

    def job(progress):
        imported = own.import_files(
            paths,
            root,
            kind=kind,
            layout=layout,
            platform=platform,
            currency=currency,
            seller_id=seller,
            location=location,
            snapshot_date=day,
            max_bad_share=max_bad_share,
            allow_empty=allow_empty,
            add_locations=add_locations,
            actor=actor,
            on_progress=progress,
        )
        result["imported"] = imported
        return imported.run

    run = run_job(f"importing {', '.join(p.name for p in paths)}", job, root)
    console.print(f"  layout: {', '.join(dict.fromkeys(result['imported'].layouts))}")
    for warning in run.warnings:
        console.print(f"  warning: {warning}", markup=False)


locations_app = typer.Typer(help="Stock locations (warehouses).", no_args_is_help=True)


@locations_app.command("list")
def locations_list(data_root: DataRootOption = None) -> None:
    """List the registered locations."""
    from stockroom import workbench
    from stockroom_jobs import own

    for code in own.locations(workbench.engine(config.data_root(data_root))):
        console.print(code)


@locations_app.command("add")
def locations_add(
    codes: Annotated[list[str], typer.Argument(help="Location codes/names.")],
    data_root: DataRootOption = None,
) -> None:
    """Register locations (audited); stock imports quarantine rows of unknown ones."""
    from stockroom import workbench
    from stockroom_jobs import own

    n = own.add_location_codes(
        workbench.engine(config.data_root(data_root)), codes, actor=config.actor()
    )
    console.print(f"{n} location(s) added")
