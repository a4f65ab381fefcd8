"""A cap on what one response may download: a 900 MB page must not grow the browser and
the Playwright driver until the next recycle.

Chromium's own network events (a CDP session per page) count the bytes of each response
as they arrive; a response that announces or reaches more than the cap gets its page
closed at once, which stops the download. The runner then reports ``site.oversized_page``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar

from playwright.async_api import BrowserContext, CDPSession, Page

from core.results import Finding, Severity

log = logging.getLogger(__name__)

WATCH_LIMIT_S = 5.0
T = TypeVar("T")


@dataclass(frozen=True)
class Oversized:
    url: str
    size: int  # bytes announced or received when the response was stopped


class DownloadCap:
    def __init__(self, limit_bytes: int) -> None:
        self.limit = limit_bytes
        self.tripped: Oversized | None = None
        self._received: dict[str, int] = {}
        self._urls: dict[str, str] = {}
        self._watching: list[asyncio.Task[None]] = []
        self._stopping: list[Page] = []
        self.stopped = asyncio.Event()  # set when a response went over the cap

    async def watch(self, context: BrowserContext) -> None:
        """Count every page of ``context``, those already open and those to come."""
        context.on("page", lambda page: self._later(self._watch(page)))
        for page in context.pages:
            await self._watch(page)

    async def _watch(self, page: Page) -> None:
        try:
            async with asyncio.timeout(WATCH_LIMIT_S):  # a page closing meanwhile may not answer
                session = await page.context.new_cdp_session(page)
                session.on("Network.responseReceived", lambda e: self._response(page, session, e))
                session.on("Network.dataReceived", lambda e: self._data(page, session, e))
                await session.send("Network.enable")
        except Exception as exc:  # a page closed meanwhile: nothing to count
            log.debug("download cap not attached: %s", exc)

    def _response(self, page: Page, session: CDPSession, event: dict[str, Any]) -> None:
        response = event.get("response", {})
        request_id = str(event.get("requestId"))
        self._urls[request_id] = str(response.get("url", ""))
        headers = {str(k).lower(): v for k, v in response.get("headers", {}).items()}
        try:
            announced = int(headers.get("content-length", 0))
        except (TypeError, ValueError):
            announced = 0
        if announced > self.limit:
            self._trip(page, session, request_id, announced)

    def _data(self, page: Page, session: CDPSession, event: dict[str, Any]) -> None:
        request_id = str(event.get("requestId"))
        size = int(event.get("dataLength", 0) or 0)
        total = self._received.get(request_id, 0) + size
        self._received[request_id] = total
        if total > self.limit:
            self._trip(page, session, request_id, total)

    def _trip(self, page: Page, session: CDPSession, request_id: str, size: int) -> None:
        if self.tripped is None:
            self.tripped = Oversized(self._urls.get(request_id, page.url), size)
            log.warning("response over %d bytes stopped: %s", self.limit, self.tripped.url)
            self.stopped.set()
        if page not in self._stopping and not page.is_closed():
            self._stopping.append(page)
            self._later(_stop(page, session))

    def _later(self, job: Coroutine[Any, Any, None]) -> None:
        self._watching.append(asyncio.create_task(job))

    async def until_stopped(self, work: Awaitable[T]) -> T | None:
        """``work``'s result, or None when a response goes over the cap first (``work`` is
        then cancelled: a page stuck on a huge response need not be waited for)."""
        task = asyncio.ensure_future(work)
        stopped = asyncio.ensure_future(self.stopped.wait())
        try:
            await asyncio.wait({task, stopped}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopped.cancel()
        if task.done():
            return task.result()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
        return None

    async def settle(self) -> None:
        """Wait for the pages being watched or closed (call before the context closes)."""
        if self._watching:
            await asyncio.gather(*self._watching, return_exceptions=True)


async def _stop(page: Page, session: CDPSession) -> None:
    """Cancel the page's loading at once (a busy renderer may take long to close), then
    close it."""
    with contextlib.suppress(Exception):
        await asyncio.wait_for(session.send("Page.stopLoading"), WATCH_LIMIT_S)
    with contextlib.suppress(Exception):
        await asyncio.wait_for(page.close(), WATCH_LIMIT_S)


def oversized_finding(oversized: Oversized, limit: int) -> Finding:
    return Finding(
        code="site.oversized_page",
        title="页面体积过大",
        detail=(
            f"{oversized.url} 的响应超过 {limit / 2**20:.0f} MB"
            f"（已收到或声明 {oversized.size / 2**20:.0f} MB），已中止下载"
        ),
        severity=Severity.MAJOR,
        subjects=(oversized.url,),
    )
