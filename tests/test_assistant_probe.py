"""智能客服 on both sandbox styles: the widget answers each asked item in time and about
that item; a slow, canned, unrelated or failing answer is found; a widget not found is
inconclusive (or `assistant.missing` when the catalog says the portal has one)."""

from __future__ import annotations

from typing import Any

import pytest

from bot.target_commands import measures
from config.loader import CatalogError, parse_catalog
from core.results import Finding, Outcome, ProbeResult
from probes.assistant import first_sentence, is_relevant, naming_words
from probes.assistant_params import Question
from probes.chat_widget import Answer
from probes.registry import params_models, probe_kinds
from sandbox.assistant import AssistantFaults
from sandbox.faults import FaultError
from sandbox.spa.server import SpaPortalSandbox
from tests.catalogs import portal_catalog
from tests.conftest import AnyPortal, ServicesFactory

CHECK = "sf-portal/assistant"


def is_spa(portal: AnyPortal) -> bool:
    return getattr(portal, "style", "") == "spa"


async def _run(make_services: ServicesFactory, portal: AnyPortal, **params: Any) -> ProbeResult:
    # One run through the runner (its outage check included), not confirmed by a second.
    services = make_services(portal_catalog(portal.url, probe="assistant", params=params))
    return await services.runner.run(CHECK, *services.check(CHECK), full_trace=False)


def finding(result: ProbeResult, code: str) -> Finding:
    found = [f for f in result.findings if f.code == code]
    assert found, f"no {code} among {[f.code for f in result.findings]}: {result}"
    return found[0]


@pytest.mark.browser
async def test_clean_assistant_answers_every_item_in_time(
    make_services: ServicesFactory, any_portal: AnyPortal
) -> None:
    # The SPA's greeting comes from its API once the widget opens: not an answer.
    report = await _run(
        make_services,
        any_portal,
        questions=["公司设立登记", {"item": "护照签发", "ask": "护照怎么办"}],
    )
    assert report.outcome is Outcome.PASS, report
    answers = report.metrics["answers"]
    assert [(a["item"], a["question"], a["relevant"]) for a in answers] == [
        ("公司设立登记", "如何办理公司设立登记", True),
        ("护照签发", "护照怎么办", True),
    ]
    assert all(0 < a["seconds"] < 10 for a in answers)
    shown = measures(report)  # as `govpatrol calibrate` prints it
    assert shown[0].startswith("智能客服：“如何办理公司设立登记”") and shown[0].endswith(
        "涉及该事项"
    )


@pytest.mark.browser
async def test_slow_canned_unrelated_and_failing_answers_are_found(
    make_services: ServicesFactory, any_portal: AnyPortal
) -> None:
    if isinstance(any_portal, SpaPortalSandbox):
        any_portal.spa.update({"api_delay_ms": 100})
    any_portal.assistant.update(
        {
            "canned_items": ["护照签发"],
            "unrelated_items": ["公司设立登记"],
            "slow_items": ["住房公积金提取"],
            "slow_ms": 4_000,
            "error_items": ["排污许可证核发"],
            # Healthy: the answer only links the guide, which the check names.
            "link_only_items": ["教师资格认定"],
        }
    )
    guide = "#/item/jszgrd" if is_spa(any_portal) else "/item/jszgrd"
    questions = [
        "护照签发",
        "公司设立登记",
        "住房公积金提取",  # slow: the widget is opened afresh for the next question
        "排污许可证核发",
        {"item": "教师资格认定", "links": [guide]},
    ]
    report = await _run(make_services, any_portal, questions=questions, answer_within_s=3)
    assert report.outcome is Outcome.FAIL, report
    slow = finding(report, "assistant.slow")
    assert slow.title == "智能客服未及时作答"
    assert slow.detail == "智能客服对“如何办理住房公积金提取”的提问3秒内未作答"
    irrelevant = finding(report, "assistant.irrelevant")
    assert irrelevant.title == "智能客服回答与所问事项无关"
    assert irrelevant.detail == (
        "智能客服对“护照签发”的回答未涉及该事项（回答：“您好，请问有什么可以帮您？”）；"
        "智能客服对“公司设立登记”的回答未涉及该事项"
        "（回答：“居民身份证换领由省公安厅受理，需到现场1次，承诺20个工作日内办结。”）"
    )
    assert irrelevant.subjects == ("护照签发", "公司设立登记")
    broken = finding(report, "assistant.broken")
    said = "系统繁忙，请稍后再试。" if not is_spa(any_portal) else "服务异常，请稍后重试"
    assert broken.detail == (
        f"智能客服对“如何办理排污许可证核发”的提问回复“{said}”（问答接口返回 HTTP 500）"
    )
    assert len(report.findings) == 3
    assert report.metrics["answers"][4]["relevant"] is True


@pytest.mark.browser
async def test_a_portal_without_the_widget_is_inconclusive_unless_required(
    make_services: ServicesFactory, any_portal: AnyPortal
) -> None:
    # Each style one way (the entry is waited for 5 s, as a script-drawn one may come late).
    any_portal.assistant.update({"widget_missing": True})
    if not is_spa(any_portal):
        report = await _run(make_services, any_portal, questions=["公司设立登记"])
        assert report.outcome is Outcome.INCONCLUSIVE, report
        assert "找到智能客服入口" in report.error and "selectors.chat_entry" in report.error
        return
    report = await _run(make_services, any_portal, questions=["公司设立登记"], required=True)
    assert report.outcome is Outcome.FAIL, report
    missing = finding(report, "assistant.missing")
    assert missing.title == "未提供智能客服"
    assert missing.detail == f"网站页面（{any_portal.url}/）未找到智能客服入口"


@pytest.mark.browser
async def test_an_unlabelled_entry_is_found_by_its_configured_selector(
    make_services: ServicesFactory, spa_portal: SpaPortalSandbox
) -> None:
    # An icon without words or name: the default words cannot find it (inconclusive).
    spa_portal.assistant.update({"entry_unlabelled": True})
    params = {"questions": ["公司设立登记"], "required": True}
    catalog = portal_catalog(
        spa_portal.url, probe="assistant", params=params, selectors={"chat_entry": ".zs-fab"}
    )
    services = make_services(catalog)
    report = await services.runner.run(CHECK, *services.check(CHECK), full_trace=False)
    assert report.outcome is Outcome.PASS, report


def test_relevance_counts_names_cores_candidate_lists_and_guide_links() -> None:
    company = Question(item="公司设立登记")
    assert naming_words(company) == ["公司设立登记", "公司设立"]
    assert is_relevant(company, Answer("q", text="办理公司设立需要以下材料……"))
    candidates = Answer("q", text="您是不是想咨询以下事项？", links=[("公司设立登记", "/x")])
    assert is_relevant(company, candidates)
    assert not is_relevant(company, Answer("q", text="个体工商户设立登记由省市场监督管理局受理。"))
    linked = Question(item="公司设立登记", links=["/item/gsslj"])
    assert is_relevant(
        linked, Answer("q", text="请点击查看", links=[("查看", "http://h/item/gsslj")])
    )
    assert first_sentence("第一句。第二句。") == "第一句。"
    assert first_sentence("没有句号的回答") == "没有句号的回答"


def test_params_name_the_bad_setting() -> None:
    models = params_models(probe_kinds())
    for params, message in (
        ({}, "questions"),
        ({"questions": ["x"], "ask_template": "请问"}, "ask_template"),
        ({"questions": ["x"], "answer_within_s": 0}, "answer_within_s"),
        ({"questions": [{"item": "x", "link": "y"}]}, "link"),
    ):
        with pytest.raises(CatalogError, match=message):
            parse_catalog(
                portal_catalog("http://127.0.0.1:1", probe="assistant", params=params),
                "catalog.yaml",
                probe_params=models,
            )


def test_assistant_fault_settings_name_the_bad_field() -> None:
    with pytest.raises(FaultError, match=r"slow_items.*no such item"):
        AssistantFaults().update({"slow_items": ["不存在的事项"]})
