"""平台检查指标 with a real Chromium: the service platform with its guide defects, and the
government portal (示范省人民政府门户网站) that should lead to it, on its own address."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select

from bot.jobs import RunReport, report_fixed, run_check
from bot.receivers import WebhookCatcher
from config.loader import CatalogError, parse_catalog
from core.clock import FakeClock
from core.results import Finding, Outcome
from probes.guide_check import judge_guide
from probes.guide_page import read_guide
from probes.guide_rules import (
    VAGUE_MATERIAL_PATTERNS,
    Presence,
    element_presence,
    missing_elements,
)
from probes.pool import BrowserPool
from probes.registry import params_models, probe_kinds
from sandbox.catalog import item_by_id
from sandbox.faults import FaultError, PortalFaults
from sandbox.gov_portal import GovPortalFaults, GovPortalSandbox
from sandbox.guide_faults import GuideFaults, guide_fault_area
from sandbox.portal import create_portal_app
from sandbox.server import SandboxServer
from sandbox.spa.server import SpaPortalSandbox
from tasks.catalog_sync import sync_catalog
from tasks.lifecycle import Actor, Role
from tasks.models import Task, TaskState
from tests.catalogs import portal_catalog
from tests.conftest import ServicesFactory, at

pytestmark = pytest.mark.browser

CHECK = "sf-portal/checklist"


@dataclass
class Sites:
    platform_url: str
    guides: GuideFaults
    gov: GovPortalSandbox
    site: PortalFaults
    items: str = "/item/"  # where a guide is, before the item's id


@pytest.fixture(scope="session")
def sites_server() -> Iterator[Sites]:
    guides = GuideFaults()
    site = PortalFaults()
    app = create_portal_app(site, areas=[guide_fault_area(guides)])
    platform = SandboxServer(app, host="127.0.0.1", port=0).start()
    gov = GovPortalSandbox.start(platform.url, host="127.0.0.2")
    yield Sites(platform.url, guides, gov, site)
    gov.stop()
    platform.stop()


@pytest.fixture
def sites(sites_server: Sites) -> Iterator[Sites]:
    """Both sites, healthy at the start and the end of every test."""
    sites_server.guides.reset()
    sites_server.gov.faults.reset()
    sites_server.site.reset()
    yield sites_server
    sites_server.guides.reset()
    sites_server.gov.faults.reset()
    sites_server.site.reset()


@pytest.fixture(scope="session")
def spa_sites_server(spa_server: SpaPortalSandbox) -> Iterator[Sites]:
    """The single-page platform and its province's government portal (一网通办, #/)."""
    gov = GovPortalSandbox.start(spa_server.url, host="127.0.0.2", style="spa")
    yield Sites(spa_server.url, spa_server.guides, gov, spa_server.faults, items="/#/item/")
    gov.stop()


@pytest.fixture(params=["classic", "spa"])
def any_sites(request: pytest.FixtureRequest) -> Iterator[Sites]:
    """Both sites of either sandbox style, healthy at the start and the end of the test."""
    if request.param == "classic":
        yield request.getfixturevalue("sites")
        return
    found: Sites = request.getfixturevalue("spa_sites_server")
    spa: SpaPortalSandbox = request.getfixturevalue("spa_server")
    spa.reset()
    found.gov.faults.reset()
    yield found
    spa.reset()
    found.gov.faults.reset()


def guides_of(sites: Sites, *items: str, **more: Any) -> dict[str, Any]:
    return {"guides": {"items": [f"{sites.items}{item}" for item in items], **more}}


def entry(sites: Sites) -> dict[str, Any]:
    return {"entry": {"portal_url": f"{sites.gov.url}/", "portal_name": "示范省人民政府门户网站"}}


def guides(*items: str, **more: Any) -> dict[str, Any]:
    return {"guides": {"items": [f"/item/{item}" for item in items], **more}}


async def check(make_services: ServicesFactory, sites: Sites, params: dict[str, Any]) -> RunReport:
    services = make_services(
        portal_catalog(sites.platform_url, probe="checklist", params=params), trace="off"
    )
    return await run_check(services, CHECK, record=False)


def finding(report: RunReport, code: str) -> Finding:
    found = [f for f in report.result.findings if f.code == code]
    assert found, f"no {code} among {[f.code for f in report.result.findings]}: {report.result}"
    return found[0]


async def test_healthy_portal_passes_entry_columns_and_guides(
    make_services: ServicesFactory, sites: Sites
) -> None:
    sample = {"pages": ["/legal?theme=开办设立"], "count": 2}
    params = {
        **entry(sites),
        "columns": {"pages": ["/personal"]},
        "guides": {"items": ["/item/sfzhl", "/item/20021"], "sample": sample},
    }
    report = await check(make_services, sites, params)
    assert report.outcome is Outcome.PASS, report.result
    metrics = report.result.metrics
    assert metrics["categories_checked"] == 11
    assert metrics["guides_checked"] == 4
    assert metrics["downloads_checked"] == 8
    assert report.result.evidence.screenshots == ()


async def test_missing_elements_name_the_item_and_the_element(
    make_services: ServicesFactory, sites: Sites
) -> None:
    sites.guides.update(
        {"missing_elements": ["gsslj:设定依据", "gsslj:办理地点", "排污许可证核发:收费标准"]}
    )
    report = await check(make_services, sites, guides("gsslj", "pwxkzhf", "sfzhl"))
    assert report.outcome is Outcome.FAIL
    (missing,) = report.result.findings
    assert missing.code == "checklist.guide_elements_missing"
    assert missing.title == "办事指南要素不全面"
    assert missing.detail == "公司设立登记：缺失设定依据、办理地点；排污许可证核发：缺失收费标准"
    assert missing.subjects == ("公司设立登记", "排污许可证核发")
    assert report.result.evidence.screenshots, "the defective guides are kept as evidence"


async def test_catch_all_material_is_quoted(make_services: ServicesFactory, sites: Sites) -> None:
    sites.guides.update({"vague_materials_items": ["ypjyxk"]})
    report = await check(make_services, sites, guides("ypjyxk", "gsslj"))
    (vague,) = report.result.findings
    assert vague.code == "checklist.vague_materials"
    assert vague.detail == (
        "药品经营许可证（零售）核发：材料“根据有关法律法规规定应提交的其他材料”含糊不清"
    )


async def test_materials_without_format_requirements(
    make_services: ServicesFactory, any_sites: Sites
) -> None:
    any_sites.guides.update({"material_format_items": ["gsslj"]})
    report = await check(make_services, any_sites, guides_of(any_sites, "gsslj", "pwxkzhf"))
    (unclear,) = report.result.findings
    assert unclear.code == "checklist.material_format_unclear"
    assert unclear.title == "办理材料未明确格式要求"
    assert unclear.subjects == ("公司设立登记",)
    item = item_by_id("gsslj")
    assert item is not None
    first, second = (m.name for m in item.materials[:2])
    assert unclear.detail == (
        f"公司设立登记：材料“{first}”未明确原件/复印件、纸质/电子、份数，"
        f"材料“{second}”未明确原件/复印件"
    )


async def test_phone_without_area_code_and_contact_equal_to_supervision(
    make_services: ServicesFactory, any_sites: Sites
) -> None:
    any_sites.guides.update(
        {
            "phone_without_area_code_items": ["gsslj"],
            "contact_equals_supervision_items": ["jszgrd"],
        }
    )
    report = await check(
        make_services, any_sites, guides_of(any_sites, "gsslj", "jszgrd", "pwxkzhf")
    )
    (phones,) = report.result.findings
    assert phones.code == "checklist.phone_invalid"
    assert phones.subjects == ("公司设立登记", "教师资格认定")
    assert "公司设立登记：咨询电话“63215071”未标注区号" in phones.detail
    assert "教师资格认定：咨询电话与监督投诉电话相同（0871-65141357）" in phones.detail


async def test_time_limit_in_plain_days_is_unclear(
    make_services: ServicesFactory, sites: Sites
) -> None:
    sites.guides.update({"time_limit_unclear_items": ["pwxkzhf"]})
    report = await check(make_services, sites, guides("pwxkzhf"))
    (limits,) = report.result.findings
    assert limits.code == "checklist.time_limit_unclear"
    assert limits.detail == (
        "排污许可证核发：法定时限“20日”、承诺时限“10天”未说明是工作日还是自然日"
    )


async def test_missing_and_dead_form_downloads_are_separate_findings(
    make_services: ServicesFactory, any_sites: Sites
) -> None:
    any_sites.guides.update(
        {"no_form_items": ["gsslj"], "no_sample_items": ["pwxkzhf"], "dead_form_items": ["jszgrd"]}
    )
    report = await check(
        make_services, any_sites, guides_of(any_sites, "gsslj", "pwxkzhf", "jszgrd", "hzqf")
    )
    missing = finding(report, "checklist.form_download_missing")
    assert missing.detail == (
        "公司设立登记：未提供表格下载及填写示范获取渠道；排污许可证核发：未提供填写示范获取渠道"
    )
    dead = finding(report, "checklist.form_download_dead")
    assert dead.subjects == ("教师资格认定",)
    assert "“教师资格认定申请表.docx”下载失败（HTTP 404）" in dead.detail
    # The SPA's sample is one 查看 link per material row: one file, named by its file name.
    sample = (
        "教师资格认定申请表（示范文本）.pdf"
        if any_sites.items == "/item/"
        else "示例样表（sample.pdf）"
    )
    assert dead.detail.count("下载失败") == 2, dead.detail
    assert f"“{sample}”下载失败（HTTP 404）" in dead.detail
    assert len(report.result.findings) == 2


async def test_guides_sampled_from_a_theme_page(
    make_services: ServicesFactory, sites: Sites
) -> None:
    sites.guides.update({"missing_elements": [f"{item}:受理条件" for item in THEME_ITEMS]})
    sample = {"pages": ["/legal?theme=开办设立"], "count": 2}
    report = await check(make_services, sites, {"guides": {"sample": sample}})
    missing = finding(report, "checklist.guide_elements_missing")
    assert len(missing.subjects) == 2
    assert set(missing.subjects) <= {"公司设立登记", "分公司设立登记", "个体工商户设立登记"}
    assert report.result.metrics["guides_checked"] == 2


THEME_ITEMS = ("gsslj", "10007", "gtgshdj")


async def test_empty_themes_and_departments_are_named_by_column(
    make_services: ServicesFactory, sites: Sites
) -> None:
    sites.guides.update(
        {"empty_themes": ["生育收养", "婚姻家庭"], "empty_departments": ["省民政厅"]}
    )
    report = await check(
        make_services, sites, {"columns": {"pages": ["/personal", "/departments"]}}
    )
    (empty,) = report.result.findings
    assert empty.code == "checklist.empty_column"
    assert empty.title == "整栏目空白"
    assert empty.detail == "个人办事：婚姻家庭、生育收养；部门服务：省民政厅"
    assert report.result.metrics["categories_checked"] == 11 + 15


async def test_government_portal_without_entry_link(
    make_services: ServicesFactory, any_sites: Sites
) -> None:
    any_sites.gov.faults.update({"entry_missing": True})
    report = await check(make_services, any_sites, entry(any_sites))
    (missing,) = report.result.findings
    assert missing.code == "checklist.entry_missing"
    assert missing.title == "入口不统一"
    assert missing.detail.startswith(
        "未与本级政府门户网站前端整合，形成统一服务入口：示范省人民政府门户网站首页"
    )
    assert "通往示范省政务服务网的入口链接" in missing.detail


async def test_government_portal_entry_leading_to_a_dead_page(
    make_services: ServicesFactory, any_sites: Sites
) -> None:
    any_sites.gov.faults.update({"entry_dead": True})
    report = await check(make_services, any_sites, entry(any_sites))
    (dead,) = report.result.findings
    assert dead.code == "checklist.entry_dead"
    assert "/wsbsdt/index.html）打开返回 HTTP 404" in dead.detail


# The elements of the first checklist round, which this markup prints.
FIRST_NINE: tuple[str, ...] = ("设定依据", "受理条件", "办理流程", "办理时限", "收费标准")
FIRST_NINE += ("申请材料", "办理地点", "咨询电话", "监督投诉电话")


async def test_guide_labels_are_read_from_any_markup(browser_pool: BrowserPool) -> None:
    # Another portal's guide: definition lists, "标签：值" lines and title/content blocks;
    # the item's name and the 监督投诉电话 only in styled divs, found by configured selectors.
    html = """<html><head><title>办事指南 - 某市政务服务网</title></head><body><main>
      <div class="bt">食品经营许可</div>
      <dl><dt>办理依据</dt><dd>《中华人民共和国食品安全法》第三十五条</dd>
          <dt>申请条件：</dt><dd>具有与经营的食品品种、数量相适应的经营场所。</dd></dl>
      <p><b>法定办结时限：</b>20个工作日</p>
      <p>承诺办结时限：10个工作日</p>
      <div class="tit">办理流程</div><div class="con">申请—受理—审查—决定—送达</div>
      <div class="tit">收费标准</div><div class="con">不收费</div>
      <h3>办理材料</h3><ul><li>食品经营许可申请书（原件1份）</li><li>营业执照（复印件1份）</li></ul>
      <p>办公地点：某市民中心三楼12号窗口</p>
      <p>联系电话：0871-12345678</p>
      <div class="jd"><i class="icon-phone"></i>0871-12315</div>
      <dl><dt>表格下载</dt><dd><a href="/f/blank.doc">食品经营许可申请书.doc</a></dd>
          <dt>样表下载</dt><dd><a href="/f/sample.pdf">填写样本.pdf</a></dd></dl>
    </main></body></html>"""
    async with browser_pool.context() as context:
        page = await context.new_page()
        await page.set_content(html)
        unconfigured = await read_guide(page)
        guide = await read_guide(
            page,
            title_selector=".bt",
            element_selectors={"监督投诉电话": "div.jd", "中介服务": "div.zj"},
        )
    assert unconfigured.title == "办事指南"  # the page title's generic first part
    assert missing_elements(unconfigured.entries, FIRST_NINE) == ["监督投诉电话"]
    assert guide.title == "食品经营许可"
    assert missing_elements(guide.entries, FIRST_NINE) == []
    # A configured selector matching nothing reads as an absent element, not an empty one.
    assert element_presence(guide.entries, ["中介服务"]) == {"中介服务": Presence.ABSENT}
    verdict = judge_guide(guide, elements=FIRST_NINE, vague_patterns=VAGUE_MATERIAL_PATTERNS)
    assert verdict.forms_missing == () and verdict.time_limits == () and verdict.vague == ()
    # A process given as step names only (申请—受理—…) says nothing of each step.
    assert verdict.bare_steps == ("申请", "受理", "审查", "决定", "送达")
    assert verdict.vague_locations == () and verdict.fees_without_basis == ()
    # Materials listed without any word of where they come from.
    assert verdict.sources_unsaid == ("食品经营许可申请书（原件1份）", "营业执照（复印件1份）")
    assert [(link.text, link.context) for link in guide.downloads] == [
        ("食品经营许可申请书.doc", "表格下载"),
        ("填写样本.pdf", "样表下载"),
    ]


async def test_page_without_any_guide_label_cannot_be_judged(
    make_services: ServicesFactory, sites: Sites
) -> None:
    # A notice is not a guide: the bot cannot read it, which is not the unit's fault.
    report = await check(make_services, sites, {"guides": {"items": ["/notice/1"]}})
    assert report.outcome is Outcome.INCONCLUSIVE
    assert "element_selectors" in report.result.error


async def test_two_failing_runs_open_one_task_and_the_fix_closes_it(
    make_services: ServicesFactory, sites: Sites, webhook: WebhookCatcher
) -> None:
    clock = FakeClock(at("2026-09-28 10:00"))
    catalog = portal_catalog(
        sites.platform_url,
        probe="checklist",
        params=guides("gsslj"),
        notify=[webhook.apprise_url("wecom")],
    )
    services = make_services(catalog, clock=clock, trace="off")
    with services.sessions.begin() as session:
        sync_catalog(session, services.catalog)
    sites.guides.update({"missing_elements": ["gsslj:设定依据"], "no_sample_items": ["gsslj"]})
    for _ in range(2):
        clock.advance(dt.timedelta(minutes=30))
        report = await run_check(services, CHECK)
        assert report.outcome is Outcome.FAIL
    with services.sessions() as session:
        opened = list(session.scalars(select(Task).order_by(Task.id)))
    assert sorted(t.finding_code for t in opened) == [
        "checklist.form_download_missing",
        "checklist.guide_elements_missing",
    ]
    assert await services.sender.deliver_due() == 2
    texts = " ".join(message.message for message in webhook.messages)
    assert "公司设立登记：缺失设定依据" in texts
    assert "公司设立登记：未提供填写示范获取渠道" in texts

    sites.guides.reset()
    task = next(t for t in opened if t.finding_code == "checklist.guide_elements_missing")
    verified = await report_fixed(
        services, task.id, Actor("王晓明", Role.UNIT), "已补充设定依据和示范文本"
    )
    assert verified.outcome is Outcome.PASS
    with services.sessions() as session:
        assert session.get_one(Task, task.id).state == TaskState.CLOSED.value


async def test_guide_page_answering_404_is_named(
    make_services: ServicesFactory, sites: Sites
) -> None:
    report = await check(make_services, sites, guides("gsslj", "no-such-item"))
    (unavailable,) = report.result.findings
    assert unavailable.code == "checklist.guide_unavailable"
    assert unavailable.detail == f"打开 {sites.platform_url}/item/no-such-item 返回 HTTP 404"


def test_fault_settings_are_checked_and_the_bad_field_named() -> None:
    faults = GuideFaults()
    with pytest.raises(FaultError, match="not one of") as raised:
        faults.update({"no_form_items": ["gsslj"], "missing_elements": ["gsslj:联系方式"]})
    assert raised.value.field == "missing_elements"
    assert faults.no_form_items == []  # all or nothing
    with pytest.raises(FaultError, match="no such theme"):
        faults.update({"empty_themes": ["个人办事:港澳台侨"]})
    faults.update({"empty_themes": ["法人办事：医疗卫生"], "dead_form_items": ["公司设立登记"]})
    assert faults.to_dict()["dead_form_items"] == ["公司设立登记"]
    with pytest.raises(FaultError) as raised:
        GovPortalFaults().update({"entry_dead": "yes"})
    assert raised.value.field == "entry_dead"


# -- issue 14: variants other portals print, rules switched off, doubt and outages -------------


async def test_hotline_with_area_code_as_supervision_phone_passes(
    make_services: ServicesFactory, sites: Sites
) -> None:
    # 监督投诉电话“0871-12345” was called “未标注电话号码”.
    sites.guides.update({"hotline_supervision_items": ["gsslj"]})
    report = await check(make_services, sites, guides("gsslj"))
    assert report.outcome is Outcome.PASS, report.result


async def test_materials_stating_only_copies_state_paper(
    make_services: ServicesFactory, sites: Sites
) -> None:
    # 材料“身份证明”未明确纸质/电子 on every guide whose materials say 复印件.
    sites.guides.update({"copy_only_items": ["gsslj", "pwxkzhf"]})
    report = await check(make_services, sites, guides("gsslj", "pwxkzhf"))
    assert report.outcome is Outcome.PASS, report.result


async def test_a_switched_off_rule_never_produces_its_finding(
    make_services: ServicesFactory, sites: Sites
) -> None:
    sites.guides.update(
        {"material_format_items": ["gsslj"], "time_limit_unclear_items": ["pwxkzhf"]}
    )
    rules = {"material_format_unclear": "off", "checklist.time_limit_unclear": False}
    report = await check(make_services, sites, {**guides("gsslj", "pwxkzhf"), "rules": rules})
    assert report.outcome is Outcome.PASS, report.result
    assert report.result.metrics["rules_off"] == [
        "checklist.material_format_unclear",
        "checklist.time_limit_unclear",
    ]
    sites.guides.update({"missing_elements": ["gsslj:设定依据"]})
    report = await check(make_services, sites, {**guides("gsslj", "pwxkzhf"), "rules": rules})
    assert [f.code for f in report.result.findings] == ["checklist.guide_elements_missing"]


def test_an_unknown_rule_is_a_catalog_error_naming_its_yaml_path() -> None:
    text = portal_catalog(
        "http://127.0.0.1:9",
        probe="checklist",
        params={**guides("gsslj"), "rules": {"phone_invalid": "off", "no_such_rule": "off"}},
    )
    with pytest.raises(CatalogError) as caught:
        parse_catalog(text, "catalog.yaml", probe_params=params_models(probe_kinds()))
    message = str(caught.value)
    assert "targets[0].checks[0].params.rules" in message
    assert "no_such_rule" in message and "phone_invalid" in message  # the known ones listed


async def test_guide_links_outside_the_pattern_make_columns_inconclusive_not_empty(
    make_services: ServicesFactory, sites: Sites
) -> None:
    # Guide URLs the default pattern does not know: no page can be called empty.
    columns = {"pages": ["/personal"], "item_pattern": "/bszn-detail/", "max_categories": 2}
    report = await check(make_services, sites, {"columns": columns})
    assert report.outcome is Outcome.INCONCLUSIVE, report.result
    assert "params.columns.item_pattern" in report.result.error


async def test_an_unjudged_part_is_said_beside_the_findings_of_the_others(
    make_services: ServicesFactory, sites: Sites
) -> None:
    sites.guides.update({"missing_elements": ["gsslj:设定依据"]})
    columns = {"pages": ["/personal"], "item_pattern": "/bszn-detail/"}
    report = await check(make_services, sites, {"columns": columns, **guides("gsslj")})
    assert report.outcome is Outcome.FAIL
    assert [f.code for f in report.result.findings] == ["checklist.guide_elements_missing"]
    assert "无法判断栏目是否空白" in report.result.error
    assert "另有部分检查无法判定" in report.result.summary


async def test_site_answering_503_everywhere_is_an_outage_not_empty_columns(
    make_services: ServicesFactory, sites: Sites
) -> None:
    sites.site.update({"site_down": True})
    report = await check(
        make_services, sites, {"columns": {"pages": ["/personal"]}, **guides("gsslj")}
    )
    assert report.outcome is Outcome.FAIL
    (outage,) = report.result.findings
    assert outage.code == "site.http_error"
    assert "HTTP 503" in outage.detail


# The full element set (issue 12 item 3): absent and empty elements, bare-name steps, a
# place without a window, a charge without its basis, a material without its source.
FULL_SET_FAULTS = {
    "missing_elements": ["gsslj:中介服务", "gsslj:到现场次数"],
    "empty_elements": ["gsslj:事项编码", "gsslj:受理时间"],
    "material_source_items": ["gsslj"],
    "bare_steps_items": ["sfzhl"],
    "vague_location_items": ["sfzhl"],
    "fee_without_basis_items": ["sfzhl"],
}
FULL_SET_DETAILS = {
    "checklist.guide_elements_missing": "公司设立登记：缺失到现场次数、中介服务，"
    "事项编码、受理时间内容为空",
    "checklist.material_source_unclear": "公司设立登记：材料“公司登记（备案）申请书”未明确来源渠道",
    "checklist.process_not_detailed": "居民身份证换领：只提供了“申请”、“受理”、“审查”、"
    "“决定”、“送达”等办事环节名称，未对各环节要求进行具体清晰描述",
    "checklist.location_not_specific": "居民身份证换领：办理地点“示范市政务服务中心”"
    "未明确到街道门牌号、房间号或窗口号",
    "checklist.fee_basis_missing": "居民身份证换领：收费标准“工本费20元/证”未列明收费依据",
}


async def test_full_element_set_gaps_are_named_per_item(
    make_services: ServicesFactory, sites: Sites
) -> None:
    sites.guides.update(FULL_SET_FAULTS)
    report = await check(make_services, sites, guides("gsslj", "sfzhl", check_downloads=False))
    assert report.outcome is Outcome.FAIL
    details = {f.code: f.detail for f in report.result.findings}
    assert details == FULL_SET_DETAILS
    coverage = report.result.metrics["element_coverage"]
    assert coverage == {"公司设立登记": round(11 / 15, 4), "居民身份证换领": 1.0}
    assert report.result.metrics["element_rates"]["中介服务"] == 0.5


async def test_a_province_adds_an_element_and_drops_others(
    make_services: ServicesFactory, sites: Sites
) -> None:
    # 办理结果 is not in the default dictionary: a province adds it; dropping 中介服务 from
    # `elements` leaves its absence unjudged.
    sites.guides.update({"missing_elements": ["gsslj:中介服务"]})
    added = {"element_labels": {"审批结果": {"labels": ["办理结果", "审批结果"]}}}
    report = await check(make_services, sites, guides("gsslj", check_downloads=False, **added))
    assert [f.detail for f in report.result.findings] == ["公司设立登记：缺失中介服务"]
    assert report.result.metrics["element_rates"]["审批结果"] == 1.0
    kept = ["设定依据", "审批结果"]
    report = await check(
        make_services, sites, guides("gsslj", check_downloads=False, elements=kept, **added)
    )
    assert report.outcome is Outcome.PASS, report.result


async def test_healthy_entry_and_guide_pass_on_both_styles(
    make_services: ServicesFactory, any_sites: Sites
) -> None:
    report = await check(
        make_services, any_sites, {**entry(any_sites), **guides_of(any_sites, "gsslj")}
    )
    assert report.outcome is Outcome.PASS, report.result
    assert report.result.metrics["entry_links_found"] >= 1
