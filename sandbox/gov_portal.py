"""示范省人民政府门户网站: the government portal that should lead to the service platform.

统一入口 (seed 001 附件2) asks whether the service platform is integrated into the front
of the government portal. This site links to the platform from its main navigation
(政务服务) and from a 网上办事 block on its home page; two faults break that:

    entry_missing   no link to the platform anywhere (the "两张皮" of seed 001)
    entry_dead      the links lead to the old 网上办事大厅 address, which answers 404

It is its own site on its own address (e.g. 127.0.0.2), with faults at /__sandbox/faults.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sandbox.faults import FaultFields
from sandbox.layout import NavLink, SiteInfo, render
from sandbox.server import RunningSite, SandboxServer
from sandbox.site import create_site_app

GOV_SITE = SiteInfo(
    name="示范省人民政府门户网站",
    name_en="The People's Government of Shifan Province",
    sponsor="示范省人民政府办公厅",
    operator="示范省大数据中心",
    icp="示ICP备05001234号",
    police_record="示公网安备53010202000001号",
    site_code="5300000001",
    phone="0871-63611234",
    nav=(
        NavLink("首页", "/"),
        NavLink("要闻动态", "/news"),
        NavLink("政务公开", "/zwgk"),
        NavLink("互动交流", "/hdjl"),
    ),
)
# Where the platform's old 网上办事大厅 used to be; the platform answers it with 404.
OLD_HALL_PATH = "/wsbsdt/index.html"


@dataclass(frozen=True, slots=True)
class EntryWording:
    """How the portal presents its entry to the platform: the menu item and the home
    page block (heading, platform name, summary, shortcuts as (label, path))."""

    menu: str
    heading: str
    name: str
    summary: str
    home_path: str
    shortcuts: tuple[tuple[str, str], ...]


ENTRY_WORDING = {
    "classic": EntryWording(
        menu="政务服务",
        heading="网上办事",
        name="示范省政务服务网",
        summary="全省政务服务事项“一网通办”，个人和法人办事请进入政务服务网。",
        home_path="/",
        shortcuts=(("个人办事", "/personal"), ("法人办事", "/legal"), ("部门服务", "/departments")),
    ),
    # The single-page platform's province: its own words, and ``#/`` routes.
    "spa": EntryWording(
        menu="一网通办",
        heading="一网通办",
        name="示范省一体化政务服务平台",
        summary="企业和群众办事，一次登录、全省通办。",
        home_path="/#/",
        shortcuts=(
            ("个人服务", "/#/list/personal"),
            ("法人服务", "/#/list/legal"),
            ("在线咨询", "/#/consult"),
        ),
    ),
}


@dataclass(frozen=True, slots=True)
class Article:
    id: int
    column: str
    date: str
    title: str
    body: str


ARTICLES: tuple[Article, ...] = (
    Article(
        1,
        "要闻动态",
        "2024-06-28",
        "省政府召开常务会议 研究部署优化营商环境工作",
        "会议强调，要深化“一网通办”改革，推动更多政务服务事项网上办、掌上办、就近办。",
    ),
    Article(
        2,
        "要闻动态",
        "2024-06-25",
        "全省政务服务“好差评”工作推进会在示范市召开",
        "会议通报了上半年全省政务服务评价情况，部署下一阶段整改提升工作。",
    ),
    Article(
        3,
        "要闻动态",
        "2024-06-19",
        "示范省出台进一步优化政务服务提升行政效能实施方案",
        "方案提出，到年底前高频政务服务事项实现“最多跑一次”。",
    ),
    Article(
        4,
        "政务公开",
        "2024-06-20",
        "示范省人民政府关于公布省级行政许可事项清单的通知",
        "现将省级行政许可事项清单予以公布，请各地各部门认真贯彻执行。",
    ),
    Article(
        5,
        "政务公开",
        "2024-06-12",
        "示范省2024年政府信息公开工作要点",
        "围绕优化营商环境、保障和改善民生等重点领域，加大政府信息公开力度。",
    ),
    Article(
        6,
        "互动交流",
        "2024-06-26",
        "关于“居住证办理时限”留言的答复",
        "居住证申领承诺时限为10个工作日，详见示范省政务服务网办事指南。",
    ),
)
COLUMNS = {"/news": "要闻动态", "/zwgk": "政务公开", "/hdjl": "互动交流"}


@dataclass
class GovPortalFaults(FaultFields):
    """Defects of the government portal; the default instance is healthy."""

    entry_missing: bool = False
    entry_dead: bool = False
    slow_ms: int = 0
    site_down: bool = False

    # How this portal words a bad slow_ms, whether ill-typed or out of range.
    _number_message = "expected milliseconds between 0 and {high}, got {value!r}"
    _range_message = _number_message


def create_gov_portal_app(
    faults: GovPortalFaults, platform_url: str, style: str = "classic"
) -> Starlette:
    """The government portal app, linking to the service platform at `platform_url` in
    the words of the platform's `style` (``classic`` or ``spa``)."""
    platform = platform_url.rstrip("/")
    wording = ENTRY_WORDING[style]

    def entry_url() -> str | None:
        if faults.entry_missing:
            return None
        return platform + OLD_HALL_PATH if faults.entry_dead else platform + wording.home_path

    def site() -> SiteInfo:
        url = entry_url()
        if url is None:
            return GOV_SITE
        nav = (*GOV_SITE.nav[:3], NavLink(wording.menu, url), *GOV_SITE.nav[3:])
        return replace(GOV_SITE, nav=nav)

    async def home(request: Request) -> Response:
        url = entry_url()
        shortcuts = (
            [] if url is None else [(label, platform + path) for label, path in wording.shortcuts]
        )
        if faults.entry_dead:
            shortcuts = [(label, url or "") for label, _ in shortcuts]
        return render(
            request,
            "gov_home.html",
            {
                "entry_url": url,
                "entry": wording,
                "shortcuts": shortcuts,
                "columns": {
                    name: [a for a in ARTICLES if a.column == name] for name in COLUMNS.values()
                },
            },
            site=site(),
        )

    async def column(request: Request) -> Response:
        name = COLUMNS[request.url.path]
        articles = [a for a in ARTICLES if a.column == name]
        return render(request, "gov_list.html", {"column": name, "articles": articles}, site=site())

    async def article(request: Request) -> Response:
        found = [a for a in ARTICLES if a.id == request.path_params["article_id"]]
        if not found:
            raise HTTPException(status_code=404)
        return render(request, "gov_article.html", {"article": found[0]}, site=site())

    async def search(request: Request) -> Response:
        query = request.query_params.get("q", "").strip()
        hits = [a for a in ARTICLES if query and (query in a.title or query in a.body)]
        return render(
            request,
            "gov_list.html",
            {"column": f"“{query}”的搜索结果", "articles": hits},
            site=site(),
        )

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    routes = [
        Route("/", home, methods=["GET"]),
        *(Route(path, column, methods=["GET"]) for path in COLUMNS),
        Route("/article/{article_id:int}", article, methods=["GET"]),
        Route("/search", search, methods=["GET"]),
        Route("/healthz", healthz, methods=["GET"]),
    ]
    return create_site_app(routes, site=GOV_SITE, page_faults=faults, faults=faults)


class GovPortalSandbox(RunningSite):
    """The government portal with its faults, served on one address (e.g. 127.0.0.2)."""

    def __init__(self, server: SandboxServer, faults: GovPortalFaults) -> None:
        self.server = server
        self.faults = faults

    @classmethod
    def start(
        cls,
        platform_url: str,
        host: str = "127.0.0.2",
        port: int = 0,
        faults: GovPortalFaults | None = None,
        style: str = "classic",
    ) -> GovPortalSandbox:
        """Serve the portal (healthy unless `faults` says otherwise) and return when ready;
        `style` is the platform's (``spa``: its words and ``#/`` routes)."""
        faults = faults if faults is not None else GovPortalFaults()
        app = create_gov_portal_app(faults, platform_url, style)
        return cls(SandboxServer(app, host=host, port=port).start(), faults)
