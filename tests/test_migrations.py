"""The Alembic migrations build exactly the tables the models describe, on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine

import bot.console.accounts  # noqa: F401  (registers the console account tables)
import notifications.models  # noqa: F401  (registers the outbox table)
import tasks.models  # noqa: F401  (registers the tracker tables)
from bot.migrate import is_current
from core.db import Base


def test_migrated_database_matches_the_models(engine: Engine) -> None:
    assert is_current(engine)
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []
