"""Every change of a task is a history row, and every history row reaches the listeners.

Both the run-driven tracker and the people-driven desk write through :class:`ChangeLog`,
inside the caller's transaction: the change, its history row and whatever the listeners
write (the notification outbox) commit together or not at all.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from sqlalchemy.orm import Session

from core.clock import Clock
from tasks.models import Run, Task, TaskHistory, TaskState

log = logging.getLogger(__name__)

SYSTEM = "system"  # the actor of changes the bot makes by itself

TaskListener = Callable[[Session, Task, TaskHistory], None]


class TaskError(Exception):
    """A task change that is not allowed (unknown task, wrong state); the text is Chinese."""


class ChangeLog:
    def __init__(self, clock: Clock, listeners: Sequence[TaskListener] = ()) -> None:
        self.clock = clock
        self.listeners = list(listeners)

    def transition(
        self,
        session: Session,
        task: Task,
        to: TaskState,
        action: str,
        actor: str,
        reason: str,
        run: Run | None = None,
    ) -> TaskHistory:
        """Move ``task`` to state ``to`` and record why."""
        before = task.task_state
        task.state = to.value
        return self.record(session, task, before, action, actor, reason, run)

    def note(
        self, session: Session, task: Task, action: str, actor: str, reason: str
    ) -> TaskHistory:
        """Record a change that keeps the state (a request, a chase step, a new deadline)."""
        return self.record(session, task, task.task_state, action, actor, reason, None)

    def record(
        self,
        session: Session,
        task: Task,
        before: TaskState | None,
        action: str,
        actor: str,
        reason: str,
        run: Run | None,
    ) -> TaskHistory:
        row = TaskHistory(
            task_id=task.id,
            at=run.finished_at if run is not None else self.clock.now(),
            actor=actor,
            action=action,
            from_state=before.value if before else None,
            to_state=task.state,
            reason=reason,
            run_id=run.id if run is not None else None,
        )
        session.add(row)
        session.flush()
        log.info("task %s %s: %s → %s by %s", task.id, action, before, task.state, actor)
        for listener in self.listeners:
            listener(session, task, row)
        return row


def require_state(task: Task, allowed: set[TaskState], what: str) -> None:
    if task.task_state not in allowed:
        raise TaskError(f"任务 {task.id} 当前为“{task.task_state.label}”，不能{what}")


def get_task(session: Session, task_id: int) -> Task:
    task = session.get(Task, task_id)
    if task is None:
        raise TaskError(f"没有编号为 {task_id} 的整改任务")
    return task
