"""Acting on a page and waiting, by condition, for where the action lands.

A citizen's click may load a new page, change only the ``#/…`` address of a single-page
app, or fetch JSON and render it in place behind a spinner. `act_and_land` treats all three
as a navigation: it waits for the document (if one was requested), then for every request
of the portal's own API the action set off to answer, then for the page to stop showing a
loading indicator — never for a fixed time. It reports the document's HTTP status and the
status and timing of the API answers, so a probe can tell a 500 or a 9 s answer from an
empty result.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Frame, Locator, Page, Request
from playwright.async_api import TimeoutError as PlaywrightTimeout

# Time an action gets to start loading something (a page, a route, a request) before a
# probe concludes it did nothing; what it started then gets the full timeout to land.
REACT_MS = 5_000

# Longest wait for a loading indicator to go once no request is in flight: an indicator
# still shown after that is decoration (or a page that never finishes), not a pending answer.
SPINNER_MS = 10_000

# Requests a page makes to render itself from data (not images, fonts or styles).
_DATA_TYPES = frozenset({"fetch", "xhr"})

# True while the page shows a loading indicator or has nothing in its main region yet.
_BUSY_JS = r"""
() => {
  if (document.readyState !== 'complete') return true;
  const visible = (el) => !!(el.offsetWidth || el.offsetHeight || el.getClientRects().length)
    && getComputedStyle(el).visibility !== 'hidden';
  const busy = document.querySelectorAll('[aria-busy=true], [role=progressbar], .loading, '
    + '.spinner, .el-loading-mask, .ant-spin-spinning, .van-loading, .layui-layer-loading');
  for (const el of busy) if (visible(el)) return true;
  return false;
}
"""


# Resolves once the page's queued tasks (a hashchange handler, a click's follow-up) have run:
# whatever request they start has been sent by then. Timers only: frames may not be drawn.
_TASKS_RUN_JS = "() => new Promise((r) => setTimeout(() => setTimeout(() => r(1), 0), 0))"


@dataclass(frozen=True)
class ApiAnswer:
    """One request of the portal's API an action set off, and how it was answered."""

    url: str
    body: str  # the request's POST body ("" for GET)
    status: int | None  # None: no answer at all
    failure: str  # the network error when there was no answer
    seconds: float  # from the action to the answer


@dataclass
class Landing:
    """Where an action landed: the document loaded (if any) and the API answers it caused."""

    moved: bool = False  # a document load, an address change or an API request happened
    status: int | None = None  # HTTP status of the document the action loaded
    answers: list[ApiAnswer] = field(default_factory=list)

    def worst(self, pattern: re.Pattern[str] | None = None) -> ApiAnswer | None:
        """The worst answer (no answer, else the highest status) among the API requests
        whose URL or body matches ``pattern`` (all of them without one)."""
        mine = [a for a in self.answers if pattern is None or pattern.search(f"{a.url} {a.body}")]
        return max(mine, key=lambda a: (a.status is None, a.status or 0), default=None)


class _Watch:
    """Listens to one page's requests and navigations while an action plays out."""

    def __init__(self, page: Page, api: re.Pattern[str] | None) -> None:
        self.page = page
        self.api = api
        self.started = time.monotonic()
        self.start_url = page.url
        self.moved = asyncio.Event()
        self.quiet = asyncio.Event()
        self.quiet.set()
        self.pending: set[Request] = set()
        self.document: Request | None = None
        self.landing = Landing()

    def _is_api(self, request: Request) -> bool:
        if request.resource_type not in _DATA_TYPES:
            return False
        return self.api is None or bool(self.api.search(request.url))

    def on_request(self, request: Request) -> None:
        if request.resource_type == "document" and request.frame == self.page.main_frame:
            self.document = request
            self.moved.set()
        elif self._is_api(request):
            self.pending.add(request)
            self.quiet.clear()
            self.moved.set()

    def _done(self, request: Request, status: int | None, failure: str = "") -> None:
        if request not in self.pending:
            return
        self.pending.discard(request)
        answer = ApiAnswer(
            request.url, request.post_data or "", status, failure, time.monotonic() - self.started
        )
        self.landing.answers.append(answer)
        if not self.pending:
            self.quiet.set()

    async def on_finished(self, request: Request) -> None:
        with contextlib.suppress(PlaywrightError):
            response = await request.response()
            self._done(request, response.status if response is not None else None)

    def on_failed(self, request: Request) -> None:
        self._done(request, None, request.failure or "请求失败")

    def on_navigated(self, frame: Frame) -> None:
        if frame == self.page.main_frame and frame.url != self.start_url:
            self.moved.set()  # a #/ route change is a navigation too

    def __enter__(self) -> _Watch:
        self.page.on("request", self.on_request)
        self.page.on("requestfinished", self.on_finished)
        self.page.on("requestfailed", self.on_failed)
        self.page.on("framenavigated", self.on_navigated)
        return self

    def __exit__(self, *exc: object) -> None:
        self.page.remove_listener("request", self.on_request)
        self.page.remove_listener("requestfinished", self.on_finished)
        self.page.remove_listener("requestfailed", self.on_failed)
        self.page.remove_listener("framenavigated", self.on_navigated)


async def act_and_land(
    page: Page,
    action: Callable[[], Awaitable[object]],
    timeout_ms: float,
    *,
    react_ms: float | None = None,
    api: re.Pattern[str] | None = None,
    appears: Locator | None = None,
) -> Landing:
    """Run ``action`` and wait until what it started has landed.

    Waits up to ``react_ms`` (default: ``timeout_ms``) for the action to start something
    (a document, an address change, an API request; ``api`` narrows which requests count;
    ``appears``: an element whose showing counts too, for a dialog opened in place), then
    up to ``timeout_ms`` for the document to load, every API request to be answered and
    the page to show no loading indicator. ``moved`` is False when nothing started.
    """
    if appears is not None and await appears.count():
        appears = None  # shown already: its showing would say nothing about the action
    with _Watch(page, api) as watch:
        await action()
        react_s = (react_ms if react_ms is not None else timeout_ms) / 1000
        if not await _reacted(watch, appears, react_s):
            return watch.landing
        watch.landing.moved = True
        deadline = time.monotonic() + timeout_ms / 1000
        if watch.document is not None:
            with contextlib.suppress(PlaywrightTimeout):
                await page.wait_for_load_state("load", timeout=timeout_ms)
            with contextlib.suppress(PlaywrightError):
                response = await watch.document.response()
                watch.landing.status = response.status if response is not None else None
        await settle(page, max(0.0, deadline - time.monotonic()) * 1000, watch)
        return watch.landing


async def _reacted(watch: _Watch, appears: Locator | None, react_s: float) -> bool:
    """Whether the action started something (or showed ``appears``) within ``react_s``."""
    if appears is None:
        try:
            await asyncio.wait_for(watch.moved.wait(), react_s)
        except TimeoutError:
            return False
        return True
    moved = asyncio.ensure_future(watch.moved.wait())
    shown = asyncio.ensure_future(
        appears.first.wait_for(state="visible", timeout=max(1.0, react_s * 1000))
    )
    try:
        await asyncio.wait({moved, shown}, timeout=react_s, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiting in (moved, shown):
            waiting.cancel()
        # A timeout or a closed page ends the element's wait: not an answer either way.
        await asyncio.gather(moved, shown, return_exceptions=True)
    return watch.moved.is_set() or (
        shown.done() and not shown.cancelled() and not shown.exception()
    )


async def settle(page: Page, timeout_ms: float, watch: _Watch | None = None) -> bool:
    """Wait until the page is loaded, shows no loading indicator and (when watched) has
    no API request in flight; False when ``timeout_ms`` ran out first. Requests in flight
    get the whole ``timeout_ms``; an indicator alone at most ``SPINNER_MS``."""
    deadline = time.monotonic() + timeout_ms / 1000
    with contextlib.suppress(PlaywrightError):
        await page.evaluate(_TASKS_RUN_JS)
    while True:
        if watch is not None:
            try:
                await asyncio.wait_for(watch.quiet.wait(), max(0.0, deadline - time.monotonic()))
            except TimeoutError:
                return False
        left_ms = min(SPINNER_MS, max(1.0, (deadline - time.monotonic()) * 1000))
        try:
            await page.wait_for_function(f"() => !({_BUSY_JS})()", timeout=left_ms)
        except PlaywrightTimeout:
            return False
        except PlaywrightError:
            return True  # the page navigated away meanwhile: its own load is awaited by callers
        # A spinner that went away may have started another request (a second page of data).
        if watch is None or watch.quiet.is_set():
            return True
