"""One Chromium per process, a fresh context per run, a limit on how many at once.

Every context is closed in ``finally`` under a timeout; a browser that crashed or
disconnected is relaunched on the next request. Playwright objects stay on the event
loop that created them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from playwright.async_api import Browser, BrowserContext, Playwright, async_playwright

from probes.errors import MonitorError

log = logging.getLogger(__name__)

CHROMIUM_FLAGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
)
# Playwright passes Chromium its own --disable-features list, and Chromium keeps only the
# last such switch: ours must repeat Playwright's list (this is 1.65's; a test checks that
# it still covers what Playwright passes) and add what a headless monitor never needs.
PLAYWRIGHT_DISABLED_FEATURES = (
    "AvoidUnnecessaryBeforeUnloadCheckSync",
    "DestroyProfileOnBrowserClose",
    "HttpsUpgrades",
    "HttpsFirstBalancedModeAutoEnable",
    "LensOverlay",
    "MediaRouter",
    "PaintHolding",
    "ThirdPartyStoragePartitioning",
    "AvoidCorsURLLoaderRestartOnRedirect",
    "TcpPortRandomizationWin",
    "OptimizationHints",
    "NetworkTimeServiceQuerying",
    "AimEnabled",
    "PreconnectToSearch",
    "msForceBrowserSignIn",
    "msEdgeUpdateLaunchServicesPreferredVersion",
)
# The address bar's popups are web pages since Chromium ~150: each browser context (a
# window) would start one more renderer process for them, ~45 MiB that nobody sees.
MONITOR_DISABLED_FEATURES = ("WebUIOmniboxPopup", "WebUIOmniboxAimPopup")
DISABLE_FEATURES_FLAG = "--disable-features=" + ",".join(
    (*PLAYWRIGHT_DISABLED_FEATURES, *MONITOR_DISABLED_FEATURES)
)
CLOSE_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class BrowserOptions:
    executable_path: Path = Path("/usr/bin/chromium")
    proxy: str | None = None
    extra_args: tuple[str, ...] = field(default_factory=tuple)


class BrowserPool:
    def __init__(self, options: BrowserOptions, concurrency: int) -> None:
        self.options = options
        self.concurrency = concurrency
        self._slots = asyncio.Semaphore(concurrency)
        self._launch_lock = asyncio.Lock()
        self._playwright: Playwright | None = None
        self._browser: Browser | None = None
        self.in_use = 0
        self.launches = 0

    async def start(self) -> None:
        await self._ensure_browser()

    async def close(self) -> None:
        browser, self._browser = self._browser, None
        if browser is not None:
            await _quietly(browser.close(), "browser")
        playwright, self._playwright = self._playwright, None
        if playwright is not None:
            await _quietly(playwright.stop(), "playwright")

    @property
    def connected(self) -> bool:
        return self._browser is not None and self._browser.is_connected()

    @contextlib.asynccontextmanager
    async def context(self, *, slot: bool = True, **options: Any) -> AsyncIterator[BrowserContext]:
        """A fresh browser context, closed on exit whatever happens inside.

        ``slot=False`` is for a run that already holds a slot and needs another context
        (a second device, a second user): it must not wait for a slot it may never get.
        """
        async with self._slots if slot else contextlib.nullcontext():
            browser = await self._ensure_browser()
            try:
                context = await browser.new_context(**options)
            except Exception as exc:
                raise MonitorError(f"cannot open a browser context: {exc}") from exc
            self.in_use += 1
            try:
                yield context
            finally:
                self.in_use -= 1
                await _quietly(context.close(), "context")

    async def _ensure_browser(self) -> Browser:
        async with self._launch_lock:
            if self._browser is not None and self._browser.is_connected():
                return self._browser
            if self._browser is not None:
                log.warning("browser disconnected; launching a new one")
                await _quietly(self._browser.close(), "dead browser")
                self._browser = None
            if not self.options.executable_path.exists():
                raise MonitorError(
                    f"Chromium not found at {self.options.executable_path} "
                    "(apt-get install chromium, or set GOVPATROL_CHROMIUM_PATH)"
                )
            if self._playwright is None:
                self._playwright = await async_playwright().start()
            launch: dict[str, Any] = {
                "executable_path": str(self.options.executable_path),
                "args": [*CHROMIUM_FLAGS, DISABLE_FEATURES_FLAG, *self.options.extra_args],
                "headless": True,
            }
            if self.options.proxy:
                launch["proxy"] = {"server": self.options.proxy}
            try:
                self._browser = await self._playwright.chromium.launch(**launch)
            except Exception as exc:
                raise MonitorError(f"cannot launch Chromium: {exc}") from exc
            self.launches += 1
            log.info("Chromium %s launched", self._browser.version)
            return self._browser


async def _quietly(closing: Any, what: str) -> None:
    try:
        await asyncio.wait_for(closing, timeout=CLOSE_TIMEOUT_S)
    except Exception as exc:  # closing must never mask the run's own result
        log.warning("closing %s failed: %s", what, exc)
