"""``govpatrol consultations``: the questions put to each portal's desk and where they stand.

The consultation probe keeps its journal in the state of its runs; the journal of a check
is the one its latest run left, exactly what the next run will follow up.
"""

from __future__ import annotations

import argparse
import datetime as dt
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select

from bot.services import Services
from probes.consultation import ConsultationProbe
from probes.consultation_state import CHINA, Consultation, ConsultationJournal, beijing_date
from tasks.models import Run

HEADERS = ("巡检对象", "巡检项", "信件编号", "查询码", "提交时间", "已过工作日", "答复时限", "状态")


@dataclass(frozen=True)
class ConsultationLine:
    """One consultation check, with the consultation it is following (if any)."""

    check_id: str
    target_name: str
    consultation: Consultation | None
    status: str
    working_days_elapsed: int | None

    @property
    def pending(self) -> bool:
        return self.consultation is not None and not self.consultation.replied


def consultation_lines(services: Services) -> list[ConsultationLine]:
    """Every consultation check of the catalog, in catalog order, with its journal read."""
    today = beijing_date(services.clock.now())
    lines = []
    with services.sessions() as session:
        for check_id, target, check in services.catalog.checks():
            if check.probe != ConsultationProbe.kind:
                continue
            latest = session.scalars(
                select(Run.state).where(Run.check_id == check_id).order_by(Run.id.desc()).limit(1)
            ).first()
            journal = ConsultationJournal.from_state(latest)
            shown = journal.pending or journal.last_replied
            lines.append(
                ConsultationLine(
                    check_id=check_id,
                    target_name=target.name,
                    consultation=shown,
                    status=_status(services, shown, today),
                    working_days_elapsed=(
                        shown.working_days_elapsed(services.calendar, today)
                        if shown is not None and not shown.replied
                        else None
                    ),
                )
            )
    return lines


def render_lines(lines: list[ConsultationLine]) -> str:
    """The lines as a table for a terminal (Chinese characters count double)."""
    rows = []
    for line in lines:
        asked = line.consultation
        rows.append(
            [
                line.target_name,
                line.check_id,
                (asked.letter_no or "—") if asked else "—",
                (asked.query_code or "—") if asked else "—",
                _local(asked.submitted_at) if asked else "—",
                "—" if line.working_days_elapsed is None else str(line.working_days_elapsed),
                f"{asked.deadline}{'*' if asked.deadline_estimated else ''}" if asked else "—",
                line.status,
            ]
        )
    text = _table(HEADERS, rows)
    if any(line.consultation and line.consultation.deadline_estimated for line in lines):
        text += "\n* 预估时限：该年度节假日安排未知"
    return text


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    consults = sub.add_parser("consultations", help="consultations awaiting a reply (咨询互动)")
    consults.add_argument("--pending", action="store_true", help="only those awaiting a reply")
    consults.set_defaults(handler=list_consultations)


def list_consultations(args: argparse.Namespace) -> int:
    from bot.commands import services_from

    services = services_from(args)
    try:
        lines = consultation_lines(services)
    finally:
        services.engine.dispose()
    if args.pending:
        lines = [line for line in lines if line.pending]
    if not lines:
        print("没有咨询互动巡检项" if not args.pending else "没有等待答复的咨询")
        return 0
    print(render_lines(lines))
    return 0


def _status(services: Services, asked: Consultation | None, today: dt.date) -> str:
    if asked is None:
        return "尚未提交"
    if asked.replied:
        days = asked.latency_working_days(services.calendar)
        return f"已答复（用时 {days} 个工作日）"
    overdue = asked.working_days_overdue(services.calendar, today)
    label = "超期未答复" if overdue else "等待答复"
    return f"{label}（{asked.time_left(services.calendar, today)}）"


def _local(moment: dt.datetime) -> str:
    return f"{moment.astimezone(CHINA):%Y-%m-%d %H:%M}"


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    def width(text: str) -> int:
        return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)

    widths = [max(width(row[i]) for row in [headers, *rows]) for i in range(len(headers))]
    return "\n".join(
        "  ".join(cell + " " * (widths[i] - width(cell)) for i, cell in enumerate(row)).rstrip()
        for row in [headers, *rows]
    )
