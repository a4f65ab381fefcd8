"""The daemon: catch-up after downtime, one scheduler per database, clean SIGTERM."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import func, select

from bot.daemon import Daemon
from bot.lease import LeaseHeld, SchedulerLock
from bot.receivers import free_port
from bot.scheduler import CATCH_UP_SPREAD_S, first_run_time
from core.clock import SystemClock
from core.results import Outcome, ProbeResult
from sandbox.server import PortalSandbox
from tasks.models import Run, SchedulerLease
from tests.catalogs import portal_catalog
from tests.conftest import ServicesFactory

ZONE = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 11, 24, 10, 0, tzinfo=ZONE)
HOURLY = IntervalTrigger(hours=1, timezone=ZONE)
REPO = Path(__file__).resolve().parent.parent


def test_never_run_check_runs_soon_after_start() -> None:
    first = first_run_time(HOURLY, None, NOW, index=0, total=10)
    assert NOW < first <= NOW + dt.timedelta(seconds=2)


def test_run_missed_during_downtime_is_caught_up_soon_and_spread() -> None:
    last = NOW - dt.timedelta(hours=5)
    times = [first_run_time(HOURLY, last, NOW, index=i, total=4) for i in range(4)]
    assert all(NOW < t <= NOW + dt.timedelta(seconds=1 + CATCH_UP_SPREAD_S) for t in times)
    assert times == sorted(times) and len(set(times)) == 4


def test_a_frequent_check_is_not_held_back_longer_than_its_interval() -> None:
    every_5s = IntervalTrigger(seconds=5, timezone=ZONE)
    times = [first_run_time(every_5s, None, NOW, index=i, total=6) for i in range(6)]
    assert all(NOW < t <= NOW + dt.timedelta(seconds=1 + 5) for t in times), times
    assert times == sorted(times) and len(set(times)) == 6


def test_check_not_yet_due_waits_for_its_time() -> None:
    last = NOW - dt.timedelta(minutes=20)
    assert first_run_time(HOURLY, last, NOW, index=0, total=1) == last + dt.timedelta(hours=1)


async def test_daemon_runs_an_overdue_check_right_after_start(
    make_services: ServicesFactory, portal: PortalSandbox
) -> None:
    services = make_services(portal_catalog(portal.url, schedule="1h"), clock=SystemClock())
    long_ago = services.clock.now() - dt.timedelta(hours=3)
    with services.sessions.begin() as session:  # the daemon was down for three hours
        services.tracker.record_run(
            session,
            "sf-portal/search",
            ProbeResult(Outcome.PASS),
            started_at=long_ago,
            finished_at=long_ago,
        )
    daemon = Daemon(services, web=False)
    running = asyncio.create_task(daemon.run())
    try:
        for _ in range(300):
            with services.sessions() as session:
                if session.scalar(select(func.count(Run.id))) == 2:
                    break
            await asyncio.sleep(0.1)
        with services.sessions() as session:
            assert session.scalar(select(func.count(Run.id))) == 2
    finally:
        daemon.stop.set()
        await asyncio.wait_for(running, timeout=30)
    with services.sessions() as session:
        assert session.scalars(select(SchedulerLease)).all() == []  # released on stop


def test_second_scheduler_on_the_same_database_is_refused(
    make_services: ServicesFactory,
) -> None:
    services = make_services(portal_catalog("http://127.0.0.1:9"))
    first = SchedulerLock(services.sessions, services.clock)
    first.acquire()
    second = SchedulerLock(services.sessions, services.clock)
    second.holder = "other-host:4242"
    with pytest.raises(LeaseHeld, match="另一个守护进程"):
        second.acquire()
    first.release()
    second.acquire()  # free again once released


@pytest.mark.browser
def test_run_command_stops_cleanly_on_sigterm(tmp_path: Path, portal: PortalSandbox) -> None:
    catalog = tmp_path / "catalog.yaml"
    catalog.write_text(portal_catalog(portal.url, schedule="1h"), encoding="utf-8")
    port = free_port()
    env = {
        **os.environ,
        "GOVPATROL_DATA_DIR": str(tmp_path / "data"),
        "GOVPATROL_CATALOG": str(catalog),
        "GOVPATROL_WEB_PORT": str(port),
    }
    upgrade = subprocess.run(
        [sys.executable, "-m", "bot.cli", "db", "upgrade"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert upgrade.returncode == 0, upgrade.stderr
    daemon = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "--log-level", "INFO", "run"],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        health = _wait_for_health(port, daemon)
        assert health == {"database": True, "scheduler": True, "browser": True}
        daemon.send_signal(signal.SIGTERM)
        output, _ = daemon.communicate(timeout=45)
    finally:
        if daemon.poll() is None:
            daemon.kill()
    assert daemon.returncode == 0, output
    assert "stopped" in output
    assert "Traceback" not in output


def _wait_for_health(port: int, daemon: subprocess.Popen[str]) -> dict[str, bool]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if daemon.poll() is not None:
            raise AssertionError(daemon.communicate()[0])
        try:
            answer = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
            if answer.status_code == 200 and answer.json()["browser"]:
                return dict(answer.json())
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError("daemon did not become healthy")
