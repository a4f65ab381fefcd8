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
from sandbox.consultation_desk import ConsultationDesk
from sandbox.faults import FaultSection, PortalFaults
from sandbox.guide_faults import GuideFaults, _defects, _empty_themes, _GuideView, _process
from sandbox.layout import PORTAL_SITE
from sandbox.portal import blank_form, sample_form
from sandbox.registration import SMS_INBOX_PATH, registration_routes
from sandbox.registration_state import RegistrationDesk
from sandbox.search import SearchIndex, normalize
from sandbox.site import create_site_app
from sandbox.spa.faults import SpaFaults

STATIC = Path(__file__).parent / "static"
PAGE_SIZE = 5  # the first portal shows 10 a page
_PHONE = re.compile(r"^1[3-9]\d{9}$")


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


def _guide(item: ServiceItem, guides: GuideFaults, spa: SpaFaults) -> dict[str, Any]:
    """The guide as the API hands it out: labelled entries, materials and steps, with the
    guide faults of the first portal (the same `_defects`) applied."""
    changes, department, forms = _defects(item, guides.snapshot())
    shown: Any = _GuideView(item, changes)
    entries: list[tuple[str, str]] = [  # (label shown, value); an empty value is left out
        ("办理依据", "；".join(shown.basis)),
        ("申请条件", "；".join(shown.conditions)),
        ("法定办结时限", shown.legal_limit),
        ("承诺办结时限", shown.promised_limit),
        ("是否收费", shown.fee),
        ("受理地点", shown.location or department.window),
        ("咨询方式", department.consult_phone),
        ("投诉电话", department.complaint_phone),
    ]
    materials = [
        {
            "name": m.name,
            "from": m.source,
            "shape": f"{m.medium}{m.form}",
            "count": "" if m.copies is None else str(m.copies),
            "note": m.note or "无",
        }
        for m in shown.materials
    ]
    files = f"/uploads/bszn/2019/{item.id}" if forms == "dead" else f"/files/{item.id}"
    return {
        "id": item.id,
        "name": item.name,
        "dept": department.name,
        "kind": item.kind,
        "result": item.result,
        "info": [(label, value) for label, value in entries if value],
        "materials": materials,
        "steps": [
            {"name": s.name, "what": s.description, "limit": s.time_limit}
            for s in _process(item, changes)
        ],
        "wide": spa.mobile_overflow,
        "banner": spa.mobile_broken_image,
        "tiny": spa.mobile_tiny_text,
        "track": spa.mobile_script_error,
        "blank_form": None
        if forms == "none"
        else {"name": item.blank_form_name, "href": f"{files}/blank.docx"},
        "sample_form": None if forms in ("none", "no_sample") else f"{files}/sample.pdf",
    }


def spa_routes(
    portal: PortalFaults,
    spa: SpaFaults,
    registration: RegistrationDesk,
    consultation: ConsultationDesk,
    guides: GuideFaults,
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
        return HTMLResponse(html)

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
        items = [] if emptied else [_card(i) for i in items_of_theme(audience, theme)]
        return JSONResponse({"theme": theme, "items": items})

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
        if item is None:
            return JSONResponse({"code": 404, "msg": "事项不存在"}, status_code=404)
        return JSONResponse(_guide(item, guides, spa))

    async def register_rules(request: Request) -> Response:
        await delay()
        kind = request.query_params.get("kind", "personal")
        return JSONResponse({"pattern": registration.faults.for_form(kind).phone_regex()})

    async def phone_check(request: Request) -> Response:
        # The availability check many portals make when the phone field is left.
        await delay()
        phone = str((await request.json()).get("phone", ""))
        if not _PHONE.match(phone) or phone[:3] in spa.server_rejected_segments:
            return JSONResponse({"ok": False, "msg": "该手机号码不正确，请重新输入"})
        return JSONResponse({"ok": True, "msg": ""})

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
            }
        )

    return [
        Route("/", shell, methods=["GET"]),
        Route("/api/home", home, methods=["GET"]),
        Route("/api/list/{aud}", listing, methods=["GET"]),
        Route("/api/search", search, methods=["GET"]),
        Route("/api/items/{item_id}", guide, methods=["GET"]),
        Route("/api/register/rules", register_rules, methods=["GET"]),
        Route("/api/register/phone-check", phone_check, methods=["POST"]),
        Route("/api/departments", departments, methods=["GET"]),
        Route("/api/letters", consult, methods=["POST"]),
        Route("/api/letters/query", consult_query, methods=["POST"]),
        # The guides' form files: the first portal's, under the same paths.
        Route("/files/{item_id}/blank.docx", blank_form, methods=["GET"]),
        Route("/files/{item_id}/sample.pdf", sample_form, methods=["GET"]),
        Mount("/spa", StaticFiles(directory=STATIC), name="spa"),
        # 获取短信验证码 and the test SIM's inbox: the first portal's, on the same desk.
        *(
            route
            for route in registration_routes(registration)
            if getattr(route, "path", "") in ("/register/sms-code", SMS_INBOX_PATH)
        ),
    ]


def create_spa_app(
    portal: PortalFaults,
    spa: SpaFaults,
    registration: RegistrationDesk,
    consultation: ConsultationDesk,
    guides: GuideFaults,
) -> Starlette:
    """The SPA portal app; every section can change while it serves."""
    sections: dict[str, FaultSection] = {
        "spa": spa,
        "registration": registration.faults,
        "consultation": consultation.faults,
        "guides": guides,
    }
    return create_site_app(
        spa_routes(portal, spa, registration, consultation, guides),
        site=PORTAL_SITE,
        page_faults=portal,
        faults=portal,
        more_faults=sections,
    )
