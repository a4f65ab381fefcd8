"""Benchmark 4, catalog scale: a generated catalog of 5,000 targets × 6 checks, loaded and
scheduled as the daemon does, with the probes stubbed by a no-browser probe kind that only
this benchmark registers.

Figures: start-up (parse + validate the YAML, wire, mirror into SQLite, schedule), the
process's CPU while nothing is due (scheduler and notification sender idle), and the
lateness of fired runs (when the probe started − when the schedule said).

Every check gets a last run in the database, placed so that nothing is due during the idle
interval and then runs come due at the steady rate of the schedules (~15 a second).

Bars: start-up < 10 s, idle CPU < 2 % of one core, p99 lateness < 1 s.

    .venv/bin/python -m bench.catalog_scale [--targets 5000] [--idle-seconds 60]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import random
import tempfile
import time
from pathlib import Path
from typing import ClassVar
from zoneinfo import ZoneInfo

import psutil
from apscheduler.events import EVENT_JOB_SUBMITTED, JobSubmissionEvent
from pydantic import SecretStr
from sqlalchemy import Engine, insert

from bench.common import load_average, median, migrated_sqlite, percentile, report, table
from bot.jobs import run_check
from bot.scheduler import CheckScheduler
from bot.services import build_services
from config.catalog import Catalog
from config.loader import load_catalog
from config.settings import Settings
from core.results import Outcome, ProbeResult
from probes.base import Probe, ProbeContext, ProbeParams
from probes.registry import params_models, probe_kinds
from tasks.catalog_sync import sync_catalog
from tasks.models import Run

STARTUP_BAR_S = 10.0
IDLE_CPU_BAR = 0.02
LATENESS_BAR_S = 1.0
ZONE = ZoneInfo("Asia/Shanghai")
# Six checks per target. Interval ones come due during the measured window; the cron one
# is set twelve hours away from now, so it stays quiet.
INTERVALS = {"c10m": 600, "c30m": 1800, "c1h": 3600, "c6h": 21600, "c1d": 86400}
STARTUP_MARGIN_S = 30.0  # scheduling must be done by then, or the idle window sees runs


class NoBrowserParams(ProbeParams):
    pass


class NoBrowserProbe(Probe):
    """A probe that only notes when it started: the scheduler's cost without a browser."""

    kind = "nobrowser"
    Params = NoBrowserParams
    uses_browser = False
    started: ClassVar[list[tuple[str, float]]] = []

    async def run(self, ctx: ProbeContext) -> ProbeResult:
        NoBrowserProbe.started.append((ctx.check_id, time.time()))
        return ProbeResult(Outcome.PASS, summary="stub")


def catalog_yaml(targets: int, cron_hour: int) -> str:
    units = max(1, targets // 100)
    lines = ["units:"]
    for u in range(units):
        lines += [
            f"  - code: unit-{u:04d}",
            f"    name: 单位{u:04d}",
            "    contacts:",
            f"      - name: 联系人{u:04d}",
            f"        notify: ['json://127.0.0.1:9/unit-{u:04d}']",
        ]
    lines.append("targets:")
    for t in range(targets):
        lines += [
            f"  - key: site-{t:05d}",
            f"    name: 网站{t:05d}",
            f"    unit: unit-{t % units:04d}",
            f"    base_url: http://site-{t:05d}.example.gov.cn",
            "    checks:",
        ]
        for name, seconds in INTERVALS.items():
            lines += [
                "      - probe: nobrowser",
                f"        name: {name}",
                f"        schedule: {seconds}s",
            ]
        lines += [
            "      - probe: nobrowser",
            "        name: cron",
            f"        schedule: {{cron: '{t % 60} {cron_hour} * * 1-5'}}",
        ]
    return "\n".join(lines) + "\n"


def seed_last_runs(catalog: Catalog, engine: Engine, quiet_s: float) -> float:
    """A last run for every check, so that interval checks come due evenly from
    ``quiet_s`` seconds after now on; returns now (epoch seconds)."""
    now = dt.datetime.now(dt.UTC)
    chooser = random.Random(7)
    rows = []
    for ident, _, check in catalog.checks():
        seconds = check.schedule.every.total_seconds() if check.schedule.every else None
        if seconds is None:
            last = now - dt.timedelta(minutes=1)
        else:
            due_in = chooser.uniform(quiet_s, seconds)
            last = now + dt.timedelta(seconds=due_in - seconds)
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
    with engine.begin() as conn:
        conn.execute(insert(Run), rows)
    return now.timestamp()


def cpu_seconds() -> float:
    times = psutil.Process().cpu_times()
    return float(times.user + times.system)


async def measure(
    targets: int, idle_s: float, fire_s: float, margin_s: float, tmp: Path
) -> dict[str, object]:
    NoBrowserProbe.started.clear()
    cron_hour = (dt.datetime.now(ZONE).hour + 12) % 24
    path = tmp / "catalog.yaml"
    path.write_text(catalog_yaml(targets, cron_hour), encoding="utf-8")
    engine = migrated_sqlite(tmp / "govpatrol.db")
    settings = Settings(
        data_dir=tmp, catalog=path, secret_key=SecretStr("bench"), quiet_hours=False
    )
    phases: dict[str, float] = {}

    mark = time.perf_counter()
    catalog = load_catalog(path, probe_params=params_models(probe_kinds((NoBrowserProbe,))))
    phases["parse_validate"] = time.perf_counter() - mark
    mark = time.perf_counter()
    services = build_services(settings, catalog, engine=engine, extra_probes=(NoBrowserProbe,))
    phases["wire"] = time.perf_counter() - mark
    mark = time.perf_counter()
    with services.sessions.begin() as session:
        sync_catalog(session, catalog)
    phases["sync_db"] = time.perf_counter() - mark

    # Not start-up: the history a running installation would have.
    quiet_s = margin_s + idle_s
    seeded_at = seed_last_runs(catalog, engine, quiet_s)

    submitted: dict[str, float] = {}

    def note(event: JobSubmissionEvent) -> None:
        submitted[event.job_id] = event.scheduled_run_times[-1].timestamp()

    async def run(check_id: str) -> object:
        return await run_check(services, check_id)

    mark = time.perf_counter()
    scheduler = CheckScheduler(catalog, services.sessions, services.zone, run)
    scheduler.scheduler.add_listener(note, EVENT_JOB_SUBMITTED)
    scheduled = scheduler.start()
    phases["schedule"] = time.perf_counter() - mark
    startup = sum(phases.values())

    stop = asyncio.Event()
    sender = asyncio.create_task(services.sender.run(stop, settings.notify_poll_s))
    try:
        await asyncio.sleep(2.0)
        cpu_before, wall_before = cpu_seconds(), time.perf_counter()
        runs_before = len(NoBrowserProbe.started)
        await asyncio.sleep(idle_s)
        idle_cpu = (cpu_seconds() - cpu_before) / (time.perf_counter() - wall_before)
        idle_runs = len(NoBrowserProbe.started) - runs_before

        fire_from = seeded_at + quiet_s
        await asyncio.sleep(max(0.0, fire_from - time.time()))
        cpu_before, wall_before = cpu_seconds(), time.perf_counter()
        await asyncio.sleep(fire_s)
        fire_cpu = (cpu_seconds() - cpu_before) / (time.perf_counter() - wall_before)
        fire_until = time.time()
        await asyncio.sleep(2.0)  # let the last runs start
    finally:
        scheduler.shutdown()
        stop.set()
        await sender
        await services.close()

    lateness = [
        started - submitted[check_id]
        for check_id, started in NoBrowserProbe.started
        if check_id in submitted and fire_from <= submitted[check_id] <= fire_until
    ]
    p99 = percentile(lateness, 99)
    return {
        "targets": targets,
        "checks": scheduled,
        "startup_s": round(startup, 2),
        "phases_s": {name: round(value, 2) for name, value in phases.items()},
        "startup_bar_s": STARTUP_BAR_S,
        "startup_bar_met": startup < STARTUP_BAR_S,
        "idle_seconds": idle_s,
        "idle_runs": idle_runs,
        "idle_cpu_share": round(idle_cpu, 4),
        "idle_cpu_bar": IDLE_CPU_BAR,
        "idle_cpu_bar_met": idle_cpu < IDLE_CPU_BAR and idle_runs == 0,
        "fire_seconds": fire_s,
        "fired_runs": len(lateness),
        "fired_per_s": round(len(lateness) / fire_s, 1),
        "fire_cpu_share": round(fire_cpu, 3),
        "lateness_ms": {
            "median": round(median(lateness) * 1000, 1),
            "p99": round(p99 * 1000, 1),
            "max": round(max(lateness, default=float("nan")) * 1000, 1),
        },
        "lateness_bar_s": LATENESS_BAR_S,
        "lateness_bar_met": bool(lateness) and p99 < LATENESS_BAR_S,
        "load_average": load_average(),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--targets", type=int, default=5000)
    parser.add_argument("--idle-seconds", type=float, default=60.0)
    parser.add_argument("--fire-seconds", type=float, default=60.0)
    parser.add_argument(
        "--margin-seconds",
        type=float,
        default=STARTUP_MARGIN_S,
        help="quiet time for scheduling before the idle interval starts",
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-catalog-") as tmp:
        f = asyncio.run(
            measure(
                args.targets, args.idle_seconds, args.fire_seconds, args.margin_seconds, Path(tmp)
            )
        )
    phases = f["phases_s"]
    lateness = f["lateness_ms"]
    assert isinstance(phases, dict) and isinstance(lateness, dict)
    rows: list[list[object]] = [[f"start-up: {k}", f"{v:.2f} s", ""] for k, v in phases.items()]
    rows += [
        [
            "start-up total",
            f"{f['startup_s']:.2f} s",
            f"< {STARTUP_BAR_S:.0f} s: {_met(f, 'startup')}",
        ],
        [
            f"idle CPU ({f['idle_seconds']:.0f} s, {f['idle_runs']} runs)",
            f"{f['idle_cpu_share']:.2%} of a core",
            f"< {IDLE_CPU_BAR:.0%}: {_met(f, 'idle_cpu')}",
        ],
        [
            f"fired runs ({f['fire_seconds']:.0f} s)",
            f"{f['fired_runs']} ({f['fired_per_s']}/s)",
            "",
        ],
        ["lateness median", f"{lateness['median']} ms", ""],
        [
            "lateness p99",
            f"{lateness['p99']} ms",
            f"< {LATENESS_BAR_S * 1000:.0f} ms: {_met(f, 'lateness')}",
        ],
        ["lateness max", f"{lateness['max']} ms", ""],
    ]
    text = f"{f['targets']} targets, {f['checks']} checks\n"
    text += table(["figure", "value", "bar"], rows)
    report("catalog_scale", f, text)


def _met(figures: dict[str, object], name: str) -> str:
    return "met" if figures[f"{name}_bar_met"] else "NOT met"


if __name__ == "__main__":
    main()
