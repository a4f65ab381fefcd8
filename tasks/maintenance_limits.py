"""The bounds of a unit's maintenance request, as pure functions of times and windows.

``tasks.maintenance`` loads what they need and applies them; the messages are Chinese
and shown to the unit or the supervisor as they are.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from zoneinfo import ZoneInfo

from config.policies import MaintenanceLimits
from tasks.lifecycle import TaskError
from tasks.models import MaintenanceWindow


class MaintenanceError(TaskError):
    """A window change that is not allowed; the text is Chinese and shown as it is."""


def check_times(
    limits: MaintenanceLimits,
    zone: ZoneInfo,
    now: dt.datetime,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
) -> None:
    """Not in the past, not too long, not too far ahead."""
    check_ordered(starts_at, ends_at)
    # The form is precise to the minute: the current minute still counts as "now".
    if starts_at < now.replace(second=0, microsecond=0):
        raise MaintenanceError(f"维护开始时间 {local(starts_at, zone)} 已过，不能申报过去的时间")
    if ends_at - starts_at > limits.max_length:
        raise MaintenanceError(f"单次维护窗口不超过 {span(limits.max_length)}")
    if starts_at > now + limits.max_lead:
        raise MaintenanceError(
            f"维护开始时间不能晚于 {span(limits.max_lead)}后"
            f"（{local(now + limits.max_lead, zone)}）"
        )


def check_room(
    limits: MaintenanceLimits,
    zone: ZoneInfo,
    others: Sequence[MaintenanceWindow],
    starts_at: dt.datetime,
    ends_at: dt.datetime,
) -> None:
    """No overlap with ``others`` (the target's other unit windows), and within the hours
    of each calendar month the window touches."""
    for other in others:
        if other.starts_at < ends_at and starts_at < other.ends_at:
            raise MaintenanceError(
                f"与维护窗口 #{other.id}（{local(other.starts_at, zone)} 至 "
                f"{local(other.ends_at, zone)}，{other.window_state.label}）时间重叠"
            )
    cap = limits.monthly_hours
    for first, after in months(zone, starts_at, ends_at):
        used = sum((overlap(o.starts_at, o.ends_at, first, after) for o in others), dt.timedelta())
        hours = (used + overlap(starts_at, ends_at, first, after)).total_seconds() / 3600
        if hours > cap + 1e-9:
            month = first.astimezone(zone)
            raise MaintenanceError(
                f"{month.year} 年 {month.month} 月该巡检对象的维护时长将达 {hours:g} 小时，"
                f"超过每月 {cap:g} 小时的上限"
            )


def check_ordered(starts_at: dt.datetime, ends_at: dt.datetime) -> None:
    if ends_at <= starts_at:
        raise MaintenanceError("结束时间应晚于开始时间")


def months(
    zone: ZoneInfo, starts_at: dt.datetime, ends_at: dt.datetime
) -> list[tuple[dt.datetime, dt.datetime]]:
    """The local calendar months ``[starts_at, ends_at)`` touches, as UTC bounds."""
    start = starts_at.astimezone(zone)
    first = dt.datetime(start.year, start.month, 1, tzinfo=zone)
    found = []
    while first < ends_at:
        year, month = (first.year + 1, 1) if first.month == 12 else (first.year, first.month + 1)
        after = dt.datetime(year, month, 1, tzinfo=zone)
        found.append((first.astimezone(dt.UTC), after.astimezone(dt.UTC)))
        first = after
    return found


def overlap(
    start: dt.datetime, end: dt.datetime, first: dt.datetime, after: dt.datetime
) -> dt.timedelta:
    return max(min(end, after) - max(start, first), dt.timedelta())


def span(length: dt.timedelta) -> str:
    if length % dt.timedelta(days=1) == dt.timedelta():
        return f"{length.days} 天"
    return f"{length.total_seconds() / 3600:g} 小时"


def local(moment: dt.datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M")
