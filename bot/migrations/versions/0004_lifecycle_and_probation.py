"""tasks.version (claimed by every change); probation of new targets

Revision ID: 0004
Revises: 0003_maintenance_requests
Create Date: 2026-12-03 16:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from core.db import UTCDateTime

revision = "0004"
down_revision = "0003_maintenance_requests"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("version", sa.Integer(), server_default="0", nullable=False))
    with op.batch_alter_table("targets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("confirmed_at", UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("confirmed_by", sa.String(length=120), nullable=True))
    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("probation", sa.Boolean(), server_default="0", nullable=False)
        )


def downgrade() -> None:
    # Dropped in place (SQLite 3.35+ can): a batch copy of ``targets`` would drop a table
    # that other rows refer to, which SQLite's foreign keys refuse.
    for table, column in (
        ("runs", "probation"),
        ("targets", "confirmed_by"),
        ("targets", "confirmed_at"),
        ("tasks", "version"),
    ):
        if op.get_bind().dialect.name == "sqlite":
            op.execute(sa.text(f"ALTER TABLE {table} DROP COLUMN {column}"))
        else:
            op.drop_column(table, column)
