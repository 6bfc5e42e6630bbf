"""`stockroom market ...`: best platform after fees, repricing, moves, summary, history, fees."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from stockroom import config
from stockroom_jobs.cli.common import (
    AsOfOption,
    DataRootOption,
    SnapshotDateOption,
    check_out,
    console,
    existing_root,
    parse_date,
    run_job,
    show_table,
    write_out,
)

if TYPE_CHECKING:
    import duckdb

    from stockroom.market import Context

OutOption = Annotated[
    Path | None, typer.Option(help="Write every row to this .csv, .xlsx or .parquet file.")
]

app = typer.Typer(
    help="What every item fetches on every platform: best platform after fees, repricing, "
    "price moves, per-platform summary, one item's history, the fee schedule.",
    no_args_is_help=True,
)


def _open(
    data_root: Path | None, as_of: str | None, out: Path | None
) -> tuple[Path, duckdb.DuckDBPyConnection, date, Context]:
    from stockroom import market
    from stockroom.db import connect
    from stockroom.market import views

    check_out(out)
    root = existing_root(data_root)
    as_of_day = parse_date(as_of, "--as-of")
    con = connect(root, as_of_day)
    day = views.market_day(con, as_of_day)
    if day is None:
        raise typer.BadParameter(
            f"{root} has no market snapshots"
            + ("" if as_of_day is None else f" on or before {as_of_day}")
            + "; land them with `stockroom ingest stockx-market`",
            param_hint="--data-root",
        )
    return root, con, day, market.context(root)


@app.command("best")
def best_command(as_of: AsOfOption = None, out: OutOption = None, data_root: DataRootOption = None):
    """Where to sell each item: the platform paying the most after fees (a faster-selling
    platform within the tie share wins), with sales in 30 days and volatility."""
    from stockroom.market import views

    _, con, day, ctx = _open(data_root, as_of, out)
    frame = views.best_platform(con, day, ctx.schedule, ctx.rules)
    counts = frame["best_platform"].value_counts(sort=True)
    split = ", ".join(f"{p} {n:,}" for p, n in counts.iter_rows())
    console.print(f"best platform on {day} for {frame.height:,} items: {split}", highlight=False)
    show_table(
        frame,
        {
            "title": "Item",
            "best_platform": "Best platform",
            "net": "Net",
            "currency": "Cur.",
            "lowest_ask": "Lowest ask",
            "sales_30d": "Sales 30 d",
            "runner_up": "Runner-up",
            "why": "Why",
        },
    )
    write_out(frame, out, "best platform")


@app.command("reprice")
def reprice_command(
    as_of: AsOfOption = None, out: OutOption = None, data_root: DataRootOption = None
):
    """Our asks above the market's lowest ask on items that sell, largest money at stake
    first, with a suggested price within floor (cost after fees) and ceiling. --out F.csv
    writes the list for a bulk-edit tool."""
    from stockroom.market import price_forecast, views

    _, con, day, ctx = _open(data_root, as_of, out)
    outlook = price_forecast.outlook(views.sales(con, day), day)
    frame = views.repricing(con, day, ctx.schedule, ctx.rules, ctx.price_rules, outlook)
    lower = frame.filter(frame["at_stake"] > 0)
    if outlook is None:
        console.print(
            f"no price outlook landed for {day} (`stockroom market outlook --as-of {day}`): "
            "asks are judged on today's market alone",
            highlight=False,
        )
    else:
        c = outlook.check
        verdict = "used" if outlook.trusted else "not used"
        console.print(
            f"price outlook {verdict}: 30-day-ahead MAPE {c['model']:.1%} against the last "
            f"sale's {c['last_sale']:.1%} on the latest scored month "
            f"({c['scored']:,} item-days)",
            highlight=False,
        )
    currency = frame["currency"].first() or ""
    console.print(
        f"repricing on {day}: {lower.height:,} asks to lower "
        f"({lower['at_stake'].sum():,.2f} {currency} at stake), "
        f"{frame.height - lower.height:,} held (floor or rising price) "
        f"(asks > {ctx.rules.reprice_above:.0%} above the lowest ask)",
        highlight=False,
    )
    show_table(
        frame,
        {
            "title": "Item",
            "platform": "Platform",
            "ask_price": "Our ask",
            "lowest_ask": "Lowest ask",
            "suggested_price": "Suggested",
            "floor": "Floor",
            "on_hand": "Units",
            "at_stake": "At stake",
            "action": "Action",
        },
    )
    write_out(frame, out, "repricing")


@app.command("moves")
def moves_command(
    since_days: Annotated[int, typer.Option(min=1, help="Days back from the as-of date.")] = 30,
    threshold: Annotated[
        float | None,
        typer.Option(min=0.0, max=1.0, help="Share (default: [market] move_threshold)."),
    ] = None,
    as_of: AsOfOption = None,
    out: OutOption = None,
    data_root: DataRootOption = None,
):
    """Lowest asks that moved more than the threshold from one day to the next."""
    from stockroom.market import views

    _, con, day, ctx = _open(data_root, as_of, out)
    limit = ctx.rules.move_threshold if threshold is None else threshold
    frame = views.price_moves(con, day - timedelta(days=since_days - 1), day, limit)
    console.print(
        f"{frame.height:,} moves above {limit:.0%} in the {since_days} days to {day}",
        highlight=False,
    )
    show_table(
        frame,
        {
            "day": "Day",
            "title": "Item",
            "platform": "Platform",
            "before": "Before",
            "after": "After",
            "change": "Change",
        },
    )
    write_out(frame, out, "moves")


@app.command("summary")
def summary_command(
    by: Annotated[str | None, typer.Option(help="Also split by 'category' or 'brand'.")] = None,
    since_days: Annotated[int, typer.Option(min=1, help="Window length, days.")] = 30,
    as_of: AsOfOption = None,
    out: OutOption = None,
    data_root: DataRootOption = None,
):
    """Per platform over the window: items, average lowest ask, fee share, sales per item in
    30 days and volatility."""
    from stockroom.market import views

    if by not in (None, "category", "brand"):
        raise typer.BadParameter("use 'category' or 'brand'", param_hint="--by")
    _, con, day, _ = _open(data_root, as_of, out)
    frame = views.platform_summary(con, day - timedelta(days=since_days - 1), day, by)
    columns = {} if by is None else {by: by.title()}
    show_table(
        frame,
        {
            **columns,
            "platform": "Platform",
            "items": "Items",
            "avg_lowest_ask": "Avg lowest ask",
            "avg_fee_share": "Avg fee share",
            "avg_sales_30d": "Sales/item 30 d",
            "avg_volatility": "Volatility",
        },
        rows=50,
    )
    write_out(frame, out, "summary")


@app.command("history")
def history_command(
    sku: Annotated[str, typer.Argument(help="The item's SKU.")],
    since_days: Annotated[int, typer.Option(min=1, help="Days back from the as-of date.")] = 365,
    as_of: AsOfOption = None,
    out: OutOption = None,
    data_root: DataRootOption = None,
):
    """One item's lowest ask, highest bid, last sale and net after fees per day and platform."""
    from stockroom.market import views

    _, con, day, ctx = _open(data_root, as_of, out)
    frame = views.history(con, sku, day - timedelta(days=since_days - 1), day, ctx.schedule)
    if frame.is_empty():
        raise typer.BadParameter(f"no market rows for {sku!r} up to {day}", param_hint="SKU")
    latest = frame.filter(frame["day"] == frame["day"].max())
    console.print(f"{sku}: {frame.height:,} rows, {frame['day'].n_unique()} days", highlight=False)
    show_table(
        latest,
        {
            "day": "Day",
            "platform": "Platform",
            "lowest_ask": "Lowest ask",
            "highest_bid": "Highest bid",
            "last_sale_price": "Last sale",
            "net_lowest_ask": "Net",
            "sales_30d": "Sales 30 d",
        },
    )
    write_out(frame, out, "history")


@app.command("fees")
def fees_command(as_of: AsOfOption = None, data_root: DataRootOption = None):
    """The fee schedule in force (the bundled one, or [market] fees of stockroom.toml), with
    the page each figure comes from."""
    from datetime import UTC, datetime

    from stockroom import config, market
    from stockroom.market import fees

    root = config.data_root(data_root)
    day = parse_date(as_of, "--as-of") or datetime.now(UTC).date()
    frame = fees.schedule_on(market.context(root).schedule, day)
    console.print(f"fee schedule in force on {day}", highlight=False)
    show_table(
        frame,
        {
            "platform": "Platform",
            "category": "Category",
            "price_from": "From price",
            "fee_share": "Fee",
            "payment_share": "Payment",
            "fixed_fee": "Fixed",
            "currency": "Cur.",
            "effective_from": "Since",
            "source_url": "Source",
        },
        rows=100,
    )


# -- landing market data (registered as `stockroom ingest stockx-market` / `market-api`) ------


def ingest_stockx_market(
    workbook: Annotated[
        Path | None,
        typer.Argument(
            help="The StockX 2019 Data Contest workbook (default: the copy bundled in data/raw)."
        ),
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the simulated order books.")] = 18,
    data_root: DataRootOption = None,
) -> None:
    """Land a market: the real StockX sales (`orders`, `products`), one `market` snapshot per
    day (real StockX last sale, 30-day count and volatility; simulated order books on StockX,
    Alias, eBay and ShootStrayt, fees from the fee schedule) and our reseller's `stock`."""
    from stockroom_jobs.market import ingest_stockx_market as job

    root = config.data_root(data_root)
    run_job(
        f"reading {workbook or 'the bundled StockX workbook'}",
        lambda progress: job(workbook, root, seed=seed, on_progress=progress),
        root,
    )


def ingest_market_api(
    url: Annotated[str, typer.Argument(help="Base URL of the StockX-like market-data API.")],
    query: Annotated[str, typer.Option(help="Catalog search: only products matching it.")] = "",
    currency: Annotated[str, typer.Option(help="Currency of the market data.")] = "USD",
    snapshot_date: SnapshotDateOption = None,
    data_root: DataRootOption = None,
) -> None:
    """Pull lowest ask, highest bid, last sale and 30-day sales per variant into today's
    `market` snapshot (that platform's rows replaced, the others carried forward). Token:
    STOCKROOM_STOCKX_TOKEN (or [sources.stockx] token in .streamlit/secrets.toml)."""
    from stockroom_jobs.market import ingest_market_api as job

    root = config.data_root(data_root)
    day = parse_date(snapshot_date, "--snapshot-date")
    run_job(
        f"reading {url}",
        lambda progress: job(
            url, root, query=query, currency=currency, snapshot_date=day, on_progress=progress
        ),
        root,
    )


@app.command("outlook")
def outlook_command(as_of: AsOfOption = None, data_root: DataRootOption = None) -> None:
    """Forecast every item's median sale price of the next 30 days from the sales up to the
    market day and land it (`price_outlook`); repricing holds an ask the market is forecast to
    reach when the forecaster beat the last sale on the latest month whose outcome is known."""
    from stockroom_jobs.market import land_price_outlook

    root = existing_root(data_root)
    run = land_price_outlook(root, parse_date(as_of, "--as-of"))
    if run is None:
        raise typer.BadParameter(
            "no market snapshot, or too few sales before it to train on", param_hint="--as-of"
        )
    console.print(f"price outlook landed ({run.run_id})", highlight=False)


@app.command("alerts")
def alerts_command(data_root: DataRootOption = None) -> None:
    """Evaluate the price alerts of the watched items ([[market.watch]] in stockroom.toml) on
    the latest market snapshot now, and send the new ones (`stockroom daily` does the same
    every morning). Open alerts stay silent until cleared; a cleared one is re-armed."""
    from stockroom import alerts, sources, workbench

    root = existing_root(data_root)
    settings = sources.load(root)
    price_rules = {"price_target", "price_move"} & set(settings.alerts.rules)
    if not settings.market.watch or not price_rules:
        raise typer.BadParameter(
            "no [[market.watch]] items (or no price_target/price_move in [alerts] rules) in "
            f"{root / 'stockroom.toml'}",
            param_hint="--data-root",
        )
    scoped = settings.model_copy(
        update={"alerts": settings.alerts.model_copy(update={"rules": sorted(price_rules)})}
    )
    eng = workbench.engine(root)
    found = alerts.evaluate(root, scoped)
    new, cleared = alerts.update(eng, found, rules=price_rules)
    sent = alerts.send(eng, settings.alerts, new)
    for c in new:
        console.print(f"new  {c.rule:<12} {c.message}", markup=False)
    console.print(
        f"{len(found)} holding, {len(new)} new, {len(cleared)} cleared; sent "
        f"{sent['email']} email(s), {sent['webhook']} webhook call(s)",
        highlight=False,
    )


def ingest_pricecharting(
    source: Annotated[
        Path | None,
        typer.Argument(help="A PriceCharting snapshot (.parquet; default: the bundled one)."),
    ] = None,
    data_root: DataRootOption = None,
) -> None:
    """Land PriceCharting's last known price per card variant and grade as the `market` rows of
    platform `pricecharting` on the snapshot's date (a price guide: never a best platform)."""
    from stockroom_jobs.market import ingest_pricecharting as job

    root = config.data_root(data_root)
    run_job(
        f"reading {source or 'the bundled PriceCharting snapshot'}",
        lambda _p: job(source, root),
        root,
    )
