"""Queue at scale: 20,000 checks scheduled by a real ``govpatrol scheduler`` process through
the Procrastinate queue on the local PostgreSQL, consumed by 50 simulated workers (one
worker of concurrency 50 in this process) whose job is a stub probe of fixed length.

Every check gets a last run in the database, placed so that nothing is due while the
scheduler takes over (the benchmark holds the scheduler's lock while it reads the catalog,
then seeds the runs and lets go) and then runs come due evenly at the rate of the schedules
(checks / interval per second). A job's lateness is when the stub started − when its
check was due (its last run + its interval). The scheduler's CPU (its process and
children) is measured over the window of firing.

Bars: p99 lateness < 1 s; scheduler CPU < 10 % of one core.

    .venv/bin/python -m bench.queue_scale [--checks 20000] [--every 1200] [--workers 50]
        [--probe-seconds 1] [--fire-seconds 60]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import os
import random
import re
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import psutil
import psycopg
from sqlalchemy import insert

from bench.common import load_average, median, percentile, report, table, wire
from bench.scale_out import REPO, fresh_database, start_role
from bot.migrate import upgrade
from bot.queue import RUN_TASK, apply_queue_schema, queue_app, queue_name
from bot.scheduler import CATCH_UP_SPREAD_S
from bot.standby import SCHEDULER_LOCK_KEY
from config.catalog import DEFAULT_LOCATION
from core.db import make_engine
from tasks.models import Run

LATENESS_BAR_S = 1.0
READY_TIMEOUT_S = 900.0
CPU_BAR = 0.10
CHECKS_PER_TARGET = 5


def catalog_yaml(checks: int, every_s: int) -> str:
    """``checks`` 站内搜索 checks over ``checks / 5`` targets, every ``every_s`` seconds;
    the probe never runs (the workers are stubs), it only makes a valid catalog."""
    targets = max(1, checks // CHECKS_PER_TARGET)
    lines = [
        'defaults: {probation: "off"}',
        "units:",
        "  - code: bench-unit",
        "    name: 基准测试单位",
        "targets:",
    ]
    made = 0
    for t in range(targets):
        lines += [
            f"  - key: site-{t:05d}",
            f"    name: 网站{t:05d}",
            "    unit: bench-unit",
            f"    base_url: http://site-{t:05d}.example.gov.cn",
            "    checks:",
        ]
        for c in range(CHECKS_PER_TARGET if t < targets - 1 else checks - made):
            lines.append(
                f"      - {{probe: search, name: c{c}, schedule: {every_s}s,"
                " params: {items: [排污许可证核发]}}"
            )
            made += 1
    return "\n".join(lines) + "\n"


def seed_last_runs(
    url: str, check_ids: list[str], every_s: int, quiet_s: float
) -> dict[str, float]:
    """A last run of every check so that it is due between ``quiet_s`` s from now and one
    interval from now, evenly; returns each check's due time (epoch seconds)."""
    now = time.time()
    chooser = random.Random(7)
    due: dict[str, float] = {}
    rows = []
    for ident in check_ids:
        due[ident] = now + chooser.uniform(quiet_s, every_s)
        last = dt.datetime.fromtimestamp(due[ident] - every_s, dt.UTC)
        rows.append(
            {
                "check_id": ident,
                "purpose": "scheduled",
                "started_at": last,
                "finished_at": last,
                "duration_ms": 0,
                "outcome": "pass",
                "summary": "",
                "error": "",
                "evidence": {},
                "metrics": {},
                "state": {},
            }
        )
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(insert(Run), rows)
    engine.dispose()
    return due


def said(log: Path) -> str:
    return log.read_text(encoding="utf-8", errors="replace")


async def logged(log: Path, pattern: str, launched: float) -> float:
    """Seconds from ``launched`` until the scheduler's log says ``pattern``."""
    while not re.search(pattern, said(log)):
        if time.time() > launched + READY_TIMEOUT_S:
            raise RuntimeError(
                f"the scheduler was not scheduling {READY_TIMEOUT_S:.0f} s after it started;"
                f" it said:\n{said(log)[-2000:]}"
            )
        await asyncio.sleep(0.2)
    return time.time() - launched


def tree_cpu(process: psutil.Process) -> float:
    total = 0.0
    for each in [process, *process.children(recursive=True)]:
        with contextlib.suppress(psutil.Error):
            times = each.cpu_times()
            total += times.user + times.system
    return total


async def measure(
    checks: int,
    every_s: int,
    workers: int,
    probe_s: float,
    fire_s: float,
    quiet_s: float,
    url: str,
    tmp: Path,
) -> dict[str, Any]:
    text = catalog_yaml(checks, every_s)
    (tmp / "catalog.yaml").write_text(text, encoding="utf-8")
    engine = make_engine(url)
    upgrade(engine)
    await apply_queue_schema(url)
    mark = time.perf_counter()
    services = wire(tmp, text, engine=engine, database_url=url)
    sync_s = time.perf_counter() - mark
    check_ids = [ident for ident, _, _ in services.catalog.checks()]
    services.engine.dispose()
    # This process holds the scheduler's lock while the scheduler reads and mirrors the
    # catalog (a slow start on a busy machine), then seeds the last runs and hands the
    # lock over: the scheduler counts from them as a standby taking over does.
    holder = await psycopg.AsyncConnection.connect(url, autocommit=True)
    await holder.execute("SELECT pg_advisory_lock(%s)", (SCHEDULER_LOCK_KEY,))

    started: list[tuple[int, float]] = []  # (scheduled run id, when the stub started)
    app = queue_app(url)

    @app.task(name=RUN_TASK)
    async def stub(scheduled_run_id: int) -> None:
        started.append((scheduled_run_id, time.time()))
        await asyncio.sleep(probe_s)

    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "GOVPATROL_DATABASE_URL": url,
        "GOVPATROL_CATALOG": str(tmp / "catalog.yaml"),
        "GOVPATROL_DATA_DIR": str(tmp / "data"),
        "GOVPATROL_QUIET_HOURS": "false",
        "GOVPATROL_SECRET_KEY": "bench-secret-key",
        "GOVPATROL_SCHEDULER_LOCK_CHECK_S": "1",
    }
    launched = time.time()
    scheduler = start_role(tmp / "scheduler.log", env, "scheduler")
    try:
        await logged(tmp / "scheduler.log", "standby", launched)
        due = seed_last_runs(url, check_ids, every_s, quiet_s)
        fire_from = min(due.values())
        await holder.close()
        async with app.open_async():
            worker = asyncio.create_task(
                app.run_worker_async(
                    queues=[queue_name(DEFAULT_LOCATION)],
                    concurrency=workers,
                    delete_jobs="successful",
                    install_signal_handlers=False,
                )
            )
            try:
                ready_s = await logged(tmp / "scheduler.log", r"scheduled \d+ checks", launched)
                # Checks that came due before the scheduler was ready are caught up within
                # CATCH_UP_SPREAD_S of it: the window opens after that, never before the
                # first check is due.
                fire_from = max(fire_from, launched + ready_s + CATCH_UP_SPREAD_S + 5)
                await asyncio.sleep(max(0.0, fire_from - time.time()))
                if scheduler.poll() is not None:
                    raise RuntimeError(f"the scheduler exited: {said(tmp / 'scheduler.log')}")
                process = psutil.Process(scheduler.pid)
                me = psutil.Process()
                cpu_before, mine_before = tree_cpu(process), tree_cpu(me)
                wall_before = time.time()
                await asyncio.sleep(fire_s)
                cpu_s, mine_s = tree_cpu(process) - cpu_before, tree_cpu(me) - mine_before
                fire_until = time.time()
                await asyncio.sleep(probe_s + 3.0)  # let the jobs due last start
            finally:
                worker.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await worker
    finally:
        scheduler.send_signal(signal.SIGTERM)
        try:
            scheduler.wait(timeout=30)
        except subprocess.TimeoutExpired:
            scheduler.kill()
            scheduler.wait(timeout=10)
    if not started:
        raise RuntimeError(f"no job started; the scheduler said:\n{said(tmp / 'scheduler.log')}")
    with psycopg.connect(url) as conn:
        slot_check: dict[int, tuple[str, float]] = {
            int(ident): (str(check), deferred.timestamp())
            for ident, check, deferred in conn.execute(
                "SELECT id, check_id, deferred_at FROM scheduled_runs"
            )
        }
    # Split: the scheduler's part (due → deferred) and the queue's (deferred → started).
    parts = [
        (at - due[slot_check[ident][0]], slot_check[ident][1] - due[slot_check[ident][0]])
        for ident, at in started
        if ident in slot_check and wall_before <= due[slot_check[ident][0]] <= fire_until
    ]
    lateness = [total for total, _ in parts]
    deferring = [defer for _, defer in parts]
    waiting = [total - defer for total, defer in parts]
    window = fire_until - wall_before
    expected = sum(1 for t in due.values() if wall_before <= t <= fire_until)
    p99 = percentile(lateness, 99)
    cpu = cpu_s / window
    return {
        "checks": checks,
        "every_s": every_s,
        "workers": workers,
        "probe_s": probe_s,
        "catalog_sync_s": round(sync_s, 1),
        "scheduler_ready_s": round(ready_s, 1),
        "fire_seconds": round(window, 1),
        "due_in_window": expected,
        "started_in_window": len(lateness),
        "due_per_s": round(expected / window, 1),
        "lateness_ms": {
            "median": round(median(lateness) * 1000, 1),
            "p99": round(p99 * 1000, 1),
            "max": round(max(lateness, default=float("nan")) * 1000, 1),
        },
        "due_to_deferred_ms": {
            "median": round(median(deferring) * 1000, 1),
            "p99": round(percentile(deferring, 99) * 1000, 1),
        },
        "deferred_to_started_ms": {
            "median": round(median(waiting) * 1000, 1),
            "p99": round(percentile(waiting, 99) * 1000, 1),
        },
        "lateness_bar_s": LATENESS_BAR_S,
        "lateness_bar_met": bool(lateness) and p99 < LATENESS_BAR_S and len(lateness) == expected,
        "scheduler_cpu_share": round(cpu, 4),
        "cpu_bar": CPU_BAR,
        "cpu_bar_met": cpu < CPU_BAR,
        "workers_cpu_share": round(mine_s / window, 4),
        "load_average": load_average(),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--checks", type=int, default=20_000)
    parser.add_argument("--every", type=int, default=1200, help="each check's interval, s")
    parser.add_argument("--workers", type=int, default=50, help="simulated workers")
    parser.add_argument("--probe-seconds", type=float, default=1.0, help="the stub's length")
    parser.add_argument("--fire-seconds", type=float, default=60.0)
    parser.add_argument(
        "--quiet", type=float, default=60.0, help="seconds before the first check is due"
    )
    args = parser.parse_args(argv)
    if args.every <= args.quiet + args.fire_seconds:
        parser.error("--every must be longer than --quiet + --fire-seconds")
    with fresh_database() as url, tempfile.TemporaryDirectory(prefix="bench-queue-") as tmp:
        f = asyncio.run(
            measure(
                args.checks,
                args.every,
                args.workers,
                args.probe_seconds,
                args.fire_seconds,
                args.quiet,
                url,
                Path(tmp),
            )
        )
    lateness = f["lateness_ms"]
    rows: list[list[object]] = [
        [
            f"due in {f['fire_seconds']} s",
            f"{f['due_in_window']} ({f['due_per_s']}/s), started {f['started_in_window']}",
            "",
        ],
        ["lateness median / max", f"{lateness['median']} / {lateness['max']} ms", ""],
        [
            "  of it: due → deferred (scheduler), median / p99",
            f"{f['due_to_deferred_ms']['median']} / {f['due_to_deferred_ms']['p99']} ms",
            "",
        ],
        [
            "  of it: deferred → started (queue), median / p99",
            f"{f['deferred_to_started_ms']['median']} / {f['deferred_to_started_ms']['p99']} ms",
            "",
        ],
        [
            "lateness p99",
            f"{lateness['p99']} ms",
            f"< {LATENESS_BAR_S * 1000:.0f} ms: {'met' if f['lateness_bar_met'] else 'NOT met'}",
        ],
        [
            "scheduler CPU",
            f"{f['scheduler_cpu_share']:.1%} of a core",
            f"< {CPU_BAR:.0%}: {'met' if f['cpu_bar_met'] else 'NOT met'}",
        ],
        ["simulated workers' CPU", f"{f['workers_cpu_share']:.1%} of a core", ""],
    ]
    text = (
        f"{f['checks']} checks every {f['every_s']} s, {f['workers']} simulated workers,"
        f" stub probe {f['probe_s']} s\n" + table(["figure", "value", "bar"], rows)
    )
    report("queue_scale", f, text)


if __name__ == "__main__":
    main()
