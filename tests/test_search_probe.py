"""站内搜索 with a real Chromium against the sandbox portal: healthy, and each fault."""

from __future__ import annotations

import pytest

from bot.jobs import RunReport, run_check
from core.results import Outcome
from sandbox.server import PortalSandbox
from sandbox.spa.server import SpaPortalSandbox
from tests.catalogs import portal_catalog
from tests.conftest import AnyPortal, ServicesFactory

pytestmark = pytest.mark.browser

CHECK = "sf-portal/search"


async def _run(make_services: ServicesFactory, portal: AnyPortal, **catalog: object) -> RunReport:
    services = make_services(portal_catalog(portal.url, **catalog))  # type: ignore[arg-type]
    return await run_check(services, CHECK, record=False)


async def test_healthy_portal_passes(make_services: ServicesFactory, any_portal: AnyPortal) -> None:
    report = await _run(
        make_services,
        any_portal,
        params={"items": ["排污许可证核发", "特种设备作业人员资格认定", "教师资格认定"]},
    )
    assert report.outcome is Outcome.PASS, report.result
    assert report.result.metrics["found"] == 3
    assert report.result.evidence.screenshots == ()  # nothing kept for a passing run


async def test_item_missing_from_index_is_named(
    make_services: ServicesFactory, any_portal: AnyPortal
) -> None:
    any_portal.faults.update({"items_missing": ["排污许可证核发"]})
    report = await _run(make_services, any_portal)
    assert report.outcome is Outcome.FAIL
    (finding,) = report.result.findings
    assert finding.code == "search.item_not_found"
    assert "搜索网站上已有的“排污许可证核发”服务事项" in finding.detail
    assert finding.subjects == ("排污许可证核发",)
    assert report.result.evidence.screenshots, "the results page is kept as evidence"
    assert report.result.evidence.traces, "a failing run keeps its trace"


async def test_search_returning_nothing_fails_every_item(
    make_services: ServicesFactory, any_portal: AnyPortal
) -> None:
    any_portal.faults.update({"search_empty": True})
    report = await _run(make_services, any_portal)
    (finding,) = report.result.findings
    assert finding.code == "search.item_not_found"
    assert set(finding.subjects) == {"排污许可证核发", "公司设立登记"}


async def test_keyword_leading_to_error_page(
    make_services: ServicesFactory, any_portal: AnyPortal
) -> None:
    any_portal.faults.update({"error_keywords": ["排污"]})
    report = await _run(make_services, any_portal)
    assert report.outcome is Outcome.FAIL
    (finding,) = report.result.findings
    assert finding.code == "search.error_page"
    assert "“排污许可证核发”" in finding.detail and "错误页面" in finding.detail


async def test_search_500_makes_search_unavailable(
    make_services: ServicesFactory, any_portal: AnyPortal
) -> None:
    any_portal.faults.update({"search_500": True})
    report = await _run(make_services, any_portal)
    (finding,) = report.result.findings
    assert finding.code == "search.unavailable"
    assert "HTTP 500" in finding.detail


async def test_slow_search_is_reported_with_its_time(
    make_services: ServicesFactory, portal: PortalSandbox
) -> None:
    portal.faults.update({"slow_ms": 700})
    report = await _run(
        make_services, portal, params={"items": ["公司设立登记"], "slow_after_s": 0.5}
    )
    (finding,) = report.result.findings
    assert finding.code == "search.slow"
    assert "公司设立登记" in finding.detail and "超过 0.5 秒" in finding.detail


async def test_site_down_is_an_http_error_finding(
    make_services: ServicesFactory, any_portal: AnyPortal
) -> None:
    any_portal.faults.update({"site_down": True})
    report = await _run(make_services, any_portal)
    (finding,) = report.result.findings
    assert finding.code == "site.http_error"
    assert "HTTP 503" in finding.detail


async def test_page_without_search_box(
    make_services: ServicesFactory, any_portal: AnyPortal
) -> None:
    # The configured selector finds nothing: as on a portal that removed its search box.
    report = await _run(make_services, any_portal, selectors={"search_input": "#no-such-box"})
    (finding,) = report.result.findings
    assert finding.code == "search.unavailable"
    assert "未找到站内搜索框" in finding.detail


async def test_items_sampled_from_catalog_pages(
    make_services: ServicesFactory, portal: PortalSandbox
) -> None:
    sample = {"pages": ["/personal?theme=社保救助"], "count": 2, "link_pattern": "/item/"}
    report = await _run(make_services, portal, params={"sample": sample})
    assert report.outcome is Outcome.PASS, report.result
    assert report.result.metrics["searched"] == 2


async def test_configured_selectors_work_on_other_markup(
    make_services: ServicesFactory, portal: PortalSandbox
) -> None:
    # A search box without role, label, placeholder or telltale name, and ten 热门服务 links
    # above the results: the defaults miss the box and would read those links as results.
    portal.faults.update({"search_box_unlabelled": True, "hot_services_above_results": True})
    unconfigured = await _run(make_services, portal)
    # The rule of doubt: a box the defaults cannot recognise is not the portal's defect.
    assert unconfigured.outcome is Outcome.INCONCLUSIVE, unconfigured.result
    assert "selectors." in unconfigured.result.error
    selectors = {"search_input": "input.hd-ipt", "result_item": ".result-list a.item-name"}
    report = await _run(make_services, portal, selectors=selectors)
    assert report.outcome is Outcome.PASS, report.result


async def test_sample_pages_without_items_cannot_be_judged(
    make_services: ServicesFactory, portal: PortalSandbox
) -> None:
    sample = {"pages": ["/personal?theme=社保救助"], "count": 2, "link_pattern": "/no-such-path/"}
    report = await _run(make_services, portal, params={"sample": sample})
    assert report.outcome is Outcome.INCONCLUSIVE
    assert "未找到可搜索的事项" in report.result.error


async def test_results_that_cannot_be_read_are_inconclusive_not_item_not_found(
    make_services: ServicesFactory, portal: PortalSandbox
) -> None:
    # A result selector that matches nothing on a page saying “共找到 N 条结果”: the bot
    # cannot read the results, which says nothing about the portal's index.
    report = await _run(make_services, portal, selectors={"result_item": ".no-such-result"})
    assert report.outcome is Outcome.INCONCLUSIVE, report.result
    assert "selectors.result_item" in report.result.error


async def test_an_empty_result_list_the_page_announces_is_still_a_missing_item(
    make_services: ServicesFactory, portal: PortalSandbox
) -> None:
    portal.faults.update({"search_empty": True})
    report = await _run(
        make_services,
        portal,
        params={"items": ["排污许可证核发"]},
        selectors={"result_item": ".result-list li"},
    )
    assert [f.code for f in report.result.findings] == ["search.item_not_found"]


async def test_spa_search_api_answering_slowly_is_slow_not_missing(
    make_services: ServicesFactory, spa_portal: SpaPortalSandbox
) -> None:
    # The same as a 9 s answer against the default 8 s, at a quarter of the wait.
    spa_portal.spa.update({"search_delay_ms": 3000})
    params = {"items": ["公司设立登记"], "slow_after_s": 2}
    report = await _run(make_services, spa_portal, params=params)
    (finding,) = report.result.findings
    assert finding.code == "search.slow"
    assert "公司设立登记" in finding.detail and "超过 2 秒" in finding.detail


async def test_spa_configured_selectors_and_sampled_hash_routes(
    make_services: ServicesFactory, spa_portal: SpaPortalSandbox
) -> None:
    sample = {"pages": ["/#/theme/personal?name=社保救助"], "count": 2, "link_pattern": "#/item/"}
    selectors = {"search_input": "#kw", "result_item": ".card a"}
    report = await _run(make_services, spa_portal, params={"sample": sample}, selectors=selectors)
    assert report.outcome is Outcome.PASS, report.result
    assert report.result.metrics["searched"] == 2


async def test_item_beyond_the_first_page_is_found_through_next_page(
    make_services: ServicesFactory, any_portal: AnyPortal
) -> None:
    # The SPA lists 5 a page in 事项编码 order: 公司设立登记 is 6th, behind 下一页.
    report = await _run(make_services, any_portal, params={"items": ["公司设立登记"]})
    assert report.outcome is Outcome.PASS, report.result
    assert report.result.metrics["found"] == 1


async def test_spa_pager_stuck_on_page_one_is_pagination_broken(
    make_services: ServicesFactory, spa_portal: SpaPortalSandbox
) -> None:
    spa_portal.spa.update({"pager_stuck": True})
    report = await _run(
        make_services, spa_portal, params={"items": ["公司设立登记", "排污许可证核发"]}
    )
    (finding,) = report.result.findings
    assert finding.code == "search.pagination_broken"
    assert finding.subjects == ("公司设立登记",)  # 排污许可证核发 is on page 1
    assert "下一页" in finding.detail


async def test_spa_next_page_it_cannot_read_is_inconclusive(
    make_services: ServicesFactory, spa_portal: SpaPortalSandbox
) -> None:
    # Cards of page 2 without links: a layout unknown to the defaults, not a missing item.
    spa_portal.spa.update({"next_page_unlinked": True})
    report = await _run(make_services, spa_portal, params={"items": ["公司设立登记"]})
    assert report.outcome is Outcome.INCONCLUSIVE, report.result
    assert "翻到第 2 页" in report.result.error and "selectors.result_item" in report.result.error
