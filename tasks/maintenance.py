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

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from config.catalog import Catalog
from config.policies import MaintenanceLimits
from core.clock import Clock
from tasks.lifecycle import get_task
from tasks.maintenance_limits import MaintenanceError as MaintenanceError  # for adapters
from tasks.maintenance_limits import (
    check_ordered,
    check_room,
    check_times,
    months,
)
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
        check_times(self.limits, self.zone, self.clock.now(), starts_at, ends_at)
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
        check_ordered(starts_at, ends_at)
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
        reason = _required_reason(reason)
        self._move(session, window, WindowState.CANCELLED, "cancelled", actor, reason)
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
            self._move(
                session, window, WindowState.CANCELLED, "cancelled", CATALOG_ACTOR, "已从目录中删除"
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
        # One decision per target at a time (PostgreSQL), so two cannot both fit the hours.
        session.get(TargetRow, target_key, with_for_update=True)
        spanned = months(self.zone, starts_at, ends_at)
        others = [
            window
            for window in session.scalars(
                select(MaintenanceWindow).where(
                    MaintenanceWindow.target_key == target_key,
                    MaintenanceWindow.source == WindowSource.UNIT.value,
                    MaintenanceWindow.state.in_(states),
                    MaintenanceWindow.ends_at > spanned[0][0],
                    MaintenanceWindow.starts_at < spanned[-1][1],
                )
            )
            if window.id != exclude
        ]
        check_room(self.limits, self.zone, others, starts_at, ends_at)

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
        decision = {"decided_by": actor, "decided_at": self.clock.now(), "decision_note": note}
        self._move(session, window, to, action, actor, note, **decision)

    def _move(
        self,
        session: Session,
        window: MaintenanceWindow,
        to: WindowState,
        action: str,
        actor: str,
        reason: str,
        **values: object,
    ) -> None:
        """Change the state by a conditional UPDATE from the state read: of two concurrent
        decisions (two supervisors, the console and the shell) one wins, the other is told."""
        before = window.window_state
        moved = session.execute(
            update(MaintenanceWindow)
            .where(MaintenanceWindow.id == window.id, MaintenanceWindow.state == before.value)
            .values(state=to.value, **values)
            .execution_options(synchronize_session=False)
        ).rowcount  # type: ignore[attr-defined]
        if not moved:
            raise MaintenanceError(f"维护窗口 #{window.id} 刚刚已由他人处理，请刷新后查看")
        session.refresh(window)
        self._record(session, window, before, action, actor, reason)

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
