"""Rounds of a check run from several locations (``tasks.quorum``): deciding them,
telling the operator about a failure only a minority of locations saw, and keeping
``scheduled_runs`` bounded."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bot.services import Services
from config.catalog import PROBE_LABELS
from tasks.models import FindingRow, ScheduledRun, Task, TaskState
from tasks.quorum import RoundVerdict, decide_round, lock_round, overdue_rounds

log = logging.getLogger(__name__)


def judged_by_rounds(services: Services, check_id: str) -> bool:
    """Whether the check runs from several locations, so rounds decide its tasks."""
    try:
        _, check = services.check(check_id)
    except KeyError:
        return False
    return len(services.catalog.locations_of(check)) > 1


def quorum_of(services: Services, check_id: str) -> int:
    try:
        _, check = services.check(check_id)
    except KeyError:
        return 1
    return services.catalog.quorum_of(check)


def decide(services: Services, session: Session, check_id: str, slot: dt.datetime) -> list[Task]:
    """Decide the round of ``check_id`` at ``slot`` if every location reported or its
    deadline passed; apply the verdict and alert minority failures. The tasks changed."""
    rows = lock_round(session, check_id, slot)
    now = services.clock.now()
    if not judged_by_rounds(services, check_id):
        # Its runs were judged alone (one location, or the catalog changed since).
        _mark_decided(session, rows, now)
        return []
    overdue = slot + dt.timedelta(seconds=services.settings.round_wait_s) <= now
    if not overdue and any(row.run_id is None for row in rows):
        return []  # locations still to report, and time left for them
    decided = decide_round(session, rows, quorum_of(services, check_id), now)
    if decided is None:
        return []
    verdict, carrier = decided
    log.info(
        "round %s@%s decided: quorum %d, judged by %s, seen %s",
        check_id,
        slot.isoformat(),
        verdict.quorum,
        ",".join(verdict.judged) or "none",
        dict(verdict.seen),
    )
    alert_minority(services, session, check_id, verdict, [r.location for r in rows])
    if carrier is None:
        return []
    return services.tracker.apply_run(session, carrier, services.policy(check_id))


def _mark_decided(session: Session, rows: list[ScheduledRun], now: dt.datetime) -> None:
    for row in rows:
        if row.decided_at is None:
            row.decided_at = now
    session.flush()


def decide_overdue(services: Services) -> int:
    """Decide every round whose deadline passed with a location silent; how many."""
    before = services.clock.now() - dt.timedelta(seconds=services.settings.round_wait_s)
    with services.sessions() as session:
        due = overdue_rounds(session, before)
    for check_id, slot in due:
        with services.sessions.begin() as session:
            decide(services, session, check_id, slot)
    return len(due)


def checks_to_verify(services: Services) -> list[str]:
    """Checks needing a quorum with a rectified task and no round since it was reported
    fixed: each wants a verification round now."""
    with services.sessions() as session:
        since = select(ScheduledRun.id).where(
            ScheduledRun.check_id == Task.check_id, ScheduledRun.slot >= Task.rectified_at
        )
        waiting = session.scalars(
            select(Task.check_id)
            .where(Task.state == TaskState.RECTIFIED.value, ~since.exists())
            .distinct()
        ).all()
    return sorted(check_id for check_id in waiting if quorum_of(services, check_id) > 1)


def prune_scheduled_runs(services: Services) -> int:
    """Delete ``scheduled_runs`` rows older than ``scheduled_runs_keep_days``; how many.

    The runs themselves stay (they are the record); only the hand-over rows go. A round
    not decided yet is decided first (its deadline is far shorter than the retention)."""
    before = services.clock.now() - dt.timedelta(days=services.settings.scheduled_runs_keep_days)
    with services.sessions.begin() as session:
        gone = session.execute(delete(ScheduledRun).where(ScheduledRun.slot < before)).rowcount  # type: ignore[attr-defined]
    return int(gone or 0)


def alert_minority(
    services: Services,
    session: Session,
    check_id: str,
    verdict: RoundVerdict,
    locations: list[str],
) -> None:
    """One operator alert per location that alone (below the quorum) saw a problem, at most
    one per check and location a day."""
    minority = verdict.minority
    if not minority:
        return
    try:
        target, check = services.check(check_id)
    except KeyError:
        return
    label = PROBE_LABELS.get(check.probe, check.check_name)
    day = services.clock.now().astimezone(services.zone).date().isoformat()
    titles = _titles(session, verdict)
    for place, codes in minority.items():
        others = [p for p in locations if p != place]
        lines = [
            f"巡检项：{check_id}（{label}）",
            f"巡检对象：{target.name}（{target.base_url}）",
            f"地点：{place}",
            "发现：" + "；".join(f"{titles.get(code, code)}（{code}）" for code in codes),
            f"其他地点：{'、'.join(_seen_at(verdict, p, codes) for p in others) or '无'}",
            f"判定规则：同一轮次至少 {verdict.quorum}/{len(locations)} 个地点发现才立案；"
            "本次只记录为证据，不立案。",
            "若问题只在该地点出现，请检查该地点的网络、线路或代理。",
        ]
        if place in verdict.runs:
            lines.append(f"巡检记录：#{verdict.runs[place]}")
        digest = hashlib.sha256(f"{check_id}|{place}|{day}".encode()).hexdigest()[:24]
        services.outbox.alert_operator(
            session,
            f"仅 {place} 发现问题（未立案）：{target.name} {label}",
            lines,
            key=f"minority-{digest}",
        )


def _seen_at(verdict: RoundVerdict, place: str, codes: tuple[str, ...]) -> str:
    if place not in verdict.runs:
        return f"{place} 未报告"
    if place not in verdict.judged:
        return f"{place} 无法判定"
    saw = [code for code in codes if place in verdict.seen.get(code, ())]
    return f"{place} 也发现" if saw else f"{place} 正常"


def _titles(session: Session, verdict: RoundVerdict) -> dict[str, str]:
    ids = list(verdict.runs.values())
    if not ids:
        return {}
    return {
        row.code: row.title
        for row in session.scalars(select(FindingRow).where(FindingRow.run_id.in_(ids)))
    }
