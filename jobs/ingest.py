"""Ingestion jobs: read a source with a ``stockroom.ingest`` adapter, land validated snapshots.

Every job runs inside :func:`stockroom_jobs.runs.tracked_run` (recorded in the workbench database)
and
lands through :meth:`stockroom_jobs.runs.Run.land` (row-level validation, quarantine, bad-share
limit,
atomic snapshot swaps).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl

from stockroom import store, vault, workbench
from stockroom.errors import InputError, InputProblem
from stockroom.ingest import api, exports, olist, sql, storefront, tabular
from stockroom.ingest.files import parse_timestamps
from stockroom.sim.marketplace import SimConfig, simulate
from stockroom.tables import LISTINGS, ORDERS, PRODUCTS, SELLERS, SOURCE_FILE, SOURCE_ROW, STOCK
from stockroom_jobs.runs import MAX_BAD_SHARE, Part, Run, tracked_run

Progress = Callable[[str, int, int], None]


def ingest_olist(
    source_dir: Path,
    root: Path,
    on_progress: Progress | None = None,
    max_bad_share: float = MAX_BAD_SHARE,
    *,
    allow_empty: bool = False,
) -> Run:
    """Land an Olist export as snapshots (see ``stockroom.ingest.olist`` for the mapping).

    Snapshot policy: ``orders`` is an events table, one partition per UTC day of order activity
    (what a daily job would land); the seller register and the catalog have no history in the
    export, so each is landed once per load dated on the export's first day of activity, which
    makes every ``as_of`` inside the export see them.

    Rows failing a check (negative price, unknown status, repeated key, ...) are quarantined;
    cells the export's own format cannot parse (a date that is no date) raise
    :class:`stockroom.errors.InputError` and nothing lands. ``on_progress(table, done, total)`` is
    called as partitions land.
    """
    with tracked_run(root, "ingest-olist", str(source_dir)) as run:
        export = olist.read_export(source_dir)
        parts = [
            Part(SELLERS, {export.first_day: export.sellers}, olist.SOURCE_COLUMNS["sellers"]),
            Part(PRODUCTS, {export.first_day: export.products}, olist.SOURCE_COLUMNS["products"]),
            Part(ORDERS, olist.orders_by_day(export.orders), olist.SOURCE_COLUMNS["orders"]),
        ]
        run.land(
            parts,
            sources=store.describe_sources(export.sources),
            max_bad_share=max_bad_share,
            on_progress=on_progress,
            allow_empty=allow_empty,
        )
    return run


def _today() -> date:
    return datetime.now(UTC).date()


def ingest_listings_files(
    paths: Sequence[Path],
    root: Path,
    *,
    platform: str | None = None,
    currency: str = "USD",
    snapshot_date: date | None = None,
    max_bad_share: float = MAX_BAD_SHARE,
    allow_empty: bool = False,
    on_progress: Progress | None = None,
    seller_id: str | None = None,
) -> Run:
    """Land listings exports (CSV/TSV/Excel in the agreed import format) as one ``listings``
    snapshot dated ``snapshot_date`` (default: today, UTC).

    Several files (one per platform, say) make one snapshot together. Bad rows are quarantined;
    see :meth:`stockroom_jobs.runs.Run.land` for the bad-share limit.
    """
    paths = [Path(p) for p in paths]
    day = snapshot_date or _today()
    with tracked_run(root, "ingest-listings", ", ".join(str(p) for p in paths)) as run:
        mapped = [exports.listings_from_export(p, platform, currency, seller_id) for p in paths]
        for m, p in zip(mapped, paths, strict=True):
            for warning in m.sheet.warnings(p.name):
                run.warn(warning)
        frame = pl.concat([m.frames[LISTINGS.name] for m in mapped], how="vertical_relaxed")
        rejected = pl.concat([m.rejected for m in mapped])
        columns = {k: v for m in mapped for k, v in m.source_columns.items()}
        run.land(
            [Part(LISTINGS, {day: frame}, columns, rejected, scope=("platform", "seller_id"))],
            sources=store.describe_sources(paths),
            max_bad_share=max_bad_share,
            on_progress=on_progress,
            allow_empty=allow_empty,
        )
    return run


def ingest_stockx(
    path: Path,
    root: Path,
    *,
    max_bad_share: float = MAX_BAD_SHARE,
    allow_empty: bool = False,
    on_progress: Progress | None = None,
) -> Run:
    """Land the StockX sales workbook: ``orders`` per day of sale, ``products`` once (dated on
    the first day of sales)."""
    with tracked_run(root, "ingest-stockx", str(path)) as run:
        mapped = exports.stockx_sales(Path(path))
        for warning in mapped.sheet.warnings(Path(path).name):
            run.warn(warning)
        orders = mapped.frames[ORDERS.name]
        days = exports.by_day(orders)
        first = min(days) if days else _today()
        run.land(
            [
                Part(PRODUCTS, {first: mapped.frames[PRODUCTS.name]}, mapped.source_columns),
                Part(ORDERS, days, mapped.source_columns, mapped.rejected),
            ],
            sources=store.describe_sources([Path(path)]),
            max_bad_share=max_bad_share,
            on_progress=on_progress,
            allow_empty=allow_empty,
        )
    return run


def ingest_simulation(root: Path, config: SimConfig, *, on_progress: Progress | None = None) -> Run:
    """Land a marketplace simulation (``stockroom.sim.marketplace``; synthetic on the real catalog).

    ``sellers`` and ``products`` once (dated on the first day), then per day a ``listings``
    and a ``stock`` snapshot and that day's ``orders``. Days are generated and landed one at a
    time, so memory stays at one day's frames. The ground truth (which accounts are one seller,
    which product each listing is) goes to ``<root>/sim/`` as Parquet for later benchmarks.
    """
    source = (
        f"simulator seed={config.seed} listings={config.listings} "
        f"sellers={config.sellers} days={config.days} start={config.start}"
    )
    with tracked_run(root, "ingest-simulate", source) as run:
        sim = simulate(config)
        for i, day in enumerate(sim.days(), start=1):
            # each day's tables commit together (the first day with the sellers and the
            # catalog, dated on it): a killed run leaves whole days, never a mix of runs
            first = (
                [
                    Part(SELLERS, {config.start: sim.sellers}),
                    Part(PRODUCTS, {config.start: sim.products}),
                ]
                if i == 1
                else []
            )
            run.land(
                [
                    *first,
                    Part(
                        LISTINGS,
                        {day.day: day.listings},
                        scope=("platform",),
                        scope_keys=pl.DataFrame({"platform": list(config.platforms)}),
                    ),
                    Part(STOCK, {day.day: day.stock}),
                    Part(ORDERS, {day.day: day.orders}),
                ],
                sources=[],
            )
            if on_progress:
                on_progress("days", i, config.days)
        truth = root / "sim"
        truth.mkdir(parents=True, exist_ok=True)
        sim.seller_truth.write_parquet(truth / "seller_truth.parquet")
        sim.listing_truth.write_parquet(truth / "listing_truth.parquet")
    return run


def ingest_storefront(
    urls: Sequence[str],
    root: Path,
    *,
    snapshot_date: date | None = None,
    min_interval: float = 1.0,
    timeout: float = 10.0,
    attempts: int = 5,
    backoff: float = 0.5,
    max_bad_share: float = MAX_BAD_SHARE,
    allow_empty: bool = False,
    on_progress: Progress | None = None,
) -> Run:
    """Scrape ShootStrayt-style shops (one start URL each) into one ``listings`` snapshot.

    Polite by default: robots.txt obeyed, one request per ``min_interval`` seconds per host,
    retries with backoff. A changed layout stops the run (nothing lands) and keeps the page's
    HTML under ``<root>/quarantine/html/<run id>/``.
    """
    day = snapshot_date or _today()
    with (
        tracked_run(root, "ingest-storefront", ", ".join(urls)) as run,
        run.fetching(
            min_interval=min_interval, timeout=timeout, attempts=attempts, backoff=backoff
        ) as fetcher,
    ):
        samples = root / "quarantine" / "html" / run.run_id
        frames, shops = [], []
        for i, url in enumerate(urls, start=1):
            scrape = storefront.scrape_shop(url, fetcher, samples)
            frames.append(scrape.listings)
            shops.append(scrape.seller_id)
            if on_progress:
                on_progress("shops", i, len(urls))
        keys = pl.DataFrame({"platform": storefront.PLATFORM, "seller_id": shops})
        run.land(
            [
                Part(
                    LISTINGS,
                    {day: pl.concat(frames)},
                    scope=("platform", "seller_id"),
                    scope_keys=keys,
                )
            ],
            sources=[],
            max_bad_share=max_bad_share,
            on_progress=on_progress,
            allow_empty=allow_empty,
        )
    return run


def ingest_card_api(
    base_url: str,
    root: Path,
    *,
    snapshot_date: date | None = None,
    token: str | None = None,
    min_interval: float = 0.2,
    attempts: int = 5,
    backoff: float = 0.5,
    max_bad_share: float = MAX_BAD_SHARE,
    allow_empty: bool = False,
    on_progress: Progress | None = None,
) -> Run:
    """Pull the card API's catalog into a ``products`` snapshot (token: ``cards`` source)."""
    token = token or vault.token(root, "cards")
    day = snapshot_date or _today()
    headers = {"X-Api-Key": token} if token else {}
    with (
        tracked_run(root, "ingest-card-api", base_url, secrets=[token or ""]) as run,
        run.fetching(
            min_interval=min_interval, headers=headers, attempts=attempts, backoff=backoff
        ) as fetcher,
    ):
        products, _pages = api.card_api_products(base_url, fetcher)
        run.land(
            [Part(PRODUCTS, {day: products}, scope=("sku",))],
            sources=[],
            max_bad_share=max_bad_share,
            on_progress=on_progress,
            allow_empty=allow_empty,
        )
    return run


def ingest_browse_api(
    base_url: str,
    root: Path,
    *,
    query: str = "",
    snapshot_date: date | None = None,
    token: str | None = None,
    platform: str = "ebay",
    min_interval: float = 0.2,
    max_bad_share: float = MAX_BAD_SHARE,
    allow_empty: bool = False,
    on_progress: Progress | None = None,
) -> Run:
    """Pull an eBay-Browse-like item search into a ``listings`` snapshot (token: ``ebay``)."""
    token = token or vault.token(root, platform)
    day = snapshot_date or _today()
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    with (
        tracked_run(
            root, "ingest-browse-api", f"{base_url} q={query!r}", secrets=[token or ""]
        ) as run,
        run.fetching(min_interval=min_interval, headers=headers) as fetcher,
    ):
        listings, _pages = api.browse_listings(base_url, fetcher, query, platform=platform)
        listings, rejected = parse_timestamps(
            listings, "listed_at", LISTINGS.name, "itemCreationDate"
        )
        run.land(
            [
                Part(
                    LISTINGS,
                    {day: listings},
                    rejected=rejected,
                    scope=("platform",),
                    scope_keys=pl.DataFrame({"platform": [platform]}),
                )
            ],
            sources=[],
            max_bad_share=max_bad_share,
            on_progress=on_progress,
            allow_empty=allow_empty,
        )
    return run


def ingest_sql(
    url: str,
    root: Path,
    *,
    table: str | None = None,
    query: str | None = None,
    watermark_column: str = "updated_at",
    platform: str | None = None,
    currency: str = "USD",
    snapshot_date: date | None = None,
    max_bad_share: float = MAX_BAD_SHARE,
    on_progress: Progress | None = None,
    into: str = "listings",
) -> Run:
    """Pull new/changed rows from a SQL database incrementally and upsert them into the
    ``into`` table: ``listings`` (the snapshot of ``snapshot_date``, default today), or the
    seller's own ``orders`` (each line into the day it was ordered), ``stock`` or
    ``inventory`` (the snapshot of ``snapshot_date``), read as
    :mod:`stockroom.ingest.business` reads those exports.

    The source's columns are matched to canonical names like file headers (``ALIASES``). Only
    rows with ``watermark_column`` above the stored watermark are read; the latest picture is
    carried forward and changed rows replace theirs by primary key. The watermark is stored
    after the snapshot has landed, so a failed run re-reads the same rows next time.
    """
    day = snapshot_date or _today()
    name = f"{sql.safe_url(url)}#{table or query}#{watermark_column}"
    eng = workbench.engine(root)
    password = sql.password(url)
    with tracked_run(
        root, "ingest-sql", sql.safe_url(url) + f" {table or query}", secrets=[password]
    ) as run:
        since = workbench.get_watermark(eng, name)
        pulled = sql.pull(
            url, table=table, query=query, watermark_column=watermark_column, since=since
        )
        raw = pulled.frame.with_columns(
            [
                pl.col(c).cast(pl.String)
                for c in pulled.frame.columns
                if c not in (SOURCE_FILE, SOURCE_ROW)
            ]
        )
        if raw.height:
            parts = (
                _own_parts(raw, pulled.source, into, day, platform, currency)
                if into != "listings"
                else _listing_parts(raw, pulled.source, day, platform, currency)
            )
            run.land(parts, sources=[], max_bad_share=max_bad_share, on_progress=on_progress)
        if pulled.watermark is not None:
            workbench.set_watermark(eng, name, pulled.watermark, run.run_id)
    return run


def _listing_parts(
    raw: pl.DataFrame, source: str, day: date, platform: str | None, currency: str
) -> list[Part]:
    """Rows pulled from a database as listings (an upsert onto the latest picture)."""
    columns = tabular.canonical_columns(raw.columns)
    required = exports.LISTING_REQUIRED if platform else ("platform", *exports.LISTING_REQUIRED)
    missing = [c for c in required if c not in columns]
    if missing:
        raise InputError(
            [
                InputProblem(source, None, c, f"missing column (found: {', '.join(raw.columns)})")
                for c in missing
            ]
        )
    renamed = raw.select(*[pl.col(s).alias(c) for c, s in columns.items()], SOURCE_FILE, SOURCE_ROW)
    listings, rejected = exports.listings_from_text(renamed, columns, platform, currency)
    return [Part(LISTINGS, {day: listings}, columns, rejected, scope=LISTINGS.primary_key)]


def _own_parts(
    raw: pl.DataFrame, source: str, into: str, day: date, platform: str | None, currency: str
) -> list[Part]:
    """Rows pulled from a database as the seller's own orders, stock or inventory (upserts)."""
    from stockroom.ingest import business
    from stockroom.tables import INVENTORY

    sheet = tabular.Sheet(raw, {}, None, source)
    if into == "orders":
        mapped = business.orders(sheet, platform=platform, currency=currency)
        lines = mapped.frames[ORDERS.name]
        return [
            Part(
                ORDERS,
                exports.by_day(lines),
                mapped.source_columns,
                mapped.rejected,
                scope=ORDERS.primary_key,
            )
        ]
    if into == "stock":
        mapped = business.stock(sheet)
        rows = mapped.frames[STOCK.name].drop("as_of")
        return [Part(STOCK, {day: rows}, mapped.source_columns, scope=STOCK.primary_key)]
    if into == "inventory":
        mapped = business.inventory(sheet)
        rows = mapped.frames[INVENTORY.name]
        return [Part(INVENTORY, {day: rows}, mapped.source_columns, scope=INVENTORY.primary_key)]
    raise ValueError(f"--into must be listings, orders, stock or inventory, not {into!r}")


def ingest_fx_rates(
    root: Path, source: str | None = None, *, on_progress: Progress | None = None
) -> Run:
    """Land the ECB's euro reference rates (:mod:`stockroom.fx`) as one ``fx_rates``
    snapshot dated on their newest day. ``source``: a URL (default :data:`stockroom.fx.
    ECB_URL`, fetched with retries) or a local copy of ``eurofxref-hist.zip`` / its CSV.
    A file that does not parse fails the run naming the file, line and column; nothing lands.
    """
    from stockroom import fx
    from stockroom.ingest.http import Fetcher
    from stockroom.tables import FX_RATES

    source = source or fx.ECB_URL
    with tracked_run(root, "ingest-fx-rates", source) as run:
        if source.startswith(("http://", "https://")):
            with Fetcher(timeout=60.0, respect_robots=False) as fetcher:
                content = fetcher.get(source).content
            origin = [{"path": source, "bytes": len(content), "sha256": _sha256(content)}]
        else:
            path = Path(source)
            if not path.is_file():
                raise InputError(f"{source}: no such file")
            content = path.read_bytes()
            origin = store.describe_sources([path])
        frame = fx.read_ecb(content, source)
        run.land(
            [Part(FX_RATES, {frame["day"].max(): frame})],
            sources=origin,
            on_progress=on_progress,
            allow_empty=False,
        )
    return run


def _sha256(content: bytes) -> str:
    import hashlib

    return hashlib.sha256(content).hexdigest()
