"""Sync one configured source (:mod:`stockroom.sources`): files, a SQL database or a
marketplace API, each as a tracked run.

Marketplace APIs are delta-synced: the pull starts at the stored watermark (the source's
``since`` the first time) and the new watermark is stored only after the rows landed, so a
failed run reads them again and a re-run lands nothing new (orders are upserted by key). A
refused token (HTTP 401/403) pauses the source with the reason: later syncs skip it (and say
so) until `stockroom sources resume NAME`; it is never retried in a loop.
"""

from __future__ import annotations

from datetime import UTC, datetime
from glob import glob
from pathlib import Path

import polars as pl

from stockroom import sources, vault, workbench
from stockroom.errors import StockroomError
from stockroom.ingest import exports, marketplaces
from stockroom.ingest.http import Refused
from stockroom.tables import ORDERS, STOCK
from stockroom_jobs.runs import Part, tracked_run


class SourcePaused(StockroomError):
    """The source is paused (its token was refused); nothing was requested."""


def sync_source(root: Path, source: sources.Source, *, now: datetime | None = None) -> str:
    """Sync ``source`` into the store; returns a one-line summary. Raises
    :class:`SourcePaused` for a paused source, :class:`stockroom.ingest.http.Refused` after
    pausing one whose token was refused, and what the import raises otherwise."""
    eng = workbench.engine(root)
    st = sources.state(eng).get(source.name)
    if st and st["status"] == "paused":
        raise SourcePaused(
            f"source {source.name} is paused since {st['updated_at']:%Y-%m-%d %H:%M}: "
            f"{st['reason']} (fix it, then `stockroom sources resume {source.name}`)"
        )
    if source.kind == "files":
        return _files(root, source)
    if source.kind == "sql":
        from stockroom_jobs.ingest import ingest_sql

        run = ingest_sql(
            source.url,
            root,
            table=source.table,
            query=source.query,
            watermark_column=source.watermark,
            platform=source.platform,
            currency=source.currency,
            into=source.into,
        )
        return f"{source.name}: {run.rows_landed:,} rows landed"
    return _api(root, source, now or datetime.now(UTC))


def _files(root: Path, source: sources.Source) -> str:
    from stockroom.procurement import repo
    from stockroom_jobs import own

    paths = []
    for pattern in source.paths:
        full = pattern if Path(pattern).is_absolute() else str(Path(root) / pattern)
        paths += [Path(p) for p in sorted(glob(full))]
    if not paths:
        raise StockroomError(f"source {source.name}: no file matches {', '.join(source.paths)}")
    if source.import_kind in ("pos", "settings"):
        eng = workbench.engine(root)
        fn = repo.import_pos if source.import_kind == "pos" else repo.import_settings
        n = sum(fn(eng, p, actor=f"source:{source.name}") for p in paths)
        return f"{source.name}: {n} row(s) added or changed"
    if source.import_kind == "listings":
        from stockroom_jobs.ingest import ingest_listings_files

        run = ingest_listings_files(
            paths,
            root,
            platform=source.platform,
            currency=source.currency,
            seller_id="own",
            snapshot_date=source.snapshot_date,
        )
        return f"{source.name}: {run.rows_landed:,} listings landed"
    imported = own.import_files(
        paths,
        root,
        kind=source.import_kind,
        layout=source.layout,
        platform=source.platform,
        currency=source.currency,
        snapshot_date=source.snapshot_date,
        actor=f"source:{source.name}",
    )
    return (
        f"{source.name}: {imported.run.rows_landed:,} rows landed ({', '.join(imported.layouts)})"
    )


def _api(root: Path, source: sources.Source, now: datetime) -> str:
    from stockroom_jobs import own

    token = vault.token(root, source.name)
    secrets = [token or "", *(token or "").split(":")]
    headers = marketplaces.headers(source.kind, token)
    eng = workbench.engine(root)
    mark_name = f"api:{source.name}"
    since = workbench.get_watermark(eng, mark_name) or source.since
    try:
        with (
            tracked_run(root, f"sync-{source.kind}", f"{source.name} {source.url}", secrets) as run,
            run.fetching(
                min_interval=source.min_interval, headers=headers, respect_robots=False
            ) as fetcher,
        ):
            if source.kind == "wildberries":
                pulled = marketplaces.wildberries(fetcher, source.url, since)
            else:
                pulled = marketplaces.ozon(
                    fetcher, source.url, _utc(since), now.strftime("%Y-%m-%dT%H:%M:%SZ")
                )
            orders, rejected = _timestamps(pulled.orders)
            parts = []
            days = exports.by_day(orders) if orders.height else {}
            if days:
                parts.append(Part(ORDERS, days, rejected=rejected, scope=ORDERS.primary_key))
            if pulled.stock.height:
                found = pulled.stock["location"].unique().to_list()
                own.add_location_codes(eng, found, actor=f"source:{source.name}")
                parts.append(
                    Part(STOCK, {now.date(): pulled.stock}, scope=("seller_id", "location"))
                )
            if parts:
                run.land(parts, sources=[], source=source.url)
    except Refused as exc:
        sources.set_state(eng, source.name, "paused", f"token refused (HTTP {exc.status})", None)
        raise
    if pulled.watermark is not None:
        workbench.set_watermark(eng, mark_name, pulled.watermark, run.run_id)
    return (
        f"{source.name}: {orders.height:,} order lines, {pulled.stock.height:,} stock rows in "
        f"{pulled.pages} page(s); watermark {pulled.watermark or since}"
    )


def _utc(text: str) -> str:
    return text if text.endswith("Z") else text + "Z"


def _timestamps(frame: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    from stockroom.ingest.files import parse_timestamps

    if not frame.height:
        return frame, None
    return parse_timestamps(frame, "order_ts", ORDERS.name)
