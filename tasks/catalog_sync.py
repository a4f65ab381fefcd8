"""Mirror the YAML catalog into the database so runs and tasks can refer to it.

The catalog is the source of truth. Rows that disappear from it are marked inactive,
never deleted: their runs and tasks remain part of the record. Writes are in bulk, so a
catalog of thousands of targets syncs in a second or two.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from config.catalog import Catalog
from tasks.models import CheckRow, TargetRow, UnitRow


def sync_catalog(session: Session, catalog: Catalog) -> None:
    """Insert or update every unit, target and check; deactivate those no longer listed."""
    _mirror(
        session,
        UnitRow,
        [
            {
                "code": unit.code,
                "name": unit.name,
                "level": unit.level.value,
                "parent_code": unit.parent,
                "active": True,
            }
            for unit in catalog.units
        ],
    )
    _mirror(
        session,
        TargetRow,
        [
            {
                "key": target.key,
                "name": target.name,
                "unit_code": target.unit,
                "base_url": target.base_url,
                "active": True,
            }
            for target in catalog.targets
        ],
    )
    _mirror(
        session,
        CheckRow,
        [
            {
                "id": ident,
                "target_key": target.key,
                "name": check.check_name,
                "probe": check.probe,
                "schedule": check.schedule.describe(),
                "active": check.enabled,
            }
            for ident, target, check in catalog.checks()
        ],
    )


def _mirror(
    session: Session, model: type[UnitRow | TargetRow | CheckRow], rows: list[dict[str, Any]]
) -> None:
    (column,) = model.__mapper__.primary_key
    key = str(column.key)
    known = set(session.scalars(select(column)))
    session.execute(update(model).values(active=False))
    fresh = [row for row in rows if row[key] not in known]
    listed = [row for row in rows if row[key] in known]
    if fresh:
        session.execute(insert(model), fresh)
    if listed:
        session.execute(update(model), listed)  # bulk UPDATE by primary key
    session.flush()
