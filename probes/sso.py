"""统一身份认证: sign in once at the identity portal, then open each department system.

Journey: open the identity portal's login page (the target's page ``login``), sign in
with the test account, then open each configured system's entry page in the same
browser context. A system passes when it shows the signed-in user without asking to sign
in or register again. One click on its 登录 link is allowed: a connected system may need
it to start the ticket exchange, which then completes without any typing.

Findings read like seed 001: "使用统一身份认证账号登录后，进入“…”仍需再次登录". A locked
test account or a CAPTCHA on the login form makes the run inconclusive, never a failure.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, replace
from enum import StrEnum
from urllib.parse import urljoin

from playwright.async_api import Page, Response
from pydantic import Field, SecretStr

from config.catalog import Severity
from core.results import Finding, Outcome, ProbeResult
from probes import locate
from probes.base import CheckParams, Probe, ProbeContext, ProbeParams, http_error_finding
from probes.captcha import apply_captcha_bypass, with_bypass_query
from probes.errors import Inconclusive
from probes.registration_form import captcha_kind
from probes.registration_params import CaptchaBypass
from probes.sso_pages import (
    asks_to_register,
    click_through,
    forget_typed_secrets,
    greets_someone,
    login_link,
    notice_text,
    password_box,
    shows_user,
    submit_login,
    username_box,
    verification_code_box,
)

LOCKED_MARKERS = ("锁定", "冻结", "次数过多", "次数已达上限", "限制登录", "暂停登录")


class DepartmentSystemParams(ProbeParams):
    """One department system to open after signing in."""

    name: str = Field(min_length=1)  # 省市场监督管理局业务系统, as findings name it
    url: str = Field(pattern=r"^https?://")  # the page a signed-in citizen opens
    user_selector: str | None = None  # CSS of the element that shows the signed-in user
    user_text: str | None = None  # how this system shows the user (e.g. masked 李*红)


class SsoParams(CheckParams):
    FINDING_CODES = (
        "sso.login_failed",
        "sso.relogin_required",
        "sso.reregistration_required",
        "sso.system_error",
    )

    username: str = Field(min_length=1)
    password: SecretStr  # from ${SSO_PASSWORD}; never logged, typed with the trace paused
    # How systems show the signed-in user; default: the username, else any greeting of the
    # header (欢迎您，张三 | 退出) read by ``probes.readers.read_greeting``.
    user_text: str | None = None
    systems: list[DepartmentSystemParams] = Field(min_length=1)
    captcha_bypass: CaptchaBypass | None = None  # as registration's: header, cookie or query
    locked_markers: list[str] = Field(default_factory=lambda: list(LOCKED_MARKERS))
    error_markers: list[str] = Field(default_factory=lambda: list(locate.ERROR_MARKERS))


class SystemState(StrEnum):
    SIGNED_IN = "signed-in"  # shows the user: single sign-on works
    LOGIN_FORM = "login-form"  # asks for an account and password again
    LOGIN_LINK = "login-link"  # still offers 登录 after following it once
    UNAUTHORISED = "unauthorised"  # answers HTTP 401: the sign-in was not accepted
    REGISTRATION = "registration"  # asks to register a local account
    HTTP_ERROR = "http-error"
    ERROR_PAGE = "error-page"
    UNKNOWN = "unknown"  # neither the user nor a prompt: we cannot tell


@dataclass(frozen=True)
class _Visit:
    system: DepartmentSystemParams
    state: SystemState
    url: str  # where the journey through this system ended
    status: int | None = None
    marker: str = ""
    seconds: float = 0.0


class SsoProbe(Probe):
    kind = "sso"
    Params = SsoParams

    async def run(self, ctx: ProbeContext) -> ProbeResult:
        params = ctx.params(SsoParams)
        page = await ctx.new_page()
        started = time.monotonic()
        refused = await self._sign_in(ctx, page, params)
        if refused is not None:
            return refused
        login_seconds = time.monotonic() - started
        visits = [
            await self._visit(ctx, page, index, system, params)
            for index, system in enumerate(params.systems, start=1)
        ]
        return _judge(visits, params, login_seconds)

    async def _sign_in(
        self, ctx: ProbeContext, page: Page, params: SsoParams
    ) -> ProbeResult | None:
        """Sign in at the identity portal; a failing result when the portal refuses."""
        portal = ctx.target.name
        login_url = ctx.url("login", "/login")
        bypass = params.captcha_bypass
        await apply_captcha_bypass(page.context, ctx.target.base_url, bypass)
        response = await ctx.goto(page, with_bypass_query(login_url, bypass))
        if response is not None and response.status >= 400:
            return _failed(http_error_finding(f"{portal}登录页", login_url, response.status))
        user_box = await username_box(page, ctx.selector("username_input"))
        secret_box = await password_box(page, ctx.selector("password_input"))
        if user_box is None or secret_box is None:
            await ctx.evidence.capture(page, "login-form-missing")
            if not (ctx.selector("username_input") and ctx.selector("password_input")):
                raise Inconclusive(
                    f"未能在{portal}登录页（{login_url}）识别账号或密码输入框；"
                    "请配置巡检对象 selectors.username_input / password_input"
                )
            return _failed(_login_failed(f"{portal}登录页（{login_url}）未找到账号或密码输入框"))
        if await verification_code_box(page, ctx.selector("captcha_input")) is not None:
            raise Inconclusive(f"{portal}登录页要求输入验证码，巡检测试账号无法自动登录")
        if await captcha_kind(page, None) is not None:
            await ctx.evidence.capture(page, "login-captcha")
            help_ = (
                "请配置 captcha_bypass（测试环境的验证码豁免）"
                if bypass is None
                else ("已配置的 captcha_bypass 未被接受")
            )
            raise Inconclusive(f"{portal}登录页要求完成滑块或图形验证码，无法自动登录；{help_}")

        account = f"使用巡检测试账号“{params.username}”登录{portal}"
        await user_box.fill(params.username)
        async with ctx.secret_typing():
            try:
                await secret_box.fill(params.password.get_secret_value())
                status = await submit_login(
                    page, secret_box, ctx.selector("login_submit"), ctx.nav_timeout_ms
                )
            finally:
                # The trace resumes after this block: leave no typed password to snapshot.
                await forget_typed_secrets(page)

        message = await notice_text(page, ctx.selector("login_error"))
        if message and any(marker in message for marker in params.locked_markers):
            raise Inconclusive(f"巡检测试账号“{params.username}”已被锁定，无法判定：{message}")
        if status is not None and status >= 400:
            await ctx.evidence.capture(page, f"login-http-{status}")
            return _failed(_login_failed(f"{account}时返回 HTTP {status}"))
        marker = await locate.looks_like_error_page(page, params.error_markers)
        if marker is not None:
            await ctx.evidence.capture(page, "login-error-page")
            return _failed(_login_failed(f"{account}后跳转至错误页面（{marker}）"))
        if await password_box(page, ctx.selector("password_input")) is not None:
            await ctx.evidence.capture(page, "login-refused")
            if not message:
                # No word from the portal: a slider or a step this probe does not know.
                raise Inconclusive(
                    f"{account}后仍停留在登录页面，页面未提示原因（可能需要滑块验证等）；"
                    "请配置巡检对象 selectors.login_error 或免验证码通道"
                )
            return _failed(_login_failed(f"{account}失败，页面提示“{message}”"))
        return None

    async def _visit(
        self,
        ctx: ProbeContext,
        page: Page,
        index: int,
        system: DepartmentSystemParams,
        params: SsoParams,
    ) -> _Visit:
        """Open one system as the signed-in citizen and say what it showed."""
        user_text = system.user_text or params.user_text or params.username
        started = time.monotonic()
        response = await ctx.goto(page, system.url)
        visit = await self._read(page, system, user_text, params, _status(response))
        if visit.state is SystemState.LOGIN_LINK:
            link = await login_link(page)
            if link is not None:
                href = await link.get_attribute("href")
                if href and not href.strip().lower().startswith(("javascript:", "#")):
                    response = await ctx.goto(page, urljoin(page.url, href.strip()))
                    status = _status(response)
                else:
                    status = await click_through(page, link, ctx.nav_timeout_ms)
                visit = await self._read(page, system, user_text, params, status)
        if visit.state is not SystemState.SIGNED_IN:
            await ctx.evidence.capture(page, f"system{index}-{visit.state.value}")
        return replace(visit, seconds=time.monotonic() - started)

    async def _read(
        self,
        page: Page,
        system: DepartmentSystemParams,
        user_text: str,
        params: SsoParams,
        status: int | None,
    ) -> _Visit:
        if status == 401:
            return _Visit(system, SystemState.UNAUTHORISED, page.url, status)
        if status is not None and status >= 400:
            return _Visit(system, SystemState.HTTP_ERROR, page.url, status)
        marker = await locate.looks_like_error_page(page, params.error_markers)
        if marker is not None:
            return _Visit(system, SystemState.ERROR_PAGE, page.url, marker=marker)
        # A registration form greets the user and has password fields: check it first.
        if await asks_to_register(page):
            return _Visit(system, SystemState.REGISTRATION, page.url)
        if await password_box(page, None) is not None:
            return _Visit(system, SystemState.LOGIN_FORM, page.url)
        if await shows_user(page, system.user_selector, user_text):
            return _Visit(system, SystemState.SIGNED_IN, page.url)
        configured = system.user_text or params.user_text or system.user_selector
        if not configured and await greets_someone(page):
            # No name configured: the header's greeting (欢迎您，张三 / 退出) says signed in.
            return _Visit(system, SystemState.SIGNED_IN, page.url)
        if await login_link(page) is not None:
            return _Visit(system, SystemState.LOGIN_LINK, page.url)
        return _Visit(system, SystemState.UNKNOWN, page.url)


def _status(response: Response | None) -> int | None:
    return response.status if response is not None else None


def _judge(visits: list[_Visit], params: SsoParams, login_seconds: float) -> ProbeResult:
    def having(*states: SystemState) -> list[_Visit]:
        return [visit for visit in visits if visit.state in states]

    findings: list[Finding] = []
    relogin = having(SystemState.LOGIN_FORM, SystemState.LOGIN_LINK, SystemState.UNAUTHORISED)
    if relogin:
        findings.append(
            Finding(
                code="sso.relogin_required",
                title="部门办事系统未实现单点登录",
                detail=f"使用统一身份认证账号登录后，进入{_quoted(relogin)}仍需再次登录："
                + "；".join(_how_it_asked(visit) for visit in relogin),
                severity=Severity.MAJOR,
                subjects=_names(relogin),
                data=_where(relogin),
            )
        )
    registering = having(SystemState.REGISTRATION)
    if registering:
        findings.append(
            Finding(
                code="sso.reregistration_required",
                title="部门办事系统需重复注册",
                detail=f"使用统一身份认证账号登录后，进入{_quoted(registering)}要求重新注册本系统账号"
                f"（{'；'.join(f'“{v.system.name}”注册页面 {v.url}' for v in registering)}）",
                severity=Severity.MAJOR,
                subjects=_names(registering),
                data=_where(registering),
            )
        )
    broken = having(SystemState.HTTP_ERROR)
    if broken:
        findings.append(
            Finding(
                code="site.http_error",
                title="网站无法正常访问",
                detail="；".join(
                    f"打开“{v.system.name}”（{v.system.url}）返回 HTTP {v.status}" for v in broken
                ),
                severity=Severity.CRITICAL,
                subjects=_names(broken),
                data={v.system.name: {"url": v.url, "status": v.status} for v in broken},
            )
        )
    erring = having(SystemState.ERROR_PAGE)
    if erring:
        findings.append(
            Finding(
                code="sso.system_error",
                title="部门办事系统打开出错",
                detail=f"使用统一身份认证账号登录后，进入{_quoted(erring)}跳转至错误页面"
                f"（{'；'.join(f'{v.marker}，{v.url}' for v in erring)}）",
                severity=Severity.MAJOR,
                subjects=_names(erring),
                data=_where(erring),
            )
        )
    metrics = {
        "systems": len(visits),
        "signed_in": len(having(SystemState.SIGNED_IN)),
        "login_seconds": round(login_seconds, 3),
        "system_seconds": {v.system.name: round(v.seconds, 3) for v in visits},
        "states": {v.system.name: v.state.value for v in visits},
    }
    if findings:
        return ProbeResult(
            Outcome.FAIL, tuple(findings), summary=findings[0].title, metrics=metrics
        )
    unknown = having(SystemState.UNKNOWN)
    if unknown:
        shown = params.user_text or params.username
        raise Inconclusive(
            f"进入{_quoted(unknown)}后既未显示已登录用户（“{shown}”），也未要求登录或注册，"
            "无法判定；请核对该系统的 user_text 或 user_selector 配置"
        )
    return ProbeResult(
        Outcome.PASS,
        summary=f"登录一次后进入 {len(visits)} 个部门业务系统均无需再次登录",
        metrics=metrics,
    )


def _how_it_asked(visit: _Visit) -> str:
    if visit.state is SystemState.LOGIN_FORM:
        return f"“{visit.system.name}”跳转至要求输入账号密码的登录页面（{visit.url}）"
    if visit.state is SystemState.UNAUTHORISED:
        return f"“{visit.system.name}”未接受统一身份认证登录，返回 HTTP 401（{visit.url}）"
    return f"“{visit.system.name}”点击“登录”后仍未显示已登录用户（{visit.url}）"


def _login_failed(detail: str) -> Finding:
    return Finding(
        code="sso.login_failed",
        title="统一身份认证登录失败",
        detail=detail,
        severity=Severity.CRITICAL,
    )


def _failed(finding: Finding) -> ProbeResult:
    return ProbeResult(Outcome.FAIL, (finding,), summary=finding.title)


def _names(visits: Iterable[_Visit]) -> tuple[str, ...]:
    return tuple(visit.system.name for visit in visits)


def _quoted(visits: Iterable[_Visit]) -> str:
    return "、".join(f"“{name}”" for name in _names(visits))


def _where(visits: Iterable[_Visit]) -> dict[str, dict[str, str]]:
    return {v.system.name: {"entry": v.system.url, "ended_at": v.url} for v in visits}
