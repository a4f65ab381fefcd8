"""The two things the browser benchmarks compare, each one search journey at a time:

- the product: the 站内搜索 probe through ``ProbeRunner`` (fresh context, trace recorded
  — light after a pass, full otherwise — and kept only on failure, evidence on failure)
  or through ``run_check`` (the same, plus the run and its task changes recorded in the
  database), as the daemon runs it;
- a bare Playwright script doing the same steps on the same Chromium with the same flags:
  fresh context, open the home page, fill the search box, submit, read the results.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Literal

from playwright.async_api import Browser, Playwright, async_playwright

from bench.common import CHECK_ID, SEARCH_ITEM, search_catalog, wire
from bot.jobs import run_check
from bot.services import Services
from core.results import Outcome
from probes.pool import BrowserOptions, BrowserPool, launch_options

# runner: ProbeRunner as the daemon runs a check that passed last time (light trace);
# runner-full: a check that did not pass last time (full trace with DOM snapshots);
# job: run_check, which chooses itself and also records the run.
Layer = Literal["runner", "runner-full", "job"]
NAV_TIMEOUT_MS = 30_000


class JourneyFailed(Exception):
    """A journey did not find the item on a healthy portal: the figures would be wrong."""


class BareSearch:
    """The search journey as a plain Playwright script would walk it."""

    def __init__(self, portal_url: str, executable: Path) -> None:
        self.portal_url = portal_url
        self.executable = executable
        self._playwright: Playwright | None = None
        self._browser: Browser | None = None

    async def start(self) -> None:
        self._playwright = await async_playwright().start()
        # The very launch arguments of the product's pool: same binary, same flags.
        self._browser = await self._playwright.chromium.launch(
            **launch_options(BrowserOptions(executable_path=self.executable))
        )

    async def close(self) -> None:
        if self._browser is not None:
            await self._browser.close()
        if self._playwright is not None:
            await self._playwright.stop()

    @property
    def version(self) -> str:
        return self._browser.version if self._browser is not None else ""

    async def run(self) -> None:
        assert self._browser is not None, "start() first"
        context = await self._browser.new_context()
        try:
            page = await context.new_page()
            page.set_default_timeout(NAV_TIMEOUT_MS)
            await page.goto(self.portal_url + "/", wait_until="load")
            box = page.locator("input[name=q]").first
            await box.fill(SEARCH_ITEM)
            async with page.expect_navigation(wait_until="load"):
                await box.press("Enter")
            results = await page.locator("main a[href*='/item/']").all_inner_texts()
            if not any(SEARCH_ITEM in text for text in results[:10]):
                raise JourneyFailed(f"bare script did not find {SEARCH_ITEM}: {results[:3]}")
        finally:
            await context.close()


class ProbeSearch:
    """The 站内搜索 probe of the product, run as the daemon runs it."""

    def __init__(
        self, portal_url: str, workdir: Path, executable: Path, concurrency: int, layer: Layer
    ) -> None:
        self.layer = layer
        self.pool = BrowserPool(BrowserOptions(executable_path=executable), concurrency)
        self.services: Services = wire(
            workdir, search_catalog(portal_url), pool=self.pool, browser_concurrency=concurrency
        )
        self.target, self.check = self.services.check(CHECK_ID)

    async def start(self) -> None:
        await self.pool.start()

    async def close(self) -> None:
        await self.services.close()

    async def run(self) -> None:
        if self.layer == "job":
            outcome = (await run_check(self.services, CHECK_ID)).result
        else:
            outcome = await self.services.runner.run(
                CHECK_ID, self.target, self.check, full_trace=self.layer == "runner-full"
            )
        if outcome.outcome is not Outcome.PASS:
            raise JourneyFailed(
                f"probe run was {outcome.outcome}: {outcome.summary} {outcome.error}"
            )


async def timed(run: Callable[[], Awaitable[None]]) -> float:
    """Seconds one journey took."""
    started = time.perf_counter()
    await run()
    return time.perf_counter() - started


async def runs_within(
    run: Callable[[], Awaitable[None]], concurrency: int, seconds: float
) -> tuple[int, float]:
    """Journeys completed by ``concurrency`` workers looping for ``seconds``; and the
    window actually measured (until the last run started in it ended)."""
    deadline = time.perf_counter() + seconds
    started = time.perf_counter()
    done = 0

    async def worker() -> None:
        nonlocal done
        while time.perf_counter() < deadline:
            await run()
            done += 1

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return done, time.perf_counter() - started
