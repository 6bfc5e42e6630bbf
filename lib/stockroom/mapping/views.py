"""Mappings applied at query time: DuckDB views joining snapshots to the curated mappings.

Snapshots stay as landed; the mapping lives in the workbench database. :func:`register` adds,
to a connection from :func:`stockroom.db.connect`:

* ``sku_mappings``    -- platform, external_sku, product_sku, method, confidence, status;
* ``seller_aliases``  -- platform, seller_id, seller_key, seller (the Seller's name), status;
* ``listings_mapped`` -- every ``listings`` column plus ``product_sku`` (only for ``auto`` and
  ``confirmed`` mappings), ``mapping_status``, ``seller_key`` and ``seller``;
* ``orders_mapped``   -- the same for ``orders``.

Correcting a mapping therefore corrects every past snapshot on the next query, without
rewriting any Parquet. The frames and views are the connection's own (registered frames and
TEMP views), so cursors of the shared connection (:func:`stockroom.db.cached`) each register
their own without seeing another's.
"""

from __future__ import annotations

import duckdb
import sqlalchemy as sa

from stockroom.mapping import repo

#: The product an external SKU counts as, from a mapping row ``m``: only ``auto`` and
#: ``confirmed`` mappings apply (``review`` and ``rejected`` ones do not).
APPLIED_PRODUCT_SKU = "CASE WHEN m.status IN ('auto', 'confirmed') THEN m.product_sku END"


def register(con: duckdb.DuckDBPyConnection, eng: sa.Engine) -> duckdb.DuckDBPyConnection:
    """Register the mapping views on ``con`` (see module doc) and return it."""
    con.register("sku_mappings", repo.mappings(eng).drop("updated_at").to_arrow())
    con.register("seller_aliases", repo.seller_aliases_frame(eng).to_arrow())
    for table in ("listings", "orders"):
        con.execute(f"""
            CREATE OR REPLACE TEMP VIEW {table}_mapped AS
            SELECT t.*,
                   {APPLIED_PRODUCT_SKU} AS product_sku,
                   m.status AS mapping_status,
                   a.seller_key, a.seller
            FROM {table} t
            LEFT JOIN sku_mappings m ON m.platform = t.platform AND m.external_sku = t.sku
            LEFT JOIN seller_aliases a ON a.platform = t.platform AND a.seller_id = t.seller_id
        """)
    return con
