"""The audit log: append-only and tamper-evident (a hash chain), on SQLite and PostgreSQL.

Every decision a person or a job makes in the workbench database (mappings, purchase orders,
settings, ...) appends rows with :func:`append`, in the same transaction as the change itself.
Each row carries ``prev_hash`` (the previous row's ``hash``) and its own ``hash``::

    hash = sha256("stockroom-audit-v1" | id | at | actor | entity | entity_key | old | new
                  | reason | prev_hash)      (the fields JSON-encoded as one array)

so changing, removing or inserting a row anywhere breaks every hash after it (the construction
of a hash chain as in Haber & Stornetta, "How to time-stamp a digital document", 1991, and
RFC 6962's append-only log). :func:`verify` recomputes the chain and names the first row that
does not match. The database refuses what it can on its own (migration 0005): UPDATE, DELETE
and ``INSERT OR REPLACE`` of an existing id on SQLite; UPDATE, DELETE and TRUNCATE on PostgreSQL;
and on both a row whose ``prev_hash`` is not the newest row's hash or whose time is earlier than
the newest row's (back-dating). Someone who can drop those triggers can also rewrite the chain
from the first changed row on; :func:`verify` reports missing triggers, and the chain head
(:func:`head`) can be written down elsewhere to pin the history up to it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa

from stockroom.workbench import audit_head, audit_log

GENESIS = "0" * 64
FIELDS = ("actor", "entity", "entity_key", "old", "new", "reason")
GUARDS = {
    "sqlite": (
        "audit_log_no_update",
        "audit_log_no_delete",
        "audit_log_no_replace",
        "audit_log_chain",
    ),
    "postgresql": ("audit_log_append_only", "audit_log_no_truncate", "audit_log_chain"),
}


def canonical_at(at: datetime) -> str:
    """The timestamp as hashed: UTC, microseconds, no zone suffix (SQLite hands back naive
    UTC, PostgreSQL aware; both give the same text)."""
    if at.tzinfo is not None:
        at = at.astimezone(UTC).replace(tzinfo=None)
    return at.isoformat(sep=" ", timespec="microseconds")


def row_hash(row: Mapping, prev_hash: str) -> str:
    """The hash of one audit row (``id``, ``at`` and :data:`FIELDS`) chained to ``prev_hash``."""
    payload = [
        "stockroom-audit-v1",
        int(row["id"]),
        canonical_at(row["at"]),
        *[row.get(f) for f in FIELDS],
        prev_hash,
    ]
    encoded = json.dumps(payload, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(encoded.encode("utf-8")).hexdigest()


def append(conn: sa.Connection, rows: Iterable[Mapping]) -> int:
    """Append audit rows (each with actor, entity, entity_key, old, new, reason; ``at`` is set
    here) inside the caller's transaction; returns how many.

    The chain head is locked first (an UPDATE of ``audit_head``: SQLite's write lock, a row
    lock on PostgreSQL), so concurrent writers append one after the other; ``at`` is the
    current time, never earlier than the newest row's. Raises ``ValueError`` for a row without
    an actor.
    """
    rows = list(rows)
    if not rows:
        return 0
    for row in rows:
        if not str(row.get("actor") or "").strip():
            raise ValueError("an audit row needs the person or job that made the change (actor)")
    conn.execute(
        audit_head.update().where(audit_head.c.id == 1).values(last_id=audit_head.c.last_id)
    )
    head_row = conn.execute(sa.select(audit_head).where(audit_head.c.id == 1)).first()
    last_id, last_at, prev = head_row.last_id, head_row.last_at, head_row.hash
    now = datetime.now(UTC)
    if last_at is not None:
        last_at = last_at if last_at.tzinfo else last_at.replace(tzinfo=UTC)
        now = max(now, last_at)
    out = []
    for row in rows:
        last_id += 1
        record = {"id": last_id, "at": now, **{f: row.get(f) for f in FIELDS}, "prev_hash": prev}
        record["hash"] = prev = row_hash(record, record["prev_hash"])
        out.append(record)
    # executemany inserts row after row: the chain trigger checks each against the one before
    conn.execute(audit_log.insert(), out)
    conn.execute(
        audit_head.update()
        .where(audit_head.c.id == 1)
        .values(last_id=last_id, last_at=now, hash=prev)
    )
    return len(out)


def entry(
    actor: str, entity: str, key: str, old: dict | None, new: dict | None, reason: str | None
) -> dict:
    """An audit row for :func:`append`: ``old`` and ``new`` as sorted JSON (None stays None)."""
    return {
        "actor": actor,
        "entity": entity,
        "entity_key": key,
        "old": None if old is None else json.dumps(old, sort_keys=True, default=str),
        "new": None if new is None else json.dumps(new, sort_keys=True, default=str),
        "reason": reason,
    }


def head(eng: sa.Engine) -> tuple[int, str]:
    """(id of the newest row, its hash): write it down to pin the history up to it."""
    with eng.connect() as conn:
        row = conn.execute(sa.select(audit_head).where(audit_head.c.id == 1)).first()
    return (row.last_id, row.hash) if row else (0, GENESIS)


@dataclass(frozen=True)
class Verdict:
    """What :func:`verify` found: ``rows`` checked; ``first_broken`` (row id) and ``problem``
    when the chain breaks; ``missing_guards`` lists database triggers that are gone."""

    rows: int
    first_broken: int | None
    problem: str | None
    missing_guards: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return self.first_broken is None and not self.missing_guards


def verify(eng: sa.Engine, batch: int = 10_000) -> Verdict:
    """Recompute the whole chain in id order and compare it with the stored hashes and head."""
    prev, checked = GENESIS, 0
    with eng.connect() as conn:
        last = 0
        while True:
            chunk = conn.execute(
                sa.select(audit_log)
                .where(audit_log.c.id > last)
                .order_by(audit_log.c.id)
                .limit(batch)
            ).all()
            for r in chunk:
                row = r._mapping
                problem = None
                if row["prev_hash"] != prev:
                    problem = (
                        "prev_hash is not the previous row's hash "
                        "(a row before it was removed, or this one forged)"
                    )
                elif row["hash"] != row_hash(row, prev):
                    problem = "the row's content does not match its hash (changed after writing)"
                if problem:
                    return Verdict(checked, row["id"], problem, _missing_guards(conn))
                prev, checked, last = row["hash"], checked + 1, row["id"]
            if len(chunk) < batch:
                break
        head_row = conn.execute(sa.select(audit_head).where(audit_head.c.id == 1)).first()
        if head_row is None or head_row.last_id != last or head_row.hash != prev:
            return Verdict(
                checked,
                last + 1,
                "the newest rows were removed, or the chain head was changed",
                _missing_guards(conn),
            )
        return Verdict(checked, None, None, _missing_guards(conn))


def _missing_guards(conn: sa.Connection) -> tuple[str, ...]:
    dialect = conn.dialect.name
    if dialect == "sqlite":
        present = {
            r[0]
            for r in conn.execute(sa.text("SELECT name FROM sqlite_master WHERE type = 'trigger'"))
        }
    elif dialect == "postgresql":
        present = {
            r[0]
            for r in conn.execute(
                sa.text("SELECT tgname FROM pg_trigger WHERE tgrelid = 'audit_log'::regclass")
            )
        }
    else:
        return ()
    return tuple(g for g in GUARDS.get(dialect, ()) if g not in present)
