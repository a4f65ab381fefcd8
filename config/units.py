"""The unit tree of the catalog (province → city → county, department under its parent)."""

from __future__ import annotations

from config.catalog import Catalog


def subtree(catalog: Catalog, root: str) -> set[str]:
    """``root`` and every unit below it; raises KeyError for an unknown code."""
    catalog.unit(root)
    children: dict[str | None, list[str]] = {}
    for unit in catalog.units:
        children.setdefault(unit.parent, []).append(unit.code)
    found, pending = set(), [root]
    while pending:
        code = pending.pop()
        if code not in found:
            found.add(code)
            pending.extend(children.get(code, []))
    return found
