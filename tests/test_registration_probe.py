"""在线注册 with a real Chromium against the sandbox portal's 用户注册: healthy, each fault,
CAPTCHA with and without a bypass, the SMS inbox, and a task opened and closed by runs.
The faults both sandbox styles show are in test_registration_styles.py."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy import select

from bot.jobs import RunReport, report_fixed, run_check
from bot.receivers import WebhookCatcher
from core.clock import FakeClock
from core.results import Outcome
from probes.registration_params import RegistrationParams
from probes.segments import mainland_mobile_segments, sample_number
from probes.sms import GatewayShape, MemorySmsInbox, extract_code, wait_for_code
from sandbox.faults import FaultError, PortalFaults
from sandbox.portal import create_portal_app
from sandbox.registration import (
    BYPASS_HEADER,
    BYPASS_NAME,
    BYPASS_TOKEN,
    SMS_TOKEN,
    RegistrationDesk,
    registration_area,
)
from sandbox.registration_state import RegistrationFaults
from sandbox.server import SandboxServer
from tasks.catalog_sync import sync_catalog
from tasks.lifecycle import Actor, Role
from tasks.models import Task, TaskState
from tests.catalogs import portal_catalog
from tests.conftest import ServicesFactory, at
from tests.registration_helpers import RegistrationPortal

pytestmark = pytest.mark.browser

CHECK = "sf-portal/registration"
TEST_PHONE = "13800138000"
# A few segments, old and new, for the tests that are not about the full list.
SOME_SEGMENTS = ["138", "162", "170", "176", "199"]


@pytest.fixture(scope="session")
def registration_server() -> Iterator[RegistrationPortal]:
    desk = RegistrationDesk()
    portal_faults = PortalFaults()
    app = create_portal_app(portal_faults, areas=[registration_area(desk)])
    server = SandboxServer(app, "127.0.0.1", 0).start()
    yield RegistrationPortal(server, desk, portal_faults)
    server.stop()


@pytest.fixture
def site(registration_server: RegistrationPortal) -> Iterator[RegistrationPortal]:
    """The portal with a healthy 用户注册 at the start of every test."""
    registration_server.desk.faults.reset()
    registration_server.site.reset()
    yield registration_server
    registration_server.desk.faults.reset()
    registration_server.site.reset()


def params(site: RegistrationPortal, **overrides: Any) -> dict[str, Any]:
    """A check as an operator would configure it: test SIM, its inbox, a short SMS limit."""
    base: dict[str, Any] = {
        "segments": SOME_SEGMENTS,
        "test_phone": TEST_PHONE,
        "sms_inbox": {"url": site.inbox_url, "token": "${SMS_TOKEN}", "limit_s": 5},
    }
    return {**base, **overrides}


async def run(
    make_services: ServicesFactory,
    site: RegistrationPortal,
    secrets: dict[str, str] | None = None,
    **check_params: Any,
) -> RunReport:
    catalog = portal_catalog(site.url, probe="registration", params=params(site, **check_params))
    services = make_services(catalog, environ={"SMS_TOKEN": SMS_TOKEN, **(secrets or {})})
    return await run_check(services, CHECK, record=False)


async def test_healthy_portal_accepts_every_segment_on_both_forms(
    make_services: ServicesFactory, site: RegistrationPortal
) -> None:
    report = await run(make_services, site, segments=None)
    assert report.outcome is Outcome.PASS, report.result
    forms = report.result.metrics["forms"]
    everything = len(mainland_mobile_segments())
    assert forms["personal"]["segments_checked"] == everything
    assert forms["legal"]["segments_checked"] == everything
    assert forms["personal"]["sms_seconds"] is not None
    assert "获取验证码正常" in report.result.summary
    assert report.result.evidence.screenshots == ()


async def test_rejected_segments_are_one_finding_listing_them(
    make_services: ServicesFactory, site: RegistrationPortal
) -> None:
    site.fault(rejected_segments=["176", "170"])
    report = await run(make_services, site)
    assert report.outcome is Outcome.FAIL
    (finding,) = report.result.findings
    assert finding.code == "registration.phone_segment_rejected"
    assert finding.title == "在线注册功能不可用"
    assert "个人用户注册：个别号段（如170、176）注册显示“手机号格式不对”" in finding.detail
    assert "法人用户注册：个别号段（如170、176）" in finding.detail
    assert finding.subjects == ("170", "176")
    assert report.result.evidence.screenshots, "the rejected number is kept as evidence"


async def test_stale_segment_list_on_the_legal_form_names_that_form_only(
    make_services: ServicesFactory, site: RegistrationPortal
) -> None:
    # A portal whose form still carries the segment list of years ago.
    site.fault(phone_pattern=r"^1(3\d|4[57]|5[0-35-9]|8\d)\d{8}$", affected_forms=["legal"])
    segments = ["138", "147", "150", "162", "165", "167", "170", "171", "176", "189", "192", "199"]
    report = await run(make_services, site, segments=segments)
    (finding,) = report.result.findings
    assert finding.detail == (
        "法人用户注册：个别号段（如162、165、167、170、171、176、192、199）注册显示“手机号格式不对”"
        "（共检查 12 个号段，8 个被拒绝）"
    )
    assert finding.subjects == ("162", "165", "167", "170", "171", "176", "192", "199")


async def test_refused_code_request_is_reported_with_the_page_message(
    make_services: ServicesFactory, site: RegistrationPortal
) -> None:
    site.fault(code_request_refused=True)
    report = await run(make_services, site, forms=["personal"])
    (finding,) = report.result.findings
    assert finding.code == "registration.code_request_failed"
    assert finding.detail == (
        "个人用户注册：测试手机号138****8000点击“获取验证码”后提示“短信发送失败，请稍后再试”，"
        "无法获取验证码"
    )


async def test_late_sms_within_the_limit_passes(
    make_services: ServicesFactory, site: RegistrationPortal
) -> None:
    site.fault(sms_delay_ms=400, affected_forms=["personal"])
    report = await run(make_services, site, forms=["personal"])
    assert report.outcome is Outcome.PASS, report.result
    assert report.result.metrics["forms"]["personal"]["sms_seconds"] >= 0.4


# The slider on both styles: test_registration_styles.py.
async def test_graphic_captcha_without_bypass_is_inconclusive_never_fail(
    make_services: ServicesFactory, site: RegistrationPortal
) -> None:
    captcha = "graphic"
    site.fault(captcha=captcha, rejected_segments=["176"])
    report = await run(make_services, site, forms=["personal"])
    assert report.outcome is Outcome.INCONCLUSIVE
    assert report.result.findings == ()
    assert "未配置测试环境绕过令牌" in report.result.error
    assert "图形验证码" in report.result.error
    # What was seen is kept for the operator, but no unit is blamed for it.
    assert "个别号段（如176）" in report.result.error


@pytest.mark.parametrize(
    "bypass",
    [{"header": BYPASS_HEADER}, {"cookie": BYPASS_NAME}, {"query": BYPASS_NAME}],
    ids=["header", "cookie", "query"],
)
async def test_captcha_bypass_honoured_by_the_test_environment_passes(
    make_services: ServicesFactory, site: RegistrationPortal, bypass: dict[str, str]
) -> None:
    site.fault(captcha="graphic")
    report = await run(
        make_services,
        site,
        {"BYPASS_TOKEN": BYPASS_TOKEN},
        captcha_bypass={"token": "${BYPASS_TOKEN}", **bypass},
        forms=["personal"],
    )
    assert report.outcome is Outcome.PASS, report.result
    assert BYPASS_TOKEN not in str(report.result.metrics)


async def test_bypass_the_environment_ignores_is_inconclusive(
    make_services: ServicesFactory, site: RegistrationPortal
) -> None:
    site.fault(captcha="slider")
    report = await run(
        make_services,
        site,
        {"BYPASS_TOKEN": "an-expired-token"},
        captcha_bypass={"token": "${BYPASS_TOKEN}", "header": BYPASS_HEADER},
        forms=["personal"],
    )
    assert report.outcome is Outcome.INCONCLUSIVE
    assert "已配置测试环境绕过令牌，但页面仍要求完成滑块验证" in report.result.error


@pytest.mark.parametrize("trouble", ["down", "wrong-token", "no-server"])
async def test_unreachable_sms_inbox_is_inconclusive(
    make_services: ServicesFactory, site: RegistrationPortal, trouble: str
) -> None:
    sms: dict[str, Any] = {"url": site.inbox_url, "token": "${SMS_TOKEN}", "limit_s": 5}
    if trouble == "down":
        site.fault(sms_inbox_down=True)
    elif trouble == "wrong-token":
        sms["token"] = "not-the-token"
    else:
        sms["url"] = "http://127.0.0.1:9/__sandbox/sms/inbox"
    report = await run(make_services, site, sms_inbox=sms, forms=["personal"])
    assert report.outcome is Outcome.INCONCLUSIVE
    assert "短信接收网关" in report.result.error
    assert SMS_TOKEN not in report.result.error


async def test_a_gateway_with_its_own_field_names_is_read_through_the_catalog_mapping(
    make_services: ServicesFactory, site: RegistrationPortal
) -> None:
    # {code, data: {records: [{msgId, mobile, content, recvTime "2026-12-03 10:00:00"}]}}
    # answered to ?mobile=&start=<milliseconds>: another vendor's gateway, no program to write.
    site.fault(sms_gateway_shape="records")
    sms: dict[str, Any] = {"url": site.inbox_url, "token": "${SMS_TOKEN}", "limit_s": 5}
    unmapped = await run(make_services, site, sms_inbox=sms, forms=["personal"])
    assert unmapped.outcome is Outcome.INCONCLUSIVE
    assert "sms_inbox.fields" in unmapped.result.error
    sms["fields"] = {
        "phone_param": "mobile",
        "since_param": "start",
        "since_unit": "ms",
        "wait_param": "",
        "messages": "data.records",
        "id": "msgId",
        "phone": "mobile",
        "text": "content",
        "received_at": "recvTime",
    }
    sms["poll_s"] = 0.2
    mapped = await run(make_services, site, sms_inbox=sms, forms=["personal"])
    assert mapped.outcome is Outcome.PASS, mapped.result
    assert mapped.result.metrics["forms"]["personal"]["sms_seconds"] is not None


def test_gateway_times_in_milliseconds_and_beijing_time_read_alike() -> None:
    shape = GatewayShape(messages="", id="", received_at="t")
    (ms, beijing) = shape.parse(
        [
            {"phone": "1", "text": "验证码 123456", "t": 1764727200000},
            {"phone": "1", "text": "验证码 654321", "t": "2025-12-03 10:00:00"},
        ]
    )
    assert ms.received_at == beijing.received_at == dt.datetime(2025, 12, 3, 2, tzinfo=dt.UTC)
    assert ms.id != beijing.id  # derived from phone, time and text when the gateway gives none


async def test_home_page_without_a_registration_link_is_unavailable(
    make_services: ServicesFactory, site: RegistrationPortal
) -> None:
    catalog = portal_catalog(
        site.url,
        probe="registration",
        params=params(site, forms=["personal"]),
        selectors={"register_link": "#no-such-link"},
    )
    services = make_services(catalog, environ={"SMS_TOKEN": SMS_TOKEN})
    report = await run_check(services, CHECK, record=False)
    (finding,) = report.result.findings
    assert finding.code == "registration.unavailable"
    assert finding.detail == f"个人用户注册：首页（{site.url}/）未找到“注册”入口"


async def test_configured_selectors_find_an_unlabelled_phone_box_and_code_button(
    make_services: ServicesFactory, site: RegistrationPortal
) -> None:
    # A phone box without label, placeholder, tel type or telltale name; a button saying 发送.
    site.fault(form_unlabelled=True)
    unconfigured = await run(make_services, site)
    # The rule of doubt: a phone box the defaults cannot find is not the portal's defect.
    assert unconfigured.outcome is Outcome.INCONCLUSIVE, unconfigured.result
    assert "selectors." in unconfigured.result.error
    catalog = portal_catalog(
        site.url,
        probe="registration",
        params=params(site),
        selectors={"phone_input": "input.ipt-zh", "sms_code_button": "button.btn-code"},
    )
    services = make_services(catalog, environ={"SMS_TOKEN": SMS_TOKEN})
    report = await run_check(services, CHECK, record=False)
    assert report.outcome is Outcome.PASS, report.result
    assert "获取验证码正常" in report.result.summary


async def test_registration_pages_down_make_registration_unavailable(
    make_services: ServicesFactory, site: RegistrationPortal
) -> None:
    site.fault(register_down=True, affected_forms=["legal"])
    report = await run(make_services, site)
    (finding,) = report.result.findings
    assert finding.code == "registration.unavailable"
    assert finding.detail.startswith("法人用户注册：打开法人用户注册页面（")
    assert finding.detail.endswith("/register/legal）返回 HTTP 500")


PASSWORD = "Xun1jian2"
ACCOUNT = {
    "password": "${TEST_PASSWORD}",
    "fields": {
        "姓名": "巡检测试",
        "证件号码": "11010519491231002X",
        "身份证": "11010519491231002X",
        "单位名称": "示范巡检测试有限公司",
        "统一社会信用代码": "91530100MA6K7X1234",
        "法定代表人": "巡检测试",
    },
}


async def test_full_registration_logs_in_and_cancels_the_test_account(
    make_services: ServicesFactory, site: RegistrationPortal
) -> None:
    report = await run(make_services, site, {"TEST_PASSWORD": PASSWORD}, complete=ACCOUNT)
    assert report.outcome is Outcome.PASS, report.result
    assert len(site.desk.accounts) == 0, "both test accounts were cancelled"
    assert "测试账号未能注销" not in report.result.summary


def test_registration_faults_refuse_bad_values_naming_the_field() -> None:
    faults = RegistrationFaults()
    with pytest.raises(FaultError, match="rejected_segments") as bad_segment:
        faults.update({"rejected_segments": ["176", "abc"]})
    with pytest.raises(FaultError, match="captcha"):
        faults.update({"captcha": "puzzle"})
    with pytest.raises(FaultError, match="affected_forms"):
        faults.update({"affected_forms": ["company"]})
    assert bad_segment.value.field == "rejected_segments"
    faults.update({"rejected_segments": ["176", "170"]})
    assert faults.phone_regex() == r"^(?!176|170)1[3-9]\d{9}$"


def test_test_phones_are_checked_and_exclusive_of_test_phone() -> None:
    params = RegistrationParams.model_validate({"test_phones": [13800138000, "17012345678"]})
    assert params.phones == ("13800138000", "17012345678")
    with pytest.raises(ValidationError, match="test_phones must be 11-digit"):
        RegistrationParams.model_validate({"test_phones": ["13800138000", "12345"]})
    with pytest.raises(ValidationError, match="not both"):
        RegistrationParams.model_validate({"test_phone": TEST_PHONE, "test_phones": [TEST_PHONE]})
    with pytest.raises(ValidationError, match="phone_rejection_pattern"):
        RegistrationParams.model_validate({"phone_rejection_pattern": "(unclosed"})


async def test_two_failing_runs_open_one_task_and_the_verified_fix_closes_it(
    make_services: ServicesFactory, site: RegistrationPortal, webhook: WebhookCatcher
) -> None:
    clock = FakeClock(at("2026-09-28 10:00"))
    catalog = portal_catalog(
        site.url,
        probe="registration",
        params=params(site, forms=["personal"]),
        notify=[webhook.apprise_url("wecom")],
    )
    services = make_services(catalog, environ={"SMS_TOKEN": SMS_TOKEN}, clock=clock)
    with services.sessions.begin() as session:
        sync_catalog(session, services.catalog)
    site.fault(rejected_segments=["176", "170"])
    for _ in range(2):
        await run_check(services, CHECK)
        clock.advance(dt.timedelta(hours=1))
    with services.sessions() as session:
        (task,) = session.scalars(select(Task)).all()
    assert task.finding_code == "registration.phone_segment_rejected"
    assert task.state == TaskState.OPEN.value
    assert await services.sender.deliver_due() == 1
    (notice,) = webhook.messages
    assert notice.title.startswith("【整改通知】示范省政务服务网：在线注册功能不可用")
    assert "个别号段（如170、176）注册显示“手机号格式不对”" in notice.message

    site.desk.faults.reset()
    verified = await report_fixed(
        services, task.id, Actor("王晓明", Role.UNIT), "已更新手机号校验规则，支持全部号段"
    )
    assert verified.outcome is Outcome.PASS
    with services.sessions() as session:
        assert session.get_one(Task, task.id).state == TaskState.CLOSED.value


# -- the SMS boundary and the segment list, without a browser ----------------------------


def test_segments_come_from_the_numbering_plan_and_include_the_new_ones() -> None:
    segments = mainland_mobile_segments()
    for segment in ("130", "145", "162", "165", "167", "170", "171", "176", "192", "199"):
        assert segment in segments
    for not_mobile in ("140", "154", "160", "174", "179"):
        assert not_mobile not in segments
    assert sample_number("176").startswith("176") and len(sample_number("176")) == 11


def test_code_is_read_from_the_message_text() -> None:
    text = "【示范省政务服务网】您正在注册个人用户，验证码为：482913，5分钟内有效。"
    assert extract_code(text) == "482913"
    assert extract_code("您的校验码 5821，请勿泄露") == "5821"
    assert extract_code("欢迎使用示范省政务服务网") is None


async def test_a_code_already_in_the_inbox_is_never_taken_for_a_new_one() -> None:
    inbox = MemorySmsInbox()
    old = inbox.deliver(TEST_PHONE, "验证码：111111")
    since = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
    missing = await wait_for_code(
        inbox, TEST_PHONE, since=since, ignore_ids={old.id}, limit_s=0.05, poll_s=0.01
    )
    assert missing is None
    inbox.deliver(TEST_PHONE, "验证码：222222")
    found = await wait_for_code(
        inbox, TEST_PHONE, since=since, ignore_ids={old.id}, limit_s=1, poll_s=0.01
    )
    assert found is not None and found.code == "222222"


async def test_site_answering_503_everywhere_is_an_outage_not_a_missing_entry(
    make_services: ServicesFactory, site: RegistrationPortal
) -> None:
    site.site.update({"site_down": True})
    report = await run(make_services, site)
    assert report.outcome is Outcome.FAIL
    assert [f.code for f in report.result.findings] == ["site.http_error"]
