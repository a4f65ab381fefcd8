"""The public 通报: months a supervisor published, readable without signing in.

    /public/bulletins              the published months
    /public/bulletins/2026-11      one month: ranking, levels, 红榜/黑榜, deduction details
    /public/bulletins/2026-11.xlsx the same as a workbook
    /public/bulletins.atom         an Atom feed of published months

Every page reads the frozen snapshot of ``tasks.bulletins`` only (unit names and figures),
so nothing here can show a contact, an evidence file or a task. A month not published is
404, the same answer as a month that does not exist.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates
from openpyxl import Workbook

from bot.console.sheets import Sheet, workbook, xlsx_response
from bot.services import Services
from bot.web_state import get_services, get_templates
from tasks.bulletins import BulletinSnapshot, published_bulletin, published_bulletins
from tasks.models import Bulletin

MONTH = re.compile(r"\d{4}-\d{2}")
ATOM = "http://www.w3.org/2005/Atom"
NOT_PUBLISHED = "该月通报未公开发布"
router = APIRouter(prefix="/public/bulletins")


@router.get("", response_class=HTMLResponse)
def bulletin_list(
    request: Request,
    services: Services = Depends(get_services),
    templates: Jinja2Templates = Depends(get_templates),
) -> Response:
    with services.sessions() as session:
        months = [
            (b.month, BulletinSnapshot.from_json(b.snapshot).title)
            for b in published_bulletins(session)
        ]
    return templates.TemplateResponse(request, "public/bulletins.html", {"months": months})


# Before /{month}: a feed reader asks for /public/bulletins.atom, not a month.
@router.get(".atom")
def feed(services: Services = Depends(get_services)) -> Response:
    with services.sessions() as session:
        published = list(published_bulletins(session))
    base = services.settings.public_url.rstrip("/")
    return Response(atom_feed(published, base), media_type="application/atom+xml; charset=utf-8")


@router.get("/{month}.xlsx")
def bulletin_xlsx(month: str, services: Services = Depends(get_services)) -> Response:
    snapshot, _ = published(services, month)
    return xlsx_response(bulletin_book(snapshot), f"{snapshot.title}.xlsx")


@router.get("/{month}", response_class=HTMLResponse)
def bulletin_page(
    request: Request,
    month: str,
    services: Services = Depends(get_services),
    templates: Jinja2Templates = Depends(get_templates),
) -> Response:
    snapshot, bulletin = published(services, month)
    return templates.TemplateResponse(
        request,
        "public/bulletin.html",
        {
            "snapshot": snapshot,
            "published_on": bulletin.published_at.astimezone(services.zone).date(),
        },
    )


def published(services: Services, month: str) -> tuple[BulletinSnapshot, Bulletin]:
    """The published month's snapshot, or 404."""
    if not MONTH.fullmatch(month):
        raise HTTPException(404, NOT_PUBLISHED)
    with services.sessions() as session:
        found = published_bulletin(session, month)
    if found is None:
        raise HTTPException(404, NOT_PUBLISHED)
    return BulletinSnapshot.from_json(found.snapshot), found


def bulletin_book(snapshot: BulletinSnapshot) -> Workbook:
    """One sheet per table of the snapshot; the first also names the red and black lists."""
    book = workbook()
    for n, table in enumerate(snapshot.tables):
        sheet = Sheet(book, table.title[:31], first=n == 0)
        sheet.title(f"{snapshot.title}：{table.title}", min(len(table.columns), 8))
        widths = [28 if name == "责任单位" else 10 for name in table.columns]
        sheet.header(table.columns, widths)
        sheet.rows(table.rows)
        if n == 0:
            sheet.line("")
            sheet.line(f"红榜（≥{snapshot.red_at:g} 分）：{snapshot.red_list}")
            sheet.line(f"黑榜（<{snapshot.black_below:g} 分）：{snapshot.black_list}")
            sheet.line(f"数据截至 {snapshot.figures_of}")
    return book


def atom_feed(bulletins: Sequence[Bulletin], base: str) -> bytes:
    """An Atom 1.0 feed, one entry per published month (newest first)."""
    ET.register_namespace("", ATOM)

    def add(parent: ET.Element, tag: str, text: str = "", **attrs: str) -> ET.Element:
        element = ET.SubElement(parent, f"{{{ATOM}}}{tag}", attrs)
        if text:
            element.text = text
        return element

    root = ET.Element(f"{{{ATOM}}}feed")
    add(root, "id", f"{base}/public/bulletins")
    add(root, "title", "政务服务平台整改工作通报")
    add(root, "link", href=f"{base}/public/bulletins.atom", rel="self")
    add(root, "link", href=f"{base}/public/bulletins")
    newest = max((b.published_at for b in bulletins), default=None)
    add(root, "updated", newest.isoformat() if newest else "2000-01-01T00:00:00+00:00")
    add(add(root, "author"), "name", "govpatrol")
    for bulletin in bulletins:
        snapshot = BulletinSnapshot.from_json(bulletin.snapshot)
        page = f"{base}/public/bulletins/{bulletin.month}"
        entry = add(root, "entry")
        add(entry, "id", page)
        add(entry, "title", snapshot.title)
        add(entry, "link", href=page)
        add(entry, "updated", bulletin.published_at.isoformat())
        add(
            entry,
            "summary",
            f"红榜：{snapshot.red_list}；黑榜：{snapshot.black_list}。",
        )
    return bytes(ET.tostring(root, encoding="utf-8", xml_declaration=True))
