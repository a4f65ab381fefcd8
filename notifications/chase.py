"""The chase (催办): a periodic sweep that moves late tasks up the ladder and writes the
daily digests.

    rung          when (working days)                 who hears
    due_soon      deadline within due_soon_days        contacts
    overdue       the day after the deadline           contacts, leaders
    escalated     escalate_after_days overdue (督办)   + supervisors of the supervising unit
    reported      report_after_days overdue (通报)     + that unit's leaders

Each task's rung is a column advanced with a conditional UPDATE (through the lifecycle's
``apply_many``, which also writes the history and notices), so a step is taken once
whatever the number of sweeps or daemons; the step is a history row, and its notices are
written with it. Closing or invalidating a task takes it out of the sweep at once.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from dataclasses import dataclass
from enum import IntEnum
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from config.catalog import Catalog
from config.policies import ChasePolicy
from core.calendar import WorkingCalendar
from core.clock import Clock
from notifications.messages import DigestLine
from notifications.outbox import OutboxWriter
from tasks.lifecycle import CHASED_STATES, TaskAction, TaskLifecycle
from tasks.links import TaskLinks
from tasks.models import Task, TaskState, UnitDigest

log = logging.getLogger(__name__)

CLIMB_BATCH = 500  # tasks per conditional UPDATE (bound parameters stay well within limits)


class Rung(IntEnum):
    NONE = 0
    DUE_SOON = 1
    OVERDUE = 2
    ESCALATED = 3
    REPORTED = 4


RUNG_ACTIONS = {
    Rung.DUE_SOON: TaskAction.DUE_SOON,
    Rung.OVERDUE: TaskAction.OVERDUE,
    Rung.ESCALATED: TaskAction.ESCALATED,
    Rung.REPORTED: TaskAction.REPORTED,
}


def rung_for(days_left: int, policy: ChasePolicy) -> Rung:
    """The rung a task with ``days_left`` working days (negative: overdue) belongs on."""
    if days_left <= -policy.report_after_days:
        return Rung.REPORTED
    if days_left <= -policy.escalate_after_days:
        return Rung.ESCALATED
    if days_left < 0:
        return Rung.OVERDUE
    if days_left <= policy.due_soon_days:
        return Rung.DUE_SOON
    return Rung.NONE


def _reason(rung: Rung, days_left: int) -> str:
    if rung is Rung.DUE_SOON:
        return "整改时限将至" if days_left > 0 else "今天到期"
    return f"已超期 {-days_left} 个工作日"


@dataclass(frozen=True)
class SweepReport:
    steps: int  # tasks moved up the ladder
    digests: int  # units that got their digest
    chased: int  # tasks looked at


class ChaseSweep:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        catalog: Catalog,
        lifecycle: TaskLifecycle,
        outbox: OutboxWriter,
        calendar: WorkingCalendar,
        links: TaskLinks,
        clock: Clock,
        zone: ZoneInfo,
    ) -> None:
        self.sessions = sessions
        self.catalog = catalog
        self.policy = catalog.chase
        self.lifecycle = lifecycle
        self.outbox = outbox
        self.calendar = calendar
        self.links = links
        self.clock = clock
        self.zone = zone

    def sweep(self) -> SweepReport:
        now = self.clock.now()
        today = now.astimezone(self.zone).date()
        left = _DaysLeft(self.calendar, today)
        with self.sessions.begin() as session:
            rows = session.execute(
                select(Task.id, Task.deadline, Task.chase_level).where(
                    Task.state.in_([state.value for state in CHASED_STATES])
                )
            ).all()
            climbs: dict[tuple[int, Rung], list[int]] = defaultdict(list)
            for task_id, deadline, level in rows:
                rung = rung_for(left(deadline), self.policy)
                if rung > level:
                    climbs[(level, rung)].append(task_id)
            steps = sum(
                self._climb(session, ids[i : i + CLIMB_BATCH], level, rung, left)
                for (level, rung), ids in climbs.items()
                for i in range(0, len(ids), CLIMB_BATCH)
            )
        digests = self._digests(now, today, left) if self.policy.digest else 0
        if steps or digests:
            log.info("chase: %d ladder steps, %d digests", steps, digests)
        return SweepReport(steps=steps, digests=digests, chased=len(rows))

    def _climb(
        self, session: Session, task_ids: list[int], level: int, rung: Rung, left: _DaysLeft
    ) -> int:
        """Move ``task_ids`` from ``level`` up to ``rung``; the UPDATE's condition makes each
        step happen once, whatever the number of sweeps running at the same time."""
        moved = self.lifecycle.apply_many(
            session,
            task_ids,
            RUNG_ACTIONS[rung],
            where=[Task.chase_level == level],
            values={"chase_level": int(rung)},
            reason=lambda task: _reason(rung, left(task.deadline)),
        )
        return len(moved)

    def _digests(self, now: dt.datetime, today: dt.date, left: _DaysLeft) -> int:
        local = now.astimezone(self.zone)
        working, _ = self.calendar.is_working_day(today)
        if not working or local.time() < self.policy.digest_at:
            return 0
        with self.sessions.begin() as session:
            done = set(session.scalars(select(UnitDigest.unit_code).where(UnitDigest.day == today)))
            by_unit: dict[str, list[Task]] = defaultdict(list)
            for task in session.scalars(
                select(Task)
                .where(Task.state.in_([s.value for s in TaskState if s.active]))
                .order_by(Task.deadline, Task.id)
            ):
                if task.unit_code not in done:
                    by_unit[task.unit_code].append(task)
            for unit_code, tasks in by_unit.items():
                lines = [self._line(task, left) for task in tasks]
                session.add(
                    UnitDigest(unit_code=unit_code, day=today, tasks=len(lines), written_at=now)
                )
                self.outbox.digest(session, unit_code, today, lines)
        return len(by_unit)

    def _line(self, task: Task, left: _DaysLeft) -> DigestLine:
        try:
            target_name = self.catalog.check(task.check_id)[0].name
        except KeyError:
            target_name = task.check_id
        return DigestLine(
            task_id=task.id,
            target_name=target_name,
            problem=task.title,
            deadline=task.deadline,
            days_left=left(task.deadline),
            state_label=task.task_state.label,
            link=self.links.url(task.id, task.unit_code),
        )


class _DaysLeft:
    """Working days left per deadline, computed once per distinct deadline in a sweep."""

    def __init__(self, calendar: WorkingCalendar, today: dt.date) -> None:
        self.calendar = calendar
        self.today = today
        self._cache: dict[dt.date, int] = {}

    def __call__(self, deadline: dt.date) -> int:
        if deadline not in self._cache:
            self._cache[deadline] = self.calendar.working_days_left(self.today, deadline)
        return self._cache[deadline]
