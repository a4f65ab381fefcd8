"""The scheduler lease across a database outage: the daemon that cannot prove it holds
the lease stops scheduling at once, keeps trying, and resumes only once it holds it again;
a second daemon that took the lease meanwhile is then the only one scheduling.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool

from bot.daemon import Daemon
from bot.lease import LeaseHeld, SchedulerLock
from core.clock import SystemClock
from core.db import make_engine, make_sessions
from tests.conftest import ServicesFactory, _postgres_engine
from tests.test_guards import VerdictProbe

pytestmark = pytest.mark.postgres

CATALOG = """
units:
  - code: u
    name: 示范县政务服务中心
    contacts: [{name: 联系人孙, notify: ["json://127.0.0.1:9/hook"]}]
targets:
  - key: t0
    name: 县0政务服务网
    unit: u
    base_url: http://127.0.0.1:9
    checks:
      - {probe: verdict, schedule: 1s, failure_threshold: 1}
"""
TTL = dt.timedelta(seconds=3)
RENEW_S = 0.5


@dataclass
class CountingDaemon(Daemon):
    """A daemon that notes when it actually ran a check."""

    ran: list[float] = field(default_factory=list)

    async def _run_check(self, check_id: str) -> object:
        result = await super()._run_check(check_id)
        if result is not None:
            self.ran.append(time.monotonic())
        return result


class FlakyDatabase:
    """The lease's own connection to PostgreSQL, which refuses to connect while ``down``."""

    def __init__(self, url: str) -> None:
        self.down = False
        self.engine = make_engine(url, poolclass=NullPool)
        event.listen(self.engine, "do_connect", self._connect)

    def _connect(self, *args: Any) -> None:
        if self.down:
            raise OperationalError("connect", {}, ConnectionRefusedError("database down"))

    def lock(self, holder: str) -> SchedulerLock:
        lock = SchedulerLock(
            make_sessions(self.engine), SystemClock(), ttl=TTL, margin=dt.timedelta(seconds=0.5)
        )
        lock.holder = holder
        return lock


async def _until(condition: Callable[[], bool], within_s: float, what: str) -> None:
    deadline = time.monotonic() + within_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


async def test_daemon_cut_off_from_the_database_never_schedules_beside_its_successor(
    make_services: ServicesFactory, postgres_url: str
) -> None:
    first_db, second_db = FlakyDatabase(postgres_url), FlakyDatabase(postgres_url)

    def daemon(db: FlakyDatabase, holder: str) -> CountingDaemon:
        services = make_services(
            CATALOG, extra_probes=(VerdictProbe,), engine=_postgres_engine(postgres_url)
        )
        return CountingDaemon(services, web=False, lock=db.lock(holder), lease_renew_s=RENEW_S)

    first = daemon(first_db, "host-a:1")
    first_task = asyncio.create_task(first.run())
    second: CountingDaemon | None = None
    second_task: asyncio.Task[None] | None = None
    try:
        await _until(lambda: len(first.ran) >= 2, 20, "the first daemon to run the check")
        first_db.down = True  # the database outage, as the first daemon sees it
        scheduler = first.scheduler
        assert scheduler is not None
        await _until(lambda: scheduler.paused, 5, "the first daemon to pause")
        paused_at = time.monotonic()
        assert not [t for t in first.ran if t > paused_at]

        # The lease runs out; a second daemon takes it and schedules.
        second = daemon(second_db, "host-b:2")
        for _ in range(100):
            try:
                second.lock.acquire()  # type: ignore[union-attr]
                break
            except LeaseHeld:
                await asyncio.sleep(0.1)
        second_task = asyncio.create_task(second.run())
        await _until(lambda: second is not None and len(second.ran) >= 2, 20, "second runs")

        first_db.down = False  # the database is back: the first one must stay paused
        await asyncio.sleep(TTL.total_seconds() + 1)
        assert scheduler.paused
        assert not [t for t in first.ran if t > paused_at], "both daemons scheduled"
        assert len(second.ran) >= 4

        # The second daemon stops and releases the lease: the first takes it and resumes.
        second.stop.set()
        await asyncio.wait_for(second_task, timeout=30)
        stopped_at = time.monotonic()
        await _until(lambda: not scheduler.paused, 10, "the first daemon to resume")
        await _until(lambda: any(t > stopped_at for t in first.ran), 10, "runs again")
    finally:
        first.stop.set()
        if second is not None:
            second.stop.set()
        await asyncio.wait_for(first_task, timeout=30)
        if second_task is not None:
            await asyncio.wait_for(second_task, timeout=30)
        first_db.engine.dispose()
        second_db.engine.dispose()
