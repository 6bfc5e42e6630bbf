"""hardening: run records keep retries and warnings; the audit log becomes a hash chain with
guards against REPLACE, back-dating and TRUNCATE

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

GUARD = "audit_log is append-only"
CHAIN = "audit_log rows must extend the chain: prev_hash = the newest hash, at not earlier"
GENESIS = "0" * 64


def upgrade() -> None:
    from stockroom.audit import row_hash

    with op.batch_alter_table("job_runs") as batch:
        batch.add_column(sa.Column("retries", sa.Text))
        batch.add_column(sa.Column("warnings", sa.Text))
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":  # batch mode rebuilds the table: the 0002 triggers go first
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_delete")
    elif dialect == "postgresql":
        op.execute("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only")
    with op.batch_alter_table("audit_log") as batch:
        batch.add_column(sa.Column("prev_hash", sa.String(64)))
        batch.add_column(sa.Column("hash", sa.String(64)))
    op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("last_id", sa.Integer, nullable=False),
        sa.Column("last_at", sa.DateTime(timezone=True)),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    # chain the rows already on file, in id order
    log = sa.table(
        "audit_log",
        *[
            sa.column(c, sa.DateTime(timezone=True) if c == "at" else sa.Text)
            for c in ("at", "actor", "entity", "entity_key", "old", "new", "reason")
        ],
        sa.column("id", sa.Integer),
        sa.column("prev_hash", sa.String),
        sa.column("hash", sa.String),
    )
    bind = op.get_bind()
    prev, last_id, last_at = GENESIS, 0, None
    for r in bind.execute(sa.select(log).order_by(log.c.id)).all():
        row = dict(r._mapping)
        digest = row_hash(row, prev)
        bind.execute(log.update().where(log.c.id == row["id"]).values(prev_hash=prev, hash=digest))
        prev, last_id, last_at = digest, row["id"], row["at"]
    head = sa.table(
        "audit_head",
        sa.column("id", sa.Integer),
        sa.column("last_id", sa.Integer),
        sa.column("last_at", sa.DateTime(timezone=True)),
        sa.column("hash", sa.String),
    )
    bind.execute(head.insert().values(id=1, last_id=last_id, last_at=last_at, hash=prev))
    if dialect == "sqlite":
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER audit_log_no_{action.lower()} BEFORE {action} ON "
                f"audit_log BEGIN SELECT RAISE(ABORT, '{GUARD}'); END"
            )
        # INSERT OR REPLACE deletes the old row without firing DELETE triggers: refuse the id
        op.execute(
            "CREATE TRIGGER audit_log_no_replace BEFORE INSERT ON audit_log "
            "WHEN EXISTS (SELECT 1 FROM audit_log WHERE id = NEW.id) "
            f"BEGIN SELECT RAISE(ABORT, '{GUARD}'); END"
        )
        op.execute(
            "CREATE TRIGGER audit_log_chain BEFORE INSERT ON audit_log WHEN "
            "NEW.prev_hash IS NOT coalesce((SELECT hash FROM audit_log ORDER BY id DESC "
            f"LIMIT 1), '{GENESIS}') OR NEW.hash IS NULL "
            "OR NEW.at < (SELECT at FROM audit_log ORDER BY id DESC LIMIT 1) "
            f"BEGIN SELECT RAISE(ABORT, '{CHAIN}'); END"
        )
    elif dialect == "postgresql":
        op.execute("ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only")
        op.execute(
            "CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log "
            "FOR EACH STATEMENT EXECUTE FUNCTION audit_log_guard()"
        )
        op.execute(
            "CREATE FUNCTION audit_log_chain() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            "IF NEW.hash IS NULL OR NEW.prev_hash IS DISTINCT FROM coalesce((SELECT hash FROM "
            f"audit_log ORDER BY id DESC LIMIT 1), '{GENESIS}') OR NEW.at < (SELECT at FROM "
            f"audit_log ORDER BY id DESC LIMIT 1) THEN RAISE EXCEPTION '{CHAIN}'; END IF; "
            "RETURN NEW; END $$"
        )
        op.execute(
            "CREATE TRIGGER audit_log_chain BEFORE INSERT ON audit_log "
            "FOR EACH ROW EXECUTE FUNCTION audit_log_chain()"
        )


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_replace")
        op.execute("DROP TRIGGER IF EXISTS audit_log_chain")
    elif dialect == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log")
        op.execute("DROP TRIGGER IF EXISTS audit_log_chain ON audit_log")
        op.execute("DROP FUNCTION IF EXISTS audit_log_chain()")
    op.drop_table("audit_head")
    with op.batch_alter_table("audit_log") as batch:
        batch.drop_column("hash")
        batch.drop_column("prev_hash")
    with op.batch_alter_table("job_runs") as batch:
        batch.drop_column("warnings")
        batch.drop_column("retries")
