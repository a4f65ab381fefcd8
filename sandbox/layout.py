"""The shared look of sandbox sites: one Jinja2 environment, site identity and navigation.

Every site module renders through `render` so headers, the search box and the footer
(主办单位, ICP备案, 联系电话) stay identical across pages and future sites.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import jinja2
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.templating import Jinja2Templates

from sandbox.care import CareView, care_view


@dataclass(frozen=True, slots=True)
class NavLink:
    """One entry of the main navigation bar."""

    label: str
    href: str


@dataclass(frozen=True, slots=True)
class SiteInfo:
    """Identity printed in the header and footer of a site."""

    name: str
    name_en: str
    sponsor: str
    operator: str
    icp: str
    police_record: str
    site_code: str
    phone: str
    nav: tuple[NavLink, ...]


PORTAL_SITE = SiteInfo(
    name="示范省政务服务网",
    name_en="Shifan Provincial Government Online Service Platform",
    sponsor="示范省人民政府办公厅",
    operator="示范省政务服务管理局",
    icp="示ICP备05001234号-1",
    police_record="示公网安备53010202000123号",
    site_code="5300000041",
    phone="0871-63612345",
    nav=(
        NavLink("首页", "/"),
        NavLink("个人办事", "/personal"),
        NavLink("法人办事", "/legal"),
        NavLink("部门服务", "/departments"),
        NavLink("我要咨询", "/consult"),
        NavLink("用户注册", "/register"),
        NavLink("登录", "/user/login"),
    ),
)

_ENVIRONMENT = jinja2.Environment(
    loader=jinja2.PackageLoader("sandbox", "templates"),
    autoescape=jinja2.select_autoescape(default=True),
    trim_blocks=True,
    lstrip_blocks=True,
    undefined=jinja2.StrictUndefined,
)
TEMPLATES = Jinja2Templates(env=_ENVIRONMENT)


_NO_CARE = CareView(section=False, entry=False, on=False, enlarged=False, violations=False)


def _search_box_unlabelled(request: Request) -> bool:
    faults = getattr(request.app.state, "portal_faults", None)
    return bool(faults is not None and faults.search_box_unlabelled)


def _chat_widget(request: Request) -> bool:
    # The 智能客服 widget: on a portal serving the assistant area, unless switched off.
    faults = getattr(request.app.state, "assistant_faults", None)
    return bool(faults is not None and not faults.widget_missing)


def _chat_entry_unlabelled(request: Request) -> bool:
    faults = getattr(request.app.state, "assistant_faults", None)
    return bool(faults is not None and faults.entry_unlabelled)


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    site: SiteInfo = PORTAL_SITE,
    status_code: int = 200,
) -> HTMLResponse:
    """A page of `site`; the header search box keeps the current query."""
    full: dict[str, Any] = {
        "site": site,
        "q": request.query_params.get("q", ""),
        "path": request.url.path,
        "search_box_unlabelled": _search_box_unlabelled(request),
        "chat_widget": _chat_widget(request),
        "chat_entry_unlabelled": _chat_entry_unlabelled(request),
        "care": care_view(request),
        "here": request.url.path + (f"?{request.url.query}" if request.url.query else ""),
    }
    full.update(context or {})
    return TEMPLATES.TemplateResponse(request, template, full, status_code=status_code)


def render_bare(
    template: str, context: dict[str, Any] | None = None, *, site: SiteInfo = PORTAL_SITE
) -> str:
    """Render a page outside a request (the site-down gate has no Request object)."""
    full: dict[str, Any] = {"site": site, "q": "", "path": "", "care": _NO_CARE, "here": ""}
    full.update(context or {})
    return _ENVIRONMENT.get_template(template).render(full)
