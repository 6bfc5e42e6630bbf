"""job runs, quarantine and source watermarks

Revision ID: 0001
Revises:
Create Date: 2026-11-21
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "job_runs",
        sa.Column("run_id", sa.String(96), primary_key=True),
        sa.Column("job", sa.String(64), nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("rows_read", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("rows_landed", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("rows_quarantined", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("snapshots", sa.Integer, nullable=False, server_default="0"),
        sa.Column("error", sa.Text),
        sa.Column("host", sa.String(255)),
        sa.Column("pid", sa.Integer),
    )
    op.create_index("ix_job_runs_job_started", "job_runs", ["job", "started_at"])
    op.create_table(
        "quarantine",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.String(96), sa.ForeignKey("job_runs.run_id"), nullable=False),
        sa.Column("table_name", sa.String(64), nullable=False),
        sa.Column("source_file", sa.Text),
        sa.Column("source_row", sa.BigInteger),
        sa.Column("column_name", sa.Text),
        sa.Column("value", sa.Text),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("record", sa.Text),
    )
    op.create_index("ix_quarantine_run", "quarantine", ["run_id"])
    op.create_table(
        "watermarks",
        sa.Column("source", sa.String(512), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
        sa.Column("run_id", sa.String(96), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("watermarks")
    op.drop_index("ix_quarantine_run", "quarantine")
    op.drop_table("quarantine")
    op.drop_index("ix_job_runs_job_started", "job_runs")
    op.drop_table("job_runs")
