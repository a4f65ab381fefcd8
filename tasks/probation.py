"""Probation of new targets: a new portal's findings are shown, not charged.

A target is on probation from its first run for the catalog's ``probation`` period (default
7 days) until an operator confirms it (``govpatrol target confirm KEY`` or the console).
Runs judged meanwhile are kept as evidence and told to the operator, but open no task and
do not count toward a failing streak (see :func:`tasks.tracker.on_probation`).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tasks.lifecycle import Actor, TaskError
from tasks.models import CheckRow, Run, TargetRow

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ProbationStatus:
    target_key: str
    on_probation: bool
    first_run_at: dt.datetime | None
    ends_at: dt.datetime | None  # when it ends by itself; None when confirmed or none
    confirmed_at: dt.datetime | None
    confirmed_by: str | None

    @property
    def label(self) -> str:
        if self.confirmed_at is not None:
            return "已确认"
        if self.on_probation:
            return "试运行（不立案）"
        return "正式巡检"


def probation_status(
    session: Session, target_key: str, period: dt.timedelta, now: dt.datetime
) -> ProbationStatus:
    target = session.get(TargetRow, target_key)
    if target is None:
        raise TaskError(f"没有巡检对象 {target_key}")
    first = session.scalar(
        select(func.min(Run.started_at))
        .join(CheckRow, CheckRow.id == Run.check_id)
        .where(CheckRow.target_key == target_key)
    )
    ends = (first if first is not None else now) + period if period else None
    on = target.confirmed_at is None and ends is not None and now < ends
    return ProbationStatus(
        target_key=target_key,
        on_probation=on,
        first_run_at=first,
        ends_at=ends if target.confirmed_at is None else None,
        confirmed_at=target.confirmed_at,
        confirmed_by=target.confirmed_by,
    )


def confirm_target(session: Session, target_key: str, actor: Actor, now: dt.datetime) -> bool:
    """Confirm the target: its next failing runs count. False if it was confirmed before."""
    target = session.get(TargetRow, target_key)
    if target is None:
        raise TaskError(f"没有巡检对象 {target_key}")
    if target.confirmed_at is not None:
        return False
    target.confirmed_at = now
    target.confirmed_by = actor.name
    log.info("target %s confirmed by %s (%s)", target_key, actor.name, actor.role)
    return True
