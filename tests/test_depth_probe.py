"""网上办理深度 and 易用度 on both sandbox styles: the 在线办理 button and where it leads,
the level of each item, and the fewest clicks from the home page to a guide."""

from __future__ import annotations

from typing import Any

import pytest

from bot.jobs import RunReport, run_check
from config.loader import CatalogError, parse_catalog
from core.results import Finding, Outcome
from probes.registry import params_models, probe_kinds
from sandbox.faults import FaultError
from sandbox.online import OnlineFaults
from sandbox.spa.server import SpaPortalSandbox
from tests.catalogs import portal_catalog
from tests.conftest import AnyPortal, ServicesFactory

CHECK = "sf-portal/depth"


def is_spa(portal: AnyPortal) -> bool:
    return getattr(portal, "style", "") == "spa"


def guide(portal: AnyPortal, item: str) -> str:
    return f"/#/item/{item}" if is_spa(portal) else f"/item/{item}"


async def _run(
    make_services: ServicesFactory, portal: AnyPortal, items: list[str], **params: Any
) -> RunReport:
    full = {"items": [guide(portal, i) for i in items], **params}
    services = make_services(portal_catalog(portal.url, probe="depth", params=full), trace="off")
    return await run_check(services, CHECK, record=False)


def finding(report: RunReport, code: str) -> Finding:
    found = [f for f in report.result.findings if f.code == code]
    assert found, f"no {code} among {[f.code for f in report.result.findings]}: {report.result}"
    return found[0]


@pytest.mark.browser
async def test_clean_portal_passes_with_levels_and_clicks(
    make_services: ServicesFactory, any_portal: AnyPortal
) -> None:
    # gsslj: 全程网办 and a hot item of the home page; 20013: one visit, behind a login.
    report = await _run(make_services, any_portal, ["gsslj", "20013"], online={}, clicks={})
    assert report.outcome is Outcome.PASS, report.result
    metrics = report.result.metrics
    assert metrics["levels"] == {"I": 0, "II": 0, "III": 1, "IV": 1}
    assert metrics["level_shares"] == {"I": 0.0, "II": 0.0, "III": 0.5, "IV": 0.5}
    # Classic: home → 户籍管理 → guide; SPA: home → 个人服务 → 户籍管理 → guide.
    deep = 3 if is_spa(any_portal) else 2
    page = f"{any_portal.url}/#/" if is_spa(any_portal) else f"{any_portal.url}/"
    assert metrics["clicks"] == {
        f"{page}item/gsslj": 1,
        f"{page}apply/gsslj": 2,
        f"{page}item/20013": deep,
        f"{page}apply/20013": deep + 1,
    }


@pytest.mark.browser
async def test_dead_entries_claims_and_a_buried_guide_are_found(
    make_services: ServicesFactory, any_portal: AnyPortal
) -> None:
    if isinstance(any_portal, SpaPortalSandbox):
        # The clean test runs at the default 600 ms per API answer; here the faults matter.
        any_portal.spa.update({"api_delay_ms": 100})
    any_portal.online.update(
        {
            "dead_entry_items": ["jszhz"],
            "unrelated_entry_items": ["sfzhl"],
            "offline_items": ["gsslj"],
            "visits_claim_items": ["hzqf"],
            "buried_items": ["20013"],
            "buried_depth": 1,
        }
    )
    # The walk starts at the 户籍管理 theme (a short walk): its guides are 1 click away on
    # the clean portal, the buried one a 更多事项 page more.
    start = "/#/theme/personal?name=户籍管理" if is_spa(any_portal) else "/personal?theme=户籍管理"
    deep = 1
    clicks = {"start": start, "max_clicks": deep, "max_clicks_apply": deep + 1}
    items = ["jszhz", "sfzhl", "gsslj", "hzqf", "20013"]
    report = await _run(make_services, any_portal, items, online={}, clicks=clicks)
    assert report.outcome is Outcome.FAIL, report.result
    dead = finding(report, "depth.entry_dead")
    assert dead.title == "在线办理入口无效"
    how = "点击后无任何反应" if is_spa(any_portal) else "打开返回 HTTP 404"
    assert f"“机动车驾驶证换证”办事指南的“在线办理”按钮{how}" in dead.detail
    assert "“居民身份证换领”办事指南的“网上申报”按钮跳转至网站首页" in dead.detail
    mismatch = finding(report, "depth.claim_mismatch")
    assert (
        "“公司设立登记”办事指南标注“全程网办”，但点击“在线办理”后提示"
        "“该事项暂不支持网上办理，请携带申请材料到办事窗口办理。”" in mismatch.detail
    )
    assert "“护照签发”办事指南标注“全程网办”，但到办事现场次数为“1次”" in mismatch.detail
    buried = finding(report, "usability.deep_entry")
    assert f"需点击 {deep + 1} 次才能进入“户口迁移登记”办事指南" in buried.detail
    assert "更多事项 → 户口迁移登记），超过" in buried.detail
    assert f"“户口迁移登记”网上申报页面，超过 {deep + 1} 次" in buried.detail
    assert len(report.result.findings) == 3
    levels = {i["name"]: i["level"] for i in report.result.metrics["items"]}
    assert levels == {
        "机动车驾驶证换证": "II",  # forms to download, the entry dead
        "居民身份证换领": "II",
        "公司设立登记": "II",
        "护照签发": "III",  # behind the login, one visit
        "户口迁移登记": "III",
    }


@pytest.mark.browser
async def test_walk_stopped_by_its_page_bound_is_inconclusive(
    make_services: ServicesFactory, portal: AnyPortal
) -> None:
    clicks = {"max_pages": 1}
    report = await _run(make_services, portal, ["20013"], clicks=clicks)
    assert report.outcome is Outcome.INCONCLUSIVE, report.result
    assert "未找到“" in report.result.error and "params.clicks.max_pages" in report.result.error


def test_online_fault_settings_name_the_bad_field() -> None:
    faults = OnlineFaults()
    with pytest.raises(FaultError, match=r"buried_items.*热门事项"):
        faults.update({"buried_items": ["gsslj"]})
    with pytest.raises(FaultError, match=r"dead_entry_items.*no such item"):
        faults.update({"dead_entry_items": ["不存在的事项"]})
    with pytest.raises(FaultError, match="buried_depth"):
        faults.update({"buried_depth": 0})


def test_params_need_guides_and_a_part_and_a_deep_enough_walk() -> None:
    models = params_models(probe_kinds())
    for params, message in (
        ({"online": {}}, "items"),
        ({"items": ["/item/gsslj"]}, "online"),
        ({"items": ["/item/x"], "clicks": {"max_clicks": 6}}, "max_depth"),
    ):
        with pytest.raises(CatalogError, match=message):
            parse_catalog(
                portal_catalog("http://127.0.0.1:1", probe="depth", params=params),
                "catalog.yaml",
                probe_params=models,
            )


@pytest.mark.browser
async def test_a_button_opening_the_form_in_a_new_tab_is_followed_there(
    make_services: ServicesFactory, portal: AnyPortal
) -> None:
    portal.online.update({"new_tab_items": ["gsslj"]})
    report = await _run(make_services, portal, ["gsslj"], online={})
    assert report.outcome is Outcome.PASS, report.result
    assert report.result.metrics["levels"]["IV"] == 1
