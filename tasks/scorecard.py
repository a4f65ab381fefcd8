"""Monthly unit scorecards (通报) in the style of the Guangxi monthly check (seed 002).

    X (扣分指标, 100)  100 minus deductions; each item capped (单项扣分之和不超过分值);
                      a unit some items do not apply to: X = (M − 扣分) × N with
                      M = 100 − those items' points and N = 100 / M
    Y (加分指标, 50)   scored only when X is above the threshold (70)
    total = X + Y     levels 非常高 [90,150] 高 [80,90) 中 [70,80) 低 [0,70);
                      红榜 total ≥ 80, 黑榜 total < 60

The items of X are the task-behaviour items (opened, overdue, overdue days, reopened,
critical) and the catalog's indicator items, which count the month's tasks by finding
code. Invalidated tasks (a dispute upheld) count for nothing but the "disputes upheld"
figure.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from config.catalog import Catalog, Severity
from config.policies import ScoringPolicy
from core.calendar import WorkingCalendar
from tasks.availability import Availability, availability_by_target
from tasks.lifecycle import REOPENINGS
from tasks.models import RequestKind, RequestState, Task, TaskHistory, TaskRequest, TaskState

# The years a scorecard, a problem list or a query may name: a record outside them cannot
# exist, and the ends of ``datetime`` (year 1, year 9999) overflow a month's last day.
YEARS = range(2000, 2100)


@dataclass(frozen=True)
class Month:
    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> Month:
        try:
            year, month = (int(part) for part in text.split("-"))
            dt.date(year, month, 1)
        except ValueError:
            raise ValueError(f"月份格式应为 2026-11，收到 {text[:20]!r}") from None
        if year not in YEARS:
            raise ValueError(f"月份超出范围：应在 {YEARS.start}-01 至 {YEARS.stop - 1}-12 之间")
        return cls(year, month)

    @property
    def first(self) -> dt.date:
        return dt.date(self.year, self.month, 1)

    @property
    def last(self) -> dt.date:
        following = dt.date(self.year + self.month // 12, self.month % 12 + 1, 1)
        return following - dt.timedelta(days=1)

    def __str__(self) -> str:
        return f"{self.year}-{self.month:02d}"


@dataclass
class Scorecard:
    unit_code: str
    unit_name: str
    opened: int = 0
    closed: int = 0
    closed_on_time: int = 0
    overdue: int = 0
    overdue_days: int = 0
    reopened: int = 0
    disputes_upheld: int = 0
    critical: int = 0
    acknowledged_quickly: int = 0
    open_at_end: int = 0
    overdue_at_end: int = 0
    fix_days: list[int] = field(default_factory=list)
    indicator_tasks: dict[str, int] = field(default_factory=dict)  # item code → tasks
    deductions: dict[str, float] = field(default_factory=dict)  # item name → points off
    full_marks: float = 100.0  # M: 100 less the points of the items that do not apply
    # of the unit's own targets' runs
    availability: Availability = field(default_factory=lambda: Availability(0, 0))
    x: float = 100.0
    y: float = 0.0
    level: str = ""
    red_list: bool = False
    black_list: bool = False

    @property
    def total(self) -> float:
        return round(self.x + self.y, 2)

    @property
    def mean_fix_days(self) -> float | None:
        return sum(self.fix_days) / len(self.fix_days) if self.fix_days else None


TASK_ITEM_NAMES = {
    "opened": "新立整改任务",
    "overdue": "超期任务",
    "overdue_days": "超期工作日",
    "reopened": "复核退回及复发",
    "critical": "严重问题",
}

# The 通报 table as the CLI prints it and the console exports it: one row per unit, ranked.
TABLE_COLUMNS = (
    "排名",
    "责任单位",
    "新立",
    "销号",
    "按期销号",
    "超期",
    "超期工作日",
    "复发/退回",
    "申诉成立",
    "平均整改(工作日)",
    "可用率",
    "扣分得分X",
    "加分Y",
    "总分",
    "等级",
    "榜单",
)


def table_rows(cards: list[Scorecard]) -> list[list[str]]:
    """``cards`` (best first) as rows under ``TABLE_COLUMNS``, ranked from 1."""
    result = []
    for rank, card in enumerate(cards, 1):
        board = "红榜" if card.red_list else ("黑榜" if card.black_list else "")
        mean = "" if card.mean_fix_days is None else f"{card.mean_fix_days:.1f}"
        result.append(
            [
                str(rank),
                card.unit_name,
                str(card.opened),
                str(card.closed),
                str(card.closed_on_time),
                str(card.overdue),
                str(card.overdue_days),
                str(card.reopened),
                str(card.disputes_upheld),
                mean,
                card.availability.percent,
                f"{card.x:g}",
                f"{card.y:g}",
                f"{card.total:g}",
                card.level,
                board,
            ]
        )
    return result


def board_names(cards: list[Scorecard], *, red: bool) -> str:
    """The units on the red (or black) board, 、-separated; 无 when there are none."""
    names = [card.unit_name for card in cards if (card.red_list if red else card.black_list)]
    return "、".join(names) or "无"


def monthly_scorecards(
    session: Session,
    catalog: Catalog,
    calendar: WorkingCalendar,
    zone: ZoneInfo,
    month: Month,
    today: dt.date,
    progress: Callable[[int, int], None] | None = None,
) -> list[Scorecard]:
    """One scorecard per unit of the catalog, best first. ``today`` bounds the current month.
    ``progress`` is told how many of the month's tasks are counted so far, of how many."""
    end = min(month.last, today)
    start_utc = dt.datetime.combine(month.first, dt.time(), tzinfo=zone)
    end_utc = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), tzinfo=zone)
    cards = {unit.code: Scorecard(unit.code, unit.name) for unit in catalog.units}

    def local(moment: dt.datetime | None) -> dt.date | None:
        return moment.astimezone(zone).date() if moment is not None else None

    # Plain rows, not ORM objects: a province has tens of thousands of tasks a month.
    tasks = session.execute(
        select(
            Task.unit_code,
            Task.finding_code,
            Task.state,
            Task.severity,
            Task.opened_at,
            Task.closed_at,
            Task.acknowledged_at,
            Task.deadline,
        ).where(
            Task.opened_at < end_utc,
            or_(Task.closed_at.is_(None), Task.closed_at >= start_utc),
        )
    ).all()
    for done, task in enumerate(tasks, 1):
        if progress is not None:
            progress(done, len(tasks))
        card = cards.get(task.unit_code)
        if card is None:
            continue
        state = TaskState(task.state)
        if state is TaskState.INVALIDATED:
            continue
        opened, closed = local(task.opened_at), local(task.closed_at)
        assert opened is not None
        if opened >= month.first:
            card.opened += 1
            card.critical += task.severity == Severity.CRITICAL.value
            for item in catalog.scoring.indicators:
                if task.finding_code.startswith(item.finding_codes):
                    card.indicator_tasks[item.code] = card.indicator_tasks.get(item.code, 0) + 1
            acked = local(task.acknowledged_at)
            if acked is not None and calendar.working_days_left(opened, acked) <= 1:
                card.acknowledged_quickly += 1
        if closed is not None and month.first <= closed <= end and state is TaskState.CLOSED:
            card.closed += 1
            card.closed_on_time += closed <= task.deadline
            card.fix_days.append(max(0, calendar.working_days_left(opened, closed)))
        finish = closed if closed is not None and closed <= end else end
        if finish > task.deadline:
            counted_from = max(task.deadline, month.first - dt.timedelta(days=1))
            days = -calendar.working_days_left(finish, counted_from)
            if days > 0 and finish >= month.first:
                card.overdue += 1
                card.overdue_days += days
        if closed is None or closed > end:
            card.open_at_end += 1
            card.overdue_at_end += end > task.deadline
    _count_reopens(session, cards, start_utc, end_utc)
    _add_availability(session, catalog, cards, start_utc, end_utc)
    _count_upheld(session, cards, start_utc, end_utc)
    for card in cards.values():
        score(card, catalog.scoring)
    return sorted(cards.values(), key=lambda c: (-c.total, c.unit_code))


def score(card: Scorecard, policy: ScoringPolicy) -> None:
    """Fill in X, Y, the level and the lists of ``card`` from its counts."""
    d = policy.deductions
    raw = {
        "opened": card.opened * d.per_task_opened,
        "overdue": card.overdue * d.per_overdue_task,
        "overdue_days": card.overdue_days * d.per_overdue_day,
        "reopened": card.reopened * d.per_reopen,
        "critical": card.critical * d.per_critical_task,
    }
    names = dict(TASK_ITEM_NAMES)
    for item in policy.indicators:
        raw[item.code] = card.indicator_tasks.get(item.code, 0) * item.per_task
        names[item.code] = f"{item.code} {item.name}"
    points = policy.item_points()
    missing = set(policy.not_applicable.get(card.unit_code, ()))
    card.deductions = {
        names[code]: min(value, points[code]) for code, value in raw.items() if code not in missing
    }
    card.full_marks = 100.0 - sum(points[code] for code in missing)
    if card.full_marks > 0:
        rescaled = (card.full_marks - sum(card.deductions.values())) * 100.0 / card.full_marks
    else:  # nothing applies: nothing to deduct
        rescaled = 100.0
    card.x = round(max(0.0, rescaled), 2)
    b = policy.bonus
    if card.x > b.threshold:
        on_time = card.closed_on_time / card.closed if card.closed else float(card.opened == 0)
        quick = card.acknowledged_quickly / card.opened if card.opened else 1.0
        fast = card.mean_fix_days is None or card.mean_fix_days <= b.fast_fix_days
        bonus = (
            b.on_time_rate * on_time
            + b.quick_ack_rate * quick
            + (b.no_overdue_at_month_end if card.overdue_at_end == 0 else 0.0)
            + (b.fast_fix if fast else 0.0)
        )
        card.y = round(min(bonus, b.cap), 2)
    else:
        card.y = 0.0
    thresholds = sorted(policy.levels.items(), key=lambda item: -item[1])
    card.level = next((name for name, floor in thresholds if card.total >= floor), "低")
    card.red_list = card.total >= policy.red_list_at
    card.black_list = card.total < policy.black_list_below


def _add_availability(
    session: Session,
    catalog: Catalog,
    cards: dict[str, Scorecard],
    start: dt.datetime,
    end: dt.datetime,
) -> None:
    per_target = availability_by_target(session, start, end)
    for target in catalog.targets:
        found, card = per_target.get(target.key), cards.get(target.unit)
        if found is not None and card is not None:
            card.availability = Availability(
                card.availability.counted + found.counted,
                card.availability.available + found.available,
            )


def _count_reopens(
    session: Session, cards: dict[str, Scorecard], start: dt.datetime, end: dt.datetime
) -> None:
    rows = session.execute(
        select(Task.unit_code)
        .join(TaskHistory, TaskHistory.task_id == Task.id)
        .where(
            TaskHistory.action.in_([action.value for action in REOPENINGS]),
            TaskHistory.at >= start,
            TaskHistory.at < end,
            Task.state != TaskState.INVALIDATED.value,
        )
    ).all()
    counts: dict[str, int] = defaultdict(int)
    for (unit_code,) in rows:
        counts[unit_code] += 1
    for unit_code, count in counts.items():
        if unit_code in cards:
            cards[unit_code].reopened = count


def _count_upheld(
    session: Session, cards: dict[str, Scorecard], start: dt.datetime, end: dt.datetime
) -> None:
    rows = session.execute(
        select(Task.unit_code)
        .join(TaskRequest, TaskRequest.task_id == Task.id)
        .where(
            and_(
                TaskRequest.kind == RequestKind.DISPUTE.value,
                TaskRequest.state == RequestState.APPROVED.value,
                TaskRequest.decided_at >= start,
                TaskRequest.decided_at < end,
            )
        )
    ).all()
    for (unit_code,) in rows:
        if unit_code in cards:
            cards[unit_code].disputes_upheld += 1
