"""api_tokens: a name per account (listed and revoked one by one) and an expiry

Revision ID: 0005_token_names
Revises: 0004
Create Date: 2026-12-03 17:15:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from core.db import UTCDateTime

revision = "0005_token_names"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("name", sa.String(length=64), server_default="", nullable=False)
        )
        batch_op.add_column(sa.Column("expires_at", UTCDateTime(), nullable=True))
    # Tokens made before names: token-<id>, unique within their account; they keep working
    # until revoked (no expiry), as they were issued.
    op.execute("UPDATE api_tokens SET name = 'token-' || CAST(id AS VARCHAR(20))")
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.create_unique_constraint("uq_api_tokens_user_id_name", ["user_id", "name"])


def downgrade() -> None:
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.drop_constraint("uq_api_tokens_user_id_name", type_="unique")
        batch_op.drop_column("expires_at")
        batch_op.drop_column("name")
