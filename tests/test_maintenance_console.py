"""Maintenance windows where supervisors and operators meet them: the console page that
lists the requests and decides them, and ``govpatrol maintenance …``."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from bot.cli import main
from bot.commands import services_from
from bot.console.accounts import Role
from bot.services import Services
from bot.web import create_web_app
from core.clock import FakeClock
from tasks.models import MaintenanceWindow, WindowState
from tests.conftest import ServicesFactory, at
from tests.console_helpers import (
    COUNTY_SEARCH,
    RIVER_SEARCH,
    add_account,
    console_catalog,
    form_token,
    login,
    record_failure,
    search_finding,
)

UNIT_ACTOR = "孙晓（示范县政务服务中心）"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(at("2026-11-23 10:00"))


@pytest.fixture
def services(make_services: ServicesFactory, clock: FakeClock) -> Services:
    services = make_services(console_catalog(), clock=clock)
    add_account(services, "zhao")
    add_account(services, "river-only", unit="river")
    add_account(services, "ops", role=Role.OPERATOR)
    return services


def asked(services: Services, clock: FakeClock, check: str, reason: str) -> MaintenanceWindow:
    (task,) = record_failure(services, clock, check, search_finding())
    with services.sessions.begin() as session:
        return services.maintenance.request(
            session, task.id, UNIT_ACTOR, at("2026-11-28 22:00"), at("2026-11-29 06:00"), reason
        )


def test_a_supervisor_approves_a_request_from_the_console(
    services: Services, clock: FakeClock
) -> None:
    window = asked(services, clock, COUNTY_SEARCH, "机房搬迁")
    client = TestClient(create_web_app(services))
    assert login(client, "zhao") == 303
    board = client.get("/console/targets")
    assert "/console/maintenance?target=county-portal" in board.text
    page = client.get("/console/maintenance?target=county-portal")
    assert "待审批的申报" in page.text and "机房搬迁" in page.text and UNIT_ACTOR in page.text
    done = client.post(
        f"/console/maintenance/{window.id}/decide",
        data={"csrf": form_token(page.text), "decision": "approve", "note": "同意", "target": ""},
    )
    assert done.status_code == 200 and f"已批准维护窗口 #{window.id}" in done.text
    assert "没有待审批的维护窗口申报" in done.text and "已生效" in done.text
    with services.sessions() as session:
        found = services.maintenance.get(session, window.id)
        assert found.state == WindowState.APPROVED.value
        assert [(h.action, h.actor) for h in found.history] == [
            ("requested", UNIT_ACTOR),
            ("approved", "zhao（督办人员）"),
        ]


def test_refusals_and_scope(services: Services, clock: FakeClock) -> None:
    county = asked(services, clock, COUNTY_SEARCH, "机房搬迁")
    river = asked(services, clock, RIVER_SEARCH, "河西线路改造")

    operator = TestClient(create_web_app(services))
    assert login(operator, "ops") == 303
    page = operator.get("/console/maintenance")
    assert "机房搬迁" in page.text and "批准</button>" not in page.text  # sees, not decides
    answer = operator.post(
        f"/console/maintenance/{county.id}/decide",
        data={"csrf": form_token(page.text), "decision": "approve"},
    )
    assert answer.status_code == 403

    scoped = TestClient(create_web_app(services))
    assert login(scoped, "river-only") == 303
    page = scoped.get("/console/maintenance")
    assert "河西线路改造" in page.text and "机房搬迁" not in page.text
    refused = scoped.post(
        f"/console/maintenance/{river.id}/decide",
        data={"csrf": form_token(page.text), "decision": "refuse", "note": "与专项检查冲突"},
    )
    assert f"维护窗口 #{river.id} 不予批准，照常巡检" in refused.text
    again = scoped.post(
        f"/console/maintenance/{river.id}/decide",
        data={"csrf": form_token(page.text), "decision": "approve"},
    )
    assert f"维护窗口 #{river.id} 当前为“未批准”，不是待审批的申报，不能批准" in again.text
    other_county = scoped.post(
        f"/console/maintenance/{county.id}/decide",
        data={"csrf": form_token(page.text), "decision": "approve"},
    )
    assert other_county.status_code == 404


@pytest.fixture
def shell(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An operator's environment: settings from variables, a migrated database."""
    catalog = tmp_path / "catalog.yaml"
    catalog.write_text(console_catalog(), encoding="utf-8")
    monkeypatch.setenv("GOVPATROL_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("GOVPATROL_CATALOG", str(catalog))
    assert main(["db", "upgrade"]) == 0
    return tmp_path


def test_maintenance_from_the_shell(shell: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tomorrow = (dt.datetime.now(dt.UTC) + dt.timedelta(days=1)).astimezone(
        dt.timezone(dt.timedelta(hours=8))
    )
    start, end = f"{tomorrow:%Y-%m-%d}T22:00", f"{tomorrow + dt.timedelta(days=1):%Y-%m-%d}T06:00"
    assert (
        main(
            [
                "maintenance",
                "add",
                "county-portal",
                "--start",
                start,
                "--end",
                end,
                "--reason",
                "系统升级",
            ]
        )
        == 0
    )
    assert "已登记维护窗口 #1" in capsys.readouterr().out
    assert (
        main(["maintenance", "add", "nowhere", "--start", start, "--end", end, "--reason", "x"])
        == 1
    )
    assert "没有巡检对象 nowhere" in capsys.readouterr().err

    # A unit's request, as its link would make it, decided from the shell.
    services = services_from(type("Args", (), {"catalog": None})())
    (task,) = record_failure(
        services, FakeClock(dt.datetime.now(dt.UTC)), RIVER_SEARCH, search_finding()
    )
    with services.sessions.begin() as session:
        window = services.maintenance.request(
            session,
            task.id,
            UNIT_ACTOR,
            dt.datetime.fromisoformat(start + "+08:00"),
            dt.datetime.fromisoformat(end + "+08:00"),
            "线路改造",
        )
    services.engine.dispose()

    assert main(["maintenance", "list", "--history"]) == 0
    listing = capsys.readouterr().out
    assert "待审批" in listing and "已生效" in listing and "线路改造" in listing
    assert listing.index("线路改造") < listing.index("系统升级")  # requests first
    assert "命令行 登记（即时生效）：系统升级" in listing

    assert main(["maintenance", "approve", str(window.id), "--note", "同意"]) == 0
    assert f"已批准维护窗口 #{window.id}" in capsys.readouterr().out
    assert main(["maintenance", "refuse", str(window.id)]) == 1
    assert "当前为“已生效”，不是待审批的申报" in capsys.readouterr().err
    assert main(["maintenance", "cancel", "1", "--reason", "升级取消"]) == 0
    assert main(["maintenance", "list", "--target", "county-portal"]) == 0
    assert "已取消" in capsys.readouterr().out
