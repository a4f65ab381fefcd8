"""政务服务“好差评” on both sandbox styles: the rating entry of each guide and the form it
opens, the 评价 offered with a consultation's reply, and the 差评 left unanswered.

The bot runs on a FakeClock at 2026-12-03 10:00 (Beijing): the sandbox's 差评 carry fixed
dates, so "15 working days" is counted on the Chinese calendar against a known today.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from bot.services import Services
from bot.target_commands import measures
from config.loader import CatalogError, parse_catalog
from core.calendar import WorkingCalendar
from core.clock import FakeClock
from core.results import Finding, Outcome, ProbeResult
from probes.consultation_state import Consultation, ConsultationJournal
from probes.rating_reviews import judge_reviews, read_review
from probes.registry import params_models, probe_kinds
from sandbox.consultation_desk import ConsultationDesk
from sandbox.faults import FaultError
from sandbox.rating import RatingFaults
from sandbox.spa.server import SpaPortalSandbox
from tests.catalogs import portal_catalog
from tests.conftest import AnyPortal, ServicesFactory, at

CHECK = "sf-portal/rating"
TODAY = "2026-12-03 10:00"


def is_spa(portal: AnyPortal) -> bool:
    return isinstance(portal, SpaPortalSandbox)


def guide(portal: AnyPortal, item: str) -> str:
    return f"/#/item/{item}" if is_spa(portal) else f"/item/{item}"


def _services(
    make_services: ServicesFactory, portal: AnyPortal, params: dict[str, Any], **catalog: Any
) -> Services:
    text = portal_catalog(portal.url, probe="rating", params=params, **catalog)
    return make_services(text, clock=FakeClock(at(TODAY)), trace="off")


async def _run(services: Services, check_id: str = CHECK, state: Any = None) -> ProbeResult:
    # The probe once, as the runner runs it (outage check included), without the
    # confirming second run a failing scheduled run gets: the faults are steady here.
    target, check = services.check(check_id)
    return await services.runner.run(check_id, target, check, state, full_trace=False)


def finding(result: ProbeResult, code: str) -> Finding:
    found = [f for f in result.findings if f.code == code]
    assert found, f"no {code} among {[f.code for f in result.findings]}: {result}"
    return found[0]


def quicker(portal: AnyPortal) -> None:
    if is_spa(portal):
        portal.spa.update({"api_delay_ms": 100})  # type: ignore[union-attr]


@pytest.mark.browser
async def test_healthy_portal_passes_with_a_recent_unanswered_bad_review(
    make_services: ServicesFactory, any_portal: AnyPortal
) -> None:
    # The healthy variant: a 差评 of 12月1日 not yet answered is still within 15 working days.
    any_portal.rating.update({"unanswered_on": "2026-12-01"})
    params = {"items": [guide(any_portal, "gsslj")]}
    services = _services(make_services, any_portal, {**params, "entry": {}, "published": {}})
    result = await _run(services)
    assert result.outcome is Outcome.PASS, result
    assert set(result.metrics["entries"].values()) == {"form"}
    assert result.metrics["reviews"] == {
        "rows": 4,
        "bad": 4,
        "unanswered": 0,
        "late": 0,
        "waiting": 1,
        "unread": 0,
    }
    assert "差评公示：读取 4 条，其中差评 4 条（超期未回复 0，超期回复 0，未到期未回复 1）" in (
        measures(result)  # as `govpatrol calibrate` prints it
    )


@pytest.mark.browser
async def test_missing_and_dead_entries_and_overdue_bad_reviews_are_found(
    make_services: ServicesFactory, any_portal: AnyPortal
) -> None:
    quicker(any_portal)
    any_portal.rating.update(
        {
            "no_entry_items": ["gsslj"],
            "dead_entry_items": ["jszhz"],
            "unanswered_on": "2026-10-09",
            "late_reply_on": "2026-11-02",
        }
    )
    items = [guide(any_portal, i) for i in ("gsslj", "jszhz", "sfzhl")]
    services = _services(make_services, any_portal, {"items": items, "entry": {}, "published": {}})
    result = await _run(services)
    assert result.outcome is Outcome.FAIL, result
    missing = finding(result, "rating.entry_missing")
    assert missing.title == "未提供“好差评”评价入口"
    assert missing.detail == "“公司设立登记”办事指南页面未提供“好差评”评价入口"
    dead = finding(result, "rating.entry_dead")
    assert dead.title == "“好差评”评价入口无效"
    how = (
        "“服务评价”入口点击后无任何反应"
        if is_spa(any_portal)
        else f"“我要评价”入口打开返回 HTTP 404（{any_portal.url}/hcp/evaluate.do?itemId=jszhz）"
    )
    assert dead.detail == f"“机动车驾驶证换证”办事指南的{how}"
    unanswered = finding(result, "rating.unanswered")
    assert unanswered.title == "差评超期未回复整改"
    assert unanswered.detail == (
        "差评（2026年10月9日，评价编号HCP2026100900088，“护照签发”）超过15个工作日未回复"
        "（截至12月3日已过 40 个工作日）"
    )
    late = finding(result, "rating.reply_late")
    assert late.detail == (
        "差评（2026年11月2日，评价编号HCP2026110200061，“婚姻登记”）于2026年11月30日回复，"
        "用时 20 个工作日，超过15个工作日"
    )
    assert len(result.findings) == 4
    assert result.metrics["entries"][f"{any_portal.url}{guide(any_portal, 'sfzhl')}"] == "form"
    assert result.evidence.screenshots


@pytest.mark.browser
async def test_unread_guide_and_unreadable_list_are_inconclusive_naming_the_settings(
    make_services: ServicesFactory, portal: AnyPortal
) -> None:
    # A notice is no guide (no guide elements to read) and carries no list of 差评.
    notice = "/notice/1"
    text = portal_catalog(
        portal.url,
        probe="rating",
        params={"items": [notice], "entry": {}, "published": {}},
    ).replace("    selectors:", f"    pages: {{rating_list: '{notice}'}}\n    selectors:")
    services = make_services(text, clock=FakeClock(at(TODAY)), trace="off")
    result = await _run(services)
    assert result.outcome is Outcome.INCONCLUSIVE, result
    assert "无法判定是否提供评价入口；请配置巡检对象 selectors.rating_entry" in result.error
    assert "未能从差评公示页面" in result.error
    assert "请配置巡检对象 pages.rating_list 或 selectors.rating_row" in result.error


@pytest.mark.browser
async def test_an_entry_without_words_is_found_by_the_configured_selector(
    make_services: ServicesFactory, portal: AnyPortal
) -> None:
    # Both styles draw the icon alike; the first style's run is enough to pin the setting.
    any_portal = portal
    any_portal.rating.update({"icon_entry_items": ["gsslj"]})
    params = {"items": [guide(any_portal, "gsslj")], "entry": {}}
    unaided = await _run(_services(make_services, any_portal, params))
    assert unaided.outcome is Outcome.FAIL, unaided
    assert finding(unaided, "rating.entry_missing")
    configured = _services(
        make_services, any_portal, params, selectors={"rating_entry": ".pj-icon"}
    )
    result = await _run(configured)
    assert result.outcome is Outcome.PASS, result
    assert list(result.metrics["entries"].values()) == ["form"]


# -- the consultation's reply offers 评价 ---------------------------------------------------


def _desk(portal: AnyPortal) -> ConsultationDesk:
    return portal.consultation


def _replied_letter_state(portal: AnyPortal) -> dict[str, Any]:
    """A consultation pending in the check's state whose letter the desk has just answered
    (the desk answers at once here), so one run follows it up and sees the reply."""
    desk = _desk(portal)
    desk.faults.update({"reply_after_working_days": 0})
    letter = desk.submit(
        kind="咨询",
        department="省市场监督管理局",
        title="个体工商户营业执照网上办理咨询",
        content="您好，请问申请个体工商户营业执照需要准备哪些材料？【巡检编号 GP-TEST】",
        name="李明",
        phone="13912345678",
    )
    pending = Consultation(
        target="sf-portal",
        base_url=portal.url,
        entry="首页—我要咨询",
        marker="巡检编号 GP-TEST",
        title=letter.title,
        letter_no=letter.number,
        query_code=letter.code,
        submitted_at=letter.submitted_at,
        deadline=letter.submitted_at.date() + dt.timedelta(days=7),
    )
    return ConsultationJournal(pending, None, 1).to_state()


@pytest.mark.browser
async def test_a_replied_consultation_offers_rating_on_both_styles_and_its_absence_is_found(
    make_services: ServicesFactory, any_portal: AnyPortal
) -> None:
    quicker(any_portal)
    params: dict[str, Any] = {"rating": {}}
    if is_spa(any_portal):
        params["fill"] = {"所属部门": "省市场监督管理局"}
    text = portal_catalog(any_portal.url, probe="consultation", params=params)
    services = make_services(text, trace="off")
    check = "sf-portal/consultation"

    offered = await _run(services, check, _replied_letter_state(any_portal))
    assert offered.outcome is Outcome.PASS, offered
    assert offered.metrics["rating_offered"] is True

    any_portal.rating.update({"no_rating_after_reply": True})
    state = _replied_letter_state(any_portal)
    number = state["consultation"]["pending"]["letter_no"]
    missing = await _run(services, check, state)
    assert missing.outcome is Outcome.FAIL, missing
    (found,) = missing.findings
    assert found.code == "rating.consultation_entry_missing"
    assert found.title == "咨询答复后未提供评价渠道"
    day = state["consultation"]["pending"]["submitted_at"]
    submitted = dt.datetime.fromisoformat(day).astimezone(at(TODAY).tzinfo)
    assert found.detail == (
        f"咨询回复查询。{submitted.month}月{submitted.day}日提交的咨询（信件编号 {number}）"
        "已获答复，但答复页面未提供“评价”入口，无法对答复进行评价"
    )
    # The reply is still recorded: the journal moves on as after any reply.
    assert ConsultationJournal.from_state(missing.state).last_replied is not None

    if is_spa(any_portal):
        return  # the rest is the journal's, the same on both styles
    # Resting before the next question, each run asks the last reply again: still missing,
    # then fixed (what a verification sees).
    resting = await _run(services, check, missing.state)
    assert resting.outcome is Outcome.FAIL, resting
    assert resting.findings[0].detail == found.detail
    any_portal.rating.update({"no_rating_after_reply": False})
    fixed = await _run(services, check, resting.state)
    assert fixed.outcome is Outcome.PASS, fixed
    assert "提交下一个咨询" in fixed.summary and fixed.metrics["rating_offered"] is True


# -- settings and readings without a browser -----------------------------------------------


def test_params_need_a_part_and_guides_for_the_entry() -> None:
    models = params_models(probe_kinds())
    for params, message in (
        ({"items": ["/item/gsslj"]}, "entry"),
        ({"entry": {}}, "items"),
        ({"published": {"reply_within_working_days": 0}}, "reply_within_working_days"),
        ({"published": {}, "entry": {"form_pattern": "("}}, "form_pattern"),
    ):
        with pytest.raises(CatalogError, match=message):
            parse_catalog(
                portal_catalog("http://127.0.0.1:1", probe="rating", params=params),
                "catalog.yaml",
                probe_params=models,
            )


def test_rating_fault_settings_name_the_bad_field() -> None:
    faults = RatingFaults()
    with pytest.raises(FaultError, match=r"no_entry_items.*no such item"):
        faults.update({"no_entry_items": ["不存在的事项"]})
    with pytest.raises(FaultError, match=r"unanswered_on.*YYYY-MM-DD"):
        faults.update({"unanswered_on": "10月9日"})


def test_a_row_is_unanswered_only_when_it_says_so() -> None:
    calendar = WorkingCalendar()
    rows = [
        # A 好评 is not judged; a 差评 whose reply cannot be told is unread, not unanswered.
        [("评价时间", "2026-10-09"), ("评价等级", "非常满意"), ("回复状态", "未回复")],
        [("评价时间", "2026-10-09"), ("评价等级", "不满意"), ("备注", "见附件")],
        [("评价日期", "2026年10月09日"), ("满意度", "不满意"), ("回复时间", "—")],
        # Answered late, but long ago: history, not a finding.
        [("评价时间", "2026-06-01"), ("评价等级", "不满意"), ("回复时间", "2026-07-20")],
    ]
    verdict = judge_reviews(
        [read_review(row) for row in rows],
        today=dt.date(2026, 12, 3),
        calendar=calendar,
        within=15,
        late_lookback_days=30,
    )
    assert verdict.judged == 3
    assert len(verdict.unread) == 1
    assert [o.review.rated_on for o in verdict.unanswered] == [dt.date(2026, 10, 9)]
    assert verdict.late == []
    # 好差评 names the system, not a 差评.
    assert not read_review([("评价时间", "2026-10-09"), ("评价渠道", "好差评系统")]).bad
