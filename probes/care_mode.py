"""关怀版 / 长者模式: find the mode's entry on the home page, switch it on, and measure
whether the main text really gets larger.

The main text is measured as a citizen sees it: the median (by characters) of the rendered
font size of the visible text in the main content, rendered meaning the computed
``font-size`` times any ``zoom`` or ``transform: scale`` on the way (a care mode made with
``zoom: 1.2`` leaves ``font-size`` alone but enlarges the text all the same).

Switching is awaited by condition: a document load (a link, a cookie and a reload), a
``#/`` route change or an API request (``probes.landing``), a new tab, or a change of the
page's DOM (a class on ``<html>``, a style, re-rendered content); then for the page to
settle and its finite CSS transitions to finish. A click that sets off none of them within
``REACT_MS`` is a click that changed nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from dataclasses import dataclass
from enum import Enum
from typing import Any

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Locator, Page, Request
from playwright.async_api import TimeoutError as PlaywrightTimeout

from probes import locate
from probes.landing import REACT_MS, Landing, act_and_land, settle

# Words of a care mode's entry (工信部《互联网网站适老化通用设计规范》 calls it 关怀模式/长者模式).
CARE_WORDS = (
    r"关怀版|关怀模式|长者版|长者模式|适老化|适老版|老年版|老年模式|长辈版|长辈模式|"
    r"大字版|大字模式|敬老版|关爱版"
)
# A 无障碍 control often opens a toolbar (放大, 读屏…) rather than enlarging text itself.
ASSIST_WORDS = r"无障碍(?:浏览|阅读|模式|服务|工具条?|通道|版)?"
# The whole name must be the words (a notice titled 关于推进适老化改造的通知 is not an entry).
# Written for JavaScript too: Playwright matches names in the page, where \W is ASCII-only.
_EDGE = r"[\s|·•<>«»()（）\[\]【】-]*"
_VERB = r"(?:进入|切换(?:到|至)?|开启|打开)?"


def whole_name(words: str) -> re.Pattern[str]:
    """A pattern matching a control's name that is just ``words`` (进入关怀版, 【长者模式】)."""
    return re.compile(rf"^{_EDGE}{_VERB}(?:{words})(?:入口|模式)?{_EDGE}$")


_ENTRY_WORDS_MAX = 12


class EntryKind(Enum):
    CONFIGURED = "configured"  # selectors.care_mode
    CARE_CONTROL = "care_control"  # a link or button worded 关怀版, 长者模式…
    ASSIST_CONTROL = "assist_control"  # a link or button worded 无障碍
    CARE_TEXT = "care_text"  # plain text worded 关怀版…, not a link or a button

    @property
    def judged(self) -> bool:
        """Whether text left as it was is the mode's fault (not, perhaps, a toolbar or a
        label beside the real switch)."""
        return self in (EntryKind.CONFIGURED, EntryKind.CARE_CONTROL)


@dataclass(frozen=True)
class CareEntry:
    locator: Locator
    words: str  # what the entry says, short
    kind: EntryKind


@dataclass(frozen=True)
class TextSize:
    px: float  # median rendered font size of the main text
    chars: int  # characters measured

    @property
    def label(self) -> str:
        return f"{round(self.px, 1):g}px"


@dataclass(frozen=True)
class Switched:
    """What switching the mode on did."""

    reacted: bool  # a load, a route change, a request, a new tab or a DOM change
    status: int | None  # HTTP status of a document the switch loaded
    url: str  # where the text was measured afterwards
    after: TextSize | None  # None: the page after the switch could not be read
    shown: Page  # the tab the mode shows in (a new one, when it opened one)


async def find_entry(page: Page, configured: str | None, words: str | None) -> CareEntry | None:
    """The care mode's entry: the configured selector, else a link or button worded like
    one (关怀版, 长者模式…; then 无障碍), else plain text worded like one."""
    if configured:
        found = await locate.first_visible([page.locator(configured)], locate.EXPECT_MS)
        return (
            None if found is None else CareEntry(found, await _words(found), EntryKind.CONFIGURED)
        )
    care = whole_name(words or CARE_WORDS)
    assist = whole_name(ASSIST_WORDS)
    ordered = (
        (page.get_by_role("link", name=care), EntryKind.CARE_CONTROL),
        (page.get_by_role("button", name=care), EntryKind.CARE_CONTROL),
        (page.get_by_role("link", name=assist), EntryKind.ASSIST_CONTROL),
        (page.get_by_role("button", name=assist), EntryKind.ASSIST_CONTROL),
        (page.get_by_text(care), EntryKind.CARE_TEXT),
    )
    # The header is drawn with the page; a script-drawn one gets the usual wait once.
    await locate.first_visible([candidate for candidate, _ in ordered], locate.EXPECT_MS)
    for candidate, kind in ordered:
        found = await locate.first_visible([candidate])
        if found is not None:
            return CareEntry(found, await _words(found), kind)
    return None


async def _words(entry: Locator) -> str:
    with contextlib.suppress(PlaywrightError):
        text = " ".join((await entry.inner_text()).split())
        if not text:
            text = (await entry.get_attribute("aria-label")) or (
                await entry.get_attribute("title") or ""
            )
        return text[:_ENTRY_WORDS_MAX]
    return ""


async def text_size(page: Page, region: str | None) -> TextSize:
    """The median rendered font size of the visible main text (0 chars: none found)."""
    raw: dict[str, Any] = await page.evaluate(_TEXT_SIZE_JS, region)
    return TextSize(float(raw["px"]), int(raw["chars"]))


async def switch_on(
    page: Page, entry: CareEntry, timeout_ms: float, region: str | None
) -> Switched:
    """Click the entry, wait for what it sets off, and measure the main text again.

    Raises PlaywrightError when the entry cannot be clicked."""
    await page.evaluate(_OBSERVE_JS)
    loop = asyncio.get_running_loop()
    tab: asyncio.Future[Page] = loop.create_future()
    clicked = asyncio.Event()
    loading: list[bool] = []  # a document request of the main frame was seen

    def opened(new: Page) -> None:
        if not tab.done():
            tab.set_result(new)

    def requested(request: Request) -> None:
        if request.resource_type == "document" and request.frame == page.main_frame:
            loading.append(True)

    async def click() -> None:
        # Playwright's click returns once a navigation it started has begun loading.
        await entry.locator.click()
        clicked.set()

    async def dom_changed() -> None:
        await clicked.wait()
        with contextlib.suppress(PlaywrightError):
            await page.wait_for_function(
                "() => window.__govpatrolCareChanged === true", timeout=REACT_MS, polling=100
            )
            if not loading:
                return  # the page changed in place: nothing to load
        await asyncio.Future()  # a load is under way (or nothing changed): the landing decides

    page.context.on("page", opened)
    page.on("request", requested)
    landing = asyncio.ensure_future(act_and_land(page, click, timeout_ms, react_ms=REACT_MS))
    mutated = asyncio.ensure_future(dom_changed())
    try:
        waiting: set[asyncio.Future[Any]] = {landing, tab, mutated}
        await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
        if mutated.done() and not tab.done() and not landing.done():
            # Changed in place, it seems: once that has settled, a tab or a load it set off
            # after all (a script opening the care site) is still where the mode is.
            await settle(page, timeout_ms)
            if not tab.done() and not loading:
                await _cancel(landing)
                return await _measured(page, True, None, region, timeout_ms)
            either: set[asyncio.Future[Any]] = {landing, tab}
            await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
    finally:
        page.context.remove_listener("page", opened)
        page.remove_listener("request", requested)
        mutated.cancel()
    if tab.done():
        await _cancel(landing)
        shown = tab.result()
        with contextlib.suppress(PlaywrightError):
            await shown.wait_for_load_state("load", timeout=timeout_ms)
        await settle(shown, timeout_ms)
        return await _measured(shown, True, None, region, timeout_ms)
    done: Landing = landing.result()  # a click that failed raises here
    reacted = done.moved or await _changed(page)
    return await _measured(page, reacted, done.status, region, timeout_ms)


async def _changed(page: Page) -> bool:
    with contextlib.suppress(PlaywrightError):
        return bool(await page.evaluate("() => window.__govpatrolCareChanged === true"))
    return True  # the document was replaced


async def _cancel(task: asyncio.Future[Any]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError, PlaywrightError):
        await task


async def _measured(
    page: Page, reacted: bool, status: int | None, region: str | None, timeout_ms: float
) -> Switched:
    if status is not None and status >= 400:
        return Switched(reacted, status, page.url, None, page)
    for _ in range(2):  # a document replaced while measuring is measured once it has loaded
        try:
            await page.evaluate(_TRANSITIONS_DONE_JS)
            return Switched(reacted, status, page.url, await text_size(page, region), page)
        except PlaywrightError:
            with contextlib.suppress(PlaywrightTimeout, PlaywrightError):
                await page.wait_for_load_state("load", timeout=timeout_ms)
            await settle(page, timeout_ms)
    return Switched(reacted, status, page.url, None, page)


# Notes any change of the document after the click: a class or style on <html>/<body>, a
# stylesheet added, content drawn again.
_OBSERVE_JS = """
() => {
  window.__govpatrolCareChanged = false;
  const seen = () => { window.__govpatrolCareChanged = true; };
  new MutationObserver(seen).observe(document.documentElement, {
    subtree: true, childList: true, attributes: true, characterData: true});
}
"""

# Finite CSS transitions and animations (a font size eased in) run to their end; endless
# ones (a carousel) are not waited for, nor anything past 3 s.
_TRANSITIONS_DONE_JS = """
() => Promise.race([
  Promise.all(document.getAnimations()
    .filter((a) => a.effect && a.effect.getComputedTiming().endTime !== Infinity)
    .map((a) => a.finished.catch(() => null))),
  new Promise((resolve) => setTimeout(resolve, 3000)),
])
"""

_TEXT_SIZE_JS = """
(root) => {
  const chrome = 'header, nav, footer, aside, [role=banner], [role=navigation], '
    + '[role=contentinfo], [role=complementary], [role=search]';
  const region = root ? document.querySelector(root)
    : document.querySelector('main, [role=main], #main, .main, #content, .content')
      || document.body;
  if (!region) return {px: 0, chars: 0};  // the configured region is not on the page
  const inChrome = !region.matches(chrome) && region === document.body;
  const walker = document.createTreeWalker(region, NodeFilter.SHOW_TEXT);
  const sizes = [];
  const scale = new Map();
  // zoom and transform: scale() enlarge what is drawn, not the computed font-size: the
  // drawn width of a wide enough ancestor over its layout width (whole pixels) tells.
  const scaleOf = (el) => {
    let box = el;
    while (box.parentElement && box.offsetWidth < 100) box = box.parentElement;
    if (!scale.has(box)) {
      const drawn = box.getBoundingClientRect().width / (box.offsetWidth || 1);
      scale.set(box, !box.offsetWidth || Math.abs(drawn - 1) < 0.02 ? 1 : drawn);
    }
    return scale.get(box);
  };
  let node;
  let chars = 0;
  while ((node = walker.nextNode()) && sizes.length < 5000) {
    const text = node.data.replace(/\\s+/g, '');
    const el = node.parentElement;
    if (!text || !el || el.closest('script, style, noscript, template')) continue;
    if (inChrome && el.closest(chrome)) continue;
    const rect = el.getBoundingClientRect();
    if (!rect.width || !rect.height) continue;
    const style = getComputedStyle(el);
    if (style.visibility === 'hidden' || parseFloat(style.opacity) === 0) continue;
    const px = parseFloat(style.fontSize) * scaleOf(el);
    sizes.push([Math.round(px * 10) / 10, text.length]);
    chars += text.length;
  }
  sizes.sort((a, b) => a[0] - b[0]);
  let seen = 0;
  for (const [px, count] of sizes) {
    seen += count;
    if (seen * 2 >= chars) return {px, chars};
  }
  return {px: 0, chars: 0};
}
"""
