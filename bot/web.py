"""The web side of the daemon: health, and the unit's task page behind a signed link.

Every value that comes from a probed page is rendered through Jinja2 autoescaping.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse
from fastapi.templating import Jinja2Templates
from sqlalchemy import select, text

from bot.services import Services
from config.catalog import PROBE_LABELS
from tasks.links import LinkClaims, LinkError
from tasks.models import FindingRow, Run, Task, TaskState

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))

ACTION_LABELS = {
    "opened": "立案（发现问题）",
    "acknowledged": "签收",
    "rectified": "报送整改",
    "reopened": "退回整改",
    "verified": "复核通过，销号",
    "closed": "销号",
}
OUTCOME_LABELS = {
    "pass": "通过",
    "fail": "发现问题",
    "inconclusive": "无法判定",
    "error": "系统故障",
}
EVIDENCE_RUNS = 3


@dataclass
class Liveness:
    """What /healthz reports besides the database; the daemon fills these in."""

    scheduler_running: Callable[[], bool] = lambda: False
    browser_connected: Callable[[], bool] = lambda: False


def create_web_app(services: Services, liveness: Liveness | None = None) -> FastAPI:
    live = liveness or Liveness()
    app = FastAPI(title="govpatrol", docs_url=None, redoc_url=None)

    @app.get("/healthz")
    def healthz() -> JSONResponse:
        try:
            with services.sessions() as session:
                session.execute(text("SELECT 1"))
            database = True
        except Exception:
            database = False
        body = {
            "database": database,
            "scheduler": live.scheduler_running(),
            "browser": live.browser_connected(),
        }
        return JSONResponse(body, status_code=200 if database else 503)

    @app.get("/u/{token}", response_class=HTMLResponse)
    def unit_task(request: Request, token: str) -> HTMLResponse:
        claims = _claims(services, token)
        with services.sessions() as session:
            task = _task_for(session, claims)
            context = _task_context(services, session, task, token)
        return TEMPLATES.TemplateResponse(request, "unit_task.html", context)

    @app.get("/u/{token}/evidence/{run_id}/{kind}/{index}")
    def unit_evidence(token: str, run_id: int, kind: str, index: int) -> FileResponse:
        claims = _claims(services, token)
        with services.sessions() as session:
            task = _task_for(session, claims)
            runs = {run.id: run for run in _evidence_runs(session, task)}
        run = runs.get(run_id)
        files = (run.evidence or {}).get(kind, []) if run else []
        if kind not in ("screenshots", "html", "traces") or not 0 <= index < len(files):
            raise HTTPException(404, "没有该证据文件")
        path = services.evidence.absolute(files[index])
        if not path.is_file():
            raise HTTPException(404, "证据文件已按存储上限清理")
        media = {"screenshots": "image/png", "html": "text/plain; charset=utf-8"}
        return FileResponse(path, media_type=media.get(kind, "application/zip"), filename=path.name)

    @app.exception_handler(HTTPException)
    def refused(request: Request, exc: HTTPException) -> HTMLResponse:
        return TEMPLATES.TemplateResponse(
            request,
            "message.html",
            {"title": "无法打开", "message": exc.detail},
            status_code=exc.status_code,
        )

    return app


def _claims(services: Services, token: str) -> LinkClaims:
    try:
        return services.links.verify(token)
    except LinkError as exc:
        raise HTTPException(403, f"{exc}，请使用最新通知中的链接。") from None


def _task_for(session: Any, claims: LinkClaims) -> Task:
    task = session.get(Task, claims.task_id)
    if task is None or task.unit_code != claims.unit_code:
        raise HTTPException(404, "没有该整改任务")
    return task  # type: ignore[no-any-return]


def _evidence_runs(session: Any, task: Task) -> list[Run]:
    """The latest runs that saw this task's problem, or verified it."""
    seen = select(FindingRow.run_id).where(
        FindingRow.check_id == task.check_id, FindingRow.code == task.finding_code
    )
    return list(
        session.scalars(
            select(Run)
            .where(Run.check_id == task.check_id, (Run.id.in_(seen)) | (Run.task_id == task.id))
            .order_by(Run.id.desc())
            .limit(EVIDENCE_RUNS)
        )
    )


def _task_context(services: Services, session: Any, task: Task, token: str) -> dict[str, Any]:
    target, check = services.catalog.check(task.check_id)
    zone = services.zone
    state = TaskState(task.state)
    today = services.clock.now().astimezone(zone).date()
    evidence = []
    for run in _evidence_runs(session, task):
        files = run.evidence or {}
        base = f"/u/{token}/evidence/{run.id}"
        evidence.append(
            {
                "run_id": run.id,
                "when": _local(run.finished_at, zone),
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
    try:
        unit_name = services.catalog.unit(task.unit_code).name
    except KeyError:
        unit_name = task.unit_code
    return {
        "task": task,
        "unit_name": unit_name,
        "target": target,
        "check_label": PROBE_LABELS.get(check.probe, check.check_name),
        "state_label": state.label,
        "active": state.active,
        "opened_local": _local(task.opened_at, zone),
        "days_left": services.calendar.working_days_left(today, task.deadline),
        "evidence": evidence,
        "history": [
            {
                "when": _local(row.at, zone),
                "actor": "巡检系统" if row.actor == "system" else row.actor,
                "action": ACTION_LABELS.get(row.action, row.action),
                "reason": row.reason,
            }
            for row in task.history
        ],
    }


def _local(moment: dt.datetime, zone: Any) -> str:
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M")
