"""One Chromium per process, a fresh context per run, a limit on how many at once.

Every context is closed in ``finally`` under a timeout; a browser that crashed or
disconnected is relaunched on the next request. Playwright objects stay on the event
loop that created them. Playwright writes every trace to a scratch folder and keeps it,
dropped traces too, until the browser closes: the pool owns that folder and empties it
whenever no context is open.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Callable
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
# Contexts served after a launch before the driver's warm size is read (growth limit).
BASELINE_AFTER = 20


@dataclass(frozen=True)
class BrowserOptions:
    executable_path: Path = Path("/usr/bin/chromium")
    proxy: str | None = None
    extra_args: tuple[str, ...] = field(default_factory=tuple)


class BrowserPool:
    def __init__(
        self,
        options: BrowserOptions,
        concurrency: int,
        recycle_after: int = 500,
        *,
        recycle_above_bytes: int | None = None,
        recycle_growth_bytes: int | None = None,
        driver_memory: Callable[[], int] | None = None,
    ) -> None:
        self.options = options
        self.concurrency = concurrency
        # The Playwright driver's heap grows with every context it has served; restarting
        # driver and browser when idle after this many contexts keeps a daemon's memory flat.
        self.recycle_after = recycle_after
        self._served = 0  # contexts opened since the last launch
        # A driver past this resident size is recycled early (a huge page grew it).
        self.recycle_above_bytes = recycle_above_bytes
        # A driver grown by this much over its warm size (read after BASELINE_AFTER
        # contexts) is recycled: its heap grows with every context it has served.
        self.recycle_growth_bytes = recycle_growth_bytes
        self.driver_baseline: int | None = None
        self.driver_memory = driver_memory or DriverMemory()
        self._memory_due = False
        self._slots = asyncio.Semaphore(concurrency)
        self._launch_lock = asyncio.Lock()
        self._playwright: Playwright | None = None
        self._browser: Browser | None = None
        self.in_use = 0
        self._idle = asyncio.Event()  # set while no context is open
        self._idle.set()
        self.launches = 0
        self.traces_dir: Path | None = None  # Playwright's trace scratch, ours to empty

    async def start(self) -> None:
        await self._ensure_browser()

    async def close(self) -> None:
        browser, self._browser = self._browser, None
        if browser is not None:
            await _quietly(browser.close(), "browser")
        playwright, self._playwright = self._playwright, None
        if playwright is not None:
            await _quietly(playwright.stop(), "playwright")
        traces_dir, self.traces_dir = self.traces_dir, None
        if traces_dir is not None:
            shutil.rmtree(traces_dir, ignore_errors=True)

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
            if slot:
                await self._drain_when_due()
            browser = await self._ensure_browser()
            # Counted before the next await, so an idle recycle cannot close this browser.
            self.in_use += 1
            self._idle.clear()
            self._served += 1
            try:
                try:
                    context = await browser.new_context(**options)
                except Exception as exc:
                    raise MonitorError(f"cannot open a browser context: {exc}") from exc
                try:
                    yield context
                finally:
                    await _quietly(context.close(), "context")
            finally:
                # Also when a run's wall-clock limit cancels us inside new_context().
                self.in_use -= 1
                self._check_driver_memory()
                if self.in_use == 0:
                    self._idle.set()
                    self._empty_traces_dir()
                    if self._recycle_due:
                        await self._recycle()

    async def _drain_when_due(self) -> None:
        """Past ``recycle_after`` contexts, a new run waits until the open ones are done,
        so that a daemon that is never idle still gets its fresh browser and driver."""
        while self._recycle_due and self._browser is not None:
            if self.in_use == 0:
                await self._recycle()
                return
            await self._idle.wait()

    @property
    def _recycle_due(self) -> bool:
        return self._served >= self.recycle_after or self._memory_due

    def _check_driver_memory(self) -> None:
        if self._memory_due or self._playwright is None:
            return
        if self.recycle_above_bytes is None and self.recycle_growth_bytes is None:
            return
        used = self.driver_memory()
        if used <= 0:
            return  # not found: nothing to judge by
        if self.recycle_growth_bytes is not None:
            if self.driver_baseline is None:
                if self._served >= BASELINE_AFTER:
                    self.driver_baseline = used
            elif used > self.driver_baseline + self.recycle_growth_bytes:
                log.info(
                    "Playwright driver grew from %d to %d MiB (limit +%d MiB): recycling",
                    self.driver_baseline // 2**20,
                    used // 2**20,
                    self.recycle_growth_bytes // 2**20,
                )
                self._memory_due = True
        if self.recycle_above_bytes is not None and used > self.recycle_above_bytes:
            log.info(
                "Playwright driver at %d MiB (limit %d MiB): recycling early",
                used // 2**20,
                self.recycle_above_bytes // 2**20,
            )
            self._memory_due = True

    async def _recycle(self) -> None:
        async with self._launch_lock:
            if self.in_use or self._browser is None:
                return  # a run started meanwhile; the next idle moment will do
            log.info("recycling browser and driver after %d contexts", self._served)
            self._memory_due = False
            browser, self._browser = self._browser, None
            await _quietly(browser.close(), "browser")
            playwright, self._playwright = self._playwright, None
            if playwright is not None:
                await _quietly(playwright.stop(), "playwright")

    def _empty_traces_dir(self) -> None:
        """Drop the trace files of closed contexts; call only when no context is open.

        Synchronous on purpose: no other context can open (and start a trace) meanwhile.
        """
        if self.traces_dir is None:
            return
        for entry in self.traces_dir.iterdir():
            if entry.is_dir():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)

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
            if self.traces_dir is None:
                self.traces_dir = Path(tempfile.mkdtemp(prefix="govpatrol-traces-"))
            try:
                self._browser = await self._playwright.chromium.launch(
                    **launch_options(self.options, self.traces_dir)
                )
            except Exception as exc:
                raise MonitorError(f"cannot launch Chromium: {exc}") from exc
            self.launches += 1
            self._served = 0
            self.driver_baseline = None
            log.info("Chromium %s launched", self._browser.version)
            return self._browser


def driver_rss_bytes() -> int:
    """Resident memory of this process's Playwright driver (``node … run-driver``), read
    from /proc; 0 when it cannot be found."""
    pid = driver_pid()
    return _rss_bytes(pid) if pid else 0


class DriverMemory:
    """:func:`driver_rss_bytes` that finds the driver once (scanning /proc takes tens of
    milliseconds on a busy machine) and again only when that process is gone."""

    def __init__(self) -> None:
        self.pid = 0

    def __call__(self) -> int:
        if self.pid and _is_driver(self.pid):
            return _rss_bytes(self.pid)
        self.pid = driver_pid()
        return _rss_bytes(self.pid) if self.pid else 0


def driver_pid() -> int:
    """The pid of this process's Playwright driver; 0 when there is none."""
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and _is_driver(int(entry.name)):
            return int(entry.name)
    return 0


def _is_driver(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8")
        if int(stat.rsplit(")", 1)[1].split()[1]) != os.getpid():
            return False
        return b"run-driver" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except (OSError, ValueError, IndexError):
        return False


def _rss_bytes(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text(encoding="utf-8").splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def launch_options(options: BrowserOptions, traces_dir: Path | None = None) -> dict[str, Any]:
    """Playwright's ``chromium.launch`` arguments for ``options`` (benchmarks reuse them)."""
    launch: dict[str, Any] = {
        "executable_path": str(options.executable_path),
        "args": [*CHROMIUM_FLAGS, DISABLE_FEATURES_FLAG, *options.extra_args],
        "headless": True,
    }
    if traces_dir is not None:
        launch["traces_dir"] = str(traces_dir)
    if options.proxy:
        launch["proxy"] = {"server": options.proxy}
    return launch


async def _quietly(closing: Any, what: str) -> None:
    try:
        await asyncio.wait_for(closing, timeout=CLOSE_TIMEOUT_S)
    except Exception as exc:  # closing must never mask the run's own result
        log.warning("closing %s failed: %s", what, exc)
