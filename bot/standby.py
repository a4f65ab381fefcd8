"""Active/standby for ``govpatrol scheduler``: a PostgreSQL advisory lock on a connection
of its own. The server drops the lock when that session dies (crash, ``kill -9``, network
cut), so a standby can take it; the active scheduler proves it still holds the lock before
every deferral and on a timer, and stops at the first doubt.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import psycopg
from sqlalchemy import Engine, text

log = logging.getLogger(__name__)

# pg_advisory_lock(bigint): one number for "the govpatrol scheduler of this database".
SCHEDULER_LOCK_KEY = 0x67_6F_76_70_61_74  # "govpat"


def scheduler_role_active(engine: Engine) -> bool:
    """Whether a ``govpatrol scheduler`` holds this database (never on SQLite)."""
    if engine.dialect.name != "postgresql":
        return False
    with engine.connect() as connection:
        held = connection.scalar(
            text(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
                " AND database = (SELECT oid FROM pg_database"
                " WHERE datname = current_database())"
                " AND ((classid::bigint << 32) | objid::bigint) = :key"
            ),
            {"key": SCHEDULER_LOCK_KEY},
        )
    return bool(held)


class ActiveLock:
    def __init__(self, conninfo: str, timeout_s: float) -> None:
        self.conninfo = conninfo
        self.timeout_s = timeout_s
        self._conn: psycopg.AsyncConnection[tuple[object, ...]] | None = None

    async def try_take(self) -> bool:
        """Take the lock if nobody holds it; False (never an exception) otherwise."""
        try:
            async with asyncio.timeout(self.timeout_s):
                if self._conn is None or self._conn.closed:
                    self._conn = await psycopg.AsyncConnection.connect(
                        self.conninfo, autocommit=True, application_name="govpatrol-scheduler"
                    )
                row = await (
                    await self._conn.execute(
                        "SELECT pg_try_advisory_lock(%s)", (SCHEDULER_LOCK_KEY,)
                    )
                ).fetchone()
        except (OSError, TimeoutError, psycopg.Error) as exc:
            log.warning("scheduler lock not reachable: %s", exc)
            await self.close()
            return False
        return bool(row and row[0])

    async def held(self) -> bool:
        """Whether this session provably still holds the lock (asked of the server)."""
        if self._conn is None or self._conn.closed:
            return False
        try:
            async with asyncio.timeout(self.timeout_s):
                row = await (
                    await self._conn.execute(
                        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"
                        " AND pid = pg_backend_pid() AND granted"
                        " AND ((classid::bigint << 32) | objid::bigint) = %s",
                        (SCHEDULER_LOCK_KEY,),
                    )
                ).fetchone()
        except (OSError, TimeoutError, psycopg.Error) as exc:
            log.error("scheduler lock not proven: %s", exc)
            await self.close()
            return False
        return bool(row and row[0])

    async def close(self) -> None:
        """Let go of the lock (closing the session releases it)."""
        conn, self._conn = self._conn, None
        if conn is not None and not conn.closed:
            with contextlib.suppress(OSError, TimeoutError, psycopg.Error):
                await asyncio.wait_for(conn.close(), timeout=self.timeout_s)
