"""移动端: do the portal's H5 pages work on the phones citizens use?

Journey: for each phone profile (iPhone, Android, the WeChat in-app browser), in its own
browser context, open the configured H5 pages (the entry and key pages) and the
same-origin links found on them, one level deep and bounded; on every page note what a
citizen meets: an error page, a page wider than the screen, no viewport meta, dead links,
images or scripts that fail to load, script errors, text too small to read, and severe
accessibility (无障碍/适老化) violations found by axe-core (``probes.axe``, shared with the
PC pages' ``accessibility`` probe). ``probes.mobile_findings``
turns the notes into one finding per kind, naming the pages and the phones.

The first phone opens the pages alone, gathers the links to follow and runs axe-core;
the other phones then open the same pages side by side. axe-core comes from the pinned
``axe-playwright-python`` wheel (its ``axe.min.js``), so installing stays pip-only.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urldefrag, urlsplit

from playwright.async_api import ConsoleMessage, Page
from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Response as PlaywrightResponse
from playwright.async_api import TimeoutError as PlaywrightTimeout
from pydantic import Field, field_validator

from core.results import ProbeResult
from probes import axe, locate
from probes.axe import SEVERE_IMPACTS, Impact, shipped_script
from probes.base import CheckParams, Probe, ProbeContext
from probes.devices import DEFAULT_DEVICES, PROFILES, DeviceProfile, context_options
from probes.errors import MonitorError
from probes.mobile_findings import Link, PageVisit, judge

# Links a page renders rather than downloads or hands to another app.
_FILE_LINK = re.compile(
    r"\.(pdf|docx?|xlsx?|pptx?|wps|ofd|zip|rar|7z|apk|ipa|jpe?g|png|gif|mp4|mp3)$", re.I
)
# Chromium logs every failed subresource as a console error; those are reported once,
# as broken resources, not again as script errors.
_RESOURCE_NOISE = re.compile(r"^Failed to load resource\b")
# A followed link that starts a download or hands over to an app is not a page to judge.
_NOT_A_PAGE = re.compile(r"Download is starting|net::ERR_ABORTED|net::ERR_UNKNOWN_URL_SCHEME")
NETWORK_IDLE_TIMEOUT_MS = 5_000


class MobileParams(CheckParams):
    FINDING_CODES = (
        "mobile.page_error",
        "mobile.broken_link",
        "mobile.broken_resource",
        "mobile.script_error",
        "mobile.horizontal_overflow",
        "mobile.no_viewport",
        "mobile.small_text",
        "mobile.accessibility",
    )

    # Names of the target's `pages` or paths/URLs; the first is the H5 entry.
    pages: list[str] = Field(default_factory=lambda: ["home"], min_length=1)
    devices: list[str] = Field(default_factory=lambda: list(DEFAULT_DEVICES), min_length=1)
    max_links: int = Field(default=8, ge=0, le=50)  # same-origin links followed, one level
    exclude_links: list[str] = Field(default_factory=list)  # regexes on link URLs
    wait_for: Literal["load", "networkidle"] = "load"  # networkidle for script-rendered pages
    small_text_px: float = Field(default=12.0, gt=0)
    small_text_share: float = Field(default=0.25, gt=0, le=1)
    # axe-core on the configured pages (the default), on every page, or not at all.
    accessibility: Literal["key_pages", "all_pages", "off"] = "key_pages"
    accessibility_impacts: list[Impact] = Field(default_factory=lambda: list(SEVERE_IMPACTS))
    ignore_script_errors: list[str] = Field(default_factory=list)  # regexes on messages

    @field_validator("devices")
    @classmethod
    def _known_devices(cls, value: list[str]) -> list[str]:
        unknown = [name for name in value if name not in PROFILES]
        if unknown:
            raise ValueError(
                f"unknown device {', '.join(unknown)}; known devices: {', '.join(PROFILES)}"
            )
        return list(dict.fromkeys(value))

    @field_validator("exclude_links", "ignore_script_errors")
    @classmethod
    def _valid_patterns(cls, value: list[str]) -> list[str]:
        for pattern in value:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"{pattern!r} is not a valid regular expression: {exc}") from None
        return value


@dataclass(frozen=True)
class _PageToOpen:
    url: str
    name: str  # how the catalog calls a configured page; empty for a followed link
    link: Link | None = None  # the link that led here, for followed pages


class MobileProbe(Probe):
    kind = "mobile"
    Params = MobileParams
    # The probe opens one context per phone itself; holding the runner's context as well
    # would take two pool slots per run, and runs waiting for their second slot deadlock.
    uses_browser = False

    async def run(self, ctx: ProbeContext) -> ProbeResult:
        params = ctx.params(MobileParams)
        first, *others = [PROFILES[name] for name in params.devices]
        pages = _unique([_configured(ctx, page) for page in params.pages])
        # The first phone also gathers the links to follow; the others then open the same
        # pages side by side, each in its own context, never waiting while holding one.
        visits = await _on_phone(ctx, first, pages, params, first=True)
        pages += [_PageToOpen(v.url, "", v.link) for v in visits if v.link is not None]
        try:
            async with asyncio.TaskGroup() as phones:
                running = [
                    phones.create_task(_on_phone(ctx, device, pages, params)) for device in others
                ]
        except ExceptionGroup as failures:
            raise failures.exceptions[0] from None  # the runner maps the first one
        for task in running:
            visits += task.result()
        return judge(visits, [first, *others], params.small_text_px, params.small_text_share)


def _configured(ctx: ProbeContext, page: str) -> _PageToOpen:
    """A page named in the target's ``pages``, or given as a path or URL."""
    if page in ctx.target.pages:
        return _PageToOpen(ctx.url(page), page)
    if page.startswith(("/", "http://", "https://")):
        return _PageToOpen(ctx.absolute(page), page)
    # A typo in the catalog must not become a dead page blamed on the unit.
    known = "、".join(ctx.target.pages) or "无"
    raise MonitorError(f"页面 {page!r} 不是巡检对象 pages 中的名称（现有：{known}），也不是路径")


async def _on_phone(
    ctx: ProbeContext,
    device: DeviceProfile,
    pages: list[_PageToOpen],
    params: MobileParams,
    first: bool = False,
) -> list[PageVisit]:
    """Open the pages one after the other in one tab of a browser context that is this phone.

    The first phone also follows the links of the pages, and checks accessibility: that
    depends on markup, not on the phone, and axe-core is the slowest check.
    """
    if ctx.open_context is None:
        raise MonitorError("the mobile probe needs browser contexts")
    async with ctx.open_context(**await context_options(device)) as context:
        tab = _Tab(await context.new_page(), params)
        tab.page.set_default_timeout(ctx.nav_timeout_ms)
        tab.page.set_default_navigation_timeout(ctx.nav_timeout_ms)
        visits = [await tab.visit(ctx, device, page, first) for page in pages]
        if first and params.max_links:
            followed = _followed(visits, pages, params)
            visits += [await tab.visit(ctx, device, page, first) for page in followed]
    return visits


class _Tab:
    """One browser tab of a phone, and the notes of the page open in it."""

    def __init__(self, page: Page, params: MobileParams) -> None:
        self.page = page
        self.params = params
        self.ignored = [re.compile(pattern) for pattern in params.ignore_script_errors]
        self.current: PageVisit | None = None
        page.on("response", self._on_response)
        page.on("pageerror", lambda error: self._on_script_error(_error_line(error)))
        page.on("console", self._on_console)

    async def visit(
        self, ctx: ProbeContext, device: DeviceProfile, target: _PageToOpen, first: bool
    ) -> PageVisit:
        """Open one page and note everything a citizen would meet there."""
        params, page = self.params, self.page
        visit = self.current = PageVisit(device, target.url, target.name, target.link)
        try:
            response = await ctx.goto(page, target.url)
        except PlaywrightError as exc:
            if target.link is None or not _NOT_A_PAGE.search(str(exc)):
                raise
            visit.skipped = True  # a download or a hand-off to an app, not a page
            return visit
        visit.status = response.status if response is not None else None
        if visit.http_error:
            await _keep_screenshot(ctx, page, visit)
            return visit
        if params.wait_for == "networkidle":
            await _network_idle(page)
        await _measure(page, visit, params.small_text_px)
        visit.error_marker = await locate.looks_like_error_page(page, locate.ERROR_MARKERS)
        wanted = params.accessibility == "all_pages" or (
            params.accessibility == "key_pages" and target.link is None
        )
        if first and wanted and visit.error_marker is None:
            visit.violations = await axe.violations(page, params.accessibility_impacts)
        self.current = None  # what happens from here on is the monitor's own doing
        if visit.has_problems(params.small_text_share):
            await _keep_screenshot(ctx, page, visit)
        return visit

    def _on_response(self, response: PlaywrightResponse) -> None:
        kind = response.request.resource_type
        if self.current is not None and response.status >= 400 and kind != "document":
            self.current.add_failed_resource(response.url, response.status, kind)

    def _on_script_error(self, message: str) -> None:
        if self.current is not None and not any(p.search(message) for p in self.ignored):
            self.current.add_script_error(message)

    def _on_console(self, message: ConsoleMessage) -> None:
        if message.type == "error" and not _RESOURCE_NOISE.match(message.text):
            self._on_script_error(message.text)


async def _measure(page: Page, visit: PageVisit, small_px: float) -> None:
    script = shipped_script("probes", "mobile_measure.js")
    measured: dict[str, Any] = await page.evaluate(script, small_px)
    visit.measured = True
    visit.landed_on = measured["url"]
    visit.title = measured["title"]
    visit.client_width = measured["clientWidth"]
    visit.scroll_width = measured["scrollWidth"]
    visit.widest = measured["widest"]
    visit.viewport = measured["viewport"]
    text = measured["text"]
    visit.text_chars, visit.small_chars = text["total"], text["small"]
    visit.smallest_px, visit.small_samples = text["smallest"], tuple(text["samples"])
    visit.links = tuple(
        Link(href=item["href"], text=item["text"], page_url=visit.url, page_title=visit.title)
        for item in measured["links"]
    )


def _followed(
    visits: list[PageVisit], pages: list[_PageToOpen], params: MobileParams
) -> list[_PageToOpen]:
    """Same-origin links of the configured pages, a bounded sample across page kinds.

    Links are grouped by their folder (/h5/guide/…, /h5/notice/…) and taken in turn from
    each group, so eight links cover eight kinds of page rather than eight guides.
    """
    known = {_page_key(page.url) for page in pages}
    excluded = [re.compile(pattern) for pattern in params.exclude_links]
    groups: OrderedDict[str, list[Link]] = OrderedDict()
    for visit in visits:
        if not visit.measured:
            continue
        origin = _origin(visit.landed_on)  # after redirects, e.g. to the m.-host
        for link in visit.links:
            key = _page_key(link.href)
            parts = urlsplit(key)
            if (
                parts.scheme not in ("http", "https")
                or _origin(key) != origin
                or key in known
                or _FILE_LINK.search(parts.path)
                or any(pattern.search(link.href) for pattern in excluded)
            ):
                continue
            known.add(key)
            groups.setdefault(parts.path.rsplit("/", 1)[0], []).append(link)
    chosen: list[_PageToOpen] = []
    while groups and len(chosen) < params.max_links:
        for folder in list(groups):
            link = groups[folder].pop(0)
            chosen.append(_PageToOpen(_page_key(link.href), "", link))
            if not groups[folder]:
                del groups[folder]
            if len(chosen) == params.max_links:
                break
    return chosen


def _page_key(url: str) -> str:
    """The URL without its fragment, unless the fragment is a single-page app's route."""
    base, fragment = urldefrag(url)
    return url if fragment.startswith(("/", "!/")) else base


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def _unique(pages: list[_PageToOpen]) -> list[_PageToOpen]:
    seen: dict[str, _PageToOpen] = {}
    for page in pages:
        seen.setdefault(_page_key(page.url), page)
    return list(seen.values())


async def _keep_screenshot(ctx: ProbeContext, page: Page, visit: PageVisit) -> None:
    before = len(ctx.evidence.screenshots)
    path = urlsplit(visit.url).path.strip("/") or "home"
    await ctx.evidence.capture(page, f"{visit.device.key}-{path}")
    # Phones capture side by side: of the files added meanwhile, this phone's is ours.
    added = [shot for shot in ctx.evidence.screenshots[before:] if f"-{visit.device.key}-" in shot]
    visit.screenshot = added[-1] if added else None


async def _network_idle(page: Page) -> None:
    # A page that polls forever is measured as it stands.
    with contextlib.suppress(PlaywrightTimeout):
        await page.wait_for_load_state("networkidle", timeout=NETWORK_IDLE_TIMEOUT_MS)


def _error_line(error: Exception) -> str:
    name = getattr(error, "name", "") or "Error"
    message = getattr(error, "message", "") or str(error)
    first = message.splitlines()[0] if message else ""
    return f"{name}: {first}" if not first.startswith(name) else first
