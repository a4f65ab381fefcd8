"""``govpatrol target …`` and ``govpatrol calibrate``: bringing a new portal under watch.

A new target starts on probation (no tasks). ``calibrate KEY`` runs each of its checks
once without recording anything and says, per check, what it found, what it could not
read and which catalog setting would help; ``target confirm KEY`` ends the probation.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import sys
from typing import Any

from bot.commands import EXIT_CODES, services_from
from bot.services import Services
from core.results import Outcome, ProbeResult
from tasks.catalog_sync import sync_catalog
from tasks.lifecycle import Actor, Role, TaskError
from tasks.probation import confirm_target, probation_status


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    target = sub.add_parser("target", help="targets: probation status and confirmation")
    actions = target.add_subparsers(metavar="ACTION")
    listing = actions.add_parser("list", help="every target with its probation status")
    listing.set_defaults(handler=target_list)
    confirm = actions.add_parser("confirm", help="end a target's probation: tasks may open")
    confirm.add_argument("key")
    confirm.add_argument("--actor", default="运维（命令行）", help="who confirms")
    confirm.set_defaults(handler=target_confirm)

    calibrate = sub.add_parser(
        "calibrate", help="run every check of a target once and say what it could not read"
    )
    calibrate.add_argument("key")
    calibrate.set_defaults(handler=target_calibrate)


def target_list(args: argparse.Namespace) -> int:
    services = services_from(args)
    now = services.clock.now()
    with services.sessions.begin() as session:
        sync_catalog(session, services.catalog)
        for target in services.catalog.targets:
            status = probation_status(session, target.key, _period(services, target.key), now)
            until = ""
            if status.on_probation and status.ends_at is not None:
                until = f"，至 {status.ends_at.astimezone(services.zone):%Y-%m-%d %H:%M}"
            elif status.confirmed_at is not None:
                when = status.confirmed_at.astimezone(services.zone)
                until = f"（{status.confirmed_by}，{when:%Y-%m-%d %H:%M}）"
            print(f"{target.key}\t{target.name}\t{status.label}{until}")
    return 0


def target_confirm(args: argparse.Namespace) -> int:
    services = services_from(args)
    if args.key not in {target.key for target in services.catalog.targets}:
        print(f"目录中没有巡检对象 {args.key!r}", file=sys.stderr)
        return 2
    try:
        with services.sessions.begin() as session:
            sync_catalog(session, services.catalog)
            actor = Actor(args.actor, Role.OPERATOR)
            fresh = confirm_target(session, args.key, actor, services.clock.now())
    except TaskError as exc:
        print(exc, file=sys.stderr)
        return 1
    print(f"巡检对象 {args.key} 已确认，此后的问题将按规则立案" if fresh else "该对象此前已确认")
    return 0


def target_calibrate(args: argparse.Namespace) -> int:
    from bot.jobs import run_check

    services = services_from(args)
    checks = [ident for ident, target, _ in services.catalog.checks() if target.key == args.key]
    if not checks:
        print(f"目录中没有巡检对象 {args.key!r} 或它没有巡检项", file=sys.stderr)
        return 2

    async def main() -> int:
        worst = Outcome.PASS
        try:
            for ident in checks:
                report = await run_check(services, ident, record=False)
                _explain(services, ident, report.result.outcome, report.result)
                worst = max(worst, report.result.outcome, key=_SEVERITY.index)
        finally:
            await services.close()
        print("\n以上为试运行结果，未记录、未立案。配置无误后：govpatrol target confirm", args.key)
        return EXIT_CODES[worst]

    return asyncio.run(main())


_SEVERITY = [Outcome.PASS, Outcome.INCONCLUSIVE, Outcome.FAIL, Outcome.ERROR]
_VERDICT = {
    Outcome.PASS: "通过",
    Outcome.FAIL: "发现问题（请核实是否属实，不实则调整配置）",
    Outcome.INCONCLUSIVE: "无法判定（需要补充配置）",
    Outcome.ERROR: "巡检系统自身故障",
}


def _explain(services: Services, ident: str, outcome: Outcome, result: ProbeResult) -> None:
    target, _ = services.catalog.check(ident)
    print(f"\n== {ident}: {_VERDICT[outcome]}")
    if result.summary:
        print(f"  概要：{result.summary}")
    if result.error:
        print(f"  未能读取：{result.error}")
    for finding in result.findings:
        print(f"  [{finding.code}] {finding.title}：{finding.detail}")
    for line in measures(result):
        print(f"  {line}")
    rates = result.metrics.get("element_rates")
    if isinstance(rates, dict) and rates:
        shown = "、".join(f"{name} {share * 100:.0f}%" for name, share in rates.items())
        print(f"  办事指南要素公开率（抽查 {result.metrics.get('guides_checked', 0)} 个）：{shown}")
    visits = result.metrics.get("page_visits")
    for seen in visits if isinstance(visits, list) else ():
        status = f"HTTP {seen['status']}" if seen.get("status") else "无响应"
        print(f"  访问 {seen['url']}：{seen['ms']} 毫秒，{status}")
    if result.metrics.get("certificate_days_left") is not None:
        print(f"  HTTPS 证书剩余有效期：{result.metrics['certificate_days_left']} 天")
    if outcome is not Outcome.PASS:
        configured = ", ".join(sorted(target.selectors)) or "无"
        print(f"  已配置的选择器（targets[].selectors）：{configured}")


def measures(result: ProbeResult) -> list[str]:
    """The measurements an operator calibrates on: 网上办理深度 levels, clicks to each page."""
    lines = []
    levels = result.metrics.get("levels")
    if isinstance(levels, dict) and any(levels.values()):
        shown = "、".join(f"{level}级 {count} 项" for level, count in levels.items())
        lines.append(f"网上办理深度：{shown}")
    clicks = result.metrics.get("clicks")
    if isinstance(clicks, dict) and clicks:
        shown = "；".join(
            f"{url} {'未找到' if n is None else f'{n} 次'}" for url, n in clicks.items()
        )
        lines.append(f"自首页点击次数：{shown}")
    lines += _new_check_measures(result.metrics)
    unjudged = result.metrics.get("unjudged")
    for note in unjudged if isinstance(unjudged, list) else ():
        lines.append(f"未判定：{note}")
    return lines


def _new_check_measures(metrics: dict[str, Any]) -> list[str]:
    """智能客服 answer times, 同源 comparisons, 差评公示 counts, the care mode's text sizes."""
    lines = []
    answers = metrics.get("answers")
    for answer in answers if isinstance(answers, list) else ():
        seconds = answer.get("seconds")
        took = "未作答" if seconds is None else f"{seconds:.1f} 秒作答"
        judged = {True: "，涉及该事项", False: "，未涉及该事项"}.get(answer.get("relevant"), "")
        lines.append(f"智能客服：“{answer.get('question')}”{took}{judged}")
    if isinstance(metrics.get("items_compared"), int):
        lines.append(
            f"同源比对：比对事项 {metrics['items_compared']} 个，"
            f"要素比对 {metrics.get('fields_compared', 0)} 次"
        )
    reviews = metrics.get("reviews")
    if isinstance(reviews, dict):
        lines.append(
            f"差评公示：读取 {reviews.get('rows', 0)} 条，其中差评 {reviews.get('bad', 0)} 条"
            f"（超期未回复 {reviews.get('unanswered', 0)}，超期回复 {reviews.get('late', 0)}，"
            f"未到期未回复 {reviews.get('waiting', 0)}）"
        )
    care = metrics.get("care_mode")
    if isinstance(care, dict):
        after = care.get("after_px")
        lines.append(
            f"关怀模式“{care.get('entry')}”：正文字号 {care.get('before_px')}px → "
            + (f"{after}px" if after is not None else "未能测得")
        )
    return lines


def _period(services: Services, key: str) -> dt.timedelta:
    target = services.catalog.target(key)
    return target.probation if target.probation is not None else services.catalog.defaults.probation
