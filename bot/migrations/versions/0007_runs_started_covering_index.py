"""runs: covering index on (started_at, check_id, outcome, held) for the month's runs

The monthly scorecard (availability) and indicator report read every run of a month by
its start; this index answers both without touching the table.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 19:40:00
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.create_index(
            "ix_runs_started_check_outcome",
            ["started_at", "check_id", "outcome", "held"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.drop_index("ix_runs_started_check_outcome")
