"""The rectification workflow — on SQLite and PostgreSQL — and through the CLI."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import Engine

from bot.services import Services
from core.clock import FakeClock
from tasks.lifecycle import Actor, Role, TaskError
from tasks.models import TaskState
from tests.conftest import ServicesFactory, at
from tests.workflow_helpers import cli_here, heard_by, notices, open_task, tree_catalog

HOOK = "json://127.0.0.1:9"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(at("2026-11-23 10:00"))  # a Monday


@pytest.fixture
def services(make_services: ServicesFactory, engine: Engine, clock: FakeClock) -> Services:
    return make_services(tree_catalog(HOOK), engine=engine, clock=clock)


def history(services: Services, task_id: int) -> list[tuple[str, str, str]]:
    with services.sessions() as session:
        task = services.desk.get(session, task_id)
        return [(h.action, h.actor, h.to_state) for h in task.history]


def test_acknowledge_then_rectify_records_who_and_why(services: Services, clock: FakeClock) -> None:
    task = open_task(services, clock)
    with services.sessions.begin() as session:
        services.desk.acknowledge(session, task.id, Actor("联系人孙", Role.UNIT), "收到")
        services.desk.report_rectified(
            session, task.id, Actor("联系人孙", Role.UNIT), "已修复搜索索引"
        )
    assert history(services, task.id) == [
        ("opened", "system", "open"),
        ("acknowledged", "联系人孙", "acknowledged"),
        ("rectified", "联系人孙", "rectified"),
    ]
    with services.sessions() as session:
        assert services.desk.get(session, task.id).rectify_note == "已修复搜索索引"


def test_approved_extension_moves_the_deadline_in_working_days(
    services: Services, clock: FakeClock
) -> None:
    task = open_task(services, clock)
    assert task.deadline == dt.date(2026, 11, 30)
    with services.sessions.begin() as session:
        request = services.desk.request_extension(
            session, task.id, Actor("联系人孙", Role.UNIT), 3, "需采购设备"
        )
    assert heard_by(services, "extension_requested") == {"督办员赵"}
    with services.sessions.begin() as session:
        moved = services.desk.decide_extension(
            session, request.id, Actor("督办员赵", Role.SUPERVISOR), approve=True
        )
        assert moved.deadline == dt.date(2026, 12, 3)
        assert moved.original_deadline == dt.date(2026, 11, 30)
    (notice,) = [n for n in notices(services) if n.kind == "extension_decided"]
    assert notice.title.startswith("【延期已批准】") and notice.recipient == "联系人孙"
    assert "由 2026-11-30 调整为 2026-12-03" in notice.body


def test_refused_extension_keeps_the_deadline(services: Services, clock: FakeClock) -> None:
    task = open_task(services, clock)
    with services.sessions.begin() as session:
        request = services.desk.request_extension(
            session, task.id, Actor("联系人孙", Role.UNIT), 10, "太忙"
        )
    with services.sessions.begin() as session:
        kept = services.desk.decide_extension(
            session,
            request.id,
            Actor("督办员赵", Role.SUPERVISOR),
            approve=False,
            note="理由不充分",
        )
        assert kept.deadline == dt.date(2026, 11, 30)
    (notice,) = [n for n in notices(services) if n.kind == "extension_decided"]
    assert notice.title.startswith("【延期未批准】") and "理由不充分" in notice.body
    with pytest.raises(TaskError, match="已处理"), services.sessions.begin() as session:
        services.desk.decide_extension(
            session, request.id, Actor("督办员赵", Role.SUPERVISOR), approve=True
        )


def test_upheld_dispute_invalidates_and_stops_everything(
    services: Services, clock: FakeClock
) -> None:
    task = open_task(services, clock)
    with services.sessions.begin() as session:
        request = services.desk.dispute(
            session, task.id, Actor("联系人孙", Role.UNIT), "该事项已于上月取消"
        )
    assert heard_by(services, "disputed") == {"督办员赵"}
    with services.sessions.begin() as session:
        gone = services.desk.decide_dispute(
            session, request.id, Actor("督办员赵", Role.SUPERVISOR), uphold=True
        )
        assert gone.state == TaskState.INVALIDATED.value
    assert heard_by(services, "dispute_upheld") == {"联系人孙"}
    clock.advance(dt.timedelta(days=20))  # far past the deadline: nothing is chased
    assert services.chase.sweep().steps == 0
    with pytest.raises(TaskError, match="已撤销"), services.sessions.begin() as session:
        services.desk.report_rectified(session, task.id, Actor("联系人孙", Role.UNIT), "已修复")


def test_rejected_dispute_keeps_the_task_going(services: Services, clock: FakeClock) -> None:
    task = open_task(services, clock)
    with services.sessions.begin() as session:
        request = services.desk.dispute(session, task.id, Actor("联系人孙", Role.UNIT), "误报")
    with services.sessions.begin() as session:
        kept = services.desk.decide_dispute(
            session,
            request.id,
            Actor("督办员赵", Role.SUPERVISOR),
            uphold=False,
            note="复核截图显示问题存在",
        )
        assert kept.state == TaskState.OPEN.value
    (notice,) = [n for n in notices(services) if n.kind == "dispute_rejected"]
    assert "复核截图显示问题存在" in notice.body


def test_one_pending_request_of_a_kind_at_a_time(services: Services, clock: FakeClock) -> None:
    task = open_task(services, clock)
    with services.sessions.begin() as session:
        services.desk.request_extension(session, task.id, Actor("联系人孙", Role.UNIT), 2, "理由一")
    with pytest.raises(TaskError, match="已有待审批的延期申请"), services.sessions.begin() as s:
        services.desk.request_extension(s, task.id, Actor("联系人孙", Role.UNIT), 2, "理由二")
    with pytest.raises(TaskError, match="延期天数"), services.sessions.begin() as session:
        services.desk.request_extension(session, task.id, Actor("联系人孙", Role.UNIT), 99, "很久")


def test_cli_drives_the_workflow(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The task commands as an operator types them, in this process (test_operator_cli
    runs the command line as a child process)."""
    catalog = tmp_path / "catalog.yaml"
    # Confirmed at once (no probation): this test is about the workflow, not new targets.
    catalog.write_text(tree_catalog(HOOK, chase="defaults: {probation: off}"), encoding="utf-8")
    monkeypatch.setenv("GOVPATROL_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("GOVPATROL_CATALOG", str(catalog))

    def cli(*args: str) -> tuple[int, str, str]:
        return cli_here(capsys, *args)

    assert cli("db", "upgrade")[0] == 0
    # Open a task the way the daemon would, in this database.
    from bot.services import build_services, read_catalog
    from config.settings import Settings
    from tasks.catalog_sync import sync_catalog

    settings = Settings(data_dir=tmp_path, catalog=catalog)
    clock = FakeClock(dt.datetime.now(dt.UTC))
    services = build_services(settings, read_catalog(settings), clock=clock)
    with services.sessions.begin() as session:
        sync_catalog(session, services.catalog)
    task = open_task(services, clock)
    services.engine.dispose()

    code, out, _ = cli("task", "acknowledge", str(task.id), "--actor", "联系人孙")
    assert code == 0 and "已签收" in out
    code, _, err = cli("task", "acknowledge", str(task.id))
    assert code == 1 and "不能签收" in err
    assert cli("task", "extend", str(task.id), "--days", "2", "--reason", "采购")[0] == 0
    code, out, _ = cli("task", "decide-extension", "1", "--refuse", "--note", "不同意")
    assert code == 0 and "不予延期" in out
    assert cli("task", "dispute", str(task.id), "--reason", "误报")[0] == 0
    code, out, _ = cli("task", "decide-dispute", "2", "--uphold")
    assert code == 0 and "撤销" in out
    _, shown, _ = cli("task", "show", str(task.id))
    assert "[已撤销]" in shown
    assert "#1 延期 2 个工作日（未批准）" in shown
    assert "#2 申诉（申诉成立）" in shown
    _, listed, _ = cli("tasks", "--all", "--unit", "city")
    assert f"#{task.id}" in listed and "已撤销" in listed
