"""The rectification ledger (整改台账) that seed 001 三(一) asks units to 汇总上报:
every task of a period with its problem, dates, state, the unit's note and the 复核.

A task belongs to a period when it was open at any time in it: opened before the period
ends and not finished (销号 or 撤销) before it starts, so a task carried over from last
month is listed again until it is done. Days overdue are working days (core.calendar)
after the deadline, up to the day the task was closed, or up to today while it is open;
a task found to be a false alarm (撤销) is never overdue.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from config.catalog import PROBE_LABELS, Catalog
from core.calendar import WorkingCalendar
from tasks.lifecycle import TaskAction
from tasks.models import Task, TaskHistory, TaskState
from tasks.problem_list import PLATFORM, Period

COLUMNS = (
    "序号",
    "任务编号",
    "责任单位",
    "巡检对象",
    "存在问题",
    "问题名称",
    "具体内容",
    "立案日期",
    "整改时限",
    "状态",
    "整改说明",
    "复核结果",
    "复核日期",
    "超期工作日",
)
# The steps that judge a reported fix, or close a task without one, as the ledger names them.
REVIEWS = {
    TaskAction.VERIFIED: "复核通过",
    TaskAction.REOPENED: "复核未通过",
    TaskAction.CLOSED: "人工核实销号",
    TaskAction.AUTO_CLOSED: "巡检通过自动销号",
    TaskAction.DISPUTE_UPHELD: "申诉成立撤销",
}
BATCH = 1000  # task ids per history query


@dataclass(frozen=True)
class LedgerRow:
    task_id: int
    unit_code: str
    unit_name: str  # 责任单位
    target_name: str  # 巡检对象
    category: str  # 存在问题: the probe kind, or 平台功能
    title: str  # 问题名称
    detail: str  # 具体内容
    opened: dt.date  # 立案日期
    deadline: dt.date  # 整改时限, after any extension
    state: TaskState
    rectify_note: str  # 整改说明
    review: str  # 复核结果, empty before any
    reviewed_on: dt.date | None  # 复核日期
    days_overdue: int

    def cells(self, number: int) -> tuple[str | int, ...]:
        """The row under ``COLUMNS``, numbered ``number`` (序号)."""
        return (
            number,
            self.task_id,
            self.unit_name,
            self.target_name,
            self.category,
            self.title,
            self.detail,
            self.opened.isoformat(),
            self.deadline.isoformat(),
            self.state.label,
            self.rectify_note,
            self.review,
            self.reviewed_on.isoformat() if self.reviewed_on else "",
            self.days_overdue,
        )


def ledger_rows(
    session: Session,
    catalog: Catalog,
    calendar: WorkingCalendar,
    zone: ZoneInfo,
    period: Period,
    units: Collection[str],
    today: dt.date,
) -> list[LedgerRow]:
    """The ledger of ``units`` for ``period``, in the catalog's unit order, then by 立案."""
    start = dt.datetime.combine(period.first, dt.time(), tzinfo=zone)
    end = dt.datetime.combine(period.last + dt.timedelta(days=1), dt.time(), tzinfo=zone)
    tasks = session.scalars(
        select(Task)
        .where(
            Task.unit_code.in_(list(units)),
            Task.opened_at < end,
            or_(Task.closed_at.is_(None), Task.closed_at >= start),
        )
        .order_by(Task.opened_at, Task.id)
    ).all()
    reviews = _last_reviews(session, [task.id for task in tasks])
    checks = {ident: (target, check) for ident, target, check in catalog.checks()}
    names = {unit.code: unit.name for unit in catalog.units}
    order = {unit.code: n for n, unit in enumerate(catalog.units)}

    def local(moment: dt.datetime) -> dt.date:
        return moment.astimezone(zone).date()

    rows = []
    for task in tasks:
        state = task.task_state
        target, check = checks.get(task.check_id, (None, None))
        probe = check.probe if check is not None else ""
        review, reviewed_at = reviews.get(task.id, ("", None))
        finished = local(task.closed_at) if task.closed_at is not None else today
        rows.append(
            LedgerRow(
                task_id=task.id,
                unit_code=task.unit_code,
                unit_name=names.get(task.unit_code, task.unit_code),
                target_name=target.name if target is not None else task.check_id.split("/")[0],
                category=PLATFORM if probe == "checklist" else PROBE_LABELS.get(probe, PLATFORM),
                title=task.title,
                detail=task.detail,
                opened=local(task.opened_at),
                deadline=task.deadline,
                state=state,
                rectify_note=task.rectify_note,
                review=review,
                reviewed_on=local(reviewed_at) if reviewed_at is not None else None,
                days_overdue=(
                    0
                    if state is TaskState.INVALIDATED
                    else days_overdue(calendar, task.deadline, finished)
                ),
            )
        )
    return sorted(rows, key=lambda row: (order.get(row.unit_code, len(order)), row.opened))


def days_overdue(calendar: WorkingCalendar, deadline: dt.date, finished: dt.date) -> int:
    """Working days after ``deadline`` up to and including ``finished``; 0 when on time."""
    return max(0, -calendar.working_days_left(finished, deadline)) if finished > deadline else 0


def _last_reviews(session: Session, task_ids: list[int]) -> dict[int, tuple[str, dt.datetime]]:
    """Per task, the newest step of ``REVIEWS``: its ledger name and when."""
    found: dict[int, tuple[str, dt.datetime]] = {}
    actions = {action.value: label for action, label in REVIEWS.items()}
    for first in range(0, len(task_ids), BATCH):
        chunk = task_ids[first : first + BATCH]
        history = session.execute(
            select(TaskHistory.task_id, TaskHistory.action, TaskHistory.at)
            .where(TaskHistory.task_id.in_(chunk), TaskHistory.action.in_(list(actions)))
            .order_by(TaskHistory.id)
        )
        for task_id, action, at in history:
            found[task_id] = (actions[action], at)
    return found
