"""Scale-out: runs per minute of 1, 2 and 4 ``govpatrol worker`` processes sharing one total
browser concurrency, beside the single daemon's in-process execution at that concurrency,
on the local PostgreSQL against the sandbox portal (in a process of its own).

- daemon: ``run_check`` as ``govpatrol run`` calls it for each due check, ``--concurrency``
  runs at once on one browser pool of that size, in this process;
- N workers: N real ``govpatrol worker`` processes, each ``--concurrency C/N``, consuming
  a backlog of jobs deferred as the scheduler defers them (a ``scheduled_runs`` row and a
  Procrastinate job with the check's lock), each run recorded once through the lifecycle.

Each point gets a fresh database; the points are measured in ``--rounds`` rounds, in
alternating order, and each figure sums its rounds. Runs are counted in the database
(every run recorded, whoever recorded it) over a window that opens once every process
has started runs.

Bar: each point ≥ 0.9 × the daemon's runs per minute.

    .venv/bin/python -m bench.scale_out [--seconds 40] [--rounds 2] [--concurrency 4]
        [--workers 1 2 4]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy.orm import Session

from bench.common import CHROMIUM, SEARCH_ITEM, load_average, report, table, wire
from bench.portal import PortalProcess
from bot.jobs import run_check
from bot.migrate import upgrade
from bot.queue import RUN_TASK, apply_queue_schema, check_lock, queue_app, queue_name
from config.catalog import DEFAULT_LOCATION
from core.db import make_engine
from tasks.models import ScheduledRun

BAR = 0.90
REPO = Path(__file__).resolve().parent.parent
POSTGRES_ADMIN = os.environ.get(
    "GOVPATROL_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
WARM_TIMEOUT_S = 120.0


def catalog(portal_url: str, checks: int) -> str:
    """``checks`` targets on the one portal, one 站内搜索 check each (long watched)."""
    targets = "".join(
        f"""
  - key: bench-{n:02d}
    name: 示范网站{n:02d}
    unit: bench-unit
    base_url: {portal_url}
    checks:
      - {{probe: search, schedule: 1h, params: {{items: [{SEARCH_ITEM}]}}}}"""
        for n in range(checks)
    )
    return f"""
defaults: {{probation: "off"}}
units:
  - code: bench-unit
    name: 基准测试单位
    level: province
targets:{targets}
"""


@contextlib.contextmanager
def fresh_database() -> Iterator[str]:
    name = f"govpatrol_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield POSTGRES_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run_count(url: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT count(*) FROM runs").fetchone()
    return int(row[0]) if row else 0


def non_pass(url: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT count(*) FROM runs WHERE outcome <> 'pass'").fetchone()
    return int(row[0]) if row else 0


async def window(url: str, warm: int, seconds: float) -> tuple[int, float]:
    """Runs recorded in ``seconds`` from the moment ``warm`` runs were recorded."""
    deadline = time.monotonic() + WARM_TIMEOUT_S
    while run_count(url) < warm:
        if time.monotonic() > deadline:
            raise RuntimeError(f"fewer than {warm} runs recorded in {WARM_TIMEOUT_S:.0f} s")
        await asyncio.sleep(0.2)
    first, started = run_count(url), time.monotonic()
    await asyncio.sleep(seconds)
    last, ended = run_count(url), time.monotonic()
    return last - first, ended - started


def start_role(log: Path, env: dict[str, str], *args: str) -> subprocess.Popen[bytes]:
    """A ``govpatrol`` role as a process of its own, logging (INFO) to ``log``."""
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "--log-level", "INFO", *args],
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


async def warm_workers(workdir: Path, processes: int) -> None:
    """Until every worker process has started two runs (its browser is up by then)."""
    deadline = time.monotonic() + WARM_TIMEOUT_S
    while True:
        started = [
            (workdir / f"worker{n}.log").read_text(errors="replace").count(" starts")
            for n in range(processes)
        ]
        if min(started) >= 2:
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"workers did not all start runs in {WARM_TIMEOUT_S:.0f} s")
        await asyncio.sleep(0.2)


async def daemon_point(
    url: str, workdir: Path, portal_url: str, checks: int, concurrency: int, seconds: float
) -> dict[str, Any]:
    engine = make_engine(url)
    upgrade(engine)
    # The pool the daemon builds from its settings (recycling included), as a worker does.
    services = wire(
        workdir,
        catalog(portal_url, checks),
        engine=engine,
        database_url=url,
        browser_concurrency=concurrency,
    )
    check_ids = [f"bench-{n:02d}/search" for n in range(checks)]
    await services.pool.start()
    stop = asyncio.Event()

    async def loop(offset: int) -> None:
        n = offset
        while not stop.is_set():
            await run_check(services, check_ids[n % len(check_ids)])
            n += concurrency

    loops = [asyncio.create_task(loop(i)) for i in range(concurrency)]
    try:
        runs, measured = await window(url, 2 * concurrency, seconds)
    finally:
        stop.set()
        for task in loops:
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await asyncio.gather(*loops, return_exceptions=True)
        await services.close()
        engine.dispose()
    return {"processes": 1, "runs": runs, "seconds": round(measured, 1)}


async def defer_backlog(url: str, checks: int, jobs: int) -> None:
    """``jobs`` due runs, round-robin over the checks, deferred as the scheduler does."""
    await apply_queue_schema(url)
    engine = make_engine(url)
    base = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    now = dt.datetime.now(dt.UTC)
    with Session(engine) as session, session.begin():
        rows = [
            ScheduledRun(
                check_id=f"bench-{n % checks:02d}/search",
                location=DEFAULT_LOCATION,
                slot=base + dt.timedelta(seconds=n),
                deferred_at=now,
            )
            for n in range(jobs)
        ]
        session.add_all(rows)
        session.flush()
        due = [(row.id, row.check_id) for row in rows]
    engine.dispose()
    app = queue_app(url)
    async with app.open_async():
        for due_id, check_id in due:
            lock = check_lock(check_id, DEFAULT_LOCATION)
            await app.configure_task(
                RUN_TASK, queue=queue_name(DEFAULT_LOCATION), lock=lock
            ).defer_async(scheduled_run_id=due_id)


async def workers_point(
    url: str,
    workdir: Path,
    portal_url: str,
    checks: int,
    concurrency: int,
    processes: int,
    seconds: float,
    backlog: int,
) -> dict[str, Any]:
    engine = make_engine(url)
    upgrade(engine)
    services = wire(workdir, catalog(portal_url, checks), engine=engine, database_url=url)
    services.engine.dispose()
    await defer_backlog(url, checks, backlog)
    (workdir / "catalog.yaml").write_text(catalog(portal_url, checks), encoding="utf-8")
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "GOVPATROL_DATABASE_URL": url,
        "GOVPATROL_CATALOG": str(workdir / "catalog.yaml"),
        "GOVPATROL_DATA_DIR": str(workdir / "data"),
        "GOVPATROL_QUIET_HOURS": "false",
        "GOVPATROL_SECRET_KEY": "bench-secret-key",
        "GOVPATROL_CHROMIUM_PATH": str(CHROMIUM),
    }
    each = concurrency // processes
    children: list[subprocess.Popen[bytes]] = []
    try:
        for n in range(processes):
            children.append(
                start_role(
                    workdir / f"worker{n}.log",
                    env,
                    "worker",
                    "--location",
                    DEFAULT_LOCATION,
                    "--concurrency",
                    str(each),
                )
            )
        await warm_workers(workdir, processes)
        runs, measured = await window(url, 2 * concurrency, seconds)
    finally:
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        for child in children:
            try:
                child.wait(timeout=30)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait(timeout=10)
    left = backlog - run_count(url)
    if left <= 0:
        raise RuntimeError(f"the backlog of {backlog} ran out: raise --backlog")
    return {"processes": processes, "runs": runs, "seconds": round(measured, 1)}


async def measure(
    seconds: float, concurrency: int, levels: list[int], backlog: int, rounds: int
) -> list[dict[str, Any]]:
    checks = 2 * concurrency  # the check lock allows one run of a check at a time
    labels = ["daemon", *(str(n) for n in levels)]
    # Rounds in alternating order (daemon first, then last, …), so that drift in the
    # machine's load is shared between the points.
    order = [label for r in range(rounds) for label in (labels if r % 2 == 0 else labels[::-1])]
    measured: list[dict[str, Any]] = []
    with PortalProcess() as portal:
        for label in order:
            load = load_average()
            with fresh_database() as url, tempfile.TemporaryDirectory(prefix="bench-") as tmp:
                if label == "daemon":
                    point = await daemon_point(
                        url, Path(tmp), portal.url, checks, concurrency, seconds
                    )
                else:
                    processes = int(label)
                    point = await workers_point(
                        url, Path(tmp), portal.url, checks, concurrency, processes, seconds, backlog
                    )
                point["non_pass"] = non_pass(url)
            point["mode"] = "daemon" if label == "daemon" else "workers"
            point["load_average"] = [load, load_average()]
            measured.append(point)
    points = []
    for label in labels:
        mine = [
            p
            for p in measured
            if (p["mode"] == "daemon") == (label == "daemon")
            and (label == "daemon" or p["processes"] == int(label))
        ]
        runs, seconds = sum(p["runs"] for p in mine), sum(p["seconds"] for p in mine)
        points.append(
            {
                "mode": mine[0]["mode"],
                "processes": mine[0]["processes"],
                "runs": runs,
                "seconds": round(seconds, 1),
                "per_min": round(runs / seconds * 60, 1),
                "per_min_each_round": [round(p["runs"] / p["seconds"] * 60, 1) for p in mine],
                "non_pass": sum(p["non_pass"] for p in mine),
                "load_average": [p["load_average"] for p in mine],
            }
        )
    daemon = points[0]["per_min"]
    for point in points:
        point["ratio"] = round(point["per_min"] / daemon, 3) if daemon else 0.0
        point["bar_met"] = point["ratio"] >= BAR
    return points


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=40.0, help="window of each point")
    parser.add_argument("--rounds", type=int, default=2, help="of all points, order alternating")
    parser.add_argument("--concurrency", type=int, default=4, help="total browser contexts")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--backlog", type=int, default=0, help="jobs deferred per point")
    args = parser.parse_args(argv)
    for n in args.workers:
        if n < 1 or args.concurrency % n:
            parser.error(f"--concurrency {args.concurrency} does not split over {n} workers")
    backlog = args.backlog or max(200, int(args.seconds * 12) + 8 * args.concurrency)
    points = asyncio.run(
        measure(args.seconds, args.concurrency, args.workers, backlog, args.rounds)
    )
    text = table(
        [
            "execution",
            "runs",
            "seconds",
            "runs/min",
            "each round",
            "non-pass",
            "× daemon",
            f"≥ {BAR}",
        ],
        [
            [
                "daemon (in-process)" if p["mode"] == "daemon" else f"{p['processes']} worker(s)",
                p["runs"],
                p["seconds"],
                p["per_min"],
                " / ".join(str(x) for x in p["per_min_each_round"]),
                p["non_pass"],
                p["ratio"],
                p["bar_met"],
            ]
            for p in points
        ],
    )
    text += f"\ntotal browser concurrency {args.concurrency} at every point"
    figures = {
        "seconds": args.seconds,
        "rounds": args.rounds,
        "concurrency": args.concurrency,
        "points": points,
        "bar": BAR,
        "bar_met": all(p["bar_met"] for p in points),
    }
    report("scale_out", figures, text)


if __name__ == "__main__":
    main()
