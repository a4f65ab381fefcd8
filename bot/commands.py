"""What each ``govpatrol`` subcommand does. Output is for people: Chinese first."""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
from pathlib import Path

from pydantic import ValidationError
from sqlalchemy import make_url

from bot.migrate import is_current, upgrade
from bot.services import Services, build_services, read_catalog
from bot.setting_problems import from_validation, open_database
from config.catalog import PROBE_LABELS
from config.loader import load_catalog
from config.settings import Settings, load_settings
from core.progress import Progress
from core.results import Outcome
from probes.registry import params_models, probe_kinds
from tasks.catalog_sync import sync_catalog
from tasks.models import STATE_LABELS, RunPurpose, TaskState
from tasks.scorecard import Month

EXIT_USAGE = 2  # an unknown check is a usage error, not a failing probe
EXIT_CODES = {Outcome.PASS: 0, Outcome.FAIL: 1, Outcome.INCONCLUSIVE: 3, Outcome.ERROR: 4}


def settings_from(args: argparse.Namespace) -> Settings:
    try:
        settings = load_settings()
    except ValidationError as exc:
        raise from_validation(exc) from None
    if getattr(args, "catalog", None):
        settings = settings.model_copy(update={"catalog": args.catalog})
    return settings


def month_from(args: argparse.Namespace) -> Month | None:
    """The ``--month`` argument as a month; None, after saying why on stderr, when it is
    missing or not a month (the command then exits 1)."""
    if not args.month:
        print("请给出月份，例如 --month 2026-11", file=sys.stderr)
        return None
    try:
        return Month.parse(args.month)
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return None


def services_from(args: argparse.Namespace) -> Services:
    settings = settings_from(args)
    engine = open_database(settings)
    services = build_services(settings, read_catalog(settings), engine=engine)
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
        progress=Progress("校验目录 / validating"),
    )
    checks = catalog.checks()
    print(
        f"目录有效 / catalog OK: {args.file} — {len(catalog.units)} 个责任单位, "
        f"{len(catalog.targets)} 个巡检对象, {len(checks)} 个巡检项"
    )
    print(
        f"  指标体系 {catalog.indicators.name}：{len(catalog.indicators.leaves())} 项末级指标"
        + (f"（{catalog.indicator_map}）" if catalog.indicator_map else "（默认）")
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
    engine = open_database(settings)
    upgrade(engine)
    print(f"数据库已迁移到最新版本 / database upgraded: {_masked_db(settings)}")
    if engine.dialect.name == "postgresql":
        from bot.queue import apply_queue_schema

        if asyncio.run(apply_queue_schema(settings.resolved_database_url)):
            print("已创建任务队列（Procrastinate）表 / job queue schema applied")
    return 0


def run_scheduler(args: argparse.Namespace) -> int:
    """``govpatrol scheduler``: defer due runs to the locations' queues (active/standby)."""
    from bot.dispatch import Dispatcher

    services = services_from(args)
    _require_postgres(services)

    async def main() -> None:
        dispatcher = Dispatcher(services, asyncio.Event())
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, dispatcher.stop.set)
        try:
            await dispatcher.run()
        finally:
            await services.close()

    print("govpatrol 调度角色启动 / scheduler starting")
    asyncio.run(main())
    return 0


def run_worker(args: argparse.Namespace) -> int:
    """``govpatrol worker --location NAME``: run one location's queue with a browser pool."""
    from bot.worker import alive_file, health_problem
    from bot.worker import run_worker as consume

    settings = settings_from(args)
    if args.health:
        problem = health_problem(alive_file(settings), settings.worker_heartbeat_s)
        print(problem or "执行角色正常 / worker healthy")
        return 1 if problem else 0
    if args.concurrency:
        settings = settings.model_copy(update={"browser_concurrency": args.concurrency})
    services = build_services(settings, read_catalog(settings))
    if not is_current(services.engine):
        raise SystemExit("数据库未迁移到最新版本，请先运行：govpatrol db upgrade")
    _require_postgres(services)

    async def main() -> None:
        try:
            await consume(services, args.location, settings.browser_concurrency)
        finally:
            await services.close()

    print(f"govpatrol 执行角色启动 / worker starting: {args.location}")
    asyncio.run(main())
    return 0


def _require_postgres(services: Services) -> None:
    if services.engine.dialect.name != "postgresql":
        raise SystemExit(
            "调度与执行角色需要 PostgreSQL；SQLite 请用单进程 govpatrol run / "
            "scheduler and worker roles need PostgreSQL"
        )


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
    from bot.web_server import server_config

    services = services_from(args)
    uvicorn.Server(server_config(create_web_app(services), services.settings)).run()
    return 0


def probe_once(args: argparse.Namespace) -> int:
    from bot.jobs import run_check

    services = services_from(args)
    try:
        services.catalog.check(args.check)
    except KeyError:
        known = ", ".join(ident for ident, _, _ in services.catalog.checks())
        print(f"没有巡检项 {args.check!r}；已配置：{known}", file=sys.stderr)
        return EXIT_USAGE
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


def sandbox(args: argparse.Namespace) -> int:
    from sandbox.main import serve

    return serve(args.host, args.port, args.fault, args.style)


def demo(args: argparse.Namespace) -> int:
    from bot.demo import run_demo

    return asyncio.run(run_demo(once=args.once, timeout_s=args.timeout))


def _masked_db(settings: Settings) -> str:
    return make_url(settings.resolved_database_url).render_as_string(hide_password=True)
