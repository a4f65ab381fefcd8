"""Chinese working days, with 调休, for deadlines and "days left".

The ``chinesecalendar`` package knows the State Council holiday schedule up to its
release. For a later year the catalog may list the holidays and adjusted working days;
without them we count Monday–Friday, mark the result as estimated and remember the year
in ``unknown_years`` so the bot can tell the operator.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from dataclasses import dataclass

import chinese_calendar

from config.catalog import CalendarYear

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Deadline:
    due: dt.date  # the last working day on which the task is on time
    estimated: bool  # True when some day in the count was guessed (unknown year)


class WorkingCalendar:
    def __init__(
        self,
        extra_years: Mapping[int, CalendarYear] | None = None,
    ) -> None:
        self._extra = dict(extra_years or {})
        self.unknown_years: set[int] = set()  # years counted Monday–Friday so far
        self._days: dict[dt.date, tuple[bool, bool]] = {}  # sweeps and scorecards ask often

    def is_working_day(self, day: dt.date) -> tuple[bool, bool]:
        """Whether ``day`` is a working day, and whether that answer is a guess."""
        known = self._days.get(day)
        if known is None:
            known = self._days[day] = self._look_up(day)
        return known

    def _look_up(self, day: dt.date) -> tuple[bool, bool]:
        listed = self._extra.get(day.year)
        if listed is not None:
            if day in listed.workdays:
                return True, False
            if day in listed.holidays:
                return False, False
            return day.weekday() < 5, False
        try:
            return bool(chinese_calendar.is_workday(day)), False
        except NotImplementedError:
            self._warn_unknown_year(day.year)
            return day.weekday() < 5, True

    def add_working_days(self, start: dt.date, days: int) -> Deadline:
        """The ``days``-th working day after ``start`` (``start`` itself not counted)."""
        if days < 1:
            raise ValueError("days must be at least 1")
        current, counted, estimated = start, 0, False
        while counted < days:
            current += dt.timedelta(days=1)
            working, guessed = self.is_working_day(current)
            estimated |= guessed
            counted += working
        return Deadline(current, estimated)

    def working_days_left(self, today: dt.date, due: dt.date) -> int:
        """Working days from ``today`` to ``due``: 0 on the day, negative when overdue.

        Overdue days count the working days after ``due`` up to and including ``today``;
        a task is overdue from the day after its deadline, so that is at least one.
        """
        if today <= due:
            return self._count(today, due)
        return -max(1, self._count(due, today))

    def next_working_day(self, day: dt.date) -> dt.date:
        """The first working day on or after ``day``."""
        while not self.is_working_day(day)[0]:
            day += dt.timedelta(days=1)
        return day

    def _count(self, after: dt.date, until: dt.date) -> int:
        count, current = 0, after
        while current < until:
            current += dt.timedelta(days=1)
            count += self.is_working_day(current)[0]
        return count

    def _warn_unknown_year(self, year: int) -> None:
        if year in self.unknown_years:
            return
        self.unknown_years.add(year)
        log.warning(
            "holiday schedule for %d is unknown: counting Monday-Friday, deadlines are "
            "estimated; list calendar.%d.holidays/workdays in the catalog",
            year,
            year,
        )
