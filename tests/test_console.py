"""The supervisor console over HTTP: who gets in, what they see, what they may do."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from bot.console import pages
from bot.console.accounts import Role
from bot.console.auth import Viewer, page_viewer
from bot.services import Services
from bot.web import TEMPLATES, create_web_app
from bot.web_state import share
from core.clock import FakeClock
from core.results import Finding
from tasks.lifecycle import Actor
from tasks.lifecycle import Role as TaskRole
from tasks.models import TaskState
from tests.conftest import ServicesFactory, at
from tests.console_helpers import (
    COUNTY_SEARCH,
    PASSWORD,
    RIVER_SEARCH,
    add_account,
    console_catalog,
    form_token,
    login,
    record_failure,
    search_finding,
)

HOSTILE_TITLE = "<script>alert('title')</script>站内搜索不可用"
HOSTILE_DETAIL = "搜索“<img src=x onerror=alert(1)>”服务事项，搜索不到"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(at("2026-11-23 10:00"))


@pytest.fixture
def services(make_services: ServicesFactory, clock: FakeClock) -> Services:
    services = make_services(console_catalog(), clock=clock)
    add_account(services, "zhao")
    add_account(services, "county-only", unit="county")
    add_account(services, "ops", role=Role.OPERATOR)
    return services


@pytest.fixture
def client(services: Services) -> TestClient:
    return TestClient(create_web_app(services))


def signed_in(client: TestClient, name: str = "zhao") -> TestClient:
    assert login(client, name) == 303
    return client


def test_pages_exports_and_api_refuse_strangers(
    services: Services, client: TestClient, clock: FakeClock
) -> None:
    (task,) = record_failure(services, clock, COUNTY_SEARCH, search_finding())
    for path in ("/console", "/console/tasks", f"/console/tasks/{task.id}", "/console/targets"):
        answer = client.get(path, follow_redirects=False)
        assert answer.status_code == 303
        assert answer.headers["location"].startswith("/console/login?next=")
    export = client.get("/console/exports/problems.xlsx", follow_redirects=False)
    assert export.status_code == 303
    for path in ("/api/tasks", f"/api/tasks/{task.id}", "/api/runs", "/api/openapi.json"):
        assert client.get(path).status_code == 401
    assert client.get("/metrics").status_code == 401
    assert (
        client.get("/api/tasks", headers={"Authorization": "Bearer gp_forged"}).status_code == 401
    )
    assert client.get("/healthz").status_code == 200  # stays open, and says nothing secret


def test_login_sets_a_safe_session_cookie_and_logout_ends_it(client: TestClient) -> None:
    page = client.get("/console/login")
    answer = client.post(
        "/console/login",
        data={"name": "zhao", "password": PASSWORD, "csrf": form_token(page.text)},
        follow_redirects=False,
    )
    assert answer.status_code == 303 and answer.headers["location"] == "/console"
    cookie = answer.headers["set-cookie"]
    assert "govpatrol_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    overview = client.get("/console")
    assert overview.status_code == 200 and "总览" in overview.text
    assert "script-src 'none'" in overview.headers["content-security-policy"]
    stolen = client.cookies.get("govpatrol_session")
    client.post("/console/logout", data={"csrf": form_token(overview.text)})
    client.cookies.set("govpatrol_session", stolen or "")
    assert client.get("/console", follow_redirects=False).status_code == 303  # gone for good


def test_sessions_end_after_30_idle_minutes_and_12_hours_at_most(
    client: TestClient, clock: FakeClock
) -> None:
    signed_in(client)
    clock.advance(dt.timedelta(minutes=29))
    assert client.get("/console", follow_redirects=False).status_code == 200
    clock.advance(dt.timedelta(minutes=29))  # 58 minutes in, 29 since the last request
    assert client.get("/console", follow_redirects=False).status_code == 200
    clock.advance(dt.timedelta(minutes=31))
    assert client.get("/console", follow_redirects=False).status_code == 303  # idle too long
    signed_in(client)
    statuses = []
    for _ in range(12 * 3):  # busy all day, a request every 20 minutes
        clock.advance(dt.timedelta(minutes=20))
        statuses.append(client.get("/console", follow_redirects=False).status_code)
    assert statuses == [200] * 35 + [303]  # 12 hours after signing in, activity or not


def test_cookies_are_secure_when_the_console_is_served_over_https(
    make_services: ServicesFactory, clock: FakeClock
) -> None:
    services = make_services(
        console_catalog(), clock=clock, public_url="https://patrol.example.gov.cn"
    )
    add_account(services, "zhao")
    client = TestClient(create_web_app(services), base_url="https://testserver")
    page = client.get("/console/login")
    assert "Secure" in page.headers["set-cookie"]
    answer = client.post(
        "/console/login",
        data={"name": "zhao", "password": PASSWORD, "csrf": form_token(page.text)},
        follow_redirects=False,
    )
    assert answer.status_code == 303 and "Secure" in answer.headers["set-cookie"]


def test_wrong_passwords_lock_the_account_for_15_minutes(
    services: Services, client: TestClient, clock: FakeClock
) -> None:
    for _ in range(5):
        assert login(client, "zhao", "wrong password!") == 401
    locked = login(client, "zhao")  # the right password no longer helps
    assert locked == 429
    assert login(client, "ops") == 303  # other accounts are not locked
    clock.advance(dt.timedelta(minutes=16))
    assert login(client, "zhao") == 303


def test_login_and_action_posts_without_a_form_token_are_refused(
    services: Services, client: TestClient, clock: FakeClock
) -> None:
    answer = client.post("/console/login", data={"name": "zhao", "password": PASSWORD})
    assert answer.status_code == 403
    (task,) = record_failure(services, clock, COUNTY_SEARCH, search_finding())
    signed_in(client)
    refused = client.post(f"/console/tasks/{task.id}/close", data={"reason": "已修复"})
    assert refused.status_code == 403 and "表单已失效" in refused.text
    forged = client.post(f"/console/tasks/{task.id}/close", data={"reason": "x", "csrf": "f" * 64})
    assert forged.status_code == 403
    with services.sessions() as session:
        assert services.desk.get(session, task.id).state == TaskState.OPEN.value


def test_supervisor_decides_an_extension_recorded_under_their_name(
    services: Services, client: TestClient, clock: FakeClock
) -> None:
    (task,) = record_failure(services, clock, COUNTY_SEARCH, search_finding())
    with services.sessions.begin() as session:
        asked = services.desk.request_extension(
            session, task.id, Actor("孙晓（示范县）", TaskRole.UNIT), 3, "等待供应商"
        )
    page = signed_in(client).get(f"/console/tasks/{task.id}")
    assert "批准延期" in page.text and "等待供应商" in page.text
    done = client.post(
        f"/console/tasks/{task.id}/requests/{asked.id}",
        data={"csrf": form_token(page.text), "decision": "approve", "days": "2", "note": "同意"},
    )
    assert done.status_code == 200 and "已批准延期" in done.text
    with services.sessions() as session:
        found = services.desk.get(session, task.id)
        assert found.deadline > found.original_deadline
        assert found.history[-1].actor == "zhao（督办人员）"
        assert found.history[-1].action == "extension_approved"


def test_operators_see_but_do_not_decide(
    services: Services, client: TestClient, clock: FakeClock
) -> None:
    (task,) = record_failure(services, clock, COUNTY_SEARCH, search_finding())
    page = signed_in(client, "ops").get(f"/console/tasks/{task.id}")
    assert page.status_code == 200 and "直接销号" not in page.text
    answer = client.post(
        f"/console/tasks/{task.id}/close", data={"csrf": form_token(page.text), "reason": "x"}
    )
    assert answer.status_code == 403


def test_a_county_supervisor_sees_only_its_county(
    services: Services, client: TestClient, clock: FakeClock
) -> None:
    (own,) = record_failure(services, clock, COUNTY_SEARCH, search_finding())
    (other,) = record_failure(services, clock, RIVER_SEARCH, search_finding("排污许可证核发"))
    signed_in(client, "county-only")
    assert client.get(f"/console/tasks/{own.id}").status_code == 200
    assert client.get(f"/console/tasks/{other.id}").status_code == 404
    assert client.get(f"/api/tasks/{other.id}").status_code == 404
    listed = client.get("/console/tasks?status=all").text
    assert f'/console/tasks/{own.id}"' in listed and f'/console/tasks/{other.id}"' not in listed
    assert [t["id"] for t in client.get("/api/tasks").json()["items"]] == [own.id]
    assert client.get("/console/exports/problems.xlsx?unit=river").status_code == 404
    assert client.get("/console/units/river").status_code == 404
    export = client.get("/console/exports/problems.csv")
    assert "排污许可证核发" not in export.content.decode("utf-8-sig")
    assert {u["code"] for u in client.get("/api/units").json()} == {"county"}
    assert client.get("/metrics").status_code == 403  # metrics name every unit


def test_problem_list_xlsx_has_the_four_columns_from_real_tasks(
    services: Services, client: TestClient, clock: FakeClock
) -> None:
    record_failure(services, clock, COUNTY_SEARCH, search_finding())
    guide = Finding(
        code="checklist.guide_elements_missing",
        title="办事指南要素不全面",
        detail="公司设立登记：缺失办事依据；排污许可：缺失收费标准",
        subjects=("公司设立登记", "排污许可"),
    )
    record_failure(services, clock, "county-portal/checklist", guide)
    record_failure(services, clock, RIVER_SEARCH, search_finding('=HYPERLINK("http://x")'))
    answer = signed_in(client).get("/console/exports/problems.xlsx?start=2026-11-01")
    assert answer.status_code == 200
    assert "attachment" in answer.headers["content-disposition"]
    sheet = load_workbook(io.BytesIO(answer.content)).active
    rows = [tuple(cell.value for cell in row) for row in sheet.iter_rows(min_row=2)]
    assert rows[0] == ("地区名称", "存在问题", "问题/名称", "具体内容")
    assert rows[1:] == [
        (
            "示范县政务服务中心",
            "站内搜索",
            "站内搜索不可用",
            "搜索网站上已有的“公司设立登记”服务事项，搜索不到",
        ),
        ("示范县政务服务中心", "服务事项", "公司设立登记", "办事指南要素不全面，缺失办事依据"),
        ("示范县政务服务中心", "服务事项", "排污许可", "办事指南要素不全面，缺失收费标准"),
        (
            "河西县政务服务中心",
            "站内搜索",
            "站内搜索不可用",
            '搜索网站上已有的“=HYPERLINK("http://x")”服务事项，搜索不到',
        ),
    ]
    assert all(cell.data_type == "s" for row in sheet.iter_rows(min_row=3) for cell in row)
    csv = client.get("/console/exports/problems.csv?unit=county")
    assert csv.content.startswith(b"\xef\xbb\xbf")  # BOM: Excel reads UTF-8
    text = csv.content.decode("utf-8-sig")
    assert text.splitlines()[0] == "地区名称,存在问题,问题/名称,具体内容"
    assert "河西县" not in text and "公司设立登记" in text


def test_formulas_from_a_portal_are_written_as_text(
    services: Services, client: TestClient, clock: FakeClock
) -> None:
    record_failure(
        services,
        clock,
        COUNTY_SEARCH,
        Finding("search.x", "=1+2", "@SUM(A1:A9)"),
    )
    sheet = load_workbook(
        io.BytesIO(signed_in(client).get("/console/exports/problems.xlsx").content)
    ).active
    cell = sheet.cell(row=3, column=3)
    assert cell.value == "=1+2" and cell.data_type == "s"
    csv = client.get("/console/exports/problems.csv").content.decode("utf-8-sig")
    assert ",'=1+2,'@SUM(A1:A9)" in csv


def test_hostile_names_are_escaped_in_every_page(
    services: Services, client: TestClient, clock: FakeClock
) -> None:
    (task,) = record_failure(
        services,
        clock,
        COUNTY_SEARCH,
        Finding("search.item_not_found", HOSTILE_TITLE, HOSTILE_DETAIL),
    )
    signed_in(client)
    for path in ("/console/tasks?status=all", f"/console/tasks/{task.id}", "/console/units/county"):
        html = client.get(path).text
        assert "<script>alert" not in html and "<img src=x" not in html
        assert "&lt;script&gt;alert(&#39;title&#39;)&lt;/script&gt;" in html
    detail = client.get(f"/console/tasks/{task.id}").text
    assert "&lt;img src=x onerror=alert(1)&gt;" in detail


def test_api_answers_with_its_openapi_document_and_bearer_tokens(
    services: Services, client: TestClient, clock: FakeClock
) -> None:
    from bot.console.accounts import issue_token

    (task,) = record_failure(services, clock, COUNTY_SEARCH, search_finding())
    with services.sessions.begin() as session:
        token = issue_token(session, "ops", clock.now())
    bearer = {"Authorization": f"Bearer {token}"}
    doc = client.get("/api/openapi.json", headers=bearer).json()
    assert {"/tasks", "/tasks/{task_id}", "/runs", "/units", "/scorecards"} <= set(doc["paths"])
    found = client.get(f"/api/tasks/{task.id}", headers=bearer).json()
    assert found["title"] == "站内搜索不可用" and found["history"][0]["action"] == "opened"
    runs = client.get("/api/runs", headers=bearer).json()
    assert runs["total"] == 1 and runs["items"][0]["findings"][0]["code"] == "search.item_not_found"
    cards = client.get("/api/scorecards?month=2026-11", headers=bearer).json()
    assert {c["unit_code"] for c in cards} == {"province", "city", "county", "river"}
    # The one run found a content problem: the site answered, so it was available.
    by_unit = {c["unit_code"]: (c["availability"], c["full_marks"]) for c in cards}
    assert by_unit["county"] == (1.0, 100.0) and by_unit["city"] == (None, 100.0)
    assert client.post("/api/tasks", headers=bearer).status_code == 405  # read-only


def test_metrics_report_tasks_by_unit_and_the_browser_pool(
    services: Services, client: TestClient, clock: FakeClock
) -> None:
    from bot.console.accounts import issue_token

    record_failure(services, clock, COUNTY_SEARCH, search_finding())
    services.metrics.observe_run("search", "fail", 3.2)
    clock.advance(dt.timedelta(days=14))  # past the deadline
    with services.sessions.begin() as session:
        token = issue_token(session, "ops", clock.now())
    text = client.get("/metrics", headers={"Authorization": f"Bearer {token}"}).text
    assert 'govpatrol_tasks_open{unit="county"} 1.0' in text
    assert 'govpatrol_tasks_overdue{unit="county"} 1.0' in text
    assert 'govpatrol_tasks_open{unit="river"} 0.0' in text
    assert 'govpatrol_runs_total{outcome="fail",probe="search"} 1.0' in text
    assert "govpatrol_browser_contexts_in_use 0.0" in text
    assert 'govpatrol_notifications{status="pending"}' in text


def test_a_console_page_is_served_by_its_router_alone_with_the_viewer_given(
    services: Services, clock: FakeClock
) -> None:
    # The handlers fetch what they use through dependencies, so one router on a bare app,
    # with the sign-in replaced, is the whole of what a page needs.
    record_failure(services, clock, RIVER_SEARCH, search_finding("排污许可证核发"))
    app = FastAPI()
    share(app, services, TEMPLATES)
    app.include_router(pages.router)
    app.dependency_overrides[page_viewer] = lambda: Viewer(
        user_id=1,
        name="county-only",
        role=Role.SUPERVISOR,
        unit_code="county",
        units=frozenset({"county"}),
    )
    page = TestClient(app).get("/console/units")
    assert page.status_code == 200
    assert "示范县政务服务中心" in page.text
    assert "河西县政务服务中心" not in page.text
