"""``govpatrol run``: scheduler, notification sender and web server in one process.

Start-up: the database must be migrated, the catalog is mirrored into it, the scheduler
lease is taken. While it runs, the lease is renewed; the moment the daemon cannot prove it
still holds it (a database outage, a takeover), it pauses scheduling and keeps trying to
take the lease again, resuming only once it holds it. Shut-down (SIGTERM/SIGINT): stop
scheduling, let running checks finish for a while, stop the sender and the web server,
close the browser, release the lease.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass, field
from typing import Any

import uvicorn

from bot.jobs import run_check, unverified_tasks, verify_if_rectified
from bot.lease import LeaseHeld, SchedulerLock
from bot.migrate import is_current
from bot.scheduler import CheckScheduler
from bot.services import Services
from bot.standby import scheduler_role_active
from bot.web import Liveness, create_web_app
from bot.web_server import server_config
from tasks.catalog_sync import sync_catalog

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
    _loop: asyncio.AbstractEventLoop | None = None
    _verifying: set[int] = field(default_factory=set)
    started: asyncio.Event = field(default_factory=asyncio.Event)
    lock: SchedulerLock | None = None  # tests hand in one with a short lifetime
    lease_renew_s: float = LEASE_RENEW_S

    async def run(self) -> None:
        services = self.services
        self._loop = asyncio.get_running_loop()
        if not is_current(services.engine):
            raise NotMigrated("数据库尚未迁移到最新版本，请先运行 govpatrol db upgrade")
        with services.sessions.begin() as session:
            sync_catalog(session, services.catalog)
            services.maintenance.mirror_catalog(session, services.catalog)
        if scheduler_role_active(services.engine):
            raise LeaseHeld(
                "govpatrol scheduler 调度角色正在使用该数据库；请勿同时运行 govpatrol run"
            )
        lock = self.lock or SchedulerLock(services.sessions, services.clock)
        self.lock = lock
        lock.acquire()
        services.sender.recover()
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
            background.append(asyncio.create_task(self._keep_lease(lock), name="lease"))
            background.append(asyncio.create_task(self._chase(), name="chase"))
            background.append(asyncio.create_task(self._watch_canary(), name="canary"))
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
                self.scheduler.pause()  # no new runs; running ones may finish
            await self._drain()
            if self.scheduler is not None:
                self.scheduler.shutdown()
            if server is not None:
                server.should_exit = True
            for task in background:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await asyncio.wait_for(task, timeout=10)
            await services.pool.close()
            try:
                lock.release()
            except Exception:  # the database is down: the lease runs out by itself
                log.warning("could not release the scheduler lease", exc_info=True)
            log.info("stopped")

    def verify_soon(self, task_id: int) -> None:
        """Start the verification of a rectified task; callable from any thread."""
        loop = self._loop
        if loop is None or self.stop.is_set():
            return  # the next sweep of unverified tasks picks it up
        loop.call_soon_threadsafe(lambda: self._track(self._verify(task_id)))

    def install_signal_handlers(self) -> None:
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, self.stop.set)

    async def _run_check(self, check_id: str) -> object:
        if self.stop.is_set():
            return None
        if self.lock is not None and not self.lock.proven():
            # Checked at fire time too: the renewal loop may not have noticed yet.
            log.warning("%s not run: the scheduler lease is not proven", check_id)
            return None
        task = asyncio.current_task()
        if task is not None:
            self._running.add(task)
        try:
            result = await run_check(self.services, check_id)
            self.services.db_outage.succeeded()
            return result
        except Exception as exc:
            if self.services.db_outage.failed(exc, f"check {check_id}"):
                return None  # logged once per outage, not once per check
            raise
        finally:
            if task is not None:
                self._running.discard(task)

    def _track(self, job: Coroutine[Any, Any, object]) -> None:
        task: asyncio.Task[object] = asyncio.create_task(job)
        self._running.add(task)
        task.add_done_callback(self._running.discard)

    async def _verify(self, task_id: int) -> object:
        if task_id in self._verifying:
            return None
        self._verifying.add(task_id)
        try:
            return await self._verify_once(task_id)
        finally:
            self._verifying.discard(task_id)

    async def _verify_once(self, task_id: int) -> object:
        try:
            return await verify_if_rectified(self.services, task_id)
        except Exception:
            log.exception("verification of task %s failed to run", task_id)
            return None

    async def _chase(self) -> None:
        """The escalation ladder and digests, and verifications nobody started."""
        interval = self.services.settings.chase_interval_s
        while not self.stop.is_set():
            try:
                await asyncio.to_thread(self.services.chase.sweep)
                for task_id in unverified_tasks(self.services):
                    self._track(self._verify(task_id))
                self.services.db_outage.succeeded()
            except Exception as exc:
                if not self.services.db_outage.failed(exc, "chase sweep"):
                    log.exception("chase sweep failed; retrying")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stop.wait(), timeout=interval)

    async def _watch_canary(self) -> None:
        canary = self.services.canary
        if canary.url is None:
            return
        while not self.stop.is_set():
            was_ok = canary.ok
            ok = await canary.check()
            if ok != was_ok:
                with self.services.sessions.begin() as session:
                    self.services.outbox.alert_operator(
                        session,
                        "探测页恢复访问" if ok else "探测页无法访问：本方网络可能故障",
                        [
                            f"探测页：{canary.url}（{canary.reason}）",
                            "恢复前的失败巡检按系统故障处理，不立案。"
                            if not ok
                            else "巡检恢复正常判定。",
                        ],
                        key=f"canary-{'up' if ok else 'down'}-{int(time.time())}",
                    )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stop.wait(), timeout=canary.every.total_seconds())

    async def _drain(self) -> None:
        if not self._running:
            return
        log.info("waiting for %d running checks", len(self._running))
        _, pending = await asyncio.wait(self._running, timeout=DRAIN_TIMEOUT_S)
        for task in pending:
            task.cancel()

    async def _keep_lease(self, lock: SchedulerLock) -> None:
        """Renew the lease forever; pause scheduling while it cannot be proven."""
        while not self.stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stop.wait(), timeout=self.lease_renew_s)
            if self.stop.is_set() or self.scheduler is None:
                continue
            held = await self._prove(lock, paused=self.scheduler.paused)
            if held and self.scheduler.paused:
                log.warning("scheduler lease taken again; scheduling resumes")
                self.scheduler.resume()
            elif not held and not self.scheduler.paused:
                log.error("scheduler lease not proven; scheduling paused until it is taken again")
                self.scheduler.pause()

    async def _prove(self, lock: SchedulerLock, *, paused: bool) -> bool:
        """Renew the lease (or take it again while paused); False on any doubt."""
        attempt = lock.acquire if paused else lock.renew
        try:
            # A hung connection must not outlive the proof: give up after one interval.
            outcome = await asyncio.wait_for(asyncio.to_thread(attempt), timeout=self.lease_renew_s)
        except LeaseHeld as held:
            log.info("waiting for the scheduler lease: %s", held)
            return False
        except Exception as exc:
            log.warning("scheduler lease not renewed: %s", exc)
            return False
        return outcome is not False and lock.proven()

    def _web_server(self) -> uvicorn.Server:
        settings = self.services.settings
        liveness = Liveness(
            scheduler_running=lambda: self.scheduler is not None and self.scheduler.running,
            browser_connected=lambda: self.services.pool.connected,
        )
        config = server_config(
            create_web_app(self.services, liveness, on_rectified=self.verify_soon),
            settings,
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
