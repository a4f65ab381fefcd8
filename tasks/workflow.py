"""What people do with a task: the unit acknowledges (签收), reports the fix (整改说明),
asks for more time (申请延期) or disputes a false alarm (申诉); a supervisor decides.

Each action is one transition of :mod:`tasks.lifecycle`, in the caller's transaction, so
the notices it causes commit with it. A task is claimed before any request row is read or
written, so two people acting at once are served one after the other, never both.
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from core.calendar import WorkingCalendar
from tasks.lifecycle import Actor, TaskAction, TaskError, TaskLifecycle, get_task
from tasks.models import RequestKind, RequestState, Task, TaskRequest

MAX_EXTENSION_DAYS = 30


class TaskDesk:
    def __init__(self, lifecycle: TaskLifecycle, calendar: WorkingCalendar) -> None:
        self.lifecycle = lifecycle
        self.clock = lifecycle.clock
        self.calendar = calendar

    def get(self, session: Session, task_id: int) -> Task:
        return get_task(session, task_id)

    # -- the unit --------------------------------------------------------------------------

    def acknowledge(self, session: Session, task_id: int, actor: Actor, note: str = "") -> Task:
        changes = {"acknowledged_at": self.clock.now()}
        self.lifecycle.apply(
            session, task_id, TaskAction.ACKNOWLEDGED, actor, note, changes=changes
        )
        return get_task(session, task_id)

    def report_rectified(self, session: Session, task_id: int, actor: Actor, note: str) -> Task:
        """The unit says it is fixed; the caller then runs the verification (复核)."""
        if not note.strip():
            raise TaskError("请填写整改说明")
        changes = {"rectified_at": self.clock.now(), "rectify_note": note.strip()}
        self.lifecycle.apply(session, task_id, TaskAction.RECTIFIED, actor, note, changes=changes)
        return get_task(session, task_id)

    def request_extension(
        self, session: Session, task_id: int, actor: Actor, days: int, reason: str
    ) -> TaskRequest:
        if not 1 <= days <= MAX_EXTENSION_DAYS:
            raise TaskError(f"延期天数应为 1 至 {MAX_EXTENSION_DAYS} 个工作日")
        why = f"申请延期 {days} 个工作日：{reason}"
        return self._request(
            session, task_id, TaskAction.EXTENSION_REQUESTED, actor, reason, why, days
        )

    def dispute(self, session: Session, task_id: int, actor: Actor, reason: str) -> TaskRequest:
        why = f"申诉：{reason}"
        return self._request(session, task_id, TaskAction.DISPUTED, actor, reason, why, None)

    # -- the supervisor -------------------------------------------------------------------

    def decide_extension(
        self,
        session: Session,
        request_id: int,
        actor: Actor,
        approve: bool,
        note: str = "",
        days: int | None = None,
    ) -> Task:
        """Approve (the deadline moves by ``days``, default the days asked) or refuse."""
        request = self._pending(session, request_id, RequestKind.EXTENSION)
        if not approve:
            self.lifecycle.apply(
                session, request.task_id, TaskAction.EXTENSION_REFUSED, actor, note or "不予延期"
            )
            return self._decided(session, request, RequestState.REFUSED, actor, note)
        granted = days if days is not None else (request.days or 0)
        if not 1 <= granted <= MAX_EXTENSION_DAYS:
            raise TaskError(f"延期天数应为 1 至 {MAX_EXTENSION_DAYS} 个工作日")
        task = get_task(session, request.task_id)
        new = self.calendar.add_working_days(task.deadline, granted)
        reason = f"同意延期 {granted} 个工作日，整改时限由 {task.deadline} 调整为 {new.due}"
        changes = {
            "deadline": new.due,
            "deadline_estimated": task.deadline_estimated or new.estimated,
            "working_days": Task.working_days + granted,
            "chase_level": 0,  # the ladder starts again from the new deadline
        }
        # Claimed by the version read here: a concurrent deadline change makes this a retry
        # on fresh values, never a deadline computed from a stale one.
        self.lifecycle.apply(
            session,
            task.id,
            TaskAction.EXTENSION_APPROVED,
            actor,
            f"{reason}。{note}" if note else reason,
            changes=lambda fresh: changes if fresh.deadline == task.deadline else _stale(fresh),
        )
        request.days = granted
        return self._decided(session, request, RequestState.APPROVED, actor, note)

    def decide_dispute(
        self, session: Session, request_id: int, actor: Actor, uphold: bool, note: str = ""
    ) -> Task:
        """Uphold (the task is invalidated: a false alarm) or reject (the task goes on)."""
        request = self._pending(session, request_id, RequestKind.DISPUTE)
        if uphold:
            self.lifecycle.apply(
                session,
                request.task_id,
                TaskAction.DISPUTE_UPHELD,
                actor,
                note or "申诉成立，问题系误报，任务撤销",
                changes={"closed_at": self.clock.now()},
            )
            return self._decided(session, request, RequestState.APPROVED, actor, note)
        why = note or "申诉不成立"
        self.lifecycle.apply(session, request.task_id, TaskAction.DISPUTE_REJECTED, actor, why)
        return self._decided(session, request, RequestState.REFUSED, actor, note)

    def close(self, session: Session, task_id: int, actor: Actor, reason: str) -> Task:
        """Close by decision (a supervisor's), without a verification run."""
        changes = {"closed_at": self.clock.now()}
        self.lifecycle.apply(session, task_id, TaskAction.CLOSED, actor, reason, changes=changes)
        return get_task(session, task_id)

    def requests(self, session: Session, task_id: int) -> list[TaskRequest]:
        return list(
            session.scalars(
                select(TaskRequest).where(TaskRequest.task_id == task_id).order_by(TaskRequest.id)
            )
        )

    # -- internals ------------------------------------------------------------------------

    def _request(
        self,
        session: Session,
        task_id: int,
        action: TaskAction,
        actor: Actor,
        reason: str,
        why: str,
        days: int | None,
    ) -> TaskRequest:
        if not reason.strip():
            raise TaskError("请填写理由")
        kind = (
            RequestKind.EXTENSION
            if action is TaskAction.EXTENSION_REQUESTED
            else RequestKind.DISPUTE
        )
        # The transition claims the task first: a second request made at the same moment
        # waits for this one's commit and then finds it pending below.
        self.lifecycle.apply(session, task_id, action, actor, why)
        pending = session.scalar(
            select(TaskRequest.id).where(
                TaskRequest.task_id == task_id,
                TaskRequest.kind == kind.value,
                TaskRequest.state == RequestState.PENDING.value,
            )
        )
        if pending is not None:
            what = "延期申请" if kind is RequestKind.EXTENSION else "申诉"
            raise TaskError(f"任务 {task_id} 已有待审批的{what}（#{pending}）")
        request = TaskRequest(
            task_id=task_id,
            kind=kind.value,
            state=RequestState.PENDING.value,
            reason=reason.strip(),
            days=days,
            requested_by=actor.name,
            requested_at=self.clock.now(),
        )
        session.add(request)
        session.flush()
        return request

    def _pending(self, session: Session, request_id: int, kind: RequestKind) -> TaskRequest:
        request = session.get(TaskRequest, request_id)
        if request is None or request.kind != kind.value:
            what = "延期申请" if kind is RequestKind.EXTENSION else "申诉"
            raise TaskError(f"没有编号为 {request_id} 的{what}")
        if request.state != RequestState.PENDING.value:
            raise TaskError(f"申请 #{request_id} 已处理")
        return request

    def _decided(
        self,
        session: Session,
        request: TaskRequest,
        state: RequestState,
        actor: Actor,
        note: str,
    ) -> Task:
        """Record the decision, once: the task was claimed by the transition just taken,
        so a second decision of the same request waits for it and then finds it decided."""
        decided = session.execute(
            update(TaskRequest)
            .where(TaskRequest.id == request.id, TaskRequest.state == RequestState.PENDING.value)
            .values(
                state=state.value,
                days=request.days,
                decided_by=actor.name,
                decided_at=self.clock.now(),
                decision_note=note,
            )
            .execution_options(synchronize_session=False)
        )
        if decided.rowcount != 1:  # type: ignore[attr-defined]
            raise TaskError(f"申请 #{request.id} 已处理")
        session.refresh(request)
        return get_task(session, request.task_id)


def _stale(task: Task) -> dict[str, object]:
    raise TaskError(f"任务 {task.id} 的整改时限刚被修改，请刷新后重新审批")
