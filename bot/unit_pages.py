"""The unit contact's page behind a signed link: see the task and its evidence, and act on
it — 签收, 报送整改 (which triggers the verification), 申请延期, 申诉, 申报维护窗口.

Unit contacts have no accounts. The link names one task of one unit and opens nothing
else; every form carries a token derived from the link, so another site cannot post on
the contact's behalf.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from collections.abc import Callable
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session

from bot.services import Services
from bot.task_view import evidence_runs, task_context
from tasks.changes import TaskError
from tasks.links import LinkClaims, LinkError
from tasks.models import Task

OnRectified = Callable[[int], None]
Text = Annotated[str, Form()]


def unit_router(
    services: Services, templates: Jinja2Templates, on_rectified: OnRectified | None
) -> APIRouter:
    router = APIRouter(prefix="/u")
    csrf_key = hashlib.sha256(("csrf:" + services.settings.signing_key()).encode()).digest()

    def csrf_for(token: str) -> str:
        return hmac.new(csrf_key, token.encode(), hashlib.sha256).hexdigest()

    def claims(token: str) -> LinkClaims:
        try:
            return services.links.verify(token)
        except LinkError as exc:
            raise HTTPException(403, f"{exc}，请使用最新通知中的链接。") from None

    def task_for(session: Session, found: LinkClaims) -> Task:
        task = session.get(Task, found.task_id)
        if task is None or task.unit_code != found.unit_code:
            raise HTTPException(404, "没有该整改任务")
        return task

    def act(
        token: str, csrf: str, name: str, action: Callable[[Session, Task, str], str]
    ) -> RedirectResponse:
        found = claims(token)
        if not hmac.compare_digest(csrf, csrf_for(token)):
            raise HTTPException(403, "表单已失效，请刷新页面后重试")
        if not name.strip():
            return _back(token, error="请填写经办人姓名")
        try:
            with services.sessions.begin() as session:
                task = task_for(session, found)
                unit = services.outbox.directory.unit_name(task.unit_code)
                done = action(session, task, f"{name.strip()}（{unit}）")
        except TaskError as exc:
            return _back(token, error=str(exc))
        return _back(token, done=done)

    @router.get("/{token}", response_class=HTMLResponse)
    def page(request: Request, token: str, done: str = "", error: str = "") -> HTMLResponse:
        found = claims(token)
        with services.sessions() as session:
            task = task_for(session, found)
            context = task_context(services, session, task, f"/u/{token}/evidence")
        context.update(token=token, csrf=csrf_for(token), done=done, error=error)
        return templates.TemplateResponse(request, "unit_task.html", context)

    @router.get("/{token}/evidence/{run_id}/{kind}/{index}")
    def evidence(token: str, run_id: int, kind: str, index: int) -> FileResponse:
        found = claims(token)
        with services.sessions() as session:
            task = task_for(session, found)
            runs = {run.id: run for run in evidence_runs(session, task)}
        return evidence_file(services, runs.get(run_id), kind, index)

    @router.post("/{token}/acknowledge")
    def acknowledge(
        token: str, csrf: Text = "", name: Text = "", note: Text = ""
    ) -> RedirectResponse:
        def action(session: Session, task: Task, actor: str) -> str:
            services.desk.acknowledge(session, task.id, actor, note)
            return "已签收"

        return act(token, csrf, name, action)

    @router.post("/{token}/rectified")
    def rectified(
        token: str, csrf: Text = "", name: Text = "", note: Text = ""
    ) -> RedirectResponse:
        reported: list[int] = []

        def action(session: Session, task: Task, actor: str) -> str:
            services.desk.report_rectified(session, task.id, actor, note)
            reported.append(task.id)
            return "整改说明已报送，系统正在复核"

        response = act(token, csrf, name, action)
        if reported and on_rectified is not None:
            on_rectified(reported[0])  # after the commit: the verification sees the change
        return response

    @router.post("/{token}/extension")
    def extension(
        token: str,
        csrf: Text = "",
        name: Text = "",
        days: Annotated[int, Form()] = 0,
        reason: Text = "",
    ) -> RedirectResponse:
        def action(session: Session, task: Task, actor: str) -> str:
            services.desk.request_extension(session, task.id, actor, days, reason)
            return "延期申请已提交，等待督办人员审批"

        return act(token, csrf, name, action)

    @router.post("/{token}/dispute")
    def dispute(
        token: str, csrf: Text = "", name: Text = "", reason: Text = ""
    ) -> RedirectResponse:
        def action(session: Session, task: Task, actor: str) -> str:
            services.desk.dispute(session, task.id, actor, reason)
            return "申诉已提交，等待督办人员审核"

        return act(token, csrf, name, action)

    @router.post("/{token}/maintenance")
    def maintenance(
        token: str,
        csrf: Text = "",
        name: Text = "",
        start: Text = "",
        end: Text = "",
        reason: Text = "",
    ) -> RedirectResponse:
        def action(session: Session, task: Task, actor: str) -> str:
            begins, ends = _moment(start, services), _moment(end, services)
            window = services.maintenance.request(session, task.id, actor, begins, ends, reason)
            return f"维护窗口申报 #{window.id} 已提交，等待督办人员审批；批准前照常巡检"

        return act(token, csrf, name, action)

    return router


def evidence_file(services: Services, run: object, kind: str, index: int) -> FileResponse:
    """One evidence file of ``run`` (screenshot, HTML snapshot or trace)."""
    files = getattr(run, "evidence", None) or {}
    listed = files.get(kind, []) if kind in ("screenshots", "html", "traces") else []
    if not 0 <= index < len(listed):
        raise HTTPException(404, "没有该证据文件")
    path = services.evidence.absolute(listed[index])
    if not path.is_file():
        raise HTTPException(404, "证据文件已按存储上限清理")
    media = {"screenshots": "image/png", "html": "text/plain; charset=utf-8"}
    return FileResponse(path, media_type=media.get(kind, "application/zip"), filename=path.name)


def _moment(text: str, services: Services) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise TaskError(f"时间格式有误：{text}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=services.zone)


def _back(token: str, *, done: str = "", error: str = "") -> RedirectResponse:
    query = f"done={quote(done)}" if done else f"error={quote(error)}"
    return RedirectResponse(f"/u/{token}?{query}", status_code=303)
