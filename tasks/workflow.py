"""What people do with a task: the unit acknowledges (签收), reports the fix (整改说明),
asks for more time (申请延期) or disputes a false alarm (申诉); a supervisor decides.

Each action is one history row written through the change log, in the caller's
transaction, so the notices it causes commit with it.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.calendar import WorkingCalendar
from tasks.changes import ChangeLog, TaskError, get_task, require_state
from tasks.models import RequestKind, RequestState, Task, TaskRequest, TaskState

MAX_EXTENSION_DAYS = 30
_LIVE = {TaskState.OPEN, TaskState.ACKNOWLEDGED, TaskState.REOPENED}


class TaskDesk:
    def __init__(self, changes: ChangeLog, calendar: WorkingCalendar) -> None:
        self.changes = changes
        self.calendar = calendar

    def get(self, session: Session, task_id: int) -> Task:
        return get_task(session, task_id)

    # -- the unit --------------------------------------------------------------------------

    def acknowledge(self, session: Session, task_id: int, actor: str, note: str = "") -> Task:
        task = get_task(session, task_id)
        require_state(task, {TaskState.OPEN, TaskState.REOPENED}, "签收")
        task.acknowledged_at = self.changes.clock.now()
        self.changes.transition(session, task, TaskState.ACKNOWLEDGED, "acknowledged", actor, note)
        return task

    def report_rectified(self, session: Session, task_id: int, actor: str, note: str) -> Task:
        """The unit says it is fixed; the caller then runs the verification (复核)."""
        if not note.strip():
            raise TaskError("请填写整改说明")
        task = get_task(session, task_id)
        require_state(task, _LIVE, "报送整改")
        task.rectified_at = self.changes.clock.now()
        task.rectify_note = note.strip()
        self.changes.transition(session, task, TaskState.RECTIFIED, "rectified", actor, note)
        return task

    def request_extension(
        self, session: Session, task_id: int, actor: str, days: int, reason: str
    ) -> TaskRequest:
        task = get_task(session, task_id)
        require_state(task, _LIVE, "申请延期")
        if not 1 <= days <= MAX_EXTENSION_DAYS:
            raise TaskError(f"延期天数应为 1 至 {MAX_EXTENSION_DAYS} 个工作日")
        request = self._new_request(session, task, RequestKind.EXTENSION, actor, reason, days)
        self.changes.note(
            session, task, "extension_requested", actor, f"申请延期 {days} 个工作日：{reason}"
        )
        return request

    def dispute(self, session: Session, task_id: int, actor: str, reason: str) -> TaskRequest:
        task = get_task(session, task_id)
        require_state(task, {*_LIVE, TaskState.RECTIFIED}, "申诉")
        request = self._new_request(session, task, RequestKind.DISPUTE, actor, reason, None)
        self.changes.note(session, task, "disputed", actor, f"申诉：{reason}")
        return request

    # -- the supervisor -------------------------------------------------------------------

    def decide_extension(
        self,
        session: Session,
        request_id: int,
        actor: str,
        approve: bool,
        note: str = "",
        days: int | None = None,
    ) -> Task:
        """Approve (the deadline moves by ``days``, default the days asked) or refuse."""
        request, task = self._pending(session, request_id, RequestKind.EXTENSION)
        if not approve:
            self._decide(request, RequestState.REFUSED, actor, note)
            self.changes.note(session, task, "extension_refused", actor, note or "不予延期")
            return task
        granted = days if days is not None else (request.days or 0)
        if not 1 <= granted <= MAX_EXTENSION_DAYS:
            raise TaskError(f"延期天数应为 1 至 {MAX_EXTENSION_DAYS} 个工作日")
        new = self.calendar.add_working_days(task.deadline, granted)
        old = task.deadline
        task.deadline, task.deadline_estimated = new.due, task.deadline_estimated or new.estimated
        task.working_days += granted
        task.chase_level = 0  # the ladder starts again from the new deadline
        request.days = granted
        self._decide(request, RequestState.APPROVED, actor, note)
        reason = f"同意延期 {granted} 个工作日，整改时限由 {old} 调整为 {new.due}"
        detail = f"{reason}。{note}" if note else reason
        self.changes.note(session, task, "extension_approved", actor, detail)
        return task

    def decide_dispute(
        self, session: Session, request_id: int, actor: str, uphold: bool, note: str = ""
    ) -> Task:
        """Uphold (the task is invalidated: a false alarm) or reject (the task goes on)."""
        request, task = self._pending(session, request_id, RequestKind.DISPUTE)
        if uphold:
            self._decide(request, RequestState.APPROVED, actor, note)
            task.closed_at = self.changes.clock.now()
            self.changes.transition(
                session,
                task,
                TaskState.INVALIDATED,
                "dispute_upheld",
                actor,
                note or "申诉成立，问题系误报，任务撤销",
            )
        else:
            self._decide(request, RequestState.REFUSED, actor, note)
            self.changes.note(session, task, "dispute_rejected", actor, note or "申诉不成立")
        return task

    def close(self, session: Session, task_id: int, actor: str, reason: str) -> Task:
        """Close by decision (a supervisor's), without a verification run."""
        task = get_task(session, task_id)
        if not task.task_state.active:
            raise TaskError(f"任务 {task_id} 已是“{task.task_state.label}”状态")
        task.closed_at = self.changes.clock.now()
        self.changes.transition(session, task, TaskState.CLOSED, "closed", actor, reason)
        return task

    def requests(self, session: Session, task_id: int) -> list[TaskRequest]:
        return list(
            session.scalars(
                select(TaskRequest).where(TaskRequest.task_id == task_id).order_by(TaskRequest.id)
            )
        )

    # -- internals ------------------------------------------------------------------------

    def _new_request(
        self,
        session: Session,
        task: Task,
        kind: RequestKind,
        actor: str,
        reason: str,
        days: int | None,
    ) -> TaskRequest:
        if not reason.strip():
            raise TaskError("请填写理由")
        pending = session.scalar(
            select(TaskRequest.id).where(
                TaskRequest.task_id == task.id,
                TaskRequest.kind == kind.value,
                TaskRequest.state == RequestState.PENDING.value,
            )
        )
        if pending is not None:
            what = "延期申请" if kind is RequestKind.EXTENSION else "申诉"
            raise TaskError(f"任务 {task.id} 已有待审批的{what}（#{pending}）")
        request = TaskRequest(
            task_id=task.id,
            kind=kind.value,
            state=RequestState.PENDING.value,
            reason=reason.strip(),
            days=days,
            requested_by=actor,
            requested_at=self.changes.clock.now(),
        )
        session.add(request)
        session.flush()
        return request

    def _pending(
        self, session: Session, request_id: int, kind: RequestKind
    ) -> tuple[TaskRequest, Task]:
        request = session.get(TaskRequest, request_id)
        if request is None or request.kind != kind.value:
            what = "延期申请" if kind is RequestKind.EXTENSION else "申诉"
            raise TaskError(f"没有编号为 {request_id} 的{what}")
        if request.state != RequestState.PENDING.value:
            raise TaskError(f"申请 #{request_id} 已处理")
        task = get_task(session, request.task_id)
        if not task.task_state.active:
            raise TaskError(f"任务 {task.id} 已是“{task.task_state.label}”状态")
        return request, task

    def _decide(self, request: TaskRequest, state: RequestState, actor: str, note: str) -> None:
        request.state = state.value
        request.decided_by = actor
        request.decided_at = self.changes.clock.now()
        request.decision_note = note
