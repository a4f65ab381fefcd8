"""The supervisor's pages: overview, task list, target board and target pages, units and
the monthly ranking.

Every page filters to the viewer's units; every value from a probed page goes through
Jinja2 autoescaping (no ``|safe`` on such data anywhere in ``templates/console``).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from bot.console.auth import Viewer, page_viewer
from bot.console.charts import check_charts
from bot.console.exports import parse_month, scorecards
from bot.console.figures import DayCount, local_today, month_start, overview, target_board
from bot.console.listing import (
    LEVEL_LABELS,
    SEVERITY_LABELS,
    SORT_LABELS,
    STATUS_LABELS,
    Sort,
    Status,
    TaskFilter,
    task_page,
)
from bot.services import Services
from bot.task_view import OUTCOME_LABELS, local_time
from bot.web_state import get_services, get_templates
from config.catalog import PROBE_LABELS, ContactRole
from tasks.availability import Availability, availability_by_location, check_history
from tasks.scorecard import Month, board_names

CONTACT_ROLES = {
    ContactRole.CONTACT.value: "联系人",
    ContactRole.LEADER.value: "分管领导",
    ContactRole.SUPERVISOR.value: "督办人员",
}
TREND_HEIGHT = 120
TREND_BAR = 20
router = APIRouter(prefix="/console")


@router.get("", response_class=HTMLResponse)
def home(
    request: Request,
    viewer: Viewer = Depends(page_viewer),
    services: Services = Depends(get_services),
    templates: Jinja2Templates = Depends(get_templates),
) -> Response:
    with services.sessions() as session:
        figures = overview(services, session, viewer.units)
    return render(
        templates,
        request,
        viewer,
        "overview",
        figures=figures,
        bars=trend_bars(figures.trend),
    )


@router.get("/tasks", response_class=HTMLResponse)
def tasks(
    request: Request,
    viewer: Viewer = Depends(page_viewer),
    services: Services = Depends(get_services),
    templates: Jinja2Templates = Depends(get_templates),
) -> Response:
    wanted = TaskFilter.parse(dict(request.query_params))
    if wanted.unit and not viewer.sees(wanted.unit):
        raise HTTPException(404, "没有该责任单位")
    with services.sessions() as session:
        found = task_page(services, session, wanted, viewer.units)
    return render(
        templates,
        request,
        viewer,
        "tasks",
        found=found,
        wanted=wanted,
        statuses=STATUS_LABELS,
        levels=LEVEL_LABELS,
        probes=PROBE_LABELS,
        severities=SEVERITY_LABELS,
        sorts=SORT_LABELS,
        units=[u for u in services.catalog.units if viewer.sees(u.code)],
        sort_most=Sort.MOST_OVERDUE,
        sort_least=Sort.LEAST_OVERDUE,
        overdue_status=Status.OVERDUE,
    )


@router.get("/overdue")
def overdue(viewer: Viewer = Depends(page_viewer)) -> RedirectResponse:
    return RedirectResponse("/console/tasks?status=overdue", status_code=303)


@router.get("/targets", response_class=HTMLResponse)
def targets(
    request: Request,
    viewer: Viewer = Depends(page_viewer),
    services: Services = Depends(get_services),
    templates: Jinja2Templates = Depends(get_templates),
) -> Response:
    with services.sessions() as session:
        rows = target_board(services, session, viewer.units)
    return render(
        templates,
        request,
        viewer,
        "targets",
        rows=rows,
        unit_name=services.directory.unit_name,
        probes=PROBE_LABELS,
        outcomes=OUTCOME_LABELS,
        when=lambda moment: local_time(moment, services.zone) if moment else "—",
    )


@router.get("/targets/{key}", response_class=HTMLResponse)
def target(
    request: Request,
    key: str,
    viewer: Viewer = Depends(page_viewer),
    services: Services = Depends(get_services),
    templates: Jinja2Templates = Depends(get_templates),
) -> Response:
    """One target: this month's availability, and per check a 30-day chart of
    availability and of run duration (p50, p95)."""
    try:
        found = services.catalog.target(key)
    except KeyError:
        raise HTTPException(404, "没有该巡检对象") from None
    if not viewer.sees(found.unit):
        raise HTTPException(404, "没有该巡检对象")
    today = local_today(services)
    checks = [(ident, check) for ident, spec, check in services.catalog.checks() if spec is found]
    with services.sessions() as session:
        by_location = availability_by_location(
            session, month_start(services, today), services.clock.now(), [key]
        ).get(key, {})
        histories = check_history(session, services.zone, [ident for ident, _ in checks], today)
    charts = [
        (history, *check_charts(history, PROBE_LABELS.get(check.probe, check.probe)))
        for (ident, check), history in zip(checks, histories, strict=True)
    ]
    return templates.TemplateResponse(
        request,
        "console/target.html",
        {
            "viewer": viewer,
            "nav": "targets",
            "target": found,
            "unit_name": services.directory.unit_name(found.unit),
            "month": Availability(
                sum(f.counted for f in by_location.values()),
                sum(f.available for f in by_location.values()),
            ),
            "locations": by_location,
            "charts": charts,
            "seconds": lambda ms: "—" if ms is None else f"{ms / 1000:.1f}s",
        },
    )


@router.get("/units", response_class=HTMLResponse)
def units(
    request: Request,
    viewer: Viewer = Depends(page_viewer),
    services: Services = Depends(get_services),
    templates: Jinja2Templates = Depends(get_templates),
) -> Response:
    with services.sessions() as session:
        figures = {f.unit_code: f for f in overview(services, session, viewer.units).units}
    listed = [u for u in services.catalog.units if viewer.sees(u.code)]
    return render(
        templates,
        request,
        viewer,
        "units",
        units=listed,
        figures=figures,
        levels=LEVEL_LABELS,
        unit_name=services.directory.unit_name,
    )


@router.get("/units/{code}", response_class=HTMLResponse)
def unit(
    request: Request,
    code: str,
    viewer: Viewer = Depends(page_viewer),
    services: Services = Depends(get_services),
    templates: Jinja2Templates = Depends(get_templates),
) -> Response:
    try:
        found = services.catalog.unit(code)
    except KeyError:
        raise HTTPException(404, "没有该责任单位") from None
    if not viewer.sees(code):
        raise HTTPException(404, "没有该责任单位")
    today = local_today(services)
    month = Month(today.year, today.month)
    with services.sessions() as session:
        checks = target_board(services, session, {code})
        active = task_page(services, session, TaskFilter(unit=code), viewer.units)
    card = next((c for c in scorecards(services, month, viewer) if c.unit_code == code), None)
    return render(
        templates,
        request,
        viewer,
        "unit",
        unit=found,
        levels=LEVEL_LABELS,
        roles=CONTACT_ROLES,
        parent_name=services.directory.unit_name(found.parent) if found.parent else "",
        checks=checks,
        probes=PROBE_LABELS,
        outcomes=OUTCOME_LABELS,
        active=active,
        card=card,
        month=month,
        when=lambda moment: local_time(moment, services.zone) if moment else "—",
    )


@router.get("/ranking", response_class=HTMLResponse)
def ranking(
    request: Request,
    month: str = "",
    viewer: Viewer = Depends(page_viewer),
    services: Services = Depends(get_services),
    templates: Jinja2Templates = Depends(get_templates),
) -> Response:
    return render(templates, request, viewer, "ranking", **ranking_context(services, month, viewer))


@router.get("/ranking/print", response_class=HTMLResponse)
def ranking_print(
    request: Request,
    month: str = "",
    viewer: Viewer = Depends(page_viewer),
    services: Services = Depends(get_services),
    templates: Jinja2Templates = Depends(get_templates),
) -> Response:
    return templates.TemplateResponse(
        request, "console/ranking_print.html", ranking_context(services, month, viewer)
    )


def render(
    templates: Jinja2Templates, request: Request, viewer: Viewer, name: str, **context: Any
) -> Response:
    """The console page ``name`` with its navigation and the signed-in viewer."""
    return templates.TemplateResponse(
        request, f"console/{name}.html", {"viewer": viewer, "nav": name, **context}
    )


def ranking_context(services: Services, month: str, viewer: Viewer) -> dict[str, Any]:
    chosen = parse_month(services, month)
    cards = scorecards(services, chosen, viewer)
    return {
        "month": chosen,
        "cards": cards,
        "red": board_names(cards, red=True),
        "black": board_names(cards, red=False),
        "policy": services.catalog.scoring,
    }


def trend_bars(trend: list[DayCount]) -> list[dict[str, Any]]:
    """Bars of an inline SVG chart, one per day, scaled to the busiest day."""
    top = max((day.count for day in trend), default=0) or 1
    bars = []
    for n, day in enumerate(trend):
        height = round(day.count / top * (TREND_HEIGHT - 36))
        bars.append(
            {
                "x": n * TREND_BAR + 2,
                "y": TREND_HEIGHT - 16 - height,
                "height": height,
                "count": day.count,
                "day": day.day,
                "label": f"{day.day:%m-%d}" if n % 5 == 0 or n == len(trend) - 1 else "",
            }
        )
    return bars
