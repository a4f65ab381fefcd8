"""适老化与无障碍 on the PC pages, on both sandbox styles: axe-core's serious and critical
violations, and whether the 长者模式/关怀版 switch really enlarges the main text."""

from __future__ import annotations

from typing import Any

import pytest

from bot.target_commands import measures
from config.loader import CatalogError, parse_catalog
from core.results import Finding, Outcome, ProbeResult
from probes.care_mode import ASSIST_WORDS, CARE_WORDS, whole_name
from probes.registry import params_models, probe_kinds
from sandbox.care import AccessibilityFaults
from sandbox.faults import FaultError
from sandbox.spa.server import SpaPortalSandbox
from tests.catalogs import portal_catalog
from tests.conftest import AnyPortal, ServicesFactory

CHECK = "sf-portal/accessibility"


def is_spa(portal: AnyPortal) -> bool:
    return isinstance(portal, SpaPortalSandbox)


def guide(portal: AnyPortal) -> str:
    return "/#/item/gsslj" if is_spa(portal) else "/item/gsslj"


async def _run(
    make_services: ServicesFactory,
    portal: AnyPortal,
    selectors: dict[str, str] | None = None,
    **params: Any,
) -> ProbeResult:
    """One run through the runner (not re-run to confirm a failure: axe is slow)."""
    catalog = portal_catalog(portal.url, probe="accessibility", params=params, selectors=selectors)
    services = make_services(catalog, trace="off")
    target, check = services.check(CHECK)
    return await services.runner.run(CHECK, target, check)


def finding(result: ProbeResult, code: str) -> Finding:
    found = [f for f in result.findings if f.code == code]
    assert found, f"no {code} among {[f.code for f in result.findings]}: {result}"
    return found[0]


def care_words(portal: AnyPortal) -> str:
    """How each style words its switch, as the finding quotes it."""
    return "“关怀版”模式" if is_spa(portal) else "“长者模式”"


@pytest.mark.browser
async def test_healthy_portal_passes_axe_and_its_care_mode_enlarges_text(
    make_services: ServicesFactory, any_portal: AnyPortal
) -> None:
    pages = ["/", guide(any_portal)]
    result = await _run(make_services, any_portal, pages=pages, care_mode="required")
    assert result.outcome is Outcome.PASS, result
    assert result.metrics["pages"] == 2
    care = result.metrics["care_mode"]
    # Classic: a cookie and a reload, 16px → 20px; SPA: a class in place, the view zoomed.
    assert care["entry"] == ("关怀版" if is_spa(any_portal) else "长者模式")
    assert care["after_px"] / care["before_px"] >= 1.15, care
    assert f"网站首页{care_words(any_portal)}开启后正文字号由" in result.summary
    shown = f"关怀模式“{care['entry']}”：正文字号 {care['before_px']}px → {care['after_px']}px"
    assert shown in measures(result)  # as `govpatrol calibrate` prints it


@pytest.mark.browser
async def test_axe_violations_and_an_inert_care_mode_are_found(
    make_services: ServicesFactory, any_portal: AnyPortal
) -> None:
    if isinstance(any_portal, SpaPortalSandbox):
        any_portal.spa.update({"api_delay_ms": 100})
    any_portal.accessibility.update({"pc_violations": True, "care_mode_inert": True})
    # axe on a guide (the healthy test shows the home page clean); the care mode on the home page.
    page = any_portal.url + guide(any_portal)
    result = await _run(make_services, any_portal, pages=[page])
    assert result.outcome is Outcome.FAIL, result
    a11y = finding(result, "accessibility.violations")
    assert a11y.title == "网站页面存在严重无障碍（适老化）问题"
    assert a11y.subjects == (page,)
    name = "公司设立登记 - 办事指南 - 示范省政务服务网"
    if is_spa(any_portal):
        name = "示范省一体化政务服务平台"
    assert a11y.detail == (
        f"在电脑端（1366×768）检测“{name}”页面（{page}）：图片缺少替代文字（4 处）、"
        "输入框缺少标签（1 处）、文字与背景对比度不足（1 处）"
    )
    care = finding(result, "accessibility.care_mode_ineffective")
    assert care.title == "关怀版（适老化）模式未放大正文字号"
    size = care.data["before_px"]
    assert care.detail == (
        f"网站首页{care_words(any_portal)}开启后正文字号未放大"
        f"（开启前{size:g}px，开启后{size:g}px）"
    )
    assert len(result.findings) == 2


@pytest.mark.browser
async def test_missing_care_mode_fails_only_when_the_check_requires_it(
    make_services: ServicesFactory, any_portal: AnyPortal
) -> None:
    if isinstance(any_portal, SpaPortalSandbox):
        any_portal.spa.update({"api_delay_ms": 100})
    any_portal.accessibility.update({"care_mode_missing": True})
    required = await _run(make_services, any_portal, axe=False, care_mode="required")
    assert required.outcome is Outcome.FAIL, required
    assert finding(required, "accessibility.care_mode_missing").detail == (
        "网站首页未提供“关怀版”“长者模式”等适老化模式入口，老年人无法切换到大字号、高对比度的页面"
    )
    if is_spa(any_portal):
        # Not required: a note naming the setting that would find another wording.
        optional = await _run(make_services, any_portal, axe=False)
        assert optional.outcome is Outcome.PASS, optional
        assert "未找到关怀版/长者模式入口" in optional.summary
        assert "selectors.care_mode" in optional.summary


@pytest.mark.browser
async def test_a_care_mode_opening_in_a_new_tab_is_measured_there(
    make_services: ServicesFactory, portal: AnyPortal
) -> None:
    portal.accessibility.update({"care_mode_new_tab": True})
    result = await _run(make_services, portal, axe=False, care_mode="required")
    assert result.outcome is Outcome.PASS, result
    assert result.metrics["care_mode"]["after_px"] == 20.0


@pytest.mark.browser
async def test_main_text_it_cannot_find_is_inconclusive(
    make_services: ServicesFactory, portal: AnyPortal
) -> None:
    selectors = {"main_text": "#article-body"}
    result = await _run(make_services, portal, selectors, axe=False)
    assert result.outcome is Outcome.INCONCLUSIVE, result
    assert "未读到正文文字" in result.error and "selectors.main_text" in result.error


def test_params_name_the_bad_setting() -> None:
    models = params_models(probe_kinds())
    for params, message in (
        ({"care_mode": "sometimes"}, "care_mode"),
        ({"enlarge_factor": 1.0}, "enlarge_factor"),
        ({"impacts": ["grave"]}, "impacts"),
        ({"care_words": "(关怀"}, "care_words"),
    ):
        with pytest.raises(CatalogError, match=message):
            parse_catalog(
                portal_catalog("http://127.0.0.1:1", probe="accessibility", params=params),
                "catalog.yaml",
                probe_params=models,
            )
    # YAML 1.1 reads a bare `off` as false: the care part is then switched off.
    catalog = portal_catalog("http://127.0.0.1:1", probe="accessibility", params={})
    parsed = parse_catalog(
        catalog.replace("params: {}", "params: {care_mode: off}"),
        "catalog.yaml",
        probe_params=models,
    )
    assert parsed.targets[0].checks[0].params["care_mode"] is False


def test_accessibility_fault_settings_are_checked() -> None:
    with pytest.raises(FaultError, match="care_mode_inert"):
        AccessibilityFaults().update({"care_mode_inert": "yes"})


def test_care_entry_words_must_be_the_whole_name() -> None:
    care, assist = whole_name(CARE_WORDS), whole_name(ASSIST_WORDS)
    for name in ("关怀版", "长者模式", "进入关怀版", "【适老化】", "适老化模式", "关怀版入口"):
        assert care.search(name), name
    # A notice about 适老化 is not the switch; 退出长者模式 is the way back, not in.
    for name in ("关于推进适老化改造的通知", "退出长者模式", "长者服务专区"):
        assert not care.search(name), name
    assert assist.search("无障碍浏览") and not assist.search("关于无障碍环境建设的通知")
