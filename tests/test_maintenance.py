"""Maintenance windows: a unit's request waits for a supervisor, within the catalog's
limits; operator windows are in force at once; every change is on the record; only
windows in force keep the bot from inspecting. On SQLite and PostgreSQL.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, select, text

from bot.jobs import run_check, verify
from bot.services import Services
from config.loader import CatalogError, parse_catalog
from core.clock import FakeClock
from core.db import make_engine, make_sessions
from core.results import Outcome
from probes.registry import params_models, probe_kinds
from tasks.lifecycle import Actor, Role
from tasks.maintenance import MaintenanceError, maintenance_now
from tasks.models import MaintenanceWindow, Task, WindowState
from tests.conftest import ServicesFactory, at
from tests.test_guards import VerdictProbe, catalog

CHECK = "t0/verdict"
UNIT_ACTOR = "孙晓（示范县政务服务中心）"
SUPERVISOR = "赵督办（督办人员）"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(at("2026-11-23 10:00"))  # a Monday


@pytest.fixture
def services(make_services: ServicesFactory, engine: Engine, clock: FakeClock) -> Services:
    return make_services(catalog(1), extra_probes=(VerdictProbe,), clock=clock, engine=engine)


async def failing_task(services: Services) -> Task:
    """One failing run opens the task whose link the unit acts through."""
    report = await run_check(services, CHECK)
    assert report.outcome is Outcome.FAIL
    ((task_id, _),) = report.changed_tasks
    with services.sessions() as session:
        return services.desk.get(session, task_id)


def request(
    services: Services, task: Task, start: str, end: str, reason: str = "机房搬迁"
) -> MaintenanceWindow:
    with services.sessions.begin() as session:
        return services.maintenance.request(
            session, task.id, UNIT_ACTOR, at(start), at(end), reason
        )


def refusal(services: Services, task: Task, start: str, end: str) -> str:
    with pytest.raises(MaintenanceError) as refused:
        request(services, task, start, end)
    return str(refused.value)


def history(services: Services, window_id: int) -> list[tuple[str, str, str, str]]:
    with services.sessions() as session:
        window = services.maintenance.get(session, window_id)
        return [(h.action, h.actor, h.to_state, h.reason) for h in window.history]


async def test_a_units_request_suppresses_nothing_until_approved(
    services: Services, clock: FakeClock
) -> None:
    task = await failing_task(services)
    asked = request(services, task, "2026-11-23 10:00", "2026-11-23 14:00")
    assert asked.state == WindowState.REQUESTED.value

    pending = await run_check(services, CHECK)
    assert pending.skipped == "" and pending.run_id != 0  # still inspected

    with services.sessions.begin() as session:
        services.maintenance.approve(session, asked.id, SUPERVISOR, "同意")
    inside = await run_check(services, CHECK)
    assert inside.run_id == 0
    assert inside.skipped.startswith(f"维护期内不巡检：机房搬迁（{UNIT_ACTOR}申报）")

    assert history(services, asked.id) == [
        ("requested", UNIT_ACTOR, "requested", "机房搬迁"),
        ("approved", SUPERVISOR, "approved", "同意"),
    ]
    clock.set(at("2026-11-23 14:00"))
    assert (await run_check(services, CHECK)).run_id != 0  # the window is over


async def test_a_refused_request_suppresses_nothing(services: Services) -> None:
    task = await failing_task(services)
    asked = request(services, task, "2026-11-23 10:00", "2026-11-23 14:00")
    with services.sessions.begin() as session:
        services.maintenance.refuse(session, asked.id, SUPERVISOR, "当天有专项检查")
    report = await run_check(services, CHECK)
    assert report.skipped == "" and report.outcome is Outcome.FAIL
    assert history(services, asked.id)[-1] == (
        "refused",
        SUPERVISOR,
        "refused",
        "当天有专项检查",
    )
    with services.sessions.begin() as session, pytest.raises(MaintenanceError, match="未批准"):
        services.maintenance.approve(session, asked.id, SUPERVISOR)


async def test_of_two_decisions_at_once_one_wins(services: Services) -> None:
    task = await failing_task(services)
    asked = request(services, task, "2026-11-24 10:00", "2026-11-24 14:00")
    with services.sessions() as late:
        seen = services.maintenance.get(late, asked.id)  # read before the first decision
        assert seen.state == WindowState.REQUESTED.value
        with services.sessions.begin() as first:
            services.maintenance.approve(first, asked.id, SUPERVISOR)
        with pytest.raises(MaintenanceError, match="刚刚已由他人处理"):
            services.maintenance.refuse(late, asked.id, "钱督办（督办人员）")
    assert [row[0] for row in history(services, asked.id)] == ["requested", "approved"]


async def test_an_approved_window_holds_the_verification_too(services: Services) -> None:
    task = await failing_task(services)
    asked = request(services, task, "2026-11-23 10:00", "2026-11-23 14:00")
    with services.sessions.begin() as session:
        services.maintenance.approve(session, asked.id, SUPERVISOR)
        services.desk.report_rectified(session, task.id, Actor(UNIT_ACTOR, Role.UNIT), "已修复")
    report = await verify(services, task.id, CHECK)
    assert report.run_id == 0 and "维护期内不巡检" in report.skipped


async def test_requests_are_bounded_by_the_catalog_limits(services: Services) -> None:
    task = await failing_task(services)
    assert "已过，不能申报过去的时间" in refusal(
        services, task, "2026-11-23 09:00", "2026-11-23 12:00"
    )
    assert "单次维护窗口不超过 7 天" in refusal(
        services, task, "2026-11-24 00:00", "2026-12-01 01:00"
    )
    assert "不能晚于 30 天后" in refusal(services, task, "2026-12-24 00:00", "2026-12-24 02:00")
    assert "结束时间应晚于开始时间" in refusal(
        services, task, "2026-11-25 10:00", "2026-11-25 10:00"
    )
    with pytest.raises(MaintenanceError, match="请填写维护原因"):
        request(services, task, "2026-11-25 10:00", "2026-11-25 12:00", reason=" ")

    # 72 hours a month per target: 48 h asked, 30 h more is too much, 23 h is not.
    request(services, task, "2026-11-25 00:00", "2026-11-27 00:00")
    assert "2026 年 11 月该巡检对象的维护时长将达 78 小时，超过每月 72 小时的上限" in refusal(
        services, task, "2026-11-28 00:00", "2026-11-29 06:00"
    )
    assert "时间重叠" in refusal(services, task, "2026-11-26 20:00", "2026-11-27 02:00")
    request(services, task, "2026-11-28 00:00", "2026-11-28 23:00")
    # A window across the month's end counts its hours in each month: 1 h is left.
    assert "将达 73 小时" in refusal(services, task, "2026-11-30 22:00", "2026-12-02 00:00")
    request(services, task, "2026-11-30 23:00", "2026-12-02 00:00")
    with services.sessions() as session:
        asked = services.maintenance.windows(session, states=[WindowState.REQUESTED])
    assert len(asked) == 3


async def test_limits_come_from_the_catalog(
    make_services: ServicesFactory, engine: Engine, clock: FakeClock
) -> None:
    limits = "maintenance_requests: {max_length: 4h, max_lead: 2d, monthly_hours: 6}\n"
    services = make_services(
        limits + catalog(1), extra_probes=(VerdictProbe,), clock=clock, engine=engine
    )
    task = await failing_task(services)
    assert "单次维护窗口不超过 4 小时" in refusal(
        services, task, "2026-11-24 00:00", "2026-11-24 05:00"
    )
    assert "不能晚于 2 天后" in refusal(services, task, "2026-11-26 00:00", "2026-11-26 01:00")
    request(services, task, "2026-11-24 00:00", "2026-11-24 04:00")
    assert "超过每月 6 小时的上限" in refusal(
        services, task, "2026-11-24 10:00", "2026-11-24 13:00"
    )


def test_limits_are_validated(make_services: ServicesFactory) -> None:
    with pytest.raises(CatalogError) as bad:
        make_services(
            "maintenance_requests: {max_length: 0s, monthly_hours: -1}\n" + catalog(1),
            extra_probes=(VerdictProbe,),
        )
    problems = "\n".join(str(problem) for problem in bad.value.problems)
    assert "maintenance_requests.max_length: must be positive" in problems
    assert "maintenance_requests.monthly_hours: Input should be greater than 0" in problems


@pytest.mark.parametrize("ending", ["closed", "invalidated"])
async def test_the_link_of_an_ended_task_cannot_ask_for_a_window(
    services: Services, ending: str
) -> None:
    task = await failing_task(services)
    with services.sessions.begin() as session:
        if ending == "closed":
            services.desk.close(session, task.id, Actor(SUPERVISOR, Role.SUPERVISOR), "已整改")
        else:
            dispute = services.desk.dispute(session, task.id, Actor(UNIT_ACTOR, Role.UNIT), "误报")
            services.desk.decide_dispute(
                session, dispute.id, Actor(SUPERVISOR, Role.SUPERVISOR), True
            )
    label = "已销号" if ending == "closed" else "已撤销"
    assert f"整改任务 #{task.id} {label}，该链接不能再申报维护窗口" in refusal(
        services, task, "2026-11-24 00:00", "2026-11-24 02:00"
    )
    with services.sessions() as session:
        assert services.maintenance.windows(session, include_ended=True) == []


async def test_an_operator_window_is_in_force_at_once_and_recorded(
    services: Services,
) -> None:
    with services.sessions.begin() as session:
        window = services.maintenance.add(
            session, "t0", at("2026-11-23 09:00"), at("2026-11-30 09:00"), "系统升级", "命令行"
        )
    assert window.state == WindowState.APPROVED.value  # no limits, no approval
    report = await run_check(services, CHECK)
    assert report.run_id == 0 and "系统升级" in report.skipped
    assert history(services, window.id) == [("added", "命令行", "approved", "系统升级")]

    with services.sessions.begin() as session:
        services.maintenance.cancel(session, window.id, SUPERVISOR, "升级提前完成")
    assert (await run_check(services, CHECK)).run_id != 0
    assert history(services, window.id)[-1] == (
        "cancelled",
        SUPERVISOR,
        "cancelled",
        "升级提前完成",
    )


def test_catalog_windows_are_recorded_and_their_removal_too(
    make_services: ServicesFactory, engine: Engine, clock: FakeClock
) -> None:
    window = (
        "    maintenance:\n"
        "      - {start: 2026-11-28T22:00+08:00, end: 2026-11-29T06:00+08:00, reason: 系统升级}"
    )
    services = make_services(
        catalog(1, maintenance=window), extra_probes=(VerdictProbe,), clock=clock, engine=engine
    )
    with services.sessions.begin() as session:
        services.maintenance.mirror_catalog(session, services.catalog)  # a restart: no twin
    with services.sessions() as session:
        (recorded,) = services.maintenance.windows(session)
        assert (recorded.source, recorded.state) == ("catalog", "approved")
        assert recorded.starts_at == at("2026-11-28 22:00")
    assert history(services, recorded.id) == [("added", "目录（catalog）", "approved", "系统升级")]

    edited = make_services(catalog(1), extra_probes=(VerdictProbe,), clock=clock, engine=engine)
    assert history(edited, recorded.id)[-1][::3] == ("cancelled", "已从目录中删除")


def test_windows_recorded_before_0003_stay_in_force_with_a_record(tmp_path: Path) -> None:
    from alembic import command

    from bot.migrate import alembic_config, upgrade

    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    upgrade(engine, "0002")
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO units (code, name, level, active) VALUES ('u', '示范县', 'county', 1)"
            )
        )
        connection.execute(
            text(
                "INSERT INTO targets (key, name, unit_code, base_url, active) "
                "VALUES ('t0', '示范县政务服务网', 'u', 'http://127.0.0.1:9', 1)"
            )
        )
        connection.execute(
            text(
                "INSERT INTO maintenance_windows (target_key, starts_at, ends_at, reason, "
                "announced_by, announced_at) VALUES ('t0', '2026-11-28 14:00:00', "
                "'2026-11-28 22:00:00', '机房搬迁', '孙晓', '2026-11-27 02:00:00')"
            )
        )
    upgrade(engine)
    sessions = make_sessions(engine)
    with sessions() as session:
        (window,) = session.scalars(select(MaintenanceWindow)).all()
        assert (window.state, window.source) == ("approved", "unit")
        assert [(h.action, h.actor) for h in window.history] == [("added", "孙晓")]
        parsed = parse_catalog(
            catalog(1), "c.yaml", probe_params=params_models(probe_kinds((VerdictProbe,)))
        )
        assert maintenance_now(session, parsed, "t0", at("2026-11-28 23:00")) is not None
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0002")
    upgrade(engine)  # and back again
    engine.dispose()
