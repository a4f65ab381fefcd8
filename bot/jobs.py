"""“Run this check now”: a plain async function of a check id.

Everything else comes from the database and the catalog, so the scheduler, the CLI, a
verification and (later) a remote worker all call the same thing.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot import rounds
from bot.guards import Canary
from bot.rounds import judged_by_rounds, quorum_of
from bot.services import Services
from core.results import Outcome, ProbeResult
from probes.base import OUTAGE_CODES
from tasks.claims import current_claim, release_claim, take_claim
from tasks.lifecycle import Actor
from tasks.maintenance import maintenance_now
from tasks.mass_failure import mass_failure
from tasks.models import Run, RunPurpose, ScheduledRun, Task, TaskState
from tasks.quorum import lock_round

log = logging.getLogger(__name__)

CLAIM_MARGIN = dt.timedelta(minutes=5)
NO_RERUN_CODES = OUTAGE_CODES | {"site.oversized_page"}
PURPOSE_LABELS = {
    RunPurpose.SCHEDULED.value: "定时巡检",
    RunPurpose.MANUAL.value: "手动巡检",
    RunPurpose.VERIFICATION.value: "复核巡检",
}


OnRecord = Callable[[Session, Run], None]
# Called after the run was applied, in the same transaction; returns more tasks changed.
AfterApply = Callable[[Session, Run], list[Task]]


@dataclass(frozen=True)
class RunReport:
    run_id: int  # 0 when nothing was recorded
    check_id: str
    outcome: Outcome
    result: ProbeResult
    changed_tasks: tuple[tuple[int, str], ...] = ()  # (task id, new state)
    held: bool = False  # part of a mass failure: no task was opened
    skipped: str = ""  # why the check did not run (a maintenance window, a run under way)


async def run_check(
    services: Services,
    check_id: str,
    *,
    purpose: RunPurpose = RunPurpose.SCHEDULED,
    task_id: int | None = None,
    record: bool = True,
    on_record: OnRecord | None = None,
    after_apply: AfterApply | None = None,
    location: str | None = None,
) -> RunReport:
    """Run the check once, record the run and apply it to the check's tasks.

    ``location`` is where a scheduled run comes from; a probe that keeps what each place
    saw in its state (``Probe.state_by_location``) continues that location's state.

    ``on_record`` is called inside the transaction that records the run, ``after_apply``
    after the run was applied, in the same transaction.

    A check whose tasks are decided by rounds of locations with a quorum above one
    (``tasks.quorum``) is not judged by a lone manual run or verification: that run is
    recorded as evidence, and the next round decides (the scheduler defers one at once
    for a rectified task).

    Inside an approved maintenance window nothing runs. A check whose probe allows one
    run at a time (咨询: a second run would ask the desk twice) is claimed in the database
    first; while another run holds it, this one is skipped. A failure while the canary is
    down is the monitor's (`error`); a failure during a mass failure is recorded but held.
    """
    target, check = services.check(check_id)
    with services.sessions() as session:
        window = maintenance_now(session, services.catalog, target.key, services.clock.now())
    if window is not None:
        until = window.ends_at.astimezone(services.zone)
        return _skipped(check_id, f"维护期内不巡检：{window.reason}，至 {until:%m-%d %H:%M}")
    probe = services.probes.get(check.probe)
    if probe is None or not probe.one_run_at_a_time:
        return await _run_and_record(
            services, check_id, purpose, task_id, record, on_record, after_apply, location
        )
    holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    busy = _claim(services, check_id, holder, purpose)
    if busy:
        return _skipped(check_id, busy)
    try:
        return await _run_and_record(
            services, check_id, purpose, task_id, record, on_record, after_apply, location
        )
    finally:
        with services.sessions.begin() as session:
            release_claim(session, check_id, holder)


async def _run_and_record(
    services: Services,
    check_id: str,
    purpose: RunPurpose,
    task_id: int | None,
    record: bool,
    on_record: OnRecord | None = None,
    after_apply: AfterApply | None = None,
    location: str | None = None,
) -> RunReport:
    _, check = services.check(check_id)
    previous = _previous_run(services, check_id)
    probe = services.probes.get(check.probe)
    by_place = location is not None and probe is not None and probe.state_by_location
    state_from = _previous_run(services, check_id, location) if by_place else previous
    # Full traces (DOM snapshots) when something is known to be wrong: a check that did
    # not pass last time, a verification. Otherwise a light trace, and a failure is run
    # again at once with a full trace (run_confirmed).
    full_trace = (previous is not None and previous.outcome != Outcome.PASS) or (
        purpose is RunPurpose.VERIFICATION
    )
    result, started = await run_confirmed(
        services,
        check_id,
        state_from.state if state_from else None,
        full_trace=full_trace or (previous is None and not _can_rerun(services, check_id)),
    )
    finished = services.clock.now()
    if result.outcome is Outcome.FAIL and not await services.canary.network_ok():
        result = _ours(result, services.canary)
    if not record:
        return RunReport(0, check_id, result.outcome, result)
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
        if on_record is not None:
            on_record(session, run)
        elif purpose is not RunPurpose.SCHEDULED and quorum_of(services, check_id) > 1:
            run.round_evidence = True  # one place cannot prove what needs a quorum
        held = result.outcome is Outcome.FAIL and _hold(services, session, run)
        changed = services.tracker.apply_run(session, run, services.policy(check_id))
        if after_apply is not None:
            changed = [*changed, *after_apply(session, run)]
        if result.outcome in (Outcome.ERROR, Outcome.INCONCLUSIVE):
            _alert_monitor_trouble(services, session, run, previous)
        report = RunReport(
            run.id,
            check_id,
            result.outcome,
            result,
            tuple((t.id, t.state) for t in changed),
            held=held,
        )
    services.alert_unknown_calendar_years()
    seconds = (finished - started).total_seconds()
    services.metrics.observe_run(check.probe, result.outcome.value, seconds)
    log.info(
        "run %s of %s: %s%s%s",
        report.run_id,
        check_id,
        result.outcome.value,
        f" ({', '.join(f.code for f in result.findings)})" if result.findings else "",
        " [held: mass failure]" if held else "",
    )
    return report


async def run_confirmed(
    services: Services,
    check_id: str,
    state: Mapping[str, Any] | None,
    *,
    full_trace: bool,
) -> tuple[ProbeResult, dt.datetime]:
    """Run the check; a failure seen with a light trace is run again at once with a full
    trace, and that run is the one that counts: it confirms the failure and keeps the
    evidence a full trace gives. When the second run does not fail, the first failure was
    a flap: noted in the counted run's metrics (``flap``), never a task. Not run again: an
    outage (the home page was just tried again and failed; a second wait for a hung site
    would double the run), a page over the download cap, and probes that allow one run at
    a time or ask not to be re-run (a consultation asked twice, an SMS code requested twice).

    Returns the result and when the counted run started."""
    target, check = services.check(check_id)
    started = services.clock.now()
    result = await services.runner.run(check_id, target, check, state, full_trace=full_trace)
    if full_trace or result.outcome is not Outcome.FAIL or not _can_rerun(services, check_id):
        return result, started
    if any(finding.code in NO_RERUN_CODES for finding in result.findings):
        return result, started  # the outage check saw the site down already
    first = result
    log.info("%s failed with a light trace; running it again with a full trace", check_id)
    started = services.clock.now()
    result = await services.runner.run(check_id, target, check, state, full_trace=True)
    attempt = {
        "outcome": first.outcome.value,
        "findings": [finding.code for finding in first.findings],
        "summary": first.summary,
        "elapsed_ms": first.metrics.get("elapsed_ms"),
    }
    key = "confirmed" if result.outcome is Outcome.FAIL else "flap"
    return replace(result, metrics={**result.metrics, key: attempt}), started


def _can_rerun(services: Services, check_id: str) -> bool:
    _, check = services.check(check_id)
    probe = services.probes.get(check.probe)
    return probe is not None and probe.rerun_on_failure and not probe.one_run_at_a_time


async def run_scheduled(services: Services, scheduled_run_id: int) -> RunReport | None:
    """Run a due run the scheduler deferred (a worker's job), recording it at most once.

    A job retried after its worker died finds its run already recorded and does nothing.
    """
    with services.sessions() as session:
        due = session.get(ScheduledRun, scheduled_run_id)
        if due is None or due.run_id is not None:
            return None
        check_id, location, slot = due.check_id, due.location, due.slot
    by_rounds = judged_by_rounds(services, check_id)
    log.info("scheduled run %s of %s starts (%s)", scheduled_run_id, check_id, location)

    def mark(session: Session, run: Run) -> None:
        run.location = location
        if by_rounds:
            # Locked before this row is marked, in id order: the round's last two runs
            # cannot both miss the decision (tasks.quorum).
            lock_round(session, check_id, slot)
            run.round_evidence = True
        claimed = session.execute(
            update(ScheduledRun)
            .where(ScheduledRun.id == scheduled_run_id, ScheduledRun.run_id.is_(None))
            # A run judged alone decides its own one-location round.
            .values(run_id=run.id, decided_at=None if by_rounds else run.finished_at)
        ).rowcount  # type: ignore[attr-defined]
        if not claimed:
            raise AlreadyRecorded(f"scheduled run {scheduled_run_id} was recorded meanwhile")

    def decide_round(session: Session, run: Run) -> list[Task]:
        return rounds.decide(services, session, check_id, slot) if by_rounds else []

    try:
        return await run_check(
            services, check_id, on_record=mark, after_apply=decide_round, location=location
        )
    except AlreadyRecorded as exc:  # the transaction rolled back: nothing recorded twice
        log.warning("%s", exc)
        return None


class AlreadyRecorded(Exception):
    """Another attempt recorded this scheduled run first."""


async def report_fixed(services: Services, task_id: int, actor: Actor, note: str) -> RunReport:
    """The unit reports the fix (整改说明); verify it at once by running the check again."""
    with services.sessions.begin() as session:
        task = services.desk.report_rectified(session, task_id, actor, note)
        check_id = task.check_id
    return await verify(services, task_id, check_id)


async def verify(services: Services, task_id: int, check_id: str) -> RunReport:
    """The verification run (复核) of a rectified task."""
    return await run_check(services, check_id, purpose=RunPurpose.VERIFICATION, task_id=task_id)


async def verify_if_rectified(services: Services, task_id: int) -> RunReport | None:
    """The verification of a task still waiting for it; nothing if it is no longer rectified
    (verified meanwhile, e.g. by a retried job), so a verification is applied once."""
    with services.sessions() as session:
        task = services.desk.get(session, task_id)
        check_id, state = task.check_id, task.state
    if state != TaskState.RECTIFIED.value:
        return None
    return await verify(services, task_id, check_id)


def unverified_tasks(services: Services) -> list[int]:
    """Rectified tasks without a verification run since they were reported fixed."""
    with services.sessions() as session:
        verified = select(Run.id).where(
            Run.task_id == Task.id,
            Run.purpose == RunPurpose.VERIFICATION.value,
            Run.started_at >= Task.rectified_at,
        )
        return list(
            session.scalars(
                select(Task.id).where(Task.state == TaskState.RECTIFIED.value, ~verified.exists())
            )
        )


def _claim(services: Services, check_id: str, holder: str, purpose: RunPurpose) -> str:
    """Claim the check for this run; the reason to skip it when another run holds it."""
    now = services.clock.now()
    # Held for the run's wall-clock limit and the recording after it; a crashed holder's
    # claim lapses then.
    ttl = dt.timedelta(seconds=services.settings.run_timeout_s) + CLAIM_MARGIN
    with services.sessions.begin() as session:
        if take_claim(session, check_id, holder, purpose.value, now, ttl):
            return ""
        other = current_claim(session, check_id)
    if other is None:  # released between the two statements
        return f"巡检项 {check_id} 的另一次巡检刚刚结束，本次跳过，未重复提交"
    what = PURPOSE_LABELS.get(other.purpose, "巡检")
    since = other.taken_at.astimezone(services.zone)
    return (
        f"巡检项 {check_id} 的另一次{what}正在进行（{other.holder}，"
        f"{since:%m-%d %H:%M:%S} 开始），本次跳过，未重复提交"
    )


def _skipped(check_id: str, reason: str) -> RunReport:
    log.info("%s skipped: %s", check_id, reason)
    return RunReport(
        0,
        check_id,
        Outcome.INCONCLUSIVE,
        ProbeResult(Outcome.INCONCLUSIVE, error=reason),
        skipped=reason,
    )


def _ours(result: ProbeResult, canary: Canary) -> ProbeResult:
    """A failure seen while our own network is down is the monitor's, not the portal's."""
    findings = "；".join(f"{f.code}" for f in result.findings)
    return replace(
        result,
        outcome=Outcome.ERROR,
        findings=(),
        summary="巡检系统故障",
        error=f"探测页 {canary.url} 不可达（{canary.reason}），本方网络异常，本次结果不计："
        f"{findings}",
    )


def _hold(services: Services, session: Session, run: Run) -> bool:
    """Mark ``run`` held when many targets are failing at once, and tell the operator."""
    picture = mass_failure(session, services.catalog.guard, run.finished_at)
    if picture is None:
        return False
    run.held = True
    window = services.catalog.guard.window
    slot = int(run.finished_at.timestamp() // max(window.total_seconds(), 1))
    services.outbox.alert_operator(
        session,
        f"大面积巡检失败，暂停立案（{picture.failing}/{picture.judged} 个巡检对象）",
        [
            f"最近 {int(window.total_seconds() // 60)} 分钟内 {picture.failing} 个巡检对象失败，"
            f"占 {picture.share:.0%}，疑似本方网络或浏览器问题。",
            "期间的失败记录保留为证据，但不立案、不计入连续失败次数。",
        ],
        key=f"mass-failure-{slot}",
    )
    return True


def _previous_run(services: Services, check_id: str, location: str | None = None) -> Run | None:
    """The check's last run; with ``location``, its last run from that location."""
    query = select(Run).where(Run.check_id == check_id)
    if location is not None:
        query = query.where(Run.location == location)
    with services.sessions() as session:
        return session.scalars(query.order_by(Run.id.desc()).limit(1)).first()


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
