"""Publishing the month's 通报 to the public pages (opt-in per month).

Only a supervisor who sees every unit may publish: the public 通报 ranks all of them. The
rules (a finished month, once, frozen) are those of ``tasks.bulletins``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from bot.console.auth import ConsoleAuth, Viewer, get_auth, page_viewer
from bot.console.figures import local_today
from bot.console.outcomes import SignedOutcomes
from bot.console.task_pages import deciding
from bot.services import Services
from bot.web_state import get_services, get_templates
from tasks.bulletins import BulletinError, publish_bulletin, published_bulletins
from tasks.scorecard import Month

Text = Annotated[str, Form()]
PAGE = "/console/bulletins"
router = APIRouter(prefix=PAGE)


def get_notices(services: Services = Depends(get_services)) -> SignedOutcomes:
    return SignedOutcomes(services.settings.signing_key(), salt="govpatrol.bulletins")


def may_publish(viewer: Viewer) -> bool:
    return viewer.can_decide and viewer.units is None


@router.get("", response_class=HTMLResponse)
def bulletins(
    request: Request,
    msg: str = "",
    viewer: Viewer = Depends(page_viewer),
    services: Services = Depends(get_services),
    templates: Jinja2Templates = Depends(get_templates),
    notices: SignedOutcomes = Depends(get_notices),
) -> Response:
    with services.sessions() as session:
        published = [
            (b.month, b.published_at.astimezone(services.zone), b.published_by)
            for b in published_bulletins(session)
        ]
    today = local_today(services)
    last = Month(today.year - (today.month == 1), (today.month - 2) % 12 + 1)
    shown = notices.shown(msg)
    return templates.TemplateResponse(
        request,
        "console/bulletins.html",
        {
            "viewer": viewer,
            "nav": "bulletins",
            "csrf": viewer.csrf,
            "published": published,
            "may_publish": may_publish(viewer),
            "last_month": str(last),
            "done": shown.get("done", ""),
            "error": shown.get("error", ""),
        },
    )


@router.post("/publish")
def publish(
    csrf: Text = "",
    month: Text = "",
    viewer: Viewer = Depends(page_viewer),
    services: Services = Depends(get_services),
    auth: ConsoleAuth = Depends(get_auth),
    notices: SignedOutcomes = Depends(get_notices),
) -> RedirectResponse:
    deciding(auth, viewer, csrf)
    if not may_publish(viewer):
        raise HTTPException(403, "只有可查看全部责任单位的督办人员可以发布通报")
    try:
        chosen = Month.parse(month)
        with services.sessions.begin() as session:
            publish_bulletin(
                session,
                services.catalog,
                services.calendar,
                services.zone,
                chosen,
                viewer.actor.name,
                services.clock.now(),
            )
    except (ValueError, BulletinError) as exc:
        return notices.redirect(PAGE, error=str(exc))
    return notices.redirect(PAGE, done=f"已公开发布 {chosen} 通报，数据已固定")
