"""Check schedules on APScheduler 3.

Jobs take check ids, not objects. Misfire grace and coalescing are set so that runs
missed while the daemon was down are not silently skipped: a check whose next run fell
in the downtime runs soon after start (staggered, so a restart is not a stampede).
"""

from __future__ import annotations

import datetime as dt
import inspect
import logging
from collections.abc import Awaitable, Callable
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.schedulers.base import STATE_PAUSED
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from config.catalog import Catalog, Schedule
from core.db import UTCDateTime
from tasks.models import Run

log = logging.getLogger(__name__)

MISFIRE_GRACE_S = 3600
CATCH_UP_SPREAD_S = 30.0  # overdue checks start within this many seconds of start-up

RunCheck = Callable[[str], Awaitable[object]]


def trigger_for(schedule: Schedule, zone: ZoneInfo) -> BaseTrigger:
    jitter = int(schedule.jitter.total_seconds()) or None
    if schedule.every is not None:
        return IntervalTrigger(seconds=schedule.every.total_seconds(), timezone=zone, jitter=jitter)
    assert schedule.cron is not None  # the catalog schema guarantees one of the two
    minute, hour, day, month, day_of_week = schedule.cron.split()
    return CronTrigger(
        minute=minute,
        hour=hour,
        day=day,
        month=month,
        day_of_week=day_of_week,
        timezone=zone,
        jitter=jitter,
    )


def first_run_time(
    trigger: BaseTrigger,
    last_run: dt.datetime | None,
    now: dt.datetime,
    index: int,
    total: int,
) -> dt.datetime:
    """When a check should first run after start-up.

    Never run, or a run was due while we were down: soon, spread over a short window
    (``CATCH_UP_SPREAD_S``, or the check's interval when that is shorter).
    Otherwise: when the schedule says, counted from the last run.
    """
    spread = CATCH_UP_SPREAD_S
    if isinstance(trigger, IntervalTrigger):
        # Never later than one interval: a 5-second check is not held back 30 seconds.
        spread = min(spread, trigger.interval.total_seconds())
    catch_up = now + dt.timedelta(seconds=1 + spread * index / max(total, 1))
    if last_run is None:
        return catch_up
    if isinstance(trigger, IntervalTrigger):
        due = last_run + trigger.interval  # an interval counts from the last run, not start-up
    else:
        due = trigger.get_next_fire_time(None, last_run)
    if due is None or due <= now:
        return catch_up
    return due  # type: ignore[no-any-return]


class CheckScheduler:
    def __init__(
        self,
        catalog: Catalog,
        sessions: sessionmaker[Session],
        zone: ZoneInfo,
        run_check: RunCheck,
        last_times: Callable[[], dict[str, dt.datetime]] | None = None,
    ) -> None:
        self.catalog = catalog
        self.sessions = sessions
        self.zone = zone
        self.run_check = run_check
        # When each check last ran (or was last handed on); the first runs count from it.
        self.last_times = last_times or self._last_runs
        self.scheduler = AsyncIOScheduler(
            timezone=zone,
            job_defaults={
                "misfire_grace_time": MISFIRE_GRACE_S,
                "coalesce": True,
                "max_instances": 1,
            },
        )

    def start(self) -> int:
        """Schedule every enabled check; return how many."""
        now = dt.datetime.now(self.zone)
        last_runs = self.last_times()
        checks = [(ident, check) for ident, _, check in self.catalog.checks() if check.enabled]
        # A trigger keeps no state of its own: checks on the same schedule share one, which
        # spares building tens of thousands of them (cron ones are dear) for a big catalog.
        triggers: dict[Schedule, BaseTrigger] = {}
        for index, (ident, check) in enumerate(checks):
            trigger = triggers.get(check.schedule)
            if trigger is None:
                trigger = triggers[check.schedule] = trigger_for(check.schedule, self.zone)
            first = first_run_time(trigger, last_runs.get(ident), now, index, len(checks))
            self.scheduler.add_job(
                self._job,
                trigger=trigger,
                args=[ident],
                id=ident,
                name=ident,
                next_run_time=first,
                replace_existing=True,
            )
        self.scheduler.start()
        log.info("scheduled %d checks", len(checks))
        return len(checks)

    def pause(self) -> None:
        if self.scheduler.running:
            self.scheduler.pause()

    def resume(self) -> None:
        """Schedule again after a pause, counting from the runs recorded meanwhile.

        Another scheduler may have run the checks while this one was paused: each next
        run is worked out again from the database, so no slot is run twice.
        """
        if self.scheduler.state != STATE_PAUSED:
            return
        now = dt.datetime.now(self.zone)
        last_runs = self.last_times()
        jobs = self.scheduler.get_jobs()
        for index, job in enumerate(jobs):
            first = first_run_time(job.trigger, last_runs.get(job.id), now, index, len(jobs))
            job.modify(next_run_time=first)
        self.scheduler.resume()

    @property
    def paused(self) -> bool:
        return bool(self.scheduler.state == STATE_PAUSED)

    def shutdown(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)

    @property
    def running(self) -> bool:
        return bool(self.scheduler.running)

    def next_runs(self) -> dict[str, dt.datetime | None]:
        return {job.id: job.next_run_time for job in self.scheduler.get_jobs()}

    async def _job(self, check_id: str) -> None:
        try:
            await self.run_check(check_id)
        except Exception:  # one broken check must not stop the others
            log.exception("check %s failed to run", check_id)

    # APScheduler inspects a job function's signature on every add_job; given once here,
    # it is not worked out again for each of tens of thousands of checks at start-up.
    _job.__signature__ = inspect.signature(_job)  # type: ignore[attr-defined]

    def _last_runs(self) -> dict[str, dt.datetime]:
        with self.sessions() as session:
            rows = session.execute(
                select(Run.check_id, func.max(Run.started_at, type_=UTCDateTime())).group_by(
                    Run.check_id
                )
            ).all()
        return {check_id: started for check_id, started in rows if started is not None}
