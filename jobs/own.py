"""Import jobs for the seller's own business: orders, stock per location, central inventory.

Each import is one tracked run (``job_runs``), validated and quarantined like every ingest
(:meth:`stockroom_jobs.runs.Run.land`); the readers are :mod:`stockroom.ingest.business`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl
import sqlalchemy as sa

from stockroom import store, workbench
from stockroom.ingest import business, exports
from stockroom.tables import INVENTORY, ORDERS, PRODUCTS, QUARANTINE_SCHEMA, STOCK
from stockroom_jobs.runs import MAX_BAD_SHARE, Part, Run, tracked_run

Progress = Callable[[str, int, int], None]


@dataclass
class Imported:
    """What an import did: the run, the layout(s) recognised, the days landed."""

    run: Run
    layouts: list[str]
    days: list[date]


def _today() -> date:
    return datetime.now(UTC).date()


def import_files(
    paths: Sequence[Path],
    root: Path,
    *,
    kind: str | None = None,
    layout: str | None = None,
    platform: str | None = None,
    currency: str = "USD",
    seller_id: str = business.OWN_SELLER,
    location: str | None = None,
    snapshot_date: date | None = None,
    max_bad_share: float = MAX_BAD_SHARE,
    allow_empty: bool = False,
    add_locations: bool = False,
    actor: str = "import",
    on_progress: Progress | None = None,
) -> Imported:
    """Import exports of one kind (``orders``, ``stock``, ``inventory``; or decided by the
    first file's layout) as one run. See :func:`import_orders` and friends for what lands."""
    paths = [Path(p) for p in paths]
    if not paths:
        raise ValueError("no files given")
    first = (
        business.LAYOUTS[layout]
        if layout
        else business.detect_layout(business._headers(paths[0]), kind)
    )
    if kind is not None and first.kind != kind:
        raise ValueError(f"{paths[0].name}: layout {first.name} holds {first.kind}, not {kind}")
    kind = first.kind
    options = {"max_bad_share": max_bad_share, "allow_empty": allow_empty}
    if kind == "orders":
        return import_orders(
            paths,
            root,
            layout=layout,
            platform=platform,
            currency=currency,
            seller_id=seller_id,
            on_progress=on_progress,
            **options,
        )
    if kind == "stock":
        return import_stock(
            paths,
            root,
            layout=layout,
            seller_id=seller_id,
            location=location,
            snapshot_date=snapshot_date,
            add_locations=add_locations,
            actor=actor,
            **options,
        )
    return import_inventory(paths, root, currency=currency, snapshot_date=snapshot_date, **options)


def _layout(path: Path, kind: str, layout: str | None) -> business.Layout:
    chosen = (
        business.LAYOUTS[layout]
        if layout
        else business.detect_layout(business._headers(path), kind)
    )
    if chosen.kind != kind:
        raise ValueError(f"{path.name}: layout {chosen.name} holds {chosen.kind}, not {kind}")
    return chosen


def import_orders(
    paths: Sequence[Path],
    root: Path,
    *,
    layout: str | None = None,
    platform: str | None = None,
    currency: str = "USD",
    seller_id: str = business.OWN_SELLER,
    max_bad_share: float = MAX_BAD_SHARE,
    allow_empty: bool = False,
    on_progress: Progress | None = None,
) -> Imported:
    """Land orders exports: ``orders`` per UTC day of the order, upserted by (platform,
    order_id, line) into that day (a re-import of the same export changes nothing; a later
    export of the same orders replaces their lines), and the SKUs they name in ``products``
    (new SKUs added, titles of known ones kept; dated on the first order day and on the
    latest catalog snapshot). SKUs sold but absent from the central inventory are kept and
    named in the run's warnings, for mapping."""
    paths = [Path(p) for p in paths]
    with tracked_run(root, "import-orders", ", ".join(str(p) for p in paths)) as run:
        mapped, names = [], []
        for p in paths:
            chosen = _layout(p, "orders", layout)
            names.append(chosen.name)
            m = business.orders(
                p, layout=chosen, platform=platform, currency=currency, seller_id=seller_id
            )
            for warning in m.sheet.warnings(p.name):
                run.warn(warning)
            mapped.append(m)
        lines = pl.concat([m.frames[ORDERS.name] for m in mapped], how="vertical_relaxed")
        rejected = pl.concat([m.rejected for m in mapped])
        columns = {k: v for m in mapped for k, v in m.source_columns.items()}
        days = exports.by_day(lines)
        products = pl.concat([m.frames[PRODUCTS.name] for m in mapped]).unique(
            "sku", keep="first", maintain_order=True
        )
        parts = [Part(ORDERS, days, columns, rejected, scope=ORDERS.primary_key)]
        if days:
            known = _known_products(root)
            new = products.filter(~pl.col("sku").is_in(known))
            catalog_days = {min(days)}
            latest = store.resolve_as_of(root, PRODUCTS.name, None)
            if latest and latest > min(days):
                catalog_days.add(latest)
            if new.height:
                parts.insert(
                    0, Part(PRODUCTS, {d: new for d in catalog_days}, columns, scope=("sku",))
                )
            _warn_unknown_skus(root, run, lines)
        run.land(
            parts,
            sources=store.describe_sources(paths),
            max_bad_share=max_bad_share,
            on_progress=on_progress,
            allow_empty=allow_empty,
        )
    return Imported(run, names, sorted(days))


def _known_products(root: Path) -> list[str]:
    latest = store.resolve_as_of(root, PRODUCTS.name, None)
    if latest is None:
        return []
    return store.read_snapshot(root, PRODUCTS.name, latest)["sku"].to_list()


def _warn_unknown_skus(root: Path, run: Run, lines: pl.DataFrame) -> None:
    """Orders of SKUs the central inventory does not hold: kept, named for mapping."""
    latest = store.resolve_as_of(root, INVENTORY.name, None)
    if latest is None:
        return
    known = store.read_snapshot(root, INVENTORY.name, latest)["sku"]
    unknown = lines.filter(~pl.col("sku").is_in(known.implode()))["sku"].unique().sort()
    if unknown.len():
        shown = ", ".join(unknown.head(10).to_list())
        more = f" and {unknown.len() - 10} more" if unknown.len() > 10 else ""
        run.warn(
            f"{unknown.len()} SKU(s) sold are not in the central inventory: {shown}{more} "
            "(orders kept; map them on the Mapping page)"
        )


def import_stock(
    paths: Sequence[Path],
    root: Path,
    *,
    layout: str | None = None,
    seller_id: str = business.OWN_SELLER,
    location: str | None = None,
    snapshot_date: date | None = None,
    add_locations: bool = False,
    actor: str = "import",
    max_bad_share: float = MAX_BAD_SHARE,
    allow_empty: bool = False,
) -> Imported:
    """Land stock exports: one ``stock`` snapshot per as-of day (the file's ``as_of`` column,
    else ``snapshot_date``, else today), rows per SKU and location. Locations are kept apart;
    the locations a file covers replace theirs and the others are carried forward. A location
    not in the register (``locations`` table) is quarantined with its row unless
    ``add_locations`` (the first stock import registers what it finds)."""
    paths = [Path(p) for p in paths]
    day = snapshot_date or _today()
    with tracked_run(root, "import-stock", ", ".join(str(p) for p in paths)) as run:
        mapped, names = [], []
        for p in paths:
            chosen = _layout(p, "stock", layout)
            names.append(chosen.name)
            m = business.stock(p, layout=chosen, seller_id=seller_id, location=location)
            for warning in m.sheet.warnings(p.name):
                run.warn(warning)
            mapped.append(m)
        rows = pl.concat([m.frames[STOCK.name] for m in mapped], how="vertical_relaxed")
        columns = {k: v for m in mapped for k, v in m.source_columns.items()}
        eng = workbench.engine(root)
        known = locations(eng)
        found = rows["location"].drop_nulls().unique().sort().to_list()
        if not known or add_locations:
            add_location_codes(eng, [f for f in found if f not in known], actor=actor)
            known = locations(eng)
        rejected = _unknown_locations(rows, known, columns.get("location", "location"))
        rows = rows.filter(pl.col("location").is_in(known) | pl.col("location").is_null())
        as_of = rows["as_of"].str.to_date(strict=False)
        bad_day = rows.filter(as_of.is_null() & rows["as_of"].is_not_null())
        if bad_day.height:
            rejected = pl.concat([rejected, _reject(bad_day, "as_of", "not a date YYYY-MM-DD")])
        rows = rows.with_columns(as_of.fill_null(day).alias("as_of")).filter(
            ~pl.struct("_source_file", "_source_row").is_in(
                bad_day.select("_source_file", "_source_row").to_struct().implode()
            )
        )
        frames = {
            d: part.drop("as_of")
            for (d,), part in rows.partition_by("as_of", as_dict=True, maintain_order=True).items()
        }
        run.land(
            [Part(STOCK, frames, columns, rejected, scope=("seller_id", "location"))],
            sources=store.describe_sources(paths),
            max_bad_share=max_bad_share,
            allow_empty=allow_empty,
        )
    return Imported(run, names, sorted(frames))


def _reject(
    rows: pl.DataFrame, column: str, reason: str, source: str | None = None
) -> pl.DataFrame:
    data = [c for c in rows.columns if not c.startswith("_")]
    return rows.select(
        pl.lit(STOCK.name).alias("table"),
        pl.col("_source_file").cast(pl.String).alias("source_file"),
        pl.col("_source_row").cast(pl.Int64).alias("source_row"),
        pl.lit(source or column).alias("column"),
        pl.col(column).cast(pl.String).alias("value"),
        pl.lit(reason).alias("reason"),
        pl.struct([pl.col(c).cast(pl.String) for c in data]).struct.json_encode().alias("record"),
    ).cast(dict(QUARANTINE_SCHEMA))


def _unknown_locations(rows: pl.DataFrame, known: list[str], source: str) -> pl.DataFrame:
    bad = rows.filter(pl.col("location").is_not_null() & ~pl.col("location").is_in(known))
    if not bad.height:
        return pl.DataFrame(schema=QUARANTINE_SCHEMA)
    listed = ", ".join(known[:10])
    return _reject(
        bad,
        "location",
        f"unknown location (known: {listed}); add it with `stockroom locations add`",
        source,
    )


def import_inventory(
    paths: Sequence[Path],
    root: Path,
    *,
    currency: str | None = None,
    snapshot_date: date | None = None,
    max_bad_share: float = MAX_BAD_SHARE,
    allow_empty: bool = False,
) -> Imported:
    """Land the central inventory (the single source of truth reconciliation checks every
    platform against) as the ``inventory`` snapshot of ``snapshot_date`` (default today): the
    files together are the whole picture, one row per SKU."""
    paths = [Path(p) for p in paths]
    day = snapshot_date or _today()
    with tracked_run(root, "import-inventory", ", ".join(str(p) for p in paths)) as run:
        mapped = [business.inventory(p, currency=currency) for p in paths]
        for m, p in zip(mapped, paths, strict=True):
            for warning in m.sheet.warnings(p.name):
                run.warn(warning)
        rows = pl.concat([m.frames[INVENTORY.name] for m in mapped], how="vertical_relaxed")
        columns = {k: v for m in mapped for k, v in m.source_columns.items()}
        run.land(
            [Part(INVENTORY, {day: rows}, columns)],
            sources=store.describe_sources(paths),
            max_bad_share=max_bad_share,
            allow_empty=allow_empty,
        )
    return Imported(run, ["inventory"], [day])


# -- locations ----------------------------------------------------------------------------------


def locations(eng: sa.Engine) -> list[str]:
    """The registered location codes, sorted."""
    with eng.connect() as conn:
        return sorted(conn.execute(sa.select(workbench.locations.c.code)).scalars())


def add_location_codes(eng: sa.Engine, codes: Sequence[str], *, actor: str) -> int:
    """Register locations (existing ones are left alone); audited. Returns how many were new."""
    from stockroom import audit

    now = datetime.now(UTC)
    added = 0
    with eng.begin() as conn:
        have = set(conn.execute(sa.select(workbench.locations.c.code)).scalars())
        new = [c for c in dict.fromkeys(codes) if c and c not in have]
        if new:
            conn.execute(
                workbench.locations.insert(),
                [{"code": c, "name": c, "created_by": actor, "created_at": now} for c in new],
            )
            audit.append(
                conn,
                [
                    audit.entry(actor, "location", c, None, {"code": c}, "location registered")
                    for c in new
                ],
            )
            added = len(new)
    return added
