"""The ``govpatrol`` command.

Exit codes: 0 success (a probe passed); 1 a probe failed or the input was wrong;
2 usage error; 3 a probe was inconclusive; 4 the monitor itself failed.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from bot.lease import LeaseHeld
from bot.log_setup import configure_logging, pop_log_level
from bot.setting_problems import SettingProblem
from config.loader import CatalogError
from config.redaction import install_log_scrubber

EXIT_OK, EXIT_FAIL, EXIT_USAGE, EXIT_INCONCLUSIVE, EXIT_ERROR = 0, 1, 2, 3, 4


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    words, log_level = pop_log_level(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(words)
    install_log_scrubber()  # no line of any command shows a channel's key or password
    configure_logging(log_level, os.environ)
    if not hasattr(args, "handler"):
        parser.print_help()
        return EXIT_USAGE
    try:
        return int(args.handler(args))
    except CatalogError as exc:
        print("目录（catalog）有误 / catalog problems:", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        return EXIT_FAIL
    except SettingProblem as exc:
        print(exc, file=sys.stderr)
        return EXIT_USAGE
    except LeaseHeld as exc:
        print(
            f"无法启动：{exc}（GOVPATROL_DATABASE_URL 所指的数据库只能有一个守护进程）",
            file=sys.stderr,
        )
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130


def _parser() -> argparse.ArgumentParser:
    from bot import (
        campaign_commands,
        commands,
        consultations,
        maintenance_commands,
        notify_commands,
        report_commands,
        target_commands,
        task_commands,
        user_commands,
    )

    parser = argparse.ArgumentParser(
        prog="govpatrol", description="政务服务平台巡检与整改督办 / government portal patrol"
    )
    parser.add_argument("--catalog", type=Path, help="catalog YAML (default: GOVPATROL_CATALOG)")
    parser.add_argument(
        "--log-level",
        help="DEBUG, INFO, WARNING, ERROR (default GOVPATROL_LOG_LEVEL, else INFO); "
        "also accepted after the subcommand",
    )
    sub = parser.add_subparsers(metavar="COMMAND")

    check = sub.add_parser("check-config", help="validate a catalog file")
    check.add_argument("file", type=Path)
    check.set_defaults(handler=commands.check_config)

    db = sub.add_parser("db", help="database maintenance")
    db_sub = db.add_subparsers(metavar="ACTION")
    upgrade = db_sub.add_parser("upgrade", help="apply migrations")
    upgrade.set_defaults(handler=commands.db_upgrade)

    run = sub.add_parser("run", help="run the daemon (scheduler, notifications, web)")
    run.add_argument("--upgrade", action="store_true", help="apply migrations first")
    run.set_defaults(handler=commands.run_daemon)

    scheduler = sub.add_parser(
        "scheduler", help="defer due runs to the locations' queues (PostgreSQL; active/standby)"
    )
    scheduler.set_defaults(handler=commands.run_scheduler)

    worker = sub.add_parser("worker", help="run the checks of one location's queue (PostgreSQL)")
    worker.add_argument("--location", default="default", help="catalog location name")
    worker.add_argument("--concurrency", type=int, default=0, help="browser contexts at once")
    worker.add_argument(
        "--health",
        action="store_true",
        help="exit 0 if this machine's worker renewed its liveness file lately, else 1",
    )
    worker.set_defaults(handler=commands.run_worker)

    web = sub.add_parser("web", help="serve only the web pages (no scheduler)")
    web.set_defaults(handler=commands.run_web)

    probe = sub.add_parser("probe", help="run one check now and print what it found")
    probe.add_argument("check", help="check id, e.g. sf-portal/search")
    probe.add_argument("--dry-run", action="store_true", help="do not record the run")
    probe.set_defaults(handler=commands.probe_once)

    task_commands.add_parsers(sub)
    target_commands.add_parsers(sub)
    maintenance_commands.add_parsers(sub)
    report_commands.add_parsers(sub)
    notify_commands.add_parsers(sub)
    consultations.add_parsers(sub)
    user_commands.add_parsers(sub)
    campaign_commands.add_parsers(sub)

    sandbox = sub.add_parser("sandbox", help="serve the demo portal 示范省政务服务网")
    sandbox.add_argument("--host", default="127.0.0.1")
    sandbox.add_argument("--port", type=int, default=8001)
    sandbox.add_argument(
        "--style",
        choices=["classic", "spa"],
        default="classic",
        help="classic: server-rendered pages; spa: a single-page app on JSON APIs",
    )
    sandbox.add_argument(
        "--fault",
        action="append",
        default=[],
        help="switch a fault on, e.g. search_empty, items_missing=排污许可证核发 (repeatable)",
    )
    sandbox.set_defaults(handler=commands.sandbox)

    demo = sub.add_parser("demo", help="the whole loop on a local portal, mail and chat")
    demo.add_argument("--once", action="store_true", help="run the scenario to its end and exit")
    demo.add_argument("--timeout", type=float, default=180.0, help="seconds for --once")
    demo.set_defaults(handler=commands.demo)
    return parser


if __name__ == "__main__":
    sys.exit(main())
