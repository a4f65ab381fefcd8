"""Read-side questions about tasks, shared by the CLI, the console and the chase."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection

from sqlalchemy import select
from sqlalchemy.orm import Session

from tasks.models import ACTIVE_STATES, Task


def find_tasks(
    session: Session,
    *,
    today: dt.date,
    overdue_only: bool = False,
    units: Collection[str] | None = None,
    include_ended: bool = False,
    limit: int = 500,
) -> list[Task]:
    """Tasks, most urgent first: live ones by deadline, then ended ones, newest first.

    ``today`` is the local date; a task is overdue once its deadline is before today.
    """
    query = select(Task)
    if not include_ended or overdue_only:
        query = query.where(Task.state.in_(ACTIVE_STATES))
    if overdue_only:
        query = query.where(Task.deadline < today)
    if units is not None:
        query = query.where(Task.unit_code.in_(list(units)))
    query = query.order_by(Task.deadline, Task.id).limit(limit)
    return list(session.scalars(query))
