"""Who hears about a task, by role and by the unit tree.

contacts            the unit's 联系人
leaders             the unit's 分管领导
supervisors         督办: supervisor contacts of the nearest unit, from the task's unit
                    upwards, that has any (usually the parent office)
supervisor_leaders  the leaders of that supervising unit (通报 level)
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from config.catalog import Catalog, ContactRole, Unit
from config.secrets import AppriseUrl


class Circle(StrEnum):
    CONTACTS = "contacts"
    LEADERS = "leaders"
    SUPERVISORS = "supervisors"
    SUPERVISOR_LEADERS = "supervisor_leaders"


CIRCLE_LABELS = {
    Circle.CONTACTS: "联系人",
    Circle.LEADERS: "分管领导",
    Circle.SUPERVISORS: "督办人员",
    Circle.SUPERVISOR_LEADERS: "督办单位领导",
}

Recipient = tuple[str, AppriseUrl]  # (who, where)


class RecipientDirectory:
    def __init__(self, catalog: Catalog) -> None:
        self._units = {unit.code: unit for unit in catalog.units}

    def unit_name(self, code: str) -> str:
        unit = self._units.get(code)
        return unit.name if unit else code

    def supervising_unit(self, code: str) -> Unit | None:
        """The nearest unit, from ``code`` upwards, with a supervisor contact."""
        seen: set[str] = set()
        current = self._units.get(code)
        while current is not None and current.code not in seen:
            seen.add(current.code)
            if any(c.role is ContactRole.SUPERVISOR for c in current.contacts):
                return current
            current = self._units.get(current.parent) if current.parent else None
        return None

    def resolve(self, code: str, circles: Iterable[Circle]) -> list[Recipient]:
        """Everyone in ``circles`` for a task of unit ``code``, each channel once."""
        found: dict[str, Recipient] = {}
        unit = self._units.get(code)
        supervising = self.supervising_unit(code)
        for circle in circles:
            if circle is Circle.CONTACTS:
                people = _with_role(unit, ContactRole.CONTACT)
            elif circle is Circle.LEADERS:
                people = _with_role(unit, ContactRole.LEADER)
            elif circle is Circle.SUPERVISORS:
                people = _with_role(supervising, ContactRole.SUPERVISOR)
            else:
                people = _with_role(supervising, ContactRole.LEADER)
            for name, url in people:
                found.setdefault(url.reveal(), (name, url))
        return list(found.values())


def _with_role(unit: Unit | None, role: ContactRole) -> list[Recipient]:
    if unit is None:
        return []
    return [(c.name, url) for c in unit.contacts if c.role is role for url in c.notify]
