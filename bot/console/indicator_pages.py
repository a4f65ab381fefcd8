"""Indicator scores in the console: the month's ranking on the indicator system, one page
per unit and per target with its indicator tree, and the run pages the evidence links
to. Server-rendered, no script (the console's CSP forbids them)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.console.auth import Viewer, page_viewer
from bot.console.exports import parse_month
from bot.console.figures import local_today
from bot.query_bounds import Index, RowId
from bot.services import Services
from bot.task_view import OUTCOME_LABELS, evidence_file, local_time
from bot.web_state import get_services, get_templates
from config.catalog import PROBE_LABELS
from tasks.indicators import IndicatorMonth, IndicatorReport, monthly_indicators
from tasks.models import CheckRow, Run, TargetRow
from tasks.scorecard import Month

router = APIRouter(prefix="/console")


def indicator_month(services: Services, month: Month) -> IndicatorMonth:
    with services.sessions() as session:
        return monthly_indicators(
            session, services.catalog, services.zone, month, local_today(services)
        )


@router.get("/indicators", response_class=HTMLResponse)
def indicators(
    request: Request,
    month: str = "",
    viewer: Viewer = Depends(page_viewer),
    services: Services = Depends(get_services),
    templates: Jinja2Templates = Depends(get_templates),
) -> Response:
    """Every unit the viewer sees, best total first; units nothing applies to last."""
    chosen = parse_month(services, month)
    found = indicator_month(services, chosen)
    reports = [r for r in found.units.values() if viewer.sees(r.unit_code)]
    reports.sort(key=lambda r: (r.total is None, -(r.total or 0.0), r.key))
    return templates.TemplateResponse(
        request,
        "console/indicators.html",
        {
            "viewer": viewer,
            "nav": "indicators",
            "month": chosen,
            "system": found.system,
            "reports": reports,
            "heads": reports[0].top if reports else [],
        },
    )


@router.get("/indicators/units/{code}", response_class=HTMLResponse)
def unit_indicators(
    request: Request,
    code: str,
    month: str = "",
    viewer: Viewer = Depends(page_viewer),
    services: Services = Depends(get_services),
    templates: Jinja2Templates = Depends(get_templates),
) -> Response:
    chosen = parse_month(services, month)
    found = indicator_month(services, chosen)
    report = found.units.get(code)
    if report is None or not viewer.sees(code):
        raise HTTPException(404, "没有该责任单位")
    targets = [r for r in found.targets.values() if r.unit_code == code]
    return scope_page(templates, request, viewer, chosen, found, report, targets)


@router.get("/indicators/targets/{key}", response_class=HTMLResponse)
def target_indicators(
    request: Request,
    key: str,
    month: str = "",
    viewer: Viewer = Depends(page_viewer),
    services: Services = Depends(get_services),
    templates: Jinja2Templates = Depends(get_templates),
) -> Response:
    chosen = parse_month(services, month)
    found = indicator_month(services, chosen)
    report = found.targets.get(key)
    if report is None or not viewer.sees(report.unit_code):
        raise HTTPException(404, "没有该巡检对象")
    return scope_page(templates, request, viewer, chosen, found, report, [])


def scope_page(
    templates: Jinja2Templates,
    request: Request,
    viewer: Viewer,
    month: Month,
    found: IndicatorMonth,
    report: IndicatorReport,
    targets: list[IndicatorReport],
) -> Response:
    return templates.TemplateResponse(
        request,
        "console/indicator_scope.html",
        {
            "viewer": viewer,
            "nav": "indicators",
            "month": month,
            "system": found.system,
            "report": report,
            "rows": report.rows,
            "targets": targets,
            "heads": report.top,
            "unit_name": found.units[report.unit_code].name,
        },
    )


@router.get("/runs/{run_id}", response_class=HTMLResponse)
def run_page(
    request: Request,
    run_id: RowId,
    viewer: Viewer = Depends(page_viewer),
    services: Services = Depends(get_services),
    templates: Jinja2Templates = Depends(get_templates),
) -> Response:
    """One run (巡检记录): what it found and its evidence — what an indicator links to."""
    with services.sessions() as session:
        run, target_key, unit_code = visible_run(services, session, run_id, viewer)
        findings = [(f.code, f.title, f.detail) for f in run.findings]
        probe = session.scalar(select(CheckRow.probe).where(CheckRow.id == run.check_id)) or ""
        return templates.TemplateResponse(
            request,
            "console/run.html",
            {
                "viewer": viewer,
                "nav": "indicators",
                "run": run,
                "probe": PROBE_LABELS.get(probe, probe),
                "outcome": OUTCOME_LABELS.get(run.outcome, run.outcome),
                "started": local_time(run.started_at, services.zone),
                "findings": findings,
                "target_key": target_key,
                "unit_name": services.directory.unit_name(unit_code),
                "evidence": {
                    kind: len(run.evidence.get(kind, []))
                    for kind in ("screenshots", "html", "traces")
                },
            },
        )


@router.get("/runs/{run_id}/evidence/{kind}/{index}")
def run_evidence(
    run_id: RowId,
    kind: str,
    index: Index,
    viewer: Viewer = Depends(page_viewer),
    services: Services = Depends(get_services),
) -> FileResponse:
    with services.sessions() as session:
        run, _, _ = visible_run(services, session, run_id, viewer)
        return evidence_file(services.evidence, run, kind, index)


def visible_run(
    services: Services, session: Session, run_id: int, viewer: Viewer
) -> tuple[Run, str, str]:
    """The run, its target key and unit code; 404 unless the viewer sees that unit."""
    row = session.execute(
        select(Run, TargetRow.key, TargetRow.unit_code)
        .join(CheckRow, CheckRow.id == Run.check_id)
        .join(TargetRow, TargetRow.key == CheckRow.target_key)
        .where(Run.id == run_id)
    ).first()
    if row is None or not viewer.sees(row[2]):
        raise HTTPException(404, "没有该巡检记录")
    return row[0], row[1], row[2]
