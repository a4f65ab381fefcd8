"""runs.location and the verdict of a round of locations; scheduled_runs.decided_at

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 19:20:00

A run from a location remembers where it ran from. A check run from several locations
is judged by rounds (``tasks.quorum``): each location's run is evidence
(``round_evidence``), and one run of a decided round carries the round's verdict
(``round_verdict``); ``scheduled_runs.decided_at`` marks the round decided, once.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from core.db import UTCDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("location", sa.String(length=80), nullable=True))
        batch_op.add_column(
            sa.Column("round_evidence", sa.Boolean(), server_default="0", nullable=False)
        )
        batch_op.add_column(sa.Column("round_verdict", sa.JSON(), nullable=True))
    with op.batch_alter_table("scheduled_runs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("decided_at", UTCDateTime(), nullable=True))
    op.create_index("ix_scheduled_runs_slot", "scheduled_runs", ["slot"])


def downgrade() -> None:
    op.drop_index("ix_scheduled_runs_slot", table_name="scheduled_runs")
    for table, column in (
        ("scheduled_runs", "decided_at"),
        ("runs", "round_verdict"),
        ("runs", "round_evidence"),
        ("runs", "location"),
    ):
        if op.get_bind().dialect.name == "sqlite":
            op.execute(sa.text(f"ALTER TABLE {table} DROP COLUMN {column}"))
        else:
            op.drop_column(table, column)
