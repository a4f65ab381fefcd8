"""The read-only JSON API under /api: tasks, runs, units, scorecards.

People use their session cookie, machines a bearer token (``govpatrol user token``);
both see only their units. The OpenAPI document is at /api/openapi.json, behind the
same authentication.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import func, select

from bot.console.api_models import (
    HistoryEntry,
    RequestEntry,
    RunList,
    RunOut,
    ScorecardOut,
    TaskDetail,
    TaskList,
    TaskSummary,
    UnitOut,
)
from bot.console.auth import ConsoleAuth, Viewer, api_viewer
from bot.console.exports import parse_month, scorecards
from bot.console.figures import local_today, overview
from bot.console.indicator_pages import indicator_month
from bot.console.listing import ORDERS, Sort, Status, TaskFilter, check_probes, task_query
from bot.query_bounds import Offset, RowId, supported_moment
from bot.services import Services
from bot.web_state import get_services, share
from config.catalog import Severity, UnitLevel
from tasks.models import CheckRow, Run, TargetRow, Task, TaskState

MAX_LIMIT = 500
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]
router = APIRouter()


def api_app(services: Services, auth: ConsoleAuth) -> FastAPI:
    """The /api app; mounted apart so its errors stay JSON and its OpenAPI its own."""
    app = FastAPI(
        title="govpatrol API",
        version="1",
        description="政务服务巡检：整改任务、巡检记录、责任单位与月度通报（只读）",
        servers=[{"url": "/api"}],
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
        dependencies=[Depends(api_viewer)],
    )
    # A mounted app answers with its own ``app.state``: it holds what the handlers fetch.
    share(app, services)
    app.state.console_auth = auth
    app.include_router(router, responses={400: {"description": "参数有误或超出范围"}})
    app.exception_handler(RequestValidationError)(invalid_parameters)
    return app


def invalid_parameters(request: Request, exc: RequestValidationError) -> JSONResponse:
    """400 naming the parameters that are missing, malformed or out of range."""
    fields = "、".join(str(err["loc"][-1]) for err in exc.errors())
    return JSONResponse({"detail": f"请求参数有误或超出范围：{fields}"}, status_code=400)


@router.get("/openapi.json", include_in_schema=False)
def openapi(request: Request) -> JSONResponse:
    return JSONResponse(request.app.openapi())


@router.get("/tasks", response_model=TaskList, summary="整改任务列表")
def tasks(
    status: Status = Status.ACTIVE,
    unit: str = "",
    level: UnitLevel | None = None,
    probe: str = "",
    severity: Severity | None = None,
    sort: Sort = Sort.MOST_OVERDUE,
    limit: Limit = 100,
    offset: Offset = 0,
    viewer: Viewer = Depends(api_viewer),
    services: Services = Depends(get_services),
) -> TaskList:
    if unit and not viewer.sees(unit):
        raise HTTPException(404, "没有该责任单位")
    wanted = TaskFilter(
        status=status,
        unit=unit,
        level=level.value if level else "",
        probe=probe,
        severity=severity.value if severity else "",
        sort=sort,
    )
    query = task_query(services, wanted, viewer.units)
    probes = check_probes(services)
    with services.sessions() as session:
        total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
        found = session.scalars(query.order_by(*ORDERS[sort]).offset(offset).limit(limit)).all()
        items = [summary(services, task, probes) for task in found]
    return TaskList(total=total, items=items)


@router.get("/tasks/{task_id}", response_model=TaskDetail, summary="整改任务详情")
def task(
    task_id: RowId,
    viewer: Viewer = Depends(api_viewer),
    services: Services = Depends(get_services),
) -> TaskDetail:
    with services.sessions() as session:
        found = session.get(Task, task_id)
        if found is None or not viewer.sees(found.unit_code):
            raise HTTPException(404, "没有该整改任务")
        return TaskDetail(
            **summary(services, found, check_probes(services)).model_dump(),
            history=[
                HistoryEntry(
                    at=row.at,
                    actor=row.actor,
                    action=row.action,
                    from_state=row.from_state,
                    to_state=row.to_state,
                    reason=row.reason,
                )
                for row in found.history
            ],
            requests=[
                RequestEntry(
                    id=req.id,
                    kind=req.kind,
                    state=req.state,
                    days=req.days,
                    reason=req.reason,
                    requested_by=req.requested_by,
                    requested_at=req.requested_at,
                    decided_by=req.decided_by,
                    decided_at=req.decided_at,
                    decision_note=req.decision_note,
                )
                for req in services.desk.requests(session, task_id)
            ],
        )


@router.get("/runs", response_model=RunList, summary="巡检记录")
def runs(
    check_id: str = "",
    outcome: str = "",
    since: dt.datetime | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
    viewer: Viewer = Depends(api_viewer),
    services: Services = Depends(get_services),
) -> RunList:
    query = select(Run)
    if viewer.units is not None:
        in_scope = (
            select(CheckRow.id)
            .join(TargetRow, TargetRow.key == CheckRow.target_key)
            .where(TargetRow.unit_code.in_(sorted(viewer.units)))
        )
        query = query.where(Run.check_id.in_(in_scope))
    if check_id:
        query = query.where(Run.check_id == check_id)
    if outcome:
        query = query.where(Run.outcome == outcome)
    if since is not None:
        query = query.where(Run.finished_at >= supported_moment(since))
    with services.sessions() as session:
        total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
        found = session.scalars(query.order_by(Run.id.desc()).offset(offset).limit(limit))
        items = [RunOut.of(run) for run in found]
    return RunList(total=total, items=items)


@router.get("/units", response_model=list[UnitOut], summary="责任单位")
def units(
    viewer: Viewer = Depends(api_viewer), services: Services = Depends(get_services)
) -> list[UnitOut]:
    with services.sessions() as session:
        figures = {f.unit_code: f for f in overview(services, session, viewer.units).units}
    return [
        UnitOut(
            code=unit.code,
            name=unit.name,
            level=unit.level.value,
            parent=unit.parent,
            open_tasks=figures[unit.code].open if unit.code in figures else 0,
            overdue_tasks=figures[unit.code].overdue if unit.code in figures else 0,
        )
        for unit in services.catalog.units
        if viewer.sees(unit.code)
    ]


@router.get("/scorecards", response_model=list[ScorecardOut], summary="月度通报记分")
def scorecard_list(
    month: str = "",
    viewer: Viewer = Depends(api_viewer),
    services: Services = Depends(get_services),
) -> list[ScorecardOut]:
    chosen = parse_month(services, month)
    cards = scorecards(services, chosen, viewer)
    reports = indicator_month(services, chosen).units
    return [
        ScorecardOut.of(card, str(chosen), rank, reports.get(card.unit_code))
        for rank, card in enumerate(cards, 1)
    ]


def summary(services: Services, task: Task, probes: dict[str, str]) -> TaskSummary:
    state = TaskState(task.state)
    today = local_today(services)
    left = services.calendar.working_days_left(today, task.deadline) if state.active else None
    probe = probes.get(task.check_id, "")
    return TaskSummary(
        id=task.id,
        unit_code=task.unit_code,
        unit_name=services.directory.unit_name(task.unit_code),
        check_id=task.check_id,
        probe=probe,
        finding_code=task.finding_code,
        severity=task.severity,
        title=task.title,
        detail=task.detail,
        state=task.state,
        state_label=state.label,
        opened_at=task.opened_at,
        deadline=task.deadline,
        deadline_estimated=task.deadline_estimated,
        days_left=left,
        overdue=left is not None and left < 0,
        closed_at=task.closed_at,
        occurrences=task.occurrences,
        console_path=f"/console/tasks/{task.id}",
    )
