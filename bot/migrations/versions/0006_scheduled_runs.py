"""scheduled_runs: the runs ``govpatrol scheduler`` deferred to a location's queue

Revision ID: 0006
Revises: 0005_token_names
Create Date: 2026-12-03 17:40:00

Procrastinate's own tables (``procrastinate_jobs`` …) are not Alembic's: ``govpatrol db
upgrade`` applies Procrastinate's schema on PostgreSQL after this chain (``bot.queue``).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from core.db import UTCDateTime

revision = "0006"
down_revision = "0005_token_names"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "scheduled_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("check_id", sa.String(length=200), nullable=False),
        sa.Column("location", sa.String(length=80), nullable=False),
        sa.Column("slot", UTCDateTime(), nullable=False),
        sa.Column("deferred_at", UTCDateTime(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name=op.f("fk_scheduled_runs_run_id_runs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scheduled_runs")),
        sa.UniqueConstraint("check_id", "location", "slot", name=op.f("uq_scheduled_runs_slot")),
    )
    op.create_index("ix_scheduled_runs_check_slot", "scheduled_runs", ["check_id", "slot"])


def downgrade() -> None:
    op.drop_index("ix_scheduled_runs_check_slot", table_name="scheduled_runs")
    op.drop_table("scheduled_runs")
