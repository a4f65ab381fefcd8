"""What each ``govpatrol`` subcommand does. Output is for people: Chinese first."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path

from sqlalchemy import make_url

from bot.migrate import is_current, upgrade
from bot.services import Services, build_services, read_catalog
from config.catalog import PROBE_LABELS
from config.loader import load_catalog
from config.settings import Settings, load_settings
from core.db import make_engine
from core.results import Outcome
from probes.registry import params_models, probe_kinds
from tasks.catalog_sync import sync_catalog
from tasks.models import STATE_LABELS, RunPurpose, TaskState

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


def sandbox(args: argparse.Namespace) -> int:
    from sandbox.main import serve

    return serve(args.host, args.port, args.fault, args.style)


def demo(args: argparse.Namespace) -> int:
    from bot.demo import run_demo

    return asyncio.run(run_demo(once=args.once, timeout_s=args.timeout))


def _masked_db(settings: Settings) -> str:
    return make_url(settings.resolved_database_url).render_as_string(hide_password=True)
