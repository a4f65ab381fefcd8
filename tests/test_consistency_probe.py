"""同源一致性 on both sandbox styles: the classic portal and the SPA portal print their guides
from one catalog, so each stands for one site (国家政务服务平台, 省政务服务网) of the same items."""

from __future__ import annotations

from typing import Any

import pytest

from bot.jobs import RunReport, run_check
from bot.target_commands import measures
from config.loader import CatalogError, parse_catalog
from core.results import Finding, Outcome
from probes.registry import params_models, probe_kinds
from sandbox.consistency import ConsistencyFaults
from sandbox.faults import FaultError
from sandbox.server import PortalSandbox
from sandbox.spa.server import SpaPortalSandbox
from tests.catalogs import portal_catalog
from tests.conftest import AnyPortal, ServicesFactory

CHECK = "sf-portal/consistency"
NATIONAL, PROVINCE = "国家政务服务平台", "省政务服务网"


def source(portal: AnyPortal, name: str) -> dict[str, Any]:
    route = "/#/item/{code}" if isinstance(portal, SpaPortalSandbox) else "/item/{code}"
    return {"name": name, "base_url": portal.url, "item_url": route}


async def _run(
    make_services: ServicesFactory,
    first: AnyPortal,
    second: AnyPortal,
    items: list[dict[str, Any]],
    **params: Any,
) -> RunReport:
    full = {
        "sources": [source(first, NATIONAL), source(second, PROVINCE)],
        "items": items,
        **params,
    }
    catalog = portal_catalog(first.url, probe="consistency", params=full)
    services = make_services(catalog, trace="off")
    # One run through the runner, not confirmed by a second (that doubles a failing run).
    result = await services.runner.run(CHECK, *services.check(CHECK), full_trace=False)
    return RunReport(0, CHECK, result.outcome, result)


def finding(report: RunReport, code: str) -> Finding:
    found = [f for f in report.result.findings if f.code == code]
    assert found, f"no {code} among {[f.code for f in report.result.findings]}: {report.result}"
    return found[0]


@pytest.fixture(params=["classic", "spa"])
def pair(
    request: pytest.FixtureRequest, portal: PortalSandbox, spa_portal: SpaPortalSandbox
) -> tuple[AnyPortal, AnyPortal]:
    """(the reference site, the site under test): the second one carries the faults."""
    spa_portal.spa.update({"api_delay_ms": 100})
    if request.param == "classic":
        return spa_portal, portal
    return portal, spa_portal


@pytest.mark.browser
async def test_healthy_sites_agree_in_both_directions(
    make_services: ServicesFactory, pair: tuple[AnyPortal, AnyPortal]
) -> None:
    first, second = pair
    first_page = "/#/item/sfzhl" if isinstance(first, SpaPortalSandbox) else "/item/sfzhl"
    items: list[dict[str, Any]] = [
        {"code": "gsslj"},
        {"code": "hzqf", "name": "护照签发"},
        # By name only: its page on the first site is given, its code read there leads to
        # its page on the second.
        {"name": "居民身份证换领", "urls": {NATIONAL: first_page}},
    ]
    # And one drawn from the second site's listing, its code read on its guide.
    spa = isinstance(second, SpaPortalSandbox)
    listing = "/#/theme/legal?name=准营准办" if spa else "/legal?theme=准营准办"
    sample = {"source": PROVINCE, "pages": [listing], "count": 1}
    report = await _run(make_services, first, second, items, sample=sample)
    assert report.outcome is Outcome.PASS, report.result
    metrics = report.result.metrics
    assert metrics["items_compared"] == 4
    assert metrics["fields_compared"] == 20  # five fields of four items, none left unread
    assert "unjudged" not in metrics
    assert report.result.summary == "4 个事项在各站点的办事指南一致"
    assert "同源比对：比对事项 4 个，要素比对 20 次" in measures(report.result)  # as calibrate says


@pytest.mark.browser
async def test_each_field_differing_is_found_and_other_wordings_are_not(
    make_services: ServicesFactory, pair: tuple[AnyPortal, AnyPortal]
) -> None:
    first, second = pair
    second.consistency.update(
        {
            "legal_limits": ["gsslj:20个工作日", "hzqf:十五个自然日"],
            "promised_limits": ["gsslj:3个工作日", "hzqf:7工作日"],
            "visits": ["gsslj:1"],
            "fees": ["gsslj:工本费10元", "20013:免费"],
            "materials_dropped": ["gsslj:公司章程"],
            "materials_added": ["gsslj:股东会决议"],
            "materials_renamed": ["hzqf:出入境证件申请表=《出入境证件申请表》（原件1份）"],
        }
    )
    items = [{"code": code} for code in ("gsslj", "hzqf", "20013")]
    report = await _run(make_services, first, second, items)
    assert report.outcome is Outcome.FAIL, report.result
    lead = f"“公司设立登记”在{NATIONAL}与{PROVINCE}的办事指南不一致："
    time_limits = finding(report, "consistency.time_limit_mismatch")
    assert time_limits.title == "办理时限不一致"
    assert time_limits.detail == (
        f"{lead}法定时限分别为“15个工作日”和“20个工作日”，承诺时限分别为“1个工作日”和“3个工作日”"
    )
    visits = finding(report, "consistency.visits_mismatch")
    assert visits.detail == f"{lead}到现场次数分别为“0次（全程网办）”和“1次”"
    fees = finding(report, "consistency.fee_mismatch")
    assert fees.detail == f"{lead}收费标准分别为“不收费”和“工本费10元”"
    materials = finding(report, "consistency.materials_mismatch")
    assert materials.detail == (
        f"{lead}申请材料不同，{NATIONAL}列有“公司章程”而{PROVINCE}未列，"
        f"{PROVINCE}列有“股东会决议”而{NATIONAL}未列"
    )
    assert len(report.result.findings) == 4
    # 十五个自然日 = 15个自然日, 7工作日 = 7个工作日, 免费 = 不收费, and a
    # material in quotes and brackets is the same material: only 公司设立登记 differs.
    assert {s for f in report.result.findings for s in f.subjects} == {"公司设立登记"}
    assert report.result.metrics["fields_compared"] == 15
    row = time_limits.data["rows"][0]
    assert row["values"] == {NATIONAL: "15个工作日", PROVINCE: "20个工作日"}
    assert row["urls"][PROVINCE].endswith("item/gsslj")
    tables = [path for path in report.result.evidence.html if "consistency-table" in path]
    assert tables and report.result.evidence.screenshots


@pytest.mark.browser
async def test_an_item_or_a_field_one_site_lacks_is_unjudged_not_different(
    make_services: ServicesFactory, pair: tuple[AnyPortal, AnyPortal]
) -> None:
    first, second = pair
    second.consistency.update({"withdrawn_items": ["gsslj"]})
    second.guides.update({"missing_elements": ["hzqf:收费标准"]})
    report = await _run(make_services, first, second, [{"code": "gsslj"}, {"code": "hzqf"}])
    assert report.outcome is Outcome.PASS, report.result
    unjudged = "；".join(report.result.metrics["unjudged"])
    assert f"“公司设立登记”在{PROVINCE}的办事指南" in unjudged
    assert "params.sources[1].item_url" in unjudged
    assert "收费标准未比对" in unjudged and "params.sources[1].selectors.收费标准" in unjudged
    assert report.result.metrics["fields_compared"] == 4
    assert "另有 2 处无法比对" in report.result.summary

    alone = await _run(make_services, first, second, [{"code": "gsslj"}])
    assert alone.outcome is Outcome.INCONCLUSIVE, alone.result
    assert "没有可比对的要素" in alone.result.error
    assert "params.sources[1].item_url 或 items[0].urls" in alone.result.error


@pytest.mark.browser
async def test_a_configured_selector_reads_what_the_labels_do_not(
    make_services: ServicesFactory, portal: PortalSandbox, spa_portal: SpaPortalSandbox
) -> None:
    # The classic guide without its 到现场次数 row: its 全程网办 badge still says no visit,
    # and only a selector pointing at it reads it.
    spa_portal.spa.update({"api_delay_ms": 100})
    portal.guides.update({"missing_elements": ["gsslj:到现场次数"]})
    badge = {"到现场次数": ".online-entry .badge"}
    province = {**source(portal, PROVINCE), "selectors": badge}
    params = {
        "sources": [source(spa_portal, NATIONAL), province],
        "items": [{"code": "gsslj"}],
        "fields": ["到现场次数"],
    }
    services = make_services(portal_catalog(portal.url, probe="consistency", params=params))
    report = await run_check(services, CHECK, record=False)
    assert report.outcome is Outcome.PASS, report.result.error
    assert report.result.metrics["fields_compared"] == 1


@pytest.mark.browser
async def test_a_source_that_does_not_answer_is_not_waited_for_twice(
    make_services: ServicesFactory, portal: PortalSandbox, free_tcp_port: int
) -> None:
    closed = f"http://127.0.0.1:{free_tcp_port}"  # nothing listens there
    gone = {"name": PROVINCE, "base_url": closed, "item_url": "/item/{code}"}
    params = {
        "sources": [source(portal, NATIONAL), gone],
        "items": [{"code": "gsslj"}, {"code": "hzqf"}],
    }
    services = make_services(portal_catalog(portal.url, probe="consistency", params=params))
    report = await run_check(services, CHECK, record=False)
    assert report.outcome is Outcome.INCONCLUSIVE, report.result
    error = report.result.error
    assert f"“公司设立登记”在{PROVINCE}的办事指南（{closed}/item/gsslj）无法打开" in error
    assert f"“护照签发”在{PROVINCE}的办事指南（{closed}/item/hzqf）未打开" in error


def test_params_name_what_is_wrong() -> None:
    models = params_models(probe_kinds())
    one = {"name": "甲", "item_url": "/item/{code}"}
    for params, message in (
        ({"sources": [one], "items": [{"code": "x"}]}, "sources"),
        ({"sources": [one, {**one, "name": "乙"}]}, "items"),
        ({"sources": [one, one], "items": [{"code": "x"}]}, "same name"),
        (
            {"sources": [one, {"name": "乙", "item_url": "/item/{id}"}], "items": [{"code": "x"}]},
            r"\{code\}",
        ),
        ({"sources": [one, {**one, "name": "乙"}], "items": [{}]}, "code"),
        (
            {
                "sources": [one, {**one, "name": "乙"}],
                "items": [{"code": "x", "urls": {"丙": "/"}}],
            },
            r"items\[0\]\.urls",
        ),
        (
            {
                "sources": [one, {**one, "name": "乙", "selectors": {"电话": "td"}}],
                "items": [{"code": "x"}],
            },
            "法定时限",
        ),
    ):
        with pytest.raises(CatalogError, match=message):
            parse_catalog(
                portal_catalog("http://127.0.0.1:1", probe="consistency", params=params),
                "catalog.yaml",
                probe_params=models,
            )


def test_consistency_fault_settings_name_the_bad_field() -> None:
    faults = ConsistencyFaults()
    with pytest.raises(FaultError, match=r"legal_limits.*item:value"):
        faults.update({"legal_limits": ["gsslj"]})
    with pytest.raises(FaultError, match=r"visits.*number"):
        faults.update({"visits": ["gsslj:一次"]})
    with pytest.raises(FaultError, match=r"materials_dropped.*lists no material"):
        faults.update({"materials_dropped": ["gsslj:营业执照"]})
    with pytest.raises(FaultError, match=r"withdrawn_items.*no such item"):
        faults.update({"withdrawn_items": ["不存在的事项"]})
