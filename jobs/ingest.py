"""Ingestion jobs: read a source with a ``lib.ingest`` adapter, land validated snapshots."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from lib import store
from lib.ingest import olist
from lib.tables import ORDERS, PRODUCTS, SELLERS


@dataclass
class IngestSummary:
    run_id: str
    rows: dict[str, int] = field(default_factory=dict)
    partitions: dict[str, Counter] = field(default_factory=dict)

    def lines(self) -> list[str]:
        out = []
        for table, rows in self.rows.items():
            counts = sorted(self.partitions[table].items())
            parts = ", ".join(f"{n} {status}" for status, n in counts)
            out.append(f"{table}: {rows:,} rows in {sum(self.partitions[table].values())} "
                       f"snapshot(s) ({parts})")
        return out


def ingest_olist(source_dir: Path, root: Path,
                 on_progress: Callable[[str, int, int], None] | None = None) -> IngestSummary:
    """Land an Olist export as snapshots (see ``lib.ingest.olist`` for the mapping).

    Snapshot policy: ``orders`` is an events table, one partition per UTC day of order activity
    (what a daily job would land); the seller register and the catalog have no history in the
    export, so each is landed once per load dated on the export's first day of activity, which
    makes every ``as_of`` inside the export see them.

    Everything is validated before the first write: a bad row anywhere raises
    :class:`lib.errors.InputError` and no snapshot changes. ``on_progress(table, done, total)``
    is called as partitions land.
    """
    run_id = store.new_run_id("ingest-olist")
    export = olist.read_export(source_dir)
    sources = store.describe_sources(export.sources)
    batches = [  # validate every table before writing any
        store.prepare(SELLERS, {export.first_day: export.sellers},
                      olist.SOURCE_COLUMNS["sellers"]),
        store.prepare(PRODUCTS, {export.first_day: export.products},
                      olist.SOURCE_COLUMNS["products"]),
        store.prepare(ORDERS, olist.orders_by_day(export.orders), olist.SOURCE_COLUMNS["orders"]),
    ]
    summary = IngestSummary(run_id)
    for batch in batches:
        name, total, counts = batch.table.name, len(batch.frames), Counter()

        def tick(result: store.WriteResult, name=name, counts=counts, total=total) -> None:
            counts[result.status] += 1
            if on_progress:
                on_progress(name, sum(counts.values()), total)

        results = store.commit(root, batch, run_id=run_id, sources=sources, on_written=tick)
        summary.rows[name] = sum(r.rows for r in results)
        summary.partitions[name] = counts
    return summary
