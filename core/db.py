"""Database plumbing shared by every table: the declarative base, UTC timestamps, engines.

SQLite (one file, WAL) is the embedded default; PostgreSQL is used by URL. Both run the
same migrations and the same tests.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import (
    ColumnElement,
    DateTime,
    Engine,
    Insert,
    MetaData,
    TextClause,
    create_engine,
    event,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from core.private_files import private_file

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out, on SQLite and PostgreSQL alike."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(dt.UTC)
        # SQLite has no time zones: store naive UTC so text comparison stays correct.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value if value.tzinfo is dt.UTC else value.astimezone(dt.UTC)


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for ``url``; SQLite files get WAL, foreign keys and a busy timeout."""
    if url.startswith("sqlite"):
        if url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:"):
            # 0600 before SQLite opens it: its WAL and shared-memory files copy the mode.
            path = Path(url.removeprefix("sqlite:///"))
            path.parent.mkdir(parents=True, exist_ok=True)
            private_file(path)
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs
        )

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    # Sessions in UTC: timestamps come back with datetime.timezone.utc, which converts for
    # free, rather than the server's zone (a ZoneInfo lookup per value read).
    connect_args = {"options": "-c timezone=UTC", **kwargs.pop("connect_args", {})}
    return create_engine(url, pool_pre_ping=True, connect_args=connect_args, **kwargs)


def insert_unless_present(
    session: Session,
    model: type[Base],
    values: Mapping[str, Any],
    *,
    key: Sequence[str],
    where: ColumnElement[bool] | TextClause | None = None,
) -> Insert:
    """``INSERT … ON CONFLICT (key) [WHERE …] DO NOTHING`` for SQLite and PostgreSQL: an
    idempotent insert that neither checks first nor fails the transaction on a duplicate.
    ``where`` is the predicate of a partial unique index."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return (
            postgresql.insert(model)
            .values(**values)
            .on_conflict_do_nothing(index_elements=list(key), index_where=where)
        )
    if dialect == "sqlite":
        return (
            sqlite.insert(model)
            .values(**values)
            .on_conflict_do_nothing(index_elements=list(key), index_where=where)
        )
    raise ValueError(f"unsupported database: {dialect}")


def make_sessions(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)
