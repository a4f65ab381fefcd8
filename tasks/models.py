"""Tables of the tracker: the catalog mirror, runs and findings, tasks and their history.

Units, targets and checks are mirrored from the YAML catalog (the catalog stays the
source of truth) so that runs and tasks can reference them and survive catalog edits.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base, UTCDateTime


class TaskState(StrEnum):
    OPEN = "open"  # 待签收
    ACKNOWLEDGED = "acknowledged"  # 已签收
    RECTIFIED = "rectified"  # 已整改, awaiting verification (待复核)
    REOPENED = "reopened"  # 已退回: verification or a later run failed again
    CLOSED = "closed"  # 已销号
    INVALIDATED = "invalidated"  # 已撤销: a dispute was upheld

    @property
    def label(self) -> str:
        return STATE_LABELS[self]

    @property
    def active(self) -> bool:
        return self not in (TaskState.CLOSED, TaskState.INVALIDATED)


STATE_LABELS = {
    TaskState.OPEN: "待签收",
    TaskState.ACKNOWLEDGED: "已签收",
    TaskState.RECTIFIED: "待复核",
    TaskState.REOPENED: "已退回",
    TaskState.CLOSED: "已销号",
    TaskState.INVALIDATED: "已撤销",
}
ACTIVE_STATES = tuple(state.value for state in TaskState if state.active)
# The predicate of the one-live-task-per-problem index (also the inserts' conflict target).
LIVE_TASK = "state NOT IN ('closed', 'invalidated')"


class RunPurpose(StrEnum):
    SCHEDULED = "scheduled"
    MANUAL = "manual"
    VERIFICATION = "verification"  # 复核: re-run after a unit reported a fix


class UnitRow(Base):
    __tablename__ = "units"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    level: Mapped[str] = mapped_column(String(20))
    parent_code: Mapped[str | None] = mapped_column(String(64))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class TargetRow(Base):
    __tablename__ = "targets"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    unit_code: Mapped[str] = mapped_column(ForeignKey("units.code"))
    base_url: Mapped[str] = mapped_column(String(500))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # An operator said the target's checks are configured right: probation ends.
    confirmed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    confirmed_by: Mapped[str | None] = mapped_column(String(120))


class CheckRow(Base):
    __tablename__ = "checks"

    id: Mapped[str] = mapped_column(String(140), primary_key=True)  # "target/check"
    target_key: Mapped[str] = mapped_column(ForeignKey("targets.key"))
    name: Mapped[str] = mapped_column(String(64))
    probe: Mapped[str] = mapped_column(String(40))
    schedule: Mapped[str] = mapped_column(String(120))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Run(Base):
    """One execution of a check (巡检记录)."""

    __tablename__ = "runs"
    __table_args__ = (
        Index("ix_runs_check_started", "check_id", "started_at"),
        # The newest run of each check and outcome in one index descent (target board).
        Index("ix_runs_check_outcome_id", "check_id", "outcome", "id"),
        # The month's runs by start, covering what availability and the indicators read.
        Index("ix_runs_started_check_outcome", "started_at", "check_id", "outcome", "held"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    check_id: Mapped[str] = mapped_column(ForeignKey("checks.id"))
    purpose: Mapped[str] = mapped_column(String(20), default=RunPurpose.SCHEDULED.value)
    task_id: Mapped[int | None] = mapped_column(Integer)  # the task a verification run checks
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    duration_ms: Mapped[int] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String(20))
    summary: Mapped[str] = mapped_column(Text, default="")
    error: Mapped[str] = mapped_column(Text, default="")
    evidence: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    metrics: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    state: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Seen during a mass failure: kept as evidence, but neither opens tasks nor counts
    # toward a failing streak.
    held: Mapped[bool] = mapped_column(Boolean, default=False)
    # Judged while its target was on probation: shown, but opens no task and does not count
    # toward a failing streak.
    probation: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")

    findings: Mapped[list[FindingRow]] = relationship(
        back_populates="run", order_by="FindingRow.id"
    )


class FindingRow(Base):
    """One thing wrong seen by one run (问题)."""

    __tablename__ = "findings"
    __table_args__ = (Index("ix_findings_check_code", "check_id", "code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), index=True)
    check_id: Mapped[str] = mapped_column(String(140))
    code: Mapped[str] = mapped_column(String(80))
    severity: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(200))
    detail: Mapped[str] = mapped_column(Text)
    subjects: Mapped[list[str]] = mapped_column(JSON, default=list)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    run: Mapped[Run] = relationship(back_populates="findings")


class Task(Base):
    """The accountable follow-up of a finding on a check (整改任务)."""

    __tablename__ = "tasks"
    __table_args__ = (
        # At most one live task per (check, finding code).
        Index(
            "uq_tasks_live_check_code",
            "check_id",
            "finding_code",
            unique=True,
            sqlite_where=text(LIVE_TASK),
            postgresql_where=text(LIVE_TASK),
        ),
        Index("ix_tasks_state_deadline", "state", "deadline"),
        Index("ix_tasks_unit_state", "unit_code", "state"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    check_id: Mapped[str] = mapped_column(ForeignKey("checks.id"))
    unit_code: Mapped[str] = mapped_column(ForeignKey("units.code"))
    finding_code: Mapped[str] = mapped_column(String(80))
    severity: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(200))
    detail: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(20), default=TaskState.OPEN.value)
    opened_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    deadline: Mapped[dt.date] = mapped_column(Date)
    deadline_estimated: Mapped[bool] = mapped_column(Boolean, default=False)
    working_days: Mapped[int] = mapped_column(Integer)
    occurrences: Mapped[int] = mapped_column(Integer, default=1)
    first_run_id: Mapped[int] = mapped_column(ForeignKey("runs.id"))
    last_run_id: Mapped[int] = mapped_column(ForeignKey("runs.id"))
    last_seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    acknowledged_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    rectified_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    reopen_count: Mapped[int] = mapped_column(Integer, default=0)
    rectify_note: Mapped[str] = mapped_column(Text, default="")
    original_deadline: Mapped[dt.date] = mapped_column(Date)  # before any extension
    # How far up the chase ladder this task has gone (see notifications.chase.Rung).
    chase_level: Mapped[int] = mapped_column(Integer, default=0)
    # Bumped by every change; a change claims the task by the version it read
    # (tasks.lifecycle), so two concurrent changes cannot both apply.
    version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    history: Mapped[list[TaskHistory]] = relationship(
        back_populates="task", order_by="TaskHistory.id"
    )

    @property
    def task_state(self) -> TaskState:
        return TaskState(self.state)


class RequestKind(StrEnum):
    EXTENSION = "extension"  # 申请延期
    DISPUTE = "dispute"  # 申诉: the finding is a false alarm


class RequestState(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"  # extension granted / dispute upheld
    REFUSED = "refused"  # extension refused / dispute rejected


class TaskRequest(Base):
    """A unit's request about a task, decided by a supervisor."""

    __tablename__ = "task_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    state: Mapped[str] = mapped_column(String(20), default=RequestState.PENDING.value)
    reason: Mapped[str] = mapped_column(Text)
    days: Mapped[int | None] = mapped_column(Integer)  # working days asked for (extension)
    requested_by: Mapped[str] = mapped_column(String(120))
    requested_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    decided_by: Mapped[str | None] = mapped_column(String(120))
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    decision_note: Mapped[str] = mapped_column(Text, default="")


class WindowState(StrEnum):
    REQUESTED = "requested"  # 待审批: a unit's request (申报), not yet in force
    APPROVED = "approved"  # 已生效: no runs, no tasks inside it
    REFUSED = "refused"  # 未批准
    CANCELLED = "cancelled"  # 已取消

    @property
    def label(self) -> str:
        return WINDOW_STATE_LABELS[self]


WINDOW_STATE_LABELS = {
    WindowState.REQUESTED: "待审批",
    WindowState.APPROVED: "已生效",
    WindowState.REFUSED: "未批准",
    WindowState.CANCELLED: "已取消",
}


class WindowSource(StrEnum):
    UNIT = "unit"  # requested through a task's signed link; a supervisor decides
    OPERATOR = "operator"  # `govpatrol maintenance add`: in force at once
    CATALOG = "catalog"  # a `maintenance:` entry of the catalog, mirrored for the record


class MaintenanceWindow(Base):
    """A period during which a target is not inspected, once approved (维护窗口)."""

    __tablename__ = "maintenance_windows"
    __table_args__ = (Index("ix_maintenance_target_end", "target_key", "ends_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    target_key: Mapped[str] = mapped_column(ForeignKey("targets.key"))
    starts_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(Text)
    announced_by: Mapped[str] = mapped_column(String(120))
    announced_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    state: Mapped[str] = mapped_column(String(20), index=True)
    source: Mapped[str] = mapped_column(String(20))
    task_id: Mapped[int | None] = mapped_column(ForeignKey("tasks.id"))  # the link it came from
    decided_by: Mapped[str | None] = mapped_column(String(120))
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    decision_note: Mapped[str] = mapped_column(Text, default="")

    history: Mapped[list[MaintenanceHistory]] = relationship(
        back_populates="window", order_by="MaintenanceHistory.id"
    )

    @property
    def window_state(self) -> WindowState:
        return WindowState(self.state)


class MaintenanceHistory(Base):
    """One change of a maintenance window: who, when, why."""

    __tablename__ = "maintenance_history"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    window_id: Mapped[int] = mapped_column(
        ForeignKey("maintenance_windows.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(20))  # requested, approved, refused, added, …
    from_state: Mapped[str | None] = mapped_column(String(20))
    to_state: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text, default="")

    window: Mapped[MaintenanceWindow] = relationship(back_populates="history")


class CheckClaim(Base):
    """A run of a check in progress: one at a time per check, across processes."""

    __tablename__ = "check_claims"

    check_id: Mapped[str] = mapped_column(String(140), primary_key=True)
    holder: Mapped[str] = mapped_column(String(200))
    purpose: Mapped[str] = mapped_column(String(20))
    taken_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class UnitDigest(Base):
    """The daily digest of a unit's open tasks, sent at most once per unit and day."""

    __tablename__ = "unit_digests"

    unit_code: Mapped[str] = mapped_column(String(64), primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    tasks: Mapped[int] = mapped_column(Integer)
    written_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class TaskHistory(Base):
    """One change of a task: who, when, why, and the run behind it."""

    __tablename__ = "task_history"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"), index=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(40))
    from_state: Mapped[str | None] = mapped_column(String(20))
    to_state: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text, default="")
    run_id: Mapped[int | None] = mapped_column(ForeignKey("runs.id"))

    task: Mapped[Task] = relationship(back_populates="history")


class SchedulerLease(Base):
    """Who runs the scheduler on this database: one daemon per database at a time."""

    __tablename__ = "scheduler_lease"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    holder: Mapped[str] = mapped_column(String(200))
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class ScheduledRun(Base):
    """One due run the scheduler deferred to a location's queue (``govpatrol scheduler``).

    The worker that runs it sets ``run_id`` in the transaction that records the run, so a
    job retried after its worker died is recorded once.
    """

    __tablename__ = "scheduled_runs"
    __table_args__ = (
        UniqueConstraint("check_id", "location", "slot", name="uq_scheduled_runs_slot"),
        Index("ix_scheduled_runs_check_slot", "check_id", "slot"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    check_id: Mapped[str] = mapped_column(String(200))
    location: Mapped[str] = mapped_column(String(80))
    slot: Mapped[dt.datetime] = mapped_column(UTCDateTime)  # when the run was due
    deferred_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("runs.id"))
