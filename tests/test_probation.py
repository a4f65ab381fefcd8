"""Probation: a new target's findings are shown to the operator, never charged to a unit
until the probation ends or an operator confirms the target."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy import Engine, select

from bot.services import Services
from core.clock import FakeClock
from notifications.models import Notification
from sandbox.server import PortalSandbox
from tasks.lifecycle import Actor, Role
from tasks.models import Run, Task
from tasks.probation import confirm_target, probation_status
from tests.catalogs import portal_catalog
from tests.conftest import ServicesFactory, at
from tests.workflow_helpers import cli_here, failing

CHECK = "sf-portal/search"
OPERATOR = Actor("运维小李", Role.OPERATOR)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(at("2026-11-23 10:00"))


@pytest.fixture
def services(make_services: ServicesFactory, engine: Engine, clock: FakeClock) -> Services:
    return make_services(
        portal_catalog("http://127.0.0.1:9", probation="7d"),
        engine=engine,
        clock=clock,
        operator_notify=[SecretStr("json://127.0.0.1:9/ops")],
    )


def fail_once(services: Services, clock: FakeClock) -> list[Task]:
    clock.advance(dt.timedelta(hours=1))
    with services.sessions.begin() as session:
        run = services.tracker.record_run(
            session, CHECK, failing(), started_at=clock.now(), finished_at=clock.now()
        )
        return services.tracker.apply_run(session, run, services.policy(CHECK))


def test_a_new_target_opens_no_task_and_tells_the_operator(
    services: Services, clock: FakeClock
) -> None:
    for _ in range(3):
        assert fail_once(services, clock) == []
    with services.sessions() as session:
        assert session.scalars(select(Task)).all() == []
        assert all(run.probation for run in session.scalars(select(Run)))
        alerts = session.scalars(select(Notification)).all()
    (alert,) = alerts  # once a day per check, not once per run
    assert alert.kind == "operator_alert"
    assert "试运行" in alert.title and "未立案" in alert.title
    assert "govpatrol target confirm sf-portal" in alert.body
    assert "搜索不到" in alert.body


def test_confirmed_target_opens_tasks_from_runs_after_the_confirmation(
    services: Services, clock: FakeClock
) -> None:
    fail_once(services, clock)
    fail_once(services, clock)
    with services.sessions.begin() as session:
        assert confirm_target(session, "sf-portal", OPERATOR, clock.now())
        assert not confirm_target(session, "sf-portal", OPERATOR, clock.now())  # once
    # The probation runs do not count: one failure after confirming is not yet a streak.
    assert fail_once(services, clock) == []
    (task,) = fail_once(services, clock)
    assert task.finding_code == "search.item_not_found"
    with services.sessions() as session:
        status = probation_status(session, "sf-portal", dt.timedelta(days=7), clock.now())
    assert not status.on_probation and status.confirmed_by == "运维小李"
    assert status.label == "已确认"


def test_probation_ends_by_itself_after_its_period(services: Services, clock: FakeClock) -> None:
    fail_once(services, clock)
    clock.advance(dt.timedelta(days=7))
    assert fail_once(services, clock) == []  # the first judged run after probation
    assert len(fail_once(services, clock)) == 1


def test_cli_lists_and_confirms_targets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    catalog = tmp_path / "catalog.yaml"
    catalog.write_text(portal_catalog("http://127.0.0.1:9"), encoding="utf-8")
    operator_shell(monkeypatch, tmp_path, catalog)
    assert cli_here(capsys, "db", "upgrade")[0] == 0
    code, listed, _ = cli_here(capsys, "target", "list")
    assert code == 0 and "sf-portal" in listed and "试运行" in listed
    code, _, err = cli_here(capsys, "target", "confirm", "nope")
    assert code == 2 and "没有巡检对象" in err
    code, out, _ = cli_here(capsys, "target", "confirm", "sf-portal", "--actor", "运维小李")
    assert code == 0 and "已确认" in out
    assert "已确认（运维小李" in cli_here(capsys, "target", "list")[1]


@pytest.mark.browser
def test_calibrate_runs_each_check_once_and_records_nothing(
    tmp_path: Path,
    portal: PortalSandbox,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    catalog = tmp_path / "catalog.yaml"
    catalog.write_text(portal_catalog(portal.url), encoding="utf-8")
    operator_shell(monkeypatch, tmp_path, catalog)
    assert cli_here(capsys, "db", "upgrade")[0] == 0
    code, healthy, err = cli_here(capsys, "calibrate", "sf-portal")
    assert code == 0, healthy + err
    assert "sf-portal/search: 通过" in healthy
    portal.faults.update({"items_missing": ["排污许可证核发"]})
    code, broken, _ = cli_here(capsys, "calibrate", "sf-portal")
    assert code == 1
    assert "[search.item_not_found]" in broken and "未记录、未立案" in broken
    # Nothing was recorded: still before its first run.
    assert "试运行" in cli_here(capsys, "target", "list")[1]


def operator_shell(monkeypatch: pytest.MonkeyPatch, data_dir: Path, catalog: Path) -> None:
    """The environment an operator's shell gives the commands, for commands run in-process."""
    monkeypatch.setenv("GOVPATROL_DATA_DIR", str(data_dir))
    monkeypatch.setenv("GOVPATROL_CATALOG", str(catalog))
