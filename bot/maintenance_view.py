"""How maintenance windows read on pages and in the terminal, in Chinese."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bot.services import Services
from tasks.models import MaintenanceWindow, WindowSource, WindowState

SOURCE_LABELS = {
    WindowSource.UNIT.value: "单位申报",
    WindowSource.OPERATOR.value: "运维登记",
    WindowSource.CATALOG.value: "目录配置",
}
ACTION_LABELS = {
    "requested": "申报",
    "approved": "批准",
    "refused": "不予批准",
    "added": "登记（即时生效）",
    "cancelled": "取消",
}


@dataclass(frozen=True)
class WindowRow:
    id: int
    target_key: str
    target_name: str
    starts: str
    ends: str
    reason: str
    source: str
    by: str
    state: str
    status: str
    decided: str  # who decided and why, when decided
    pending: bool
    cancellable: bool
    history: tuple[str, ...]


def window_rows(
    services: Services,
    session: Session,
    targets: Collection[str] | None = None,
    *,
    include_ended: bool = False,
) -> list[WindowRow]:
    """Windows of ``targets`` (all when None), earliest first."""
    windows = services.maintenance.windows(session, targets=targets, include_ended=include_ended)
    return [window_row(services, window) for window in windows]


def window_row(services: Services, window: MaintenanceWindow) -> WindowRow:
    zone = services.zone
    try:
        target_name = services.catalog.target(window.target_key).name
    except KeyError:
        target_name = window.target_key
    state = window.window_state
    decided = ""
    if window.decided_by and window.decided_at:
        note = f"：{window.decision_note}" if window.decision_note else ""
        decided = f"{window.decided_by} {local_time(window.decided_at, zone)}{note}"
    return WindowRow(
        id=window.id,
        target_key=window.target_key,
        target_name=target_name,
        starts=local_time(window.starts_at, zone),
        ends=local_time(window.ends_at, zone),
        reason=window.reason,
        source=SOURCE_LABELS.get(window.source, window.source),
        by=window.announced_by,
        state=state.value,
        status=state.label,
        decided=decided,
        pending=state is WindowState.REQUESTED,
        cancellable=state in (WindowState.REQUESTED, WindowState.APPROVED)
        and window.source != WindowSource.CATALOG.value,
        history=tuple(
            f"{local_time(row.at, zone)} {row.actor} {ACTION_LABELS.get(row.action, row.action)}"
            f"{'：' + row.reason if row.reason else ''}"
            for row in window.history
        ),
    )


def local_time(moment: dt.datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M")
