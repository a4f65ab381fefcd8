"""示范办: the H5 edition of 示范省政务服务网 (掌上办事), with the defects real H5 sites have.

Every page lives under /h5/, so the same routes serve two ways: as their own site on
their own loopback address (`MobileSandbox`, `create_mobile_app`), which is how provincial
platforms usually publish their H5 entry (an m.-host beside the portal), or mounted into
the portal as an area (`mobile_area`). The own site is the default: its links back to the
desktop portal then leave the origin, as they do on a real m.-host.

Faults (`MobileFaults`, one per probe finding kind) each break one page:
首页 (image, link, accessibility), 服务 (tiny text), 办事指南 (overflow, a WeChat-only
script error), 通知公告 (no viewport meta), 社保查询 (HTTP 500), 办件查询 (missing script).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from sandbox.catalog import (
    HOT_ITEM_IDS,
    ITEMS,
    Audience,
    department_by_code,
    item_by_id,
    items_of_theme,
    themes_of,
)
from sandbox.layout import NavLink, SiteInfo, render, render_bare
from sandbox.mobile_faults import MobileFaults
from sandbox.portal import NOTICES
from sandbox.server import RunningSite, SandboxServer
from sandbox.site import SiteArea, create_site_app

__all__ = [
    "ENTRY",
    "MOBILE_SITE",
    "MobileFaults",
    "MobileSandbox",
    "create_mobile_app",
    "mobile_area",
    "mobile_routes",
]

PREFIX = "/h5"
ENTRY = f"{PREFIX}/"

MOBILE_SITE = SiteInfo(
    name="示范办",
    name_en="Shifan Ban - mobile services of the Shifan provincial platform",
    sponsor="示范省人民政府办公厅",
    operator="示范省政务服务管理局",
    icp="示ICP备05001234号-1",
    police_record="示公网安备53010202000123号",
    site_code="5300000041",
    phone="0871-63612345",
    nav=(
        NavLink("首页", ENTRY),
        NavLink("服务", f"{PREFIX}/services"),
        NavLink("办件", f"{PREFIX}/progress"),
        NavLink("我的", f"{PREFIX}/me"),
    ),
)


@dataclass(frozen=True, slots=True)
class Tile:
    """One entry of the home page's service grid."""

    key: str
    label: str
    href: str
    glyph: str
    color: str


TILES: tuple[Tile, ...] = (
    Tile("sbcx", "社保查询", f"{PREFIX}/query/social-security", "社", "#1560bd"),
    Tile("gjjcx", "公积金查询", f"{PREFIX}/query/housing-fund", "金", "#0f7b5f"),
    Tile("dzzz", "电子证照", f"{PREFIX}/license", "证", "#b3541e"),
    Tile("sfz", "身份证换领", f"{PREFIX}/guide/sfzhl", "身", "#6a3fb5"),
    Tile("jsz", "驾驶证换证", f"{PREFIX}/guide/jszhz", "驾", "#a8324a"),
    Tile("hz", "护照签发", f"{PREFIX}/guide/hzqf", "护", "#1f6f8b"),
    Tile("bjcx", "办件查询", f"{PREFIX}/progress", "查", "#7a5c00"),
    Tile("qbfw", "全部服务", f"{PREFIX}/services", "全", "#4a5563"),
)
# Where the 电子证照 tile still points when `broken_link` is on: the address before a revamp.
STALE_LICENSE_HREF = f"{PREFIX}/dzzz/index.html"
QUERIES = {"social-security": "社保查询", "housing-fund": "公积金查询"}
HOT_KEYWORDS = ("公积金", "社保", "身份证", "营业执照")


# -- static assets: small enough to live here, served like a CDN folder would ---------------

_WX_SDK = """/*! 微信 JS-SDK (sandbox stand-in for res.wx.qq.com/open/js/jweixin-1.6.0.js) */
window.wx = { config: function () {}, error: function () {},
  ready: function (callback) { setTimeout(callback, 0); },
  updateAppMessageShareData: function () {}, updateTimelineShareData: function () {} };
"""
_PROGRESS_JS = """document.addEventListener('DOMContentLoaded', function () {
  var form = document.getElementById('progress-form');
  form.addEventListener('submit', function (event) {
    event.preventDefault();
    document.getElementById('progress-result').textContent =
      '未查询到受理编号为“' + form.elements.code.value + '”的办件，请核对后重试。';
  });
});
"""


def _svg(body: str, width: int, height: int) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}">{body}</svg>'
    )


def _icon(tile: Tile) -> str:
    return _svg(
        f'<rect x="8" y="0" width="48" height="48" rx="14" fill="{tile.color}"/>'
        f'<text x="32" y="33" font-size="24" fill="#fff" text-anchor="middle">{tile.glyph}</text>',
        64,
        48,
    )


_BANNER = _svg(
    '<rect width="750" height="300" fill="#1560bd"/>'
    '<text x="40" y="130" font-size="44" fill="#fff">高频事项 掌上可办</text>'
    '<text x="40" y="190" font-size="26" fill="#dbe8fb">'
    "示范省“一网通办”高频事项清单（2024年版）</text>",
    750,
    300,
)


def _assets() -> dict[str, tuple[str, str]]:
    svg, js = "image/svg+xml", "application/javascript; charset=utf-8"
    files = {"banner.svg": (_BANNER, svg), "jweixin-1.6.0.js": (_WX_SDK, js)}
    files["progress.js"] = (_PROGRESS_JS, js)
    for tile in TILES:
        files[f"icon-{tile.key}.svg"] = (_icon(tile), svg)
    return files


ASSETS = _assets()


# -- pages -------------------------------------------------------------------------------


def mobile_routes(faults: MobileFaults, desktop_url: str = "/") -> list[BaseRoute]:
    """The H5 pages under /h5/, governed by `faults`; 电脑版 links go to `desktop_url`."""

    def page(
        request: Request, template: str, context: dict[str, Any], *, viewport: bool = True
    ) -> Response:
        full = {"viewport": viewport, "desktop_url": desktop_url, "hotline": "12345"}
        return render(request, template, {**full, **context}, site=MOBILE_SITE)

    async def entry(request: Request) -> Response:
        return RedirectResponse(ENTRY, status_code=302)

    async def home(request: Request) -> Response:
        state = faults.snapshot()
        return page(
            request,
            "h5_home.html",
            {
                "tiles": TILES,
                "license_href": STALE_LICENSE_HREF if state.broken_link else TILES[2].href,
                "banner_src": f"{PREFIX}/assets/banner-2024.png"
                if state.broken_image
                else f"{PREFIX}/assets/banner.svg",
                "unlabeled": state.a11y_violations,
                "hot_items": [item_by_id(i) for i in HOT_ITEM_IDS[:5]],
                "hot_keywords": HOT_KEYWORDS,
                "notices": NOTICES[:3],
            },
        )

    async def services(request: Request) -> Response:
        theme = request.query_params.get("theme", "")
        themes = themes_of(Audience.PERSONAL)
        if theme and theme not in themes:
            raise HTTPException(status_code=404)
        counts = [(name, len(items_of_theme(Audience.PERSONAL, name))) for name in themes]
        items = items_of_theme(Audience.PERSONAL, theme) if theme else ()
        return page(
            request,
            "h5_services.html",
            {"theme": theme, "themes": counts, "items": items, "tiny": faults.tiny_text},
        )

    async def guide(request: Request) -> Response:
        item = item_by_id(request.path_params["item_id"])
        if item is None:
            raise HTTPException(status_code=404)
        state = faults.snapshot()
        return page(
            request,
            "h5_guide.html",
            {
                "item": item,
                "department": department_by_code(item.department),
                "fixed_width": state.overflow,
                "load_wx_sdk": not state.script_error,
            },
        )

    async def notice(request: Request) -> Response:
        found = [n for n in NOTICES if n.id == request.path_params["notice_id"]]
        if not found:
            raise HTTPException(status_code=404)
        context = {"notice": found[0]}
        return page(request, "h5_notice.html", context, viewport=not faults.no_viewport)

    async def query(request: Request) -> Response:
        kind = request.path_params["kind"]
        if kind not in QUERIES:
            raise HTTPException(status_code=404)
        if kind == "social-security" and faults.page_500:
            return HTMLResponse(render_bare("h5_500.html"), status_code=500)
        return page(request, "h5_query.html", {"kind": kind, "title": QUERIES[kind]})

    async def license_(request: Request) -> Response:
        return page(request, "h5_license.html", {})

    async def progress(request: Request) -> Response:
        script = "progress-query.min.js" if faults.broken_script else "progress.js"
        return page(request, "h5_progress.html", {"script_src": f"{PREFIX}/assets/{script}"})

    async def me(request: Request) -> Response:
        return page(request, "h5_me.html", {})

    async def login(request: Request) -> Response:
        return page(request, "h5_login.html", {})

    async def search(request: Request) -> Response:
        query_text = request.query_params.get("q", "").strip()
        hits = [item for item in ITEMS if query_text and query_text in item.name][:20]
        return page(request, "h5_search.html", {"query": query_text, "hits": hits})

    async def asset(request: Request) -> Response:
        found = ASSETS.get(request.path_params["name"])
        if found is None:
            raise HTTPException(status_code=404)
        body, media_type = found
        return Response(body, media_type=media_type, headers={"Cache-Control": "max-age=600"})

    return [
        Route(PREFIX, entry, methods=["GET"]),
        Route(ENTRY, home, methods=["GET"]),
        Route(f"{PREFIX}/services", services, methods=["GET"]),
        Route(f"{PREFIX}/guide/{{item_id}}", guide, methods=["GET"]),
        Route(f"{PREFIX}/notice/{{notice_id:int}}", notice, methods=["GET"]),
        Route(f"{PREFIX}/query/{{kind}}", query, methods=["GET"]),
        Route(f"{PREFIX}/license", license_, methods=["GET"]),
        Route(f"{PREFIX}/progress", progress, methods=["GET"]),
        Route(f"{PREFIX}/me", me, methods=["GET"]),
        Route(f"{PREFIX}/login", login, methods=["GET"]),
        Route(f"{PREFIX}/search", search, methods=["GET"]),
        Route(f"{PREFIX}/assets/{{name}}", asset, methods=["GET"]),
    ]


def mobile_area(faults: MobileFaults, desktop_url: str = "/") -> SiteArea:
    """The H5 pages as an area of the portal (faults at /__sandbox/faults/mobile)."""
    return SiteArea("mobile", mobile_routes(faults, desktop_url), faults)


def create_mobile_app(faults: MobileFaults, desktop_url: str = "/") -> Starlette:
    """示范办 as its own site: / leads to the H5 entry, faults at /__sandbox/faults."""

    async def root(request: Request) -> Response:
        return RedirectResponse(ENTRY, status_code=302)

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    routes: list[BaseRoute] = [
        Route("/", root, methods=["GET"]),
        Route("/healthz", healthz, methods=["GET"]),
        *mobile_routes(faults, desktop_url),
    ]
    return create_site_app(routes, site=MOBILE_SITE, page_faults=faults, faults=faults)


class MobileSandbox(RunningSite):
    """示范办 with its faults, served on one address (e.g. 127.0.0.8)."""

    def __init__(self, server: SandboxServer, faults: MobileFaults) -> None:
        self.server = server
        self.faults = faults

    @classmethod
    def start(
        cls,
        host: str = "127.0.0.1",
        port: int = 0,
        faults: MobileFaults | None = None,
        desktop_url: str = "/",
    ) -> MobileSandbox:
        """Serve the H5 site (healthy unless `faults` says otherwise) and return when ready."""
        faults = faults if faults is not None else MobileFaults()
        app = create_mobile_app(faults, desktop_url)
        return cls(SandboxServer(app, host=host, port=port).start(), faults)

    @property
    def entry_url(self) -> str:
        """The H5 entry page (首页)."""
        return f"{self.server.url}{ENTRY}"
