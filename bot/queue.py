"""The job queue of ``govpatrol scheduler`` and ``govpatrol worker``: Procrastinate on the
PostgreSQL that holds the tasks. SQLite has no queue; ``govpatrol run`` needs none.

One queue per location (``govpatrol.<location>``); one job per due run, carrying the id of
its ``scheduled_runs`` row; a queueing lock and a lock per check and location, so a slow
check never piles up jobs and never runs twice at once. Verifications of rectified tasks
are jobs of their own, ahead of the scheduled runs in the check's first location.
"""

from __future__ import annotations

import procrastinate
from sqlalchemy import make_url

RUN_TASK = "govpatrol.run_scheduled"
VERIFY_TASK = "govpatrol.verify"
VERIFY_PRIORITY = 10  # a unit waits for its verification: ahead of scheduled runs (0)


def queue_name(location: str) -> str:
    return f"govpatrol.{location}"


def check_lock(check_id: str, location: str) -> str:
    return f"{check_id}@{location}"


def libpq_url(database_url: str) -> str:
    """The SQLAlchemy URL as libpq (psycopg, Procrastinate) reads it."""
    url = make_url(database_url)
    if not url.drivername.startswith("postgresql"):
        raise ValueError("调度与执行角色需要 PostgreSQL（GOVPATROL_DATABASE_URL=postgresql://…）")
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def queue_app(database_url: str) -> procrastinate.App:
    return procrastinate.App(
        connector=procrastinate.PsycopgConnector(conninfo=libpq_url(database_url))
    )


async def apply_queue_schema(database_url: str) -> bool:
    """Create Procrastinate's tables once; False when they were there already."""
    import psycopg

    async with await psycopg.AsyncConnection.connect(libpq_url(database_url)) as conn:
        found = await (await conn.execute("SELECT to_regclass('procrastinate_jobs')")).fetchone()
    if found is not None and found[0] is not None:
        return False
    app = queue_app(database_url)
    async with app.open_async():
        await app.schema_manager.apply_schema_async()
    return True
