"""Campaigns (专项整改) in the console: the list, the supervisor's form that creates one,
and each campaign's progress per unit. The rules are those of ``tasks.campaigns``; this
module only shows and forwards. A supervisor limited to a unit creates campaigns within
that unit's subtree and sees the progress of its own units only.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from bot.console.auth import ConsoleAuth, Viewer, get_auth, page_viewer
from bot.console.figures import local_today
from bot.console.outcomes import SignedOutcomes
from bot.console.task_pages import deciding
from bot.query_bounds import RowId
from bot.services import Services
from bot.web_state import get_services, get_templates
from tasks.campaigns import (
    PROGRESS_COLUMNS,
    CampaignError,
    CampaignScope,
    campaign_progress,
    create_campaign,
    get_campaign,
    list_campaigns,
    scope_text,
    unit_names,
)
from tasks.models import Campaign

Text = Annotated[str, Form()]
PAGE = "/console/campaigns"
router = APIRouter(prefix=PAGE)


def get_notices(services: Services = Depends(get_services)) -> SignedOutcomes:
    return SignedOutcomes(services.settings.signing_key(), salt="govpatrol.campaigns")


@router.get("", response_class=HTMLResponse)
def campaigns(
    request: Request,
    msg: str = "",
    viewer: Viewer = Depends(page_viewer),
    services: Services = Depends(get_services),
    templates: Jinja2Templates = Depends(get_templates),
    notices: SignedOutcomes = Depends(get_notices),
) -> Response:
    names = unit_names(services.catalog)
    with services.sessions() as session:
        rows = [(c, scope_text(c, names)) for c in list_campaigns(session) if sees(viewer, c)]
    today = local_today(services)
    shown = notices.shown(msg)
    return templates.TemplateResponse(
        request,
        "console/campaigns.html",
        {
            "viewer": viewer,
            "nav": "campaigns",
            "csrf": viewer.csrf,
            "rows": rows,
            "units": [u for u in services.catalog.units if viewer.sees(u.code)],
            "checks": [
                ident for ident, target, _ in services.catalog.checks() if viewer.sees(target.unit)
            ],
            "today": today.isoformat(),
            "done": shown.get("done", ""),
            "error": shown.get("error", ""),
        },
    )


@router.post("")
def create(
    csrf: Text = "",
    name: Text = "",
    deadline: Text = "",
    starts_on: Text = "",
    ends_on: Text = "",
    unit: Text = "",
    checks: Annotated[list[str] | None, Form()] = None,
    codes: Text = "",
    note: Text = "",
    viewer: Viewer = Depends(page_viewer),
    services: Services = Depends(get_services),
    auth: ConsoleAuth = Depends(get_auth),
    notices: SignedOutcomes = Depends(get_notices),
) -> RedirectResponse:
    deciding(auth, viewer, csrf)
    if viewer.units is not None:
        unit = unit or (viewer.unit_code or "")
        if not viewer.sees(unit):
            raise HTTPException(404, "没有该责任单位")
    try:
        scope = CampaignScope(
            name=name,
            deadline=dt.date.fromisoformat(deadline),
            starts_on=dt.date.fromisoformat(starts_on),
            ends_on=dt.date.fromisoformat(ends_on),
            unit_code=unit or None,
            checks=tuple(c for c in checks or () if c),
            finding_codes=tuple(codes.replace("，", ",").replace("\n", ",").split(",")),
            note=note,
        )
    except ValueError:
        return notices.redirect(PAGE, error="日期格式应为 2026-11-30")
    try:
        with services.sessions.begin() as session:
            made = create_campaign(
                session, services.catalog, scope, viewer.actor.name, services.clock.now()
            )
            ident = made.id
    except CampaignError as exc:
        return notices.redirect(PAGE, error=str(exc))
    return notices.redirect(
        f"{PAGE}/{ident}", done=f"已创建专项整改 #{ident}，统一整改时限 {scope.deadline}"
    )


@router.get("/{campaign_id}", response_class=HTMLResponse)
def campaign(
    request: Request,
    campaign_id: RowId,
    msg: str = "",
    viewer: Viewer = Depends(page_viewer),
    services: Services = Depends(get_services),
    templates: Jinja2Templates = Depends(get_templates),
    notices: SignedOutcomes = Depends(get_notices),
) -> Response:
    names = unit_names(services.catalog)
    today = local_today(services)
    with services.sessions() as session:
        try:
            found = get_campaign(session, campaign_id)
        except CampaignError:
            raise HTTPException(404, "没有该专项整改") from None
        if not sees(viewer, found):
            raise HTTPException(404, "没有该专项整改")
        progress = campaign_progress(session, found, names, services.zone, today, viewer.units)
        scope = scope_text(found, names)
    shown = notices.shown(msg)
    return templates.TemplateResponse(
        request,
        "console/campaign.html",
        {
            "viewer": viewer,
            "nav": "campaigns",
            "campaign": found,
            "scope": scope,
            "progress": progress,
            "columns": PROGRESS_COLUMNS,
            "today": today,
            "done": shown.get("done", ""),
        },
    )


def sees(viewer: Viewer, campaign: Campaign) -> bool:
    """A campaign over all units, or over some unit the viewer sees."""
    return viewer.units is None or not campaign.units or bool(viewer.units & set(campaign.units))
