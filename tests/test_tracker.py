"""Runs become tasks — on SQLite and on PostgreSQL.

Probe results are built by hand here: the tracker never sees a browser.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Engine, func, select

from bot.services import Services
from core.clock import FakeClock
from core.results import Finding, Outcome, ProbeResult
from notifications.models import Notification
from tasks.lifecycle import Actor, Role, TaskError
from tasks.models import RunPurpose, Task, TaskHistory, TaskState
from tests.catalogs import portal_catalog
from tests.conftest import ServicesFactory, at

CHECK = "sf-portal/search"
NOT_FOUND = Finding(
    code="search.item_not_found",
    title="站内搜索不可用",
    detail="搜索网站上已有的“排污许可证核发”服务事项，搜索不到",
    subjects=("排污许可证核发",),
)
FAIL = ProbeResult(Outcome.FAIL, (NOT_FOUND,), summary="站内搜索不可用")
PASS = ProbeResult(Outcome.PASS, summary="ok")
ERROR = ProbeResult(Outcome.ERROR, error="浏览器异常退出")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(at("2026-09-28 10:00"))


@pytest.fixture
def services(make_services: ServicesFactory, engine: Engine, clock: FakeClock) -> Services:
    catalog = portal_catalog("http://127.0.0.1:9", notify=["json://127.0.0.1:9/hook"])
    made = make_services(catalog, engine=engine, clock=clock)
    from tasks.catalog_sync import sync_catalog

    with made.sessions.begin() as session:
        sync_catalog(session, made.catalog)
    return made


def record(
    services: Services,
    result: ProbeResult,
    clock: FakeClock,
    *,
    took: dt.timedelta = dt.timedelta(0),
    **kw: object,
) -> list[Task]:
    """Record a run that finishes ten minutes from now, having taken ``took``."""
    clock.advance(dt.timedelta(minutes=10))
    with services.sessions.begin() as session:
        run = services.tracker.record_run(
            session,
            CHECK,
            result,
            started_at=clock.now() - took,
            finished_at=clock.now(),
            **kw,  # type: ignore[arg-type]
        )
        return services.tracker.apply_run(session, run, services.policy(CHECK))


def tasks(services: Services) -> list[Task]:
    with services.sessions() as session:
        return list(session.scalars(select(Task).order_by(Task.id)))


def notices(services: Services) -> list[Notification]:
    with services.sessions() as session:
        return list(session.scalars(select(Notification).order_by(Notification.id)))


def test_single_failure_opens_nothing(services: Services, clock: FakeClock) -> None:
    record(services, FAIL, clock)
    assert tasks(services) == []
    assert notices(services) == []


def test_two_failures_open_exactly_one_task(services: Services, clock: FakeClock) -> None:
    record(services, FAIL, clock)
    record(services, FAIL, clock)
    record(services, FAIL, clock)
    (task,) = tasks(services)
    assert task.state == TaskState.OPEN.value
    assert task.finding_code == "search.item_not_found"
    assert task.occurrences == 3
    assert task.unit_code == "sf-zwb"
    # Opened 2026-09-28 with 5 working days: National Day holidays skipped, the 调休
    # Saturday 2026-10-10 counts.
    assert task.deadline == dt.date(2026, 10, 10)
    assert not task.deadline_estimated
    (notice,) = notices(services)
    assert notice.kind == "task_opened"
    assert notice.title.startswith("【整改通知】")


def test_errors_between_failures_do_not_break_the_streak(
    services: Services, clock: FakeClock
) -> None:
    record(services, FAIL, clock)
    record(services, ERROR, clock)  # the monitor's own trouble is not a verdict
    record(services, FAIL, clock)
    assert len(tasks(services)) == 1


def test_a_pass_between_failures_resets_the_streak(services: Services, clock: FakeClock) -> None:
    record(services, FAIL, clock)
    record(services, PASS, clock)
    record(services, FAIL, clock)
    assert tasks(services) == []


def test_monitor_errors_never_open_tasks(services: Services, clock: FakeClock) -> None:
    for _ in range(5):
        record(services, ERROR, clock)
    assert tasks(services) == []


def test_rectified_then_passing_verification_closes(services: Services, clock: FakeClock) -> None:
    record(services, FAIL, clock)
    (task,) = record(services, FAIL, clock)
    with services.sessions.begin() as session:
        services.desk.report_rectified(session, task.id, Actor("王晓明", Role.UNIT), "已修复索引")
    changed = record(services, PASS, clock, purpose=RunPurpose.VERIFICATION, task_id=task.id)
    assert [t.state for t in changed] == [TaskState.CLOSED.value]
    with services.sessions() as session:
        history = session.scalars(
            select(TaskHistory).where(TaskHistory.task_id == task.id).order_by(TaskHistory.id)
        ).all()
    assert [h.action for h in history] == ["opened", "rectified", "verified"]
    assert history[1].actor == "王晓明" and history[1].reason == "已修复索引"
    assert history[2].run_id is not None
    assert [n.kind for n in notices(services)] == ["task_opened", "task_closed"]


def test_failed_verification_sends_the_task_back(services: Services, clock: FakeClock) -> None:
    record(services, FAIL, clock)
    (task,) = record(services, FAIL, clock)
    with services.sessions.begin() as session:
        services.desk.report_rectified(session, task.id, Actor("王晓明", Role.UNIT), "已修复")
    (back,) = record(services, FAIL, clock, purpose=RunPurpose.VERIFICATION, task_id=task.id)
    assert back.state == TaskState.REOPENED.value
    assert back.reopen_count == 1
    assert back.deadline == task.deadline  # the original deadline still stands
    assert notices(services)[-1].kind == "task_reopened"
    assert "复核未通过" in notices(services)[-1].body


def test_a_run_that_started_before_the_fix_report_does_not_reopen(
    services: Services, clock: FakeClock
) -> None:
    record(services, FAIL, clock)
    (task,) = record(services, FAIL, clock)
    with services.sessions.begin() as session:
        services.desk.report_rectified(session, task.id, Actor("王晓明", Role.UNIT), "已修复索引")
    # A scheduled run that was already under way when the unit reported the fix ends with
    # the old failure; it saw the site before the fix and must not send the task back.
    assert record(services, FAIL, clock, took=dt.timedelta(minutes=15)) == []
    assert tasks(services)[0].state == TaskState.RECTIFIED.value
    (closed,) = record(services, PASS, clock, purpose=RunPurpose.VERIFICATION, task_id=task.id)
    assert closed.state == TaskState.CLOSED.value


def test_open_task_stays_open_on_pass_without_auto_close(
    services: Services, clock: FakeClock
) -> None:
    record(services, FAIL, clock)
    record(services, FAIL, clock)
    assert record(services, PASS, clock) == []
    assert tasks(services)[0].state == TaskState.OPEN.value


def test_auto_close_when_the_check_passes_again(
    make_services: ServicesFactory, engine: Engine, clock: FakeClock
) -> None:
    made = make_services(
        portal_catalog("http://127.0.0.1:9", auto_close=True), engine=engine, clock=clock
    )
    from tasks.catalog_sync import sync_catalog

    with made.sessions.begin() as session:
        sync_catalog(session, made.catalog)
    record(made, FAIL, clock)
    record(made, FAIL, clock)
    (closed,) = record(made, PASS, clock)
    assert closed.state == TaskState.CLOSED.value


def test_regression_after_closure_reopens_the_same_task(
    services: Services, clock: FakeClock
) -> None:
    record(services, FAIL, clock)
    (task,) = record(services, FAIL, clock)
    with services.sessions.begin() as session:
        services.desk.close(session, task.id, Actor("督办员", Role.SUPERVISOR), "人工核实已修复")
    # Runs under way at the closure saw the site before it: they do not count.
    assert record(services, FAIL, clock, took=dt.timedelta(minutes=15)) == []
    assert record(services, FAIL, clock, took=dt.timedelta(minutes=25)) == []
    assert tasks(services)[0].state == TaskState.CLOSED.value
    record(services, FAIL, clock)
    (again,) = record(services, FAIL, clock)  # two fresh failures do reopen it
    assert again.id == task.id
    assert again.state == TaskState.REOPENED.value
    assert len(tasks(services)) == 1


def test_wrong_transitions_are_refused_in_chinese(services: Services, clock: FakeClock) -> None:
    record(services, FAIL, clock)
    (task,) = record(services, FAIL, clock)
    with services.sessions.begin() as session:
        services.desk.close(session, task.id, Actor("督办员", Role.SUPERVISOR), "核实")
    with pytest.raises(TaskError, match="已销号"), services.sessions.begin() as session:
        services.desk.report_rectified(session, task.id, Actor("王晓明", Role.UNIT), "再次报送")
    with pytest.raises(TaskError, match="没有编号为 999"), services.sessions() as session:
        services.desk.get(session, 999)


def test_task_change_and_its_notice_commit_together(services: Services, clock: FakeClock) -> None:
    record(services, FAIL, clock)
    # A failure inside the transaction after the notice is written rolls both back.
    with pytest.raises(RuntimeError), services.sessions.begin() as session:
        run = services.tracker.record_run(
            session, CHECK, FAIL, started_at=clock.now(), finished_at=clock.now()
        )
        services.tracker.apply_run(session, run, services.policy(CHECK))
        assert session.scalar(select(func.count(Notification.id))) == 1
        raise RuntimeError("crash before commit")
    assert tasks(services) == []
    assert notices(services) == []
