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

from fastapi import APIRouter, Depends, FastAPI, Form, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session

from bot.query_bounds import Index, RowId
from bot.services import Services
from bot.task_view import evidence_file, shown_runs, task_context
from bot.web_state import get_services, get_templates
from tasks.lifecycle import Actor, Role, TaskError
from tasks.links import LinkClaims, LinkError, TaskLinks
from tasks.models import Task

OnRectified = Callable[[int], None]
Text = Annotated[str, Form()]
router = APIRouter(prefix="/u")


class UnitForms:
    """The token every unit form carries: an HMAC of the link under a key derived once from
    the product key, so another site cannot post on the contact's behalf."""

    def __init__(self, signing_key: str) -> None:
        self._key = hashlib.sha256(("csrf:" + signing_key).encode()).digest()

    def token_for(self, link: str) -> str:
        return hmac.new(self._key, link.encode(), hashlib.sha256).hexdigest()

    def require(self, link: str, sent: str) -> None:
        if not hmac.compare_digest(sent, self.token_for(link)):
            raise HTTPException(403, "表单已失效，请刷新页面后重试")


def mount_unit_pages(app: FastAPI, signing_key: str, on_rectified: OnRectified | None) -> None:
    """Add the unit pages to ``app``; ``on_rectified(task_id)`` starts a verification."""
    app.state.unit_forms = UnitForms(signing_key)
    app.state.on_rectified = on_rectified
    app.include_router(router)


def get_unit_forms(request: Request) -> UnitForms:
    forms: UnitForms = request.app.state.unit_forms
    return forms


def get_on_rectified(request: Request) -> OnRectified | None:
    on_rectified: OnRectified | None = request.app.state.on_rectified
    return on_rectified


@router.get("/{token}", response_class=HTMLResponse)
def page(
    request: Request,
    token: str,
    done: str = "",
    error: str = "",
    services: Services = Depends(get_services),
    templates: Jinja2Templates = Depends(get_templates),
    forms: UnitForms = Depends(get_unit_forms),
) -> HTMLResponse:
    found = claims(services.links, token)
    with services.sessions() as session:
        task = task_for(session, found)
        context = task_context(services, session, task, f"/u/{token}/evidence")
    context.update(token=token, csrf=forms.token_for(token), done=done, error=error)
    return templates.TemplateResponse(request, "unit_task.html", context)


@router.get("/{token}/evidence/{run_id}/{kind}/{index}")
def evidence(
    token: str,
    run_id: RowId,
    kind: str,
    index: Index,
    services: Services = Depends(get_services),
) -> FileResponse:
    found = claims(services.links, token)
    with services.sessions() as session:
        task = task_for(session, found)
        runs = shown_runs(session, task)
    return evidence_file(services.evidence, runs.get(run_id), kind, index)


@router.post("/{token}/acknowledge")
def acknowledge(
    token: str,
    csrf: Text = "",
    name: Text = "",
    note: Text = "",
    services: Services = Depends(get_services),
    forms: UnitForms = Depends(get_unit_forms),
) -> RedirectResponse:
    def action(session: Session, task: Task, actor: Actor) -> str:
        services.desk.acknowledge(session, task.id, actor, note)
        return "已签收"

    return act(services, forms, token, csrf, name, action)


@router.post("/{token}/rectified")
def rectified(
    token: str,
    csrf: Text = "",
    name: Text = "",
    note: Text = "",
    services: Services = Depends(get_services),
    forms: UnitForms = Depends(get_unit_forms),
    on_rectified: OnRectified | None = Depends(get_on_rectified),
) -> RedirectResponse:
    reported: list[int] = []

    def action(session: Session, task: Task, actor: Actor) -> str:
        services.desk.report_rectified(session, task.id, actor, note)
        reported.append(task.id)
        return "整改说明已报送，系统正在复核"

    response = act(services, forms, token, csrf, name, action)
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
    services: Services = Depends(get_services),
    forms: UnitForms = Depends(get_unit_forms),
) -> RedirectResponse:
    def action(session: Session, task: Task, actor: Actor) -> str:
        services.desk.request_extension(session, task.id, actor, days, reason)
        return "延期申请已提交，等待督办人员审批"

    return act(services, forms, token, csrf, name, action)


@router.post("/{token}/dispute")
def dispute(
    token: str,
    csrf: Text = "",
    name: Text = "",
    reason: Text = "",
    services: Services = Depends(get_services),
    forms: UnitForms = Depends(get_unit_forms),
) -> RedirectResponse:
    def action(session: Session, task: Task, actor: Actor) -> str:
        services.desk.dispute(session, task.id, actor, reason)
        return "申诉已提交，等待督办人员审核"

    return act(services, forms, token, csrf, name, action)


@router.post("/{token}/maintenance")
def maintenance(
    token: str,
    csrf: Text = "",
    name: Text = "",
    start: Text = "",
    end: Text = "",
    reason: Text = "",
    services: Services = Depends(get_services),
    forms: UnitForms = Depends(get_unit_forms),
) -> RedirectResponse:
    def action(session: Session, task: Task, actor: Actor) -> str:
        begins, ends = _moment(start, services), _moment(end, services)
        window = services.maintenance.request(session, task.id, actor.name, begins, ends, reason)
        return f"维护窗口申报 #{window.id} 已提交，等待督办人员审批；批准前照常巡检"

    return act(services, forms, token, csrf, name, action)


def act(
    services: Services,
    forms: UnitForms,
    token: str,
    csrf: str,
    name: str,
    action: Callable[[Session, Task, Actor], str],
) -> RedirectResponse:
    """Run ``action`` on the link's task in one transaction, as the named contact of its
    unit, and go back to the page with what was done or what went wrong."""
    found = claims(services.links, token)
    forms.require(token, csrf)
    if not name.strip():
        return _back(token, error="请填写经办人姓名")
    try:
        with services.sessions.begin() as session:
            task = task_for(session, found)
            unit = services.directory.unit_name(task.unit_code)
            done = action(session, task, Actor(f"{name.strip()}（{unit}）", Role.UNIT))
    except TaskError as exc:
        return _back(token, error=str(exc))
    return _back(token, done=done)


def claims(links: TaskLinks, token: str) -> LinkClaims:
    try:
        return links.verify(token)
    except LinkError as exc:
        raise HTTPException(403, f"{exc}，请使用最新通知中的链接。") from None


def task_for(session: Session, found: LinkClaims) -> Task:
    task = session.get(Task, found.task_id)
    if task is None or task.unit_code != found.unit_code:
        raise HTTPException(404, "没有该整改任务")
    return task


def _moment(text: str, services: Services) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise TaskError(f"时间格式有误：{text}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=services.zone)


def _back(token: str, *, done: str = "", error: str = "") -> RedirectResponse:
    query = f"done={quote(done)}" if done else f"error={quote(error)}"
    return RedirectResponse(f"/u/{token}?{query}", status_code=303)
