"""Queue overhead of the scheduler/worker roles: Procrastinate on the local PostgreSQL.

One worker (LISTEN/NOTIFY wake-up, as ``govpatrol worker`` runs it) and a no-op job:
- latency, one job at a time: defer → the job function running (fetch), and defer → the
  job marked done (finish, seen by polling its status every 0.5 ms), median and p99;
- burst: defer ``--burst`` jobs at once and time until the last is done (jobs per second).

    .venv/bin/python -m bench.queue_overhead [--jobs 300] [--burst 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import time
import uuid
from typing import Any

import procrastinate
import psycopg

from bench.common import median, percentile, report, rounded, table
from bot.queue import apply_queue_schema, queue_app

POSTGRES_ADMIN = os.environ.get(
    "GOVPATROL_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
QUEUE = "govpatrol.bench"
SUCCEEDED = procrastinate.jobs.Status.SUCCEEDED


async def measure(url: str, jobs: int, burst: int) -> dict[str, Any]:
    await apply_queue_schema(url)
    app = queue_app(url)

    started_job = asyncio.Event()

    @app.task(name="bench.noop", queue=QUEUE)
    async def noop(n: int) -> None:
        started_job.set()

    async with app.open_async():
        worker = asyncio.create_task(
            app.run_worker_async(queues=[QUEUE], concurrency=1, install_signal_handlers=False)
        )
        await asyncio.sleep(1.0)  # the worker listens
        to_start, to_finish = [], []
        for n in range(jobs):
            started_job.clear()
            started = time.perf_counter()
            job_id = await noop.defer_async(n=n)
            await started_job.wait()
            to_start.append((time.perf_counter() - started) * 1000)
            await _finished(app, job_id, 0.0005)
            to_finish.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        last = 0
        for n in range(burst):
            last = await noop.defer_async(n=n)
        deferred_s = time.perf_counter() - started
        await _finished(app, last, 0.01)
        burst_s = time.perf_counter() - started
        worker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await worker
    return {
        "start_ms": {
            "median": rounded(median(to_start), 2),
            "p99": rounded(percentile(to_start, 99), 2),
        },
        "finish_ms": {
            "median": rounded(median(to_finish), 2),
            "p99": rounded(percentile(to_finish, 99), 2),
        },
        "jobs": jobs,
        "burst": burst,
        "burst_defer_per_s": rounded(burst / deferred_s),
        "burst_done_per_s": rounded(burst / burst_s),
    }


async def _finished(app: procrastinate.App, job_id: int, poll_s: float) -> None:
    """Until the job is marked done; the finish is seen by asking, as a caller would."""
    while await app.job_manager.get_job_status_async(job_id) != SUCCEEDED:  # noqa: ASYNC110
        await asyncio.sleep(poll_s)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=300)
    parser.add_argument("--burst", type=int, default=1000)
    args = parser.parse_args(argv)
    name = f"govpatrol_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        figures = asyncio.run(
            measure(POSTGRES_ADMIN.rsplit("/", 1)[0] + f"/{name}", args.jobs, args.burst)
        )
    finally:
        with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    start, finish = figures["start_ms"], figures["finish_ms"]
    text = table(
        ["figure", "value"],
        [
            ("defer → job running, median / p99 (ms)", f"{start['median']} / {start['p99']}"),
            ("defer → finished, median / p99 (ms)", f"{finish['median']} / {finish['p99']}"),
            (f"burst of {args.burst}: deferred per s", figures["burst_defer_per_s"]),
            (f"burst of {args.burst}: done per s", figures["burst_done_per_s"]),
        ],
    )
    return report("queue_overhead", figures, text)


if __name__ == "__main__":
    main()
