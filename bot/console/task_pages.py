"""One task in the console: what the unit sees, plus the supervisor's decisions
(批准/不批准延期, 申诉成立/不成立, 销号), each taken through the TaskDesk with the
signed-in account recorded as the actor.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session

from bot.console.auth import ConsoleAuth, Viewer, get_auth, page_viewer
from bot.console.outcomes import SignedOutcomes
from bot.query_bounds import Index, RowId
from bot.services import Services
from bot.task_view import evidence_file, shown_runs, task_context
from bot.web_state import get_services, get_templates
from tasks.lifecycle import TaskError
from tasks.models import RequestKind, Task, TaskRequest

Text = Annotated[str, Form()]
DECISIONS = {
    "approve": (RequestKind.EXTENSION, True, "已批准延期"),
    "refuse": (RequestKind.EXTENSION, False, "已决定不予延期"),
    "uphold": (RequestKind.DISPUTE, True, "申诉成立，任务已撤销"),
    "reject": (RequestKind.DISPUTE, False, "已驳回申诉"),
}
router = APIRouter(prefix="/console/tasks")


class TaskNotices(SignedOutcomes):
    """What a decision did, carried to the task page in the redirect."""

    def __init__(self, signing_key: str) -> None:
        super().__init__(signing_key, salt="govpatrol.console-notice")

    def back(self, task_id: int, *, done: str = "", error: str = "") -> RedirectResponse:
        return self.redirect(f"/console/tasks/{task_id}", done=done, error=error)


def get_notices(request: Request) -> TaskNotices:
    notices: TaskNotices = request.app.state.task_notices
    return notices


@router.get("/{task_id}", response_class=HTMLResponse)
def page(
    request: Request,
    task_id: RowId,
    msg: str = "",
    viewer: Viewer = Depends(page_viewer),
    services: Services = Depends(get_services),
    templates: Jinja2Templates = Depends(get_templates),
    notices: TaskNotices = Depends(get_notices),
) -> Response:
    with services.sessions() as session:
        task = visible(session, task_id, viewer)
        context = task_context(services, session, task, f"/console/tasks/{task_id}/evidence")
    shown = notices.shown(msg)
    context.update(
        viewer=viewer,
        nav="tasks",
        csrf=viewer.csrf,
        done=shown.get("done", ""),
        error=shown.get("error", ""),
    )
    return templates.TemplateResponse(request, "console/task.html", context)


@router.get("/{task_id}/evidence/{run_id}/{kind}/{index}")
def evidence(
    task_id: RowId,
    run_id: RowId,
    kind: str,
    index: Index,
    viewer: Viewer = Depends(page_viewer),
    services: Services = Depends(get_services),
) -> FileResponse:
    with services.sessions() as session:
        task = visible(session, task_id, viewer)
        runs = shown_runs(session, task)
    return evidence_file(services.evidence, runs.get(run_id), kind, index)


@router.post("/{task_id}/requests/{request_id}")
def decide(
    task_id: RowId,
    request_id: RowId,
    csrf: Text = "",
    decision: Text = "",
    days: Annotated[int | None, Form()] = None,
    note: Text = "",
    viewer: Viewer = Depends(page_viewer),
    services: Services = Depends(get_services),
    auth: ConsoleAuth = Depends(get_auth),
    notices: TaskNotices = Depends(get_notices),
) -> RedirectResponse:
    deciding(auth, viewer, csrf)
    if decision not in DECISIONS:
        raise HTTPException(400, "未知的审批结果")
    kind, yes, done = DECISIONS[decision]
    try:
        with services.sessions.begin() as session:
            visible(session, task_id, viewer)
            asked = session.get(TaskRequest, request_id)
            if asked is None or asked.task_id != task_id or asked.kind != kind.value:
                raise HTTPException(404, "没有该申请")
            if kind is RequestKind.EXTENSION:
                services.desk.decide_extension(
                    session, request_id, viewer.actor, yes, note.strip(), days
                )
            else:
                services.desk.decide_dispute(session, request_id, viewer.actor, yes, note)
    except TaskError as exc:
        return notices.back(task_id, error=str(exc))
    return notices.back(task_id, done=done)


@router.post("/{task_id}/close")
def close(
    task_id: RowId,
    csrf: Text = "",
    reason: Text = "",
    viewer: Viewer = Depends(page_viewer),
    services: Services = Depends(get_services),
    auth: ConsoleAuth = Depends(get_auth),
    notices: TaskNotices = Depends(get_notices),
) -> RedirectResponse:
    deciding(auth, viewer, csrf)
    if not reason.strip():
        return notices.back(task_id, error="请填写销号理由")
    try:
        with services.sessions.begin() as session:
            visible(session, task_id, viewer)
            services.desk.close(session, task_id, viewer.actor, reason.strip())
    except TaskError as exc:
        return notices.back(task_id, error=str(exc))
    return notices.back(task_id, done="任务已销号")


def visible(session: Session, task_id: int, viewer: Viewer) -> Task:
    task = session.get(Task, task_id)
    if task is None or not viewer.sees(task.unit_code):
        raise HTTPException(404, "没有该整改任务")
    return task


def deciding(auth: ConsoleAuth, viewer: Viewer, csrf: str) -> None:
    """Only a supervisor's form, carrying its CSRF token, may decide."""
    auth.require_csrf(viewer, csrf)
    if not viewer.can_decide:
        raise HTTPException(403, "只有督办人员可以审批")
