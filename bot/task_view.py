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
from tasks.models import FindingRow, RequestKind, Run, Task, TaskState
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
