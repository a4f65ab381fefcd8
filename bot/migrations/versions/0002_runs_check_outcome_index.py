"""runs: index on (check_id, outcome, id) for the newest run of each check and outcome

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-03 08:35:00
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.create_index(
            "ix_runs_check_outcome_id", ["check_id", "outcome", "id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.drop_index("ix_runs_check_outcome_id")
