"""Campaigns (专项整改): tasks opened in scope and period get the one fixed deadline, and
the progress page counts found, fixed, verified and overdue per unit (one database)."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from bot.cli import main
from bot.services import Services
from bot.web import create_web_app
from core.clock import FakeClock
from core.results import Finding
from notifications.models import Notification
from tasks.campaigns import CampaignError, CampaignScope, code_matches, covers, create_campaign
from tasks.lifecycle import Actor, Role
from tasks.models import Campaign, Task
from tests.conftest import ServicesFactory, at
from tests.console_helpers import (
    COUNTY_GUIDES,
    COUNTY_SEARCH,
    RIVER_SEARCH,
    add_account,
    console_catalog,
    form_token,
    login,
    record_failure,
    search_finding,
)
from tests.test_ledger import verify

UNIT = Actor("联系人孙", Role.UNIT)


def entry_missing() -> Finding:
    return Finding(code="checklist.entry_missing", title="入口不统一", detail="首页没有统一入口")


def test_scope_matches_units_checks_and_code_patterns() -> None:
    campaign = Campaign(units=["county"], checks=[], finding_codes=["search.*", "checklist.x"])
    assert covers(campaign, COUNTY_SEARCH, "county", "search.item_not_found")
    assert covers(campaign, COUNTY_GUIDES, "county", "checklist.x")
    assert not covers(campaign, COUNTY_GUIDES, "county", "checklist.entry_missing")
    assert not covers(campaign, RIVER_SEARCH, "river", "search.item_not_found")
    assert not code_matches(["search.*"], "searching.x")
    anything = Campaign(units=[], checks=[RIVER_SEARCH], finding_codes=[])
    assert covers(anything, RIVER_SEARCH, "river", "search.unavailable")
    assert not covers(anything, COUNTY_SEARCH, "county", "search.unavailable")


def test_campaign_tasks_get_its_deadline_and_its_page_counts_progress_per_unit(
    make_services: ServicesFactory,
) -> None:
    clock = FakeClock(at("2026-11-02 10:00"))
    services = make_services(console_catalog(), clock=clock)
    add_account(services, "zhao")
    client = TestClient(create_web_app(services))
    assert login(client, "zhao") == 303

    # A supervisor creates it on the console: the city's subtree, tasks found 11-02..11-13.
    page = client.get("/console/campaigns")
    assert "新建专项整改" in page.text
    created = client.post(
        "/console/campaigns",
        data={
            "csrf": form_token(page.text),
            "name": "政务服务平台专项整改",
            "starts_on": "2026-11-02",
            "ends_on": "2026-11-13",
            "deadline": "2026-11-30",
            "unit": "county",
            "checks": [COUNTY_SEARCH, COUNTY_GUIDES],
            "codes": "search.*，checklist.entry_missing",
        },
    )
    assert created.status_code == 200 and "已创建专项整改" in created.text
    ident = int(re.search(r"/console/campaigns/(\d+)", str(created.url)).group(1))  # type: ignore[union-attr]

    (fixed,) = record_failure(services, clock, COUNTY_SEARCH, search_finding())
    (waiting,) = record_failure(services, clock, COUNTY_GUIDES, entry_missing())
    (river,) = record_failure(services, clock, RIVER_SEARCH, search_finding("排污许可证核发"))
    (false_alarm,) = record_failure(
        services, clock, COUNTY_SEARCH, search_finding(code="search.results_wrong")
    )
    clock.set(at("2026-11-16 09:00"))  # after the period: the working-day deadline again
    (later,) = record_failure(
        services, clock, COUNTY_GUIDES, Finding(code="checklist.guide_vague", title="t", detail="d")
    )
    with services.sessions() as session:
        got = {t.id: t for t in session.query(Task).all()}
    assert (got[fixed.id].deadline, got[fixed.id].campaign_id) == (dt.date(2026, 11, 30), ident)
    assert got[fixed.id].working_days == 20 and not got[fixed.id].deadline_estimated
    assert got[waiting.id].deadline == dt.date(2026, 11, 30)
    assert (got[river.id].deadline, got[river.id].campaign_id) == (dt.date(2026, 11, 9), None)
    assert got[later.id].campaign_id is None  # checklist.guide_vague: out of scope anyway
    with services.sessions() as session:
        history = session.get_one(Task, fixed.id).history
        assert "纳入专项整改“政务服务平台专项整改”，统一整改时限 2026-11-30" in history[0].reason
        # The notices and the task page name the campaign and its one fixed deadline.
        notices = session.scalars(select(Notification).order_by(Notification.id)).all()
    opened = [n for n in notices if n.task_id == fixed.id and n.kind == "task_opened"]
    assert opened and all(
        n.title.startswith("【整改通知】【专项整改：政务服务平台专项整改】示范县政务服务网：")
        and "专项整改：本任务纳入“政务服务平台专项整改”，统一整改时限 2026年11月30日" in n.body
        for n in opened
    )
    outside = [n for n in notices if n.task_id == river.id]
    assert outside and not any("专项整改" in n.title + n.body for n in outside)
    assert login(client, "zhao") == 303  # two weeks on: a new session
    shown = client.get(f"/console/tasks/{fixed.id}").text
    assert "【专项整改：政务服务平台专项整改】统一整改时限 2026-11-30" in shown
    assert "【专项整改：" not in client.get(f"/console/tasks/{river.id}").text

    # The search fix is verified; the entry fix waits for its 复核; the false alarm is upheld.
    with services.sessions.begin() as session:
        services.desk.report_rectified(session, fixed.id, UNIT, "已重建索引")
    verify(services, clock, fixed, COUNTY_SEARCH)
    with services.sessions.begin() as session:
        services.desk.report_rectified(session, waiting.id, UNIT, "已增加统一入口")
        request = services.desk.dispute(session, false_alarm.id, UNIT, "结果正确")
        services.desk.decide_dispute(session, request.id, Actor("赵", Role.SUPERVISOR), True)

    clock.set(at("2026-12-02 09:00"))
    assert login(client, "zhao") == 303  # a month later: a new session
    page = client.get(f"/console/campaigns/{ident}")
    assert page.status_code == 200
    cells = re.findall(r'data-label="[^"]+">(.*?)</td>', page.text)
    county = [re.sub(r"<[^>]+>", "", c) for c in cells[:9]]
    # found 2, fixed 2 (one closed, one awaiting 复核), verified 1, pending 1, overdue 1
    # (the fix reported but not verified by 11-30), closed late 0, upheld 1, 50%.
    assert county == ["示范县政务服务中心", "2", "2", "1", "1", "1", "0", "1", "50%"]
    assert len(cells) == 18  # the county and the total; the river county is out of scope
    assert "2026-11-30" in page.text
    assert f"巡检项 {COUNTY_GUIDES}、{COUNTY_SEARCH}" in page.text


def test_campaign_rules_and_the_cli(
    make_services: ServicesFactory,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    services: Services = make_services(console_catalog(), clock=FakeClock(at("2026-11-02 10:00")))
    with services.sessions.begin() as session:
        now = services.clock.now()
        base = CampaignScope(
            "专项", dt.date(2026, 11, 30), dt.date(2026, 11, 1), dt.date(2026, 11, 13)
        )
        for wrong, message in (
            (
                CampaignScope("专项", dt.date(2026, 11, 10), base.starts_on, base.ends_on),
                "不能早于",
            ),
            (CampaignScope(" ", base.deadline, base.starts_on, base.ends_on), "名称"),
            (
                CampaignScope("专项", base.deadline, base.starts_on, base.ends_on, "nowhere"),
                "nowhere",
            ),
            (
                CampaignScope("专项", base.deadline, base.starts_on, base.ends_on, checks=("x/y",)),
                "x/y",
            ),
        ):
            with pytest.raises(CampaignError, match=message):
                create_campaign(session, services.catalog, wrong, "t", now)

    catalog = tmp_path / "catalog.yaml"
    catalog.write_text(console_catalog(), encoding="utf-8")
    monkeypatch.setenv("GOVPATROL_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("GOVPATROL_CATALOG", str(catalog))
    assert main(["db", "upgrade"]) == 0
    create = ["campaign", "create", "--name", "搜索专项", "--deadline", "2026-11-30"]
    period = ["--from", "2026-11-02", "--to", "2026-11-13", "--unit", "city"]
    assert main([*create, *period, "--code", "search.*", "--check", RIVER_SEARCH]) == 0
    assert "已创建专项整改 #1" in capsys.readouterr().out
    assert main([*create, *period, "--check", "nowhere/search"]) == 1
    assert "没有巡检项 nowhere/search" in capsys.readouterr().err
    assert main(["campaign", "list"]) == 0
    assert "示范市政务服务管理局及下级单位" in capsys.readouterr().out
    assert main(["campaign", "show", "1"]) == 0
    shown = capsys.readouterr().out
    assert "统一整改时限：2026-11-30" in shown and "合计" in shown
    assert main(["campaign", "show", "9"]) == 1
