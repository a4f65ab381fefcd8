"""``govpatrol maintenance …``: maintenance windows from a shell.

``add`` is the operator's window, in force at once; ``approve`` and ``refuse`` decide the
windows units request through their task links (the console does the same); ``cancel``
withdraws a request or ends a window early. Every change is recorded with its actor.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Callable

from sqlalchemy.orm import Session

from bot.commands import services_from
from bot.maintenance_view import window_rows
from bot.services import Services
from bot.task_commands import table
from tasks.catalog_sync import sync_catalog
from tasks.maintenance import MaintenanceError
from tasks.models import MaintenanceWindow


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    maintenance = sub.add_parser("maintenance", help="maintenance windows (no runs, no tasks)")
    actions = maintenance.add_subparsers(metavar="ACTION")

    listing = actions.add_parser("list", help="windows not yet over, requests first")
    listing.add_argument("--target", help="only this target")
    listing.add_argument("--all", action="store_true", help="include windows already over")
    listing.add_argument("--history", action="store_true", help="each window's changes")
    listing.set_defaults(handler=maintenance_list)

    add = actions.add_parser("add", help="an operator's window for a target, in force at once")
    add.add_argument("target")
    add.add_argument("--start", required=True, help="local time, e.g. 2026-11-28T22:00")
    add.add_argument("--end", required=True)
    add.add_argument("--reason", required=True)
    add.add_argument("--actor", default="命令行")
    add.set_defaults(handler=maintenance_add)

    for name, help_text, handler in (
        ("approve", "approve a unit's request (批准)", maintenance_approve),
        ("refuse", "refuse a unit's request (不予批准)", maintenance_refuse),
    ):
        decide = actions.add_parser(name, help=help_text)
        decide.add_argument("id", type=int)
        decide.add_argument("--note", default="")
        decide.add_argument("--actor", default="督办人员（命令行）")
        decide.set_defaults(handler=handler)

    cancel = actions.add_parser("cancel", help="withdraw a request or end a window early")
    cancel.add_argument("id", type=int)
    cancel.add_argument("--reason", required=True)
    cancel.add_argument("--actor", default="命令行")
    cancel.set_defaults(handler=maintenance_cancel)


def maintenance_list(args: argparse.Namespace) -> int:
    services = _services(args)
    targets = {args.target} if args.target else None
    with services.sessions() as session:
        rows = window_rows(services, session, targets, include_ended=args.all)
    if not rows:
        print("没有维护窗口" if args.all else "没有未结束的维护窗口")
        return 0
    rows.sort(key=lambda row: (not row.pending, row.starts, row.id))
    print(
        table(
            ["编号", "巡检对象", "开始", "结束", "原因", "来源", "申报人", "状态"],
            [
                [f"#{r.id}", r.target_key, r.starts, r.ends, r.reason, r.source, r.by, r.status]
                for r in rows
            ],
        )
    )
    if args.history:
        for row in rows:
            print(f"#{row.id}：")
            for line in row.history:
                print(f"  {line}")
    return 0


def maintenance_add(args: argparse.Namespace) -> int:
    def act(session: Session, services: Services) -> MaintenanceWindow:
        start, end = _local(args.start, services), _local(args.end, services)
        return services.maintenance.add(session, args.target, start, end, args.reason, args.actor)

    return _act(
        args,
        act,
        lambda w: (
            f"已登记维护窗口 #{w.id}：{args.target} {args.start} 至 {args.end}，期间不巡检、不立案"
        ),
    )


def maintenance_approve(args: argparse.Namespace) -> int:
    def act(session: Session, services: Services) -> MaintenanceWindow:
        return services.maintenance.approve(session, args.id, args.actor, args.note)

    return _act(
        args, act, lambda w: f"已批准维护窗口 #{w.id}（{w.target_key}），期间不巡检、不立案"
    )


def maintenance_refuse(args: argparse.Namespace) -> int:
    def act(session: Session, services: Services) -> MaintenanceWindow:
        return services.maintenance.refuse(session, args.id, args.actor, args.note)

    return _act(args, act, lambda w: f"维护窗口 #{w.id} 不予批准，照常巡检")


def maintenance_cancel(args: argparse.Namespace) -> int:
    def act(session: Session, services: Services) -> MaintenanceWindow:
        return services.maintenance.cancel(session, args.id, args.actor, args.reason)

    return _act(args, act, lambda w: f"维护窗口 #{w.id} 已取消，恢复巡检")


def _services(args: argparse.Namespace) -> Services:
    """The product, with the catalog's targets and windows recorded (as at start-up)."""
    services = services_from(args)
    with services.sessions.begin() as session:
        sync_catalog(session, services.catalog)
        services.maintenance.mirror_catalog(session, services.catalog)
    return services


def _act(
    args: argparse.Namespace,
    act: Callable[[Session, Services], MaintenanceWindow],
    done: Callable[[MaintenanceWindow], str],
) -> int:
    services = _services(args)
    try:
        with services.sessions.begin() as session:
            window = act(session, services)
            message = done(window)
    except MaintenanceError as exc:
        print(exc, file=sys.stderr)
        return 1
    print(message)
    return 0


def _local(text: str, services: Services) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise MaintenanceError(f"时间格式应为 2026-11-28T22:00，收到 {text!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=services.zone)
