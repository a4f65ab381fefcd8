"""Department systems (部门业务系统) that sign citizens in through the identity portal.

Each system is its own site on its own origin with its own session cookie. Its personal
centre (/user) is protected the way a CAS client protects it:

    no session, no ticket  → 302 to <identity>/login?service=<this URL>
    ?ticket=ST-…           → validated over the back channel (an HTTP GET of
                             <identity>/serviceValidate from this server), then the
                             system's own session cookie is set and the ticket dropped

Faults make a system behave as badly connected ones do: `ignore_ticket` sends the
citizen to the system's own login page, `require_registration` asks a signed-in citizen
to register a local account first.
"""

from __future__ import annotations

import secrets
import threading
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from urllib.parse import quote

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from sandbox.identity import CAS_NAMESPACE
from sandbox.layout import NavLink, SiteInfo, render
from sandbox.site import create_site_app
from sandbox.sso_faults import SystemFaults

SESSION_COOKIE = "SESSIONID"  # the same name everywhere: only the origin keeps them apart
VALIDATE_TIMEOUT_S = 5.0


@dataclass(frozen=True, slots=True)
class DepartmentSystem:
    """One department's online business system."""

    code: str
    name: str
    department: str
    services: tuple[str, ...]
    masks_name: bool = False  # shows 李*红 instead of the full name, as some systems do


DEPARTMENT_SYSTEMS: tuple[DepartmentSystem, ...] = (
    DepartmentSystem(
        "scjg",
        "省市场监督管理局业务系统",
        "省市场监督管理局",
        ("企业设立登记", "企业变更登记", "食品经营许可", "特种设备使用登记"),
    ),
    DepartmentSystem(
        "rst",
        "省人力资源和社会保障厅网上服务大厅",
        "省人力资源和社会保障厅",
        ("社会保险参保登记", "个人社保缴费查询", "职业资格证书查询", "失业保险金申领"),
    ),
    DepartmentSystem(
        "gjj",
        "省住房公积金管理中心网上业务大厅",
        "省住房公积金管理中心",
        ("住房公积金缴存查询", "住房公积金提取", "住房公积金贷款申请", "缴存证明打印"),
        masks_name=True,
    ),
)


@dataclass(frozen=True, slots=True)
class SignedInUser:
    username: str
    name: str


class _Sessions:
    """The system's own sessions: cookie value → user."""

    def __init__(self) -> None:
        self._users: dict[str, SignedInUser] = {}
        self._lock = threading.Lock()

    def open(self, user: SignedInUser) -> str:
        token = secrets.token_hex(16)
        with self._lock:
            self._users[token] = user
        return token

    def user(self, token: str | None) -> SignedInUser | None:
        with self._lock:
            return self._users.get(token or "")

    def close(self, token: str | None) -> None:
        with self._lock:
            self._users.pop(token or "", None)


def system_site(system: DepartmentSystem) -> SiteInfo:
    """Header and footer identity of a department system."""
    return SiteInfo(
        name=system.name,
        name_en=f"Shifan {system.code.upper()} Online Service System",
        sponsor=f"示范{system.department}",
        operator=f"示范{system.department}信息中心",
        icp="示ICP备05002345号-2",
        police_record="示公网安备53010202000231号",
        site_code="5300000051",
        phone="0871-12345",
        nav=(NavLink("首页", "/"), NavLink("个人中心", "/user")),
    )


async def validate_ticket(identity_url: str, ticket: str, service: str) -> SignedInUser | None:
    """Ask the identity portal, server to server, whom the ticket signs in (CAS 2.0)."""
    async with httpx.AsyncClient(trust_env=False, timeout=VALIDATE_TIMEOUT_S) as client:
        try:
            answer = await client.get(
                f"{identity_url}/serviceValidate", params={"ticket": ticket, "service": service}
            )
        except httpx.HTTPError:
            return None
    if answer.status_code != 200:
        return None
    try:
        root = ET.fromstring(answer.text)  # noqa: S314 - our own sandbox identity portal
    except ET.ParseError:
        return None
    ns = {"cas": CAS_NAMESPACE}
    username = root.findtext("cas:authenticationSuccess/cas:user", namespaces=ns)
    if not username:
        return None
    name = root.findtext("cas:authenticationSuccess/cas:attributes/cas:name", namespaces=ns)
    return SignedInUser(username, name or username)


def department_routes(
    system: DepartmentSystem, faults: SystemFaults, identity_url: str
) -> list[BaseRoute]:
    """The pages of one department system, signing in through `identity_url`."""
    site = system_site(system)
    sessions = _Sessions()

    def page(
        request: Request, template: str, status_code: int = 200, **context: object
    ) -> Response:
        user = sessions.user(request.cookies.get(SESSION_COOKIE))
        shown = None
        if user is not None:
            shown = masked(user.name) if system.masks_name else user.name
        full = {
            "system": system,
            "user": user,
            "shown_name": shown,
            "account_hidden": faults.account_hidden,
            **context,
        }
        return render(request, f"dept_{template}.html", full, site=site, status_code=status_code)

    async def home(request: Request) -> Response:
        return page(request, "home")

    async def personal_centre(request: Request) -> Response:
        if sessions.user(request.cookies.get(SESSION_COOKIE)) is not None:
            return page(request, "user")
        if faults.ignore_ticket:
            # A system still on its own accounts: whoever comes, it asks for them.
            return RedirectResponse("/login?redirect=/user", status_code=302)
        service = str(request.url.remove_query_params("ticket"))
        ticket = request.query_params.get("ticket")
        if not ticket:
            login = f"{identity_url}/login?service={quote(service, safe='')}"
            return RedirectResponse(login, status_code=302)
        user = await validate_ticket(identity_url, ticket, service)
        if user is None:
            return page(
                request,
                "message",
                status_code=401,
                heading="登录失败",
                message="统一身份认证票据校验未通过，请返回重新登录。",
            )
        if faults.require_registration:
            # Knows who the citizen is, yet wants a local account before anything else.
            return page(request, "register", sso_name=user.name, error="")
        response = RedirectResponse(service, status_code=302)
        response.set_cookie(
            SESSION_COOKIE, sessions.open(user), httponly=True, samesite="lax", path="/"
        )
        return response

    async def own_login(request: Request) -> Response:
        return page(request, "login", error="")

    async def own_login_submit(request: Request) -> Response:
        return page(request, "login", error="用户名或密码错误。")

    async def register(request: Request) -> Response:
        return page(request, "register", sso_name="", error="")

    async def register_submit(request: Request) -> Response:
        return page(request, "register", sso_name="", error="短信验证码错误或已过期。")

    async def logout(request: Request) -> Response:
        sessions.close(request.cookies.get(SESSION_COOKIE))
        response = RedirectResponse("/", status_code=302)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    return [
        Route("/", home, methods=["GET"]),
        Route("/user", personal_centre, methods=["GET"]),
        Route("/login", own_login, methods=["GET"]),
        Route("/login", own_login_submit, methods=["POST"]),
        Route("/register", register, methods=["GET"]),
        Route("/register", register_submit, methods=["POST"]),
        Route("/logout", logout, methods=["GET"]),
        Route("/healthz", healthz, methods=["GET"]),
    ]


def masked(name: str) -> str:
    """李*红: how systems that hide personal data show a name."""
    if len(name) <= 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def create_department_app(
    system: DepartmentSystem, faults: SystemFaults, identity_url: str
) -> Starlette:
    """One department system's app; `faults` can change while it serves."""
    return create_site_app(
        department_routes(system, faults, identity_url),
        site=system_site(system),
        page_faults=faults,
        faults=faults,
    )
