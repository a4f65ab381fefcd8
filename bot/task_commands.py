"""``govpatrol tasks`` and ``task …``: the task workflow from a shell.

Unit actions here stand in for the signed link (签收, 报送整改, 申请延期, 申诉);
supervisor decisions for the console (批准/不批准延期, 申诉成立/不成立, 销号).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import unicodedata
from collections.abc import Callable, Sequence

from sqlalchemy.orm import Session

from bot.commands import services_from
from bot.services import Services
from tasks.lifecycle import Actor, Role, TaskError
from tasks.models import RequestKind, RequestState, TaskState
from tasks.queries import find_tasks

REQUEST_STATES = {
    (RequestKind.EXTENSION.value, RequestState.PENDING.value): "待审批",
    (RequestKind.EXTENSION.value, RequestState.APPROVED.value): "已批准",
    (RequestKind.EXTENSION.value, RequestState.REFUSED.value): "未批准",
    (RequestKind.DISPUTE.value, RequestState.PENDING.value): "待审核",
    (RequestKind.DISPUTE.value, RequestState.APPROVED.value): "申诉成立",
    (RequestKind.DISPUTE.value, RequestState.REFUSED.value): "申诉不成立",
}


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    tasks = sub.add_parser("tasks", help="list rectification tasks")
    tasks.add_argument("--overdue", action="store_true", help="only overdue tasks")
    tasks.add_argument("--unit", help="only this unit and the units below it")
    tasks.add_argument("--all", action="store_true", help="include closed and invalidated")
    tasks.set_defaults(handler=list_tasks)

    task = sub.add_parser("task", help="show or act on one task")
    actions = task.add_subparsers(metavar="ACTION")

    def action(
        name: str,
        help: str,
        handler: Callable[[argparse.Namespace], int],
        *,
        by: str = "id",
        actor: str = "命令行",
    ) -> argparse.ArgumentParser:
        parser = actions.add_parser(name, help=help)
        parser.add_argument(by, type=int)
        parser.add_argument("--actor", default=actor, type=_operator, help="who does it")
        parser.set_defaults(handler=handler)
        return parser

    show = actions.add_parser("show", help="a task with its requests and history")
    show.add_argument("id", type=int)
    show.set_defaults(handler=task_show)
    ack = action("acknowledge", "the unit acknowledges (签收)", task_acknowledge)
    ack.add_argument("--note", default="")
    fixed = action("rectified", "the unit reports the fix (整改说明); verify now", task_rectified)
    fixed.add_argument("--note", required=True)
    extend = action("extend", "the unit asks for more working days (申请延期)", task_extend)
    extend.add_argument("--days", type=int, required=True)
    extend.add_argument("--reason", required=True)
    dispute = action("dispute", "the unit disputes a false alarm (申诉)", task_dispute)
    dispute.add_argument("--reason", required=True)
    decide = action(
        "decide-extension",
        "a supervisor approves or refuses an extension request",
        decide_extension,
        by="request",
        actor="督办人员",
    )
    verdict = decide.add_mutually_exclusive_group(required=True)
    verdict.add_argument("--approve", action="store_true")
    verdict.add_argument("--refuse", dest="approve", action="store_false")
    decide.add_argument("--days", type=int, help="grant other than the days asked")
    decide.add_argument("--note", default="")
    judge = action(
        "decide-dispute",
        "a supervisor upholds or rejects a dispute",
        decide_dispute,
        by="request",
        actor="督办人员",
    )
    ruling = judge.add_mutually_exclusive_group(required=True)
    ruling.add_argument("--uphold", action="store_true")
    ruling.add_argument("--reject", dest="uphold", action="store_false")
    judge.add_argument("--note", default="")
    close = action("close", "close by decision, without verification", task_close, actor="督办人员")
    close.add_argument("--reason", required=True)


def list_tasks(args: argparse.Namespace) -> int:
    from config.units import subtree

    services = services_from(args)
    today = services.clock.now().astimezone(services.zone).date()
    units = None
    if args.unit:
        try:
            units = subtree(services.catalog, args.unit)
        except KeyError:
            print(f"没有责任单位 {args.unit!r}", file=sys.stderr)
            return 1
    with services.sessions() as session:
        found = find_tasks(
            session, today=today, overdue_only=args.overdue, units=units, include_ended=args.all
        )
        rows = []
        for task in found:
            state = TaskState(task.state)
            left = services.calendar.working_days_left(today, task.deadline)
            rows.append(
                [
                    f"#{task.id}",
                    state.label,
                    task.unit_code,
                    task.check_id,
                    task.title,
                    f"{task.deadline}{'*' if task.deadline_estimated else ''}",
                    days_text(left) if state.active else "—",
                ]
            )
    if not rows:
        print("没有符合条件的整改任务")
        return 0
    print(table(["编号", "状态", "责任单位", "巡检项", "问题", "整改时限", "剩余"], rows))
    if any(row[5].endswith("*") for row in rows):
        print("* 预估时限：该年度节假日安排未知")
    return 0


def task_show(args: argparse.Namespace) -> int:
    services = services_from(args)
    today = services.clock.now().astimezone(services.zone).date()
    with services.sessions() as session:
        try:
            task = services.desk.get(session, args.id)
        except TaskError as exc:
            print(exc, file=sys.stderr)
            return 1
        facts = services.outbox.facts(task)
        state = TaskState(task.state)
        print(f"整改任务 #{task.id}  [{state.label}]")
        print(f"责任单位：{facts.unit_name}")
        print(f"巡检对象：{facts.target_name}（{facts.target_url}）")
        print(f"巡检项目：{facts.check_label}（{task.check_id}）")
        print(f"存在问题：{task.title}  [{task.finding_code}]")
        print(f"具体内容：{task.detail}")
        left = services.calendar.working_days_left(today, task.deadline)
        estimated = "（预估）" if task.deadline_estimated else ""
        print(
            f"整改时限：{task.deadline}{estimated}，{days_text(left) if state.active else '已结束'}"
        )
        print(f"办理链接：{facts.link}")
        requests = services.desk.requests(session, task.id)
        if requests:
            print("申请：")
            for req in requests:
                what = "延期" if req.kind == RequestKind.EXTENSION.value else "申诉"
                days = f" {req.days} 个工作日" if req.days else ""
                status = REQUEST_STATES[(req.kind, req.state)]
                print(f"  #{req.id} {what}{days}（{status}）{req.requested_by}：{req.reason}")
        print("办理记录：")
        for row in task.history:
            when = row.at.astimezone(services.zone).strftime("%Y-%m-%d %H:%M")
            run = f" 巡检记录#{row.run_id}" if row.run_id else ""
            print(f"  {when} {row.actor} {row.action} → {row.to_state}：{row.reason}{run}")
    return 0


def task_rectified(args: argparse.Namespace) -> int:
    from bot.jobs import report_fixed
    from bot.rounds import quorum_of

    services = services_from(args)

    async def main() -> int:
        try:
            report = await report_fixed(services, args.id, args.actor, args.note)
        except TaskError as exc:
            print(exc, file=sys.stderr)
            return 1
        finally:
            await services.close()
        with services.sessions() as session:
            state = TaskState(services.desk.get(session, args.id).state)
        print(f"已报送整改，复核巡检 #{report.run_id}：{report.outcome.value}")
        needed = quorum_of(services, report.check_id)
        if needed > 1:
            print(
                f"该巡检项需 {needed} 个地点共同判定：本次复核仅作为证据，"
                "下一轮多地巡检后决定是否销号"
            )
        print(f"整改任务 #{args.id} 当前状态：{state.label}")
        return 0

    return asyncio.run(main())


def task_acknowledge(args: argparse.Namespace) -> int:
    return _act(args, lambda s, d: d.desk.acknowledge(s, args.id, args.actor, args.note), "已签收")


def task_extend(args: argparse.Namespace) -> int:
    def act(session: Session, services: Services) -> object:
        return services.desk.request_extension(session, args.id, args.actor, args.days, args.reason)

    return _act(args, act, "延期申请已提交，等待督办人员审批")


def task_dispute(args: argparse.Namespace) -> int:
    def act(session: Session, services: Services) -> object:
        return services.desk.dispute(session, args.id, args.actor, args.reason)

    return _act(args, act, "申诉已提交，等待督办人员审核")


def decide_extension(args: argparse.Namespace) -> int:
    def act(session: Session, services: Services) -> object:
        return services.desk.decide_extension(
            session, args.request, args.actor, args.approve, args.note, args.days
        )

    return _act(args, act, "已批准延期" if args.approve else "已不予延期")


def decide_dispute(args: argparse.Namespace) -> int:
    def act(session: Session, services: Services) -> object:
        return services.desk.decide_dispute(
            session, args.request, args.actor, args.uphold, args.note
        )

    return _act(args, act, "申诉成立，任务已撤销" if args.uphold else "申诉不成立，任务继续")


def task_close(args: argparse.Namespace) -> int:
    return _act(args, lambda s, d: d.desk.close(s, args.id, args.actor, args.reason), "已销号")


def _act(args: argparse.Namespace, act: Callable[[Session, Services], object], done: str) -> int:
    services = services_from(args)
    try:
        with services.sessions.begin() as session:
            act(session, services)
    except TaskError as exc:
        print(exc, file=sys.stderr)
        return 1
    print(done)
    return 0


def days_text(left: int) -> str:
    if left > 0:
        return f"剩 {left} 个工作日"
    return "今天到期" if left == 0 else f"超期 {-left} 个工作日"


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Columns aligned for a terminal, counting CJK characters as two wide."""
    widths = [max(_width(str(r[i])) for r in [headers, *rows]) for i in range(len(headers))]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            str(cell) + " " * (widths[i] - _width(str(cell))) for i, cell in enumerate(cells)
        ).rstrip()

    return "\n".join([line(headers), *(line(row) for row in rows)])


def _operator(name: str) -> Actor:
    """Whoever acts from the command line acts as the operator, on behalf of a unit or a
    supervisor (the lifecycle table lets the operator take both sides' actions)."""
    return Actor(name, Role.OPERATOR)
