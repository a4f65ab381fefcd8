"""Jobs on the queue, in one process: a rectified task gets one verification job, ahead
of the scheduled runs, and a worker runs it through the lifecycle."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.cli import main
from bot.daemon import Daemon
from bot.dispatch import Dispatcher
from bot.jobs import run_check
from bot.lease import LeaseHeld, SchedulerLock
from bot.migrate import upgrade
from bot.queue import (
    RUN_TASK,
    VERIFY_PRIORITY,
    apply_queue_schema,
    check_lock,
    libpq_url,
    queue_app,
    queue_name,
)
from bot.standby import ActiveLock
from bot.worker import _beat, _retry_stalled, health_problem, worker_app
from core.db import make_engine
from tasks.lifecycle import Actor, Role
from tasks.models import Run, RunPurpose, TaskState
from tests.conftest import ServicesFactory
from tests.roles_helpers import rows, throwaway_database, wait_for
from tests.test_guards import VerdictProbe, catalog

pytestmark = pytest.mark.postgres


@pytest.fixture
def queue_database() -> Iterator[str]:
    with throwaway_database() as url:
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()
        yield url


async def test_rectified_task_gets_one_verification_job_ahead_of_runs(
    make_services: ServicesFactory, queue_database: str
) -> None:
    assert await apply_queue_schema(queue_database)
    assert not await apply_queue_schema(queue_database)  # applied once
    services = make_services(
        catalog(1),
        extra_probes=(VerdictProbe,),
        engine=make_engine(queue_database),
        database_url=queue_database,
    )
    report = await run_check(services, "t0/verdict")
    ((task_id, _),) = report.changed_tasks
    with services.sessions.begin() as session:
        services.desk.report_rectified(session, task_id, Actor("联系人孙", Role.UNIT), "已修复")

    dispatcher = Dispatcher(services, stop=asyncio.Event())
    async with dispatcher.app.open_async():
        assert await dispatcher.defer_verifications() == 1
        assert await dispatcher.defer_verifications() == 0  # still waiting: not twice
    jobs = rows(queue_database, "SELECT task_name, queue_name, priority FROM procrastinate_jobs")
    assert jobs == [("govpatrol.verify", "govpatrol.default", VERIFY_PRIORITY)]

    app = worker_app(services)
    async with app.open_async():
        await app.run_worker_async(queues=["govpatrol.default"], wait=False)
    with services.sessions() as session:
        verification = session.scalars(
            select(Run).where(Run.purpose == RunPurpose.VERIFICATION.value)
        ).all()
        assert len(verification) == 1 and verification[0].task_id == task_id
        assert services.desk.get(session, task_id).state != TaskState.RECTIFIED.value


async def test_daemon_and_scheduler_role_never_schedule_one_database_together(
    make_services: ServicesFactory, queue_database: str, caplog: pytest.LogCaptureFixture
) -> None:
    services = make_services(
        catalog(1),
        extra_probes=(VerdictProbe,),
        engine=make_engine(queue_database),
        database_url=queue_database,
    )
    role = ActiveLock(libpq_url(queue_database), timeout_s=5)
    assert await role.try_take()
    try:
        with pytest.raises(LeaseHeld, match="govpatrol scheduler"):
            await Daemon(services, web=False).run()
    finally:
        await role.close()

    lock = SchedulerLock(services.sessions, services.clock)
    lock.acquire()  # a `govpatrol run` daemon holds the database
    stop = asyncio.Event()
    dispatcher = Dispatcher(services, stop)
    running = asyncio.create_task(dispatcher.run())
    await asyncio.sleep(1.0)
    stop.set()
    await asyncio.wait_for(running, timeout=15)
    assert not dispatcher.active.is_set()
    assert "holds this database's lease; not scheduling" in caplog.text
    assert rows(queue_database, "SELECT count(*) FROM scheduled_runs") == [(0,)]
    lock.release()


async def test_worker_health_follows_its_liveness_file(
    queue_database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    alive = tmp_path / "worker.alive"
    monkeypatch.setenv("GOVPATROL_WORKER_ALIVE_FILE", str(alive))
    monkeypatch.setenv("GOVPATROL_WORKER_HEARTBEAT_S", "10")
    assert main(["worker", "--health"]) == 1  # never started
    app = queue_app(queue_database)
    stop = asyncio.Event()
    stop.set()  # one beat, then return
    async with app.open_async():
        await _beat(app, alive, 5.0, stop)
    assert main(["worker", "--health"]) == 0
    assert health_problem(alive, 10.0, now=time.time() + 29) == ""
    assert "未更新" in health_problem(alive, 10.0, now=time.time() + 31)  # three beats missed


async def test_a_stalled_job_whose_check_has_a_newer_job_queued_is_ended_not_left_holding_the_lock(
    queue_database: str,
) -> None:
    """A worker cut off from the database while writing a job's end leaves it 'doing';
    by then the scheduler has queued the check's next job. Putting the old one back is
    refused (one queued job per check), and left as it is it would hold the check's lock
    so the next never starts (seen in CI after a 30 s outage). It is ended instead."""
    assert await apply_queue_schema(queue_database)
    app = queue_app(queue_database)
    queue = queue_name("default")
    lock = check_lock("fast/search", "default")
    async with app.open_async():

        async def defer(slot: int) -> int:
            job = app.configure_task(RUN_TASK, queue=queue, lock=lock, queueing_lock=lock)
            return await job.defer_async(scheduled_run_id=slot)

        old = await defer(1)
        dead_worker = await app.job_manager.register_worker()
        fetched = await app.job_manager.fetch_job(queues=[queue], worker_id=dead_worker)
        assert fetched is not None and fetched.id == old
        newer = await defer(2)
        rows(
            queue_database,
            "UPDATE procrastinate_workers SET last_heartbeat = now() - interval '1 hour'"
            " WHERE id = %s RETURNING id",
            (dead_worker,),
        )
        stop = asyncio.Event()
        sweeper = asyncio.create_task(_retry_stalled(app, queue, 60, stop))

        def status(job_id: int) -> str:
            ((found,),) = rows(
                queue_database, "SELECT status FROM procrastinate_jobs WHERE id = %s", (job_id,)
            )
            return str(found)

        try:  # polled in a thread: the sweep runs on this loop
            await asyncio.to_thread(
                wait_for, lambda: status(old) != "doing", 10, "the stalled job to be ended"
            )
        finally:
            stop.set()
            await sweeper
        assert (status(old), status(newer)) == ("failed", "todo")
        worker = await app.job_manager.register_worker()
        next_job = await app.job_manager.fetch_job(queues=[queue], worker_id=worker)
        assert next_job is not None and next_job.id == newer  # the check's lock is free
