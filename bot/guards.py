"""Protecting units from the monitor's own trouble.

canary          a known-good page; while it fails, failing runs count as `error`
mass failure    many targets failing within a few minutes: hold task opening,
                alert the operator instead
maintenance     windows announced in the catalog or by the unit: no runs, no tasks
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

import httpx
from sqlalchemy import distinct, func, select
from sqlalchemy.orm import Session

from config.catalog import Catalog
from config.policies import FailureGuard
from core.clock import Clock
from core.results import Outcome
from tasks.models import CheckRow, MaintenanceWindow, Run

log = logging.getLogger(__name__)


class Canary:
    """The state of our own network, from a known-good page."""

    def __init__(
        self, url: str | None, clock: Clock, *, proxy: str | None = None, every_s: float = 60.0
    ) -> None:
        self.url = url
        self.clock = clock
        self.proxy = proxy
        self.every = dt.timedelta(seconds=every_s)
        self.ok = True
        self.reason = ""
        self.checked_at: dt.datetime | None = None

    async def check(self) -> bool:
        """Fetch the canary page now; True when it answers below HTTP 500."""
        if self.url is None:
            return True
        try:
            async with httpx.AsyncClient(proxy=self.proxy, timeout=10.0) as client:
                answer = await client.get(self.url)
            ok, reason = answer.status_code < 500, f"HTTP {answer.status_code}"
        except httpx.HTTPError as exc:
            ok, reason = False, f"{type(exc).__name__}: {exc}"
        if ok != self.ok:
            log.warning("canary %s is now %s (%s)", self.url, "up" if ok else "DOWN", reason)
        self.ok, self.reason, self.checked_at = ok, reason, self.clock.now()
        return ok

    async def network_ok(self) -> bool:
        """The canary's verdict, checked again when older than its interval."""
        if self.url is None:
            return True
        if self.checked_at is None or self.clock.now() - self.checked_at > self.every:
            await self.check()
        return self.ok


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


@dataclass(frozen=True)
class Maintenance:
    reason: str
    ends_at: dt.datetime


def maintenance_now(
    session: Session, catalog: Catalog, target_key: str, now: dt.datetime
) -> Maintenance | None:
    """The maintenance window of ``target_key`` that ``now`` falls in, if any."""
    for window in catalog.target(target_key).maintenance:
        if window.start <= now < window.end:
            return Maintenance(window.reason, window.end)
    announced = session.scalars(
        select(MaintenanceWindow)
        .where(
            MaintenanceWindow.target_key == target_key,
            MaintenanceWindow.starts_at <= now,
            MaintenanceWindow.ends_at > now,
        )
        .limit(1)
    ).first()
    if announced is not None:
        return Maintenance(f"{announced.reason}（{announced.announced_by}申报）", announced.ends_at)
    return None
