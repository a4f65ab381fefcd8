"""在线注册 on both sandbox styles (server-rendered pages and the single-page app): the clean
journey, each registration fault, and a segment the server refuses only when 获取验证码 is
pressed (issue 14 point 6), met by rotating the code request over the operator's test SIMs.

The two styles word everything differently; each test names what its style says.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from bot.jobs import RunReport, run_check
from core.clock import FakeClock
from core.results import Outcome
from probes.segments import sample_number
from sandbox.registration import SMS_INBOX_PATH, SMS_TOKEN
from sandbox.server import PortalSandbox
from sandbox.spa.server import SpaPortalSandbox
from tests.catalogs import portal_catalog
from tests.conftest import AnyPortal, ServicesFactory, at
from tests.registration_helpers import unpacked

pytestmark = pytest.mark.browser

CHECK = "sf-portal/registration"
TEST_PHONE = "13800138000"
PHONE_170 = sample_number("170")  # the operator's SIM of a virtual-operator segment
# One segment where the sweep is not the subject (each SPA blur check is an API call).
SEGMENTS = ["138"]
# The SPA's APIs answer in 600 ms by default; the clean journey waits through that, the
# fault tests (about verdicts, not waiting) run with a shorter but still real delay.
FAULT_API_DELAY_MS = 150
PASSWORD = "Xun1jian2"

# What each style says where the probe reads it.
SAYS = {
    "classic": {
        "segment": "暂不支持该号段",
        "sent": "验证码已发送，请注意查收",
        "busy": "操作过于频繁，请稍后再试",
        "register": "系统繁忙，注册失败，请稍后再试",
    },
    "spa": {
        "segment": "该号码无效",
        "sent": "短信验证码已下发，5分钟内有效",
        "busy": "获取次数过多，请1分钟后重试",
        "register": "注册服务异常，账号未能创建",
    },
}


def style(portal: AnyPortal) -> str:
    return "spa" if isinstance(portal, SpaPortalSandbox) else "classic"


def check(portal: AnyPortal, **overrides: Any) -> dict[str, Any]:
    sms = {"url": portal.url + SMS_INBOX_PATH, "token": "${SMS_TOKEN}", "limit_s": 5}
    base = {"segments": SEGMENTS, "test_phone": TEST_PHONE, "sms_inbox": sms, "forms": ["personal"]}
    return {**base, **overrides}


def shorter_api_delay(portal: AnyPortal, api_delay_ms: int = FAULT_API_DELAY_MS) -> None:
    if isinstance(portal, SpaPortalSandbox):
        portal.spa.update({"api_delay_ms": api_delay_ms})


async def run(
    make_services: ServicesFactory,
    portal: AnyPortal,
    api_delay_ms: int | None = FAULT_API_DELAY_MS,
    **overrides: Any,
) -> RunReport:
    if api_delay_ms is not None:
        shorter_api_delay(portal, api_delay_ms)
    catalog = portal_catalog(portal.url, probe="registration", params=check(portal, **overrides))
    environ = {"SMS_TOKEN": SMS_TOKEN, "TEST_PASSWORD": PASSWORD}
    services = make_services(catalog, environ=environ)
    return await run_check(services, CHECK, record=False)


async def test_clean_registration_passes_on_the_spa(
    make_services: ServicesFactory, spa_portal: SpaPortalSandbox
) -> None:
    # The first style's clean journey: test_registration_probe.py, every segment.
    report = await run(make_services, spa_portal, None, forms=["personal", "legal"])
    assert report.outcome is Outcome.PASS, report.result
    assert "获取验证码正常（138号段测试手机号）" in report.result.summary
    assert report.result.metrics["forms"]["legal"]["sms_seconds"] is not None


async def test_segment_refused_only_when_the_code_is_requested_is_named_and_quoted(
    make_services: ServicesFactory, any_portal: AnyPortal
) -> None:
    # Issue 14: "A phone segment refused only by the server when 获取验证码 is pressed
    # passes: the sweep reads only the form's own validation." The form lets 170 through.
    any_portal.registration.faults.update({"code_rejected_segments": ["170"]})
    report = await run(make_services, any_portal, test_phone=PHONE_170, segments=["138", "170"])
    assert report.outcome is Outcome.FAIL, report.result
    (finding,) = report.result.findings
    assert finding.code == "registration.phone_segment_rejected"
    assert finding.subjects == ("170",)
    said = SAYS[style(any_portal)]["segment"]
    assert finding.detail == (
        f"个人用户注册：170号段手机号点击“获取验证码”后提示“{said}”"
        f"（测试手机号170****{PHONE_170[-4:]}，表单自身校验未提示），无法注册"
    )


async def test_a_not_now_refusal_of_the_code_is_inconclusive(
    make_services: ServicesFactory, any_portal: AnyPortal
) -> None:
    any_portal.registration.faults.update({"code_request_throttled": True})
    report = await run(make_services, any_portal)
    assert report.outcome is Outcome.INCONCLUSIVE, report.result
    assert f"提示“{SAYS[style(any_portal)]['busy']}”" in report.result.error
    assert "无法判定138号段能否获取验证码" in report.result.error


async def test_slider_captcha_without_bypass_is_inconclusive(
    make_services: ServicesFactory, any_portal: AnyPortal
) -> None:
    any_portal.registration.faults.update({"captcha": "slider"})
    report = await run(make_services, any_portal)
    assert report.outcome is Outcome.INCONCLUSIVE, report.result
    assert "获取验证码前需完成滑块验证" in report.result.error
    assert "未配置测试环境绕过令牌" in report.result.error


async def test_sms_never_sent_fails_after_the_limit(
    make_services: ServicesFactory, any_portal: AnyPortal
) -> None:
    any_portal.registration.faults.update({"sms_not_sent": True})
    sms = {"url": any_portal.url + SMS_INBOX_PATH, "token": "${SMS_TOKEN}", "limit_s": 0.5}
    report = await run(make_services, any_portal, sms_inbox=sms)
    (finding,) = report.result.findings
    assert finding.code == "registration.sms_not_received"
    said = SAYS[style(any_portal)]["sent"]
    assert f"提示“{said}”，但 0.5 秒内未收到短信验证码" in finding.detail


async def test_registration_refused_at_submit_is_quoted_and_no_password_kept(
    make_services: ServicesFactory, any_portal: AnyPortal
) -> None:
    any_portal.registration.faults.update({"register_refused": True})
    shorter_api_delay(any_portal)
    account = {
        "password": "${TEST_PASSWORD}",
        "fields": {"姓名": "巡检测试", "证件号码": "11010519491231002X"},
    }
    catalog = portal_catalog(
        any_portal.url, probe="registration", params=check(any_portal, complete=account)
    )
    environ = {"SMS_TOKEN": SMS_TOKEN, "TEST_PASSWORD": PASSWORD}
    services = make_services(catalog, environ=environ)
    report = await run_check(services, CHECK, record=False)
    (finding,) = report.result.findings
    assert finding.code == "registration.register_failed"
    said = SAYS[style(any_portal)]["register"]
    assert f"提交后提示“{said}”，注册未成功" in finding.detail
    evidence = report.result.evidence
    for relative in (*evidence.screenshots, *evidence.html, *evidence.traces):
        assert PASSWORD.encode() not in unpacked(services.evidence.absolute(relative))


async def test_blur_check_refusal_the_page_keeps_to_itself_is_read_from_its_answer(
    make_services: ServicesFactory, spa_portal: SpaPortalSandbox
) -> None:
    # The availability check answers {"ok": false, "msg": "该手机号码不正确…"} on leaving the
    # field, and the view shows nothing: the answer itself is the positive evidence.
    spa_portal.spa.update({"server_rejected_segments": ["170"], "blur_check_silent": True})
    report = await run(
        make_services, spa_portal, segments=["138", "170"], test_phone=None, sms_inbox=None
    )
    (finding,) = report.result.findings
    assert finding.code == "registration.phone_segment_rejected"
    assert finding.subjects == ("170",)
    assert "个别号段（如170）注册显示“该手机号码不正确”" in finding.detail


async def test_code_requests_rotate_over_the_test_sims_and_a_refused_one_stays_in_turn(
    make_services: ServicesFactory, portal: PortalSandbox
) -> None:
    portal.registration.faults.update({"code_rejected_segments": ["170"]})
    catalog = portal_catalog(
        portal.url,
        probe="registration",
        params=check(portal, test_phone=None, test_phones=[TEST_PHONE, PHONE_170]),
    )
    clock = FakeClock(at("2026-09-28 10:00"))
    services = make_services(catalog, environ={"SMS_TOKEN": SMS_TOKEN}, clock=clock)
    outcomes = []
    for _ in range(3):
        report = await run_check(services, CHECK)
        outcomes.append((report.outcome, report.result.metrics["forms"]["personal"]))
        clock.advance(dt.timedelta(hours=1))
    segments = [(outcome, form["code_segment"]) for outcome, form in outcomes]
    # 138 passes, then 170 is refused, and stays in turn until it passes (a task can open
    # after repeated runs and its verification asks 170 again).
    assert segments == [(Outcome.PASS, "138"), (Outcome.FAIL, "170"), (Outcome.FAIL, "170")]
