"""``govpatrol scheduler``: the check schedules, deferring jobs instead of running checks.

Several may run; one is active, holding the advisory lock (``bot.standby``), the others
try to take it every ``scheduler_lock_check_s``. The active one proves the lock before
every deferral and on that timer, and stops deferring at the first doubt. A new active
scheduler counts each check's next run from the last one handed on (``scheduled_runs``),
so a takeover runs no slot twice. It also sends notifications and sweeps the chase, both
safe in any number of processes (claims).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging

import procrastinate
from procrastinate.exceptions import AlreadyEnqueued
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError

from bot.jobs import unverified_tasks
from bot.queue import (
    RUN_TASK,
    VERIFY_PRIORITY,
    VERIFY_TASK,
    check_lock,
    libpq_url,
    queue_app,
    queue_name,
)
from bot.rounds import checks_to_verify, decide_overdue, prune_scheduled_runs, quorum_of
from bot.scheduler import CheckScheduler
from bot.services import Services
from bot.standby import ActiveLock
from core.db import UTCDateTime
from tasks.catalog_sync import sync_catalog
from tasks.models import Run, ScheduledRun, SchedulerLease

log = logging.getLogger(__name__)


class Dispatcher:
    def __init__(self, services: Services, stop: asyncio.Event) -> None:
        self.services = services
        self.stop = stop
        settings = services.settings
        self.check_s = settings.scheduler_lock_check_s
        self.lock = ActiveLock(libpq_url(settings.resolved_database_url), self.check_s)
        self.app: procrastinate.App = queue_app(settings.resolved_database_url)
        self.active = asyncio.Event()  # set while this one is the active scheduler

    async def run(self) -> None:
        services = self.services
        with services.sessions.begin() as session:
            sync_catalog(session, services.catalog)
            services.maintenance.mirror_catalog(session, services.catalog)
        background = [
            asyncio.create_task(
                services.sender.run(self.stop, services.settings.notify_poll_s), name="sender"
            ),
            asyncio.create_task(self._chase(), name="chase"),
        ]
        try:
            async with self.app.open_async():
                while not self.stop.is_set():
                    if await self.lock.try_take():
                        try:
                            await self._lead()
                        except Exception:  # the database went away while leading
                            log.exception("scheduling stopped; back to standby")
                    else:
                        log.info("standby: the lock is held by another scheduler or out of reach")
                    await self._sleep(self.check_s)
        finally:
            self.stop.set()
            await self.lock.close()
            for task in background:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await asyncio.wait_for(task, timeout=10)

    async def _lead(self) -> None:
        """Schedule while the lock is proven; return at the first doubt or on stop."""
        if self._daemon_present():
            log.error("a `govpatrol run` daemon holds this database's lease; not scheduling")
            await self.lock.close()
            return
        log.warning("active: this scheduler holds the lock; scheduling")
        scheduler = CheckScheduler(
            self.services.catalog,
            self.services.sessions,
            self.services.zone,
            self._defer,
            last_times=self._last_handed_on,
        )
        scheduler.start()
        self.active.set()
        try:
            while not self.stop.is_set():
                await self._sleep(self.check_s)
                if not await self.lock.held():
                    log.error("scheduler lock not proven; deferring stops, back to standby")
                    return
        finally:
            self.active.clear()
            scheduler.shutdown()
            await self.lock.close()

    async def _defer(self, check_id: str) -> None:
        """One job per location of the check, for the run due now."""
        if self.stop.is_set() or not await self.lock.held():
            log.warning("%s not deferred: the scheduler lock is not proven", check_id)
            return
        _, check = self.services.check(check_id)
        slot = self.services.clock.now().replace(microsecond=0)
        for location in self.services.catalog.locations_of(check):
            await self._defer_one(check_id, location, slot)

    async def _defer_one(
        self, check_id: str, location: str, slot: dt.datetime, priority: int = 0
    ) -> None:
        try:
            with self.services.sessions.begin() as session:
                due = ScheduledRun(
                    check_id=check_id,
                    location=location,
                    slot=slot,
                    deferred_at=self.services.clock.now(),
                )
                session.add(due)
                session.flush()
                due_id = due.id
        except IntegrityError:
            log.warning("%s@%s: slot %s already deferred", check_id, location, slot)
            return
        lock = check_lock(check_id, location)
        try:
            await self.app.configure_task(
                RUN_TASK,
                queue=queue_name(location),
                lock=lock,
                queueing_lock=lock,
                priority=priority,
            ).defer_async(scheduled_run_id=due_id)
        except BaseException as exc:  # cancelled at shut-down too
            # No job: no slot. Best effort; a row left behind (database gone) is never run.
            with contextlib.suppress(Exception), self.services.sessions.begin() as session:
                session.execute(delete(ScheduledRun).where(ScheduledRun.id == due_id))
            if not isinstance(exc, AlreadyEnqueued):
                raise
            # The last run of this check here has not even started: do not pile up.
            log.warning(
                "%s@%s: still waiting in its queue; slot %s skipped", check_id, location, slot
            )

    def _daemon_present(self) -> bool:
        """Whether a ``govpatrol run`` daemon schedules on this database (its live lease)."""
        with self.services.sessions() as session:
            lease = session.scalar(
                select(SchedulerLease).where(SchedulerLease.expires_at > self.services.clock.now())
            )
        return lease is not None

    def _last_handed_on(self) -> dict[str, dt.datetime]:
        """Per check, the later of its last run and its last deferred slot."""
        with self.services.sessions() as session:
            rows = [
                *session.execute(
                    select(Run.check_id, func.max(Run.started_at, type_=UTCDateTime())).group_by(
                        Run.check_id
                    )
                ),
                *session.execute(
                    select(
                        ScheduledRun.check_id, func.max(ScheduledRun.slot, type_=UTCDateTime())
                    ).group_by(ScheduledRun.check_id)
                ),
            ]
        last: dict[str, dt.datetime] = {}
        for check_id, at in rows:
            if at is not None and (check_id not in last or at > last[check_id]):
                last[check_id] = at
        return last

    async def defer_verifications(self) -> int:
        """A verification job for each rectified task without one; how many were new."""
        deferred = await self._defer_verification_rounds()
        for task_id in await asyncio.to_thread(unverified_tasks, self.services):
            with self.services.sessions() as session:
                check_id = self.services.desk.get(session, task_id).check_id
            if quorum_of(self.services, check_id) > 1:
                continue  # one location cannot verify it: a round does
            _, check = self.services.check(check_id)
            location = self.services.catalog.locations_of(check)[0]
            try:
                await self.app.configure_task(
                    VERIFY_TASK,
                    queue=queue_name(location),
                    priority=VERIFY_PRIORITY,
                    lock=check_lock(check_id, location),
                    queueing_lock=f"verify:{task_id}",
                ).defer_async(task_id=task_id)
                deferred += 1
            except AlreadyEnqueued:
                pass  # already waiting for a worker
        return deferred

    async def _defer_verification_rounds(self) -> int:
        """A round now, in every location, for each rectified task of a check that needs a
        quorum (``tasks.quorum``: closing needs it too). Only the active scheduler does."""
        if not self.active.is_set():
            return 0
        checks = await asyncio.to_thread(checks_to_verify, self.services)
        slot = self.services.clock.now()  # to the microsecond: not before the report
        for check_id in checks:
            _, check = self.services.check(check_id)
            for location in self.services.catalog.locations_of(check):
                await self._defer_one(check_id, location, slot, priority=VERIFY_PRIORITY)
        return len(checks)

    async def _chase(self) -> None:
        """The chase ladder, and verifications nobody started (any scheduler may)."""
        interval = self.services.settings.chase_interval_s
        while not self.stop.is_set():
            try:
                await asyncio.to_thread(self.services.chase.sweep)
                await self.defer_verifications()
                await asyncio.to_thread(decide_overdue, self.services)
                await asyncio.to_thread(prune_scheduled_runs, self.services)
            except Exception:
                log.exception("chase sweep failed; retrying")
            await self._sleep(interval)

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.stop.wait(), timeout=seconds)
