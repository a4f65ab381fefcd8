"""网上办理: where a guide's 在线办理 button leads, and how deep a guide sits, with faults.

Every guide of the healthy portal carries an online entry. An item with 到现场次数 0
(全程网办) leads to its application form (`/apply/<id>`); an item with a visit leads to the
unified login first (`/uc/login?goto=…`), as department systems do. The fault section
`online` (at /__sandbox/faults/online) breaks them the ways seed 000 B1-1 counts against:

- ``dead_entry_items``: the button leads to a page that answers 404 (classic) or does
  nothing at all (`javascript:void(0)`, SPA);
- ``unrelated_entry_items``: the button leads back to the home page;
- ``offline_items``: the application page says the item cannot be applied for online;
- ``visits_claim_items``: the guide shows a 全程网办 badge while 到现场次数 says 1次;
- ``new_tab_items`` (a healthy variant, which must pass): the button opens the application
  in a new tab by script (``window.open``), with no address of its own;
- ``buried_items``: the item is dropped from the home page, its theme and its department,
  and reachable only through ``buried_depth`` 更多事项 pages under its theme.

Items are named by id or name (`gsslj` or `公司设立登记`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar
from urllib.parse import quote

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from sandbox.catalog import HOT_ITEM_IDS, ITEMS, ServiceItem, item_by_id
from sandbox.faults import FaultError, FaultFields
from sandbox.layout import render

AREA_NAME = "online"
OFFLINE_NOTICE = "该事项暂不支持网上办理，请携带申请材料到办事窗口办理。"
MAX_BURIED_DEPTH = 8
_ITEM_LISTS = (
    "dead_entry_items",
    "unrelated_entry_items",
    "offline_items",
    "visits_claim_items",
    "new_tab_items",
    "buried_items",
)


@dataclass
class OnlineFaults(FaultFields):
    """Online-entry and click-depth defects; the default instance is a healthy portal."""

    dead_entry_items: list[str] = field(default_factory=list)
    unrelated_entry_items: list[str] = field(default_factory=list)
    offline_items: list[str] = field(default_factory=list)
    visits_claim_items: list[str] = field(default_factory=list)
    new_tab_items: list[str] = field(default_factory=list)
    buried_items: list[str] = field(default_factory=list)
    buried_depth: int = 3  # 更多事项 pages between the theme page and a buried item

    _limits: ClassVar[Mapping[str, int]] = {"buried_depth": MAX_BURIED_DEPTH}

    def _check_rules(self, name: str, value: Any) -> None:
        if name == "buried_depth" and value < 1:
            raise FaultError(name, "must be at least 1")
        if name not in _ITEM_LISTS:
            return
        unknown = [ref for ref in value if _item(ref) is None]
        if unknown:
            raise FaultError(name, f"no such item in the catalog: {'、'.join(unknown)}")
        hot = [r for r in value if (found := _item(r)) is not None and found.id in HOT_ITEM_IDS]
        if name == "buried_items" and hot:
            raise FaultError(name, f"热门事项 are linked from the home page: {'、'.join(hot)}")

    def hits(self, name: str, item: ServiceItem) -> bool:
        """Whether the item list `name` names `item`."""
        refs: list[str] = getattr(self, name)
        return any((found := _item(ref)) is not None and found.id == item.id for ref in refs)

    def buried_ids(self) -> frozenset[str]:
        return frozenset(found.id for ref in self.buried_items if (found := _item(ref)))


def _item(ref: str) -> ServiceItem | None:
    return item_by_id(ref) or next((item for item in ITEMS if item.name == ref), None)


@dataclass(frozen=True)
class OnlineEntry:
    """What a guide page shows of online handling: the button and the 到现场次数."""

    label: str  # the button's words
    href: str  # "" for a button that does nothing
    visits_label: str
    badge: str  # "全程网办" or ""
    new_tab: bool = False  # opened by window.open(href) from a button without an address


def online_entry(
    item: ServiceItem, faults: OnlineFaults | None, *, spa: bool = False
) -> OnlineEntry:
    """The entry of `item`'s guide under `faults` (healthy when None)."""
    faults = faults.snapshot() if faults is not None else OnlineFaults()
    route = "#/apply/" if spa else "/apply/"
    href = f"{route}{item.id}"
    label = "在线办理" if item.visits == 0 else "网上申报"
    if faults.hits("dead_entry_items", item):
        href = "javascript:void(0)" if spa else f"/wsbs/apply.do?itemId={item.id}"
    elif faults.hits("unrelated_entry_items", item):
        href = "#/" if spa else "/"
    visits_label = item.visits_label
    badge = "全程网办" if item.visits == 0 else ""
    if faults.hits("visits_claim_items", item):
        visits_label, badge = f"{max(item.visits, 1)}次", "全程网办"
    new_tab = faults.hits("new_tab_items", item)
    return OnlineEntry(label, href, visits_label, badge, new_tab)


def apply_mode(item: ServiceItem, faults: OnlineFaults | None) -> str:
    """What the application address shows: "form", "login" or "offline"."""
    if faults is not None and faults.hits("offline_items", item):
        return "offline"
    return "form" if item.visits == 0 else "login"


def online_routes(faults: OnlineFaults) -> list[BaseRoute]:
    """The application pages, the unified login in front of them, and the 更多事项 chain."""

    def item_or_404(item_id: str) -> ServiceItem:
        item = item_by_id(item_id)
        if item is None:
            raise HTTPException(status_code=404)
        return item

    async def apply(request: Request) -> Response:
        item = item_or_404(request.path_params["item_id"])
        mode = apply_mode(item, faults)
        if mode == "login":
            goto = quote(f"/apply/{item.id}", safe="")
            return RedirectResponse(f"/uc/login?goto={goto}", status_code=302)
        return render(request, "apply.html", {"item": item, "mode": mode, "notice": OFFLINE_NOTICE})

    async def login(request: Request) -> Response:
        return render(request, "uc_login.html", {"goto": request.query_params.get("goto", "/")})

    async def more(request: Request) -> Response:
        item = item_or_404(request.path_params["item_id"])
        level = int(request.path_params["level"])
        state = faults.snapshot()
        if item.id not in state.buried_ids() or not 1 <= level <= state.buried_depth:
            raise HTTPException(status_code=404)
        onward = f"/more/{item.id}/{level + 1}" if level < state.buried_depth else ""
        return render(request, "more_items.html", {"item": item, "level": level, "onward": onward})

    return [
        Route("/apply/{item_id}", apply, methods=["GET"]),
        Route("/uc/login", login, methods=["GET"]),
        Route("/more/{item_id}/{level:int}", more, methods=["GET"]),
    ]


def online_faults_of(request: Request) -> OnlineFaults | None:
    """The online faults of the app serving `request` (None: an app built without them)."""
    found: OnlineFaults | None = getattr(request.app.state, "online_faults", None)
    return found


def listed(items: tuple[ServiceItem, ...], faults: OnlineFaults | None) -> list[ServiceItem]:
    """`items` without the buried ones."""
    buried = faults.buried_ids() if faults is not None else frozenset()
    return [item for item in items if item.id not in buried]


def more_links(
    items: tuple[ServiceItem, ...], faults: OnlineFaults | None, spa: bool = False
) -> list[str]:
    """The 更多事项 links a listing shows, one per buried item it hides."""
    buried = faults.buried_ids() if faults is not None else frozenset()
    return [f"{'#' if spa else ''}/more/{item.id}/1" for item in items if item.id in buried]
