"""``govpatrol report --month 2026-11``: the monthly scorecards (通报), ranked;
``govpatrol report ledger --from 2026-11-01 --to 2026-11-30 [--unit city]``: the 整改台账;
``govpatrol report indicators --month 2026-11 [--unit county | --target key]``: the
month's indicator scores (seed 000's system, or the catalog's own map);
``govpatrol report availability --month 2026-11``: each target's availability per location."""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import sys
from pathlib import Path

from bot.commands import month_from, services_from
from bot.console.sheets import csv_bytes, xlsx_bytes
from bot.task_commands import table
from config.units import subtree
from core.progress import Progress
from tasks.availability import availability_by_location
from tasks.indicators import (
    TREE_COLUMNS,
    IndicatorReport,
    monthly_indicators,
    summary_columns,
    summary_row,
    tree_rows,
)
from tasks.ledger import COLUMNS as LEDGER_COLUMNS
from tasks.ledger import ledger_rows
from tasks.problem_list import Period
from tasks.scorecard import TABLE_COLUMNS, board_names, monthly_scorecards, table_rows


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    report = sub.add_parser("report", help="monthly unit scorecards (通报)")
    report.add_argument("--month", help="e.g. 2026-11")
    report.add_argument("--format", choices=("table", "csv", "json"), default="table")
    report.set_defaults(handler=print_report)
    kinds = report.add_subparsers(metavar="REPORT")
    ledger = kinds.add_parser("ledger", help="the rectification ledger (整改台账), XLSX or CSV")
    ledger.add_argument("--from", dest="first", required=True, help="e.g. 2026-11-01")
    ledger.add_argument("--to", dest="last", required=True, help="e.g. 2026-11-30")
    ledger.add_argument("--unit", default="", help="a unit code: that unit and those below it")
    ledger.add_argument("--format", choices=("xlsx", "csv"), default="xlsx")
    ledger.add_argument(
        "--output", type=Path, help="file to write; - for stdout (default: 整改台账-FROM-TO.FORMAT)"
    )
    ledger.set_defaults(handler=write_ledger)
    indicators = kinds.add_parser("indicators", help="monthly indicator scores (指标得分)")
    indicators.add_argument("--month", required=True, help="e.g. 2026-11")
    scope = indicators.add_mutually_exclusive_group()
    scope.add_argument("--unit", default="", help="a unit code: its indicators in detail")
    scope.add_argument("--target", default="", help="a target key: its indicators in detail")
    indicators.add_argument("--format", choices=("table", "json"), default="table")
    indicators.set_defaults(handler=print_indicators)
    availability = kinds.add_parser(
        "availability", help="monthly availability per target and location (可用率)"
    )
    availability.add_argument("--month", required=True, help="e.g. 2026-11")
    availability.add_argument("--format", choices=("table", "csv"), default="table")
    availability.set_defaults(handler=print_availability)


AVAILABILITY_COLUMNS = ("责任单位", "巡检对象", "执行位置", "可用率", "可访问次数", "计入巡检次数")


def print_availability(args: argparse.Namespace) -> int:
    month = month_from(args)
    if month is None:
        return 1
    services = services_from(args)
    today = services.clock.now().astimezone(services.zone).date()
    start = dt.datetime.combine(month.first, dt.time(), tzinfo=services.zone)
    last = min(month.last, today) + dt.timedelta(days=1)
    end = dt.datetime.combine(last, dt.time(), tzinfo=services.zone)
    with services.sessions() as session:
        found = availability_by_location(session, start, end)
    rows = [
        [
            services.directory.unit_name(target.unit),
            target.name,
            place,
            figure.percent,
            str(figure.available),
            str(figure.counted),
        ]
        for target in services.catalog.targets
        for place, figure in found.get(target.key, {}).items()
    ]
    if args.format == "csv":
        writer = csv.writer(sys.stdout)
        writer.writerow(AVAILABILITY_COLUMNS)
        writer.writerows(rows)
        return 0
    print(f"{month.year}年{month.month}月 可用率（按巡检对象与执行位置）")
    print(table(AVAILABILITY_COLUMNS, rows))
    return 0


def print_indicators(args: argparse.Namespace) -> int:
    month = month_from(args)
    if month is None:
        return 1
    services = services_from(args)
    if args.unit and args.unit not in {u.code for u in services.catalog.units}:
        print(f"没有该责任单位：{args.unit}", file=sys.stderr)
        return 1
    if args.target and args.target not in {t.key for t in services.catalog.targets}:
        print(f"没有该巡检对象：{args.target}", file=sys.stderr)
        return 1
    today = services.clock.now().astimezone(services.zone).date()
    with services.sessions() as session:
        found = monthly_indicators(session, services.catalog, services.zone, month, today)
    if args.unit:
        chosen = [found.units[args.unit]]
    elif args.target:
        chosen = [found.targets[args.target]]
    else:
        chosen = list(found.units.values())
    if args.format == "json":
        for report in chosen:
            print(json.dumps(_as_json(report, str(month)), ensure_ascii=False))
        return 0
    print(f"{month.year}年{month.month}月 指标得分（{found.system}）")
    if not (args.unit or args.target):
        print(table(summary_columns(found), [summary_row(r) for r in chosen]))
        return 0
    (report,) = chosen
    total = "不适用" if report.total is None else f"{report.total:.2f}"
    print(f"{report.name}：综合得分 {total}（不适用的指标不计，其权重按比例折算给其余指标）")
    print(table(TREE_COLUMNS, tree_rows(report)))
    if args.unit:
        targets = [found.targets[t.key] for t in services.catalog.targets if t.unit == args.unit]
        if targets:
            print()
            print(table(summary_columns(found, "巡检对象"), [summary_row(r) for r in targets]))
    return 0


def _as_json(report: IndicatorReport, month: str) -> dict[str, object]:
    return {
        "month": month,
        "scope": report.scope,
        "key": report.key,
        "name": report.name,
        "total": report.total,
        "indicators": [
            {
                "code": row.code,
                "name": row.name,
                "depth": row.depth,
                "weight": row.weight,
                "share": row.share,
                "runs": row.runs,
                "against": row.against,
                "score": row.score,
                "evidence_runs": list(row.evidence),
            }
            for row in report.rows
        ],
    }


def write_ledger(args: argparse.Namespace) -> int:
    try:
        period = Period(dt.date.fromisoformat(args.first), dt.date.fromisoformat(args.last))
    except ValueError:
        print("日期格式应为 2026-11-01", file=sys.stderr)
        return 1
    if period.last < period.first:
        print("结束日期不能早于开始日期", file=sys.stderr)
        return 1
    services = services_from(args)
    try:
        units = subtree(services.catalog, args.unit) if args.unit else None
    except KeyError:
        print(f"没有该责任单位：{args.unit}", file=sys.stderr)
        return 1
    today = services.clock.now().astimezone(services.zone).date()
    with services.sessions() as session:
        rows = ledger_rows(
            session,
            services.catalog,
            services.calendar,
            services.zone,
            period,
            units if units is not None else [u.code for u in services.catalog.units],
            today,
        )
    if args.format == "csv":
        data = csv_bytes(LEDGER_COLUMNS, [row.cells(n) for n, row in enumerate(rows, 1)])
    else:
        # Imported here: the console's exports bring FastAPI along (0.3 s for every command).
        from bot.console.exports import ledger_book

        data = xlsx_bytes(ledger_book(period, rows, today))
    output = args.output or Path(f"整改台账-{period.first}-{period.last}.{args.format}")
    if args.format == "csv" and str(output) == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return 0
    output.write_bytes(data)
    print(f"整改台账（{period}）：{len(rows)} 项任务，已写入 {output}")
    return 0


def print_report(args: argparse.Namespace) -> int:
    month = month_from(args)
    if month is None:
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
                    {
                        **vars(card),
                        "availability": card.availability.share,
                        "total": card.total,
                        "month": str(month),
                    },
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
