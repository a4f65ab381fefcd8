"""``govpatrol run``: scheduler, notification sender and web server in one process.

Start-up: the database must be migrated, the catalog is mirrored into it, the scheduler
lease is taken. Shut-down (SIGTERM/SIGINT): stop scheduling, let running checks finish
for a while, stop the sender and the web server, close the browser, release the lease.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Iterator
from dataclasses import dataclass, field

import uvicorn

from bot.jobs import run_check
from bot.lease import SchedulerLock
from bot.scheduler import CheckScheduler
from bot.services import Services
from bot.web import Liveness, create_web_app
from tasks.catalog_sync import sync_catalog
from tasks.migrate import is_current

log = logging.getLogger(__name__)

LEASE_RENEW_S = 30.0
DRAIN_TIMEOUT_S = 30.0


class NotMigrated(Exception):
    """The database is behind the code; ``govpatrol db upgrade`` first."""


@dataclass
class Daemon:
    services: Services
    web: bool = True
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    scheduler: CheckScheduler | None = None
    web_port: int | None = None  # the port actually bound (settings may say 0)
    _running: set[asyncio.Task[object]] = field(default_factory=set)
    started: asyncio.Event = field(default_factory=asyncio.Event)

    async def run(self) -> None:
        services = self.services
        if not is_current(services.engine):
            raise NotMigrated("数据库尚未迁移到最新版本，请先运行 govpatrol db upgrade")
        with services.sessions.begin() as session:
            sync_catalog(session, services.catalog)
        lock = SchedulerLock(services.sessions, services.clock)
        lock.acquire()
        background: list[asyncio.Task[None]] = []
        server: uvicorn.Server | None = None
        try:
            await services.pool.start()
            self.scheduler = CheckScheduler(
                services.catalog, services.sessions, services.zone, self._run_check
            )
            count = self.scheduler.start()
            background.append(
                asyncio.create_task(
                    services.sender.run(self.stop, services.settings.notify_poll_s),
                    name="notification-sender",
                )
            )
            background.append(asyncio.create_task(self._renew(lock), name="lease"))
            if self.web:
                server = self._web_server()
                background.append(asyncio.create_task(server.serve(), name="web"))
                while not server.started:
                    await asyncio.sleep(0.05)
                    if background[-1].done():
                        background[-1].result()  # raises the bind error
                self.web_port = server.servers[0].sockets[0].getsockname()[1]
            log.info("daemon started: %d checks scheduled", count)
            self.started.set()
            await self.stop.wait()
        finally:
            log.info("shutting down")
            self.stop.set()
            if self.scheduler is not None:
                self.scheduler.shutdown()
            await self._drain()
            if server is not None:
                server.should_exit = True
            for task in background:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await asyncio.wait_for(task, timeout=10)
            await services.pool.close()
            lock.release()
            log.info("stopped")

    def install_signal_handlers(self) -> None:
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, self.stop.set)

    async def _run_check(self, check_id: str) -> object:
        if self.stop.is_set():
            return None
        task = asyncio.current_task()
        if task is not None:
            self._running.add(task)
        try:
            return await run_check(self.services, check_id)
        finally:
            if task is not None:
                self._running.discard(task)

    async def _drain(self) -> None:
        if not self._running:
            return
        log.info("waiting for %d running checks", len(self._running))
        _, pending = await asyncio.wait(self._running, timeout=DRAIN_TIMEOUT_S)
        for task in pending:
            task.cancel()

    async def _renew(self, lock: SchedulerLock) -> None:
        while not self.stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stop.wait(), timeout=LEASE_RENEW_S)
            if not self.stop.is_set() and not lock.renew():
                log.error("scheduler lease lost to another daemon; stopping")
                self.stop.set()

    def _web_server(self) -> uvicorn.Server:
        settings = self.services.settings
        liveness = Liveness(
            scheduler_running=lambda: self.scheduler is not None and self.scheduler.running,
            browser_connected=lambda: self.services.pool.connected,
        )
        config = uvicorn.Config(
            create_web_app(self.services, liveness),
            host=settings.web_host,
            port=settings.web_port,
            log_level="warning",
            access_log=False,
            lifespan="off",
        )
        return EmbeddedServer(config)


class EmbeddedServer(uvicorn.Server):
    """Uvicorn inside our event loop: the daemon, not uvicorn, owns SIGTERM and SIGINT."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield
