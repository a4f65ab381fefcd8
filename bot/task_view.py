"""What a task page shows, built once for the unit's page and the supervisor's console,
and the evidence files it links to."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import HTTPException
from fastapi.responses import FileResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.maintenance_view import window_rows
from bot.services import Services
from config.catalog import PROBE_LABELS
from config.redaction import scrub
from notifications.models import DeliveryStatus, Notification
from probes.evidence import EvidenceStore
from tasks.lifecycle import Role, TaskAction, may
from tasks.models import Campaign, FindingRow, RequestKind, Run, ScheduledRun, Task, TaskState
from tasks.quorum import round_of
from tasks.workflow import MAX_EXTENSION_DAYS

OUTCOME_LABELS = {
    "pass": "通过",
    "fail": "发现问题",
    "inconclusive": "无法判定",
    "error": "系统故障",
}
DELIVERY_LABELS = {
    DeliveryStatus.PENDING.value: "等待发送",
    DeliveryStatus.SENDING.value: "发送中",
    DeliveryStatus.SENT.value: "已送达",
    DeliveryStatus.FAILED.value: "发送失败",
}
REQUEST_LABELS = {
    (RequestKind.EXTENSION.value, "pending"): "待审批",
    (RequestKind.EXTENSION.value, "approved"): "已批准",
    (RequestKind.EXTENSION.value, "refused"): "未批准",
    (RequestKind.DISPUTE.value, "pending"): "待审核",
    (RequestKind.DISPUTE.value, "approved"): "申诉成立",
    (RequestKind.DISPUTE.value, "refused"): "申诉不成立",
}
EVIDENCE_RUNS = 3


def evidence_runs(session: Session, task: Task, limit: int = EVIDENCE_RUNS) -> list[Run]:
    """The latest runs that saw this task's problem, or verified it."""
    seen = select(FindingRow.run_id).where(
        FindingRow.check_id == task.check_id, FindingRow.code == task.finding_code
    )
    return list(
        session.scalars(
            select(Run)
            .where(Run.check_id == task.check_id, (Run.id.in_(seen)) | (Run.task_id == task.id))
            .order_by(Run.id.desc())
            .limit(limit)
        )
    )


def shown_runs(session: Session, task: Task) -> dict[int, Run]:
    """Every run whose evidence the task page links to: the evidence runs and each
    location's run of the rounds it shows."""
    runs = {run.id: run for run in evidence_runs(session, task)}
    for _, places in _rounds(session, task):
        runs.update({run.id: run for _, run in places if run is not None})
    return runs


def _rounds(
    session: Session, task: Task
) -> list[tuple[str, list[tuple[ScheduledRun, Run | None]]]]:
    """The round that opened the task and the check's latest round, each location's row
    beside its run; none for a check judged from one place."""
    shown: list[tuple[str, list[tuple[ScheduledRun, Run | None]]]] = []
    opening = round_of(session, task.first_run_id)
    if len(opening) > 1:
        shown.append(("立案轮次", opening))
    latest_run = session.scalar(
        select(ScheduledRun.run_id)
        .where(ScheduledRun.check_id == task.check_id, ScheduledRun.run_id.is_not(None))
        .order_by(ScheduledRun.slot.desc(), ScheduledRun.id.desc())
        .limit(1)
    )
    latest = round_of(session, latest_run) if latest_run is not None else []
    if len(latest) > 1 and {row.id for row, _ in latest} != {row.id for row, _ in opening}:
        shown.append(("最近一轮", latest))
    return shown


def location_rounds(
    services: Services, session: Session, task: Task, evidence_base: str
) -> list[dict[str, Any]]:
    """Each shown round as a table: 地点, 结果, 发现, 时间, 证据链接 (see ``tasks.quorum``)."""
    zone = services.zone
    tables = []
    for title, places in _rounds(session, task):
        verdict = next((run.round_verdict for _, run in places if run and run.round_verdict), None)
        seen = sum(
            1
            for _, run in places
            if run is not None and any(f.code == task.finding_code for f in run.findings)
        )
        rows: list[dict[str, Any]] = []
        for row, run in places:
            if run is None:
                rows.append(
                    {
                        "location": row.location,
                        "outcome": "未报告",
                        "findings": "",
                        "when": "",
                        "links": [],
                    }
                )
                continue
            files = run.evidence or {}
            base = f"{evidence_base}/{run.id}"
            links = (
                [
                    {"url": f"{base}/screenshots/{i}", "label": f"截图{i + 1}"}
                    for i in range(len(files.get("screenshots", [])))
                ]
                + [
                    {"url": f"{base}/html/{i}", "label": f"HTML{i + 1}"}
                    for i in range(len(files.get("html", [])))
                ]
                + [
                    {"url": f"{base}/traces/{i}", "label": f"trace{i + 1}"}
                    for i in range(len(files.get("traces", [])))
                ]
            )
            outcome = OUTCOME_LABELS.get(run.outcome, run.outcome)
            rows.append(
                {
                    "location": row.location,
                    "outcome": f"{outcome}（暂停立案）" if run.held else outcome,
                    "findings": "；".join(f.title for f in run.findings) or "—",
                    "when": local_time(run.finished_at, zone),
                    "run_id": run.id,
                    "links": links,
                }
            )
        quorum = verdict["quorum"] if verdict else None
        rule = (
            f"{len(places)} 个地点中 {seen} 个发现本问题，同一轮至少 {quorum} 个地点发现才计入"
            if quorum
            else f"{len(places)} 个地点中 {seen} 个发现本问题；本轮未形成判定"
        )
        tables.append(
            {
                "title": title,
                "slot": local_time(places[0][0].slot, zone),
                "rule": rule,
                "rows": rows,
            }
        )
    return tables


def evidence_file(store: EvidenceStore, run: Run | None, kind: str, index: int) -> FileResponse:
    """One evidence file of ``run`` (screenshot, HTML snapshot or trace)."""
    files = (run.evidence if run is not None else None) or {}
    listed = files.get(kind, []) if kind in ("screenshots", "html", "traces") else []
    if not 0 <= index < len(listed):
        raise HTTPException(404, "没有该证据文件")
    path = store.absolute(listed[index])
    if not path.is_file():
        raise HTTPException(404, "证据文件已按存储上限清理")
    media = {"screenshots": "image/png", "html": "text/plain; charset=utf-8"}
    return FileResponse(path, media_type=media.get(kind, "application/zip"), filename=path.name)


def task_context(
    services: Services, session: Session, task: Task, evidence_base: str
) -> dict[str, Any]:
    """Everything the task templates render; evidence URLs start with ``evidence_base``."""
    target, check = services.catalog.check(task.check_id)
    zone = services.zone
    state = TaskState(task.state)
    today = services.clock.now().astimezone(zone).date()
    evidence = []
    for run in evidence_runs(session, task):
        files = run.evidence or {}
        base = f"{evidence_base}/{run.id}"
        evidence.append(
            {
                "run_id": run.id,
                "when": local_time(run.finished_at, zone),
                "outcome": OUTCOME_LABELS.get(run.outcome, run.outcome),
                "screenshots": [
                    f"{base}/screenshots/{i}" for i in range(len(files.get("screenshots", [])))
                ],
                "files": [
                    {"url": f"{base}/html/{i}", "label": f"页面 HTML 快照 {i + 1}"}
                    for i in range(len(files.get("html", [])))
                ]
                + [
                    {"url": f"{base}/traces/{i}", "label": f"Playwright 操作记录（trace）{i + 1}"}
                    for i in range(len(files.get("traces", [])))
                ],
            }
        )
    notices = session.scalars(
        select(Notification).where(Notification.task_id == task.id).order_by(Notification.id)
    ).all()
    return {
        "task": task,
        "campaign": session.get(Campaign, task.campaign_id) if task.campaign_id else None,
        "unit_name": services.directory.unit_name(task.unit_code),
        "target": target,
        "check_label": PROBE_LABELS.get(check.probe, check.check_name),
        "state_label": state.label,
        "active": state.active,
        # The unit's buttons, from the lifecycle table.
        "can_acknowledge": may(TaskAction.ACKNOWLEDGED, state, Role.UNIT),
        "can_rectify": may(TaskAction.RECTIFIED, state, Role.UNIT),
        "can_extend": may(TaskAction.EXTENSION_REQUESTED, state, Role.UNIT),
        "can_dispute": may(TaskAction.DISPUTED, state, Role.UNIT),
        "max_extension_days": MAX_EXTENSION_DAYS,
        "opened_local": local_time(task.opened_at, zone),
        "days_left": services.calendar.working_days_left(today, task.deadline),
        "evidence": evidence,
        "location_rounds": location_rounds(services, session, task, evidence_base),
        "requests": [
            {
                "id": req.id,
                "kind": "延期" if req.kind == RequestKind.EXTENSION.value else "申诉",
                "is_extension": req.kind == RequestKind.EXTENSION.value,
                "pending": req.state == "pending",
                "days": req.days,
                "reason": req.reason,
                "by": req.requested_by,
                "when": local_time(req.requested_at, zone),
                "status": REQUEST_LABELS[(req.kind, req.state)],
                "decision": req.decision_note,
            }
            for req in services.desk.requests(session, task.id)
        ],
        "notices": [
            {
                "when": local_time(n.created_at, zone),
                "title": n.title,
                "recipient": n.recipient,
                "channel": scrub(n.channel),  # rows stored before labels held URLs
                "status": DELIVERY_LABELS.get(n.status, n.status),
                "sent": local_time(n.sent_at, zone) if n.sent_at else "",
                "error": scrub(n.last_error),
            }
            for n in notices
        ],
        "maintenance": window_rows(services, session, {target.key}),
        "history": [
            {
                "when": local_time(row.at, zone),
                "actor": "巡检系统" if row.actor == "system" else row.actor,
                "action": _action_label(row.action),
                "reason": row.reason,
            }
            for row in task.history
        ],
    }


def local_time(moment: dt.datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M")


def _action_label(action: str) -> str:
    try:
        return TaskAction(action).label
    except ValueError:  # history written by a newer version
        return action
