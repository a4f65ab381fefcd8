"""How many working days a unit gets for a finding, and the date that makes."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from config.catalog import DeadlinePolicy, Severity
from core.calendar import Deadline, WorkingCalendar


def working_days_for(
    policy: DeadlinePolicy, code: str, severity: Severity, check_days: int | None
) -> int:
    """Code rule first (exact, then the longest ``prefix.*``), then the check, then severity."""
    if code in policy.by_code:
        return policy.by_code[code]
    prefixes = [
        pattern
        for pattern in policy.by_code
        if pattern.endswith(".*") and code.startswith(pattern[:-1])
    ]
    if prefixes:
        return policy.by_code[max(prefixes, key=len)]
    if check_days is not None:
        return check_days
    return policy.by_severity.get(severity, policy.default)


def deadline_for(
    calendar: WorkingCalendar, opened_at: dt.datetime, days: int, zone: ZoneInfo
) -> Deadline:
    """The deadline of a task opened at ``opened_at`` with ``days`` working days."""
    return calendar.add_working_days(opened_at.astimezone(zone).date(), days)


def fixed_deadline(
    calendar: WorkingCalendar, opened_at: dt.datetime, due: dt.date, zone: ZoneInfo
) -> tuple[Deadline, int]:
    """A campaign's fixed deadline (专项整改的统一整改时限) for a task opened at
    ``opened_at``, and the working days that leaves (the notices name them)."""
    opened = opened_at.astimezone(zone).date()
    return Deadline(due, estimated=False), max(0, calendar.working_days_left(opened, due))
