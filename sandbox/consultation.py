"""我要咨询 and 咨询回复查询: the portal's consultation pages, served by a `ConsultationDesk`.

    GET  /consult          the form, 咨询须知 and 信件选登 (published, answered letters)
    POST /consult          register the letter → 信件编号 and 查询码, or 系统繁忙 (submit_fails)
    GET  /consult/query    the query form (信件编号 + 查询码)
    POST /consult/query    the letter's status and reply, or "信件编号或查询码不正确"

`consultation_area(desk)` is the `SiteArea` to mount into the portal; its faults live at
/__sandbox/faults/consultation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Route

from sandbox.catalog import DEPARTMENTS
from sandbox.consultation_desk import SHANGHAI, ConsultationDesk, Letter
from sandbox.layout import render, render_bare
from sandbox.rating import RatingFaults, rating_after_reply, rating_faults_of
from sandbox.site import SiteArea

AREA_NAME = "consultation"
KINDS = ("咨询", "投诉", "建议")
UNSURE_DEPARTMENT = "不确定（由平台转办）"
_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
TITLE_MAX, CONTENT_MIN, CONTENT_MAX = 50, 10, 1000


@dataclass(frozen=True, slots=True)
class PublishedLetter:
    """An answered letter the portal publishes (信件选登)."""

    date: str
    kind: str
    title: str
    department: str


PUBLISHED: tuple[PublishedLetter, ...] = (
    PublishedLetter("2024-06-26", "咨询", "异地就医备案后能否直接结算门诊费用", "省医疗保障局"),
    PublishedLetter("2024-06-21", "投诉", "公积金提取网上申请多次提交不成功", "省住房和城乡建设厅"),
    PublishedLetter("2024-06-17", "咨询", "个体工商户经营范围变更需要哪些材料", "省市场监督管理局"),
    PublishedLetter("2024-06-11", "建议", "建议增加不动产登记预约的夜间时段", "省自然资源厅"),
)


def consultation_area(desk: ConsultationDesk) -> SiteArea:
    """The consultation pages of the portal, governed by ``desk.faults``."""
    return SiteArea(AREA_NAME, consultation_routes(desk), desk.faults)


def consultation_routes(desk: ConsultationDesk) -> list[BaseRoute]:
    departments = [dept.name for dept in DEPARTMENTS] + [UNSURE_DEPARTMENT]

    def form_page(request: Request, values: dict[str, str], errors: list[str]) -> Response:
        return render(
            request,
            "consult_form.html",
            _worded(
                desk,
                {
                    "values": values,
                    "errors": errors,
                    "kinds": KINDS,
                    "departments": departments,
                    "published": PUBLISHED,
                    "limits": {
                        "title": TITLE_MAX,
                        "content_min": CONTENT_MIN,
                        "content": CONTENT_MAX,
                    },
                    "unlabelled": desk.faults.form_unlabelled,
                },
            ),
        )

    async def show_form(request: Request) -> Response:
        chosen = "" if desk.faults.department_required else UNSURE_DEPARTMENT
        return form_page(request, {"kind": KINDS[0], "department": chosen}, [])

    async def submit(request: Request) -> Response:
        form = await request.form()
        values = {key: str(value).strip() for key, value in form.items()}
        errors = _problems(values, departments)
        if errors:
            return form_page(request, values, errors)
        if desk.faults.submit_fails:
            # What real desks answer when their back end is down: a polite 200 page.
            return render(request, "consult_result.html", _worded(desk, {"letter": None}))
        letter = desk.submit(
            kind=values["kind"],
            department=values["department"],
            title=values["title"],
            content=values["content"],
            name=values["name"],
            phone=values["phone"],
        )
        return render(
            request,
            "consult_result.html",
            _worded(desk, {"letter": _shown(letter, desk.replier)}),
        )

    async def query_form(request: Request) -> Response:
        if desk.faults.query_fails:
            return HTMLResponse(render_bare("error.html"), status_code=500)
        return render(
            request,
            "consult_query.html",
            _worded(
                desk, {"number": "", "asked": False, "unlabelled": desk.faults.form_unlabelled}
            ),
        )

    async def query(request: Request) -> Response:
        if desk.faults.query_fails:
            return HTMLResponse(render_bare("error.html"), status_code=500)
        form = await request.form()
        number = str(form.get("number", "")).strip()
        code = str(form.get("code", "")).strip()
        letter = desk.look_up(number, code) if code else None
        return render(
            request,
            "consult_query.html",
            _worded(
                desk,
                {
                    "number": number,
                    "asked": True,
                    "unlabelled": desk.faults.form_unlabelled,
                    "letter": (
                        _shown(letter, desk.replier, rating_faults_of(request))
                        if letter is not None
                        else None
                    ),
                },
            ),
        )

    return [
        Route("/consult", show_form, methods=["GET"]),
        Route("/consult", submit, methods=["POST"]),
        Route("/consult/query", query_form, methods=["GET"]),
        Route("/consult/query", query, methods=["POST"]),
    ]


def _worded(desk: ConsultationDesk, context: dict[str, Any]) -> dict[str, Any]:
    """The page context with this desk's wording faults (receipt style, query entry name)."""
    faults = desk.faults.snapshot()
    return {
        **context,
        "receipt_wording": faults.receipt_wording,
        "query_label": faults.query_label,
        "department_required": faults.department_required,
    }


def _problems(values: dict[str, str], departments: list[str]) -> list[str]:
    """What the form's own validation says, in the words portals use."""
    problems = []
    if values.get("kind") not in KINDS:
        problems.append("请选择信件类型")
    if values.get("department") not in departments:
        problems.append("请选择受理部门")
    title = values.get("title", "")
    if not title:
        problems.append("信件标题不能为空")
    elif len(title) > TITLE_MAX:
        problems.append(f"信件标题不能超过{TITLE_MAX}个字")
    content = values.get("content", "")
    if not CONTENT_MIN <= len(content) <= CONTENT_MAX:
        problems.append(f"信件内容应为{CONTENT_MIN}至{CONTENT_MAX}个字")
    if not values.get("name"):
        problems.append("请填写姓名")
    if not _MOBILE.match(values.get("phone", "")):
        problems.append("请填写正确的手机号码")
    email = values.get("email", "")
    if email and not _EMAIL.match(email):
        problems.append("电子邮箱格式不正确")
    if values.get("agree") != "1":
        problems.append("请阅读并同意《网上咨询须知》")
    return problems


def _shown(letter: Letter, desk_name: str, rating: RatingFaults | None = None) -> dict[str, Any]:
    """A letter as the pages print it: Beijing time, to the minute; a replied letter with
    its 评价 entry (none under the rating fault ``no_rating_after_reply``)."""
    transferred = letter.department == UNSURE_DEPARTMENT
    return {
        "number": letter.number,
        "code": letter.code,
        "kind": letter.kind,
        "department": letter.department,
        "title": letter.title,
        "content": letter.content,
        "submitted": f"{letter.submitted_at.astimezone(SHANGHAI):%Y-%m-%d %H:%M}",
        "status": letter.status,
        "replied": (
            f"{letter.replied_at.astimezone(SHANGHAI):%Y-%m-%d %H:%M}"
            if letter.replied_at is not None
            else ""
        ),
        "reply": letter.reply,
        "replier": desk_name if transferred else letter.department,
        "rate": rating_after_reply(rating, letter.number, spa=False) if letter.replied_at else "",
    }
