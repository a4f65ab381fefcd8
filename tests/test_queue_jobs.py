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
from bot.queue import VERIFY_PRIORITY, apply_queue_schema, libpq_url, queue_app
from bot.standby import ActiveLock
from bot.worker import _beat, health_problem, worker_app
from core.db import make_engine
from tasks.lifecycle import Actor, Role
from tasks.models import Run, RunPurpose, TaskState
from tests.conftest import ServicesFactory
from tests.roles_helpers import rows, throwaway_database
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
