"""Availability (可用率) and response time of the monitored portals, from every run.

    counts as available     a pass; a fail whose findings are all about the content
                            (no ``site.*`` finding)
    counts as unavailable   a fail with a ``site.*`` finding (unreachable, HTTP error, …)
                            other than the verdicts about the site that do not say it was
                            down at that run (``site.availability_low``, ``site.certificate``)
    not counted             inconclusive and error runs (the monitor's own trouble), runs
                            held during a mass failure (most likely ours too), and runs
                            started inside an approved maintenance window

Response time is the run's duration; the chart gives its p50 and p95 per check and day.
Availability is per target (and per unit over its targets), and per target and location:
a run carries the catalog location whose worker ran it (None for ``govpatrol run``, the
CLI and the web, which run where they stand: ``HERE``).
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, case, exists, false, func, select
from sqlalchemy.orm import Session

from core.results import Outcome
from tasks.models import CheckRow, FindingRow, MaintenanceWindow, Run, WindowState

SITE_FINDINGS = "site."
# Site findings that judge a past week or a certificate, not this run's visit.
NOT_OUTAGE = ("site.availability_low", "site.certificate")
CHART_DAYS = 30
JUDGED = (Outcome.PASS.value, Outcome.FAIL.value)


@dataclass(frozen=True)
class Availability:
    counted: int  # runs that judged the site
    available: int

    @property
    def share(self) -> float | None:
        """Available runs over counted runs, 0–1; None when no run counted."""
        return self.available / self.counted if self.counted else None

    @property
    def percent(self) -> str:
        """``99.95%``, or ``—`` when no run counted."""
        share = self.share
        return "—" if share is None else f"{share * 100:.2f}%"


@dataclass(frozen=True)
class DayFigures:
    """One day of one check: availability and run duration."""

    day: dt.date
    availability: Availability
    p50_ms: int | None
    p95_ms: int | None


@dataclass(frozen=True)
class CheckHistory:
    check_id: str
    days: list[DayFigures]  # oldest first, one per day of the chart
    availability: Availability  # over all the days
    p50_ms: int | None  # over all the days
    p95_ms: int | None


def _site_down() -> ColumnElement[bool]:
    return and_(
        Run.outcome == Outcome.FAIL.value,
        exists().where(
            FindingRow.run_id == Run.id,
            FindingRow.code.startswith(SITE_FINDINGS),
            FindingRow.code.not_in(NOT_OUTAGE),
        ),
    )


def _in_maintenance() -> ColumnElement[bool]:
    return exists().where(
        MaintenanceWindow.target_key == CheckRow.target_key,
        MaintenanceWindow.state == WindowState.APPROVED.value,
        MaintenanceWindow.starts_at <= Run.started_at,
        MaintenanceWindow.ends_at > Run.started_at,
    )


def counted_runs(start: dt.datetime, end: dt.datetime) -> list[ColumnElement[bool]]:
    """Conditions of a run that judged its site in [start, end) (see the module's table);
    the query must join ``CheckRow`` (for the maintenance windows of its target)."""
    return [
        Run.started_at >= start,
        Run.started_at < end,
        Run.outcome.in_(JUDGED),
        Run.held == false(),
        ~_in_maintenance(),
    ]


HERE = "本机"  # the location shown for runs that carry none


def availability_by_target(
    session: Session, start: dt.datetime, end: dt.datetime, targets: Collection[str] | None = None
) -> dict[str, Availability]:
    """Per target key, the availability of its runs started in [start, end).

    Counted per check in one grouped pass over the period's runs, then the runs inside
    approved maintenance taken out window by window (a province has a handful of windows
    a month and half a million runs: no subquery per run)."""
    tally = _tally(session, start, end, targets, by_location=False)
    return {key: found for (key, _), found in tally.items()}


def availability_by_location(
    session: Session, start: dt.datetime, end: dt.datetime, targets: Collection[str] | None = None
) -> dict[str, dict[str, Availability]]:
    """Per target key, per location (``HERE`` for runs without one, listed last), the
    availability of its runs started in [start, end); counted as ``availability_by_target``
    counts, so a target's locations add up to its figure."""
    found: dict[str, dict[str, Availability]] = defaultdict(dict)
    tally = _tally(session, start, end, targets, by_location=True)
    for (key, location), figure in sorted(
        tally.items(), key=lambda item: (item[0][0], item[0][1] is None, item[0][1] or "")
    ):
        found[key][location or HERE] = figure
    return dict(found)


def _tally(
    session: Session,
    start: dt.datetime,
    end: dt.datetime,
    targets: Collection[str] | None,
    *,
    by_location: bool,
) -> dict[tuple[str, str | None], Availability]:
    """Per (target key, location: None without ``by_location``), the counted runs."""
    judged = [
        Run.started_at >= start,
        Run.started_at < end,
        Run.outcome.in_(JUDGED),
        Run.held == false(),
    ]
    up = func.sum(case((_site_down(), 0), else_=1))
    # Without locations the grouping stays by check alone (the scorecards' query).
    places = [Run.location] if by_location else []
    target_of: dict[str, str] = {
        check_id: key for check_id, key in session.execute(select(CheckRow.id, CheckRow.target_key))
    }
    wanted = None if targets is None else set(targets)
    counted: dict[tuple[str, str | None], int] = defaultdict(int)
    available: dict[tuple[str, str | None], int] = defaultdict(int)

    def add(key: str, row: Sequence[Any], sign: int) -> None:
        location = row[0] if by_location else None
        runs, fine = row[-2:]
        counted[(key, location)] += sign * int(runs)
        available[(key, location)] += sign * int(fine or 0)

    for check_id, *row in session.execute(
        select(Run.check_id, *places, func.count(Run.id), up)
        .where(*judged)
        .group_by(Run.check_id, *places)
    ):
        key = target_of.get(check_id)
        if key is not None and (wanted is None or key in wanted):
            add(key, row, 1)
    for key, starts_at, ends_at in _maintenance_spans(session, start, end, wanted):
        inside = session.execute(
            select(*places, func.count(Run.id), up)
            .join(CheckRow, CheckRow.id == Run.check_id)
            .where(
                *judged,
                CheckRow.target_key == key,
                Run.started_at >= starts_at,
                Run.started_at < ends_at,
            )
            .group_by(*places)
        )
        for window_row in inside:
            add(key, tuple(window_row), -1)
    return {
        scope: Availability(counted[scope], available[scope])
        for scope in counted
        if counted[scope] > 0
    }


def _maintenance_spans(
    session: Session, start: dt.datetime, end: dt.datetime, targets: set[str] | None
) -> list[tuple[str, dt.datetime, dt.datetime]]:
    """The approved maintenance of [start, end) per target, overlapping windows merged
    (a run inside two windows is taken out once)."""
    windows = session.execute(
        select(MaintenanceWindow.target_key, MaintenanceWindow.starts_at, MaintenanceWindow.ends_at)
        .where(
            MaintenanceWindow.state == WindowState.APPROVED.value,
            MaintenanceWindow.starts_at < end,
            MaintenanceWindow.ends_at > start,
        )
        .order_by(MaintenanceWindow.target_key, MaintenanceWindow.starts_at)
    ).all()
    spans: list[tuple[str, dt.datetime, dt.datetime]] = []
    for key, starts_at, ends_at in windows:
        if targets is not None and key not in targets:
            continue
        if spans and spans[-1][0] == key and starts_at <= spans[-1][2]:
            spans[-1] = (key, spans[-1][1], max(spans[-1][2], ends_at))
        else:
            spans.append((key, starts_at, ends_at))
    return spans


def check_history(
    session: Session,
    zone: ZoneInfo,
    check_ids: Sequence[str],
    last_day: dt.date,
    days: int = CHART_DAYS,
) -> list[CheckHistory]:
    """Per check, ``days`` days up to ``last_day`` (local): availability, p50 and p95."""
    first = last_day - dt.timedelta(days=days - 1)
    start = dt.datetime.combine(first, dt.time(), tzinfo=zone)
    end = dt.datetime.combine(last_day + dt.timedelta(days=1), dt.time(), tzinfo=zone)
    rows = session.execute(
        select(Run.check_id, Run.started_at, Run.duration_ms, _site_down())
        .join(CheckRow, CheckRow.id == Run.check_id)
        .where(Run.check_id.in_(list(check_ids)), *counted_runs(start, end))
    )
    durations: dict[tuple[str, dt.date], list[int]] = defaultdict(list)
    down: dict[tuple[str, dt.date], int] = defaultdict(int)
    for check_id, started_at, duration_ms, site_down in rows:
        key = (check_id, started_at.astimezone(zone).date())
        durations[key].append(duration_ms)
        down[key] += bool(site_down)
    histories = []
    for check_id in check_ids:
        figures = []
        for n in range(days):
            day = first + dt.timedelta(days=n)
            taken = sorted(durations.get((check_id, day), []))
            figures.append(
                DayFigures(
                    day,
                    Availability(len(taken), len(taken) - down.get((check_id, day), 0)),
                    percentile(taken, 50),
                    percentile(taken, 95),
                )
            )
        every = sorted(d for day in figures for d in durations.get((check_id, day.day), []))
        histories.append(
            CheckHistory(
                check_id,
                figures,
                Availability(
                    sum(f.availability.counted for f in figures),
                    sum(f.availability.available for f in figures),
                ),
                percentile(every, 50),
                percentile(every, 95),
            )
        )
    return histories


def percentile(ordered: Sequence[int], pct: int) -> int | None:
    """The nearest-rank percentile of sorted values: the smallest value with at least
    ``pct``% of the values at or below it; None for no values."""
    if not ordered:
        return None
    return ordered[max(0, math.ceil(pct / 100 * len(ordered)) - 1)]
