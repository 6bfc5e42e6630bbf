"""Curated mapping state in the workbench database, every change audited.

Writes go through here so that each change to a SKU mapping or a seller alias appends one
``audit_log`` row (who, when, entity, old -> new as JSON, reason) in the same transaction as the
change. The audit log is append-only (the migration installs triggers refusing UPDATE/DELETE).

Human decisions win: an automatic re-run never overwrites a mapping whose status is
``confirmed`` or ``rejected``.
"""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl
import sqlalchemy as sa

from stockroom import audit
from stockroom.mapping.skus import OUT_SCHEMA
from stockroom.workbench import (
    audit_log,
    catalog,
    seller_aliases,
    seller_links,
    sellers_t,
    sku_mappings,
)

CATALOG_FIELDS = (
    "kind",
    "title",
    "product",
    "set_id",
    "number",
    "rarity",
    "treatment",
    "brand",
    "model",
    "style_code",
    "gtin",
)

HUMAN = ("confirmed", "rejected")
STATUSES = ("auto", "confirmed", "rejected", "review")
FIELDS = ("product_sku", "method", "confidence", "status", "reason")


def _key(platform: str, external_sku: str) -> str:
    return f"{platform}/{external_sku}"


#: A stored SKU mapping: the mapping tiers' columns plus when it last changed.
MAPPING_SCHEMA = {**OUT_SCHEMA, "updated_at": pl.Datetime("us", "UTC")}


def mappings(eng: sa.Engine, status: str | None = None) -> pl.DataFrame:
    """Every SKU mapping (OUT_SCHEMA + updated_at), for query-time joins; only those of
    ``status`` (e.g. ``review``) when given, filtered in SQL."""
    query = sa.select(sku_mappings)
    if status is not None:
        query = query.where(sku_mappings.c.status == status)
    return _frame(eng, query, MAPPING_SCHEMA)


def applied_mappings(eng: sa.Engine) -> pl.DataFrame:
    """platform, external_sku, product_sku (String) of the mappings analytics apply: status
    ``auto`` or ``confirmed``, with a product (filtered in SQL; the three columns the
    query-time join needs, see :func:`stockroom.db.connect`)."""
    c = sku_mappings.c
    query = sa.select(c.platform, c.external_sku, c.product_sku).where(
        c.status.in_(("auto", "confirmed")), c.product_sku.is_not(None)
    )
    return _frame(
        eng,
        query,
        {"platform": pl.String, "external_sku": pl.String, "product_sku": pl.String},
    )


def mappings_touching(eng: sa.Engine, sku: str) -> pl.DataFrame:
    """The SKU mappings (columns of :func:`mappings` but updated_at) whose external SKU is
    ``sku`` or whose product is ``sku``: all a one-SKU read needs (WHERE in SQL)."""
    c = sku_mappings.c
    query = sa.select(sku_mappings).where((c.external_sku == sku) | (c.product_sku == sku))
    return _frame(eng, query, MAPPING_SCHEMA).drop("updated_at")


def mapping_status(eng: sa.Engine) -> pl.DataFrame:
    """platform, external_sku, status (String) of every SKU mapping: the three columns a
    coverage count needs, a third of the bytes of :func:`mappings`."""
    query = sa.select(sku_mappings.c.platform, sku_mappings.c.external_sku, sku_mappings.c.status)
    return _frame(
        eng, query, {"platform": pl.String, "external_sku": pl.String, "status": pl.String}
    )


def _frame(eng: sa.Engine, query: sa.Select, schema: dict[str, pl.DataType]) -> pl.DataFrame:
    """Rows of ``query`` as a frame of ``schema`` (the query's columns, in its order), built
    by polars from the row tuples (not a dict per row, nor a transposition in Python)."""
    with eng.connect() as conn:
        result = conn.execute(query)
        columns = list(result.keys())
        rows = result.fetchall()
    frame = pl.DataFrame(
        rows, schema=[(c, schema.get(c, pl.String)) for c in columns], orient="row", strict=False
    )
    return frame.select(
        [pl.col(c) if c in columns else pl.lit(None, t).alias(c) for c, t in schema.items()]
    )


def save_mappings(
    eng: sa.Engine, proposed: pl.DataFrame, *, actor: str, reason: str
) -> dict[str, int]:
    """Upsert automatic mapping results (OUT_SCHEMA), auditing each change.

    Rows equal to what is stored are skipped; rows whose stored status is a human decision are
    kept as the human left them. Returns counts: inserted, updated, unchanged, kept_human.
    """
    current = {(r["platform"], r["external_sku"]): r for r in mappings(eng).to_dicts()}
    now = datetime.now(UTC)
    inserts, updates, audits = [], [], []
    counts = {"inserted": 0, "updated": 0, "unchanged": 0, "kept_human": 0}
    for row in proposed.select(list(OUT_SCHEMA)).to_dicts():
        key = (row["platform"], row["external_sku"])
        old = current.get(key)
        new = {f: row[f] for f in FIELDS}
        if old is None:
            inserts.append({**row, "updated_at": now})
            counts["inserted"] += 1
        elif old["status"] in HUMAN:
            counts["kept_human"] += 1
            continue
        elif all(old[f] == new[f] for f in FIELDS):
            counts["unchanged"] += 1
            continue
        else:
            updates.append({**row, "updated_at": now})
            counts["updated"] += 1
        audits.append(
            _audit(
                now,
                actor,
                "sku_mapping",
                _key(*key),
                None if old is None else {f: old[f] for f in FIELDS},
                new,
                reason,
            )
        )
    with eng.begin() as conn:
        if inserts:
            conn.execute(sku_mappings.insert(), inserts)
        for row in updates:
            conn.execute(
                sku_mappings.update()
                .where(
                    (sku_mappings.c.platform == row["platform"])
                    & (sku_mappings.c.external_sku == row["external_sku"])
                )
                .values(**{f: row[f] for f in FIELDS}, updated_at=row["updated_at"])
            )
        if audits:
            audit.append(conn, audits)
    return counts


def add_products(eng: sa.Engine, products: pl.DataFrame, *, actor: str, reason: str) -> int:
    """Add catalog products not yet known (``sku`` + any of :data:`CATALOG_FIELDS`; ``kind``
    defaults to ``goods``); each creation is audited. Existing SKUs are left as they are.
    Returns how many were added."""
    with eng.connect() as conn:
        known = {r[0] for r in conn.execute(sa.select(catalog.c.sku))}
    now = datetime.now(UTC)
    rows = []
    for row in products.to_dicts():
        if row["sku"] in known:
            continue
        known.add(row["sku"])
        rows.append(
            {
                "sku": row["sku"],
                "created_at": now,
                **{f: row.get(f) for f in CATALOG_FIELDS},
                "kind": row.get("kind") or "goods",
            }
        )
    with eng.begin() as conn:
        for start in range(0, len(rows), 5_000):
            chunk = rows[start : start + 5_000]
            conn.execute(catalog.insert(), chunk)
            audit.append(
                conn,
                [
                    _audit(
                        now,
                        actor,
                        "product",
                        r["sku"],
                        None,
                        {f: r[f] for f in CATALOG_FIELDS},
                        reason,
                    )
                    for r in chunk
                ],
            )
    return len(rows)


def decide(
    eng: sa.Engine,
    platform: str,
    external_sku: str,
    *,
    action: str,
    actor: str,
    reason: str,
    product_sku: str | None = None,
) -> dict:
    """A human decision on one mapping: ``approve`` (confirm the current product),
    ``reject``, or ``reassign`` (to ``product_sku``, confirmed). Audited; returns the new row.
    Raises ``KeyError`` for an unknown mapping and ``ValueError`` for a bad action."""
    with eng.begin() as conn:
        row = conn.execute(
            sa.select(sku_mappings).where(
                (sku_mappings.c.platform == platform)
                & (sku_mappings.c.external_sku == external_sku)
            )
        ).first()
        if row is None:
            raise KeyError(f"no mapping for {platform}/{external_sku}")
        old = {f: row._mapping[f] for f in FIELDS}
        if action == "approve":
            if old["product_sku"] is None:
                raise ValueError("nothing to approve: the mapping has no product; reassign it")
            new = {**old, "status": "confirmed", "method": "manual", "confidence": 1.0}
        elif action == "reject":
            new = {**old, "status": "rejected", "method": "manual"}
        elif action == "reassign":
            if not product_sku:
                raise ValueError("reassign needs product_sku")
            new = {
                **old,
                "product_sku": product_sku,
                "status": "confirmed",
                "method": "manual",
                "confidence": 1.0,
                "reason": None,
            }
        else:
            raise ValueError(f"action must be approve, reject or reassign, not {action!r}")
        now = datetime.now(UTC)
        conn.execute(
            sku_mappings.update()
            .where(
                (sku_mappings.c.platform == platform)
                & (sku_mappings.c.external_sku == external_sku)
            )
            .values(**new, updated_at=now)
        )
        audit.append(
            conn,
            [_audit(now, actor, "sku_mapping", _key(platform, external_sku), old, new, reason)],
        )
    return new


def history(
    eng: sa.Engine,
    entity: str | None = None,
    entity_key: str | None = None,
    *,
    limit: int | None = None,
    newest_first: bool = False,
) -> pl.DataFrame:
    """Audit rows: id, at, actor, entity, entity_key, old, new (JSON), reason; oldest first, or
    the newest ``limit`` rows first with ``newest_first`` (LIMIT in SQL, so a page showing the
    latest 500 reads 500 rows, not the whole log)."""
    order = audit_log.c.id.desc() if newest_first else audit_log.c.id
    query = sa.select(audit_log).order_by(order)
    if entity:
        query = query.where(audit_log.c.entity == entity)
    if entity_key:
        query = query.where(audit_log.c.entity_key == entity_key)
    if limit is not None:
        query = query.limit(limit)
    return _frame(
        eng,
        query,
        {
            "id": pl.Int64,
            "at": pl.Datetime("us", "UTC"),
            "actor": pl.String,
            "entity": pl.String,
            "entity_key": pl.String,
            "old": pl.String,
            "new": pl.String,
            "reason": pl.String,
        },
    )


def _audit(
    at: datetime, actor: str, entity: str, key: str, old: dict | None, new: dict | None, reason: str
) -> dict:
    """An audit row (:func:`stockroom.audit.entry`); ``at`` is set when it is appended."""
    return audit.entry(actor, entity, key, old, new, reason)


def save_sellers(
    eng: sa.Engine, aliases: pl.DataFrame, suggestions: pl.DataFrame, *, actor: str, reason: str
) -> dict[str, int]:
    """Store the result of :func:`stockroom.mapping.sellers.resolve`, audited.

    A Seller is identified by its normal form: existing Sellers keep their key; new normal
    forms get a new Seller. Aliases already stored with a human status are kept. Link
    suggestions are stored once per pair with status ``review``. Returns counts.
    """
    now = datetime.now(UTC)
    counts = {"sellers_new": 0, "aliases_new": 0, "aliases_changed": 0, "links_new": 0}
    with eng.begin() as conn:
        known = {
            r.norm_name: r.seller_key
            for r in conn.execute(sa.select(sellers_t.c.norm_name, sellers_t.c.seller_key))
        }
        stored = {
            (r.platform, r.platform_seller_id): dict(r._mapping)
            for r in conn.execute(sa.select(seller_aliases))
        }
        # the Seller of each group is named after its most common display name; ties go to
        # a name in natural case ("Acme Cards" over "ACME CARDS"), then alphabetically
        name = pl.col("seller_name")
        display = (
            aliases.drop_nulls("seller_name")
            .group_by("seller_key", "seller_name")
            .agg(pl.len().alias("n"))
            .with_columns(
                natural=(name != name.str.to_uppercase()) & (name != name.str.to_lowercase())
            )
            .sort(
                ["seller_key", "n", "natural", "seller_name"], descending=[False, True, True, False]
            )
            .unique("seller_key", keep="first", maintain_order=True)
            .select("seller_key", "seller_name")
        )
        groups = (
            aliases.group_by("seller_key")
            .agg(pl.col("norm_name").first())
            .join(display, on="seller_key", how="left")
        )
        group_to_db: dict[int, int] = {}
        audits = []
        for g in groups.sort("seller_key").iter_rows(named=True):
            norm = g["norm_name"]
            if norm not in known:
                key = conn.execute(
                    sellers_t.insert().values(
                        name=g["seller_name"] or norm, norm_name=norm, created_at=now
                    )
                ).inserted_primary_key[0]
                known[norm] = key
                counts["sellers_new"] += 1
                audits.append(
                    _audit(
                        now,
                        actor,
                        "seller",
                        str(key),
                        None,
                        {"name": g["seller_name"] or norm, "norm_name": norm},
                        reason,
                    )
                )
            group_to_db[g["seller_key"]] = known[norm]
        for row in aliases.iter_rows(named=True):
            pk = (row["platform"], row["seller_id"])
            new = {
                "seller_key": group_to_db[row["seller_key"]],
                "seller_name": row["seller_name"],
                "norm_name": row["norm_name"],
                "method": row["method"],
                "confidence": row["confidence"],
                "status": row["status"],
            }
            old = stored.get(pk)
            if old is not None and (
                old["status"] in HUMAN or all(old[k] == v for k, v in new.items())
            ):
                continue
            if old is None:
                conn.execute(
                    seller_aliases.insert().values(
                        platform=pk[0], platform_seller_id=pk[1], updated_at=now, **new
                    )
                )
                counts["aliases_new"] += 1
            else:
                conn.execute(
                    seller_aliases.update()
                    .where(
                        (seller_aliases.c.platform == pk[0])
                        & (seller_aliases.c.platform_seller_id == pk[1])
                    )
                    .values(updated_at=now, **new)
                )
                counts["aliases_changed"] += 1
            audits.append(
                _audit(
                    now,
                    actor,
                    "seller_alias",
                    f"{pk[0]}/{pk[1]}",
                    None if old is None else {k: old[k] for k in new},
                    new,
                    reason,
                )
            )
        have = {
            (r.seller_key, r.other_key)
            for r in conn.execute(sa.select(seller_links.c.seller_key, seller_links.c.other_key))
        }
        for s in suggestions.iter_rows(named=True):
            pair = tuple(sorted((group_to_db[s["seller_key"]], group_to_db[s["other_key"]])))
            if pair in have or pair[0] == pair[1]:
                continue
            conn.execute(
                seller_links.insert().values(
                    seller_key=pair[0],
                    other_key=pair[1],
                    score=s["score"],
                    evidence=s["evidence"],
                    status="review",
                    updated_at=now,
                )
            )
            counts["links_new"] += 1
        if audits:
            audit.append(conn, audits)
    return counts


def seller_aliases_frame(eng: sa.Engine) -> pl.DataFrame:
    """Every alias: platform, seller_id, seller_key (int), seller (str, the Seller's name),
    status -- for query-time joins."""
    query = sa.select(
        seller_aliases.c.platform,
        seller_aliases.c.platform_seller_id.label("seller_id"),
        seller_aliases.c.seller_key,
        sellers_t.c.name.label("seller"),
        seller_aliases.c.status,
    ).join(sellers_t, sellers_t.c.seller_key == seller_aliases.c.seller_key)
    with eng.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(query)]
    return pl.DataFrame(
        rows,
        schema={
            "platform": pl.String,
            "seller_id": pl.String,
            "seller_key": pl.Int64,
            "seller": pl.String,
            "status": pl.String,
        },
    )


# -- the Seller review queue: confirm or reject a suggested link, merge, split off, rename -------


def seller_links_frame(eng: sa.Engine, status: str | None = "review") -> pl.DataFrame:
    """Suggested links between two Sellers (of :func:`save_sellers`), highest score first:
    ``id``, ``seller_key``, ``seller``, ``other_key``, ``other`` (the two Sellers' names),
    ``score`` (Float64, 0-100), ``evidence``, ``status``; only ``status`` ones when given."""
    a, b = sellers_t.alias("a"), sellers_t.alias("b")
    query = (
        sa.select(
            seller_links.c.id,
            seller_links.c.seller_key,
            a.c.name.label("seller"),
            seller_links.c.other_key,
            b.c.name.label("other"),
            seller_links.c.score,
            seller_links.c.evidence,
            seller_links.c.status,
        )
        .join(a, a.c.seller_key == seller_links.c.seller_key)
        .join(b, b.c.seller_key == seller_links.c.other_key)
        .order_by(seller_links.c.score.desc(), seller_links.c.id)
    )
    if status is not None:
        query = query.where(seller_links.c.status == status)
    return _frame(
        eng,
        query,
        {
            "id": pl.Int64,
            "seller_key": pl.Int64,
            "seller": pl.String,
            "other_key": pl.Int64,
            "other": pl.String,
            "score": pl.Float64,
            "evidence": pl.String,
            "status": pl.String,
        },
    )


def _seller_name(conn: sa.Connection, key: int) -> str:
    name = conn.execute(sa.select(sellers_t.c.name).where(sellers_t.c.seller_key == key)).scalar()
    if name is None:
        raise KeyError(f"no Seller {key}")
    return name


def _move_aliases(
    conn: sa.Connection, where, to_key: int, now: datetime, actor: str, reason: str
) -> list[dict]:
    """Point the aliases matching ``where`` at Seller ``to_key``, confirmed (a person decided,
    so a re-run of `stockroom map` keeps it); one audit row each."""
    audits = []
    for row in conn.execute(sa.select(seller_aliases).where(where)).all():
        old = {"seller_key": row.seller_key, "status": row.status}
        new = {"seller_key": to_key, "status": "confirmed"}
        conn.execute(
            seller_aliases.update()
            .where(
                (seller_aliases.c.platform == row.platform)
                & (seller_aliases.c.platform_seller_id == row.platform_seller_id)
            )
            .values(seller_key=to_key, status="confirmed", method="person", updated_at=now)
        )
        audits.append(
            _audit(
                now,
                actor,
                "seller_alias",
                f"{row.platform}/{row.platform_seller_id}",
                old,
                new,
                reason,
            )
        )
    return audits


def merge_sellers(eng: sa.Engine, keep: int, other: int, *, actor: str, reason: str) -> int:
    """Merge Seller ``other`` into ``keep``: every account of ``other`` becomes ``keep``'s
    (confirmed), a suggested link between the two is confirmed. Audited (one row per account
    moved and one for the merge); returns how many accounts moved. Raises ``KeyError`` for an
    unknown Seller and ``ValueError`` when ``keep == other``."""
    if keep == other:
        raise ValueError("a Seller cannot be merged into itself")
    now = datetime.now(UTC)
    with eng.begin() as conn:
        names = {k: _seller_name(conn, k) for k in (keep, other)}
        audits = _move_aliases(conn, seller_aliases.c.seller_key == other, keep, now, actor, reason)
        pair = (min(keep, other), max(keep, other))
        conn.execute(
            seller_links.update()
            .where((seller_links.c.seller_key == pair[0]) & (seller_links.c.other_key == pair[1]))
            .values(status="confirmed", updated_at=now)
        )
        audits.append(
            _audit(
                now,
                actor,
                "seller",
                str(keep),
                {"merged": None},
                {"merged": other, "merged_name": names[other], "name": names[keep]},
                reason,
            )
        )
        audit.append(conn, audits)
    return len(audits) - 1


def reject_link(eng: sa.Engine, link_id: int, *, actor: str, reason: str) -> None:
    """Reject a suggested link (the two Sellers stay apart; a re-run does not suggest it
    again). Audited. Raises ``KeyError`` for an unknown link."""
    now = datetime.now(UTC)
    with eng.begin() as conn:
        row = conn.execute(sa.select(seller_links).where(seller_links.c.id == link_id)).first()
        if row is None:
            raise KeyError(f"no seller link {link_id}")
        conn.execute(
            seller_links.update()
            .where(seller_links.c.id == link_id)
            .values(status="rejected", updated_at=now)
        )
        audit.append(
            conn,
            [
                _audit(
                    now,
                    actor,
                    "seller_link",
                    f"{row.seller_key}/{row.other_key}",
                    {"status": row.status},
                    {"status": "rejected"},
                    reason,
                )
            ],
        )


def confirm_link(eng: sa.Engine, link_id: int, *, actor: str, reason: str) -> int:
    """Confirm a suggested link: :func:`merge_sellers` of its second Seller into its first.
    Returns how many accounts moved. Raises ``KeyError`` for an unknown link."""
    with eng.connect() as conn:
        row = conn.execute(sa.select(seller_links).where(seller_links.c.id == link_id)).first()
    if row is None:
        raise KeyError(f"no seller link {link_id}")
    return merge_sellers(eng, row.seller_key, row.other_key, actor=actor, reason=reason)


def split_account(
    eng: sa.Engine,
    platform: str,
    seller_id: str,
    *,
    actor: str,
    reason: str,
    name: str | None = None,
) -> int:
    """Split one platform account off its Seller into a new Seller (named ``name``, else the
    account's display name, else its id), confirmed. Audited; returns the new Seller's key.
    Raises ``KeyError`` for an unknown account."""
    now = datetime.now(UTC)
    with eng.begin() as conn:
        where = (seller_aliases.c.platform == platform) & (
            seller_aliases.c.platform_seller_id == seller_id
        )
        row = conn.execute(sa.select(seller_aliases).where(where)).first()
        if row is None:
            raise KeyError(f"no account {platform}/{seller_id}")
        label = name or row.seller_name or seller_id
        key = conn.execute(
            sellers_t.insert().values(
                name=label, norm_name=f"{platform}:{seller_id}", created_at=now
            )
        ).inserted_primary_key[0]
        audits = [
            _audit(
                now,
                actor,
                "seller",
                str(key),
                None,
                {"name": label, "split_from": row.seller_key},
                reason,
            )
        ]
        audits += _move_aliases(conn, where, key, now, actor, reason)
        audit.append(conn, audits)
    return key


def rename_seller(eng: sa.Engine, key: int, name: str, *, actor: str, reason: str) -> None:
    """Rename a Seller (what every page shows). Audited. Raises ``KeyError`` for an unknown
    Seller and ``ValueError`` for an empty name."""
    name = name.strip()
    if not name:
        raise ValueError("a Seller needs a name")
    now = datetime.now(UTC)
    with eng.begin() as conn:
        old = _seller_name(conn, key)
        conn.execute(sellers_t.update().where(sellers_t.c.seller_key == key).values(name=name))
        audit.append(
            conn,
            [_audit(now, actor, "seller", str(key), {"name": old}, {"name": name}, reason)],
        )
