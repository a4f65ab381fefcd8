"""``govpatrol campaign …`` (专项整改) and ``govpatrol bulletin …`` (public 通报) from a shell.

``campaign create`` gives every task opened in its scope and period one fixed deadline;
``campaign show`` prints its progress per unit. ``bulletin publish`` makes a finished
month's 通报 public, frozen as published; the console offers the same to supervisors.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys

from bot.commands import month_from, services_from
from bot.task_commands import table
from tasks.bulletins import BulletinError, publish_bulletin, published_bulletins
from tasks.campaigns import (
    PROGRESS_COLUMNS,
    CampaignError,
    CampaignScope,
    campaign_progress,
    create_campaign,
    get_campaign,
    list_campaigns,
    scope_text,
    unit_names,
)


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    campaign = sub.add_parser("campaign", help="专项整改: one fixed deadline for a scope")
    actions = campaign.add_subparsers(metavar="ACTION")
    create = actions.add_parser("create", help="a campaign for tasks opened in a period")
    create.add_argument("--name", required=True, help="e.g. 政务服务平台专项整改")
    create.add_argument("--deadline", required=True, help="统一整改时限, e.g. 2026-11-30")
    create.add_argument("--from", dest="first", required=True, help="tasks opened from this day")
    create.add_argument("--to", dest="last", required=True, help="… up to this day (inclusive)")
    create.add_argument("--unit", default="", help="a unit code: that unit and those below it")
    create.add_argument(
        "--check", action="append", default=[], help="a check id (repeatable; default all)"
    )
    create.add_argument(
        "--code",
        action="append",
        default=[],
        help="a finding code or prefix.* (repeatable; default all)",
    )
    create.add_argument("--note", default="", help="the notice's words, shown on its page")
    create.add_argument("--actor", default="命令行", help="who creates it")
    create.set_defaults(handler=campaign_create)
    listing = actions.add_parser("list", help="campaigns, newest first")
    listing.set_defaults(handler=campaign_list)
    show = actions.add_parser("show", help="a campaign's progress per unit")
    show.add_argument("id", type=int)
    show.set_defaults(handler=campaign_show)

    bulletin = sub.add_parser("bulletin", help="public monthly 通报 (opt-in per month)")
    steps = bulletin.add_subparsers(metavar="ACTION")
    publish = steps.add_parser("publish", help="publish a finished month, frozen")
    publish.add_argument("--month", required=True, help="e.g. 2026-11")
    publish.add_argument("--actor", default="命令行", help="who publishes it")
    publish.set_defaults(handler=bulletin_publish)
    published = steps.add_parser("list", help="published months")
    published.set_defaults(handler=bulletin_list)


def campaign_create(args: argparse.Namespace) -> int:
    try:
        deadline, first, last = (
            dt.date.fromisoformat(value) for value in (args.deadline, args.first, args.last)
        )
    except ValueError:
        print("日期格式应为 2026-11-30", file=sys.stderr)
        return 1
    scope = CampaignScope(
        name=args.name,
        deadline=deadline,
        starts_on=first,
        ends_on=last,
        unit_code=args.unit or None,
        checks=tuple(args.check),
        finding_codes=tuple(args.code),
        note=args.note,
    )
    services = services_from(args)
    try:
        with services.sessions.begin() as session:
            campaign = create_campaign(
                session, services.catalog, scope, args.actor, services.clock.now()
            )
            ident = campaign.id
    except CampaignError as exc:
        print(exc, file=sys.stderr)
        return 1
    print(f"已创建专项整改 #{ident}：{first} 至 {last} 发现的问题统一于 {deadline} 前整改")
    return 0


def campaign_list(args: argparse.Namespace) -> int:
    services = services_from(args)
    with services.sessions() as session:
        rows = [
            [
                f"#{c.id}",
                c.name,
                f"{c.starts_on} 至 {c.ends_on}",
                str(c.deadline),
                scope_text(c, unit_names(services.catalog)),
            ]
            for c in list_campaigns(session)
        ]
    if not rows:
        print("还没有专项整改")
        return 0
    print(table(["编号", "名称", "发现期间", "统一整改时限", "范围"], rows))
    return 0


def campaign_show(args: argparse.Namespace) -> int:
    services = services_from(args)
    today = services.clock.now().astimezone(services.zone).date()
    names = unit_names(services.catalog)
    with services.sessions() as session:
        try:
            campaign = get_campaign(session, args.id)
        except CampaignError as exc:
            print(exc, file=sys.stderr)
            return 1
        progress = campaign_progress(session, campaign, names, services.zone, today)
        print(f"专项整改 #{campaign.id}：{campaign.name}")
        print(f"发现期间：{campaign.starts_on} 至 {campaign.ends_on}")
        print(f"统一整改时限：{campaign.deadline}")
        print(f"范围：{scope_text(campaign, names)}")
        if campaign.note:
            print(f"说明：{campaign.note}")
    rows = [list(unit.cells()) for unit in progress.units]
    print(f"截至 {today}：")
    print(table(PROGRESS_COLUMNS, [*rows, list(progress.total.cells())]))
    return 0


def bulletin_publish(args: argparse.Namespace) -> int:
    month = month_from(args)
    if month is None:
        return 1
    services = services_from(args)
    try:
        with services.sessions.begin() as session:
            publish_bulletin(
                session,
                services.catalog,
                services.calendar,
                services.zone,
                month,
                args.actor,
                services.clock.now(),
            )
    except BulletinError as exc:
        print(exc, file=sys.stderr)
        return 1
    base = services.settings.public_url.rstrip("/")
    print(f"已发布 {month} 通报：{base}/public/bulletins/{month}")
    return 0


def bulletin_list(args: argparse.Namespace) -> int:
    services = services_from(args)
    with services.sessions() as session:
        rows = [
            [
                b.month,
                b.published_at.astimezone(services.zone).strftime("%Y-%m-%d %H:%M"),
                b.published_by,
            ]
            for b in published_bulletins(session)
        ]
    if not rows:
        print("还没有发布的通报")
        return 0
    print(table(["月份", "发布时间", "发布人"], rows))
    return 0
