"""The monitor's own trouble is `error`, never a unit's fault — and opens no task."""

from __future__ import annotations

import asyncio
import os
import signal

import psutil
import pytest
from sqlalchemy import select

from bot.jobs import run_check
from bot.receivers import free_port
from core.results import Outcome
from probes.pool import BrowserOptions, BrowserPool
from sandbox.server import PortalSandbox
from tasks.models import Task
from tests.catalogs import portal_catalog
from tests.conftest import CHROMIUM, ServicesFactory

pytestmark = pytest.mark.browser


def chromium_browsers() -> set[int]:
    """PIDs of the Chromium browser processes (not renderers or helpers) under this process."""
    found = set()
    for child in psutil.Process().children(recursive=True):
        try:
            line = child.cmdline()
        except psutil.Error:
            continue
        if (
            line
            and line[0].endswith("/chromium")
            and not any(a.startswith("--type=") for a in line)
        ):
            found.add(child.pid)
    return found


CHECK = "sf-portal/search"


async def test_browser_crash_mid_run_is_an_error_and_opens_no_task(
    make_services: ServicesFactory, portal: PortalSandbox
) -> None:
    pool = BrowserPool(BrowserOptions(executable_path=CHROMIUM), concurrency=1)
    services = make_services(portal_catalog(portal.url, threshold=1), pool=pool)
    try:
        before = chromium_browsers()
        await pool.start()
        (ours,) = chromium_browsers() - before
        portal.faults.update({"slow_ms": 3000})  # keep the run busy while Chromium dies
        running = asyncio.create_task(run_check(services, CHECK))
        await asyncio.sleep(1.0)
        os.kill(ours, signal.SIGKILL)
        report = await running
        assert report.outcome is Outcome.ERROR, report.result
        assert "浏览器" in report.result.error
        # The pool comes back by itself: the next run gets a new Chromium.
        portal.faults.reset()
        again = await run_check(services, CHECK)
        assert again.outcome is Outcome.PASS, again.result
        assert pool.launches == 2
    finally:
        await pool.close()
    with services.sessions() as session:
        assert session.scalars(select(Task)).all() == []


async def test_our_proxy_down_is_an_error_not_the_portal(
    make_services: ServicesFactory, portal: PortalSandbox
) -> None:
    dead_proxy = f"http://127.0.0.1:{free_port()}"
    pool = BrowserPool(
        BrowserOptions(
            executable_path=CHROMIUM,
            proxy=dead_proxy,
            # Chromium bypasses proxies for loopback unless told not to.
            extra_args=("--proxy-bypass-list=<-loopback>",),
        ),
        concurrency=1,
    )
    services = make_services(portal_catalog(portal.url, threshold=1), pool=pool)
    try:
        for _ in range(2):
            report = await run_check(services, CHECK)
            assert report.outcome is Outcome.ERROR, report.result
            assert report.result.findings == ()
    finally:
        await pool.close()
    with services.sessions() as session:
        assert session.scalars(select(Task)).all() == []


async def test_portal_down_with_canary_up_is_the_portals_failure(
    make_services: ServicesFactory, portal: PortalSandbox
) -> None:
    closed = f"http://127.0.0.1:{free_port()}"
    services = make_services(
        portal_catalog(closed, threshold=1), canary_url=f"{portal.url}/healthz"
    )
    report = await run_check(services, CHECK)
    assert report.outcome is Outcome.FAIL
    (finding,) = report.result.findings
    assert finding.code == "site.unreachable"
    assert "ERR_CONNECTION_REFUSED" in finding.detail


async def test_portal_and_canary_both_down_is_our_network(
    make_services: ServicesFactory,
) -> None:
    closed = f"http://127.0.0.1:{free_port()}"
    canary = f"http://127.0.0.1:{free_port()}/healthz"
    services = make_services(portal_catalog(closed, threshold=1), canary_url=canary)
    report = await run_check(services, CHECK)
    assert report.outcome is Outcome.ERROR
    assert "本方网络异常" in report.result.error
    with services.sessions() as session:
        assert session.scalars(select(Task)).all() == []


async def test_run_over_its_wall_clock_limit_is_an_error(
    make_services: ServicesFactory, portal: PortalSandbox
) -> None:
    portal.faults.update({"slow_ms": 5000})
    services = make_services(portal_catalog(portal.url, threshold=1), run_timeout_s=1.5)
    report = await run_check(services, CHECK)
    assert report.outcome is Outcome.ERROR
    assert "巡检超过 2 秒未完成" in report.result.error
    assert services.pool.in_use == 0  # the context was closed despite the abort
