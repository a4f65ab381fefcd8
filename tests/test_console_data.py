"""The console's data layer on SQLite and PostgreSQL: accounts, the login lockout, the
overview figures, the task list filters, the problem list and the scrape-time metrics."""

from __future__ import annotations

import datetime as dt

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from sqlalchemy import Engine, func, select

from bot.console.accounts import (
    AccountError,
    ConsoleSession,
    Role,
    add_user,
    check_password,
    disable_user,
    issue_token,
    set_password,
    user_for_token,
)
from bot.console.auth import ConsoleAuth
from bot.console.figures import overview, target_board
from bot.console.listing import Sort, Status, TaskFilter, task_page
from bot.console.metrics import ScrapeTimeFigures
from bot.services import Services
from core.clock import FakeClock
from core.results import Finding
from probes.guide_check import GUIDE_FINDING_CODES
from tasks.lifecycle import Actor
from tasks.lifecycle import Role as TaskRole
from tasks.problem_list import Period, problem_rows, split_by_item
from tests.conftest import ServicesFactory, at
from tests.console_helpers import (
    COUNTY_GUIDES,
    COUNTY_SEARCH,
    PASSWORD,
    RIVER_SEARCH,
    console_catalog,
    record_failure,
    record_pass,
    search_finding,
)

ALL_UNITS = {"province", "city", "county", "river"}


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(at("2026-11-23 10:00"))


@pytest.fixture
def services(make_services: ServicesFactory, clock: FakeClock, engine: Engine) -> Services:
    return make_services(console_catalog(), clock=clock, engine=engine)


def test_accounts_hash_passwords_and_disabling_ends_sessions_and_tokens(
    services: Services, clock: FakeClock
) -> None:
    auth = ConsoleAuth(services)
    with services.sessions.begin() as session:
        user = add_user(session, "zhao", Role.SUPERVISOR, PASSWORD, clock.now(), "city")
        assert user.password_hash.startswith("$argon2id$") and PASSWORD not in user.password_hash
        with pytest.raises(AccountError, match="已存在"):
            add_user(session, "zhao", Role.OPERATOR, PASSWORD, clock.now())
        with pytest.raises(AccountError, match="至少"):
            add_user(session, "qian", Role.OPERATOR, "short", clock.now())
        token = issue_token(session, "zhao", clock.now())
        auth.start_session(session, user)
    with services.sessions.begin() as session:
        assert check_password(session, "zhao", PASSWORD) is not None
        assert check_password(session, "zhao", "wrong password") is None
        assert check_password(session, "nobody", PASSWORD) is None
        found = user_for_token(session, token, clock.now())
        assert found is not None and found.unit_code == "city"
        set_password(session, "zhao", "another long password")
        assert session.scalar(select(func.count(ConsoleSession.digest))) == 0
        auth.start_session(session, user)
        disable_user(session, "zhao")
    with services.sessions.begin() as session:
        assert session.scalar(select(func.count(ConsoleSession.digest))) == 0
        assert user_for_token(session, token, clock.now()) is None
        assert check_password(session, "zhao", "another long password") is None


def test_lockout_counts_failures_per_account_and_per_client(
    services: Services, clock: FakeClock
) -> None:
    auth = ConsoleAuth(services)

    def attempt(account: str, client: str, ok: bool = False) -> None:
        clock.advance(dt.timedelta(seconds=5))
        with services.sessions.begin() as session:
            auth.finish_attempt(session, auth.begin_attempt(session, account, client), ok)

    def locked(account: str, client: str) -> bool:
        with services.sessions() as session:
            return auth.locked_out(session, account, client)

    for _ in range(4):
        attempt("zhao", "10.0.0.1")
    attempt("zhao", "10.0.0.1", ok=True)  # a success starts the count afresh
    for _ in range(4):
        attempt("zhao", "10.0.0.1")
    assert not locked("zhao", "10.0.0.1")
    attempt("zhao", "10.0.0.1")
    assert locked("zhao", "10.0.0.2")  # the account, from any address
    for n in range(20):
        attempt(f"guess{n}", "10.0.0.9")
    assert locked("qian", "10.0.0.9")  # the address, for any account
    assert not locked("qian", "10.0.0.3")
    clock.advance(dt.timedelta(minutes=15))
    assert not locked("zhao", "10.0.0.1")
    assert not locked("qian", "10.0.0.9")


def test_overview_counts_open_overdue_due_soon_and_closed_by_unit(
    services: Services, clock: FakeClock
) -> None:
    (late,) = record_failure(services, clock, COUNTY_SEARCH, search_finding())
    clock.set(at("2026-11-26 09:00"))  # Thursday: the next task is due next Thursday
    (closing,) = record_failure(services, clock, RIVER_SEARCH, search_finding("排污许可证核发"))
    with services.sessions.begin() as session:
        services.desk.close(session, closing.id, Actor("zhao", TaskRole.SUPERVISOR), "已修复")
    (soon,) = record_failure(
        services, clock, COUNTY_GUIDES, Finding("checklist.x", "整栏目空白", "个人办事：兵役")
    )
    record_pass(services, clock, RIVER_SEARCH)
    clock.set(at("2026-12-02 09:00"))  # late (due 11-30) is overdue; soon is due 12-03
    with services.sessions() as session:
        figures = overview(services, session, None)
        scoped = overview(services, session, {"river"})
    assert (figures.open, figures.overdue, figures.due_soon) == (2, 1, 1)
    assert figures.closed_this_month == 0  # closed in November; it is December now
    (county,) = [u for u in figures.units if u.unit_code == "county"]
    assert (county.open, county.overdue, county.due_soon) == (2, 1, 1)
    assert sum(day.count for day in figures.trend) == 3
    assert len(figures.trend) == 30 and figures.trend[-1].day == dt.date(2026, 12, 2)
    assert (scoped.open, scoped.units) == (0, [])  # river's only task closed in November
    assert {late.unit_code, soon.unit_code} == {"county"}


def test_findings_trend_buckets_by_local_day(services: Services, clock: FakeClock) -> None:
    clock.set(at("2026-11-30 23:30"))  # 15:30 UTC: still the 30th in Shanghai
    record_failure(
        services, clock, COUNTY_SEARCH, search_finding(), search_finding("x", "search.y")
    )
    clock.set(at("2026-12-01 00:30"))
    record_failure(services, clock, RIVER_SEARCH, search_finding())
    with services.sessions() as session:
        trend = overview(services, session, None).trend
        county_only = overview(services, session, {"county"}).trend
    counts = {day.day: day.count for day in trend if day.count}
    assert counts == {dt.date(2026, 11, 30): 2, dt.date(2026, 12, 1): 1}
    assert {day.day: day.count for day in county_only if day.count} == {dt.date(2026, 11, 30): 2}


def test_target_board_shows_last_outcome_pass_and_failure(
    services: Services, clock: FakeClock
) -> None:
    record_failure(services, clock, COUNTY_SEARCH, search_finding())
    record_pass(services, clock, COUNTY_SEARCH)
    with services.sessions() as session:
        board = {row.check_id: row for row in target_board(services, session, None)}
        scoped = target_board(services, session, {"river"})
    county = board[COUNTY_SEARCH]
    assert county.last_outcome == "pass" and county.open_tasks == 1
    assert county.last_failure_at is not None and county.last_pass_at is not None
    assert county.last_failure_at < county.last_pass_at
    assert board[COUNTY_GUIDES].last_outcome is None
    assert [row.check_id for row in scoped] == [RIVER_SEARCH]


def test_task_list_filters_by_subtree_level_probe_and_sorts_by_days_overdue(
    services: Services, clock: FakeClock
) -> None:
    (first,) = record_failure(services, clock, COUNTY_SEARCH, search_finding())
    clock.advance(dt.timedelta(days=1))
    (second,) = record_failure(services, clock, RIVER_SEARCH, search_finding())
    (guide,) = record_failure(
        services, clock, COUNTY_GUIDES, Finding("checklist.x", "入口不统一", "…")
    )
    clock.advance(dt.timedelta(days=20))

    def ids(wanted: TaskFilter) -> list[int]:
        with services.sessions() as session:
            return [row["id"] for row in task_page(services, session, wanted, None).rows]

    assert ids(TaskFilter(status=Status.OVERDUE)) == [first.id, second.id, guide.id]
    assert ids(TaskFilter(sort=Sort.LEAST_OVERDUE)) == [guide.id, second.id, first.id]
    assert ids(TaskFilter(unit="city")) == [first.id, second.id, guide.id]  # the whole subtree
    assert ids(TaskFilter(unit="river")) == [second.id]
    assert ids(TaskFilter(level="county", probe="checklist")) == [guide.id]
    assert ids(TaskFilter(level="city")) == []
    with services.sessions() as session:
        page = task_page(services, session, TaskFilter(), {"county"})
    assert {row["id"] for row in page.rows} == {first.id, guide.id}
    assert page.rows[0]["days_overdue"] > 0


def test_problem_rows_split_guide_findings_by_service_item(
    services: Services, clock: FakeClock
) -> None:
    record_failure(services, clock, COUNTY_SEARCH, search_finding())
    elements = Finding(
        "checklist.guide_elements_missing",
        "办事指南要素不全面",
        "公司设立登记：缺失办事依据；排污许可：缺失收费标准",
        subjects=("公司设立登记", "排污许可"),
    )
    forms = Finding(
        "checklist.form_download_missing",
        "未提供表格及填写示范获取渠道",
        "公司设立登记：未提供填写示范获取渠道",
        subjects=("公司设立登记",),
    )
    record_failure(services, clock, COUNTY_GUIDES, elements, forms)
    (river,) = record_failure(services, clock, RIVER_SEARCH, search_finding("排污许可证核发"))
    with services.sessions.begin() as session:
        request = services.desk.dispute(
            session, river.id, Actor("周", TaskRole.UNIT), "该事项已下线"
        )
        services.desk.decide_dispute(
            session, request.id, Actor("zhao", TaskRole.SUPERVISOR), uphold=True
        )
    period = Period(dt.date(2026, 11, 1), dt.date(2026, 11, 30))
    with services.sessions() as session:
        found = problem_rows(
            session, services.catalog, services.zone, period, ALL_UNITS, GUIDE_FINDING_CODES
        )
        october = Period(dt.date(2026, 10, 1), dt.date(2026, 10, 31))
        none = problem_rows(
            session, services.catalog, services.zone, october, ALL_UNITS, GUIDE_FINDING_CODES
        )
    rows = [row.cells() for row in found]
    assert rows == [
        (
            "示范县政务服务中心",
            "站内搜索",
            "站内搜索不可用",
            "搜索网站上已有的“公司设立登记”服务事项，搜索不到",
        ),
        (
            "示范县政务服务中心",
            "服务事项",
            "公司设立登记",
            "(1) 办事指南要素不全面，缺失办事依据 "
            "(2) 未提供表格及填写示范获取渠道，未提供填写示范获取渠道",
        ),
        ("示范县政务服务中心", "服务事项", "排污许可", "办事指南要素不全面，缺失收费标准"),
    ]  # the river task was a false alarm (申诉成立): not listed
    assert none == []


def test_split_by_item_keeps_separators_inside_an_items_text() -> None:
    detail = "甲：材料“其他材料”含糊不清；乙：缺失办事依据、收费标准"
    assert split_by_item(detail, ["甲", "乙"]) == [
        ("甲", "材料“其他材料”含糊不清"),
        ("乙", "缺失办事依据、收费标准"),
    ]
    assert split_by_item("没有名字", ["甲"]) == [("甲", "没有名字")]


def test_scrape_reads_open_and_overdue_tasks_by_unit(services: Services, clock: FakeClock) -> None:
    record_failure(services, clock, COUNTY_SEARCH, search_finding())
    record_failure(services, clock, RIVER_SEARCH, search_finding())
    clock.advance(dt.timedelta(days=3))
    record_failure(services, clock, COUNTY_GUIDES, Finding("checklist.x", "入口不统一", "…"))
    clock.advance(dt.timedelta(days=7))
    registry = CollectorRegistry()
    registry.register(ScrapeTimeFigures(services))
    text = generate_latest(registry).decode()
    assert 'govpatrol_tasks_open{unit="county"} 2.0' in text
    assert 'govpatrol_tasks_overdue{unit="county"} 1.0' in text
    assert 'govpatrol_tasks_overdue{unit="river"} 1.0' in text
    assert 'govpatrol_tasks_open{unit="province"} 0.0' in text
    assert 'govpatrol_notifications{status="pending"}' in text
    assert "govpatrol_database_up 1.0" in text
