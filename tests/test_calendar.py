"""Working days on the Chinese calendar, with 调休, and the estimated path."""

from __future__ import annotations

import datetime as dt

from config.catalog import CalendarYear, DeadlinePolicy, Severity
from core.calendar import WorkingCalendar
from tasks.deadlines import working_days_for


def test_national_day_2026_deadline_lands_on_the_adjusted_saturday() -> None:
    deadline = WorkingCalendar().add_working_days(dt.date(2026, 9, 28), 5)
    assert deadline.due == dt.date(2026, 10, 10)  # a 调休 Saturday
    assert not deadline.estimated


def test_days_left_and_overdue_count_working_days_only() -> None:
    calendar = WorkingCalendar()
    due = dt.date(2026, 10, 10)
    assert calendar.working_days_left(dt.date(2026, 9, 30), due) == 3  # 10-08, 10-09, 10-10
    assert calendar.working_days_left(dt.date(2026, 10, 3), due) == 3  # holidays do not count
    assert calendar.working_days_left(due, due) == 0
    assert calendar.working_days_left(dt.date(2026, 10, 12), due) == -1  # Sunday 11th is rest
    assert calendar.working_days_left(dt.date(2026, 10, 14), due) == -3


def test_unknown_year_counts_weekdays_and_marks_the_deadline_estimated() -> None:
    calendar = WorkingCalendar()
    deadline = calendar.add_working_days(dt.date(2027, 3, 5), 5)  # a Friday
    assert deadline.due == dt.date(2027, 3, 12)
    assert deadline.estimated
    assert calendar.unknown_years == {2027}


def test_catalog_listed_year_is_exact() -> None:
    year = CalendarYear(holidays=[dt.date(2027, 3, 8)], workdays=[dt.date(2027, 3, 13)])
    calendar = WorkingCalendar({2027: year})
    deadline = calendar.add_working_days(dt.date(2027, 3, 5), 5)
    # Monday 8th is a listed holiday, Saturday 13th a listed working day.
    assert deadline.due == dt.date(2027, 3, 13)
    assert not deadline.estimated
    assert calendar.unknown_years == set()
    assert calendar.add_working_days(dt.date(2027, 3, 11), 2).due == dt.date(2027, 3, 13)


def test_deadline_policy_prefers_code_then_check_then_severity() -> None:
    policy = DeadlinePolicy(
        default=5,
        by_severity={Severity.MINOR: 15},
        by_code={"site.unreachable": 1, "checklist.*": 10},
    )
    assert working_days_for(policy, "site.unreachable", Severity.CRITICAL, 3) == 1
    assert working_days_for(policy, "checklist.guide_missing", Severity.MINOR, None) == 10
    assert working_days_for(policy, "search.slow", Severity.MINOR, 3) == 3
    assert working_days_for(policy, "search.slow", Severity.MINOR, None) == 15
    assert working_days_for(policy, "search.item_not_found", Severity.MAJOR, None) == 5
