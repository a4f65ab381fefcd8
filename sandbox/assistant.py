"""智能客服: the chat widget of both sandbox portals, answering from the catalog, with faults.

A citizen opens the floating widget and asks; the bot finds the catalog item the question
names (its name or an alias) and answers with the item, the department and a link to its
guide, after ``answer_delay_ms`` (a realistic pause). A question naming no item gets the
items it most resembles as a list of candidates, or an apology. The fault section
``assistant`` (at /__sandbox/faults/assistant) breaks it the ways seed 000 A3-1 (查询服务的
关联性、精准性) and seed 004 #40 (响应及时性) count against:

- ``slow_items``: the answer comes after ``slow_ms``;
- ``canned_items``: the answer is the greeting again (您好，请问有什么可以帮您？);
- ``unrelated_items``: the answer is about another item;
- ``error_items``: the chat API answers HTTP 500 and the widget says 系统繁忙;
- ``link_only_items`` (a healthy variant, which must pass when its guide link is
  configured): the answer only links the guide, without naming the item;
- ``widget_missing``: the pages carry no chat widget at all;
- ``entry_unlabelled``: the widget's entry is an icon without words or a name (only a
  configured ``selectors.chat_entry`` finds it).

Items are named by id or name (`gsslj` or `公司设立登记`). The first portal's widget posts a
form by XHR to ``/znkf/ask.do`` and gets an HTML bubble back; the SPA's fetches JSON from
``/api/chat`` (see ``sandbox/spa/chat.py``).
"""

from __future__ import annotations

import asyncio
import html
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Route

from sandbox.catalog import ITEMS, ServiceItem, department_by_code, item_by_id
from sandbox.faults import FaultError, FaultFields
from sandbox.search import normalize
from sandbox.site import SiteArea

AREA_NAME = "assistant"
CANNED = "您好，请问有什么可以帮您？"
BUSY = "系统繁忙，请稍后再试。"
NOTHING = "抱歉，暂未找到与您的问题相关的事项，您可以换个说法，或拨打12345政务服务便民热线咨询。"
_ITEM_LISTS = ("slow_items", "canned_items", "unrelated_items", "error_items", "link_only_items")
MAX_CANDIDATES = 3


@dataclass
class AssistantFaults(FaultFields):
    """Chat widget defects; the default instance is a healthy, prompt assistant."""

    widget_missing: bool = False
    entry_unlabelled: bool = False
    answer_delay_ms: int = 300  # how long a healthy answer takes
    slow_items: list[str] = field(default_factory=list)
    slow_ms: int = 12_000  # how long a slow answer takes
    canned_items: list[str] = field(default_factory=list)
    unrelated_items: list[str] = field(default_factory=list)
    error_items: list[str] = field(default_factory=list)
    link_only_items: list[str] = field(default_factory=list)

    def _check_rules(self, name: str, value: Any) -> None:
        if name in _ITEM_LISTS and (unknown := [ref for ref in value if _item(ref) is None]):
            raise FaultError(name, f"no such item in the catalog: {'、'.join(unknown)}")

    def hits(self, name: str, item: ServiceItem) -> bool:
        """Whether the item list `name` names `item`."""
        refs: list[str] = getattr(self, name)
        return any((found := _item(ref)) is not None and found.id == item.id for ref in refs)


def _item(ref: str) -> ServiceItem | None:
    return item_by_id(ref) or next((item for item in ITEMS if item.name == ref), None)


@dataclass(frozen=True)
class Reply:
    """What the bot says: text, links (text, item id) and how long it takes."""

    status: int
    text: str
    links: tuple[tuple[str, str], ...] = ()
    delay_ms: int = 0


def matched_item(question: str) -> ServiceItem | None:
    """The item the question names: the longest name or alias found in it."""
    folded = normalize(question)
    best: tuple[int, ServiceItem] | None = None
    for item in ITEMS:
        for name in (item.name, *item.aliases):
            key = normalize(name)
            if key and key in folded and (best is None or len(key) > best[0]):
                best = (len(key), item)
    return best[1] if best else None


def candidates(question: str) -> list[ServiceItem]:
    """Items sharing the most two-character pieces with the question (相关事项)."""
    folded = normalize(question)
    pairs = {folded[i : i + 2] for i in range(len(folded) - 1)}
    scored = [(sum(p in normalize(item.name) for p in pairs), item) for item in ITEMS]
    ranked = sorted((pair for pair in scored if pair[0] >= 2), key=lambda pair: -pair[0])
    return [item for _, item in ranked[:MAX_CANDIDATES]]


def _about(item: ServiceItem) -> str:
    department = department_by_code(item.department)
    where = department.name if department else "相关部门"
    how = "可全程网上办理，无需到现场" if item.visits == 0 else f"需到现场{item.visits}次"
    limit = "即时办结" if item.promised_limit == "即办" else f"承诺{item.promised_limit}内办结"
    return f"{item.name}由{where}受理，{how}，{limit}。"


def _unrelated(item: ServiceItem) -> ServiceItem:
    """Another item, from the other half of the catalog."""
    index = next(i for i, found in enumerate(ITEMS) if found.id == item.id)
    return ITEMS[(index + len(ITEMS) // 2) % len(ITEMS)]


def reply_to(question: str, faults: AssistantFaults) -> Reply:
    """The bot's reply to `question` under `faults`."""
    state = faults.snapshot()
    delay = state.answer_delay_ms
    item = matched_item(question)
    if item is None:
        found = candidates(question)
        if not found:
            return Reply(200, NOTHING, delay_ms=delay)
        links = tuple((f.name, f.id) for f in found)
        return Reply(200, "您是不是想咨询以下事项？请点击查看：", links, delay)
    if state.hits("slow_items", item):
        delay = state.slow_ms
    if state.hits("error_items", item):
        return Reply(500, BUSY, delay_ms=delay)
    if state.hits("canned_items", item):
        return Reply(200, CANNED, delay_ms=delay)
    if state.hits("unrelated_items", item):
        other = _unrelated(item)
        return Reply(200, _about(other) + "详见：", ((f"{other.name}办事指南", other.id),), delay)
    if state.hits("link_only_items", item):
        return Reply(200, "您咨询的事项请点击查看办事指南：", (("查看办事指南", item.id),), delay)
    return Reply(200, _about(item) + "详见：", ((f"{item.name}办事指南", item.id),), delay)


async def wait_for(reply: Reply) -> None:
    if reply.delay_ms:
        await asyncio.sleep(reply.delay_ms / 1000)


def _bubble(reply: Reply) -> str:
    links = "".join(
        f'<li><a href="/item/{html.escape(item_id)}">{html.escape(text)}</a></li>'
        for text, item_id in reply.links
    )
    listed = f'<ul class="znkf-links">{links}</ul>' if links else ""
    return f'<div class="znkf-msg znkf-bot"><p>{html.escape(reply.text)}</p>{listed}</div>'


def assistant_area(faults: AssistantFaults) -> SiteArea:
    """The first portal's 智能客服 answer endpoint: a form post answered by an HTML bubble."""

    async def ask(request: Request) -> Response:
        form = await request.form()
        question = str(form.get("question", "")).strip()
        reply = reply_to(question, faults) if question else Reply(200, "请输入您要咨询的问题。")
        await wait_for(reply)
        if reply.status >= 500:
            body = "<html><head><title>500 Internal Server Error</title></head><body>Error</body>"
            return HTMLResponse(body, status_code=reply.status)
        return HTMLResponse(_bubble(reply))

    routes: list[BaseRoute] = [Route("/znkf/ask.do", ask, methods=["POST"])]
    return SiteArea(AREA_NAME, routes, faults)
