"""The numbers on the console's overview and target board, read from the database.

Everything here takes the viewer's unit scope (None: all units) and filters to it.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import ScalarSelect, case, func, select
from sqlalchemy.orm import Session

from bot.services import Services
from core.results import Outcome
from tasks.models import ACTIVE_STATES, CheckRow, FindingRow, Run, TargetRow, Task, TaskState

TREND_DAYS = 30
BATCH = 1000  # checks per query on the target board (bound parameters stay few)


@dataclass
class UnitFigures:
    unit_code: str
    unit_name: str
    open: int = 0
    overdue: int = 0
    due_soon: int = 0  # due today or on the next working day
    closed_this_month: int = 0


@dataclass(frozen=True)
class DayCount:
    day: dt.date
    count: int


@dataclass(frozen=True)
class Overview:
    today: dt.date
    open: int
    overdue: int
    due_soon: int
    closed_this_month: int
    units: list[UnitFigures]  # units with anything to show, most overdue first
    trend: list[DayCount]  # findings per day, oldest first, TREND_DAYS days up to today


@dataclass(frozen=True)
class CheckStatus:
    """One row of the target board: a target × check and what its runs said last."""

    check_id: str
    unit_code: str
    target_name: str
    target_url: str
    probe: str
    last_outcome: str | None
    last_run_at: dt.datetime | None
    last_pass_at: dt.datetime | None
    last_failure_at: dt.datetime | None
    open_tasks: int


def local_today(services: Services) -> dt.date:
    return services.clock.now().astimezone(services.zone).date()


def month_start(services: Services, today: dt.date) -> dt.datetime:
    """Midnight of the first day of ``today``'s month, local time, as an aware datetime."""
    return dt.datetime.combine(today.replace(day=1), dt.time(), tzinfo=services.zone)


def overview(services: Services, session: Session, units: Collection[str] | None) -> Overview:
    """Open, overdue, due-soon and closed-this-month tasks, by unit, and the findings trend."""
    today = local_today(services)
    soon = services.calendar.add_working_days(today, 1).due
    live = select(
        Task.unit_code,
        func.count(Task.id),
        func.sum(case((Task.deadline < today, 1), else_=0)),
        func.sum(case((Task.deadline.between(today, soon), 1), else_=0)),
    ).where(Task.state.in_(ACTIVE_STATES))
    closed = select(Task.unit_code, func.count(Task.id)).where(
        Task.state == TaskState.CLOSED.value, Task.closed_at >= month_start(services, today)
    )
    if units is not None:
        live = live.where(Task.unit_code.in_(list(units)))
        closed = closed.where(Task.unit_code.in_(list(units)))
    figures: dict[str, UnitFigures] = {}

    def of(code: str) -> UnitFigures:
        if code not in figures:
            figures[code] = UnitFigures(code, services.directory.unit_name(code))
        return figures[code]

    for code, count, overdue, due_soon in session.execute(live.group_by(Task.unit_code)):
        row = of(code)
        row.open, row.overdue, row.due_soon = count, int(overdue or 0), int(due_soon or 0)
    for code, count in session.execute(closed.group_by(Task.unit_code)):
        of(code).closed_this_month = count
    rows = sorted(figures.values(), key=lambda f: (-f.overdue, -f.open, f.unit_code))
    return Overview(
        today=today,
        open=sum(f.open for f in rows),
        overdue=sum(f.overdue for f in rows),
        due_soon=sum(f.due_soon for f in rows),
        closed_this_month=sum(f.closed_this_month for f in rows),
        units=rows,
        trend=findings_trend(services, session, units, today),
    )


def findings_trend(
    services: Services,
    session: Session,
    units: Collection[str] | None,
    today: dt.date,
    days: int = TREND_DAYS,
) -> list[DayCount]:
    """Findings seen per local day over the ``days`` days ending today."""
    first = today - dt.timedelta(days=days - 1)
    since = dt.datetime.combine(first, dt.time(), tzinfo=services.zone)
    query = (
        select(Run.finished_at, func.count(FindingRow.id))
        .join(FindingRow, FindingRow.run_id == Run.id)
        .where(Run.finished_at >= since)
        .group_by(Run.id, Run.finished_at)
    )
    if units is not None:
        query = (
            query.join(CheckRow, CheckRow.id == Run.check_id)
            .join(TargetRow, TargetRow.key == CheckRow.target_key)
            .where(TargetRow.unit_code.in_(list(units)))
        )
    per_day: Counter[dt.date] = Counter()
    for finished, count in session.execute(query):
        per_day[finished.astimezone(services.zone).date()] += count
    return [
        DayCount(day, per_day[day]) for day in (first + dt.timedelta(days=n) for n in range(days))
    ]


def target_board(
    services: Services, session: Session, units: Collection[str] | None
) -> list[CheckStatus]:
    """Every configured check of the targets in scope, in catalog order."""
    checks = [
        (ident, target, check)
        for ident, target, check in services.catalog.checks()
        if units is None or target.unit in units
    ]
    idents = [ident for ident, _, _ in checks]
    newest = _newest_runs(session, idents)
    open_tasks = dict(
        session.execute(
            select(Task.check_id, func.count(Task.id))
            .where(Task.state.in_(ACTIVE_STATES), Task.check_id.in_(idents))
            .group_by(Task.check_id)
        ).all()
    )
    board = []
    for ident, target, check in checks:
        by_outcome = newest.get(ident, {})
        # The newest run of all: the highest id among the newest of each outcome.
        last = max(
            ((run_id, outcome, at) for outcome, (run_id, at) in by_outcome.items()), default=None
        )
        board.append(
            CheckStatus(
                check_id=ident,
                unit_code=target.unit,
                target_name=target.name,
                target_url=target.base_url,
                probe=check.probe,
                last_outcome=last[1] if last else None,
                last_run_at=last[2] if last else None,
                last_pass_at=by_outcome.get(Outcome.PASS.value, (0, None))[1],
                last_failure_at=by_outcome.get(Outcome.FAIL.value, (0, None))[1],
                open_tasks=open_tasks.get(ident, 0),
            )
        )
    return board


def _newest_runs(
    session: Session, idents: list[str]
) -> dict[str, dict[str, tuple[int, dt.datetime]]]:
    """Per check and outcome, the newest run's id and end: one descent of
    ``ix_runs_check_outcome_id`` per pair, not a scan of the runs table."""

    def newest(outcome: Outcome) -> ScalarSelect[int]:
        return (
            select(func.max(Run.id))
            .where(Run.check_id == CheckRow.id, Run.outcome == outcome.value)
            .scalar_subquery()
        )

    found: dict[str, dict[str, tuple[int, dt.datetime]]] = {}
    for start in range(0, len(idents), BATCH):
        chunk = idents[start : start + BATCH]
        ids = session.execute(
            select(CheckRow.id, *(newest(o) for o in Outcome)).where(CheckRow.id.in_(chunk))
        ).all()
        run_ids = [run_id for row in ids for run_id in row[1:] if run_id is not None]
        ends = dict(
            session.execute(select(Run.id, Run.finished_at).where(Run.id.in_(run_ids))).all()
        )
        for ident, *per_outcome in ids:
            found[ident] = {
                outcome.value: (run_id, ends[run_id])
                for outcome, run_id in zip(Outcome, per_outcome, strict=True)
                if run_id is not None
            }
    return found
