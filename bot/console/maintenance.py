"""Maintenance windows in the console: the units' requests waiting for a decision, the
windows in force or ahead, and each window's record. Supervisors approve, refuse or
cancel; the signed-in account is recorded as the actor. The rules are those of
``tasks.maintenance``; this module only shows and forwards.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session

from bot.console.auth import ConsoleAuth, Viewer, get_auth, page_viewer
from bot.console.outcomes import SignedOutcomes
from bot.console.task_pages import deciding
from bot.maintenance_view import window_rows
from bot.services import Services
from bot.web_state import get_services, get_templates
from tasks.maintenance import MaintenanceError
from tasks.models import MaintenanceWindow

Text = Annotated[str, Form()]
PAGE = "/console/maintenance"


router = APIRouter(prefix=PAGE)


class WindowNotices(SignedOutcomes):
    """What a decision did, carried to the maintenance page in the redirect."""

    def __init__(self, signing_key: str) -> None:
        super().__init__(signing_key, salt="govpatrol.maintenance")

    def back(self, target: str, *, done: str = "", error: str = "") -> RedirectResponse:
        where = f"{PAGE}?target={target}" if target else PAGE
        return self.redirect(where, done=done, error=error)


def get_window_notices(request: Request) -> WindowNotices:
    notices: WindowNotices = request.app.state.window_notices
    return notices


@router.get("", response_class=HTMLResponse)
def page(
    request: Request,
    target: str = "",
    ended: bool = False,
    msg: str = "",
    viewer: Viewer = Depends(page_viewer),
    services: Services = Depends(get_services),
    templates: Jinja2Templates = Depends(get_templates),
    notices: WindowNotices = Depends(get_window_notices),
) -> Response:
    scope = targets_of(services, viewer)
    if target:
        if target not in scope:
            raise HTTPException(404, "没有该巡检对象")
        scope = [target]
    with services.sessions() as session:
        rows = window_rows(services, session, scope, include_ended=ended)
    shown = notices.shown(msg)
    return templates.TemplateResponse(
        request,
        "console/maintenance.html",
        {
            "viewer": viewer,
            "nav": "maintenance",
            "csrf": viewer.csrf,
            "target": target,
            "target_name": services.catalog.target(target).name if target else "",
            "ended": ended,
            "pending": [row for row in rows if row.pending],
            "windows": [row for row in rows if not row.pending],
            "done": shown.get("done", ""),
            "error": shown.get("error", ""),
        },
    )


@router.post("/{window_id}/decide")
def decide(
    window_id: int,
    csrf: Text = "",
    decision: Text = "",
    note: Text = "",
    target: Text = "",
    viewer: Viewer = Depends(page_viewer),
    services: Services = Depends(get_services),
    auth: ConsoleAuth = Depends(get_auth),
    notices: WindowNotices = Depends(get_window_notices),
) -> RedirectResponse:
    deciding(auth, viewer, csrf)
    if decision not in ("approve", "refuse"):
        raise HTTPException(400, "未知的审批结果")
    actor = viewer.actor.name
    try:
        with services.sessions.begin() as session:
            visible(services, session, window_id, viewer)
            if decision == "approve":
                services.maintenance.approve(session, window_id, actor, note.strip())
                done = f"已批准维护窗口 #{window_id}，期间不巡检、不立案"
            else:
                services.maintenance.refuse(session, window_id, actor, note.strip())
                done = f"维护窗口 #{window_id} 不予批准，照常巡检"
    except MaintenanceError as exc:
        return notices.back(target, error=str(exc))
    return notices.back(target, done=done)


@router.post("/{window_id}/cancel")
def cancel(
    window_id: int,
    csrf: Text = "",
    reason: Text = "",
    target: Text = "",
    viewer: Viewer = Depends(page_viewer),
    services: Services = Depends(get_services),
    auth: ConsoleAuth = Depends(get_auth),
    notices: WindowNotices = Depends(get_window_notices),
) -> RedirectResponse:
    deciding(auth, viewer, csrf)
    try:
        with services.sessions.begin() as session:
            visible(services, session, window_id, viewer)
            services.maintenance.cancel(session, window_id, viewer.actor.name, reason)
    except MaintenanceError as exc:
        return notices.back(target, error=str(exc))
    return notices.back(target, done=f"维护窗口 #{window_id} 已取消，恢复巡检")


def targets_of(services: Services, viewer: Viewer) -> list[str]:
    return [t.key for t in services.catalog.targets if viewer.sees(t.unit)]


def visible(
    services: Services, session: Session, window_id: int, viewer: Viewer
) -> MaintenanceWindow:
    window = session.get(MaintenanceWindow, window_id)
    if window is None or window.target_key not in targets_of(services, viewer):
        raise HTTPException(404, "没有该维护窗口")
    return window
