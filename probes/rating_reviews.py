"""The published 差评 (差评公示) as read, and which of them are overdue; no browser here.

A list row arrives as ``(label, value)`` pairs: a table's header with each cell, or a
card's ``评价时间：2026-11-02`` lines. :func:`read_review` tells what the row says; a row
counts as unanswered only on positive evidence (a status 未回复/待处理…, or a reply column
printed empty), never because a reply date could not be read. :func:`judge_reviews` counts
working days on the Chinese calendar (seed 004 #2: 差评 “超期回复或未回复”).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from core.calendar import WorkingCalendar
from probes.readers import fold

_DATE = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})")
_RATED = re.compile(r"评价(?:时间|日期)|评议(?:时间|日期)|差评(?:时间|日期)")
_REPLIED = re.compile(r"(?:回复|答复|整改|处理|办结|反馈|回访)(?:时间|日期)")
_NUMBER = re.compile(r"编号|单号|工单号")
_SUBJECT = re.compile(r"事项|评价对象|服务对象|办件名称")
_LEVEL = re.compile(r"等级|满意度|评价结果|星级|评分")
_STATUS = re.compile(r"状态|情况")
_BAD = re.compile(r"不满意|(?<!好)差评|[一二12]\s*星")
_UNANSWERED = re.compile(
    r"未回复|待回复|未答复|待答复|未处理|待处理|未整改|待整改|处理中|整改中|未办结|办理中|未反馈|待反馈"
)
_BLANK = re.compile(r"^[\s\-—–/]*$|^(?:无|暂无)$")


@dataclass(frozen=True)
class Review:
    """One published rating as its row says it."""

    number: str  # 评价编号, "" when the list prints none
    subject: str  # the item or service rated
    level: str
    rated_on: dt.date | None
    replied_on: dt.date | None
    unanswered: bool  # the row says so (a status, or an empty reply column)
    bad: bool  # a 差评 (不满意, 非常不满意, 1–2 星)

    @property
    def name(self) -> str:
        """How a finding names it: （2026年11月2日，评价编号…，“公司设立登记”）."""
        parts = [long_date(self.rated_on)] if self.rated_on else []
        if self.number:
            parts.append(f"评价编号{self.number}")
        if self.subject:
            parts.append(f"“{self.subject}”")
        return "，".join(parts)


def long_date(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def parse_date(text: str) -> dt.date | None:
    match = _DATE.search(fold(text))
    if match is None:
        return None
    try:
        return dt.date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError:
        return None


def pairs_of_card(text: str) -> list[tuple[str, str]]:
    """``label：value`` lines of a card's text; a line without a short label is a bare value."""
    pairs = []
    for line in text.splitlines():
        match = re.match(r"^\s*([^：:]{1,12})[：:]\s*(.*)$", line)
        if match is not None:
            pairs.append((match.group(1).strip(), match.group(2).strip()))
        elif line.strip():
            pairs.append(("", line.strip()))
    return pairs


def read_review(pairs: Sequence[tuple[str, str]], *, all_bad: bool = False) -> Review:
    """What one row says; ``all_bad`` when the list itself is of 差评 (差评公示)."""

    def value(label: re.Pattern[str], exclude: re.Pattern[str] | None = None) -> str | None:
        for name, text in pairs:
            if label.search(name) and not (exclude and exclude.search(name)):
                return text
        return None

    rated = value(_RATED)
    replied = value(_REPLIED, _RATED)
    status = value(_STATUS) or ""
    level = value(_LEVEL) or ""
    text = " ".join(f"{name} {text}" for name, text in pairs)
    replied_on = parse_date(replied) if replied is not None else None
    unanswered = replied_on is None and (
        bool(_UNANSWERED.search(status))
        or (replied is not None and bool(_BLANK.match(replied)))
        or (not status and bool(_UNANSWERED.search(text)))
    )
    return Review(
        number=value(_NUMBER) or "",
        subject=value(_SUBJECT, _NUMBER) or "",
        level=level,
        rated_on=parse_date(rated) if rated is not None else None,
        replied_on=replied_on,
        unanswered=unanswered,
        bad=all_bad or bool(_BAD.search(level or text)),
    )


@dataclass(frozen=True)
class Overdue:
    review: Review
    due: dt.date  # the last working day on which a reply was on time
    elapsed: int  # working days from the rating to today (unanswered) or to the reply


@dataclass
class ReviewVerdict:
    unanswered: list[Overdue] = field(default_factory=list)  # past the time limit, no reply
    late: list[Overdue] = field(default_factory=list)  # replied after the time limit
    waiting: list[Review] = field(default_factory=list)  # no reply yet, still on time
    unread: list[Review] = field(default_factory=list)  # 差评 whose reply could not be told
    judged: int = 0  # 差评 with a readable rating date


def judge_reviews(
    reviews: Sequence[Review],
    *,
    today: dt.date,
    calendar: WorkingCalendar,
    within: int,
    late_lookback_days: int,
) -> ReviewVerdict:
    """Which 差评 went unanswered past ``within`` working days, and which were answered late
    (a reply within the last ``late_lookback_days`` days; older ones are history)."""
    verdict = ReviewVerdict()
    for review in reviews:
        if not review.bad or review.rated_on is None:
            continue
        verdict.judged += 1
        due = calendar.add_working_days(review.rated_on, within).due
        if review.replied_on is not None:
            recent = (today - review.replied_on).days <= late_lookback_days
            if review.replied_on > due and late_lookback_days and recent:
                elapsed = calendar.working_days_left(review.rated_on, review.replied_on)
                verdict.late.append(Overdue(review, due, elapsed))
        elif review.unanswered:
            if today > due:
                elapsed = calendar.working_days_left(review.rated_on, today)
                verdict.unanswered.append(Overdue(review, due, elapsed))
            else:
                verdict.waiting.append(review)
        else:
            verdict.unread.append(review)
    return verdict
