"""What the consultation journey remembers between runs, as plain JSON.

The journal rides in ``ProbeResult.state`` → ``runs.state`` → the next run's ``ctx.state``,
so a pending consultation survives restarts; ``govpatrol consultations`` reads it back.
Working days are China's, so dates here are Beijing dates.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace
from typing import Any
from zoneinfo import ZoneInfo

from core.calendar import WorkingCalendar

log = logging.getLogger(__name__)

CHINA = ZoneInfo("Asia/Shanghai")  # the working-day calendar is China's, in Beijing time
JOURNAL_VERSION = 1


def beijing_date(moment: dt.datetime) -> dt.date:
    return moment.astimezone(CHINA).date()


def month_day(day: dt.date) -> str:
    """9月28日: how notices name a day."""
    return f"{day.month}月{day.day}日"


@dataclass(frozen=True)
class Consultation:
    """One question put to a portal's consultation desk, and what became of it."""

    target: str  # the target key, and the site it was asked on
    base_url: str
    entry: str  # how it was submitted, for findings: 首页—我要咨询
    marker: str  # 【巡检编号 GP-…】 written into the question
    title: str
    letter_no: str  # 信件编号 ("" when the portal only gives a 查询码)
    query_code: str  # 查询码 ("" when the number alone finds it)
    submitted_at: dt.datetime
    deadline: dt.date  # the last working day on which a reply is on time
    deadline_estimated: bool = False
    follow_ups: int = 0
    receipt_evidence: str = ""  # screenshot of the receipt page, relative to the evidence dir
    query_url: str = ""  # 咨询回复查询 as the receipt page links it
    replied_at: dt.datetime | None = None  # as the portal states it, else when we saw it
    reply_seen_at: dt.datetime | None = None
    reply_excerpt: str = ""

    @property
    def replied(self) -> bool:
        return self.replied_at is not None

    @property
    def reference(self) -> str:
        """How a unit finds the letter: its number, else its title."""
        return f"信件编号 {self.letter_no}" if self.letter_no else f"标题“{self.title}”"

    def working_days_elapsed(self, calendar: WorkingCalendar, today: dt.date) -> int:
        """Working days after the submission day, up to and including ``today``."""
        return max(0, calendar.working_days_left(beijing_date(self.submitted_at), today))

    def working_days_overdue(self, calendar: WorkingCalendar, today: dt.date) -> int:
        """0 while a reply is still on time; then the working days past the deadline.

        A weekend or holiday after the deadline adds nothing: the desk could not have
        answered on it, so "超过 5 个工作日" starts on the next working day.
        """
        if today <= self.deadline:
            return 0
        return calendar.working_days_left(self.deadline, today)  # working days in (due, today]

    def time_left(self, calendar: WorkingCalendar, today: dt.date) -> str:
        """剩 N 个工作日 / 今天到期 / 已到时限 / 超期 N 个工作日, for summaries and lists."""
        overdue = self.working_days_overdue(calendar, today)
        if overdue:
            return f"超期 {overdue} 个工作日"
        if today > self.deadline:
            return "已到时限"  # a weekend right after the deadline
        if today == self.deadline:
            return "今天到期"
        return f"剩 {calendar.working_days_left(today, self.deadline)} 个工作日"

    def latency_working_days(self, calendar: WorkingCalendar) -> int | None:
        if self.replied_at is None:
            return None
        return self.working_days_elapsed(calendar, beijing_date(self.replied_at))

    def latency_hours(self) -> float | None:
        if self.replied_at is None:
            return None
        return round((self.replied_at - self.submitted_at).total_seconds() / 3600, 1)

    def followed_up(self) -> Consultation:
        return replace(self, follow_ups=self.follow_ups + 1)

    def answered(self, replied_at: dt.datetime, seen_at: dt.datetime, excerpt: str) -> Consultation:
        return replace(
            self,
            follow_ups=self.follow_ups + 1,
            replied_at=replied_at,
            reply_seen_at=seen_at,
            reply_excerpt=excerpt[:200],
        )

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        for key, value in data.items():
            if isinstance(value, dt.datetime | dt.date):
                data[key] = value.isoformat()
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Consultation:
        moments = ("submitted_at", "replied_at", "reply_seen_at")
        known = {f.name for f in fields(cls)}
        values = {key: value for key, value in data.items() if key in known}
        for key in moments:
            if values.get(key):
                values[key] = dt.datetime.fromisoformat(values[key])
        values["deadline"] = dt.date.fromisoformat(values["deadline"])
        return cls(**values)


@dataclass(frozen=True)
class ConsultationJournal:
    """The consultation awaiting a reply (at most one per target), the last one answered,
    and how many questions were asked (which picks the next question of the pool)."""

    pending: Consultation | None = None
    last_replied: Consultation | None = None
    asked: int = 0

    def to_state(self) -> dict[str, Any]:
        return {
            "consultation": {
                "version": JOURNAL_VERSION,
                "pending": self.pending.to_json() if self.pending else None,
                "last_replied": self.last_replied.to_json() if self.last_replied else None,
                "asked": self.asked,
            }
        }

    @classmethod
    def from_state(cls, state: Mapping[str, Any] | None) -> ConsultationJournal:
        """The journal in a run's state; an empty one when there is none or it is unreadable."""
        raw = (state or {}).get("consultation")
        if not isinstance(raw, Mapping):
            return cls()
        try:
            return cls(
                pending=Consultation.from_json(raw["pending"]) if raw.get("pending") else None,
                last_replied=(
                    Consultation.from_json(raw["last_replied"]) if raw.get("last_replied") else None
                ),
                asked=int(raw.get("asked", 0)),
            )
        except (KeyError, TypeError, ValueError) as exc:
            log.warning("consultation journal unreadable, starting afresh: %s", exc)
            return cls()
