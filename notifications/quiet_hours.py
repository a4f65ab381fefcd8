"""When unit notices may go out: working hours on Chinese working days.

Outside them notices wait (their next attempt moves to the next window); none is dropped.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from config.settings import WorkingHours
from core.calendar import WorkingCalendar


class QuietHours:
    def __init__(self, calendar: WorkingCalendar, hours: WorkingHours, zone: ZoneInfo) -> None:
        self.calendar = calendar
        self.hours = hours
        self.zone = zone

    def allows(self, moment: dt.datetime) -> bool:
        local = moment.astimezone(self.zone)
        working, _ = self.calendar.is_working_day(local.date())
        return working and self.hours.contains(local.time())

    def next_window(self, moment: dt.datetime) -> dt.datetime:
        """The first moment at or after ``moment`` when notices may be sent."""
        if self.allows(moment):
            return moment
        local = moment.astimezone(self.zone)
        day = local.date()
        if local.time() >= self.hours.end:
            day += dt.timedelta(days=1)
        day = self.calendar.next_working_day(day)
        start = dt.datetime.combine(day, self.hours.start, tzinfo=self.zone)
        return max(start, moment).astimezone(dt.UTC)
