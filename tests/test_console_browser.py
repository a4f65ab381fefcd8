"""The console in a real Chromium against the app served by uvicorn: a supervisor signs
in, finds an overdue task, sees its evidence, approves an extension and exports the
problem list; unit links open only their task; hostile names stay text."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from openpyxl import load_workbook
from playwright.async_api import Dialog, Page

from bot.jobs import run_check
from bot.services import Services
from bot.web import create_web_app
from core.clock import FakeClock
from core.results import Finding, Outcome, ProbeResult
from probes.pool import BrowserPool
from sandbox.server import PortalSandbox, SandboxServer
from tasks.lifecycle import Actor, Role
from tasks.models import TaskState
from tests.catalogs import portal_catalog
from tests.conftest import ServicesFactory, at
from tests.console_helpers import (
    COUNTY_SEARCH,
    PASSWORD,
    RIVER_SEARCH,
    add_account,
    console_catalog,
    record_failure,
    screenshot_evidence,
    search_finding,
)

pytestmark = pytest.mark.browser

HOSTILE_TITLE = "<script>alert('title')</script>站内搜索不可用"
HOSTILE_ITEM = "<img src=x onerror=alert('item')>排污许可"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(at("2026-11-23 10:00"))


@pytest.fixture
def services(make_services: ServicesFactory, clock: FakeClock) -> Services:
    services = make_services(console_catalog(), clock=clock)
    add_account(services, "zhao")
    return services


@pytest.fixture
def console(services: Services) -> Iterator[str]:
    with SandboxServer(create_web_app(services), port=0) as server:
        yield server.url


@pytest.fixture
async def page(browser_pool: BrowserPool) -> AsyncIterator[Page]:
    async with browser_pool.context(accept_downloads=True) as context:
        yield await context.new_page()


def dialogs_of(page: Page) -> list[str]:
    """Every JavaScript dialog the page opens (there must be none)."""
    seen: list[str] = []

    async def dismiss(dialog: Dialog) -> None:
        seen.append(dialog.message)
        await dialog.dismiss()

    page.on("dialog", dismiss)
    return seen


async def sign_in(page: Page, console: str) -> None:
    await page.goto(f"{console}/console")
    assert "/console/login" in page.url
    await page.get_by_label("用户名").fill("zhao")
    await page.get_by_label("密码").fill(PASSWORD)
    await page.get_by_role("button", name="登录").click()
    await page.wait_for_url(f"{console}/console")


async def test_supervisor_approves_an_overdue_extension_and_exports_the_problem_list(
    services: Services, clock: FakeClock, console: str, page: Page, tmp_path: Path
) -> None:
    (task,) = record_failure(
        services, clock, COUNTY_SEARCH, search_finding(), evidence=screenshot_evidence(services)
    )
    with services.sessions.begin() as session:
        services.desk.request_extension(
            session, task.id, Actor("孙晓（示范县）", Role.UNIT), 3, "等待供应商"
        )
    clock.advance(dt.timedelta(days=10))  # deadline 2026-11-30 is behind us

    await sign_in(page, console)
    await page.get_by_role("link", name="已超期").click()
    row = page.locator("tr", has_text="站内搜索不可用")
    assert "超期 3 个工作日" in await row.inner_text()
    await row.get_by_role("link", name="站内搜索不可用").click()
    await page.wait_for_url(f"{console}/console/tasks/{task.id}")

    shot = page.locator("img.shot").first
    await shot.wait_for()
    assert await shot.evaluate("img => img.complete && img.naturalWidth") == 40
    html_link = page.get_by_role("link", name="页面 HTML 快照 1")
    assert await html_link.count() == 1

    await page.get_by_role("button", name="批准延期").click()
    await page.get_by_text("已批准延期").wait_for()
    with services.sessions() as session:
        found = services.desk.get(session, task.id)
        assert found.deadline == dt.date(2026, 12, 3)
        assert found.history[-1].actor == "zhao（督办人员）"
    assert "zhao（督办人员）" in await page.locator("body").inner_text()

    await page.get_by_role("link", name="导出").click()
    await page.get_by_label("开始").fill("2026-11-01")
    async with page.expect_download() as info:
        await page.get_by_role("button", name="导出问题清单 XLSX").click()
    saved = tmp_path / (await info.value).suggested_filename
    await (await info.value).save_as(saved)
    sheet = load_workbook(saved).active
    assert [c.value for c in sheet[2]] == ["地区名称", "存在问题", "问题/名称", "具体内容"]
    assert [c.value for c in sheet[3]] == [
        "示范县政务服务中心",
        "站内搜索",
        "站内搜索不可用",
        "搜索网站上已有的“公司设立登记”服务事项，搜索不到",
    ]


async def test_hostile_names_from_a_portal_show_as_text(
    services: Services, clock: FakeClock, console: str, page: Page
) -> None:
    hostile = Finding(
        code="search.item_not_found",
        title=HOSTILE_TITLE,
        detail=f"搜索网站上已有的“{HOSTILE_ITEM}”服务事项，搜索不到",
    )
    (task,) = record_failure(services, clock, RIVER_SEARCH, hostile)
    dialogs = dialogs_of(page)
    await sign_in(page, console)
    for path in ("/console/tasks?status=all", f"/console/tasks/{task.id}"):
        await page.goto(f"{console}{path}")
        await page.get_by_text(HOSTILE_TITLE).first.wait_for()
        assert HOSTILE_ITEM in await page.locator("main").inner_text()
        assert await page.locator("img[src=x]").count() == 0
    link = services.links.url(task.id, task.unit_code).replace(
        services.settings.public_url, console
    )
    await page.goto(link)  # the unit's page escapes the same data
    await page.get_by_text(HOSTILE_TITLE).first.wait_for()
    assert await page.locator("img[src=x]").count() == 0
    assert dialogs == []


async def test_a_unit_link_opens_only_its_task_and_forged_or_expired_links_fail(
    services: Services, clock: FakeClock, console: str, page: Page
) -> None:
    (own,) = record_failure(services, clock, COUNTY_SEARCH, search_finding())
    (other,) = record_failure(services, clock, RIVER_SEARCH, search_finding("排污许可证核发"))
    token = services.links.token(own.id, own.unit_code)
    answer = await page.goto(f"{console}/u/{token}")
    assert answer is not None and answer.status == 200
    body = await page.locator("main").inner_text()
    assert f"整改任务 #{own.id}" in body and "公司设立登记" in body
    assert f"整改任务 #{other.id}" not in body and "排污许可证核发" not in body
    assert await page.get_by_role("link", name="总览").count() == 0  # no console inside

    forged = await page.goto(
        f"{console}/u/{token[:-4]}{'AAAA' if token[-4:] != 'AAAA' else 'BBBB'}"
    )
    assert forged is not None and forged.status == 403
    assert "链接无效" in await page.locator("main").inner_text()
    clock.advance(dt.timedelta(days=91))
    expired = await page.goto(f"{console}/u/{token}")
    assert expired is not None and expired.status == 403
    assert "链接已过期" in await page.locator("main").inner_text()
    with services.sessions() as session:
        assert services.desk.get(session, other.id).state == TaskState.OPEN.value


async def test_the_screenshot_of_a_real_failing_run_shows_in_the_console(
    make_services: ServicesFactory, portal: PortalSandbox, page: Page
) -> None:
    services = make_services(portal_catalog(portal.url, threshold=1))
    add_account(services, "zhao")
    portal.faults.update({"items_missing": ["排污许可证核发"]})
    report = await run_check(services, "sf-portal/search")
    ((task_id, _),) = report.changed_tasks
    with SandboxServer(create_web_app(services), port=0) as server:
        await sign_in(page, server.url)
        await page.goto(f"{server.url}/console/tasks/{task_id}")
        assert "排污许可证核发" in await page.locator("main").inner_text()
        shot = page.locator("img.shot").first
        await shot.wait_for()
        assert await shot.evaluate("img => img.complete && img.naturalWidth > 0")


async def test_the_target_page_draws_its_charts_without_a_script(
    services: Services, clock: FakeClock, console: str, page: Page
) -> None:
    for days_ago, seconds in ((3, 2.0), (2, 4.0), (1, 3.0)):
        start = clock.now() - dt.timedelta(days=days_ago)
        with services.sessions.begin() as session:
            services.tracker.record_run(
                session,
                COUNTY_SEARCH,
                ProbeResult(Outcome.PASS),
                started_at=start,
                finished_at=start + dt.timedelta(seconds=seconds),
            )
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text))
    await sign_in(page, console)
    await page.goto(f"{console}/console/targets")
    await page.get_by_role("link", name="示范县政务服务网").first.click()  # one row per check
    await page.wait_for_url(f"{console}/console/targets/county-portal")
    chart = page.locator(f'[id="{COUNTY_SEARCH}"] svg.chart').last  # the duration chart
    box = await chart.bounding_box()
    assert box is not None and box["width"] > 300 and box["height"] > 50
    assert await chart.locator("g.p50 circle").count() == 3
    assert await chart.locator("g.p95 polyline").count() == 1
    # no script and no inline handler, so nothing for the CSP to refuse
    assert not [text for text in errors if "Content Security Policy" in text]
