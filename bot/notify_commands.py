"""``govpatrol notify test UNIT|--url URL``: a test notice to each channel, each result
printed, so a wrong webhook shows at once instead of after eight retries."""

from __future__ import annotations

import argparse
import sys
import uuid

from bot.commands import settings_from
from bot.services import read_catalog
from config.secrets import AppriseUrl
from notifications.transport import AppriseTransport, DeliveryError, Transport

TITLE = "【测试】政务服务平台巡检通知通道测试"
BODY = "这是一条测试通知，用于确认通知通道可用，无需处理。/ govpatrol test notice."


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    notify = sub.add_parser("notify", help="notification channels")
    notify_sub = notify.add_subparsers(metavar="ACTION")
    test = notify_sub.add_parser("test", help="send a test notice to each channel")
    test.add_argument("unit", nargs="?", help="unit code: every channel of its contacts")
    test.add_argument("--url", action="append", default=[], help="an Apprise URL (repeatable)")
    test.set_defaults(handler=notify_test)


def notify_test(args: argparse.Namespace, transport: Transport | None = None) -> int:
    channels: list[tuple[str, AppriseUrl]] = [("--url", AppriseUrl(url)) for url in args.url]
    if args.unit:
        catalog = read_catalog(settings_from(args))
        try:
            unit = catalog.unit(args.unit)
        except KeyError:
            known = ", ".join(unit.code for unit in catalog.units)
            print(f"没有责任单位 {args.unit!r}；已配置：{known}", file=sys.stderr)
            return 2
        channels += [(contact.name, url) for contact in unit.contacts for url in contact.notify]
    if not channels:
        print("请指定责任单位或 --url / give a unit code or --url", file=sys.stderr)
        return 2
    transport = transport or AppriseTransport()
    failed = 0
    for who, url in channels:
        try:
            transport.send(url, TITLE, BODY, f"govpatrol-test-{uuid.uuid4().hex[:12]}")
        except DeliveryError as exc:
            failed += 1
            print(f"✗ {who} {url.masked}：发送失败 / failed — {exc}")
        else:
            print(f"✓ {who} {url.masked}：已发送 / sent")
    print(f"{len(channels) - failed}/{len(channels)} 个通道发送成功")
    return 1 if failed else 0
