"""移动端 with a real Chromium playing three phones against the sandbox H5 site 示范办.

The healthy site passes on iPhone, Android and WeChat; with every fault on, one run
reports each kind once, naming pages and phones; two failing runs open one task whose
notice reaches the unit's chat, and the fixed site closes it on verification.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from bot.jobs import report_fixed, run_check
from bot.receivers import WebhookCatcher, free_port
from config.loader import CatalogError, parse_catalog
from core.clock import FakeClock, SystemClock
from core.results import Finding, Outcome, ProbeResult
from probes.evidence import EvidenceStore
from probes.pool import BrowserPool
from probes.registry import params_models, probe_kinds
from probes.runner import ProbeRunner
from sandbox.faults import FaultError
from sandbox.mobile import MobileFaults, MobileSandbox
from sandbox.spa.server import SpaPortalSandbox
from tasks.lifecycle import Actor, Role
from tasks.models import Task, TaskState
from tests.catalogs import portal_catalog
from tests.conftest import ServicesFactory, at

pytestmark = pytest.mark.browser

CHECK = "sf-h5/mobile"
PHONES = ("iPhone 13", "安卓 Pixel 7", "微信内置浏览器")
KEY_PAGES = ["home", "services", "guide", "progress"]


def h5_catalog(
    site_url: str, params: dict[str, object] | None = None, notify: list[str] | None = None
) -> str:
    """One unit with one contact, the H5 site as a target with one mobile check."""
    params = params if params is not None else {"pages": KEY_PAGES}
    return f"""
units:
  - code: sf-zwb
    name: 示范省政务服务管理办公室
    level: province
    contacts:
      - name: 王晓明
        role: contact
        notify: {json.dumps(notify or [])}
targets:
  - key: sf-h5
    name: 示范办（示范省政务服务网移动端）
    unit: sf-zwb
    base_url: {site_url}
    pages:
      home: /h5/
      services: /h5/services
      guide: /h5/guide/gsslj
      progress: /h5/progress
    checks:
      - probe: mobile
        schedule: 1h
        failure_threshold: 2
        params: {json.dumps(params, ensure_ascii=False)}
"""


@pytest.fixture(scope="module")
def h5_server() -> Iterator[MobileSandbox]:
    # Its own loopback address, as an m.-host beside the portal; 电脑版 leaves the origin.
    site = MobileSandbox.start("127.0.0.8", 0, desktop_url="http://127.0.0.1:9/")
    yield site
    site.stop()


@pytest.fixture
def h5(h5_server: MobileSandbox) -> Iterator[MobileSandbox]:
    """The H5 site, healthy at the start and the end of every test."""
    h5_server.faults.reset()
    yield h5_server
    h5_server.faults.reset()


@dataclass(frozen=True)
class BrokenRun:
    result: ProbeResult
    site_url: str

    def url(self, path: str) -> str:
        return self.site_url + path

    def finding(self, code: str) -> Finding:
        (found,) = [f for f in self.result.findings if f.code == code]
        return found


@pytest.fixture(scope="module")
async def broken(
    h5_server: MobileSandbox, browser_pool: BrowserPool, tmp_path_factory: pytest.TempPathFactory
) -> BrokenRun:
    """One run of the check with every fault of the H5 site switched on."""
    every_fault = {name: True for name, value in MobileFaults().to_dict().items() if value is False}
    every_fault["site_down"] = False
    h5_server.faults.update(every_fault)
    try:
        # Four links are enough to reach every broken page kind; search results add nothing.
        params = {"pages": KEY_PAGES, "max_links": 4, "exclude_links": ["/h5/search"]}
        catalog = parse_catalog(
            h5_catalog(h5_server.url, params),
            "test.yaml",
            probe_params=params_models(probe_kinds()),
        )
        target, check = catalog.check(CHECK)
        evidence = EvidenceStore(tmp_path_factory.mktemp("evidence"), 200 * 2**20)
        runner = ProbeRunner(browser_pool, evidence, probe_kinds(), SystemClock(), trace=False)
        return BrokenRun(await runner.run(CHECK, target, check), h5_server.url)
    finally:
        h5_server.faults.reset()


async def test_healthy_site_passes_on_iphone_android_and_wechat(
    make_services: ServicesFactory, h5: MobileSandbox
) -> None:
    report = await run_check(make_services(h5_catalog(h5.url)), CHECK, record=False)
    assert report.outcome is Outcome.PASS, report.result.findings
    metrics = report.result.metrics
    assert metrics["devices"] == list(PHONES)
    assert metrics["followed_links"] == 8  # the default bound on links one level deep
    assert metrics["pages"] == len(KEY_PAGES) + 8
    assert metrics["visits"] == 3 * metrics["pages"]
    assert "均正常" in report.result.summary
    assert report.result.evidence.screenshots == ()


async def test_every_fault_is_one_finding_of_its_kind(broken: BrokenRun) -> None:
    assert broken.result.outcome is Outcome.FAIL
    assert broken.result.metrics["followed_links"] == 4  # max_links, not the default 8
    assert [f.code for f in broken.result.findings] == [
        "mobile.page_error",
        "mobile.broken_link",
        "mobile.broken_resource",
        "mobile.script_error",
        "mobile.horizontal_overflow",
        "mobile.no_viewport",
        "mobile.small_text",
        "mobile.accessibility",
    ]


async def test_page_answering_500_is_a_page_error_on_every_phone(broken: BrokenRun) -> None:
    error = broken.finding("mobile.page_error")
    assert error.subjects == (broken.url("/h5/query/social-security"),)
    assert "“社保查询”页面" in error.detail and "返回 HTTP 500" in error.detail
    assert all(phone in error.detail for phone in PHONES)


async def test_dead_link_names_the_page_it_is_on_and_its_text(broken: BrokenRun) -> None:
    dead = broken.finding("mobile.broken_link")
    assert dead.subjects == (broken.url("/h5/dzzz/index.html"),)
    assert f"“示范办”页面（{broken.url('/h5/')}）上的“电子证照”链接" in dead.detail
    assert "返回 HTTP 404" in dead.detail


async def test_missing_image_and_script_are_broken_resources(broken: BrokenRun) -> None:
    resources = broken.finding("mobile.broken_resource")
    assert f"图片 {broken.url('/h5/assets/banner-2024.png')} 加载失败（HTTP 404）" in (
        resources.detail
    )
    assert f"脚本 {broken.url('/h5/assets/progress-query.min.js')} 加载失败" in resources.detail
    # Chromium's "Failed to load resource" console lines are not script errors as well.
    assert "Failed to load resource" not in broken.finding("mobile.script_error").detail


async def test_script_error_inside_wechat_only_names_wechat(broken: BrokenRun) -> None:
    errors = broken.finding("mobile.script_error")
    assert "在微信内置浏览器中打开" in errors.detail
    assert "ReferenceError: wx is not defined" in errors.detail
    assert "iPhone 13" not in errors.detail and "Pixel 7" not in errors.detail
    assert broken.url("/h5/guide/gsslj") in errors.subjects


async def test_overflow_gives_screen_and_page_widths_and_the_wide_element(
    broken: BrokenRun,
) -> None:
    overflow = broken.finding("mobile.horizontal_overflow")
    assert broken.url("/h5/guide/gsslj") in overflow.subjects
    assert "iPhone 13 屏宽 390px、页面宽 746px" in overflow.detail
    assert "安卓 Pixel 7 屏宽 412px、页面宽 746px" in overflow.detail
    assert "超出屏幕的元素为 table.fee-table（宽 720px）" in overflow.detail


async def test_pages_without_viewport_meta_are_named(broken: BrokenRun) -> None:
    viewport = broken.finding("mobile.no_viewport")
    assert viewport.subjects and all("/h5/notice/" in url for url in viewport.subjects)
    assert "未设置 viewport" in viewport.detail


async def test_share_of_tiny_text_is_reported_with_the_smallest_size(broken: BrokenRun) -> None:
    tiny = broken.finding("mobile.small_text")
    assert tiny.subjects == (broken.url("/h5/services"),)
    assert "的文字小于 12px（最小 10px" in tiny.detail


async def test_severe_accessibility_violations_are_named_in_chinese(broken: BrokenRun) -> None:
    a11y = broken.finding("mobile.accessibility")
    assert a11y.subjects == (broken.url("/h5/"),)
    problems = (
        "图片缺少替代文字（8 处）",
        "按钮缺少可读名称（1 处）",
        "文字与背景对比度不足（1 处）",
    )
    assert all(problem in a11y.detail for problem in problems), a11y.detail


async def test_each_phone_keeps_a_screenshot_of_a_failing_page(broken: BrokenRun) -> None:
    shots = broken.result.evidence.screenshots
    for phone in ("iphone", "android", "wechat"):
        assert any(f"-{phone}-h5-guide-gsslj" in Path(shot).name for shot in shots), shots
    (overflow_on_guide, *_) = broken.finding("mobile.horizontal_overflow").data["occurrences"]
    assert len(overflow_on_guide["screenshots"]) == 3


def test_fault_settings_are_checked_naming_the_field() -> None:
    faults = MobileFaults()
    for bad in ({"overflow": "yes"}, {"tiny_txt": True}, {"slow_ms": -1}):
        with pytest.raises(FaultError) as raised:
            faults.update(bad)
        assert raised.value.field == next(iter(bad))
    faults.update({"overflow": True, "slow_ms": 200})
    faults.reset()
    assert not any(faults.to_dict().values())


def test_faults_are_switched_through_the_admin_endpoint(h5: MobileSandbox) -> None:
    with httpx.Client(base_url=h5.url, timeout=10) as http:
        assert 'name="viewport"' in http.get("/h5/notice/1").text
        http.put("/__sandbox/faults", json={"no_viewport": True}).raise_for_status()
        assert 'name="viewport"' not in http.get("/h5/notice/1").text
        assert http.put("/__sandbox/faults", json={"overflow": 1}).json()["field"] == "overflow"
        assert http.get("/").headers["location"] == "/h5/"  # the own site opens on the entry


def test_unknown_phone_is_a_catalog_error() -> None:
    text = h5_catalog("http://127.0.0.1:9", params={"devices": ["iphone", "nokia"]})
    with pytest.raises(CatalogError, match="nokia"):
        parse_catalog(text, "test.yaml", probe_params=params_models(probe_kinds()))


async def test_site_refusing_connections_is_unreachable(make_services: ServicesFactory) -> None:
    services = make_services(h5_catalog(f"http://127.0.0.8:{free_port()}"))
    report = await run_check(services, CHECK, record=False)
    (unreachable,) = report.result.findings
    assert unreachable.code == "site.unreachable"


async def test_two_failing_runs_open_one_task_closed_after_the_fix(
    make_services: ServicesFactory, h5: MobileSandbox, webhook: WebhookCatcher
) -> None:
    clock = FakeClock(at("2026-09-28 10:00"))
    params = {"pages": ["guide"], "max_links": 0}
    services = make_services(
        h5_catalog(h5.url, params, notify=[webhook.apprise_url("wecom")]), clock=clock
    )
    h5.faults.update({"overflow": True})
    for _ in range(2):
        clock.advance(dt.timedelta(hours=1))
        report = await run_check(services, CHECK)
        assert report.outcome is Outcome.FAIL
    with services.sessions() as session:
        (task,) = session.scalars(select(Task)).all()
    assert task.finding_code == "mobile.horizontal_overflow"
    assert task.state == TaskState.OPEN.value
    assert await services.sender.deliver_due() == 1
    (notice,) = webhook.messages
    assert "移动端页面超出屏幕宽度" in notice.title
    assert "table.fee-table" in notice.message and "iPhone 13" in notice.message

    h5.faults.reset()
    clock.advance(dt.timedelta(hours=1))
    verified = await report_fixed(
        services, task.id, Actor("王晓明", Role.UNIT), "收费标准表格已改为自适应宽度"
    )
    assert verified.outcome is Outcome.PASS
    with services.sessions() as session:
        assert session.get_one(Task, task.id).state == TaskState.CLOSED.value


async def test_site_answering_503_everywhere_is_an_outage_not_page_errors(
    make_services: ServicesFactory, h5: MobileSandbox
) -> None:
    h5.faults.update({"site_down": True})
    report = await run_check(make_services(h5_catalog(h5.url)), CHECK, record=False)
    assert report.outcome is Outcome.FAIL
    assert [f.code for f in report.result.findings] == ["site.http_error"]


# The SPA province's guide route under its own faults: the same families, one run.
SPA_MOBILE_FAULTS = {
    "mobile_overflow": "mobile.horizontal_overflow",
    "mobile_no_viewport": "mobile.no_viewport",
    "mobile_broken_image": "mobile.broken_resource",
    "mobile_script_error": "mobile.script_error",
    "mobile_tiny_text": "mobile.small_text",
}


async def test_the_spa_style_shows_the_mobile_families_of_the_first(
    make_services: ServicesFactory, spa_portal: SpaPortalSandbox, broken: BrokenRun
) -> None:
    # The first style's faults are all in `broken` (one run); the SPA's guide route here.
    expected = set(SPA_MOBILE_FAULTS.values())
    assert expected <= {f.code for f in broken.result.findings}
    spa = spa_portal
    spa.spa.update({name: True for name in SPA_MOBILE_FAULTS})
    params = {"pages": ["/#/item/gsslj"], "max_links": 0}
    services = make_services(portal_catalog(spa.url, probe="mobile", params=params))
    report = await run_check(services, "sf-portal/mobile", record=False)
    found = {f.code: f for f in report.result.findings}
    assert set(found) == expected, report.result
    assert "guide-banner.png" in found["mobile.broken_resource"].detail
    assert "guideTracker" in found["mobile.script_error"].detail
