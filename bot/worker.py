"""``govpatrol worker --location NAME``: run the due runs of one location's queue.

A Procrastinate worker with this process's own browser pool. Each job is one
``scheduled_runs`` row, run by ``bot.jobs.run_scheduled`` (recorded at most once). A
worker that dies mid-run stops beating; every worker looks for such stalled jobs of its
queue and puts them back, so another worker runs them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import tempfile
import time
from pathlib import Path
from typing import Unpack

import procrastinate
from procrastinate.app import WorkerOptions
from procrastinate.jobs import Status

from bot.jobs import run_scheduled, verify_if_rectified
from bot.queue import RUN_TASK, VERIFY_TASK, queue_app, queue_name
from bot.services import Services
from config.settings import Settings

log = logging.getLogger(__name__)

RESTART_S = 5.0
STALE_BEATS = 3  # a liveness file older than this many heartbeats: unhealthy


def alive_file(settings: Settings) -> Path:
    return settings.worker_alive_file or Path(tempfile.gettempdir()) / "govpatrol-worker.alive"


def health_problem(path: Path, heartbeat_s: float, now: float | None = None) -> str:
    """Why the worker whose liveness file is ``path`` is not healthy; "" when it is."""
    try:
        age = (time.time() if now is None else now) - path.stat().st_mtime
    except FileNotFoundError:
        return f"没有存活文件 {path}：执行角色未启动或已停止"
    limit = STALE_BEATS * heartbeat_s
    if age > limit:
        return (
            f"存活文件 {path} 已 {age:.0f} 秒未更新（上限 {limit:.0f} 秒）："
            "数据库不可达或执行角色卡住"
        )
    return ""


def worker_app(services: Services) -> procrastinate.App:
    app = queue_app(services.settings.resolved_database_url)

    @app.task(name=RUN_TASK)
    async def run_due(scheduled_run_id: int) -> None:
        await run_scheduled(services, scheduled_run_id)

    @app.task(name=VERIFY_TASK)
    async def verify_task(task_id: int) -> None:
        await verify_if_rectified(services, task_id)

    return app


async def run_worker(services: Services, location: str, concurrency: int) -> None:
    """Consume the location's queue until SIGTERM/SIGINT (Procrastinate's handlers)."""
    known = services.catalog.location_names()
    if location not in known:
        raise SystemExit(f"目录中没有执行位置 {location!r}；已配置：{', '.join(known)}")
    settings = services.settings
    app = worker_app(services)
    queue = queue_name(location)
    stop = asyncio.Event()
    async with app.open_async():
        await services.pool.start()
        recovery = asyncio.create_task(_retry_stalled(app, queue, settings.worker_stalled_s, stop))
        alive = alive_file(settings)
        beats = asyncio.create_task(_beat(app, alive, settings.worker_heartbeat_s, stop))
        try:
            await _serve(
                app,
                queues=[queue],
                concurrency=concurrency,
                name=f"{location}:{socket.gethostname()}:{os.getpid()}",
                update_heartbeat_interval=settings.worker_heartbeat_s,
                stalled_worker_timeout=settings.worker_stalled_s,
                delete_jobs="successful",
                install_signal_handlers=True,
            )
        finally:
            stop.set()
            for task in (recovery, beats):
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await asyncio.wait_for(task, timeout=5)
            alive.unlink(missing_ok=True)


async def _serve(app: procrastinate.App, **options: Unpack[WorkerOptions]) -> None:
    """Run the Procrastinate worker; start it afresh after a database outage.

    A worker whose database went away mid-job can be left fetching nothing (a job's
    status write fails inside Procrastinate); a fresh one fetches again, and the jobs the
    old one held are retried as stalled (recorded once either way).
    """
    beat_s = options.get("update_heartbeat_interval", 10.0)
    while True:
        worker = asyncio.create_task(app.run_worker_async(**options))
        back = asyncio.create_task(_database_back(app, beat_s))
        await asyncio.wait({worker, back}, return_when=asyncio.FIRST_COMPLETED)
        if worker.done():
            back.cancel()
            error = worker.exception()
            if error is None:
                return  # stopped by SIGTERM/SIGINT
            log.error("queue worker stopped: %r; starting again in %ss", error, RESTART_S)
            await asyncio.sleep(RESTART_S)
            continue
        log.warning("database back after an outage: starting the queue worker afresh")
        worker.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await asyncio.wait_for(worker, timeout=30)


async def _database_back(app: procrastinate.App, every_s: float) -> None:
    """Return once the database answers again after it did not."""
    failed = False
    while True:
        try:
            await asyncio.wait_for(app.connector.execute_query_async("SELECT 1"), every_s)
            if failed:
                return
        except Exception:
            failed = True
        await asyncio.sleep(every_s)


async def _beat(app: procrastinate.App, path: Path, every_s: float, stop: asyncio.Event) -> None:
    """Touch the liveness file each heartbeat while the database answers (at least once)."""
    while True:
        try:
            await asyncio.wait_for(app.connector.execute_query_async("SELECT 1"), every_s)
            await asyncio.to_thread(path.touch)
        except Exception:
            log.warning("liveness not renewed: the database does not answer")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=every_s)
        if stop.is_set():
            return


async def _retry_stalled(
    app: procrastinate.App, queue: str, stalled_s: float, stop: asyncio.Event
) -> None:
    """Put back the jobs of workers that stopped beating (killed mid-run, or cut off from
    the database while writing a job's end).

    A stalled job whose check has a newer job queued cannot go back (one queued job per
    check) and, left running, would hold the check's lock so that the newer one never
    starts: it is ended as failed instead, and the newer job runs the check."""
    while not stop.is_set():
        try:
            for job in await app.job_manager.get_stalled_jobs(
                queue=queue, seconds_since_heartbeat=stalled_s
            ):
                try:
                    await app.job_manager.retry_job(job)
                except procrastinate.exceptions.UniqueViolation:
                    await app.job_manager.finish_job(job, status=Status.FAILED, delete_job=False)
                    log.warning("job %s of a dead worker ended: its check has a newer job", job.id)
                else:
                    log.warning("job %s of a dead worker retried", job.id)
        except Exception:
            log.exception("looking for stalled jobs failed; retrying")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=max(stalled_s / 2, 1.0))
