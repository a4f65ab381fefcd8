"""Benchmark 6, notification throughput: 1,000 notices to a local SMTP server and 1,000
to a local HTTP receiver (both real servers, in a child process), delivered by the
product's outbox sender as the daemon runs it (poll interval from the settings, the
per-channel rate cap lifted), to 50 recipients.

Each notice is caused the way production causes it: a failing run opens a task and the
outbox row commits in the same transaction. A producer thread commits the task changes
(as fast as it can, or ``--rate`` per second) while the sender runs.

Figures per channel: notices per second (first commit to last receipt) and the delay
from the outbox row's commit to its receipt (median, p95, max).

    .venv/bin/python -m bench.notify_throughput [--notices 1000] [--rate 0]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import re
import tempfile
import time
from pathlib import Path

from sqlalchemy import func, select

from bench.common import load_average, median, percentile, report, table, wire
from bench.inboxes import InboxProcess
from bot.services import Services
from core.results import Finding, Outcome, ProbeResult
from notifications.models import DeliveryStatus, Notification

RECIPIENTS = 50  # units, each with its own contact address and its own check
UNCAPPED = 1_000_000
DRAIN_TIMEOUT_S = 600.0
TASK_IN_SUBJECT = re.compile(r"#(\d+)")


def catalog(urls: list[str]) -> str:
    """One unit, contact and target per recipient URL; one check per target."""
    units = "\n".join(
        f"""  - code: unit-{n:02d}
    name: 示范单位{n:02d}
    contacts:
      - name: 联系人{n:02d}
        notify: [{json.dumps(url)}]"""
        for n, url in enumerate(urls)
    )
    targets = "\n".join(
        f"""  - key: site-{n:02d}
    name: 示范网站{n:02d}
    unit: unit-{n:02d}
    base_url: http://site-{n:02d}.example.gov.cn
    checks:
      - probe: search
        schedule: 1h
        failure_threshold: 1
        params: {{items: [排污许可证核发]}}"""
        for n in range(len(urls))
    )
    # Long-watched targets (no probation): every failing run opens its task at once.
    return f"defaults: {{probation: 'off'}}\nunits:\n{units}\ntargets:\n{targets}\n"


def waiting(services: Services) -> int:
    """Notices neither delivered nor given up on."""
    waiting = (DeliveryStatus.PENDING.value, DeliveryStatus.SENDING.value)
    with services.sessions() as session:
        count = session.scalar(
            select(func.count(Notification.id)).where(Notification.status.in_(waiting))
        )
    return count or 0


def produce(services: Services, notices: int, rate: float) -> dict[int, float]:
    """Open ``notices`` tasks, one transaction each; when each committed, by task id."""
    committed: dict[int, float] = {}
    checks = [ident for ident, _, _ in services.catalog.checks()]
    started = time.perf_counter()
    for n in range(notices):
        if rate > 0:
            time.sleep(max(0.0, started + n / rate - time.perf_counter()))
        check_id = checks[n % len(checks)]
        finding = Finding(
            code=f"bench.n{n:05d}",
            title="站内搜索不可用",
            detail=f"搜索网站上已有的“事项{n:05d}”服务事项，搜索不到",
        )
        result = ProbeResult(Outcome.FAIL, (finding,), summary=finding.title)
        now = dt.datetime.now(dt.UTC)
        with services.sessions.begin() as session:
            run = services.tracker.record_run(
                session, check_id, result, started_at=now, finished_at=now
            )
            changed = services.tracker.apply_run(session, run, services.policy(check_id))
            opened = [task.id for task in changed]
        at = time.time()
        for task_id in opened:
            committed[task_id] = at
    return committed


async def deliver(
    channel: str, inboxes: InboxProcess, notices: int, rate: float, tmp: Path
) -> dict[str, object]:
    urls = [
        inboxes.mail_url(f"unit{n:02d}@zwb.example.com")
        if channel == "mail"
        else inboxes.webhook_url(f"unit{n:02d}")
        for n in range(RECIPIENTS)
    ]
    # The per-channel cap (20 a minute by default, a WeCom bot's limit) is lifted: this
    # measures the sender, not the cap.
    services = wire(tmp, catalog(urls), notify_rate_per_minute=UNCAPPED)
    stop = asyncio.Event()
    sender = asyncio.create_task(services.sender.run(stop, services.settings.notify_poll_s))
    try:
        committed = await asyncio.to_thread(produce, services, notices, rate)
        deadline = time.monotonic() + DRAIN_TIMEOUT_S
        while time.monotonic() < deadline:
            if waiting(services) == 0:
                break
            await asyncio.sleep(0.2)
    finally:
        stop.set()
        await sender
        await services.close()
    received: dict[int, float] = {}
    for arrival in inboxes.arrivals():
        match = TASK_IN_SUBJECT.search(arrival.subject)
        if arrival.channel == channel and match:
            received.setdefault(int(match.group(1)), arrival.at)
    delays = [received[task] - at for task, at in committed.items() if task in received]
    span = max(received.values(), default=0.0) - min(committed.values(), default=0.0)
    return {
        "channel": channel,
        "notices": len(committed),
        "received": len(delays),
        "per_second": round(len(delays) / span, 1) if span > 0 else 0.0,
        "delay_ms": {
            "median": round(median(delays) * 1000, 1),
            "p95": round(percentile(delays, 95) * 1000, 1),
            "max": round(max(delays, default=float("nan")) * 1000, 1),
        },
    }


async def measure(notices: int, rate: float, base: Path) -> list[dict[str, object]]:
    results = []
    with InboxProcess() as inboxes:
        for channel in ("mail", "webhook"):
            workdir = base / channel
            workdir.mkdir()
            results.append(await deliver(channel, inboxes, notices, rate, workdir))
            inboxes.stop()  # a fresh inbox for the next channel
            inboxes.start()
    return results


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--notices", type=int, default=1000, help="per channel")
    parser.add_argument(
        "--rate", type=float, default=0.0, help="task changes per second (0: as fast as it can)"
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-notify-") as tmp:
        results = asyncio.run(measure(args.notices, args.rate, Path(tmp)))
    rows = []
    for r in results:
        delay = r["delay_ms"]
        assert isinstance(delay, dict)
        rows.append(
            [
                r["channel"],
                f"{r['received']}/{r['notices']}",
                r["per_second"],
                delay["median"],
                delay["p95"],
                delay["max"],
            ]
        )
    text = table(
        ["channel", "received", "notices/s", "delay median ms", "delay p95 ms", "delay max ms"],
        rows,
    )
    figures = {"rate": args.rate, "channels": results, "load_average": load_average()}
    report("notify_throughput", figures, text)


if __name__ == "__main__":
    main()
