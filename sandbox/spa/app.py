"""示范省一体化政务服务平台 (SPA style): one HTML shell, a hash router, JSON APIs.

The second sandbox style, built the way many provincial portals are today: the browser
loads ``/`` once and renders every view (``#/search?q=…``, ``#/item/<id>``, ``#/register``,
``#/consult``, ``#/query``, ``#/list/<audience>``) from ``/api/…`` answers that take
``spa.api_delay_ms``, behind a loading spinner. It reads the same catalog and the same
fault sections as the first portal, with wording of its own wherever a probe reads text.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from sandbox.assistant import AREA_NAME as ASSISTANT_AREA
from sandbox.assistant import AssistantFaults
from sandbox.care import AREA_NAME as CARE_AREA
from sandbox.care import ICON, ICON_NAMES, AccessibilityFaults
from sandbox.catalog import (
    DEPARTMENTS,
    HOT_ITEM_IDS,
    ITEMS,
    Audience,
    ServiceItem,
    department_by_code,
    item_by_id,
    items_of_theme,
    themes_of,
)
from sandbox.consistency import AREA_NAME as CONSISTENCY_AREA
from sandbox.consistency import ConsistencyFaults, diverged
from sandbox.consultation_desk import ConsultationDesk
from sandbox.faults import FaultSection, PortalFaults
from sandbox.guide_faults import (
    GuideFaults,
    _defects,
    _empty_themes,
    _GuideView,
    _missing_for,
)
from sandbox.layout import PORTAL_SITE
from sandbox.online import AREA_NAME as ONLINE_AREA
from sandbox.online import (
    OFFLINE_NOTICE,
    OnlineFaults,
    apply_mode,
    listed,
    more_links,
    online_entry,
)
from sandbox.portal import blank_form, sample_form
from sandbox.rating import AREA_NAME as RATING_AREA
from sandbox.rating import RatingFaults, rating_after_reply, rating_entry, review_rows
from sandbox.registration import SMS_INBOX_PATH, registration_routes
from sandbox.registration_state import RegistrationDesk
from sandbox.search import SearchIndex, normalize
from sandbox.site import create_site_app
from sandbox.spa.chat import spa_chat_routes
from sandbox.spa.faults import SpaFaults
from sandbox.spa.registration import spa_registration_routes

STATIC = Path(__file__).parent / "static"
PAGE_SIZE = 5  # the first portal shows 10 a page


def _card(item: ServiceItem) -> dict[str, str]:
    department = department_by_code(item.department)
    return {"id": item.id, "name": item.name, "dept": department.name if department else ""}


def _listing(query: str, hidden: list[str]) -> list[ServiceItem]:
    """What the SPA's search lists, in 事项编码 (catalog) order, not by relevance: every
    item the index finds, and every item sharing two characters in a row with the query
    (相关事项). So an exact match may well be on page 2 (``公司设立登记`` is 6th)."""
    folded = normalize(query)
    if not folded:
        return []
    found = {hit.item.id for hit in SearchIndex(ITEMS, hidden).search(query)}
    pairs = {folded[i : i + 2] for i in range(len(folded) - 1)}
    gone = {normalize(name) for name in hidden}
    return [
        item
        for item in ITEMS
        if normalize(item.name) not in gone
        and (item.id in found or any(pair in normalize(item.name) for pair in pairs))
    ]


def _guide(
    item: ServiceItem,
    guides: GuideFaults,
    spa: SpaFaults,
    online: OnlineFaults,
    rating: RatingFaults | None = None,
) -> dict[str, Any]:
    """The guide as the API hands it out: labelled entries, materials and steps.

    The guide faults apply as on the first portal (``_defects``): an element in
    ``missing_elements`` loses its entry, one in ``empty_elements`` is printed as 暂无.
    """
    changes, department, forms = _defects(item, guides.snapshot())
    view = _GuideView(item, changes)
    entry = online_entry(item, online, spa=True)
    entries: list[tuple[str, str, str]] = [  # (element, label shown, value)
        ("事项编码", "实施编码", view.code),
        ("办理对象", "服务对象", view.audience_label),
        ("办件类型", "办件类型", view.handling_type),
        ("设定依据", "办理依据", "；".join(view.basis)),
        ("受理条件", "申请条件", "；".join(view.conditions)),
        ("办理时限", "法定办结时限", view.legal_limit),
        ("办理时限", "承诺办结时限", view.promised_limit),
        ("到现场次数", "到现场次数", view.visits_label and entry.visits_label),
        ("收费标准", "是否收费", view.fee),
        ("中介服务", "是否涉及中介服务", view.intermediary),
        ("办理地点", "受理地点", view.location or department.window),
        ("受理时间", "受理时间", view.hours),
        ("咨询电话", "咨询方式", department.consult_phone),
        ("监督投诉电话", "投诉电话", department.complaint_phone),
    ]
    missing = set(_missing_for(item, guides))
    materials = [
        {
            "name": m.name,
            "from": m.source,
            "shape": f"{m.medium}{m.form}",
            "count": "" if m.copies is None else str(m.copies),
            "note": m.note or "无",
        }
        for m in view.materials
    ]
    files = f"/uploads/bszn/2019/{item.id}" if forms == "dead" else f"/files/{item.id}"
    return {
        "id": item.id,
        "name": item.name,
        "dept": department.name,
        "kind": item.kind,
        "result": item.result,
        "info": [(label, value or "暂无") for name, label, value in entries if name not in missing],
        "materials": [] if "申请材料" in missing else materials,
        "steps": []
        if "办理流程" in missing
        else [{"name": s.name, "what": s.description, "limit": s.time_limit} for s in view.process],
        "wide": spa.mobile_overflow,
        "banner": spa.mobile_broken_image,
        "tiny": spa.mobile_tiny_text,
        "track": spa.mobile_script_error,
        "blank_form": None
        if forms == "none"
        else {"name": item.blank_form_name, "href": f"{files}/blank.docx"},
        "sample_form": None if forms in ("none", "no_sample") else f"{files}/sample.pdf",
        "online": entry.__dict__,
        "rating": rated.__dict__ if (rated := rating_entry(item, rating, spa=True)) else None,
    }


def _with_care_faults(html: str, faults: AccessibilityFaults) -> str:
    """The shell under the care and accessibility faults (`sandbox.care`)."""
    if faults.care_mode_missing:
        html = re.sub(r'  <button type="button" id="care-switch"[^\n]*\n', "", html)
    elif faults.care_mode_inert:
        html = html.replace('id="care-switch"', 'id="care-switch" data-inert="1"')
    if faults.pc_violations:
        icons = "".join(
            f'<img class="quick-icon" src="{ICON}" width="32" height="32">' for _ in ICON_NAMES
        )
        bar = (
            f'<div class="quick-bar">{icons}<input type="text" class="quick-input">'
            '<span class="hotline-low">服务热线：12345</span></div>\n'
        )
        html = html.replace('<main id="view">', bar + '<main id="view">')
    return html


def spa_routes(
    portal: PortalFaults,
    spa: SpaFaults,
    registration: RegistrationDesk,
    consultation: ConsultationDesk,
    guides: GuideFaults,
    online: OnlineFaults,
    consistency: ConsistencyFaults,
    assistant: AssistantFaults,
    rating: RatingFaults,
    accessibility: AccessibilityFaults,
) -> list[BaseRoute]:
    """The shell, its static files and the JSON APIs the shell renders from."""

    async def delay(extra_ms: int = 0) -> None:
        wait_ms = spa.api_delay_ms + extra_ms
        if wait_ms:
            await asyncio.sleep(wait_ms / 1000)

    async def shell(request: Request) -> Response:
        html = (STATIC / "index.html").read_text(encoding="utf-8")
        if spa.mobile_no_viewport:
            html = re.sub(r'<meta name="viewport"[^>]*>\n?', "", html)
        return HTMLResponse(_with_care_faults(html, accessibility.snapshot()))

    async def home(request: Request) -> Response:
        await delay()
        hot = [_card(item) for item_id in HOT_ITEM_IDS if (item := item_by_id(item_id))]
        return JSONResponse({"hot": hot})

    async def listing(request: Request) -> Response:
        # A column: its themes; with ?theme=, the items of one theme (none when emptied).
        await delay()
        audience = Audience.LEGAL if request.path_params["aud"] == "legal" else Audience.PERSONAL
        theme = request.query_params.get("theme")
        if theme is None:
            return JSONResponse({"themes": list(themes_of(audience))})
        emptied = (audience, theme) in _empty_themes(guides)
        found = () if emptied else items_of_theme(audience, theme)
        items = [_card(i) for i in listed(found, online)]
        return JSONResponse(
            {"theme": theme, "items": items, "more": more_links(found, online, True)}
        )

    async def search(request: Request) -> Response:
        faults = portal.snapshot()
        await delay(spa.search_delay_ms)
        if faults.search_500:
            return JSONResponse({"code": 500, "msg": "检索服务异常"}, status_code=500)
        query = request.query_params.get("q", "").strip()
        try:
            page = max(1, int(request.query_params.get("page", "1")))
        except ValueError:
            page = 1
        hits = [] if faults.search_empty else _listing(query, faults.items_missing)
        if any(normalize(word) in normalize(query) for word in faults.error_keywords):
            return JSONResponse({"code": 500, "msg": "检索服务异常"}, status_code=500)
        served = 1 if spa.pager_stuck else page  # the fault: the page number is ignored
        shown = hits[(served - 1) * PAGE_SIZE : served * PAGE_SIZE]
        return JSONResponse(
            {
                "total": len(hits),
                "page": page,
                "size": PAGE_SIZE,
                "list": list(map(_card, shown)),
                # A healthy variant: later pages' cards open by script, without links.
                "linked": not (spa.next_page_unlinked and page > 1),
            }
        )

    async def guide(request: Request) -> Response:
        await delay()
        item = item_by_id(request.path_params["item_id"])
        if item is None or consistency.withdrawn(item):
            return JSONResponse({"code": 404, "msg": "事项不存在"}, status_code=404)
        return JSONResponse(_guide(diverged(item, consistency), guides, spa, online, rating))

    async def application(request: Request) -> Response:
        # What #/apply/<id> shows: the form, the unified login in front of it, or a refusal.
        await delay()
        item = item_by_id(request.path_params["item_id"])
        if item is None:
            return JSONResponse({"code": 404, "msg": "事项不存在"}, status_code=404)
        mode = apply_mode(item, online)
        msg = OFFLINE_NOTICE if mode == "offline" else ""
        return JSONResponse({"id": item.id, "name": item.name, "mode": mode, "msg": msg})

    async def more(request: Request) -> Response:
        await delay()
        item = item_by_id(request.path_params["item_id"])
        level = int(request.path_params["level"])
        state = online.snapshot()
        if (
            item is None
            or item.id not in state.buried_ids()
            or not 1 <= level <= state.buried_depth
        ):
            return JSONResponse({"code": 404, "msg": "页面不存在"}, status_code=404)
        onward = f"#/more/{item.id}/{level + 1}" if level < state.buried_depth else ""
        return JSONResponse({"level": level, "onward": onward, "item": _card(item)})

    async def departments(request: Request) -> Response:
        await delay()
        return JSONResponse({"list": [{"code": d.code, "name": d.name} for d in DEPARTMENTS]})

    async def consult(request: Request) -> Response:
        await delay()
        data = await request.json()
        if consultation.faults.submit_fails:
            return JSONResponse({"ok": False, "msg": "系统繁忙，信件提交失败，请稍后重试"})
        required = ("dept", "title", "content", "name", "phone")
        if any(not str(data.get(key, "")).strip() for key in required):
            return JSONResponse({"ok": False, "msg": "请填写完整信息"})
        department = department_by_code(str(data["dept"]))
        letter = consultation.submit(
            kind=str(data.get("kind") or "咨询"),
            department=department.name if department else str(data["dept"]),
            title=str(data["title"]),
            content=str(data["content"]),
            name=str(data["name"]),
            phone=str(data["phone"]),
        )
        return JSONResponse({"ok": True, "number": letter.number, "code": letter.code})

    async def consult_query(request: Request) -> Response:
        await delay()
        if consultation.faults.query_fails:
            return JSONResponse({"ok": False, "msg": "系统异常"}, status_code=500)
        data = await request.json()
        letter = consultation.look_up(str(data.get("number", "")), str(data.get("code", "")))
        if letter is None:
            return JSONResponse({"ok": False, "msg": "信件编号或查询码不正确"})
        return JSONResponse(
            {
                "ok": True,
                "number": letter.number,
                "title": letter.title,
                "status": letter.status,
                "submitted": f"{letter.submitted_at:%Y-%m-%d %H:%M}",
                "replied": f"{letter.replied_at:%Y-%m-%d %H:%M}" if letter.replied_at else "",
                "reply": letter.reply,
                "rate": rating_after_reply(rating, letter.number, spa=True)
                if letter.replied_at
                else "",
            }
        )

    async def published_reviews(request: Request) -> Response:
        await delay()
        return JSONResponse({"title": "评价公开", "list": review_rows(rating)})

    return [
        Route("/", shell, methods=["GET"]),
        Route("/api/home", home, methods=["GET"]),
        Route("/api/list/{aud}", listing, methods=["GET"]),
        Route("/api/search", search, methods=["GET"]),
        Route("/api/items/{item_id}", guide, methods=["GET"]),
        *spa_registration_routes(registration, spa, delay),
        Route("/api/apply/{item_id}", application, methods=["GET"]),
        Route("/api/more/{item_id}/{level:int}", more, methods=["GET"]),
        Route("/api/departments", departments, methods=["GET"]),
        Route("/api/letters", consult, methods=["POST"]),
        Route("/api/letters/query", consult_query, methods=["POST"]),
        *spa_chat_routes(assistant, delay),
        Route("/api/reviews", published_reviews, methods=["GET"]),
        # The guides' form files: the first portal's, under the same paths.
        Route("/files/{item_id}/blank.docx", blank_form, methods=["GET"]),
        Route("/files/{item_id}/sample.pdf", sample_form, methods=["GET"]),
        Mount("/spa", StaticFiles(directory=STATIC), name="spa"),
        # The test SIM's inbox: the first portal's, on the same desk.
        *(
            route
            for route in registration_routes(registration)
            if getattr(route, "path", "") == SMS_INBOX_PATH
        ),
    ]


def create_spa_app(
    portal: PortalFaults,
    spa: SpaFaults,
    registration: RegistrationDesk,
    consultation: ConsultationDesk,
    guides: GuideFaults,
    online: OnlineFaults | None = None,
    consistency: ConsistencyFaults | None = None,
    assistant: AssistantFaults | None = None,
    rating: RatingFaults | None = None,
    accessibility: AccessibilityFaults | None = None,
) -> Starlette:
    """The SPA portal app; every section can change while it serves."""
    online = online if online is not None else OnlineFaults()
    consistency = consistency if consistency is not None else ConsistencyFaults()
    assistant = assistant if assistant is not None else AssistantFaults()
    rating = rating if rating is not None else RatingFaults()
    accessibility = accessibility if accessibility is not None else AccessibilityFaults()
    sections: dict[str, FaultSection] = {
        "spa": spa,
        "registration": registration.faults,
        "consultation": consultation.faults,
        "guides": guides,
        ONLINE_AREA: online,
        CONSISTENCY_AREA: consistency,
        ASSISTANT_AREA: assistant,
        RATING_AREA: rating,
        CARE_AREA: accessibility,
    }
    return create_site_app(
        spa_routes(
            portal,
            spa,
            registration,
            consultation,
            guides,
            online,
            consistency,
            assistant,
            rating,
            accessibility,
        ),
        site=PORTAL_SITE,
        page_faults=portal,
        faults=portal,
        more_faults=sections,
    )
