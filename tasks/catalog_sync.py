"""Mirror the YAML catalog into the database so runs and tasks can refer to it.

The catalog stays the source of truth. Rows that disappear from it are marked inactive,
never deleted: their runs and tasks remain part of the record.
"""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.orm import Session

from config.catalog import Catalog
from tasks.models import CheckRow, TargetRow, UnitRow


def sync_catalog(session: Session, catalog: Catalog) -> None:
    """Insert or update every unit, target and check; deactivate those no longer listed."""
    session.execute(update(UnitRow).values(active=False))
    session.execute(update(TargetRow).values(active=False))
    session.execute(update(CheckRow).values(active=False))
    for unit in catalog.units:
        session.merge(
            UnitRow(
                code=unit.code,
                name=unit.name,
                level=unit.level.value,
                parent_code=unit.parent,
                active=True,
            )
        )
    session.flush()
    for target in catalog.targets:
        session.merge(
            TargetRow(
                key=target.key,
                name=target.name,
                unit_code=target.unit,
                base_url=target.base_url,
                active=True,
            )
        )
    session.flush()
    for ident, target, check in catalog.checks():
        session.merge(
            CheckRow(
                id=ident,
                target_key=target.key,
                name=check.check_name,
                probe=check.probe,
                schedule=check.schedule.describe(),
                active=check.enabled,
            )
        )
    session.flush()
