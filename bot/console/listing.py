"""The console's task list: which tasks match the filters, in which order, a page at a time.

Days overdue fall as the deadline rises, so "most overdue first" is the deadline order
and the database sorts and pages it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any
from urllib.parse import urlencode

from fastapi import HTTPException
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from bot.console.figures import local_today, month_start
from bot.query_bounds import MAX_PAGE
from bot.services import Services
from config.catalog import PROBE_LABELS, Severity, UnitLevel
from config.units import subtree
from tasks.models import ACTIVE_STATES, CheckRow, Task, TaskState

PAGE_SIZE = 100


class Status(StrEnum):
    ACTIVE = "active"
    OVERDUE = "overdue"
    DUE_SOON = "due_soon"
    CLOSED_THIS_MONTH = "closed_month"
    ALL = "all"


class Sort(StrEnum):
    MOST_OVERDUE = "overdue"  # earliest deadline first
    LEAST_OVERDUE = "-overdue"
    NEWEST = "opened"
    UNIT = "unit"


ORDERS: dict[Sort, tuple[Any, ...]] = {
    Sort.MOST_OVERDUE: (Task.deadline, Task.id),
    Sort.LEAST_OVERDUE: (Task.deadline.desc(), Task.id.desc()),
    Sort.NEWEST: (Task.opened_at.desc(), Task.id.desc()),
    Sort.UNIT: (Task.unit_code, Task.deadline, Task.id),
}
SORT_LABELS = {
    Sort.MOST_OVERDUE: "超期最久在前",
    Sort.LEAST_OVERDUE: "超期最短在前",
    Sort.NEWEST: "最新发现在前",
    Sort.UNIT: "按责任单位",
}
STATUS_LABELS = {
    Status.ACTIVE: "在办",
    Status.OVERDUE: "已超期",
    Status.DUE_SOON: "1 个工作日内到期",
    Status.CLOSED_THIS_MONTH: "本月销号",
    Status.ALL: "全部",
}
LEVEL_LABELS: dict[str, str] = {
    UnitLevel.PROVINCE: "省级",
    UnitLevel.CITY: "市级",
    UnitLevel.COUNTY: "县级",
    UnitLevel.DEPARTMENT: "部门",
}
SEVERITY_LABELS: dict[str, str] = {
    Severity.CRITICAL: "严重",
    Severity.MAJOR: "一般",
    Severity.MINOR: "轻微",
}


@dataclass(frozen=True)
class TaskFilter:
    status: Status = Status.ACTIVE
    unit: str = ""  # this unit and the units below it
    level: str = ""  # unit level (province, city, county, department)
    probe: str = ""
    severity: str = ""
    sort: Sort = Sort.MOST_OVERDUE
    page: int = 1

    @classmethod
    def parse(cls, query: dict[str, str]) -> TaskFilter:
        """From query parameters; unknown values fall back to the defaults, a page number
        past :data:`MAX_PAGE` is refused (400)."""

        def pick(enum: Any, value: str, default: Any) -> Any:
            return enum(value) if value in {e.value for e in enum} else default

        try:
            page = max(1, int(query.get("page", "1")))
        except ValueError:
            page = 1
        if page > MAX_PAGE:
            raise HTTPException(400, f"页码超出范围：最大为 {MAX_PAGE}")
        return cls(
            status=pick(Status, query.get("status", ""), Status.ACTIVE),
            unit=query.get("unit", ""),
            level=pick(UnitLevel, query.get("level", ""), ""),
            probe=query.get("probe", "") if query.get("probe") in PROBE_LABELS else "",
            severity=pick(Severity, query.get("severity", ""), ""),
            sort=pick(Sort, query.get("sort", ""), Sort.MOST_OVERDUE),
            page=page,
        )

    def query_string(self, **changes: Any) -> str:
        """This filter as query parameters, with ``changes`` applied."""
        changed = replace(self, **changes)
        params = {
            "status": changed.status.value,
            "unit": changed.unit,
            "level": changed.level,
            "probe": changed.probe,
            "severity": changed.severity,
            "sort": changed.sort.value,
            "page": str(changed.page),
        }
        return urlencode({k: v for k, v in params.items() if v})


@dataclass(frozen=True)
class TaskPage:
    rows: list[dict[str, Any]]
    total: int
    filter: TaskFilter

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // PAGE_SIZE))


def units_for(services: Services, wanted: TaskFilter, scope: Collection[str] | None) -> set[str]:
    """The unit codes the filter and the viewer's scope both allow."""
    allowed = {unit.code for unit in services.catalog.units}
    if scope is not None:
        allowed &= set(scope)
    if wanted.unit:
        try:
            allowed &= subtree(services.catalog, wanted.unit)
        except KeyError:
            return set()
    if wanted.level:
        allowed &= {u.code for u in services.catalog.units if u.level.value == wanted.level}
    return allowed


def task_query(
    services: Services, wanted: TaskFilter, scope: Collection[str] | None
) -> Select[Task]:
    """The tasks ``wanted`` names, within ``scope``, unordered."""
    today = local_today(services)
    query = select(Task).where(Task.unit_code.in_(sorted(units_for(services, wanted, scope))))
    if wanted.status is Status.ACTIVE:
        query = query.where(Task.state.in_(ACTIVE_STATES))
    elif wanted.status is Status.OVERDUE:
        query = query.where(Task.state.in_(ACTIVE_STATES), Task.deadline < today)
    elif wanted.status is Status.DUE_SOON:
        soon = services.calendar.add_working_days(today, 1).due
        query = query.where(Task.state.in_(ACTIVE_STATES), Task.deadline.between(today, soon))
    elif wanted.status is Status.CLOSED_THIS_MONTH:
        query = query.where(
            Task.state == TaskState.CLOSED.value, Task.closed_at >= month_start(services, today)
        )
    if wanted.probe:
        probe_checks = select(CheckRow.id).where(CheckRow.probe == wanted.probe)
        query = query.where(Task.check_id.in_(probe_checks))
    if wanted.severity:
        query = query.where(Task.severity == wanted.severity)
    return query


def task_page(
    services: Services, session: Session, wanted: TaskFilter, scope: Collection[str] | None
) -> TaskPage:
    """One page of matching tasks, ready to render."""
    query = task_query(services, wanted, scope)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    tasks = session.scalars(
        query.order_by(*ORDERS[wanted.sort]).offset((wanted.page - 1) * PAGE_SIZE).limit(PAGE_SIZE)
    ).all()
    today, probes = local_today(services), check_probes(services)
    return TaskPage([task_row(services, task, today, probes) for task in tasks], total, wanted)


def task_row(
    services: Services, task: Task, today: dt.date, probes: Mapping[str, str]
) -> dict[str, Any]:
    """What a list shows of one task; ``probes`` maps check ids to probe kinds."""
    state = TaskState(task.state)
    probe = probes.get(task.check_id) or task.check_id.rsplit("/", 1)[-1]
    days_left = services.calendar.working_days_left(today, task.deadline) if state.active else 0
    return {
        "id": task.id,
        "title": task.title,
        "detail": task.detail,
        "unit_code": task.unit_code,
        "unit_name": services.directory.unit_name(task.unit_code),
        "probe": probe,
        "probe_label": PROBE_LABELS.get(probe, probe),
        "severity": SEVERITY_LABELS.get(task.severity, task.severity),
        "state_label": state.label,
        "active": state.active,
        "opened": task.opened_at.astimezone(services.zone).strftime("%Y-%m-%d"),
        "deadline": task.deadline.isoformat(),
        "days_left": days_left,
        "days_overdue": max(0, -days_left),
    }


def check_probes(services: Services) -> dict[str, str]:
    """Check id → probe kind, for the checks of the catalog."""
    return {ident: check.probe for ident, _, check in services.catalog.checks()}
