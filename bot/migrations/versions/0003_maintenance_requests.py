"""maintenance windows as requests with a state and a history; claims of running checks

Revision ID: 0003_maintenance_requests
Revises: 0002
Create Date: 2026-12-03 16:30:00

Windows recorded before this revision were in force at once: they become approved, with
an ``added`` history row saying so.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import core.db

revision = "0003_maintenance_requests"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("maintenance_windows", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("state", sa.String(length=20), nullable=False, server_default="approved")
        )
        batch_op.add_column(
            sa.Column("source", sa.String(length=20), nullable=False, server_default="unit")
        )
        batch_op.add_column(sa.Column("task_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("decided_by", sa.String(length=120), nullable=True))
        batch_op.add_column(
            sa.Column("decided_at", core.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("decision_note", sa.Text(), nullable=False, server_default="")
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_maintenance_windows_task_id_tasks"), "tasks", ["task_id"], ["id"]
        )
        batch_op.create_index(batch_op.f("ix_maintenance_windows_state"), ["state"], unique=False)
    # The defaults only served the rows already there; new rows always say what they are.
    with op.batch_alter_table("maintenance_windows", schema=None) as batch_op:
        batch_op.alter_column("state", server_default=None)
        batch_op.alter_column("source", server_default=None)
        batch_op.alter_column("decision_note", server_default=None)

    op.create_table(
        "maintenance_history",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("window_id", sa.Integer(), nullable=False),
        sa.Column("at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=120), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("from_state", sa.String(length=20), nullable=True),
        sa.Column("to_state", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["window_id"],
            ["maintenance_windows.id"],
            name=op.f("fk_maintenance_history_window_id_maintenance_windows"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_maintenance_history")),
    )
    with op.batch_alter_table("maintenance_history", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_maintenance_history_window_id"), ["window_id"], unique=False
        )
    op.execute(
        "INSERT INTO maintenance_history (window_id, at, actor, action, from_state, to_state, "
        "reason) SELECT id, announced_at, announced_by, 'added', NULL, 'approved', "
        "'升级前登记，即时生效' FROM maintenance_windows"
    )

    op.create_table(
        "check_claims",
        sa.Column("check_id", sa.String(length=140), nullable=False),
        sa.Column("holder", sa.String(length=200), nullable=False),
        sa.Column("purpose", sa.String(length=20), nullable=False),
        sa.Column("taken_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("check_id", name=op.f("pk_check_claims")),
    )


def downgrade() -> None:
    op.drop_table("check_claims")
    with op.batch_alter_table("maintenance_history", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_maintenance_history_window_id"))
    op.drop_table("maintenance_history")
    # Requests that were never approved would come back in force: drop them first.
    op.execute("DELETE FROM maintenance_windows WHERE state <> 'approved'")
    with op.batch_alter_table("maintenance_windows", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_maintenance_windows_state"))
        batch_op.drop_constraint(
            batch_op.f("fk_maintenance_windows_task_id_tasks"), type_="foreignkey"
        )
        batch_op.drop_column("decision_note")
        batch_op.drop_column("decided_at")
        batch_op.drop_column("decided_by")
        batch_op.drop_column("task_id")
        batch_op.drop_column("source")
        batch_op.drop_column("state")
