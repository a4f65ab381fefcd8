"""Many targets failing at once is most likely the monitor's own trouble, not theirs.

While the share of failing targets within ``guard.window`` is high, failing runs are
kept as evidence but open no task (the bot marks them held and alerts the operator).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import distinct, func, select
from sqlalchemy.orm import Session

from config.policies import FailureGuard
from core.results import Outcome
from tasks.models import CheckRow, Run


@dataclass(frozen=True)
class MassFailure:
    failing: int  # targets with a failing run in the window
    judged: int  # targets with any pass or fail in the window

    @property
    def share(self) -> float:
        return self.failing / self.judged if self.judged else 0.0


def mass_failure(session: Session, guard: FailureGuard, now: dt.datetime) -> MassFailure | None:
    """The failure picture of the last ``guard.window``, when it looks like a mass failure."""
    since = now - guard.window
    judged = (
        select(CheckRow.target_key, Run.outcome)
        .join(CheckRow, CheckRow.id == Run.check_id)
        .where(
            Run.finished_at >= since,
            Run.outcome.in_((Outcome.PASS.value, Outcome.FAIL.value)),
        )
        .subquery()
    )
    counted = func.count(distinct(judged.c.target_key))
    judged_targets = session.scalar(select(counted)) or 0
    failing = session.scalar(select(counted).where(judged.c.outcome == Outcome.FAIL.value)) or 0
    picture = MassFailure(failing=failing, judged=judged_targets)
    if failing >= guard.min_targets and picture.share >= guard.mass_failure_share:
        return picture
    return None
