"""What each ``govpatrol`` subcommand does. Output is for people: Chinese first."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import unicodedata
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy import make_url

from bot.services import Services, build_services, read_catalog
from config.catalog import PROBE_LABELS
from config.loader import load_catalog
from config.settings import Settings, load_settings
from probes.registry import params_models, probe_kinds
from probes.results import Outcome
from tasks.catalog_sync import sync_catalog
from tasks.db import make_engine
from tasks.migrate import is_current, upgrade
from tasks.models import STATE_LABELS, RunPurpose, TaskState
from tasks.queries import find_tasks
from tasks.tracker import TaskError

EXIT_CODES = {Outcome.PASS: 0, Outcome.FAIL: 1, Outcome.INCONCLUSIVE: 3, Outcome.ERROR: 4}


def settings_from(args: argparse.Namespace) -> Settings:
    settings = load_settings()
    if getattr(args, "catalog", None):
        settings = settings.model_copy(update={"catalog": args.catalog})
    return settings


def services_from(args: argparse.Namespace) -> Services:
    settings = settings_from(args)
    services = build_services(settings, read_catalog(settings))
    if not is_current(services.engine):
        raise SystemExit(
            f"数据库未迁移到最新版本（{_masked_db(settings)}），请先运行：govpatrol db upgrade"
        )
    return services


def check_config(args: argparse.Namespace) -> int:
    secrets_dir = os.environ.get("GOVPATROL_SECRETS_DIR")
    catalog = load_catalog(
        args.file,
        probe_params=params_models(probe_kinds()),
        secrets_dir=Path(secrets_dir) if secrets_dir else None,
    )
    checks = catalog.checks()
    print(
        f"目录有效 / catalog OK: {args.file} — {len(catalog.units)} 个责任单位, "
        f"{len(catalog.targets)} 个巡检对象, {len(checks)} 个巡检项"
    )
    for unit in catalog.units:
        parent = f"（上级 {unit.parent}）" if unit.parent else ""
        print(f"  单位 {unit.code} {unit.name}{parent}")
        for contact in unit.contacts:
            channels = ", ".join(url.masked for url in contact.notify) or "无通知地址"
            print(f"    {contact.role.value} {contact.name}: {channels}")
    for ident, target, check in checks:
        state = "" if check.enabled else "（停用）"
        label = PROBE_LABELS.get(check.probe, check.probe)
        print(f"  巡检项 {ident} [{label}] {check.schedule.describe()} → {target.unit}{state}")
    return 0


def db_upgrade(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    engine = make_engine(settings.resolved_database_url)
    upgrade(engine)
    print(f"数据库已迁移到最新版本 / database upgraded: {_masked_db(settings)}")
    return 0


def run_daemon(args: argparse.Namespace) -> int:
    from bot.daemon import Daemon

    if args.upgrade:
        db_upgrade(args)
    services = services_from(args)

    async def main() -> None:
        daemon = Daemon(services)
        daemon.install_signal_handlers()
        try:
            await daemon.run()
        finally:
            await services.close()

    print(f"govpatrol 守护进程启动 / daemon starting, web {services.settings.public_url}")
    asyncio.run(main())
    return 0


def run_web(args: argparse.Namespace) -> int:
    import uvicorn

    from bot.web import create_web_app

    services = services_from(args)
    settings = services.settings
    uvicorn.run(create_web_app(services), host=settings.web_host, port=settings.web_port)
    return 0


def probe_once(args: argparse.Namespace) -> int:
    from bot.jobs import run_check

    services = services_from(args)
    try:
        services.catalog.check(args.check)
    except KeyError:
        known = ", ".join(ident for ident, _, _ in services.catalog.checks())
        print(f"没有巡检项 {args.check!r}；已配置：{known}", file=sys.stderr)
        return 1
    if not args.dry_run:
        with services.sessions.begin() as session:
            sync_catalog(session, services.catalog)

    async def main() -> int:
        try:
            report = await run_check(
                services, args.check, purpose=RunPurpose.MANUAL, record=not args.dry_run
            )
        finally:
            await services.close()
        result = report.result
        where = f"巡检记录 #{report.run_id}" if report.run_id else "未记录（--dry-run）"
        print(f"{args.check}: {result.outcome.value} — {result.summary}（{where}）")
        if result.error:
            print(f"  原因：{result.error}")
        for finding in result.findings:
            print(f"  [{finding.code}] {finding.title}：{finding.detail}")
        for path in (*result.evidence.screenshots, *result.evidence.html, *result.evidence.traces):
            print(f"  证据：{services.evidence.root / path}")
        for task_id, state in report.changed_tasks:
            print(f"  整改任务 #{task_id} → {STATE_LABELS[TaskState(state)]}")
        return EXIT_CODES[result.outcome]

    return asyncio.run(main())


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
                    _days(left) if state.active else "—",
                ]
            )
    if not rows:
        print("没有符合条件的整改任务")
        return 0
    print(_table(["编号", "状态", "责任单位", "巡检项", "问题", "整改时限", "剩余"], rows))
    if any(row[5].endswith("*") for row in rows):
        print("* 预估时限：该年度节假日安排未知")
    return 0


def task_show(args: argparse.Namespace) -> int:
    services = services_from(args)
    today = services.clock.now().astimezone(services.zone).date()
    with services.sessions() as session:
        try:
            task = services.tracker.get(session, args.id)
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
        print(f"整改时限：{task.deadline}{estimated}，{_days(left) if state.active else '已结束'}")
        print(f"办理链接：{facts.link}")
        print("办理记录：")
        for row in task.history:
            when = row.at.astimezone(services.zone).strftime("%Y-%m-%d %H:%M")
            run = f" 巡检记录#{row.run_id}" if row.run_id else ""
            print(f"  {when} {row.actor} {row.action} → {row.to_state}：{row.reason}{run}")
    return 0


def task_rectified(args: argparse.Namespace) -> int:
    from bot.jobs import report_fixed

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
            task = services.tracker.get(session, args.id)
            state = TaskState(task.state)
        print(f"已报送整改，复核巡检 #{report.run_id}：{report.outcome.value}")
        print(f"整改任务 #{args.id} 当前状态：{state.label}")
        return 0

    return asyncio.run(main())


def task_close(args: argparse.Namespace) -> int:
    services = services_from(args)
    try:
        with services.sessions.begin() as session:
            services.tracker.close(session, args.id, args.actor, args.reason)
    except TaskError as exc:
        print(exc, file=sys.stderr)
        return 1
    print(f"整改任务 #{args.id} 已销号")
    return 0


def sandbox(args: argparse.Namespace) -> int:
    from sandbox.main import serve

    return serve(args.host, args.port, args.fault)


def demo(args: argparse.Namespace) -> int:
    from bot.demo import run_demo

    return asyncio.run(run_demo(once=args.once, timeout_s=args.timeout))


def _masked_db(settings: Settings) -> str:
    return make_url(settings.resolved_database_url).render_as_string(hide_password=True)


def _days(left: int) -> str:
    if left > 0:
        return f"剩 {left} 个工作日"
    return "今天到期" if left == 0 else f"超期 {-left} 个工作日"


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(_width(str(r[i])) for r in [headers, *rows]) for i in range(len(headers))]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            str(cell) + " " * (widths[i] - _width(str(cell))) for i, cell in enumerate(cells)
        ).rstrip()

    return "\n".join([line(headers), *(line(row) for row in rows)])
