"""One task in the console: what the unit sees, plus the supervisor's decisions
(批准/不批准延期, 申诉成立/不成立, 销号), each taken through the TaskDesk with the
signed-in account recorded as the actor.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy.orm import Session

from bot.console.auth import ConsoleAuth, Viewer
from bot.services import Services
from bot.task_view import evidence_runs, task_context
from bot.unit_pages import evidence_file
from tasks.lifecycle import TaskError
from tasks.models import RequestKind, Task, TaskRequest

Text = Annotated[str, Form()]
DECISIONS = {
    "approve": (RequestKind.EXTENSION, True, "已批准延期"),
    "refuse": (RequestKind.EXTENSION, False, "已决定不予延期"),
    "uphold": (RequestKind.DISPUTE, True, "申诉成立，任务已撤销"),
    "reject": (RequestKind.DISPUTE, False, "已驳回申诉"),
}


def task_router(services: Services, auth: ConsoleAuth, templates: Jinja2Templates) -> APIRouter:
    router = APIRouter(prefix="/console/tasks")
    viewer_of = Depends(auth.page_viewer)
    # Outcomes travel in the redirect signed, so a crafted link cannot show a false "done".
    notices = URLSafeSerializer(services.settings.signing_key(), salt="govpatrol.console-notice")

    def visible(session: Session, task_id: int, viewer: Viewer) -> Task:
        task = session.get(Task, task_id)
        if task is None or not viewer.sees(task.unit_code):
            raise HTTPException(404, "没有该整改任务")
        return task

    def back(task_id: int, *, done: str = "", error: str = "") -> RedirectResponse:
        message = notices.dumps({"done": done, "error": error})
        return RedirectResponse(f"/console/tasks/{task_id}?msg={message}", status_code=303)

    def deciding(request_viewer: Viewer, csrf: str) -> None:
        auth.require_csrf(request_viewer, csrf)
        if not request_viewer.can_decide:
            raise HTTPException(403, "只有督办人员可以审批")

    @router.get("/{task_id}", response_class=HTMLResponse)
    def page(request: Request, task_id: int, msg: str = "", viewer: Viewer = viewer_of) -> Response:
        with services.sessions() as session:
            task = visible(session, task_id, viewer)
            context = task_context(services, session, task, f"/console/tasks/{task_id}/evidence")
        try:
            shown = notices.loads(msg) if msg else {}
        except BadSignature:
            shown = {}
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
        task_id: int, run_id: int, kind: str, index: int, viewer: Viewer = viewer_of
    ) -> FileResponse:
        with services.sessions() as session:
            task = visible(session, task_id, viewer)
            runs = {run.id: run for run in evidence_runs(session, task)}
        return evidence_file(services, runs.get(run_id), kind, index)

    @router.post("/{task_id}/requests/{request_id}")
    def decide(
        task_id: int,
        request_id: int,
        csrf: Text = "",
        decision: Text = "",
        days: Annotated[int | None, Form()] = None,
        note: Text = "",
        viewer: Viewer = viewer_of,
    ) -> RedirectResponse:
        deciding(viewer, csrf)
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
            return back(task_id, error=str(exc))
        return back(task_id, done=done)

    @router.post("/{task_id}/close")
    def close(
        task_id: int, csrf: Text = "", reason: Text = "", viewer: Viewer = viewer_of
    ) -> RedirectResponse:
        deciding(viewer, csrf)
        if not reason.strip():
            return back(task_id, error="请填写销号理由")
        try:
            with services.sessions.begin() as session:
                visible(session, task_id, viewer)
                services.desk.close(session, task_id, viewer.actor, reason.strip())
        except TaskError as exc:
            return back(task_id, error=str(exc))
        return back(task_id, done="任务已销号")

    return router
