"""campaigns (专项整改, one fixed deadline), tasks.campaign_id; bulletins (published 通报)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 19:20:00

``tasks.campaign_id`` carries no foreign key: adding one on SQLite copies ``tasks``, a
table other rows refer to (as ``runs.task_id``, it is a plain indexed column).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from core.db import UTCDateTime

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "campaigns",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("unit_code", sa.String(length=64), nullable=True),
        sa.Column("units", sa.JSON(), nullable=False),
        sa.Column("checks", sa.JSON(), nullable=False),
        sa.Column("finding_codes", sa.JSON(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=120), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaigns")),
    )
    op.create_index("ix_campaigns_period", "campaigns", ["starts_on", "ends_on"])
    op.create_table(
        "bulletins",
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("published_at", UTCDateTime(), nullable=False),
        sa.Column("published_by", sa.String(length=120), nullable=False),
        sa.Column("snapshot", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("month", name=op.f("pk_bulletins")),
    )
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("campaign_id", sa.Integer(), nullable=True))
        batch_op.create_index(op.f("ix_tasks_campaign_id"), ["campaign_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_tasks_campaign_id"), table_name="tasks")
    if op.get_bind().dialect.name == "sqlite":
        op.execute(sa.text("ALTER TABLE tasks DROP COLUMN campaign_id"))
    else:
        op.drop_column("tasks", "campaign_id")
    op.drop_table("bulletins")
    op.drop_index("ix_campaigns_period", table_name="campaigns")
    op.drop_table("campaigns")
