"""同源一致性: one sandbox's guides saying something else than the shared catalog.

Both sandbox styles print their guides from the one catalog (`sandbox.catalog.ITEMS`), so
a classic portal and an SPA portal (or two portals) agree by default and stand for the
national platform and a provincial one. The fault section `consistency` (at
/__sandbox/faults/consistency) makes the guides of this one site diverge:

- ``legal_limits`` / ``promised_limits``: `item:value`, the 法定/承诺时限 printed
  (`gsslj:20个工作日`); a healthy variant prints the same limit in other words
  (`gsslj:十五个工作日`, `gsslj:15工作日`);
- ``visits``: `item:N`, the 到现场次数 (and what follows from it: the 全程网办 badge);
- ``fees``: `item:value`, the 收费标准 printed (`gsslj:工本费10元`, or `gsslj:免费`);
- ``materials_dropped``: `item:材料名称`, a material left out of the list;
- ``materials_added``: `item:材料名称`, a material listed beyond the catalog's;
- ``materials_renamed``: `item:材料名称=新写法`, a material printed in other words
  (punctuation, brackets: a healthy variant when it is the same material);
- ``withdrawn_items``: item ids or names whose guide this site does not have (classic: 404,
  SPA: 事项不存在).

Items are named by id or name (`gsslj` or `公司设立登记`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any

from starlette.requests import Request

from sandbox.catalog import ITEMS, Material, ServiceItem, item_by_id
from sandbox.faults import FaultError, FaultFields
from sandbox.site import SiteArea

AREA_NAME = "consistency"
_SEPARATOR = re.compile(r"[:：]")
_VALUE_LISTS = ("legal_limits", "promised_limits", "visits", "fees")


@dataclass
class ConsistencyFaults(FaultFields):
    """How this site's guides differ from the catalog; the default instance differs in nothing."""

    legal_limits: list[str] = field(default_factory=list)
    promised_limits: list[str] = field(default_factory=list)
    visits: list[str] = field(default_factory=list)
    fees: list[str] = field(default_factory=list)
    materials_dropped: list[str] = field(default_factory=list)
    materials_added: list[str] = field(default_factory=list)
    materials_renamed: list[str] = field(default_factory=list)
    withdrawn_items: list[str] = field(default_factory=list)

    def _check_rules(self, name: str, value: Any) -> None:
        for entry in value:
            problem = _problem(name, entry)
            if problem:
                raise FaultError(name, problem)

    def withdrawn(self, item: ServiceItem) -> bool:
        refs = self.withdrawn_items
        return any((found := _item(ref)) is not None and found.id == item.id for ref in refs)


def _item(ref: str) -> ServiceItem | None:
    return item_by_id(ref) or next((item for item in ITEMS if item.name == ref), None)


def _split(entry: str) -> tuple[str, str]:
    parts = [part.strip() for part in _SEPARATOR.split(entry, maxsplit=1)]
    return (parts[0], parts[1]) if len(parts) == 2 else (parts[0], "")


def _problem(name: str, entry: str) -> str | None:
    if name == "withdrawn_items":
        return None if _item(entry) else f"no such item in the catalog: {entry}"
    ref, value = _split(entry)
    if not value:
        return f"expected item:value such as gsslj:5个工作日, got {entry!r}"
    item = _item(ref)
    if item is None:
        return f"no such item in the catalog: {ref}"
    if name == "visits" and not value.isdigit():
        return f"expected item:N (a number of visits), got {entry!r}"
    if name in ("materials_dropped", "materials_renamed"):
        material = value.partition("=")[0].strip()
        if material not in {m.name for m in item.materials}:
            known = "、".join(m.name for m in item.materials)
            return f"{item.name} lists no material {material!r}; it lists {known}"
    if name == "materials_renamed" and not value.partition("=")[2].strip():
        return f"expected item:材料名称=新写法, got {entry!r}"
    return None


def diverged(item: ServiceItem, faults: ConsistencyFaults | None) -> ServiceItem:
    """`item` as this site prints it (the catalog's own item when nothing diverges)."""
    if faults is None:
        return item
    state = faults.snapshot()
    changes: dict[str, Any] = {}

    def values(name: str) -> list[str]:
        found = []
        for entry in getattr(state, name):
            ref, value = _split(entry)
            if (target := _item(ref)) is not None and target.id == item.id:
                found.append(value)
        return found

    for name, attribute in zip(
        _VALUE_LISTS, ("legal_limit", "promised_limit", "visits", "fee"), strict=True
    ):
        for value in values(name):
            changes[attribute] = int(value) if attribute == "visits" else value
    materials = list(item.materials)
    dropped = set(values("materials_dropped"))
    materials = [m for m in materials if m.name not in dropped]
    renamed = dict(
        (old.strip(), new.strip())
        for old, _, new in (v.partition("=") for v in values("materials_renamed"))
    )
    materials = [replace(m, name=renamed[m.name]) if m.name in renamed else m for m in materials]
    materials += [Material(name) for name in values("materials_added")]
    if tuple(materials) != item.materials:
        changes["materials"] = tuple(materials)
    return replace(item, **changes) if changes else item


def as_served(item: ServiceItem, request: Request) -> ServiceItem | None:
    """`item` as the site serving `request` prints it; None when it withdrew the item."""
    faults = consistency_faults_of(request)
    if faults is not None and faults.withdrawn(item):
        return None
    return diverged(item, faults)


def consistency_faults_of(request: Request) -> ConsistencyFaults | None:
    """The consistency faults of the app serving `request` (None: an app built without them)."""
    found: ConsistencyFaults | None = getattr(request.app.state, "consistency_faults", None)
    return found


def consistency_area(faults: ConsistencyFaults) -> SiteArea:
    """The section's admin endpoint; the guide pages read it through the app's state."""
    return SiteArea(AREA_NAME, (), faults)
