"""A month in the seeds' own terms, end to end (issue 13's proof).

November 2026 on a controllable clock, working day by working day, against two real
sandbox portals (the county's and the river county's): every morning each location's
worker runs the light availability check of both portals (scheduled runs, as the queue
hands them out), and on three days the county's search check runs in Chromium. Faults
are switched on and off on chosen days, so tasks open, one is fixed and verified by the
next round, one is a false alarm upheld (its outage fell in a maintenance window the
operator approved afterwards), one stays overdue. Nothing is written but by the product.

Then, on 1 December, the month's indicator report, the availability figures (counted
again here by hand from the recorded runs), the 整改台账 export, and the published public
通报 (through the console app, over HTTP) must tell the same story.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections import defaultdict
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from bot.jobs import run_scheduled
from bot.services import Services
from bot.web import create_web_app
from core.clock import FakeClock
from core.results import Outcome
from sandbox.server import PortalSandbox
from tasks.availability import availability_by_location, availability_by_target
from tasks.indicators import monthly_indicators
from tasks.lifecycle import Actor, Role
from tasks.models import Run, ScheduledRun, Task, TaskState
from tasks.scorecard import Month, monthly_scorecards, table_rows
from tests.conftest import ServicesFactory, at
from tests.console_helpers import add_account, form_token, login
from tests.test_public_bulletins import private_strings

pytestmark = pytest.mark.browser

TELECOM, GOVNET = "互联网-电信", "政务外网"
CITY, COUNTY, RIVER = "示范市政务服务管理局", "示范县政务服务中心", "河西县政务服务中心"
COUNTY_UP = "county-portal/availability"
COUNTY_SEARCH = "county-portal/search"
RIVER_UP = "river-portal/availability"
ITEM = "排污许可证核发"
LIGHT = '{pages: ["/"], slow_after_s: 10, min_visits: 1000, tls: null}'


def catalog(county_url: str, river_url: str) -> str:
    return f"""
units:
  - code: city
    name: {CITY}
    level: city
    contacts: [{{name: 督办员赵, role: supervisor, notify: ["json://127.0.0.1:9/city"]}}]
  - code: county
    name: {COUNTY}
    level: county
    parent: city
    contacts: [{{name: 联系人孙, notify: ["json://127.0.0.1:9/county"]}}]
  - code: river
    name: {RIVER}
    level: county
    parent: city
    contacts: [{{name: 联系人周, notify: ["json://127.0.0.1:9/river"]}}]
locations: [{{name: {TELECOM}}}, {{name: {GOVNET}}}]
targets:
  - key: county-portal
    name: 示范县政务服务网
    unit: county
    base_url: {county_url}
    checks:
      - {{probe: availability, schedule: 1d, failure_threshold: 1, params: {LIGHT}}}
      - probe: search
        schedule: 1d
        failure_threshold: 1
        locations: [{TELECOM}]
        params: {{items: [{ITEM}]}}
  - key: river-portal
    name: 河西县政务服务网
    unit: river
    base_url: {river_url}
    checks:
      - {{probe: availability, schedule: 1d, failure_threshold: 1, params: {LIGHT}}}
"""


@pytest.fixture
def river_portal() -> Iterator[PortalSandbox]:
    """The river county's own portal: its faults are its own."""
    site = PortalSandbox.start("127.0.0.1", 0)
    yield site
    site.stop()


async def play(
    services: Services,
    clock: FakeClock,
    check: str,
    down: dict[str, PortalSandbox | None] | None = None,
    places: tuple[str, ...] = (TELECOM, GOVNET),
) -> None:
    """One scheduled slot of ``check``: each location's worker runs its run, 30 s apart;
    ``down`` names the locations that find the portal down (its fault on while they run)."""
    slot = clock.now()
    with services.sessions.begin() as session:
        rows = [
            ScheduledRun(check_id=check, location=p, slot=slot, deferred_at=slot) for p in places
        ]
        session.add_all(rows)
        session.flush()
        due = {row.location: row.id for row in rows}
    for place in places:
        site = (down or {}).get(place)
        if site is not None:
            site.faults.update({"site_down": True})
        try:
            report = await run_scheduled(services, due[place])
        finally:
            if site is not None:
                site.faults.update({"site_down": False})
        assert report is not None and report.outcome in (Outcome.PASS, Outcome.FAIL), report
        clock.advance(dt.timedelta(seconds=30))


def task_of(services: Services, check: str, code: str) -> Task:
    with services.sessions() as session:
        return session.scalars(
            select(Task).where(Task.check_id == check, Task.finding_code == code)
        ).one()


def cells_of(html: str, table: str) -> list[list[str]]:
    """The rows (text cells) of the public page's table titled ``table``."""
    found = re.search(rf"<h3>{re.escape(table)}</h3>.*?<table.*?>(.*?)</table>", html, re.S)
    assert found, table
    return [
        [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td.*?</td>", row, re.S)]
        for row in re.findall(r"<tr>(.*?)</tr>", found.group(1), re.S)
        if "<td" in row
    ]


async def test_a_month_of_runs_tells_one_story_in_every_report(
    make_services: ServicesFactory,
    engine: Engine,
    portal: PortalSandbox,
    river_portal: PortalSandbox,
) -> None:
    clock = FakeClock(at("2026-11-02 08:00"))
    services = make_services(catalog(portal.url, river_portal.url), clock=clock, engine=engine)
    add_account(services, "zhao")
    county_contact = Actor("联系人孙", Role.UNIT)
    zone = services.zone
    november = [dt.date(2026, 11, d) for d in range(1, 31)]
    working = [d for d in november if services.calendar.is_working_day(d)[0]]
    assert len(working) == 21

    for day in working:
        clock.set(at(f"{day} 09:00"))
        county_down: dict[str, PortalSandbox | None] = {}
        if day == dt.date(2026, 11, 3):  # the county's portal down, seen from both places
            county_down = {TELECOM: portal, GOVNET: portal}
        if day == dt.date(2026, 11, 5):  # a blip only 电信 sees: evidence, never a task
            county_down = {TELECOM: portal}
        await play(services, clock, COUNTY_UP, county_down)
        river_down: dict[str, PortalSandbox | None] = {}
        if day == dt.date(2026, 11, 12):  # the river county's planned (unannounced) outage
            river_down = {TELECOM: river_portal, GOVNET: river_portal}
        await play(services, clock, RIVER_UP, river_down)

        if day == dt.date(2026, 11, 2):
            await play(services, clock, COUNTY_SEARCH, places=(TELECOM,))  # passes
        if day == dt.date(2026, 11, 10):  # the item drops out of the index, for good
            portal.faults.update({"items_missing": [ITEM]})
        if day in (dt.date(2026, 11, 10), dt.date(2026, 11, 20)):
            await play(services, clock, COUNTY_SEARCH, places=(TELECOM,))

        if day == dt.date(2026, 11, 3):  # the county mends it and says so that afternoon
            clock.set(at(f"{day} 14:00"))
            outage = task_of(services, COUNTY_UP, "site.http_error")
            with services.sessions.begin() as session:
                services.desk.report_rectified(session, outage.id, county_contact, "已重启服务器")
        if day == dt.date(2026, 11, 12):  # it was maintenance: approved afterwards, disputed
            clock.set(at(f"{day} 14:00"))
            planned = task_of(services, RIVER_UP, "site.http_error")
            with services.sessions.begin() as session:
                services.maintenance.add(
                    session,
                    "river-portal",
                    at(f"{day} 08:30"),
                    at(f"{day} 10:00"),
                    "机房计划停电（事后补报）",
                    "运维",
                )
                request = services.desk.dispute(
                    session, planned.id, Actor("联系人周", Role.UNIT), "计划内停机维护"
                )
                services.desk.decide_dispute(
                    session, request.id, Actor("督办员赵", Role.SUPERVISOR), True, "已补报维护窗口"
                )

    outage = task_of(services, COUNTY_UP, "site.http_error")
    missing = task_of(services, COUNTY_SEARCH, "search.item_not_found")
    planned = task_of(services, RIVER_UP, "site.http_error")
    # The 11-04 round (both places up) verified the outage fix; the search task never closed.
    assert outage.task_state is TaskState.CLOSED
    assert outage.closed_at is not None and outage.closed_at.astimezone(zone).date() == dt.date(
        2026, 11, 4
    )
    assert missing.task_state is TaskState.OPEN and missing.deadline == dt.date(2026, 11, 17)
    assert missing.occurrences == 2
    assert planned.task_state is TaskState.INVALIDATED
    with services.sessions() as session:
        tasks = session.scalars(select(Task)).all()
    assert len(tasks) == 3  # the 11-05 blip (one place of two) opened nothing

    # 30 November, evening: each target page shows the month so far per location.
    clock.set(at("2026-11-30 18:00"))
    console = TestClient(create_web_app(services))
    assert login(console, "zhao") == 303
    shown = {}
    for key in ("county-portal", "river-portal"):
        html = console.get(f"/console/targets/{key}").text
        table = re.search(r'<table class="availability-locations">(.*?)</table>', html, re.S)
        assert table is not None, key
        for row in re.findall(r"<tr>(.*?)</tr>", table.group(1), re.S)[1:]:
            place, share, counts = (
                re.sub(r"<[^>]+>", "", c) for c in re.findall(r"<td.*?</td>", row, re.S)
            )
            shown[(key, place)] = (share, counts)

    # -- 1 December: the month is over -------------------------------------------------
    clock.set(at("2026-12-01 09:00"))
    today = dt.date(2026, 12, 1)
    month = Month(2026, 11)
    start, end = at("2026-11-01 00:00"), at("2026-12-01 00:00")

    # Availability by hand, from the recorded runs: a run counts when it judged the site
    # (pass or fail, not held) outside the approved window; it was down when it failed
    # with a site.* finding that says so.
    window = (at("2026-11-12 08:30"), at("2026-11-12 10:00"))
    by_hand: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    with services.sessions() as session:
        runs = session.scalars(select(Run).order_by(Run.id)).all()
        for run in runs:
            target = run.check_id.split("/")[0]
            assert run.location in (TELECOM, GOVNET) and start <= run.started_at < end
            if run.outcome not in ("pass", "fail") or run.held:
                continue
            if target == "river-portal" and window[0] <= run.started_at < window[1]:
                continue
            codes = {finding.code for finding in run.findings}
            down = any(c.startswith("site.") and c != "site.availability_low" for c in codes)
            by_hand[(target, run.location)][0] += 1
            by_hand[(target, run.location)][1] += not down
        places = availability_by_location(session, start, end)
        targets = availability_by_target(session, start, end)
    assert len(runs) == 21 * 4 + 3  # both portals from both places each day; 3 searches
    # The county: 21 light runs from each place, two down from 电信 (11-03, 11-05), one
    # from 政务外网 (11-03); 电信 also ran the 3 searches (content findings: the site was
    # up). The river: 21 from each place, the 11-12 runs inside the approved window.
    assert dict(by_hand) == {
        ("county-portal", TELECOM): [24, 22],
        ("county-portal", GOVNET): [21, 20],
        ("river-portal", TELECOM): [20, 20],
        ("river-portal", GOVNET): [20, 20],
    }
    product = {
        (key, place): [figure.counted, figure.available]
        for key, found in places.items()
        for place, figure in found.items()
    }
    assert product == by_hand
    assert {k: (v.counted, v.available) for k, v in targets.items()} == {
        "county-portal": (45, 42),
        "river-portal": (40, 40),
    }
    # A unit's figure is its targets' runs over every place: 42/45 and 40/40.
    percent = {
        unit: f"{sum(v[1] for k, v in by_hand.items() if k[0] == key) / total * 100:.2f}%"
        for unit, key, total in (("county", "county-portal", 45), ("river", "river-portal", 40))
    }
    assert percent == {"county": "93.33%", "river": "100.00%"}
    percent["city"] = "—"  # no target of its own
    assert shown == {
        scope: (f"{fine / counted * 100:.2f}%", f"{fine}/{counted}")
        for scope, (counted, fine) in by_hand.items()
    }

    # The indicator report: the county's search runs judge A3-1 查询精准度 (2 of 3 against
    # it: 33.33); no other indicator has a run, so A and the total are 33.33 as well
    # (weights rescaled over what applies). The river and the city: nothing applies.
    with services.sessions() as session:
        indicators = monthly_indicators(session, services.catalog, zone, month, today)
        cards = monthly_scorecards(session, services.catalog, services.calendar, zone, month, today)
    leaf = indicators.units["county"].row("A3-1")
    assert (leaf.runs, leaf.against, leaf.shown) == (3, 2, "33.33")
    assert set(leaf.evidence) == {r.id for r in runs if r.check_id == COUNTY_SEARCH and r.findings}
    assert indicators.units["county"].total == 33.33
    assert [row.shown for row in indicators.units["county"].top] == ["33.33"] + ["不适用"] * 4
    assert indicators.units["river"].total is None and indicators.units["city"].total is None
    card = {c.unit_code: c for c in cards}
    assert {code: c.availability.percent for code, c in card.items()} == percent

    # -- the console: ledger export and publishing ---------------------------------------
    assert login(console, "zhao") == 303  # a day later: a new session
    exported = console.get("/console/exports/ledger.csv?start=2026-11-01&end=2026-11-30")
    assert exported.status_code == 200
    ledger = list(csv.DictReader(io.StringIO(exported.content.decode("utf-8-sig"))))
    by_task = {int(row["任务编号"]): row for row in ledger}
    assert set(by_task) == {outage.id, missing.id, planned.id}
    assert (by_task[outage.id]["状态"], by_task[outage.id]["复核结果"]) == ("已销号", "复核通过")
    assert by_task[outage.id]["超期工作日"] == "0"
    # 11-18 … 12-01: ten working days late by today (the 通报 counts to 11-30: nine).
    assert (by_task[missing.id]["状态"], by_task[missing.id]["超期工作日"]) == ("待签收", "10")
    assert by_task[planned.id]["复核结果"] == "申诉成立撤销"
    assert by_task[planned.id]["责任单位"] == RIVER

    page = console.get("/console/bulletins")
    published = console.post(
        "/console/bulletins/publish", data={"csrf": form_token(page.text), "month": "2026-11"}
    )
    assert "已公开发布 2026-11 通报" in published.text

    public = TestClient(create_web_app(services)).get("/public/bulletins/2026-11")
    assert public.status_code == 200
    secrets = private_strings(services.catalog)
    assert {"联系人孙", "json://127.0.0.1:9/county", portal.url} <= secrets
    assert [text for text in secrets if text in public.text] == []
    ranking = {row[1]: row for row in cells_of(public.text, "排名与等级")}
    indicator_rows = {
        row[0]: row
        for row in next(
            cells_of(public.text, t)
            for t in re.findall(r"<h3>(指标得分（[^<]*）)</h3>", public.text)
        )
    }

    # -- they agree -----------------------------------------------------------------------
    names = {"city": CITY, "county": COUNTY, "river": RIVER}
    assert set(ranking) == set(indicator_rows) == set(names.values())
    assert {row["责任单位"] for row in ledger} <= set(names.values())
    live = {row[1]: row for row in table_rows(cards)}
    for code, name in names.items():
        row = ranking[name]
        mine = [r for r in ledger if r["责任单位"] == name]
        counted = [r for r in mine if r["状态"] != "已撤销"]
        # 新立, 销号, 按期销号, 超期, 超期工作日, 复发/退回, 申诉成立 …
        assert row[2] == str(sum(r["立案日期"].startswith("2026-11") for r in counted)), name
        assert row[3] == str(sum(r["状态"] == "已销号" for r in counted)), name
        assert row[5] == str(sum(int(r["超期工作日"]) > 0 for r in counted)), name
        assert row[8] == str(sum(r["复核结果"] == "申诉成立撤销" for r in mine)), name
        assert row[10] == percent[code], name  # 可用率
        assert row == live[name], name  # the frozen 通报 is the month as computed
        report = indicators.units[code]
        assert indicator_rows[name][1:] == [
            *(r.shown for r in report.top),
            "不适用" if report.total is None else f"{report.total:.2f}",
        ], name
    assert ranking[COUNTY][2:6] == ["2", "1", "1", "1"] and ranking[COUNTY][6] == "9"
    assert ranking[RIVER][2] == "0" and ranking[RIVER][8] == "1"
