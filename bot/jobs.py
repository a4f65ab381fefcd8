"""“Run this check now”: a plain async function of a check id.

Everything else comes from the database and the catalog, so the scheduler, the CLI, a
verification and (later) a remote worker all call the same thing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.services import Services
from probes.results import Outcome, ProbeResult
from tasks.models import Run, RunPurpose

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunReport:
    run_id: int
    check_id: str
    outcome: Outcome
    result: ProbeResult
    changed_tasks: tuple[tuple[int, str], ...]  # (task id, new state)


async def run_check(
    services: Services,
    check_id: str,
    *,
    purpose: RunPurpose = RunPurpose.SCHEDULED,
    task_id: int | None = None,
    record: bool = True,
) -> RunReport:
    """Run the check once, record the run and apply it to the check's tasks."""
    target, check = services.check(check_id)
    previous = _previous_run(services, check_id)
    started = services.clock.now()
    result = await services.runner.run(
        check_id, target, check, previous.state if previous else None
    )
    finished = services.clock.now()
    if not record:
        return RunReport(0, check_id, result.outcome, result, ())
    with services.sessions.begin() as session:
        run = services.tracker.record_run(
            session,
            check_id,
            result,
            started_at=started,
            finished_at=finished,
            purpose=purpose,
            task_id=task_id,
        )
        changed = services.tracker.apply_run(session, run, services.policy(check_id))
        if result.outcome in (Outcome.ERROR, Outcome.INCONCLUSIVE):
            _alert_monitor_trouble(services, session, run, previous)
        report = RunReport(
            run.id, check_id, result.outcome, result, tuple((t.id, t.state) for t in changed)
        )
    services.alert_unknown_calendar_years()
    log.info(
        "run %s of %s: %s%s",
        report.run_id,
        check_id,
        result.outcome.value,
        f" ({', '.join(f.code for f in result.findings)})" if result.findings else "",
    )
    return report


async def report_fixed(services: Services, task_id: int, actor: str, note: str) -> RunReport:
    """The unit reports the fix (整改说明); verify it at once by running the check again."""
    with services.sessions.begin() as session:
        task = services.tracker.report_rectified(session, task_id, actor, note)
        check_id = task.check_id
    return await run_check(services, check_id, purpose=RunPurpose.VERIFICATION, task_id=task_id)


def _previous_run(services: Services, check_id: str) -> Run | None:
    with services.sessions() as session:
        return session.scalars(
            select(Run).where(Run.check_id == check_id).order_by(Run.id.desc()).limit(1)
        ).first()


def _alert_monitor_trouble(
    services: Services, session: Session, run: Run, previous: Run | None
) -> None:
    """Tell the operator when a check starts failing on our side (not on every run)."""
    if previous is not None and previous.outcome == run.outcome:
        return  # already told; the next alert comes when it changes
    label = "无法判定" if run.outcome == Outcome.INCONCLUSIVE.value else "巡检系统故障"
    services.outbox.alert_operator(
        session,
        f"{label}：{run.check_id}",
        [f"巡检项：{run.check_id}", f"巡检记录：#{run.id}", f"原因：{run.error}"],
        key=f"run-{run.id}",
    )
