"""The task lifecycle: one table of what may happen to a task, one function that does it.

    action               from                  to            who               notice
    opened               —                     open          system            task_opened
    acknowledged         open, reopened        acknowledged  unit, operator    —
    rectified            live                  rectified     unit, operator    —
    reopened             rectified             reopened      system            task_reopened
    recurred             closed                reopened      system            task_reopened
    verified             rectified             closed        system            task_closed
    auto_closed          live                  closed        system            task_closed
    closed               active                closed        supervisor, op.   task_closed
    due_soon … reported  live                  (same)        system            the rung's
    extension_requested  live                  (same)        unit, operator    extension_requested
    extension_approved   active                (same)        supervisor, op.   extension_decided
    extension_refused    active                (same)        supervisor, op.   extension_decided
    disputed             active                (same)        unit, operator    disputed
    dispute_upheld       active                invalidated   supervisor, op.   dispute_upheld
    dispute_rejected     active                (same)        supervisor, op.   dispute_rejected

(live: open, acknowledged, reopened; active: live and rectified.)

:meth:`TaskLifecycle.apply` is the only way a task changes. It claims the task with a
conditional ``UPDATE … WHERE id = :id AND version = :seen AND state IN (…) RETURNING``,
then writes the history row, and the listeners (the outbox) write their notices, all in
the caller's transaction. When another change came first it reads the task again: a step
that kept the state (a chase rung, a request) is no reason to refuse, so it tries again;
a change of state is, and it raises :class:`AlreadyMoved` instead of overwriting.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.clock import Clock
from core.db import insert_unless_present
from tasks.models import LIVE_TASK, Run, Task, TaskHistory, TaskState

log = logging.getLogger(__name__)


class TaskAction(StrEnum):
    OPENED = "opened"
    ACKNOWLEDGED = "acknowledged"
    RECTIFIED = "rectified"
    REOPENED = "reopened"
    RECURRED = "recurred"
    VERIFIED = "verified"
    AUTO_CLOSED = "auto_closed"
    CLOSED = "closed"
    DUE_SOON = "due_soon"
    OVERDUE = "overdue"
    ESCALATED = "escalated"
    REPORTED = "reported"
    EXTENSION_REQUESTED = "extension_requested"
    EXTENSION_APPROVED = "extension_approved"
    EXTENSION_REFUSED = "extension_refused"
    DISPUTED = "disputed"
    DISPUTE_UPHELD = "dispute_upheld"
    DISPUTE_REJECTED = "dispute_rejected"

    @property
    def rule(self) -> Transition:
        return TRANSITIONS[self]

    @property
    def label(self) -> str:
        return TRANSITIONS[self].label


class Role(StrEnum):
    """Who acts on a task."""

    SYSTEM = "system"  # the bot: runs and the chase
    UNIT = "unit"  # the unit's contact, through the signed link
    SUPERVISOR = "supervisor"  # a console account
    OPERATOR = "operator"  # the command line


class Notice(StrEnum):
    """The message a change sends (the outbox decides who hears it and in which words)."""

    TASK_OPENED = "task_opened"
    TASK_REOPENED = "task_reopened"
    TASK_CLOSED = "task_closed"
    DUE_SOON = "due_soon"
    OVERDUE = "overdue"
    ESCALATED = "escalated"
    REPORTED = "reported"
    EXTENSION_REQUESTED = "extension_requested"
    EXTENSION_DECIDED = "extension_decided"
    DISPUTED = "disputed"
    DISPUTE_UPHELD = "dispute_upheld"
    DISPUTE_REJECTED = "dispute_rejected"


@dataclass(frozen=True)
class Actor:
    name: str
    role: Role


SYSTEM = Actor("system", Role.SYSTEM)


@dataclass(frozen=True)
class Transition:
    action: TaskAction
    sources: frozenset[TaskState]  # the states the action may start from
    target: TaskState | None  # None: the state stays (a request, a chase step, a decision)
    roles: frozenset[Role]
    notice: Notice | None  # None: only history (the people who acted already know)
    label: str  # for timelines
    verb: str  # for refusals: "不能{verb}"


_LIVE = frozenset({TaskState.OPEN, TaskState.ACKNOWLEDGED, TaskState.REOPENED})
_ACTIVE = frozenset(state for state in TaskState if state.active)
_BOT = frozenset({Role.SYSTEM})
_UNIT = frozenset({Role.UNIT, Role.OPERATOR})
_SUPERVISOR = frozenset({Role.SUPERVISOR, Role.OPERATOR})
A = TaskAction
S = TaskState


def _rules(*rules: Transition) -> dict[TaskAction, Transition]:
    table = {rule.action: rule for rule in rules}
    missing = set(TaskAction) - set(table)
    if missing:  # a new action without a rule must not import, let alone run
        raise RuntimeError(f"no transition for {sorted(missing)}")
    return table


TRANSITIONS: Mapping[TaskAction, Transition] = _rules(
    Transition(A.OPENED, frozenset(), S.OPEN, _BOT, Notice.TASK_OPENED, "立案（发现问题）", "立案"),
    Transition(
        A.ACKNOWLEDGED, frozenset({S.OPEN, S.REOPENED}), S.ACKNOWLEDGED, _UNIT, None, "签收", "签收"
    ),
    Transition(A.RECTIFIED, _LIVE, S.RECTIFIED, _UNIT, None, "报送整改", "报送整改"),
    Transition(
        A.REOPENED,
        frozenset({S.RECTIFIED}),
        S.REOPENED,
        _BOT,
        Notice.TASK_REOPENED,
        "退回整改",
        "退回",
    ),
    Transition(
        A.RECURRED,
        frozenset({S.CLOSED}),
        S.REOPENED,
        _BOT,
        Notice.TASK_REOPENED,
        "销号后问题复现，重新整改",
        "重新整改",
    ),
    Transition(
        A.VERIFIED,
        frozenset({S.RECTIFIED}),
        S.CLOSED,
        _BOT,
        Notice.TASK_CLOSED,
        "复核通过，销号",
        "复核销号",
    ),
    Transition(
        A.AUTO_CLOSED, _LIVE, S.CLOSED, _BOT, Notice.TASK_CLOSED, "巡检通过，自动销号", "自动销号"
    ),
    Transition(A.CLOSED, _ACTIVE, S.CLOSED, _SUPERVISOR, Notice.TASK_CLOSED, "销号", "销号"),
    Transition(A.DUE_SOON, _LIVE, None, _BOT, Notice.DUE_SOON, "到期提醒", "提醒"),
    Transition(A.OVERDUE, _LIVE, None, _BOT, Notice.OVERDUE, "超期催办", "催办"),
    Transition(A.ESCALATED, _LIVE, None, _BOT, Notice.ESCALATED, "提请督办", "督办"),
    Transition(A.REPORTED, _LIVE, None, _BOT, Notice.REPORTED, "纳入通报", "通报"),
    Transition(
        A.EXTENSION_REQUESTED,
        _LIVE,
        None,
        _UNIT,
        Notice.EXTENSION_REQUESTED,
        "申请延期",
        "申请延期",
    ),
    Transition(
        A.EXTENSION_APPROVED,
        _ACTIVE,
        None,
        _SUPERVISOR,
        Notice.EXTENSION_DECIDED,
        "批准延期",
        "批准延期",
    ),
    Transition(
        A.EXTENSION_REFUSED,
        _ACTIVE,
        None,
        _SUPERVISOR,
        Notice.EXTENSION_DECIDED,
        "不予延期",
        "审批延期",
    ),
    Transition(A.DISPUTED, _ACTIVE, None, _UNIT, Notice.DISPUTED, "提出申诉", "申诉"),
    Transition(
        A.DISPUTE_UPHELD,
        _ACTIVE,
        S.INVALIDATED,
        _SUPERVISOR,
        Notice.DISPUTE_UPHELD,
        "申诉成立，撤销任务",
        "撤销",
    ),
    Transition(
        A.DISPUTE_REJECTED,
        _ACTIVE,
        None,
        _SUPERVISOR,
        Notice.DISPUTE_REJECTED,
        "申诉不成立",
        "审核申诉",
    ),
)
del A, S

# The actions that send a task back to the unit (scorecards count them as 退回/复现).
REOPENINGS = (TaskAction.REOPENED, TaskAction.RECURRED)
# The states the chase climbs from (rectified tasks wait for their verification).
CHASED_STATES = _LIVE


def may(action: TaskAction, state: TaskState, role: Role) -> bool:
    """Whether ``role`` may take ``action`` on a task in ``state`` (for page buttons)."""
    rule = TRANSITIONS[action]
    return state in rule.sources and role in rule.roles


class TaskError(Exception):
    """A task change that is not allowed (unknown task, wrong state); the text is Chinese."""


class AlreadyMoved(TaskError):
    """The task is no longer in a state the action starts from: another change came first."""

    def __init__(
        self, task_id: int, state: TaskState, rule: Transition, *, meanwhile: bool = False
    ) -> None:
        if meanwhile:
            text = f"任务 {task_id} 刚刚变为“{state.label}”，请刷新后再决定是否{rule.verb}"
        else:
            text = f"任务 {task_id} 当前为“{state.label}”，不能{rule.verb}"
        super().__init__(text)
        self.task_id = task_id
        self.state = state


class NotPermitted(TaskError):
    def __init__(self, actor: Actor, rule: Transition) -> None:
        super().__init__(f"{actor.name}无权{rule.verb}")


TaskListener = Callable[[Session, Task, TaskHistory], None]
# Column values to set with the change: fixed, or computed from the task as just read.
Changes = Mapping[str, Any] | Callable[[Task], Mapping[str, Any]]

_LIVE_INDEX = text(LIVE_TASK)
_RETRIES = 5  # re-reads when a concurrent step (a chase rung, a request) bumped the version


class TaskLifecycle:
    def __init__(self, clock: Clock, listeners: Sequence[TaskListener] = ()) -> None:
        self.clock = clock
        self.listeners = list(listeners)

    def open(
        self, session: Session, values: Mapping[str, Any], reason: str, run: Run
    ) -> Task | None:
        """Insert a new open task, or return None when a live one for the same check and
        finding code exists already (another worker opened it first)."""
        # The live-task index's own predicate, so that both databases infer the index.
        insert_new = insert_unless_present(
            session, Task, values, key=("check_id", "finding_code"), where=_LIVE_INDEX
        )
        task_id = session.scalar(insert_new.returning(Task.id))
        if task_id is None:
            return None
        task = session.get_one(Task, task_id)
        self._record(session, task, None, TaskAction.OPENED, SYSTEM, reason, run)
        return task

    def apply(
        self,
        session: Session,
        task_id: int,
        action: TaskAction,
        actor: Actor,
        reason: str,
        *,
        run: Run | None = None,
        changes: Changes = {},  # noqa: B006  (read only)
    ) -> TaskHistory:
        """Take ``action`` on the task, or raise :class:`TaskError` saying why not."""
        rule = TRANSITIONS[action]
        if actor.role not in rule.roles:
            raise NotPermitted(actor, rule)
        first: TaskState | None = None
        for _ in range(_RETRIES):
            task = _read(session, task_id)
            before = task.task_state
            if first is not None and before is not first:
                # Another change moved the task while this one was on its way: whoever
                # acted saw a task that no longer is, so nothing is applied on their behalf.
                raise AlreadyMoved(task_id, before, rule, meanwhile=True)
            if before not in rule.sources:
                raise AlreadyMoved(task_id, before, rule)
            first = before
            values = dict(changes(task) if callable(changes) else changes)
            if rule.target is not None:
                values["state"] = rule.target.value
            claimed = self._claim(session, [task_id], rule, (Task.version == task.version,), values)
            if claimed:
                return self._record(session, claimed[0], before, action, actor, reason, run)
        raise TaskError(f"任务 {task_id} 正被频繁修改，请稍后重试")

    def apply_many(
        self,
        session: Session,
        task_ids: Sequence[int],
        action: TaskAction,
        *,
        where: Sequence[ColumnElement[bool]],
        values: Mapping[str, Any],
        reason: Callable[[Task], str],
    ) -> list[Task]:
        """Take a state-keeping system ``action`` on every task of ``task_ids`` that still
        meets ``where`` (the chase's rung condition); return the tasks that moved."""
        rule = TRANSITIONS[action]
        if rule.target is not None:
            raise ValueError(f"{action} changes state; apply it task by task")
        claimed = sorted(self._claim(session, task_ids, rule, where, values), key=lambda t: t.id)
        for task in claimed:
            self._record(session, task, task.task_state, action, SYSTEM, reason(task), None)
        return claimed

    def _claim(
        self,
        session: Session,
        task_ids: Sequence[int],
        rule: Transition,
        where: Sequence[ColumnElement[bool]],
        values: Mapping[str, Any],
    ) -> list[Task]:
        claim = (
            update(Task)
            .where(
                Task.id.in_(task_ids),
                Task.state.in_([state.value for state in rule.sources]),
                *where,
            )
            .values(version=Task.version + 1, **values)
            .returning(Task)
            .execution_options(populate_existing=True, synchronize_session=False)
        )
        try:
            # A savepoint: reopening a closed task can meet a live one opened meanwhile
            # (the unique index); that is "already moved", not a failed transaction.
            with session.begin_nested():
                return list(session.scalars(claim).all())
        except IntegrityError:
            return []

    def _record(
        self,
        session: Session,
        task: Task,
        before: TaskState | None,
        action: TaskAction,
        actor: Actor,
        reason: str,
        run: Run | None,
    ) -> TaskHistory:
        row = TaskHistory(
            task_id=task.id,
            at=run.finished_at if run is not None else self.clock.now(),
            actor=actor.name,
            action=action.value,
            from_state=before.value if before else None,
            to_state=task.state,
            reason=reason,
            run_id=run.id if run is not None else None,
        )
        session.add(row)
        session.flush()
        log.info(
            "task %s %s: %s → %s by %s (%s)", task.id, action, before, task.state, actor.name,
            actor.role,
        )  # fmt: skip
        for listener in self.listeners:
            listener(session, task, row)
        return row


def get_task(session: Session, task_id: int) -> Task:
    task = session.get(Task, task_id)
    if task is None:
        raise TaskError(f"没有编号为 {task_id} 的整改任务")
    return task


def _read(session: Session, task_id: int) -> Task:
    task = session.get(Task, task_id, populate_existing=True)
    if task is None:
        raise TaskError(f"没有编号为 {task_id} 的整改任务")
    return task
