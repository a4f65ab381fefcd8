"""Publishing a month's 通报 to the public (seed 002: "结果将予以公开通报").

A supervisor opts in month by month; until then the month is not public at all.

Publishing freezes the figures: the ranking is computed once and stored as the table of
text cells the public sees (a snapshot), and the public pages, the XLSX and the feed read
that snapshot only, never the live scorecards. A published 通报 is an official statement
that units, leaders and the press quote; it must read tomorrow as it read the day it was
published. The live figures of a past month do move: a dispute upheld weeks later removes
a task, a queued worker records a late run that changes availability, a maintenance window
approved afterwards excludes runs, an operator edits the scoring weights or renames or
removes a unit in the catalog. Recomputing on every view would let any of these silently
rewrite what was announced, with no record that it changed. With a snapshot, a correction
is a deliberate act a person takes, and the live console ranking stays free to show the
current figures. The snapshot also holds exactly the public columns (unit names and
figures: no contacts, no evidence, no task ids or links), so what could leak is fixed by
what is stored, not by each page remembering what to leave out.

Only a finished month can be published: a running month's figures change by the hour.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from config.catalog import Catalog
from config.policies import ScoringPolicy
from core.calendar import WorkingCalendar
from tasks.indicators import IndicatorMonth, monthly_indicators
from tasks.models import Bulletin
from tasks.scorecard import (
    TABLE_COLUMNS,
    Month,
    Scorecard,
    board_names,
    monthly_scorecards,
    table_rows,
)

SNAPSHOT_VERSION = 1
NOT_APPLICABLE = "不适用"


class BulletinError(Exception):
    """A month that cannot be published; the text is Chinese."""


@dataclass(frozen=True)
class BulletinTable:
    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class BulletinSnapshot:
    """A published month as the public sees it: text cells only."""

    month: str
    title: str
    tables: tuple[BulletinTable, ...]  # the first is the ranking
    red_list: str  # 红榜 units, 、-separated, or 无
    black_list: str
    red_at: float
    black_below: float
    figures_of: str  # ISO date: the day the figures were computed

    def as_json(self) -> dict[str, Any]:
        return {
            "version": SNAPSHOT_VERSION,
            "month": self.month,
            "title": self.title,
            "tables": [
                {"title": t.title, "columns": list(t.columns), "rows": [list(r) for r in t.rows]}
                for t in self.tables
            ],
            "red_list": self.red_list,
            "black_list": self.black_list,
            "red_at": self.red_at,
            "black_below": self.black_below,
            "figures_of": self.figures_of,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> BulletinSnapshot:
        return cls(
            month=data["month"],
            title=data["title"],
            tables=tuple(
                BulletinTable(
                    t["title"], tuple(t["columns"]), tuple(tuple(row) for row in t["rows"])
                )
                for t in data["tables"]
            ),
            red_list=data["red_list"],
            black_list=data["black_list"],
            red_at=float(data["red_at"]),
            black_below=float(data["black_below"]),
            figures_of=data["figures_of"],
        )


def bulletin_title(month: Month) -> str:
    return f"{month.year}年{month.month}月 政务服务平台整改工作通报"


def bulletin_tables(
    cards: Sequence[Scorecard], indicators: IndicatorMonth | None = None
) -> tuple[BulletinTable, ...]:
    """The public tables of a month: the ranking, each unit's deductions per item, and
    each unit's 一级 indicator scores from the month's runs (``tasks.indicators``); the
    pages and the XLSX render every table."""
    ranking = BulletinTable(
        "排名与等级", TABLE_COLUMNS, tuple(tuple(row) for row in table_rows(list(cards)))
    )
    items: list[str] = []
    for card in cards:
        items += [name for name in card.deductions if name not in items]
    deductions = BulletinTable(
        "扣分明细（按扣分项，分）",
        ("责任单位", *items),
        tuple(
            (
                card.unit_name,
                *(
                    f"{card.deductions[name]:g}" if name in card.deductions else NOT_APPLICABLE
                    for name in items
                ),
            )
            for card in cards
        ),
    )
    tables = (ranking, deductions) if items else (ranking,)
    return tables + ((indicator_table(cards, indicators),) if indicators else ())


def indicator_table(cards: Sequence[Scorecard], month: IndicatorMonth) -> BulletinTable:
    """A unit per row: its 一级 indicators' scores and its 综合得分 (不适用 where no run
    judged them); units in the ranking's order. Scores only: no runs, no evidence."""
    reports = [month.units[card.unit_code] for card in cards if card.unit_code in month.units]
    heads = reports[0].top if reports else []
    columns = ("责任单位", *(f"{row.code} {row.name}" for row in heads), "综合得分")

    def shown(score: float | None) -> str:
        return NOT_APPLICABLE if score is None else f"{score:.2f}"

    rows = tuple(
        (report.name, *(shown(row.score) for row in report.top), shown(report.total))
        for report in reports
    )
    return BulletinTable(f"指标得分（{month.system}）", columns, rows)


def snapshot_of(
    month: Month,
    cards: Sequence[Scorecard],
    policy: ScoringPolicy,
    today: dt.date,
    indicators: IndicatorMonth | None = None,
) -> BulletinSnapshot:
    return BulletinSnapshot(
        month=str(month),
        title=bulletin_title(month),
        tables=bulletin_tables(cards, indicators),
        red_list=board_names(list(cards), red=True),
        black_list=board_names(list(cards), red=False),
        red_at=policy.red_list_at,
        black_below=policy.black_list_below,
        figures_of=today.isoformat(),
    )


def publish_bulletin(
    session: Session,
    catalog: Catalog,
    calendar: WorkingCalendar,
    zone: ZoneInfo,
    month: Month,
    actor: str,
    now: dt.datetime,
) -> Bulletin:
    """Compute ``month``'s scorecards once and publish them, frozen; refuse a month that
    has not ended or that is published already."""
    today = now.astimezone(zone).date()
    if month.last >= today:
        raise BulletinError(f"{month} 尚未结束，月末之后才能发布该月通报")
    if session.get(Bulletin, str(month)) is not None:
        raise BulletinError(f"{month} 的通报已经发布，发布后数据不再变动")
    cards = monthly_scorecards(session, catalog, calendar, zone, month, today)
    indicators = monthly_indicators(session, catalog, zone, month, today)
    bulletin = Bulletin(
        month=str(month),
        published_at=now,
        published_by=actor,
        snapshot=snapshot_of(month, cards, catalog.scoring, today, indicators).as_json(),
    )
    try:
        with session.begin_nested():  # two supervisors at once: the second is refused
            session.add(bulletin)
    except IntegrityError:
        raise BulletinError(f"{month} 的通报已经发布，发布后数据不再变动") from None
    return bulletin


def published_bulletins(session: Session) -> Sequence[Bulletin]:
    """Every published month, newest first."""
    return session.scalars(select(Bulletin).order_by(Bulletin.month.desc())).all()


def published_bulletin(session: Session, month: str) -> Bulletin | None:
    """The published bulletin of ``month`` (``2026-11``), or None."""
    return session.get(Bulletin, month)
