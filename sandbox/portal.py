"""示范省政务服务网: the portal's pages and `create_portal_app`.

Pages: home, 个人办事 / 法人办事 theme columns, 部门服务, 办事指南 with form downloads,
站内搜索, notices, the error page real portals redirect to, and /healthz.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from urllib.parse import quote

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from sandbox.care import AREA_NAME as CARE_AREA
from sandbox.care import AccessibilityFaults, care_routes
from sandbox.catalog import (
    DEPARTMENTS,
    HOT_ITEM_IDS,
    ITEMS,
    Audience,
    Department,
    ServiceItem,
    department_by_code,
    item_by_id,
    items_of_department,
    items_of_theme,
    themes_of,
)
from sandbox.consistency import ConsistencyFaults, as_served, consistency_area
from sandbox.faults import PortalFaults
from sandbox.form_files import DOCX_TYPE, PDF_TYPE, blank_form_docx, sample_form_pdf
from sandbox.layout import PORTAL_SITE, render, render_bare
from sandbox.online import AREA_NAME as ONLINE_AREA
from sandbox.online import (
    OnlineFaults,
    listed,
    more_links,
    online_entry,
    online_faults_of,
    online_routes,
)
from sandbox.rating import AREA_NAME as RATING_AREA
from sandbox.rating import RatingFaults, rating_entry, rating_faults_of, rating_routes
from sandbox.search import SearchHit, SearchIndex, highlight, normalize, paginate
from sandbox.site import SiteArea, create_site_app

ERROR_PAGE = "/error.html"
HOT_KEYWORDS = ("公积金", "身份证", "护照", "驾驶证", "营业执照", "社保卡", "教师资格")


@dataclass(frozen=True, slots=True)
class Notice:
    """One 通知公告 on the home page."""

    id: int
    date: str
    title: str
    body: str


NOTICES: tuple[Notice, ...] = (
    Notice(
        1,
        "2024-06-28",
        "关于示范省政务服务网系统升级维护的公告",
        "为提升服务质量，示范省政务服务网将于7月6日22:00至7月7日06:00进行系统升级维护，"
        "期间部分事项暂停网上申报，给您带来的不便敬请谅解。",
    ),
    Notice(
        2,
        "2024-06-20",
        "示范省“一网通办”高频事项清单（2024年版）发布",
        "经梳理，共确定个人和法人高频事项120项，已全部实现网上可办。",
    ),
    Notice(
        3,
        "2024-06-12",
        "关于开展政务服务“好差评”工作的通知",
        "请广大企业群众对政务服务进行评价，评价结果将作为改进工作的重要依据。",
    ),
    Notice(
        4,
        "2024-05-30",
        "端午节期间政务服务中心窗口办公时间调整的通知",
        "6月10日（端午节）政务服务中心暂停对外办公，网上申报正常受理，节后首个工作日统一办理。",
    ),
)


def _theme_counts(audience: Audience) -> list[tuple[str, int]]:
    return [(theme, len(items_of_theme(audience, theme))) for theme in themes_of(audience)]


def _department_counts() -> list[tuple[Department, int]]:
    return [(dept, len(items_of_department(dept.code))) for dept in DEPARTMENTS]


def _item_or_404(item_id: str) -> ServiceItem:
    item = item_by_id(item_id)
    if item is None:
        raise HTTPException(status_code=404)
    return item


@functools.lru_cache(maxsize=32)
def _index(hidden_names: tuple[str, ...]) -> SearchIndex:
    return SearchIndex(ITEMS, hidden_names)


async def home(request: Request) -> Response:
    return render(
        request,
        "home.html",
        {
            "personal": _theme_counts(Audience.PERSONAL),
            "legal": _theme_counts(Audience.LEGAL),
            "departments": _department_counts(),
            "hot_items": [item_by_id(i) for i in HOT_ITEM_IDS],
            "notices": NOTICES,
            "item_count": len(ITEMS),
        },
    )


def _theme_page(audience: Audience, base: str) -> Callable[[Request], Awaitable[Response]]:
    async def page(request: Request) -> Response:
        theme = request.query_params.get("theme", "")
        context = {"audience": audience, "base": base, "themes": _theme_counts(audience)}
        if not theme:
            return render(request, "themes.html", {**context, "theme": "", "items": []})
        if theme not in themes_of(audience):
            raise HTTPException(status_code=404)
        items = items_of_theme(audience, theme)
        online = online_faults_of(request)
        return render(
            request,
            "themes.html",
            {
                **context,
                "theme": theme,
                "items": listed(items, online),
                "more": more_links(items, online),
            },
        )

    return page


async def departments(request: Request) -> Response:
    return render(request, "departments.html", {"departments": _department_counts()})


async def department(request: Request) -> Response:
    dept = department_by_code(request.path_params["code"])
    if dept is None:
        raise HTTPException(status_code=404)
    items = items_of_department(dept.code)
    online = online_faults_of(request)
    return render(
        request,
        "department.html",
        {
            "department": dept,
            "items": listed(items, online),
            "more": more_links(items, online),
            "departments": _department_counts(),
        },
    )


async def guide(request: Request) -> Response:
    item = as_served(_item_or_404(request.path_params["item_id"]), request)
    if item is None:
        raise HTTPException(status_code=404)
    return render(
        request,
        "item.html",
        {
            "item": item,
            "department": department_by_code(item.department),
            "online": online_entry(item, online_faults_of(request)),
            "rating": rating_entry(item, rating_faults_of(request)),
        },
    )


def _attachment(content: bytes, media_type: str, file_name: str, ascii_name: str) -> Response:
    disposition = f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(file_name)}"
    return Response(content, media_type=media_type, headers={"Content-Disposition": disposition})


async def blank_form(request: Request) -> Response:
    item = _item_or_404(request.path_params["item_id"])
    return _attachment(blank_form_docx(item), DOCX_TYPE, item.blank_form_name, "blank.docx")


async def sample_form(request: Request) -> Response:
    item = _item_or_404(request.path_params["item_id"])
    return _attachment(sample_form_pdf(item), PDF_TYPE, item.sample_form_name, "sample.pdf")


async def notice(request: Request) -> Response:
    found = [n for n in NOTICES if n.id == request.path_params["notice_id"]]
    if not found:
        raise HTTPException(status_code=404)
    return render(request, "notice.html", {"notice": found[0], "notices": NOTICES})


async def error_page(request: Request) -> Response:
    # Real portals answer their error page with 200, which is why probes must read it.
    return render(request, "error.html")


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


def _hot_services(hits: Sequence[SearchHit]) -> list[ServiceItem]:
    """Ten items that are not among the results, for the 热门服务 block."""
    found = {hit.item.id for hit in hits}
    return [item for item in ITEMS if item.id not in found][:10]


def search_routes(faults: PortalFaults) -> list[BaseRoute]:
    """站内搜索, governed by the search faults of `faults`."""

    async def search(request: Request) -> Response:
        state = faults.snapshot()
        if state.search_500:
            return HTMLResponse(render_bare("search_500.html"), status_code=500)
        query = request.query_params.get("q", "").strip()
        folded = normalize(query)
        if folded and any(normalize(k) and normalize(k) in folded for k in state.error_keywords):
            return RedirectResponse(ERROR_PAGE, status_code=302)
        hits = [] if state.search_empty else _index(tuple(state.items_missing)).search(query)
        try:
            page_number = int(request.query_params.get("page", "1"))
        except ValueError:
            page_number = 1
        results = paginate(hits, page_number)
        return render(
            request,
            "search.html",
            {
                "query": query,
                "results": results,
                "rows": [
                    (
                        hit.item,
                        highlight(hit.item.name, query),
                        department_by_code(hit.item.department),
                    )
                    for hit in results.hits
                ],
                "quoted_query": quote(query),
                "hot_keywords": HOT_KEYWORDS,
                "hot_services": _hot_services(hits) if state.hot_services_above_results else [],
            },
        )

    return [Route("/search", search, methods=["GET"])]


def portal_routes() -> list[BaseRoute]:
    """The browsing pages of the portal (everything but search)."""
    return [
        Route("/", home, methods=["GET"]),
        Route("/personal", _theme_page(Audience.PERSONAL, "/personal"), methods=["GET"]),
        Route("/legal", _theme_page(Audience.LEGAL, "/legal"), methods=["GET"]),
        Route("/departments", departments, methods=["GET"]),
        Route("/department/{code}", department, methods=["GET"]),
        Route("/item/{item_id}", guide, methods=["GET"]),
        Route("/files/{item_id}/blank.docx", blank_form, methods=["GET"]),
        Route("/files/{item_id}/sample.pdf", sample_form, methods=["GET"]),
        Route("/notice/{notice_id:int}", notice, methods=["GET"]),
        Route(ERROR_PAGE, error_page, methods=["GET"]),
        Route("/healthz", healthz, methods=["GET"]),
    ]


def create_portal_app(
    faults: PortalFaults,
    areas: Sequence[SiteArea] = (),
    online: OnlineFaults | None = None,
    consistency: ConsistencyFaults | None = None,
    rating: RatingFaults | None = None,
    accessibility: AccessibilityFaults | None = None,
) -> Starlette:
    """The 示范省政务服务网 app; `faults` can be changed while it serves.

    `areas` add more pages to the portal, each with its own fault section. Their routes
    come first, so an area may stand in for a portal page (guide defects, empty columns).
    The online entries (网上申报), the 好差评 pages and the 长者模式 switch are always served,
    healthy unless `online`, `rating` and `accessibility` say otherwise; so are the guides as
    the catalog has them, unless `consistency` says otherwise.
    """
    online = online if online is not None else OnlineFaults()
    consistency = consistency if consistency is not None else ConsistencyFaults()
    rating = rating if rating is not None else RatingFaults()
    accessibility = accessibility if accessibility is not None else AccessibilityFaults()
    areas = [
        SiteArea(ONLINE_AREA, online_routes(online), online),
        consistency_area(consistency),
        SiteArea(RATING_AREA, rating_routes(rating), rating),
        SiteArea(CARE_AREA, care_routes(), accessibility),
        *areas,
    ]
    app = create_site_app(
        [*(r for area in areas for r in area.routes), *portal_routes(), *search_routes(faults)],
        site=PORTAL_SITE,
        page_faults=faults,
        faults=faults,
        more_faults={area.name: area.faults for area in areas},
    )
    app.state.portal_faults = faults  # the header of every page reads search_box_unlabelled
    app.state.online_faults = online  # guides, listings and the home page read it
    app.state.consistency_faults = consistency  # guides read it
    app.state.rating_faults = rating  # guides and the consultation query page read it
    app.state.accessibility_faults = accessibility  # every page's top bar reads it
    return app
