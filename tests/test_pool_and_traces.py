"""Long-running daemons: the browser is recycled when idle, and traces are full only when
something may be wrong."""

from __future__ import annotations

import asyncio
import zipfile

import pytest

from bot.jobs import run_check
from bot.services import Services
from core.results import Outcome
from probes import pool as pool_module
from probes.pool import BrowserOptions, BrowserPool
from sandbox.server import PortalSandbox
from tests.catalogs import portal_catalog
from tests.conftest import CHROMIUM, ServicesFactory

pytestmark = pytest.mark.browser
CHECK = "sf-portal/search"


async def test_browser_and_driver_are_recycled_when_idle() -> None:
    pool = BrowserPool(BrowserOptions(executable_path=CHROMIUM), concurrency=1, recycle_after=2)
    try:
        for _ in range(3):
            async with pool.context() as context:
                page = await context.new_page()
                await page.set_content("<p>政务服务</p>")
        assert pool.launches == 2  # relaunched after two contexts, while nothing ran
    finally:
        await pool.close()


async def test_a_driver_grown_past_its_limit_over_its_warm_size_is_recycled(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(pool_module, "BASELINE_AFTER", 2)
    readings = iter([90, 100, 110, 120, 95])  # MiB, read as each context closes
    pool = BrowserPool(
        BrowserOptions(executable_path=CHROMIUM),
        concurrency=1,
        recycle_growth_bytes=16 * 2**20,
        driver_memory=lambda: next(readings) * 2**20,
    )
    try:
        launches = []
        for _ in range(5):
            async with pool.context():
                pass
            launches.append(pool.launches)
        # Warm size read after the 2nd context (100); +10 is kept, +20 recycles.
        assert launches == [1, 1, 1, 1, 2]  # recycled when the 4th closed, relaunched for the 5th
        assert pool.driver_baseline is None  # the new driver is not warm yet
    finally:
        await pool.close()


async def test_a_busy_pool_drains_to_recycle() -> None:
    pool = BrowserPool(BrowserOptions(executable_path=CHROMIUM), concurrency=3, recycle_after=2)
    try:
        first, second = pool.context(), pool.context()
        await first.__aenter__()
        await second.__aenter__()  # two contexts served: a recycle is due, but none is idle

        async def third_run() -> None:
            async with pool.context() as context:
                await (await context.new_page()).set_content("<p>政务服务</p>")

        third = asyncio.create_task(third_run())
        await asyncio.sleep(0.5)
        assert not third.done() and pool.in_use == 2  # it waits, though a slot is free
        await first.__aexit__(None, None, None)
        await asyncio.sleep(0.2)
        assert not third.done()
        await second.__aexit__(None, None, None)
        async with asyncio.timeout(30):
            await third
        assert pool.launches == 2  # the third run had a fresh browser
    finally:
        await pool.close()


async def test_a_run_cancelled_while_its_context_opens_frees_its_slot() -> None:
    pool = BrowserPool(BrowserOptions(executable_path=CHROMIUM), concurrency=1)
    try:
        await pool.start()

        async def run() -> None:
            async with pool.context():
                await asyncio.sleep(60)

        task = asyncio.create_task(run())
        await asyncio.sleep(0)  # the task now waits inside browser.new_context()
        assert pool.in_use == 1
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert pool.in_use == 0
        async with asyncio.timeout(10):  # and the only slot is free again
            async with pool.context() as context:
                await (await context.new_page()).set_content("<p>政务服务</p>")
    finally:
        await pool.close()


def snapshots_in(path: str, services: Services) -> bool:
    with zipfile.ZipFile(services.evidence.absolute(path)) as archive:
        trace = next(n for n in archive.namelist() if n.endswith(".trace"))
        return b"frame-snapshot" in archive.read(trace)


async def test_a_failure_after_a_pass_is_confirmed_by_a_run_with_a_full_trace(
    make_services: ServicesFactory, portal: PortalSandbox
) -> None:
    services = make_services(portal_catalog(portal.url, threshold=5))
    assert (await run_check(services, CHECK)).outcome is Outcome.PASS
    portal.faults.update({"items_missing": ["排污许可证核发"]})
    light = await services.runner.run(CHECK, *services.check(CHECK), full_trace=False)
    after_pass = await run_check(services, CHECK)  # light, failed, run again with snapshots
    after_fail = await run_check(services, CHECK)  # failed last time: a full trace at once
    (light_trace,) = light.evidence.traces
    (confirmed,) = after_pass.result.evidence.traces
    (full,) = after_fail.result.evidence.traces
    assert not snapshots_in(light_trace, services)  # actions and network only
    assert snapshots_in(confirmed, services) and snapshots_in(full, services)
    assert after_pass.result.metrics["confirmed"]["outcome"] == "fail"
    assert "confirmed" not in after_fail.result.metrics
    assert after_pass.result.evidence.screenshots  # a first failure still keeps its pages
