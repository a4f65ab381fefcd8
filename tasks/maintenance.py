"""Maintenance windows (维护窗口): the one place that creates, decides and reads them.

    unit      requests (申报) a window through its task's signed link; bounded by the
              catalog's ``maintenance_requests`` limits; in force only once a supervisor
              approves it
    operator  ``govpatrol maintenance add`` and the catalog's ``maintenance:`` entries:
              in force at once, unbounded, recorded all the same

Every change (requested, approved, refused, added, cancelled) is a history row with who,
when and why, written in the caller's transaction. Only approved windows, and the
catalog's own, suppress runs (and so verifications and tasks).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from config.catalog import Catalog
from config.policies import MaintenanceLimits
from core.clock import Clock
from tasks.changes import TaskError, get_task
from tasks.models import (
    CheckRow,
    MaintenanceHistory,
    MaintenanceWindow,
    TargetRow,
    WindowSource,
    WindowState,
)

CATALOG_ACTOR = "目录（catalog）"
# Windows that count toward a unit's monthly hours and may not overlap one another.
_CLAIMED = (WindowState.REQUESTED.value, WindowState.APPROVED.value)


class MaintenanceError(TaskError):
    """A window change that is not allowed; the text is Chinese and shown as it is."""


@dataclass(frozen=True)
class Maintenance:
    """The window a moment falls in."""

    reason: str
    ends_at: dt.datetime


class MaintenanceDesk:
    def __init__(self, limits: MaintenanceLimits, clock: Clock, zone: ZoneInfo) -> None:
        self.limits = limits
        self.clock = clock
        self.zone = zone

    # -- the unit ---------------------------------------------------------------------------

    def request(
        self,
        session: Session,
        task_id: int,
        actor: str,
        starts_at: dt.datetime,
        ends_at: dt.datetime,
        reason: str,
    ) -> MaintenanceWindow:
        """A unit's request from the link of ``task_id``, for that task's target."""
        task = get_task(session, task_id)
        if not task.task_state.active:
            raise MaintenanceError(
                f"整改任务 #{task.id} {task.task_state.label}，该链接不能再申报维护窗口"
            )
        reason = _required_reason(reason)
        _ordered(starts_at, ends_at)
        now = self.clock.now()
        # The form is precise to the minute: the current minute still counts as "now".
        if starts_at < now.replace(second=0, microsecond=0):
            raise MaintenanceError(
                f"维护开始时间 {self._local(starts_at)} 已过，不能申报过去的时间"
            )
        if ends_at - starts_at > self.limits.max_length:
            raise MaintenanceError(f"单次维护窗口不超过 {_span(self.limits.max_length)}")
        if starts_at > now + self.limits.max_lead:
            raise MaintenanceError(
                f"维护开始时间不能晚于 {_span(self.limits.max_lead)}后"
                f"（{self._local(now + self.limits.max_lead)}）"
            )
        target_key = session.get_one(CheckRow, task.check_id).target_key
        self._within_limits(session, target_key, starts_at, ends_at, _CLAIMED, exclude=None)
        window = self._new(
            session,
            target_key,
            starts_at,
            ends_at,
            reason,
            actor,
            WindowState.REQUESTED,
            WindowSource.UNIT,
            task_id=task.id,
        )
        self._record(session, window, None, "requested", actor, reason)
        return window

    # -- the supervisor ---------------------------------------------------------------------

    def approve(
        self, session: Session, window_id: int, actor: str, note: str = ""
    ) -> MaintenanceWindow:
        window = self._requested(session, window_id, "批准")
        if window.ends_at <= self.clock.now():
            raise MaintenanceError(f"维护窗口 #{window.id} 已结束，无需批准")
        approved = (WindowState.APPROVED.value,)
        self._within_limits(
            session, window.target_key, window.starts_at, window.ends_at, approved, window.id
        )
        self._decide(session, window, WindowState.APPROVED, "approved", actor, note or "同意")
        return window

    def refuse(
        self, session: Session, window_id: int, actor: str, note: str = ""
    ) -> MaintenanceWindow:
        window = self._requested(session, window_id, "不予批准")
        self._decide(session, window, WindowState.REFUSED, "refused", actor, note or "不予批准")
        return window

    # -- the operator -----------------------------------------------------------------------

    def add(
        self,
        session: Session,
        target_key: str,
        starts_at: dt.datetime,
        ends_at: dt.datetime,
        reason: str,
        actor: str,
    ) -> MaintenanceWindow:
        """An operator's window: in force at once, not bounded by the unit limits."""
        if session.get(TargetRow, target_key) is None:
            raise MaintenanceError(f"没有巡检对象 {target_key}")
        reason = _required_reason(reason)
        _ordered(starts_at, ends_at)
        window = self._new(
            session,
            target_key,
            starts_at,
            ends_at,
            reason,
            actor,
            WindowState.APPROVED,
            WindowSource.OPERATOR,
        )
        self._record(session, window, None, "added", actor, reason)
        return window

    def cancel(
        self, session: Session, window_id: int, actor: str, reason: str
    ) -> MaintenanceWindow:
        """Withdraw a request or end an approved window early (from now on, runs resume)."""
        window = _get(session, window_id)
        if window.source == WindowSource.CATALOG.value:
            raise MaintenanceError(f"维护窗口 #{window.id} 来自目录，请在目录中删除")
        if window.window_state not in (WindowState.REQUESTED, WindowState.APPROVED):
            raise MaintenanceError(
                f"维护窗口 #{window.id} 当前为“{window.window_state.label}”，不能取消"
            )
        if window.ends_at <= self.clock.now():
            raise MaintenanceError(f"维护窗口 #{window.id} 已结束")
        before = window.window_state
        window.state = WindowState.CANCELLED.value
        self._record(session, window, before, "cancelled", actor, _required_reason(reason))
        return window

    def mirror_catalog(self, session: Session, catalog: Catalog) -> None:
        """Record the catalog's windows not yet ended, and cancel those it no longer lists.

        The catalog stays the source of truth for them (:func:`maintenance_now` reads it);
        the rows are the record the console and the CLI list.
        """
        now = self.clock.now()
        listed = {
            (target.key, spec.start.astimezone(dt.UTC), spec.end.astimezone(dt.UTC), spec.reason)
            for target in catalog.targets
            for spec in target.maintenance
            if spec.end > now
        }
        recorded = session.scalars(
            select(MaintenanceWindow).where(
                MaintenanceWindow.source == WindowSource.CATALOG.value,
                MaintenanceWindow.state == WindowState.APPROVED.value,
                MaintenanceWindow.ends_at > now,
            )
        ).all()
        for window in recorded:
            key = (window.target_key, window.starts_at, window.ends_at, window.reason)
            if key in listed:
                listed.discard(key)
                continue
            window.state = WindowState.CANCELLED.value
            self._record(
                session, window, WindowState.APPROVED, "cancelled", CATALOG_ACTOR, "已从目录中删除"
            )
        for target_key, starts_at, ends_at, reason in sorted(listed):
            window = self._new(
                session,
                target_key,
                starts_at,
                ends_at,
                reason,
                CATALOG_ACTOR,
                WindowState.APPROVED,
                WindowSource.CATALOG,
            )
            self._record(session, window, None, "added", CATALOG_ACTOR, reason)

    # -- reading ----------------------------------------------------------------------------

    def windows(
        self,
        session: Session,
        *,
        targets: Collection[str] | None = None,
        states: Collection[WindowState] | None = None,
        include_ended: bool = False,
    ) -> list[MaintenanceWindow]:
        """Windows of ``targets`` (all when None), earliest first."""
        query = select(MaintenanceWindow).order_by(
            MaintenanceWindow.starts_at, MaintenanceWindow.id
        )
        if targets is not None:
            query = query.where(MaintenanceWindow.target_key.in_(list(targets)))
        if states is not None:
            query = query.where(MaintenanceWindow.state.in_([s.value for s in states]))
        if not include_ended:
            query = query.where(MaintenanceWindow.ends_at > self.clock.now())
        return list(session.scalars(query))

    def get(self, session: Session, window_id: int) -> MaintenanceWindow:
        return _get(session, window_id)

    # -- internals --------------------------------------------------------------------------

    def _within_limits(
        self,
        session: Session,
        target_key: str,
        starts_at: dt.datetime,
        ends_at: dt.datetime,
        states: tuple[str, ...],
        exclude: int | None,
    ) -> None:
        """No overlap with the target's other unit windows, and the monthly hours kept."""
        months = self._months(starts_at, ends_at)
        others = [
            window
            for window in session.scalars(
                select(MaintenanceWindow).where(
                    MaintenanceWindow.target_key == target_key,
                    MaintenanceWindow.source == WindowSource.UNIT.value,
                    MaintenanceWindow.state.in_(states),
                    MaintenanceWindow.ends_at > months[0][0],
                    MaintenanceWindow.starts_at < months[-1][1],
                )
            )
            if window.id != exclude
        ]
        for other in others:
            if other.starts_at < ends_at and starts_at < other.ends_at:
                raise MaintenanceError(
                    f"与维护窗口 #{other.id}（{self._local(other.starts_at)} 至 "
                    f"{self._local(other.ends_at)}，{other.window_state.label}）时间重叠"
                )
        cap = self.limits.monthly_hours
        for first, after in months:
            used = sum(
                (_overlap(o.starts_at, o.ends_at, first, after) for o in others), dt.timedelta()
            )
            total = used + _overlap(starts_at, ends_at, first, after)
            hours = total.total_seconds() / 3600
            if hours > cap + 1e-9:
                month = first.astimezone(self.zone)
                raise MaintenanceError(
                    f"{month.year} 年 {month.month} 月该巡检对象的维护时长将达 {hours:g} 小时，"
                    f"超过每月 {cap:g} 小时的上限"
                )

    def _months(
        self, starts_at: dt.datetime, ends_at: dt.datetime
    ) -> list[tuple[dt.datetime, dt.datetime]]:
        """The local calendar months ``[starts_at, ends_at)`` touches, as UTC bounds."""
        local = starts_at.astimezone(self.zone)
        first = dt.datetime(local.year, local.month, 1, tzinfo=self.zone)
        months = []
        while first < ends_at:
            year, month = (
                (first.year + 1, 1) if first.month == 12 else (first.year, first.month + 1)
            )
            after = dt.datetime(year, month, 1, tzinfo=self.zone)
            months.append((first.astimezone(dt.UTC), after.astimezone(dt.UTC)))
            first = after
        return months

    def _requested(self, session: Session, window_id: int, what: str) -> MaintenanceWindow:
        window = _get(session, window_id)
        if window.window_state is not WindowState.REQUESTED:
            raise MaintenanceError(
                f"维护窗口 #{window.id} 当前为“{window.window_state.label}”，不是待审批的申报，"
                f"不能{what}"
            )
        return window

    def _decide(
        self,
        session: Session,
        window: MaintenanceWindow,
        to: WindowState,
        action: str,
        actor: str,
        note: str,
    ) -> None:
        before = window.window_state
        window.state = to.value
        window.decided_by = actor
        window.decided_at = self.clock.now()
        window.decision_note = note
        self._record(session, window, before, action, actor, note)

    def _new(
        self,
        session: Session,
        target_key: str,
        starts_at: dt.datetime,
        ends_at: dt.datetime,
        reason: str,
        actor: str,
        state: WindowState,
        source: WindowSource,
        task_id: int | None = None,
    ) -> MaintenanceWindow:
        window = MaintenanceWindow(
            target_key=target_key,
            starts_at=starts_at,
            ends_at=ends_at,
            reason=reason,
            announced_by=actor,
            announced_at=self.clock.now(),
            state=state.value,
            source=source.value,
            task_id=task_id,
            decision_note="",
        )
        session.add(window)
        session.flush()
        return window

    def _record(
        self,
        session: Session,
        window: MaintenanceWindow,
        before: WindowState | None,
        action: str,
        actor: str,
        reason: str,
    ) -> None:
        session.add(
            MaintenanceHistory(
                window_id=window.id,
                at=self.clock.now(),
                actor=actor,
                action=action,
                from_state=before.value if before else None,
                to_state=window.state,
                reason=reason,
            )
        )
        session.flush()

    def _local(self, moment: dt.datetime) -> str:
        return moment.astimezone(self.zone).strftime("%Y-%m-%d %H:%M")


def maintenance_now(
    session: Session, catalog: Catalog, target_key: str, now: dt.datetime
) -> Maintenance | None:
    """The window in force for ``target_key`` at ``now``: the catalog's, or an approved one."""
    for spec in catalog.target(target_key).maintenance:
        if spec.start <= now < spec.end:
            return Maintenance(spec.reason, spec.end)
    approved = session.scalars(
        select(MaintenanceWindow)
        .where(
            MaintenanceWindow.target_key == target_key,
            MaintenanceWindow.state == WindowState.APPROVED.value,
            MaintenanceWindow.source != WindowSource.CATALOG.value,
            MaintenanceWindow.starts_at <= now,
            MaintenanceWindow.ends_at > now,
        )
        .order_by(MaintenanceWindow.ends_at.desc())
        .limit(1)
    ).first()
    if approved is None:
        return None
    return Maintenance(f"{approved.reason}（{approved.announced_by}申报）", approved.ends_at)


def _get(session: Session, window_id: int) -> MaintenanceWindow:
    window = session.get(MaintenanceWindow, window_id)
    if window is None:
        raise MaintenanceError(f"没有编号为 {window_id} 的维护窗口")
    return window


def _required_reason(reason: str) -> str:
    if not reason.strip():
        raise MaintenanceError("请填写维护原因")
    return reason.strip()


def _ordered(starts_at: dt.datetime, ends_at: dt.datetime) -> None:
    if ends_at <= starts_at:
        raise MaintenanceError("结束时间应晚于开始时间")


def _overlap(
    start: dt.datetime, end: dt.datetime, first: dt.datetime, after: dt.datetime
) -> dt.timedelta:
    return max(min(end, after) - max(start, first), dt.timedelta())


def _span(length: dt.timedelta) -> str:
    if length % dt.timedelta(days=1) == dt.timedelta():
        return f"{length.days} 天"
    return f"{length.total_seconds() / 3600:g} 小时"
