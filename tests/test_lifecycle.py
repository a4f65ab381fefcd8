"""The task lifecycle: one table, one claimed transition — on SQLite and PostgreSQL.

The race tests hold two appliers at the same point (both have read the task, neither has
written it) and then let them go, so the race is the same every time: without the claim
both would apply, with it exactly one does.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy import Engine, event, func, select

from bot.services import Services
from core.clock import FakeClock
from core.results import Outcome, ProbeResult
from notifications.models import Notification
from notifications.outbox import notice_plan
from tasks.lifecycle import (
    TRANSITIONS,
    Actor,
    AlreadyMoved,
    Notice,
    NotPermitted,
    Role,
    TaskAction,
    TaskError,
    may,
)
from tasks.models import RunPurpose, Task, TaskHistory, TaskState
from tests.conftest import ServicesFactory, at
from tests.workflow_helpers import CHECK, failing, open_task, tree_catalog

HOOK = "json://127.0.0.1:9"
UNIT = Actor("联系人孙", Role.UNIT)
SUPERVISOR = Actor("督办员赵", Role.SUPERVISOR)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(at("2026-11-23 10:00"))  # a Monday


@pytest.fixture
def services(make_services: ServicesFactory, engine: Engine, clock: FakeClock) -> Services:
    return make_services(tree_catalog(HOOK), engine=engine, clock=clock)


# -- the table ----------------------------------------------------------------------------


def test_every_action_has_one_rule_and_every_notice_has_words_and_hearers() -> None:
    assert set(TRANSITIONS) == set(TaskAction)
    sent = {rule.notice for rule in TRANSITIONS.values() if rule.notice is not None}
    assert sent == set(Notice)  # no notice without an action that sends it
    for notice in Notice:
        render, circles = notice_plan(notice)
        assert circles and callable(render)


def test_page_buttons_follow_the_table() -> None:
    assert may(TaskAction.ACKNOWLEDGED, TaskState.OPEN, Role.UNIT)
    assert not may(TaskAction.ACKNOWLEDGED, TaskState.ACKNOWLEDGED, Role.UNIT)
    assert may(TaskAction.DISPUTED, TaskState.RECTIFIED, Role.UNIT)
    assert not may(TaskAction.CLOSED, TaskState.OPEN, Role.UNIT)  # a unit cannot close
    assert not may(TaskAction.RECTIFIED, TaskState.CLOSED, Role.UNIT)


def test_a_unit_cannot_take_a_supervisors_action(services: Services, clock: FakeClock) -> None:
    task = open_task(services, clock)
    with pytest.raises(NotPermitted, match="无权销号"), services.sessions.begin() as session:
        services.desk.close(session, task.id, UNIT, "我们自己核实过了")
    assert state_of(services, task.id) == TaskState.OPEN.value


def test_an_action_that_no_longer_applies_says_so(services: Services, clock: FakeClock) -> None:
    task = open_task(services, clock)
    with services.sessions.begin() as session:
        services.desk.acknowledge(session, task.id, UNIT, "收到")
    refused = pytest.raises(AlreadyMoved, match="当前为“已签收”，不能签收")
    with refused, services.sessions.begin() as session:
        services.desk.acknowledge(session, task.id, UNIT, "再次签收")
    assert actions(services, task.id) == ["opened", "acknowledged"]


def test_a_chase_step_in_between_does_not_refuse_the_units_action(
    services: Services, clock: FakeClock
) -> None:
    """A rung bumps the task's version; the unit's action reads the task again and goes on."""
    task = open_task(services, clock)
    with services.sessions.begin() as session:
        seen = session.get_one(Task, task.id)
        services.lifecycle.apply_many(
            session,
            [task.id],
            TaskAction.DUE_SOON,
            where=[Task.chase_level == 0],
            values={"chase_level": 1},
            reason=lambda _: "整改时限将至",
        )
        assert seen.version == 1
    with services.sessions.begin() as session:
        services.desk.acknowledge(session, task.id, UNIT, "收到")
    assert actions(services, task.id) == ["opened", "due_soon", "acknowledged"]


# -- races --------------------------------------------------------------------------------


@contextmanager
def held_before(engine: Engine, statement: str, parties: int = 2) -> Iterator[None]:
    """Hold each thread at its first ``statement`` until all ``parties`` threads are there.

    On SQLite a writer that started earlier holds the database lock, so the other thread
    cannot reach the point; the barrier then times out and lets the first one go on.
    """
    barrier = threading.Barrier(parties, timeout=2.0)
    passed: set[int] = set()

    def hold(_conn: Any, _cursor: Any, sql: str, *_args: Any) -> None:
        me = threading.get_ident()
        if sql.lstrip().upper().startswith(statement) and me not in passed:
            passed.add(me)
            with suppress(threading.BrokenBarrierError):
                barrier.wait()

    event.listen(engine, "before_cursor_execute", hold)
    try:
        yield
    finally:
        event.remove(engine, "before_cursor_execute", hold)


def at_once(*appliers: Callable[[], object]) -> list[BaseException | None]:
    """Run ``appliers`` in threads at the same time; return what each raised (or None)."""
    raised: list[BaseException | None] = [None] * len(appliers)

    def run(index: int) -> None:
        try:
            appliers[index]()
        except BaseException as exc:
            raised[index] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(appliers))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return raised


def test_scheduled_run_and_verification_at_once_make_one_transition(
    services: Services, engine: Engine, clock: FakeClock
) -> None:
    task = open_task(services, clock)
    with services.sessions.begin() as session:
        services.desk.report_rectified(session, task.id, UNIT, "已修复搜索索引")
    clock.advance(dt.timedelta(minutes=5))
    before = notice_count(services)

    def run(result: ProbeResult, purpose: RunPurpose) -> Callable[[], object]:
        def apply() -> object:
            with services.sessions.begin() as session:
                recorded = services.tracker.record_run(
                    session,
                    CHECK,
                    result,
                    started_at=clock.now(),
                    finished_at=clock.now(),
                    purpose=purpose,
                    task_id=task.id if purpose is RunPurpose.VERIFICATION else None,
                )
                return services.tracker.apply_run(session, recorded, services.policy(CHECK))

        return apply

    with held_before(engine, "UPDATE TASKS"):
        raised = at_once(
            run(ProbeResult(Outcome.PASS), RunPurpose.VERIFICATION),
            run(failing(), RunPurpose.SCHEDULED),
        )
    assert raised == [None, None]
    after = actions(services, task.id)[2:]  # after opened, rectified
    assert after in (["verified"], ["reopened"])
    assert notice_count(services) == before + 1  # 已销号 or 退回, never both


def test_unit_reports_the_fix_while_a_supervisor_closes(
    services: Services, engine: Engine, clock: FakeClock
) -> None:
    task = open_task(services, clock)
    before = notice_count(services)

    def rectify() -> object:
        with services.sessions.begin() as session:
            return services.desk.report_rectified(session, task.id, UNIT, "已修复")

    def close() -> object:
        with services.sessions.begin() as session:
            return services.desk.close(session, task.id, SUPERVISOR, "现场核实已整改")

    with held_before(engine, "UPDATE TASKS"):
        raised = at_once(rectify, close)
    refused = [exc for exc in raised if exc is not None]
    assert len(refused) == 1 and isinstance(refused[0], AlreadyMoved)
    (last,) = actions(services, task.id)[1:]
    assert last in ("rectified", "closed")
    # 销号 tells the unit; 报送整改 tells nobody (the unit made it).
    assert notice_count(services) == before + (1 if last == "closed" else 0)


def test_two_supervisors_decide_one_extension_once(
    services: Services, engine: Engine, clock: FakeClock
) -> None:
    task = open_task(services, clock)
    with services.sessions.begin() as session:
        request = services.desk.request_extension(session, task.id, UNIT, 3, "需采购设备")
    before = notice_count(services)

    def approve() -> object:
        with services.sessions.begin() as session:
            return services.desk.decide_extension(session, request.id, SUPERVISOR, approve=True)

    with held_before(engine, "UPDATE TASKS"):
        raised = at_once(approve, approve)
    assert sum(exc is not None for exc in raised) == 1
    assert actions(services, task.id).count("extension_approved") == 1
    with services.sessions() as session:
        assert session.get_one(Task, task.id).deadline == dt.date(2026, 12, 3)  # moved once
    assert notice_count(services) == before + 1


def test_two_workers_failing_one_check_open_one_task(
    services: Services, engine: Engine, clock: FakeClock
) -> None:
    def worker() -> object:
        with services.sessions.begin() as session:
            recorded = services.tracker.record_run(
                session, CHECK, failing(), started_at=clock.now(), finished_at=clock.now()
            )
            return services.tracker.apply_run(session, recorded, services.policy(CHECK))

    with held_before(engine, "INSERT INTO TASKS"):
        raised = at_once(worker, worker)
    assert raised == [None, None]
    with services.sessions() as session:
        (task,) = session.scalars(select(Task)).all()
        assert task.occurrences == 2  # the second run counted on the task the first opened
    assert actions(services, task.id) == ["opened"]
    assert notice_count(services) == 1  # one 整改通知 to the unit's one contact


def test_the_same_alert_queued_twice_at_once_is_one_notice(
    make_services: ServicesFactory, engine: Engine, clock: FakeClock
) -> None:
    made = make_services(
        tree_catalog(HOOK), engine=engine, clock=clock, operator_notify=[SecretStr(f"{HOOK}/ops")]
    )

    def alert() -> object:
        with made.sessions.begin() as session:
            made.outbox.alert_operator(session, "巡检浏览器无法启动", ["详情"], key="browser")
        return None

    with held_before(engine, "INSERT INTO NOTIFICATIONS"):
        raised = at_once(alert, alert)
    assert raised == [None, None]
    assert notice_count(made) == 1


# -- helpers ------------------------------------------------------------------------------


def actions(services: Services, task_id: int) -> list[str]:
    with services.sessions() as session:
        return list(
            session.scalars(
                select(TaskHistory.action)
                .where(TaskHistory.task_id == task_id)
                .order_by(TaskHistory.id)
            )
        )


def state_of(services: Services, task_id: int) -> str:
    with services.sessions() as session:
        return session.get_one(Task, task_id).state


def notice_count(services: Services) -> int:
    with services.sessions() as session:
        return session.scalar(select(func.count(Notification.id))) or 0


def test_errors_are_chinese_and_name_the_task(services: Services, clock: FakeClock) -> None:
    unknown = pytest.raises(TaskError, match="没有编号为 999 的整改任务")
    with unknown, services.sessions.begin() as session:
        services.desk.acknowledge(session, 999, UNIT)
