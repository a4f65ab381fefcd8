"""The rectification ledger (整改台账) of seed 001 三(一): console downloads and the CLI,
from tasks moved through their real lifecycle on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import Engine

from bot.cli import main
from bot.services import Services
from bot.web import create_web_app
from core.clock import FakeClock
from core.results import Finding, Outcome, ProbeResult
from tasks.lifecycle import Actor, Role
from tasks.models import RunPurpose, Task
from tests.conftest import ServicesFactory, at
from tests.console_helpers import (
    COUNTY_GUIDES,
    COUNTY_SEARCH,
    RIVER_SEARCH,
    add_account,
    console_catalog,
    login,
    record_failure,
    search_finding,
)

SUPERVISOR = Actor("督办员赵", Role.SUPERVISOR)
HEADER = [
    "序号",
    "任务编号",
    "责任单位",
    "巡检对象",
    "存在问题",
    "问题名称",
    "具体内容",
    "立案日期",
    "整改时限",
    "状态",
    "整改说明",
    "复核结果",
    "复核日期",
    "超期工作日",
]


def entry_missing(code: str = "checklist.entry_missing") -> Finding:
    return Finding(code=code, title="入口不统一", detail="首页没有统一的办事入口")


def wrong_results() -> Finding:
    return Finding(
        code="search.results_wrong", title="搜索结果不准确", detail="搜索“排污许可”，结果无关"
    )


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(at("2026-10-26 10:00"))


@pytest.fixture
def services(make_services: ServicesFactory, engine: Engine, clock: FakeClock) -> Services:
    services = make_services(console_catalog(), engine=engine, clock=clock)
    add_account(services, "zhao")
    return services


def verify(services: Services, clock: FakeClock, task: Task, check: str, *found: Finding) -> None:
    """The verification run (复核) of ``task``: passes unless ``found`` is given."""
    clock.advance(dt.timedelta(minutes=5))
    result = ProbeResult(Outcome.FAIL, found) if found else ProbeResult(Outcome.PASS)
    with services.sessions.begin() as session:
        run = services.tracker.record_run(
            session,
            check,
            result,
            started_at=clock.now(),
            finished_at=clock.now(),
            purpose=RunPurpose.VERIFICATION,
            task_id=task.id,
        )
        services.tracker.apply_run(session, run, services.policy(check))


def rectify(services: Services, task: Task, note: str) -> None:
    with services.sessions.begin() as session:
        services.desk.report_rectified(session, task.id, Actor("联系人孙", Role.UNIT), note)


def close(services: Services, task: Task) -> None:
    with services.sessions.begin() as session:
        services.desk.close(session, task.id, SUPERVISOR, "核实已整改")


def a_month_of_tasks(services: Services, clock: FakeClock) -> dict[str, Task]:
    """October: one task opened and closed, one opened and carried over; November: a
    verified fix, a fix that failed its 复核, a late close by a supervisor."""
    (october,) = record_failure(services, clock, COUNTY_GUIDES, entry_missing("checklist.old"))
    clock.set(at("2026-10-27 11:00"))
    close(services, october)
    clock.set(at("2026-10-28 10:00"))  # deadline 11-04: five working days
    (carried,) = record_failure(services, clock, RIVER_SEARCH, search_finding("排污许可证核发"))
    clock.set(at("2026-11-02 10:00"))  # deadlines 11-09
    (verified,) = record_failure(services, clock, COUNTY_SEARCH, search_finding())
    (failed,) = record_failure(services, clock, COUNTY_GUIDES, entry_missing())
    (late,) = record_failure(
        services, clock, RIVER_SEARCH, search_finding("排污许可证核发"), wrong_results()
    )
    clock.set(at("2026-11-04 16:00"))
    rectify(services, verified, "已重建站内搜索索引")
    clock.set(at("2026-11-05 09:00"))
    verify(services, clock, verified, COUNTY_SEARCH)
    clock.set(at("2026-11-12 10:00"))
    rectify(services, failed, "已在首页增加统一入口")
    verify(services, clock, failed, COUNTY_GUIDES, entry_missing())
    clock.set(at("2026-11-13 15:00"))
    close(services, late)
    clock.set(at("2026-11-16 10:00"))  # the day the ledger is drawn up
    return {"october": october, "carried": carried, "verified": verified, "failed": failed}


def test_ledger_lists_every_task_open_in_the_period_with_its_review_and_days_overdue(
    services: Services, clock: FakeClock
) -> None:
    tasks = a_month_of_tasks(services, clock)
    client = TestClient(create_web_app(services))
    assert login(client, "zhao") == 303
    answer = client.get("/console/exports/ledger.xlsx?start=2026-11-01&end=2026-11-30")
    assert answer.status_code == 200
    assert "attachment" in answer.headers["content-disposition"]
    sheet = load_workbook(io.BytesIO(answer.content)).active
    assert (
        sheet.cell(1, 1).value == "整改台账（2026年11月01日至2026年11月30日，截至2026年11月16日）"
    )
    rows = [[cell.value for cell in row] for row in sheet.iter_rows(min_row=2)]
    assert rows[0] == HEADER
    county, river = "示范县政务服务中心", "河西县政务服务中心"
    # The October task closed in October is not in November's ledger; the carried one is.
    assert [(row[2], row[5], row[9], row[11], row[12], row[13]) for row in rows[1:]] == [
        # verified on 11-05, before its deadline 11-09
        (county, "站内搜索不可用", "已销号", "复核通过", "2026-11-05", 0),
        # its fix failed the 复核 on 11-12; still open on 11-16: 11-10 … 11-13, 11-16
        (county, "入口不统一", "已退回", "复核未通过", "2026-11-12", 5),
        # opened 10-28, deadline 11-04, never acted on: 11-05, 06, 09 … 13, 16
        (river, "站内搜索不可用", "待签收", None, None, 8),  # empty cells
        # closed by a supervisor on 11-13: 11-10 … 11-13
        (river, "搜索结果不准确", "已销号", "人工核实销号", "2026-11-13", 4),
    ]
    verified = rows[1]
    assert verified[:5] == [1, tasks["verified"].id, county, "示范县政务服务网", "站内搜索"]
    assert verified[6] == "搜索网站上已有的“公司设立登记”服务事项，搜索不到"
    assert (verified[7], verified[8], verified[10]) == (
        "2026-11-02",
        "2026-11-09",
        "已重建站内搜索索引",
    )
    assert rows[2][4] == "平台功能" and rows[2][10] == "已在首页增加统一入口"
    assert (rows[3][7], rows[3][8]) == ("2026-10-28", "2026-11-04")

    # By unit subtree, as CSV: the river county alone.
    answer = client.get("/console/exports/ledger.csv?start=2026-11-01&end=2026-11-30&unit=river")
    assert answer.content.startswith(b"\xef\xbb\xbf")
    table = list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"))))
    assert table[0] == HEADER
    assert [(row[0], row[2], row[13]) for row in table[1:]] == [
        ("1", river, "8"),
        ("2", river, "4"),
    ]
    # October alone: the task closed in October and the one carried over.
    october = client.get("/console/exports/ledger.csv?start=2026-10-01&end=2026-10-31")
    ids = [row[1] for row in csv.reader(io.StringIO(october.content.decode("utf-8-sig")))]
    assert ids[1:] == [str(tasks["october"].id), str(tasks["carried"].id)]


def test_a_county_account_cannot_download_another_countys_ledger(
    services: Services, clock: FakeClock
) -> None:
    add_account(services, "county-only", unit="county")
    client = TestClient(create_web_app(services))
    assert login(client, "county-only") == 303
    assert client.get("/console/exports/ledger.csv?unit=river").status_code == 404
    assert (
        client.get("/console/exports/ledger.xlsx?start=2026-11-30&end=2026-11-01").status_code
        == 400
    )


def test_report_ledger_command_writes_xlsx_and_csv_by_subtree(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    catalog = tmp_path / "catalog.yaml"
    catalog.write_text(console_catalog(), encoding="utf-8")
    monkeypatch.setenv("GOVPATROL_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("GOVPATROL_CATALOG", str(catalog))
    assert main(["db", "upgrade"]) == 0
    output = tmp_path / "台账.xlsx"
    args = ["report", "ledger", "--from", "2026-11-01", "--to", "2026-11-30"]
    assert main([*args, "--unit", "city", "--output", str(output)]) == 0
    assert "整改台账（2026年11月01日至2026年11月30日）：0 项任务" in capsys.readouterr().out
    sheet = load_workbook(output).active
    assert [cell.value for cell in sheet[2]] == HEADER
    assert main([*args, "--format", "csv", "--output", "-"]) == 0
    assert capsys.readouterr().out.startswith("\ufeff序号,任务编号,责任单位")
    assert main([*args, "--unit", "nowhere"]) == 1
    assert main(["report", "ledger", "--from", "2026-11-30", "--to", "2026-11-01"]) == 1
