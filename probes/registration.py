"""在线注册: can a citizen register on the portal, whatever mobile segment their number has?

Journey, for the personal (个人) and the legal-person (法人) form: open the home page,
follow its 注册 link to the form; type a number of every mainland mobile segment into the
phone field and read the form's verdict (no SMS is requested for these, see
``probes.registration_form``); click 获取验证码 once for one of the operator's test SIMs;
when an SMS inbox is configured, wait for the code on the test SIM; optionally complete
the registration, log in and cancel the test account again.

A server that refuses a segment only when the code is requested is met by rotating the
code request over ``test_phones`` (SIMs of several segments): the position rides in the
run's state, so over successive runs every configured segment gets a real request. A
refusal worded as a rejection of the number is that segment's finding; one that only says
"not now" (频繁, 稍后再试, 系统繁忙) is inconclusive. Segments without a test SIM are judged
by the form's own validation and its blur-time checks only; no SMS goes to a stranger.

A CAPTCHA before 获取验证码 needs a bypass token that the test environment honours
(``captcha_bypass``); without one the run is inconclusive, never a failure.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import time
from collections.abc import AsyncIterator
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from playwright.async_api import BrowserContext, Locator, Page, Route

from core.results import Outcome, ProbeResult
from probes import locate
from probes.base import Probe, ProbeContext, http_error_finding
from probes.readers import is_busy_refusal
from probes.registration_account import register_and_cancel
from probes.registration_form import (
    ENTRY_WORDS,
    FORM_WORDS,
    PageActivity,
    SegmentVerdict,
    captcha_kind,
    code_button,
    judge_number,
    link_to,
    phone_field,
    read_messages,
    request_code,
)
from probes.registration_params import CaptchaBypass, RegistrationForm, RegistrationParams
from probes.registration_verdict import FORM_LABELS, FormReport, judge
from probes.segments import mainland_mobile_segments, masked, sample_number
from probes.sms import (
    HttpSmsInbox,
    SmsInbox,
    SmsInboxUnavailable,
    message_ids,
    wait_for_code,
)

CAPTCHA_NAMES = {"graphic": "图形验证码", "slider": "滑块验证"}
# How far back the inbox is read before a code request: the gateway stamps messages with
# its own clock, so a little slack; older messages are remembered and never taken as new.
INBOX_LOOKBACK = dt.timedelta(minutes=2)
CLOSE_TIMEOUT_S = 10.0
ROTATION = "registration_test_phone"  # key in the run's state: index of the next test SIM


class RegistrationProbe(Probe):
    kind = "registration"
    rerun_on_failure = False  # 获取验证码 twice in a row meets the portal's resend wait
    Params = RegistrationParams

    async def run(self, ctx: ProbeContext) -> ProbeResult:
        params = ctx.params(RegistrationParams)
        page = await ctx.new_page()
        home = ctx.url("home", "/")
        response = await ctx.goto(page, home)
        if response is not None and response.status >= 400:
            finding = http_error_finding("首页", home, response.status)
            return ProbeResult(Outcome.FAIL, (finding,), summary=finding.title)
        await page.close()
        inbox = None
        if params.sms_inbox is not None:
            inbox = HttpSmsInbox(
                params.sms_inbox.url,
                params.sms_inbox.token,
                shape=params.sms_inbox.fields.shape(),
            )
        reports = []
        position = _rotation(ctx.state, len(params.phones))
        test_phone = params.phones[position] if params.phones else None
        async with _journey_context(ctx, params) as browser:
            await _apply_bypass(ctx, browser, params.captcha_bypass)
            for form in params.forms:
                report = FormReport(
                    form.kind,
                    phone_shown=masked(test_phone or ""),
                    code_segment=(test_phone or "")[:3],
                )
                await self._check_form(ctx, browser, params, form, inbox, report, test_phone)
                reports.append(report)
        result = judge(reports)
        if not params.phones:
            return result
        # A refused SIM stays in turn until it passes, so the task opens after repeated
        # runs and its verification asks the same segment again.
        refused = any(r.code_rejected is not None for r in reports)
        following = position if refused else (position + 1) % len(params.phones)
        return dataclasses.replace(result, state={**ctx.state, ROTATION: following})

    async def _check_form(
        self,
        ctx: ProbeContext,
        browser: BrowserContext,
        params: RegistrationParams,
        form: RegistrationForm,
        inbox: SmsInbox | None,
        report: FormReport,
        test_phone: str | None,
    ) -> None:
        page = await browser.new_page()
        page.set_default_timeout(ctx.nav_timeout_ms)
        page.set_default_navigation_timeout(ctx.nav_timeout_ms)
        activity = PageActivity(page)
        try:
            report.unavailable = await _open_form(ctx, page, form, params)
        except _Unrecognised as exc:
            report.cannot_judge.append(str(exc))
            await ctx.evidence.capture(page, f"{form.kind}-unrecognised")
            return
        report.url = _shown(page.url, params.captcha_bypass)
        if report.unavailable:
            await ctx.evidence.capture(page, f"{form.kind}-unavailable")
            return
        phone = await phone_field(page, ctx.selector("phone_input"))
        if phone is None:
            await ctx.evidence.capture(page, f"{form.kind}-no-phone-field")
            if ctx.selector("phone_input"):
                report.unavailable = f"注册页面（{report.url}）未找到手机号码输入框"
            else:
                report.cannot_judge.append(
                    f"未能在注册页面（{report.url}）识别手机号码输入框；"
                    "请配置巡检对象 selectors.phone_input"
                )
            return
        baseline = (await read_messages(phone)).lines
        # The sweep is a hundred actions: left out of the trace, which would grow by
        # megabytes; a rejected number is kept below as a screenshot instead.
        async with _untraced(ctx):
            for segment in params.segments or mainland_mobile_segments():
                number = sample_number(segment)
                verdict = await judge_number(
                    page,
                    activity,
                    phone,
                    segment,
                    number,
                    baseline,
                    params.settle_ms,
                    params.phone_rejection_pattern,
                )
                report.verdicts.append(verdict)
        if report.rejected:
            # Show the first rejected number with its message, as a citizen would see it.
            first = report.rejected[0]
            await judge_number(
                page,
                activity,
                phone,
                first.segment,
                first.number,
                baseline,
                params.settle_ms,
                params.phone_rejection_pattern,
            )
            await ctx.evidence.capture(page, f"{form.kind}-segment-{first.segment}-rejected")
        if test_phone is not None:
            await self._request_code(ctx, params, page, activity, phone, inbox, report, test_phone)

    async def _request_code(
        self,
        ctx: ProbeContext,
        params: RegistrationParams,
        page: Page,
        activity: PageActivity,
        phone: Locator,
        inbox: SmsInbox | None,
        report: FormReport,
        test_phone: str,
    ) -> None:
        scope = phone.locator("xpath=ancestor::form[1]")
        captcha = await captcha_kind(
            page, scope if await scope.count() else None, ctx.selector("captcha")
        )
        if captcha is not None:
            report.cannot_judge.append(_captcha_doubt(captcha, params.captcha_bypass))
            await ctx.evidence.capture(page, f"{report.kind}-captcha")
            return
        button = await code_button(page, ctx.selector("sms_code_button"))
        if button is None:
            await ctx.evidence.capture(page, f"{report.kind}-no-code-button")
            if ctx.selector("sms_code_button"):
                report.code_failure = "注册页面上找不到“获取验证码”按钮"
            else:
                report.cannot_judge.append(
                    "未能在注册页面识别“获取验证码”按钮；请配置巡检对象 selectors.sms_code_button"
                )
            return
        since = dt.datetime.now(dt.UTC) - INBOX_LOOKBACK
        try:
            earlier = await message_ids(inbox, test_phone, since) if inbox else set()
        except SmsInboxUnavailable as exc:
            report.cannot_judge.append(f"{exc}，未请求验证码")
            return
        clicked = time.monotonic()
        answer = await request_code(
            page,
            activity,
            phone,
            button,
            test_phone,
            params.code_answer_s,
            params.phone_rejection_pattern,
        )
        if answer.captcha:
            report.cannot_judge.append(_captcha_doubt("", params.captcha_bypass, answer.message))
            await ctx.evidence.capture(page, f"{report.kind}-captcha-after-click")
            return
        if answer.number_refused:
            report.code_rejected = SegmentVerdict(
                report.code_segment, test_phone, False, answer.number_refused
            )
            await ctx.evidence.capture(page, f"{report.kind}-code-number-refused")
            return
        if not answer.sent and answer.shown and is_busy_refusal(answer.message):
            report.cannot_judge.append(
                f"测试手机号{report.phone_shown}点击“获取验证码”后提示“{answer.message}”，"
                f"未说明号码本身有误，无法判定{report.code_segment}号段能否获取验证码"
                "（可能是巡检请求过于频繁；可放宽该巡检项的 schedule）"
            )
            await ctx.evidence.capture(page, f"{report.kind}-code-request-busy")
            return
        if not answer.sent:
            said = f"提示“{answer.message}”" if answer.shown else answer.message
            report.code_failure = f"测试手机号{report.phone_shown}点击“获取验证码”后{said}"
            await ctx.evidence.capture(page, f"{report.kind}-code-request-failed")
            return
        report.code_message = answer.message
        if inbox is None or params.sms_inbox is None:
            return
        try:
            received = await wait_for_code(
                inbox,
                test_phone,
                since=since,
                ignore_ids=earlier,
                limit_s=params.sms_inbox.limit_s,
                poll_s=params.sms_inbox.poll_s,
                pattern=params.sms_inbox.code_pattern,
                requested_at=clicked,
            )
        except SmsInboxUnavailable as exc:
            report.cannot_judge.append(str(exc))
            return
        if received is None:
            report.sms_limit_s = params.sms_inbox.limit_s
            await ctx.evidence.capture(page, f"{report.kind}-sms-not-received")
            return
        report.sms_seconds = received.seconds
        if params.complete is not None:
            await register_and_cancel(
                ctx,
                page,
                activity,
                phone,
                test_phone,
                received.code,
                params.complete,
                report,
            )


async def _open_form(
    ctx: ProbeContext, page: Page, form: RegistrationForm, params: RegistrationParams
) -> str:
    """Reach the form as a citizen does; the reason it cannot be reached, or ``""``."""
    label = FORM_LABELS[form.kind]
    configured = form.page or ctx.target.pages.get(f"register_{form.kind}")
    if configured:
        return await _arrive(ctx, page, ctx.absolute(configured), label, params)
    home = ctx.url("home", "/")
    await ctx.goto(page, home)
    entry = await link_to(page, ENTRY_WORDS, ctx.selector("register_link"))
    if entry is None:
        if ctx.selector("register_link"):
            return f"首页（{home}）未找到“注册”入口"
        raise _Unrecognised(
            f"未能在首页（{home}）识别“注册”入口；"
            f"请配置巡检对象 pages.register_{form.kind} 或 selectors.register_link"
        )
    problem = await _follow(ctx, page, entry, "注册页面", params)
    if problem:
        return problem
    chooser = await link_to(page, FORM_WORDS[form.kind], ctx.selector(f"register_{form.kind}_link"))
    if chooser is not None:
        return await _follow(ctx, page, chooser, f"{label}页面", params)
    if form.kind == "personal" and await phone_field(page, ctx.selector("phone_input")):
        return await _arrive(ctx, page, page.url, label, params)  # one form, for citizens
    shown = _shown(page.url, params.captcha_bypass)
    if ctx.selector(f"register_{form.kind}_link"):
        return f"注册页面（{shown}）未找到“{label}”入口"
    raise _Unrecognised(
        f"未能在注册页面（{shown}）识别“{label}”入口；请配置巡检对象 "
        f"pages.register_{form.kind} 或 selectors.register_{form.kind}_link"
    )


class _Unrecognised(Exception):
    """A page whose layout this probe does not know: the form is not judged."""


async def _follow(
    ctx: ProbeContext, page: Page, link: Locator, what: str, params: RegistrationParams
) -> str:
    href = await link.get_attribute("href")
    if href and not href.strip().lower().startswith(("javascript:", "#")):
        return await _arrive(ctx, page, urljoin(page.url, href.strip()), what, params)
    await link.click()
    await page.wait_for_load_state("load")
    return await _problem_shown(page, what, params)


async def _arrive(
    ctx: ProbeContext, page: Page, url: str, what: str, params: RegistrationParams
) -> str:
    bypass = params.captcha_bypass
    if bypass is not None and bypass.query:
        url = _with_query(url, bypass.query, bypass.token.get_secret_value())
    response = await ctx.goto(page, url)
    if response is not None and response.status >= 400:
        return f"打开{what}（{_shown(url, bypass)}）返回 HTTP {response.status}"
    return await _problem_shown(page, what, params)


async def _problem_shown(page: Page, what: str, params: RegistrationParams) -> str:
    marker = await locate.looks_like_error_page(page, params.error_markers)
    shown = _shown(page.url, params.captcha_bypass)
    return f"打开{what}（{shown}）显示错误页面（{marker}）" if marker else ""


@contextlib.asynccontextmanager
async def _journey_context(
    ctx: ProbeContext, params: RegistrationParams
) -> AsyncIterator[BrowserContext]:
    """The browser context the forms are walked in.

    A run that carries a secret on the wire (the password in the registration posts, a
    bypass token on every request) walks in a context of its own, outside the run's
    trace: a trace records request headers and bodies, even those sent while it is
    paused. Screenshots and HTML are kept as evidence either way.
    """
    assert ctx.browser is not None
    browser = ctx.browser.browser
    if (params.complete is None and params.captcha_bypass is None) or browser is None:
        yield ctx.browser
        return
    untraced = await browser.new_context()
    try:
        yield untraced
    finally:
        with contextlib.suppress(Exception):  # closing never masks the run's result
            await asyncio.wait_for(untraced.close(), CLOSE_TIMEOUT_S)


async def _apply_bypass(
    ctx: ProbeContext, browser: BrowserContext, bypass: CaptchaBypass | None
) -> None:
    """Make every request to the portal carry the bypass token (and nothing else get it)."""
    if bypass is None:
        return
    token = bypass.token.get_secret_value()
    base = ctx.target.base_url
    if bypass.cookie:
        await browser.add_cookies([{"name": bypass.cookie, "value": token, "url": base}])
    if bypass.header:
        name = bypass.header
        parts = urlsplit(base)

        async def with_header(route: Route) -> None:
            headers = {**await route.request.all_headers(), name.lower(): token}
            await route.continue_(headers=headers)

        await browser.route(f"{parts.scheme}://{parts.netloc}/**", with_header)


@contextlib.asynccontextmanager
async def _untraced(ctx: ProbeContext) -> AsyncIterator[None]:
    """Leave what happens inside out of the run's trace."""
    if ctx.pause_trace is None:
        yield
        return
    async with ctx.pause_trace():
        yield


def _rotation(state: dict[str, object], count: int) -> int:
    """This run's place in the test SIMs' rotation, from the previous run's state."""
    position = state.get(ROTATION)
    if count == 0 or not isinstance(position, int) or isinstance(position, bool):
        return 0
    return position % count


def _captcha_doubt(kind: str, bypass: CaptchaBypass | None, shown: str = "") -> str:
    name = CAPTCHA_NAMES.get(kind, "人机验证")
    said = f"（页面提示“{shown}”）" if shown else ""
    if bypass is None:
        return f"获取验证码前需完成{name}{said}，未配置测试环境绕过令牌（captcha_bypass），无法判定"
    return f"已配置测试环境绕过令牌，但页面仍要求完成{name}{said}，请确认测试环境已启用绕过"


def _with_query(url: str, name: str, value: str) -> str:
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != name]
    return urlunsplit(parts._replace(query=urlencode([*query, (name, value)])))


def _shown(url: str, bypass: CaptchaBypass | None) -> str:
    """The URL as findings print it: the bypass token never appears."""
    if bypass is None or not bypass.query:
        return url
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != bypass.query]
    return urlunsplit(parts._replace(query=urlencode(query)))
