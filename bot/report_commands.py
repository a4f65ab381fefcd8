"""``govpatrol report --month 2026-11``: the monthly scorecards (通报), ranked."""

from __future__ import annotations

import argparse
import csv
import json
import sys

from bot.commands import services_from
from bot.task_commands import table
from tasks.scorecard import Month, Scorecard, monthly_scorecards

COLUMNS = (
    "排名",
    "责任单位",
    "新立",
    "销号",
    "按期销号",
    "超期",
    "超期工作日",
    "复发/退回",
    "申诉成立",
    "平均整改(工作日)",
    "扣分得分X",
    "加分Y",
    "总分",
    "等级",
    "榜单",
)


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    report = sub.add_parser("report", help="monthly unit scorecards (通报)")
    report.add_argument("--month", required=True, help="e.g. 2026-11")
    report.add_argument("--format", choices=("table", "csv", "json"), default="table")
    report.set_defaults(handler=print_report)


def rows(cards: list[Scorecard]) -> list[list[str]]:
    result = []
    for rank, card in enumerate(cards, 1):
        board = "红榜" if card.red_list else ("黑榜" if card.black_list else "")
        mean = "" if card.mean_fix_days is None else f"{card.mean_fix_days:.1f}"
        result.append(
            [
                str(rank),
                card.unit_name,
                str(card.opened),
                str(card.closed),
                str(card.closed_on_time),
                str(card.overdue),
                str(card.overdue_days),
                str(card.reopened),
                str(card.disputes_upheld),
                mean,
                f"{card.x:g}",
                f"{card.y:g}",
                f"{card.total:g}",
                card.level,
                board,
            ]
        )
    return result


def print_report(args: argparse.Namespace) -> int:
    try:
        month = Month.parse(args.month)
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 1
    services = services_from(args)
    today = services.clock.now().astimezone(services.zone).date()
    with services.sessions() as session:
        cards = monthly_scorecards(
            session, services.catalog, services.calendar, services.zone, month, today
        )
    if args.format == "json":
        for card in cards:
            print(
                json.dumps(
                    {**vars(card), "total": card.total, "month": str(month)},
                    ensure_ascii=False,
                    default=str,
                )
            )
        return 0
    if args.format == "csv":
        writer = csv.writer(sys.stdout)
        writer.writerow(COLUMNS)
        writer.writerows(rows(cards))
        return 0
    print(f"{month.year}年{month.month}月 整改工作通报（责任单位记分）")
    print(table(COLUMNS, rows(cards)))
    red = "、".join(c.unit_name for c in cards if c.red_list) or "无"
    black = "、".join(c.unit_name for c in cards if c.black_list) or "无"
    print(f"红榜（≥{services.catalog.scoring.red_list_at:g} 分）：{red}")
    print(f"黑榜（<{services.catalog.scoring.black_list_below:g} 分）：{black}")
    return 0
