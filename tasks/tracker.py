"""Runs become tasks: open, add occurrences, verify, close, reopen — with history.

The caller owns the transaction: it records a run and applies it in one session, so
the run, the task change, its history row and whatever the listeners write (the
notification outbox) commit together or not at all. Every change goes through
:class:`tasks.lifecycle.TaskLifecycle`, so a run whose view of a task is stale (another
worker or a person changed it first) leaves the task alone instead of overwriting it.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from config.catalog import DeadlinePolicy, Severity
from core.calendar import WorkingCalendar
from core.results import Finding, Outcome, ProbeResult
from tasks.campaigns import campaign_for
from tasks.deadlines import deadline_for, fixed_deadline, working_days_for
from tasks.lifecycle import SYSTEM, AlreadyMoved, TaskAction, TaskLifecycle
from tasks.models import (
    ACTIVE_STATES,
    FindingRow,
    Run,
    RunPurpose,
    Task,
    TaskState,
)
from tasks.probation import probation_status
from tasks.quorum import RoundVerdict

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CheckPolicy:
    """What the tracker needs to know about a check."""

    check_id: str
    unit_code: str
    failure_threshold: int = 2
    deadline_working_days: int | None = None
    auto_close: bool = False
    target_key: str = ""
    probation: dt.timedelta = dt.timedelta(0)  # a new target's period without tasks


# Told about a run judged on probation (the bot alerts the operator).
ProbationListener = Callable[[Session, Run, CheckPolicy], None]


class TaskTracker:
    def __init__(
        self,
        calendar: WorkingCalendar,
        deadlines: DeadlinePolicy,
        lifecycle: TaskLifecycle,
        zone: ZoneInfo,
        reopen_window: dt.timedelta = dt.timedelta(days=30),
        on_probation: ProbationListener | None = None,
    ) -> None:
        self.calendar = calendar
        self.deadlines = deadlines
        self.lifecycle = lifecycle
        self.zone = zone
        self.reopen_window = reopen_window
        self.on_probation = on_probation

    # -- runs ---------------------------------------------------------------------------

    def record_run(
        self,
        session: Session,
        check_id: str,
        result: ProbeResult,
        *,
        started_at: dt.datetime,
        finished_at: dt.datetime,
        purpose: RunPurpose = RunPurpose.SCHEDULED,
        task_id: int | None = None,
    ) -> Run:
        run = Run(
            check_id=check_id,
            purpose=purpose.value,
            task_id=task_id,
            started_at=started_at,
            finished_at=finished_at,
            duration_ms=int((finished_at - started_at).total_seconds() * 1000),
            outcome=result.outcome.value,
            summary=result.summary,
            error=result.error,
            evidence=result.evidence.as_dict(),
            metrics=result.metrics,
            state=result.state,
            findings=[_finding_row(check_id, finding) for finding in result.findings],
        )
        session.add(run)
        session.flush()
        return run

    def apply_run(self, session: Session, run: Run, check: CheckPolicy) -> list[Task]:
        """Open, update, close or reopen the check's tasks after ``run``; return those changed."""
        outcome = Outcome(run.outcome)
        if outcome not in (Outcome.PASS, Outcome.FAIL) or run.held:
            return []  # the monitor's own trouble never touches a unit's tasks
        if run.round_evidence:
            return []  # one location's view; its round's verdict is applied (tasks.quorum)
        verdict = RoundVerdict.from_dict(run.round_verdict) if run.round_verdict else None
        if on_probation(session, check, run.started_at):
            # A new target's findings are shown to the operator, never charged to the unit
            # before someone has seen that the checks read this portal right.
            run.probation = True
            if outcome is Outcome.FAIL and self.on_probation is not None:
                self.on_probation(session, run, check)
            return []
        if verdict is not None:
            failing = _round_findings(session, run, verdict)
        else:
            failing = {f.code: f for f in run.findings} if outcome is Outcome.FAIL else {}
        changed: list[Task] = []
        for task in self._live_tasks(session, check.check_id):
            finding = failing.pop(task.finding_code, None)
            if finding is not None:
                changed += self._seen_again(session, task, run, finding)
            elif verdict is None or verdict.cleared(task.finding_code):
                changed += self._gone(session, task, run, check)
            # else: too few locations judged it gone; the task waits for another round
        for finding in failing.values():
            recent = self._recently_closed(session, check.check_id, finding.code, run)
            since = recent.closed_at if recent is not None else None
            if self._failing_streak(
                session, check.check_id, finding.code, since, check.failure_threshold
            ):
                changed += self._open_or_reopen(session, check, run, finding, recent)
        return changed

    # -- internals ----------------------------------------------------------------------

    def _seen_again(
        self, session: Session, task: Task, run: Run, finding: FindingRow
    ) -> list[Task]:
        if task.rectified_at is not None and run.started_at < task.rectified_at:
            # The run looked at the site before the unit reported the fix; only a run that
            # started afterwards (the verification, or the next scheduled one) may judge it.
            return []
        seen = {
            "occurrences": Task.occurrences + 1,
            "last_run_id": run.id,
            "last_seen_at": run.finished_at,
            "detail": finding.detail,
        }
        if task.task_state is TaskState.RECTIFIED:
            why = (
                "复核未通过：问题仍然存在"
                if run.purpose == RunPurpose.VERIFICATION
                else "整改后巡检再次发现该问题"
            )
            reopened = {**seen, "reopen_count": Task.reopen_count + 1}
            return self._apply(session, task, TaskAction.REOPENED, why, run, reopened)
        # Counted in place: concurrent runs add up instead of overwriting each other.
        session.execute(
            update(Task)
            .where(Task.id == task.id, Task.state.in_(ACTIVE_STATES))
            .values(**seen)
            .execution_options(synchronize_session=False)
        )
        return []

    def _gone(self, session: Session, task: Task, run: Run, check: CheckPolicy) -> list[Task]:
        if task.task_state is TaskState.RECTIFIED:
            action, reason = TaskAction.VERIFIED, "复核通过，问题已消除"
        elif check.auto_close:
            action, reason = TaskAction.AUTO_CLOSED, "巡检通过，问题已消除（自动销号）"
        else:
            return []
        return self._apply(session, task, action, reason, run, {"closed_at": run.finished_at})

    def _apply(
        self,
        session: Session,
        task: Task,
        action: TaskAction,
        reason: str,
        run: Run,
        changes: Mapping[str, Any],
    ) -> list[Task]:
        try:
            self.lifecycle.apply(session, task.id, action, SYSTEM, reason, run=run, changes=changes)
        except AlreadyMoved as moved:
            # Another run or a person changed the task first; this run's view is stale.
            log.info("run %s left task %s alone: %s", run.id, task.id, moved)
            return []
        return [task]

    def _recently_closed(self, session: Session, check_id: str, code: str, run: Run) -> Task | None:
        """The task for this problem closed within the reopen window, if any."""
        return session.scalars(
            select(Task)
            .where(
                Task.check_id == check_id,
                Task.finding_code == code,
                Task.state == TaskState.CLOSED.value,
                Task.closed_at >= run.finished_at - self.reopen_window,
            )
            .order_by(Task.closed_at.desc())
            .limit(1)
        ).first()

    def _open_or_reopen(
        self,
        session: Session,
        check: CheckPolicy,
        run: Run,
        finding: FindingRow,
        recent: Task | None,
    ) -> list[Task]:
        days = working_days_for(
            self.deadlines, finding.code, Severity(finding.severity), check.deadline_working_days
        )
        deadline = deadline_for(self.calendar, run.finished_at, days, self.zone)
        day = run.finished_at.astimezone(self.zone).date()
        campaign = campaign_for(session, check.check_id, check.unit_code, finding.code, day)
        joined: dict[str, Any] = {}
        why = ""
        if campaign is not None:
            deadline, days = fixed_deadline(
                self.calendar, run.finished_at, campaign.deadline, self.zone
            )
            joined = {"campaign_id": campaign.id}
            why = f"；纳入专项整改“{campaign.name}”，统一整改时限 {campaign.deadline}"
        if recent is not None:
            recurred = {
                "occurrences": Task.occurrences + 1,
                "reopen_count": Task.reopen_count + 1,
                "closed_at": None,
                "rectified_at": None,
                "last_run_id": run.id,
                "last_seen_at": run.finished_at,
                "detail": finding.detail,
                "deadline": deadline.due,
                "deadline_estimated": deadline.estimated,
                "original_deadline": deadline.due,
                "working_days": days,
                "chase_level": 0,
                **joined,
            }
            return self._apply(
                session, recent, TaskAction.RECURRED, "销号后问题复现" + why, run, recurred
            )
        values = {
            "check_id": check.check_id,
            "unit_code": check.unit_code,
            "finding_code": finding.code,
            "severity": finding.severity,
            "title": finding.title,
            "detail": finding.detail,
            "state": TaskState.OPEN.value,
            "opened_at": run.finished_at,
            "deadline": deadline.due,
            "original_deadline": deadline.due,
            "deadline_estimated": deadline.estimated,
            "working_days": days,
            "occurrences": check.failure_threshold,
            "first_run_id": run.id,
            "last_run_id": run.id,
            "last_seen_at": run.finished_at,
            **joined,
        }
        reason = f"连续 {check.failure_threshold} 次巡检发现该问题{why}"
        task = self.lifecycle.open(session, values, reason, run)
        if task is None:
            # Another worker opened it a moment ago: this run is one more occurrence of it.
            session.execute(
                update(Task)
                .where(
                    Task.check_id == check.check_id,
                    Task.finding_code == finding.code,
                    Task.state.in_(ACTIVE_STATES),
                )
                .values(
                    occurrences=Task.occurrences + 1,
                    last_run_id=run.id,
                    last_seen_at=run.finished_at,
                )
                .execution_options(synchronize_session=False)
            )
            return []
        return [task]

    def _failing_streak(
        self,
        session: Session,
        check_id: str,
        code: str,
        since: dt.datetime | None,
        needed: int,
    ) -> bool:
        """Whether the latest ``needed`` judged runs (after ``since``) all show ``code``."""
        judged = select(Run.id, Run.round_verdict).where(
            Run.check_id == check_id,
            Run.outcome.in_((Outcome.PASS.value, Outcome.FAIL.value)),
            Run.held.is_(False),
            Run.probation.is_(False),
            Run.round_evidence.is_(False),
        )
        if since is not None:
            # Runs that started before the closure saw the site before it; they do not count.
            judged = judged.where(Run.started_at > since)
        recent = session.execute(judged.order_by(Run.id.desc()).limit(needed)).all()
        if len(recent) < needed:
            return False
        with_code = set(
            session.scalars(
                select(FindingRow.run_id).where(
                    FindingRow.check_id == check_id,
                    FindingRow.code == code,
                    FindingRow.run_id >= recent[-1].id,
                )
            )
        )
        # A round's run counts for the code when a quorum of locations saw it.
        return all(
            code in RoundVerdict.from_dict(verdict).failing if verdict else run_id in with_code
            for run_id, verdict in recent
        )

    def _live_tasks(self, session: Session, check_id: str) -> Iterable[Task]:
        return session.scalars(
            select(Task)
            .where(Task.check_id == check_id, Task.state.in_(ACTIVE_STATES))
            .order_by(Task.id)
        ).all()


def on_probation(session: Session, check: CheckPolicy, at: dt.datetime) -> bool:
    """Whether the check's target is on probation at ``at`` (see :mod:`tasks.probation`)."""
    if not check.probation or not check.target_key:
        return False
    return probation_status(session, check.target_key, check.probation, at).on_probation


def _round_findings(session: Session, run: Run, verdict: RoundVerdict) -> dict[str, FindingRow]:
    """The round's failing codes, each with a finding of a location that saw it (the
    carrying run's own where it has one)."""
    failing = verdict.failing
    found = {f.code: f for f in run.findings if f.code in failing}
    missing = failing - found.keys()
    if missing:
        for row in session.scalars(
            select(FindingRow)
            .where(FindingRow.run_id.in_(list(verdict.runs.values())), FindingRow.code.in_(missing))
            .order_by(FindingRow.id)
        ):
            found.setdefault(row.code, row)
    return found


def _finding_row(check_id: str, finding: Finding) -> FindingRow:
    return FindingRow(
        check_id=check_id,
        code=finding.code,
        severity=finding.severity.value,
        title=finding.title,
        detail=finding.detail,
        subjects=list(finding.subjects),
        data=finding.data,
    )
