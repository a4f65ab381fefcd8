"""Availability and response time from every run, on SQLite and PostgreSQL: the monthly
figure in the 通报 and the target page's 30-day charts (server-drawn SVG, no script)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from bot import report_commands
from bot.cli import main
from bot.services import Services
from bot.web import create_web_app
from core.clock import FakeClock
from core.results import Finding, Outcome, ProbeResult
from tasks.availability import availability_by_location, availability_by_target, percentile
from tasks.scorecard import Month, monthly_scorecards
from tests.conftest import ServicesFactory, at
from tests.console_helpers import (
    COUNTY_GUIDES,
    COUNTY_SEARCH,
    RIVER_SEARCH,
    add_account,
    console_catalog,
    login,
    search_finding,
)

UNREACHABLE = Finding(code="site.unreachable", title="网站无法访问", detail="连接超时")
HTTP_ERROR = Finding(code="site.http_error", title="网站返回错误", detail="HTTP 502")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(at("2026-11-05 18:00"))


@pytest.fixture
def services(make_services: ServicesFactory, engine: Engine, clock: FakeClock) -> Services:
    services = make_services(console_catalog(), engine=engine, clock=clock)
    add_account(services, "zhao")
    return services


def run(
    services: Services,
    check: str,
    started: str,
    seconds: float,
    outcome: Outcome = Outcome.PASS,
    *findings: Finding,
    held: bool = False,
    location: str | None = None,
) -> None:
    start = at(started)
    with services.sessions.begin() as session:
        recorded = services.tracker.record_run(
            session,
            check,
            ProbeResult(outcome, findings),
            started_at=start,
            finished_at=start + dt.timedelta(seconds=seconds),
        )
        recorded.held = held
        recorded.location = location


def a_week_of_runs(services: Services) -> None:
    run(services, COUNTY_SEARCH, "2026-10-30 10:00", 1.5)  # October: in the chart only
    run(services, COUNTY_SEARCH, "2026-11-02 10:00", 2)
    run(services, COUNTY_SEARCH, "2026-11-02 11:00", 4)
    run(services, COUNTY_SEARCH, "2026-11-02 12:00", 10, Outcome.FAIL, UNREACHABLE)  # down
    # A content finding: the site answered, so it was available.
    run(services, COUNTY_SEARCH, "2026-11-03 10:00", 3, Outcome.FAIL, search_finding())
    run(services, COUNTY_SEARCH, "2026-11-03 11:00", 60, Outcome.ERROR)  # the monitor's own
    run(services, COUNTY_SEARCH, "2026-11-03 12:00", 5, Outcome.INCONCLUSIVE)  # likewise
    with services.sessions.begin() as session:
        services.maintenance.add(
            session, "county-portal", at("2026-11-04 01:00"), at("2026-11-04 03:00"), "升级", "ops"
        )
        # An overlapping second window: the run inside both is taken out once.
        services.maintenance.add(
            session, "county-portal", at("2026-11-04 01:30"), at("2026-11-04 02:30"), "割接", "ops"
        )
    run(services, COUNTY_SEARCH, "2026-11-04 02:00", 9, Outcome.FAIL, HTTP_ERROR)  # maintenance
    run(services, COUNTY_SEARCH, "2026-11-05 10:00", 9, Outcome.FAIL, UNREACHABLE, held=True)
    run(services, COUNTY_GUIDES, "2026-11-04 10:00", 8)
    run(services, COUNTY_GUIDES, "2026-11-04 11:00", 1, Outcome.FAIL, UNREACHABLE)
    run(services, RIVER_SEARCH, "2026-11-05 10:00", 2)


def test_monthly_availability_counts_site_failures_and_leaves_out_the_monitors_own(
    services: Services,
) -> None:
    a_week_of_runs(services)
    with services.sessions() as session:
        cards = monthly_scorecards(
            session,
            services.catalog,
            services.calendar,
            services.zone,
            Month.parse("2026-11"),
            dt.date(2026, 11, 5),
        )
    by_unit = {card.unit_code: card.availability for card in cards}
    # County, November: counted 11-02 ×3, 11-03 content fail, the two checklist runs = 6;
    # down: the unreachable search run and the unreachable checklist run → 4 of 6.
    assert (by_unit["county"].counted, by_unit["county"].available) == (6, 4)
    assert by_unit["county"].percent == "66.67%"
    assert by_unit["river"].percent == "100.00%"
    assert by_unit["city"].share is None and by_unit["city"].percent == "—"

    client = TestClient(create_web_app(services))
    assert login(client, "zhao") == 303
    ranking = client.get("/console/ranking?month=2026-11").text
    assert '<th class="num">可用率</th>' in ranking and "66.67%" in ranking


def test_target_page_draws_30_days_of_availability_and_p50_p95_per_check(
    services: Services,
) -> None:
    a_week_of_runs(services)
    client = TestClient(create_web_app(services))
    assert login(client, "zhao") == 303
    page = client.get("/console/targets/county-portal")
    assert page.status_code == 200
    assert "script-src 'none'" in page.headers["content-security-policy"]
    assert "<script" not in page.text
    assert '<b class="availability-month">66.67%</b>' in page.text
    groups = re.findall(r'<g class="series (\w+)" data-series="[^"]*">(.*?)</g>', page.text, re.S)
    # search: points on 10-30, 11-02 and 11-03 (11-04 in maintenance, 11-05 held);
    # checklist: 11-04 only.
    assert [(css, body.count("<circle")) for css, body in groups] == [
        ("availability", 3),
        ("p50", 3),
        ("p95", 3),
        ("availability", 1),
        ("p50", 1),
        ("p95", 1),
    ]
    assert page.text.count("<polyline") == 3  # a line needs two points
    # 30 days of search: 1.5, 2, 4, 10 and 3 s, one of five down
    assert "近 30 天可用率 <b>80.00%</b>；巡检耗时 p50 <b>3.0s</b>，p95 <b>10.0s</b>" in page.text
    # 11-02: runs of 2 s, 4 s and 10 s, one of them unreachable
    assert "11-02 可用率：66.7%" in page.text
    assert "11-02 p50：4.0s" in page.text and "11-02 p95：10.0s" in page.text
    assert "11-03 p50：3.0s" in page.text  # the error and inconclusive runs left out
    # checklist 11-04: 8 s and 1 s, the 1 s one unreachable
    assert "11-04 可用率：50.0%" in page.text
    assert "11-04 p50：1.0s" in page.text and "11-04 p95：8.0s" in page.text
    assert client.get("/console/targets/nowhere").status_code == 404


def test_a_county_account_sees_only_its_own_targets_page(services: Services) -> None:
    add_account(services, "county-only", unit="county")
    client = TestClient(create_web_app(services))
    assert login(client, "county-only") == 303
    assert client.get("/console/targets/county-portal").status_code == 200
    assert client.get("/console/targets/river-portal").status_code == 404


def test_percentiles_are_nearest_rank() -> None:
    assert percentile(list(range(1, 21)), 95) == 19
    assert percentile([1, 2, 3, 4], 50) == 2
    assert percentile([7], 95) == 7
    assert percentile([], 50) is None


def test_monthly_availability_per_location_adds_up_to_the_targets_figure(
    services: Services, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    telecom, govnet = "互联网-电信", "政务外网"
    run(services, COUNTY_SEARCH, "2026-11-02 10:00", 2, location=telecom)
    run(services, COUNTY_SEARCH, "2026-11-02 10:01", 2, Outcome.FAIL, UNREACHABLE, location=govnet)
    run(services, COUNTY_SEARCH, "2026-11-02 11:00", 2, location=govnet)
    run(services, COUNTY_GUIDES, "2026-11-03 10:00", 1, Outcome.FAIL, HTTP_ERROR, location=telecom)
    run(services, COUNTY_SEARCH, "2026-11-03 12:00", 1)  # ``govpatrol run``: no location
    run(services, COUNTY_SEARCH, "2026-11-03 13:00", 1, Outcome.ERROR, location=telecom)
    with services.sessions.begin() as session:
        services.maintenance.add(
            session, "county-portal", at("2026-11-04 01:00"), at("2026-11-04 03:00"), "升级", "ops"
        )
    run(services, COUNTY_SEARCH, "2026-11-04 02:00", 1, Outcome.FAIL, HTTP_ERROR, location=govnet)
    run(services, RIVER_SEARCH, "2026-11-04 10:00", 1, location=govnet)
    start, end = at("2026-11-01 00:00"), at("2026-12-01 00:00")
    with services.sessions() as session:
        by_location = availability_by_location(session, start, end)
        by_target = availability_by_target(session, start, end)
    county = {place: (f.counted, f.available) for place, f in by_location["county-portal"].items()}
    # Locations by name, the runs without one (本机) last; maintenance and error left out.
    assert list(county.items()) == [(telecom, (2, 1)), (govnet, (2, 1)), ("本机", (1, 1))]
    assert (by_target["county-portal"].counted, by_target["county-portal"].available) == (5, 3)
    assert {p: f.percent for p, f in by_location["river-portal"].items()} == {govnet: "100.00%"}

    client = TestClient(create_web_app(services))
    assert login(client, "zhao") == 303
    page = client.get("/console/targets/county-portal").text
    assert '<b class="availability-month">60.00%</b>' in page
    table = re.search(r'<table class="availability-locations">(.*?)</table>', page, re.S)
    assert table is not None
    rows = [
        [re.sub(r"<[^>]+>", "", cell) for cell in re.findall(r"<td.*?</td>", row, re.S)]
        for row in re.findall(r"<tr>(.*?)</tr>", table.group(1), re.S)
    ]
    assert rows[1:] == [
        [telecom, "50.00%", "1/2"],
        [govnet, "50.00%", "1/2"],
        ["本机", "100.00%", "1/1"],
    ]

    monkeypatch.setattr(report_commands, "services_from", lambda args: services)
    assert main(["report", "availability", "--month", "2026-11", "--format", "csv"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        "责任单位,巡检对象,执行位置,可用率,可访问次数,计入巡检次数",
        f"示范县政务服务中心,示范县政务服务网,{telecom},50.00%,1,2",
        f"示范县政务服务中心,示范县政务服务网,{govnet},50.00%,1,2",
        "示范县政务服务中心,示范县政务服务网,本机,100.00%,1,1",
        f"河西县政务服务中心,河西县政务服务网,{govnet},100.00%,1,1",
    ]
