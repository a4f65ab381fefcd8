"""政务服务“好差评”: the rating entry of each guide, the rating form behind it, the 评价 offered
with a consultation's reply, and the published 差评 with their replies (差评公示), with faults.

Every guide of the healthy portal carries an entry (我要评价 on the first portal, 服务评价
on the SPA) opening a form with the five national levels (非常满意 … 非常不满意); the
consultation query page offers 评价 once a reply is shown; the 差评公示 list (`/hcp/public`,
`#/reviews`) shows 差评 each answered within three working days. The fault section
`rating` (at /__sandbox/faults/rating) breaks them the ways seed 004 (#1–2) counts against:

- ``no_entry_items``: the guide offers no rating entry;
- ``dead_entry_items``: the entry leads to a page answering 404 (classic) or does nothing
  (`javascript:void(0)`, SPA);
- ``icon_entry_items``: the entry is a bare ☆ icon opening the form by script, with no
  words, role or address (only ``selectors.rating_entry`` finds it: the selector tests);
- ``no_rating_after_reply``: the consultation reply is shown without any 评价;
- ``unanswered_on``: a 差评 rated on that date (YYYY-MM-DD) is listed without a reply (far
  enough in the past it is overdue; a recent date is the healthy variant: still on time);
- ``late_reply_on``: a 差评 rated on that date was answered 20 working days later.

Items are named by id or name (`gsslj` or `公司设立登记`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from sandbox.catalog import ServiceItem
from sandbox.consultation_desk import is_working_day
from sandbox.faults import FaultError, FaultFields
from sandbox.layout import render
from sandbox.online import _item

AREA_NAME = "rating"
LEVELS = ("非常满意", "满意", "基本满意", "不满意", "非常不满意")
LATE_REPLY_WORKING_DAYS = 20
_ITEM_LISTS = ("no_entry_items", "dead_entry_items", "icon_entry_items")
_DATES = ("unanswered_on", "late_reply_on")


@dataclass
class RatingFaults(FaultFields):
    """好差评 defects; the default instance is a healthy portal."""

    no_entry_items: list[str] = field(default_factory=list)
    dead_entry_items: list[str] = field(default_factory=list)
    icon_entry_items: list[str] = field(default_factory=list)
    no_rating_after_reply: bool = False
    unanswered_on: str = ""  # YYYY-MM-DD of a 差评 listed without a reply
    late_reply_on: str = ""  # YYYY-MM-DD of a 差评 answered 20 working days later

    def _check_rules(self, name: str, value: Any) -> None:
        if name in _ITEM_LISTS:
            unknown = [ref for ref in value if _item(ref) is None]
            if unknown:
                raise FaultError(name, f"no such item in the catalog: {'、'.join(unknown)}")
        if name in _DATES and value:
            try:
                dt.date.fromisoformat(value)
            except ValueError:
                raise FaultError(name, f"expected a date YYYY-MM-DD, got {value!r}") from None

    def hits(self, name: str, item: ServiceItem) -> bool:
        refs: list[str] = getattr(self, name)
        return any((found := _item(ref)) is not None and found.id == item.id for ref in refs)


@dataclass(frozen=True)
class RatingEntry:
    """The rating entry a guide shows: its words and where it leads."""

    label: str
    href: str
    icon: bool = False  # a bare icon opening `href` by script


def rating_entry(
    item: ServiceItem, faults: RatingFaults | None, *, spa: bool = False
) -> RatingEntry | None:
    """The entry of `item`'s guide under `faults` (healthy when None); None: no entry."""
    faults = faults.snapshot() if faults is not None else RatingFaults()
    if faults.hits("no_entry_items", item):
        return None
    label = "服务评价" if spa else "我要评价"
    if faults.hits("dead_entry_items", item):
        return RatingEntry(
            label, "javascript:void(0)" if spa else f"/hcp/evaluate.do?itemId={item.id}"
        )
    href = f"#/rate?item={item.id}" if spa else f"/hcp/rate?item={item.id}"
    return RatingEntry(label, href, icon=faults.hits("icon_entry_items", item))


def rating_after_reply(faults: RatingFaults | None, letter_number: str, *, spa: bool) -> str:
    """Where the 评价 of a replied letter leads ("" when the portal offers none)."""
    if faults is not None and faults.no_rating_after_reply:
        return ""
    return f"#/rate?letter={letter_number}" if spa else f"/hcp/rate?letter={letter_number}"


@dataclass(frozen=True)
class Review:
    """One published 差评 and its reply."""

    number: str  # 评价编号
    item: str
    level: str
    rated_at: dt.datetime
    replied_at: dt.datetime | None


_HEALTHY: tuple[tuple[str, str, str, str], ...] = (  # (item, level, rated, replied)
    ("住房公积金提取", "不满意", "2026-10-20 10:12", "2026-10-22 15:30"),
    ("公司设立登记", "非常不满意", "2026-11-04 09:41", "2026-11-06 11:05"),
    ("居民身份证换领", "不满意", "2026-11-18 16:20", "2026-11-19 10:00"),
)


def _moment(text: str) -> dt.datetime:
    return dt.datetime.strptime(text, "%Y-%m-%d %H:%M")


def _after_working_days(start: dt.datetime, days: int) -> dt.datetime:
    moment = start
    for _ in range(days):
        moment += dt.timedelta(days=1)
        while not is_working_day(moment.date()):
            moment += dt.timedelta(days=1)
    return moment


def reviews(faults: RatingFaults) -> list[Review]:
    """The published 差评, newest first."""
    state = faults.snapshot()
    found = [
        Review(f"HCP{_moment(rated):%Y%m%d}{n:05d}", item, level, _moment(rated), _moment(replied))
        for n, (item, level, rated, replied) in enumerate(_HEALTHY, start=31)
    ]
    if state.unanswered_on:
        rated_at = dt.datetime.fromisoformat(state.unanswered_on).replace(hour=14, minute=26)
        found.append(Review(f"HCP{rated_at:%Y%m%d}00088", "护照签发", "非常不满意", rated_at, None))
    if state.late_reply_on:
        rated_at = dt.datetime.fromisoformat(state.late_reply_on).replace(hour=9, minute=15)
        replied_at = _after_working_days(rated_at, LATE_REPLY_WORKING_DAYS)
        found.append(
            Review(f"HCP{rated_at:%Y%m%d}00061", "婚姻登记", "不满意", rated_at, replied_at)
        )
    return sorted(found, key=lambda review: review.rated_at, reverse=True)


def review_rows(faults: RatingFaults) -> list[dict[str, str]]:
    """The 差评 as the SPA's API hands them out (its own wording of dates and states)."""
    return [
        {
            "number": r.number,
            "item": r.item,
            "level": r.level,
            "rated": f"{r.rated_at:%Y年%m月%d日 %H:%M}",
            "state": "已办结" if r.replied_at else "待处理",
            "replied": f"{r.replied_at:%Y年%m月%d日 %H:%M}" if r.replied_at else "",
        }
        for r in reviews(faults)
    ]


def rating_faults_of(request: Request) -> RatingFaults | None:
    """The rating faults of the app serving `request` (None: an app built without them)."""
    found: RatingFaults | None = getattr(request.app.state, "rating_faults", None)
    return found


def rating_routes(faults: RatingFaults) -> list[BaseRoute]:
    """The rating form (never stored: the probe does not rate) and the 差评公示 list."""

    async def form(request: Request) -> Response:
        subject = request.query_params.get("item") or request.query_params.get("letter") or ""
        found = _item(subject)
        name = found.name if found is not None else f"信件 {subject}"
        return render(
            request, "rating_form.html", {"subject": name, "levels": LEVELS, "thanks": False}
        )

    async def rated(request: Request) -> Response:
        return render(request, "rating_form.html", {"subject": "", "levels": (), "thanks": True})

    async def public(request: Request) -> Response:
        return render(request, "rating_public.html", {"reviews": reviews(faults)})

    return [
        Route("/hcp/rate", form, methods=["GET"]),
        Route("/hcp/rate", rated, methods=["POST"]),
        Route("/hcp/public", public, methods=["GET"]),
    ]
