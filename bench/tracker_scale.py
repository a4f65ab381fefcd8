"""Tracker scale: a database with 1,000,000 runs and 100,000 tasks across 3,000 units, on
SQLite and on PostgreSQL. Measures the overdue-tasks query, the monthly scorecards, the
monthly indicator report (every unit's and target's indicator scores from the month's
runs) and one chase sweep over 10,000 open tasks; also the console's target board (every
check's last outcome, last pass and last failure) and the month's availability per target
and location (runs from two locations by turns), which have no bar of their own.

    python -m bench.tracker_scale [--runs N] [--tasks N] [--units N] [--open N]
                                  [--databases sqlite,postgresql]

Bars: overdue query p95 < 100 ms, scorecards < 1 s, indicator report < 2 s, sweep < 2 s,
on both databases.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, insert

from bench.common import median, percentile, report, rounded, table, wire
from bot.console.figures import target_board
from bot.migrate import upgrade
from bot.services import Services
from core.clock import FakeClock
from core.db import make_engine
from notifications.chase import Rung, rung_for
from tasks.availability import availability_by_location
from tasks.indicators import monthly_indicators
from tasks.lifecycle import TaskAction
from tasks.models import FindingRow, Run, Task, TaskHistory, TaskState
from tasks.queries import find_tasks
from tasks.scorecard import Month, monthly_scorecards

ZONE = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 11, 24, 8, 0, tzinfo=ZONE)  # a Tuesday, before the digest hour
CHECKS_PER_TARGET = 2
CODES = (
    "search.item_not_found",
    "search.slow",
    "search.error_page",
    "site.http_error",
    "search.unavailable",
    "site.unreachable",
)
CHUNK = 20_000
LOCATIONS = ("互联网-电信", "政务外网")
POSTGRES_ADMIN = os.environ.get(
    "GOVPATROL_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)


def catalog_text(units: int) -> str:
    lines = ["chase: {digest: false}", "units:"]
    for i in range(units):
        lines.append(
            f"  - {{code: u{i:04d}, name: 第{i}号单位, level: county, contacts: "
            f"[{{name: 联系人{i}, notify: ['json://127.0.0.1:9/u{i:04d}']}}]}}"
        )
    lines.append("targets:")
    for i in range(units):
        lines.append(
            f"  - {{key: t{i:04d}, name: 第{i}号政务服务网, unit: u{i:04d}, "
            "base_url: 'http://127.0.0.1:9', checks: ["
            "{probe: search, schedule: 1h, params: {items: [公司设立登记]}},"
            "{name: s2, probe: search, schedule: 1h, params: {items: [食品经营许可]}}]}"
        )
    return "\n".join(lines)


def fill(services: Services, runs: int, tasks: int, units: int, open_tasks: int) -> None:
    """Runs over the last 60 days (10 % failing, with findings), tasks over a year."""
    rng = random.Random(20261124)
    now = NOW.astimezone(dt.UTC)
    checks = [ident for ident, _, _ in services.catalog.checks()]
    with services.engine.begin() as conn:
        run_rows, finding_rows = [], []
        for run_id in range(1, runs + 1):
            started = now - dt.timedelta(seconds=rng.randrange(60 * 86400))
            check = checks[run_id % len(checks)]
            failed = rng.random() < 0.1
            run_rows.append(
                {
                    "id": run_id,
                    "check_id": check,
                    "purpose": "scheduled",
                    "task_id": None,
                    "started_at": started,
                    "finished_at": started + dt.timedelta(seconds=3),
                    "duration_ms": 3000,
                    "outcome": "fail" if failed else "pass",
                    "summary": "",
                    "error": "",
                    "evidence": {},
                    "metrics": {},
                    "state": {},
                    "held": False,
                    # Two locations by turns: a check's runs alternate between them.
                    "location": LOCATIONS[(run_id // len(checks)) % len(LOCATIONS)],
                }
            )
            if failed:
                finding_rows.append(
                    {
                        "run_id": run_id,
                        "check_id": check,
                        "code": "search.item_not_found",
                        "severity": "major",
                        "title": "站内搜索不可用",
                        "detail": "搜索网站上已有的“公司设立登记”服务事项，搜索不到",
                        "subjects": ["公司设立登记"],
                        "data": {},
                    }
                )
            if len(run_rows) >= CHUNK:
                conn.execute(insert(Run), run_rows)
                run_rows = []
        if run_rows:
            conn.execute(insert(Run), run_rows)
        for start in range(0, len(finding_rows), CHUNK):
            conn.execute(insert(FindingRow), finding_rows[start : start + CHUNK])
        today = NOW.date()
        task_rows, history_rows = [], []
        for task_id in range(1, tasks + 1):
            # One live task per (check, finding code): spread them over checks, then codes.
            slot = task_id % (units * CHECKS_PER_TARGET)
            unit = slot // CHECKS_PER_TARGET
            check = f"t{unit:04d}/{'search' if slot % 2 else 's2'}"
            code = CODES[(task_id // (units * CHECKS_PER_TARGET)) % len(CODES)]
            live = task_id <= open_tasks
            if live:  # deadlines around today: some due soon, many overdue
                deadline = today + dt.timedelta(days=rng.randrange(-20, 15))
                opened = dt.datetime.combine(deadline - dt.timedelta(days=7), dt.time(10), ZONE)
            else:
                opened = now - dt.timedelta(days=rng.randrange(8, 365))
                deadline = (opened + dt.timedelta(days=7)).date()
            closed = None if live else opened + dt.timedelta(days=rng.randrange(1, 12))
            left = services.calendar.working_days_left(today, deadline)
            # 90 % are already on their rung; 10 % are one step behind (the sweep's work).
            level = int(rung_for(left, services.catalog.chase)) if live else 0
            if live and task_id % 10 == 0 and level > Rung.NONE:
                level -= 1
            task_rows.append(
                {
                    "id": task_id,
                    "check_id": check,
                    "unit_code": f"u{unit:04d}",
                    "finding_code": code,
                    "severity": "major",
                    "title": "站内搜索不可用",
                    "detail": "搜索不到",
                    "state": (TaskState.OPEN if live else TaskState.CLOSED).value,
                    "opened_at": opened,
                    "deadline": deadline,
                    "original_deadline": deadline,
                    "deadline_estimated": False,
                    "working_days": 5,
                    "occurrences": 2,
                    "first_run_id": 1,
                    "last_run_id": 1,
                    "last_seen_at": opened,
                    "acknowledged_at": None,
                    "rectified_at": None,
                    "closed_at": closed,
                    "reopen_count": 0,
                    "rectify_note": "",
                    "chase_level": level,
                }
            )
            history_rows.append(
                {
                    "task_id": task_id,
                    "at": opened,
                    "actor": "system",
                    "action": TaskAction.OPENED.value,
                    "from_state": None,
                    "to_state": TaskState.OPEN.value,
                    "reason": "",
                    "run_id": 1,
                }
            )
            if closed is not None:
                history_rows.append(
                    {
                        "task_id": task_id,
                        "at": closed,
                        "actor": "system",
                        "action": TaskAction.VERIFIED.value,
                        "from_state": TaskState.RECTIFIED.value,
                        "to_state": TaskState.CLOSED.value,
                        "reason": "",
                        "run_id": 1,
                    }
                )
            if len(task_rows) >= CHUNK:
                conn.execute(insert(Task), task_rows)
                conn.execute(insert(TaskHistory), history_rows)
                task_rows, history_rows = [], []
        if task_rows:
            conn.execute(insert(Task), task_rows)
            conn.execute(insert(TaskHistory), history_rows)
    if services.engine.dialect.name == "postgresql":
        with services.engine.connect() as conn:
            conn.exec_driver_sql("ANALYZE")
            conn.exec_driver_sql(
                "SELECT setval(pg_get_serial_sequence('task_history', 'id'), "
                "(SELECT max(id) FROM task_history))"
            )


def measure(services: Services, repeats: int) -> dict[str, Any]:
    today = NOW.date()
    overdue_ms = []
    for _ in range(repeats):
        started = time.perf_counter()
        with services.sessions() as session:
            found = find_tasks(session, today=today, overdue_only=True, limit=500)
        overdue_ms.append((time.perf_counter() - started) * 1000)
    scorecard_s = []
    for _ in range(3):
        started = time.perf_counter()
        with services.sessions() as session:
            cards = monthly_scorecards(
                session, services.catalog, services.calendar, ZONE, Month(2026, 10), today
            )
        scorecard_s.append(time.perf_counter() - started)
    indicator_s = []
    for _ in range(3):
        started = time.perf_counter()
        with services.sessions() as session:
            indicators = monthly_indicators(session, services.catalog, ZONE, Month(2026, 10), today)
        indicator_s.append(time.perf_counter() - started)
    judged = indicators.units["u0000"].row("A3-1")
    month_start = dt.datetime(2026, 10, 1, tzinfo=ZONE)
    month_end = dt.datetime(2026, 11, 1, tzinfo=ZONE)
    location_s = []
    for _ in range(3):
        started = time.perf_counter()
        with services.sessions() as session:
            places = availability_by_location(session, month_start, month_end)
        location_s.append(time.perf_counter() - started)
    board_s = []
    for _ in range(3):
        started = time.perf_counter()
        with services.sessions() as session:
            board = target_board(services, session, None)
        board_s.append(time.perf_counter() - started)
    started = time.perf_counter()
    first = services.chase.sweep()
    sweep_s = time.perf_counter() - started
    started = time.perf_counter()
    steady = services.chase.sweep()
    steady_s = time.perf_counter() - started
    return {
        "overdue_rows": len(found),
        "overdue_p50_ms": rounded(median(overdue_ms), 2),
        "overdue_p95_ms": rounded(percentile(overdue_ms, 95), 2),
        "scorecards": len(cards),
        "scorecard_s": rounded(median(scorecard_s), 3),
        "indicator_reports": len(indicators.units) + len(indicators.targets),
        "indicator_s": rounded(median(indicator_s), 3),
        "u0000_a3_1": f"{judged.against}/{judged.runs} → {judged.shown}",
        "location_figures": sum(len(found) for found in places.values()),
        "location_s": rounded(median(location_s), 3),
        "board_checks": len(board),
        "board_s": rounded(median(board_s), 3),
        "sweep_tasks": first.chased,
        "sweep_steps": first.steps,
        "sweep_s": rounded(sweep_s, 3),
        "steady_sweep_s": rounded(steady_s, 3),
        "steady_sweep_steps": steady.steps,
    }


@contextmanager
def database(kind: str, workdir: Path) -> Iterator[Engine]:
    if kind == "sqlite":
        engine = make_engine(f"sqlite:///{workdir / 'scale.db'}")
        upgrade(engine)
        yield engine
        engine.dispose()
        return
    import psycopg

    name = f"govpatrol_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    engine = make_engine(POSTGRES_ADMIN.rsplit("/", 1)[0] + f"/{name}")
    try:
        upgrade(engine)
        yield engine
    finally:
        engine.dispose()
        with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--runs", type=int, default=1_000_000)
    parser.add_argument("--tasks", type=int, default=100_000)
    parser.add_argument("--units", type=int, default=3_000)
    parser.add_argument("--open", type=int, default=10_000, help="tasks still open")
    parser.add_argument("--repeats", type=int, default=50, help="overdue query repetitions")
    parser.add_argument("--databases", default="sqlite,postgresql")
    args = parser.parse_args(argv)
    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="govpatrol-scale-") as scratch:
        for kind in args.databases.split(","):
            workdir = Path(scratch) / kind
            workdir.mkdir()
            with database(kind, workdir) as engine:
                services = wire(
                    workdir, catalog_text(args.units), engine=engine, clock=FakeClock(NOW)
                )
                started = time.perf_counter()
                fill(services, args.runs, args.tasks, args.units, args.open)
                filled = time.perf_counter() - started
                results[kind] = {"fill_s": rounded(filled, 1), **measure(services, args.repeats)}
    rows = [
        [
            kind,
            r["overdue_p95_ms"],
            r["overdue_p95_ms"] < 100,
            r["scorecard_s"],
            r["scorecard_s"] < 1,
            r["indicator_s"],
            r["indicator_s"] < 2,
            f"{r['sweep_tasks']} / {r['sweep_steps']}",
            r["sweep_s"],
            r["sweep_s"] < 2,
            r["steady_sweep_s"],
            r["board_s"],
            r["location_s"],
        ]
        for kind, r in results.items()
    ]
    text = (
        f"tracker scale: {args.runs:,} runs, {args.tasks:,} tasks ({args.open:,} open), "
        f"{args.units:,} units"
        + "\n"
        + table(
            [
                "database",
                "overdue p95 ms",
                "<100ms",
                "scorecards s",
                "<1s",
                "indicators s",
                "<2s",
                "sweep tasks/steps",
                "sweep s",
                "<2s",
                "steady sweep s",
                "target board s",
                "by location s",
            ],
            rows,
        )
    )
    figures = {
        "runs": args.runs,
        "tasks": args.tasks,
        "units": args.units,
        "open": args.open,
        "results": results,
    }
    return report("tracker_scale", figures, text)


if __name__ == "__main__":
    main()
