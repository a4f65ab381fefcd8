"""``govpatrol report --month 2026-11``: the monthly scorecards (通报), ranked."""

from __future__ import annotations

import argparse
import csv
import json
import sys

from bot.commands import services_from
from bot.task_commands import table
from core.progress import Progress
from tasks.scorecard import TABLE_COLUMNS, Month, board_names, monthly_scorecards, table_rows


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    report = sub.add_parser("report", help="monthly unit scorecards (通报)")
    report.add_argument("--month", required=True, help="e.g. 2026-11")
    report.add_argument("--format", choices=("table", "csv", "json"), default="table")
    report.set_defaults(handler=print_report)


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
            session,
            services.catalog,
            services.calendar,
            services.zone,
            month,
            today,
            progress=Progress("统计整改任务 / counting tasks"),
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
        writer.writerow(TABLE_COLUMNS)
        writer.writerows(table_rows(cards))
        return 0
    print(f"{month.year}年{month.month}月 整改工作通报（责任单位记分）")
    print(table(TABLE_COLUMNS, table_rows(cards)))
    policy = services.catalog.scoring
    print(f"红榜（≥{policy.red_list_at:g} 分）：{board_names(cards, red=True)}")
    print(f"黑榜（<{policy.black_list_below:g} 分）：{board_names(cards, red=False)}")
    return 0
