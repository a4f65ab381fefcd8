"""示范省统一身份认证平台: the identity portal of the single sign-on world (CAS-like).

    department system ──302──► /login?service=<system URL>
        identity portal: no session cookie → login form; a session (CASTGC) → a one-time
        ticket, 302 back to <system URL>?ticket=ST-…
    department system ──GET /serviceValidate?ticket&service──► identity portal (back channel,
        a real server-to-server HTTP call) → the user, or a failure
    department system sets its own session cookie on its own origin

Tickets are single use, bound to their service URL and short-lived. A service URL must
belong to a system registered with the portal, as a real CAS server checks its registry.
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit
from xml.sax.saxutils import escape

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from sandbox.layout import NavLink, SiteInfo, render
from sandbox.registration_state import BYPASS_TOKEN
from sandbox.site import create_site_app
from sandbox.sso_faults import IdentityFaults

SESSION_COOKIE = "CASTGC"
BYPASS_HEADER = "X-Captcha-Bypass"  # the same test bypass as the registration pages
BYPASS_NAME = "captcha_bypass"
TICKET_LIFETIME_S = 300.0
CAS_NAMESPACE = "http://www.yale.edu/tp/cas"

IDENTITY_SITE = SiteInfo(
    name="示范省统一身份认证平台",
    name_en="Shifan Provincial Unified Identity Authentication Platform",
    sponsor="示范省人民政府办公厅",
    operator="示范省政务服务管理局",
    icp="示ICP备05001234号-3",
    police_record="示公网安备53010202000125号",
    site_code="5300000043",
    phone="0871-63612399",
    nav=(NavLink("首页", "/"), NavLink("用户登录", "/login")),
)


@dataclass(frozen=True, slots=True)
class IdentityAccount:
    """A real-name (实名认证) account of the identity portal."""

    username: str
    password: str
    name: str  # the real name systems show once signed in
    id_number: str  # shown masked, as portals do


DEFAULT_ACCOUNT = IdentityAccount("sf_xunjian01", "Xj#2026@sso!", "李晓红", "530102********2468")


@dataclass(frozen=True, slots=True)
class _Ticket:
    username: str
    service: str
    expires: float


class IdentityDirectory:
    """Accounts, sign-in sessions, one-time tickets and the systems allowed to ask."""

    def __init__(self, accounts: tuple[IdentityAccount, ...] = (DEFAULT_ACCOUNT,)) -> None:
        self._accounts = {account.username: account for account in accounts}
        self._sessions: dict[str, str] = {}
        self._tickets: dict[str, _Ticket] = {}
        self._systems: dict[str, str] = {}  # base URL → system name
        self._lock = threading.Lock()

    def account(self, username: str) -> IdentityAccount | None:
        return self._accounts.get(username)

    def register_system(self, name: str, base_url: str) -> None:
        """Allow the system at `base_url` to receive tickets."""
        with self._lock:
            self._systems[base_url.rstrip("/")] = name

    def systems(self) -> list[tuple[str, str]]:
        """(name, base URL) of the connected systems, in registration order."""
        with self._lock:
            return [(name, url) for url, name in self._systems.items()]

    def system_for(self, service: str) -> str | None:
        """The name of the registered system `service` belongs to, if any."""
        parts = urlsplit(service)
        origin = f"{parts.scheme}://{parts.netloc}"
        with self._lock:
            return self._systems.get(origin)

    def open_session(self, account: IdentityAccount) -> str:
        token = "TGT-" + secrets.token_urlsafe(24)
        with self._lock:
            self._sessions[token] = account.username
        return token

    def session_account(self, token: str | None) -> IdentityAccount | None:
        with self._lock:
            username = self._sessions.get(token or "")
        return self.account(username) if username else None

    def close_session(self, token: str | None) -> None:
        with self._lock:
            self._sessions.pop(token or "", None)

    def issue_ticket(self, account: IdentityAccount, service: str) -> str:
        ticket = "ST-" + secrets.token_urlsafe(18)
        with self._lock:
            self._tickets[ticket] = _Ticket(
                account.username, service, time.monotonic() + TICKET_LIFETIME_S
            )
        return ticket

    def redeem_ticket(self, ticket: str, service: str) -> IdentityAccount | None:
        """The ticket's account when it is valid for `service`; a ticket works once."""
        with self._lock:
            found = self._tickets.pop(ticket, None)
        if found is None or found.service != service or found.expires < time.monotonic():
            return None
        return self.account(found.username)


def with_ticket(service: str, ticket: str) -> str:
    """`service` with the ticket appended as CAS does."""
    return f"{service}{'&' if '?' in service else '?'}ticket={ticket}"


def identity_routes(faults: IdentityFaults, directory: IdentityDirectory) -> list[BaseRoute]:
    """The pages of the identity portal and its ticket validation endpoint."""

    def page(
        request: Request, template: str, status_code: int = 200, **context: object
    ) -> Response:
        return render(
            request,
            f"idp_{template}.html",
            dict(context),
            site=IDENTITY_SITE,
            status_code=status_code,
        )

    def slider_shown(request: Request) -> bool:
        if not faults.slider_captcha:
            return False
        bypass = request.headers.get(BYPASS_HEADER) or request.cookies.get(BYPASS_NAME)
        return bypass != BYPASS_TOKEN

    def said(classic: str, spa: str) -> str:
        return spa if faults.spa_wording else classic

    def login_form(request: Request, service: str, error: str = "", username: str = "") -> Response:
        return page(
            request,
            "login",
            service=service,
            service_name=directory.system_for(service) or "",
            execution=secrets.token_hex(8),
            error=error,
            username=username,
            unlabelled=faults.login_form_unlabelled,
            slider=slider_shown(request),
            spa=faults.spa_wording,
        )

    async def home(request: Request) -> Response:
        account = directory.session_account(request.cookies.get(SESSION_COOKIE))
        if account is None:
            return RedirectResponse("/login", status_code=302)
        return page(request, "home", account=account, systems=directory.systems())

    async def show_login(request: Request) -> Response:
        service = request.query_params.get("service", "")
        if service and directory.system_for(service) is None:
            return page(
                request,
                "message",
                status_code=403,
                heading="未授权的应用",
                message="该应用未接入统一身份认证平台，无法使用统一身份认证账号登录。",
            )
        account = directory.session_account(request.cookies.get(SESSION_COOKIE))
        if account is not None:
            if service:
                ticket = directory.issue_ticket(account, service)
                return RedirectResponse(with_ticket(service, ticket), status_code=302)
            return RedirectResponse("/", status_code=302)
        return login_form(request, service)

    async def submit_login(request: Request) -> Response:
        form = await request.form()
        username = str(form.get("username", "")).strip()
        password = str(form.get("password", ""))
        service = str(form.get("service", ""))
        if faults.login_error:
            return page(
                request,
                "message",
                status_code=500,
                heading="系统繁忙",
                message="登录服务暂时不可用，请稍后再试。",
            )
        if slider_shown(request) and form.get("slider_ok") != "1":
            unsolved = said("请先完成滑块验证", "请完成安全验证")
            return login_form(request, service, unsolved, username)
        account = directory.account(username)
        if account is not None and faults.account_locked:
            error = said(
                "该账号因连续输错密码次数过多已被锁定，请30分钟后再试，或通过“忘记密码”重置。",
                "账户已冻结，请24小时后重试或联系客服解冻",
            )
            return login_form(request, service, error, username)
        if account is None or password != account.password or faults.reject_valid_account:
            wrong = said("用户名或密码错误，请重新输入。", "账号或密码不正确")
            return login_form(request, service, wrong, username)
        token = directory.open_session(account)
        if service and directory.system_for(service) is not None:
            target = with_ticket(service, directory.issue_ticket(account, service))
        else:
            target = "/"
        response = RedirectResponse(target, status_code=302)
        response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="lax", path="/")
        return response

    async def logout(request: Request) -> Response:
        directory.close_session(request.cookies.get(SESSION_COOKIE))
        response = RedirectResponse("/login", status_code=302)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    async def service_validate(request: Request) -> Response:
        ticket = request.query_params.get("ticket", "")
        service = request.query_params.get("service", "")
        account = directory.redeem_ticket(ticket, service)
        return Response(_validation_xml(ticket, account), media_type="application/xml")

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    return [
        Route("/", home, methods=["GET"]),
        Route("/login", show_login, methods=["GET"]),
        Route("/login", submit_login, methods=["POST"]),
        Route("/logout", logout, methods=["GET"]),
        Route("/serviceValidate", service_validate, methods=["GET"]),
        Route("/healthz", healthz, methods=["GET"]),
    ]


def _validation_xml(ticket: str, account: IdentityAccount | None) -> str:
    """A CAS 2.0 serviceValidate answer."""
    if account is None:
        body = (
            f'<cas:authenticationFailure code="INVALID_TICKET">'
            f"票据 {escape(ticket)} 无效或已使用</cas:authenticationFailure>"
        )
    else:
        body = (
            "<cas:authenticationSuccess>"
            f"<cas:user>{escape(account.username)}</cas:user>"
            f"<cas:attributes><cas:name>{escape(account.name)}</cas:name>"
            f"<cas:idNumber>{escape(account.id_number)}</cas:idNumber></cas:attributes>"
            "</cas:authenticationSuccess>"
        )
    return f'<cas:serviceResponse xmlns:cas="{CAS_NAMESPACE}">{body}</cas:serviceResponse>'


def create_identity_app(faults: IdentityFaults, directory: IdentityDirectory) -> Starlette:
    """The identity portal app; `faults` and `directory` can change while it serves."""
    return create_site_app(
        identity_routes(faults, directory),
        site=IDENTITY_SITE,
        page_faults=faults,
        faults=faults,
    )
