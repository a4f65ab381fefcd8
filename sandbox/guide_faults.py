"""Defects of 办事指南 and columns, the ones seed 001 附件1 lists, switchable per item.

`guide_fault_area(faults)` is a `SiteArea` to mount into the portal (faults at
/__sandbox/faults/guides). Its routes stand in for the portal's guide, theme and
department pages: an item or column without a fault is served by the portal's own page;
one with a fault is rendered from the same template with the defect in place.

Items are named by id or by name (`gsslj` or `公司设立登记`); `missing_elements` (the
element's label and value gone) and `empty_elements` (the label printed with nothing under
it) take `item:要素` (`gsslj:设定依据`); `empty_themes` takes a theme, optionally with its column
(`生育收养`, `法人办事:医疗卫生`); `empty_departments` a department code or name.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from sandbox.catalog import (
    DEPARTMENTS,
    ITEMS,
    Audience,
    Department,
    Material,
    ProcessStep,
    ServiceItem,
    department_by_code,
    item_by_id,
    items_of_department,
    items_of_theme,
    themes_of,
)
from sandbox.consistency import as_served
from sandbox.faults import FaultError, FaultFields
from sandbox.guide import standard_steps
from sandbox.layout import render
from sandbox.online import online_entry, online_faults_of
from sandbox.portal import portal_routes
from sandbox.rating import rating_entry, rating_faults_of
from sandbox.site import SiteArea

AREA_NAME = "guides"
# Elements the sandbox can blank out of a guide page.
BLANKABLE_ELEMENTS = (
    "事项编码",
    "办理对象",
    "办件类型",
    "设定依据",
    "受理条件",
    "办理流程",
    "办理时限",
    "到现场次数",
    "收费标准",
    "中介服务",
    "申请材料",
    "办理地点",
    "受理时间",
    "咨询电话",
    "监督投诉电话",
)
VAGUE_LOCATION = "示范市政务服务中心"
FEE_WITHOUT_BASIS = "工本费20元/证"
VAGUE_MATERIAL = "根据有关法律法规规定应提交的其他材料"
_COLUMNS = {
    "个人办事": Audience.PERSONAL,
    "个人": Audience.PERSONAL,
    "法人办事": Audience.LEGAL,
    "法人": Audience.LEGAL,
}
_SEPARATOR = re.compile(r"[:：]")
_ITEM_LISTS = (
    "vague_materials_items",
    "material_format_items",
    "phone_without_area_code_items",
    "contact_equals_supervision_items",
    "time_limit_unclear_items",
    "no_form_items",
    "no_sample_items",
    "dead_form_items",
    "hotline_supervision_items",
    "copy_only_items",
    "bare_steps_items",
    "vague_location_items",
    "fee_without_basis_items",
    "material_source_items",
)


@dataclass
class GuideFaults(FaultFields):
    """Guide and column defects; the default instance is a healthy portal."""

    missing_elements: list[str] = field(default_factory=list)  # label and value gone
    empty_elements: list[str] = field(default_factory=list)  # label printed, nothing under it
    bare_steps_items: list[str] = field(default_factory=list)  # 办理流程 as bare step names
    vague_location_items: list[str] = field(default_factory=list)  # 办理地点 without a window
    fee_without_basis_items: list[str] = field(default_factory=list)  # a charge, no basis
    material_source_items: list[str] = field(default_factory=list)  # first material's source unsaid
    vague_materials_items: list[str] = field(default_factory=list)
    # the first material's form, copies and medium (原件 alone would state paper), the
    # second's original/copy left unsaid
    material_format_items: list[str] = field(default_factory=list)
    phone_without_area_code_items: list[str] = field(default_factory=list)
    contact_equals_supervision_items: list[str] = field(default_factory=list)
    time_limit_unclear_items: list[str] = field(default_factory=list)
    no_form_items: list[str] = field(default_factory=list)  # neither blank form nor sample
    no_sample_items: list[str] = field(default_factory=list)  # blank form only
    dead_form_items: list[str] = field(default_factory=list)  # both links answer 404
    # Healthy variants other portals print, which must pass: the supervision phone is the
    # city's hotline with its area code (0871-12345); every material states only 复印件.
    hotline_supervision_items: list[str] = field(default_factory=list)
    copy_only_items: list[str] = field(default_factory=list)
    empty_themes: list[str] = field(default_factory=list)
    empty_departments: list[str] = field(default_factory=list)

    def _check_rules(self, name: str, value: Any) -> None:
        for entry in value:
            problem = _problem(name, entry)
            if problem:
                raise FaultError(name, problem)


def _problem(name: str, entry: str) -> str | None:
    if name in ("missing_elements", "empty_elements"):
        parts = [part.strip() for part in _SEPARATOR.split(entry, maxsplit=1)]
        if len(parts) != 2 or not parts[1]:
            return f"expected item:要素 such as gsslj:设定依据, got {entry!r}"
        if parts[1] not in BLANKABLE_ELEMENTS:
            return f"{parts[1]!r} is not one of {'、'.join(BLANKABLE_ELEMENTS)}"
        return None if _item(parts[0]) else f"no such item in the catalog: {parts[0]}"
    if name == "empty_themes":
        return None if _themes(entry) else f"no such theme: {entry}"
    if name == "empty_departments":
        return None if _department(entry) else f"no such department: {entry}"
    return None if _item(entry) else f"no such item in the catalog: {entry}"


def _item(ref: str) -> ServiceItem | None:
    return item_by_id(ref) or next((item for item in ITEMS if item.name == ref), None)


def _department(ref: str) -> Department | None:
    return department_by_code(ref) or next((d for d in DEPARTMENTS if d.name == ref), None)


def _themes(ref: str) -> set[tuple[Audience, str]]:
    """(audience, theme) pairs an `empty_themes` entry stands for."""
    parts = [part.strip() for part in _SEPARATOR.split(ref, maxsplit=1)]
    if len(parts) == 2 and parts[0] not in _COLUMNS:
        return set()
    audiences = [_COLUMNS[parts[0]]] if len(parts) == 2 else list(Audience)
    return {(a, parts[-1]) for a in audiences if parts[-1] in themes_of(a)}


def _names(refs: list[str]) -> set[str]:
    """Item ids of a list of item references."""
    return {item.id for ref in refs if (item := _item(ref)) is not None}


# -- rendering a guide with its defects ----------------------------------------------------


class _GuideView:
    """A ServiceItem as its guide page prints it, with some elements changed."""

    def __init__(self, item: ServiceItem, changes: Mapping[str, Any]) -> None:
        self._item = item
        self._changes = dict(changes)

    def __getattr__(self, name: str) -> Any:
        if name in self._changes:
            return self._changes[name]
        return getattr(self._item, name)


def _blank(
    element: str, item: ServiceItem, changes: dict[str, Any], dept: Department
) -> Department:
    if element == "设定依据":
        changes["basis"] = ()
    elif element == "受理条件":
        changes["conditions"] = ()
    elif element == "办理流程":
        changes["process"] = ()
    elif element == "办理时限":
        changes.update(legal_limit="", promised_limit="")
        changes["process"] = tuple(replace(s, time_limit="") for s in _process(item, changes))
    elif element == "收费标准":
        changes["fee"] = ""
    elif element == "申请材料":
        changes["materials"] = ()
    elif element == "办理地点":
        changes["location"] = ""
        return replace(dept, window="")
    elif element == "咨询电话":
        return replace(dept, consult_phone="")
    elif element == "监督投诉电话":
        return replace(dept, complaint_phone="")
    elif element in _ITEM_FIELDS:
        changes[_ITEM_FIELDS[element]] = ""
    return dept


# Elements printed from one field of the item.
_ITEM_FIELDS = {
    "事项编码": "code",
    "办理对象": "audience_label",
    "办件类型": "handling_type",
    "到现场次数": "visits_label",
    "中介服务": "intermediary",
    "受理时间": "hours",
}


def _process(item: ServiceItem, changes: Mapping[str, Any]) -> tuple[ProcessStep, ...]:
    if "process" in changes:
        return tuple(changes["process"])
    promised = changes.get("promised_limit", item.promised_limit)
    return item.steps or standard_steps(promised, item.result)


def _unclear(limit: str, unit: str) -> str:
    """“20个工作日” → “20日”: the count without saying which days."""
    digits = re.search(r"\d+", limit)
    return f"{digits.group() if digits else 5}{unit}"


def _defects(item: ServiceItem, faults: GuideFaults) -> tuple[dict[str, Any], Department, str]:
    """What the guide page of `item` shows instead: changed fields, department, forms.

    An element in `missing_elements` is blanked here too; the page also drops its label.
    """
    dept = department_by_code(item.department)
    assert dept is not None  # the catalog checks itself at import
    changes: dict[str, Any] = {}

    def hit(refs: list[str]) -> bool:
        return item.id in _names(refs)

    if hit(faults.time_limit_unclear_items):
        changes.update(
            legal_limit=_unclear(item.legal_limit, "日"),
            promised_limit=_unclear(item.promised_limit, "天"),
        )
        changes["process"] = _process(item, changes)
    for element in (*_missing_for(item, faults), *_missing_for(item, faults, "empty_elements")):
        dept = _blank(element, item, changes, dept)
    if hit(faults.bare_steps_items):
        steps = _process(item, changes)
        changes["process"] = tuple(replace(s, description="", time_limit="") for s in steps)
    if hit(faults.vague_location_items):
        changes["location"] = VAGUE_LOCATION
        dept = replace(dept, window=VAGUE_LOCATION)
    if hit(faults.fee_without_basis_items):
        changes["fee"] = FEE_WITHOUT_BASIS
    if hit(faults.material_source_items):
        materials = list(changes.get("materials", item.materials))
        materials[0] = replace(materials[0], source="")
        changes["materials"] = tuple(materials)
    if hit(faults.vague_materials_items):
        vague = Material(VAGUE_MATERIAL, source="申请人自备", form="原件或复印件")
        changes["materials"] = (*changes.get("materials", item.materials), vague)
    if hit(faults.material_format_items):
        materials = list(changes.get("materials", item.materials))
        materials[0] = replace(materials[0], copies=None, medium="", form="")
        if len(materials) > 1:
            materials[1] = replace(materials[1], form="")
        changes["materials"] = tuple(materials)
    if hit(faults.phone_without_area_code_items):
        dept = replace(
            dept,
            consult_phone=_local(dept.consult_phone),
            complaint_phone=_local(dept.complaint_phone),
        )
    if hit(faults.hotline_supervision_items):
        dept = replace(dept, complaint_phone="0871-12345")
    if hit(faults.copy_only_items):
        materials = changes.get("materials", item.materials)
        changes["materials"] = tuple(replace(m, form="复印件", medium="") for m in materials)
    if hit(faults.contact_equals_supervision_items):
        dept = replace(dept, complaint_phone=dept.consult_phone)
    forms = "ok"
    if hit(faults.no_sample_items):
        forms = "no_sample"
    if hit(faults.dead_form_items):
        forms = "dead"
    if hit(faults.no_form_items):
        forms = "none"
    return changes, dept, forms


def _local(phone: str) -> str:
    """The number as printed without its area code: 0871-63215071 → 63215071."""
    return phone.rpartition("-")[2]


def _missing_for(
    item: ServiceItem, faults: GuideFaults, name: str = "missing_elements"
) -> list[str]:
    """The elements `missing_elements` (or `empty_elements`) takes out of this item's guide."""
    missing = []
    for entry in getattr(faults, name):
        ref, element = (part.strip() for part in _SEPARATOR.split(entry, maxsplit=1))
        if (found := _item(ref)) is not None and found.id == item.id:
            missing.append(element)
    return missing


def _has_defects(item: ServiceItem, faults: GuideFaults) -> bool:
    listed = any(item.id in _names(getattr(faults, name)) for name in _ITEM_LISTS)
    return listed or bool(
        _missing_for(item, faults) or _missing_for(item, faults, "empty_elements")
    )


# -- routes ---------------------------------------------------------------------------------

Endpoint = Callable[[Request], Any]


def guide_fault_area(faults: GuideFaults | None = None) -> SiteArea:
    """The guide, theme and department pages of the portal, with `faults` applied."""
    faults = faults if faults is not None else GuideFaults()
    return SiteArea(AREA_NAME, guide_fault_routes(faults), faults)


def guide_fault_routes(faults: GuideFaults) -> list[BaseRoute]:
    portal: dict[str, Endpoint] = {
        route.path: route.endpoint for route in portal_routes() if isinstance(route, Route)
    }

    async def guide(request: Request) -> Response:
        item = item_by_id(request.path_params["item_id"])
        state = faults.snapshot()
        if item is None or not _has_defects(item, state):
            response: Response = await portal["/item/{item_id}"](request)
            return response
        item = as_served(item, request)  # this site's own wording of the shared catalog
        if item is None:
            raise HTTPException(status_code=404)
        changes, dept, forms = _defects(item, state)
        return render(
            request,
            "guide_defects.html",
            {
                "item": _GuideView(item, changes),
                "department": dept,
                "absent": _missing_for(item, state),
                "forms": forms,
                "online": online_entry(item, online_faults_of(request)),
                "rating": rating_entry(item, rating_faults_of(request)),
                "dead_blank": f"/uploads/bszn/2019/{item.id}/blank.docx",
                "dead_sample": f"/uploads/bszn/2019/{item.id}/sample.pdf",
            },
        )

    def theme_page(audience: Audience, base: str) -> Endpoint:
        async def page(request: Request) -> Response:
            theme = request.query_params.get("theme", "")
            if (audience, theme) not in _empty_themes(faults.snapshot()):
                response: Response = await portal[base](request)
                return response
            return render(
                request,
                "themes.html",
                {
                    "audience": audience,
                    "base": base,
                    "themes": [(t, len(items_of_theme(audience, t))) for t in themes_of(audience)],
                    "theme": theme,
                    "items": [],
                },
            )

        return page

    async def department(request: Request) -> Response:
        dept = department_by_code(request.path_params["code"])
        state = faults.snapshot()
        emptied = {d.code for ref in state.empty_departments if (d := _department(ref))}
        if dept is None or dept.code not in emptied:
            response: Response = await portal["/department/{code}"](request)
            return response
        return render(
            request,
            "department.html",
            {
                "department": dept,
                "items": [],
                "departments": [(d, len(items_of_department(d.code))) for d in DEPARTMENTS],
            },
        )

    return [
        Route("/item/{item_id}", guide, methods=["GET"]),
        Route("/personal", theme_page(Audience.PERSONAL, "/personal"), methods=["GET"]),
        Route("/legal", theme_page(Audience.LEGAL, "/legal"), methods=["GET"]),
        Route("/department/{code}", department, methods=["GET"]),
    ]


def _empty_themes(faults: GuideFaults) -> set[tuple[Audience, str]]:
    return {pair for ref in faults.empty_themes for pair in _themes(ref)}
