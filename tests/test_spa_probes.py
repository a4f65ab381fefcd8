"""The probes on the second sandbox style: a single-page portal rendering from JSON APIs
behind a hash router and a spinner, with forms in dialogs and toasts gone after 3 s.

Search, checklist, SSO, mobile and consultation tests run on both styles in their own
files; here are the journeys whose SPA wording and waiting differ most, and
the clean-rounds check: every SPA check, N rounds, no fault, no non-pass outcome.
"""

from __future__ import annotations

from typing import Any

import pytest

from bot.jobs import RunReport, run_check
from core.results import Outcome
from sandbox.registration import SMS_INBOX_PATH, SMS_TOKEN
from sandbox.spa.server import SpaPortalSandbox
from tests.catalogs import portal_catalog
from tests.conftest import ServicesFactory
from tests.test_checklist_probe import FULL_SET_DETAILS, FULL_SET_FAULTS

pytestmark = pytest.mark.browser

SEGMENTS = ["138", "170", "176", "199"]
FILL = {"所属部门": "省市场监督管理局"}
CLEAN_ROUNDS = 1  # the suite's smoke; bench/spa_rounds runs 20 (README figures)
TEST_PHONE = "13800138000"
MOBILE = {"pages": ["/#/item/gsslj"], "max_links": 2}


async def _run(
    make_services: ServicesFactory, spa: SpaPortalSandbox, probe: str, params: dict[str, Any]
) -> RunReport:
    services = make_services(portal_catalog(spa.url, probe=probe, params=params))
    return await run_check(services, f"sf-portal/{probe}", record=False)


def spa_checks() -> list[tuple[str, dict[str, Any]]]:
    """Every check of the SPA portal as an operator configures it."""
    return [
        ("search", {"items": ["排污许可证核发", "公司设立登记", "教师资格认定"]}),
        ("registration", {"segments": SEGMENTS}),
        ("consultation", {"fill": FILL}),
        ("mobile", MOBILE),
        (
            "checklist",
            {
                "columns": {"pages": ["/#/list/legal"]},
                "guides": {"items": ["/#/item/gsslj", "/#/item/sfzhl"]},
            },
        ),
    ]


async def test_registration_segment_rejected_by_the_form(
    make_services: ServicesFactory, spa_portal: SpaPortalSandbox
) -> None:
    spa_portal.registration.faults.update({"rejected_segments": ["176"]})
    report = await _run(make_services, spa_portal, "registration", {"segments": SEGMENTS})
    codes = {f.code: f for f in report.result.findings}
    assert "registration.phone_segment_rejected" in codes, report.result
    assert codes["registration.phone_segment_rejected"].subjects == ("176",)


async def test_registration_segment_rejected_by_the_server_check(
    make_services: ServicesFactory, spa_portal: SpaPortalSandbox
) -> None:
    spa_portal.spa.update({"server_rejected_segments": ["170"]})
    report = await _run(make_services, spa_portal, "registration", {"segments": SEGMENTS})
    codes = {f.code: f for f in report.result.findings}
    assert "registration.phone_segment_rejected" in codes, report.result
    assert codes["registration.phone_segment_rejected"].subjects == ("170",)


async def test_consultation_required_department_unknown_is_inconclusive(
    make_services: ServicesFactory, spa_portal: SpaPortalSandbox
) -> None:
    before = len(spa_portal.consultation.letters())  # the session's sandbox: others' letters
    report = await _run(make_services, spa_portal, "consultation", {})
    assert report.outcome is Outcome.INCONCLUSIVE, report.result
    assert "所属部门" in report.result.error and "params.fill" in report.result.error
    assert len(spa_portal.consultation.letters()) == before  # nothing was sent


async def test_every_spa_check_passes_clean_rounds(
    make_services: ServicesFactory, spa_portal: SpaPortalSandbox
) -> None:
    outcomes: list[tuple[str, Outcome]] = []
    for _ in range(CLEAN_ROUNDS):
        for probe, params in spa_checks():
            report = await _run(make_services, spa_portal, probe, params)
            outcomes.append((probe, report.outcome))
    assert [o for o in outcomes if o[1] is not Outcome.PASS] == []


def spa_guides(*items: str, **more: Any) -> dict[str, Any]:
    return {"guides": {"items": [f"/#/item/{item}" for item in items], **more}}


async def test_checklist_columns_follow_hash_routes(
    make_services: ServicesFactory, spa_portal: SpaPortalSandbox
) -> None:
    columns = {"columns": {"pages": ["/#/list/personal"]}}
    report = await _run(make_services, spa_portal, "checklist", columns)
    assert report.outcome is Outcome.PASS, report.result
    assert report.result.metrics["categories_checked"] == 11

    spa_portal.guides.update({"empty_themes": ["生育收养"]})
    report = await _run(make_services, spa_portal, "checklist", columns)
    (finding,) = report.result.findings
    assert finding.code == "checklist.empty_column"
    assert "生育收养" in finding.detail


async def test_healthy_spa_guides_are_read_whole(
    make_services: ServicesFactory, spa_portal: SpaPortalSandbox
) -> None:
    # 份数 given as a bare “1” under its column, and a 示例样表 column of 查看 links: both
    # are stated, and were read as missing before (issue 14, rendered guides).
    report = await _run(make_services, spa_portal, "checklist", spa_guides("gsslj", "sfzhl"))
    assert report.outcome is Outcome.PASS, report.result
    assert report.result.metrics["guides_checked"] == 2


async def test_checklist_guide_in_tabs_missing_element(
    make_services: ServicesFactory, spa_portal: SpaPortalSandbox
) -> None:
    # Read through the tabs (办事流程 is a hidden panel); 设定依据 is shown as 办理依据.
    spa_portal.guides.update({"missing_elements": ["gsslj:设定依据"]})
    report = await _run(make_services, spa_portal, "checklist", spa_guides("gsslj", "sfzhl"))
    missing = [f for f in report.result.findings if f.code == "checklist.guide_elements_missing"]
    assert [f.detail for f in missing] == ["公司设立登记：缺失设定依据"]


async def test_full_element_set_gaps_on_the_spa(
    make_services: ServicesFactory, spa_portal: SpaPortalSandbox
) -> None:
    spa_portal.guides.update(FULL_SET_FAULTS)
    report = await _run(
        make_services, spa_portal, "checklist", spa_guides("gsslj", "sfzhl", check_downloads=False)
    )
    assert {f.code: f.detail for f in report.result.findings} == FULL_SET_DETAILS


async def test_mobile_guide_overflow_on_phones(
    make_services: ServicesFactory, spa_portal: SpaPortalSandbox
) -> None:
    spa_portal.spa.update({"mobile_overflow": True})
    report = await _run(make_services, spa_portal, "mobile", {**MOBILE, "max_links": 0})
    (finding,) = report.result.findings
    assert finding.code == "mobile.horizontal_overflow"
    assert "#/item/gsslj" in finding.detail and "table.wide" in finding.detail


def with_sms(spa: SpaPortalSandbox) -> dict[str, Any]:
    inbox = spa.url + SMS_INBOX_PATH
    sms = {"url": inbox, "token": "${SMS_TOKEN}", "limit_s": 5}
    return {"segments": ["138"], "test_phone": TEST_PHONE, "sms_inbox": sms}


async def _run_sms(
    make_services: ServicesFactory, spa: SpaPortalSandbox, params: dict[str, Any]
) -> RunReport:
    catalog = portal_catalog(spa.url, probe="registration", params=params)
    services = make_services(catalog, environ={"SMS_TOKEN": SMS_TOKEN})
    return await run_check(services, "sf-portal/registration", record=False)


async def test_registration_code_refusal_in_a_toast(
    make_services: ServicesFactory, spa_portal: SpaPortalSandbox
) -> None:
    spa_portal.registration.faults.update({"code_request_refused": True})
    report = await _run_sms(make_services, spa_portal, with_sms(spa_portal))
    codes = {f.code: f for f in report.result.findings}
    assert "registration.code_request_failed" in codes, report.result
    assert "验证码下发失败，请稍候重试" in codes["registration.code_request_failed"].detail


async def test_consultation_follow_up_queries_with_the_code_after_wei(
    make_services: ServicesFactory, spa_portal: SpaPortalSandbox
) -> None:
    services = make_services(
        portal_catalog(spa_portal.url, probe="consultation", params={"fill": FILL})
    )
    submitted = await run_check(services, "sf-portal/consultation")
    assert submitted.outcome is Outcome.PASS, submitted.result
    followed = await run_check(services, "sf-portal/consultation")
    assert followed.outcome is Outcome.PASS, followed.result
