"""The citizen's side of 好差评 in the browser: find a rating entry, follow it, tell whether
a rating form opened; read the rows of a published 差评 list. The probe judges.

A rating form is told by its choices (非常满意 … 非常不满意, ``form_pattern``): at least
``min_choices`` distinct ones visible after the entry was followed, in the page, a dialog
it opened or a new tab. The probe never submits a rating: a test rating would pollute the
portal's own 好差评 data.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from dataclasses import dataclass
from enum import StrEnum

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Locator, Page

from config.catalog import Severity
from core.results import Finding
from probes import locate
from probes.base import ProbeContext
from probes.errors import SiteUnreachable
from probes.landing import REACT_MS, act_and_land, settle

LOGIN_WORDS = re.compile(r"登录|登陆|统一身份认证|用户认证")
# How long an entry may take to appear on a page already read (its guide or reply was
# read, so the page is drawn; a widget of its own may still be coming).
ENTRY_WAIT_MS = 1_500


class Opened(StrEnum):
    FORM = "form"  # a rating form with its choices
    LOGIN = "login"  # the unified login in front of it (rating needs a signed-in citizen)
    DEAD = "dead"  # an HTTP error, an error page, or the click did nothing
    UNKNOWN = "unknown"  # a page the reader cannot tell


@dataclass(frozen=True)
class EntryReading:
    opened: Opened
    why: str  # Chinese, for findings and notes
    choices: tuple[str, ...] = ()


async def find_entry(page: Page, selector: str | None, words: str) -> Locator | None:
    """The rating entry of the page: the configured selector, else a link or button whose
    whole text is one of ``words``; waits a moment for a widget still drawing itself."""
    if selector:
        return await locate.first_visible([page.locator(selector)], ENTRY_WAIT_MS)
    pattern = re.compile(words)
    return await locate.first_visible(
        [page.get_by_role("link", name=pattern), page.get_by_role("button", name=pattern)],
        ENTRY_WAIT_MS,
    )


async def choices_on(page: Page, form_pattern: str) -> tuple[str, ...]:
    """The distinct rating choices visible on the page (short texts matching the pattern)."""
    with contextlib.suppress(PlaywrightError):
        found = await page.evaluate(_CHOICES_JS, form_pattern)
        return tuple(str(choice) for choice in found)
    return ()


async def follow_entry(
    ctx: ProbeContext, page: Page, entry: Locator, *, form_pattern: str, min_choices: int
) -> EntryReading:
    """Follow the entry as a citizen would and say what opened. A link is opened at its
    address (its HTTP status known); a button is clicked and its effect awaited: a route,
    a dialog in the page, or a new tab."""
    before = len(await choices_on(page, form_pattern))
    href = await entry.evaluate("(el) => el.href || ''")
    shown, status, moved = page, None, True
    if isinstance(href, str) and href.startswith(("http://", "https://")):
        try:
            response = await ctx.goto(page, href)
        except SiteUnreachable as exc:
            return EntryReading(Opened.DEAD, f"无法打开（{exc.reason}，{href}）")
        status = response.status if response is not None else None
    else:
        shown, status, moved = await _click(ctx, page, entry)
    try:
        return await _read(shown, status, moved, before, form_pattern, min_choices)
    finally:
        if shown is not page:
            with contextlib.suppress(PlaywrightError):
                await shown.close()


async def _click(ctx: ProbeContext, page: Page, entry: Locator) -> tuple[Page, int | None, bool]:
    tab: asyncio.Future[Page] = asyncio.get_running_loop().create_future()

    def opened(new: Page) -> None:
        if not tab.done():
            tab.set_result(new)

    page.context.on("page", opened)
    try:
        landing = asyncio.ensure_future(
            act_and_land(page, entry.click, ctx.nav_timeout_ms, react_ms=REACT_MS)
        )
        either: set[asyncio.Future[object]] = {landing, tab}  # type: ignore[arg-type]
        await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
    finally:
        page.context.remove_listener("page", opened)
    if not tab.done():
        result = landing.result()
        # A dialog opened in place moves nothing: its choices tell.
        return page, result.status, result.moved
    landing.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await landing
    shown = tab.result()
    with contextlib.suppress(PlaywrightError):
        await shown.wait_for_load_state("load", timeout=ctx.nav_timeout_ms)
    await settle(shown, ctx.nav_timeout_ms)
    return shown, None, True


async def _read(
    page: Page, status: int | None, moved: bool, before: int, form_pattern: str, min_choices: int
) -> EntryReading:
    if status is not None and status >= 400:
        return EntryReading(Opened.DEAD, f"打开返回 HTTP {status}（{page.url}）")
    choices = await choices_on(page, form_pattern)
    if len(choices) >= min_choices and (moved or before < min_choices):
        return EntryReading(Opened.FORM, f"打开评价页面（{page.url}）", choices)
    marker = await locate.looks_like_error_page(page, locate.ERROR_MARKERS)
    if marker is not None:
        return EntryReading(Opened.DEAD, f"打开为错误页面（{marker}，{page.url}）")
    if not moved:
        return EntryReading(Opened.DEAD, "点击后无任何反应")
    passwords = 0
    with contextlib.suppress(PlaywrightError):
        passwords = await page.locator("input[type=password]").filter(visible=True).count()
    title = ""
    with contextlib.suppress(PlaywrightError):
        title = await page.title()
    if passwords or LOGIN_WORDS.search(title):
        return EntryReading(Opened.LOGIN, f"进入登录页面（{page.url}）")
    return EntryReading(Opened.UNKNOWN, f"打开的页面（{page.url}）未识别出评价选项")


async def review_rows(page: Page, row_selector: str | None) -> list[list[tuple[str, str]]]:
    """The rows of a published list as ``(label, value)`` pairs: each configured row's
    lines, else each table row under its header, else each card holding one 评价时间."""
    raw: list[list[list[str]]] = await page.evaluate(_ROWS_JS, row_selector)
    return [[(str(label), str(value)) for label, value in row] for row in raw]


# Runs in the page: visible short texts (labels, buttons, options) matching the pattern.
_CHOICES_JS = r"""
(pattern) => {
  const re = new RegExp('^\\s*(?:' + pattern + ')\\s*$');
  const found = new Set();
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const visible = (el) =>
    !!(el && (el.offsetWidth || el.offsetHeight || el.getClientRects().length));
  while (walker.nextNode()) {
    const text = (walker.currentNode.textContent || '').replace(/\s+/g, ' ').trim();
    if (!text || text.length > 12 || !re.test(text)) continue;
    const host = walker.currentNode.parentElement;
    if (!visible(host) || host.closest('script, style, nav, footer')) continue;
    found.add(text);
  }
  for (const el of document.querySelectorAll('input[type=radio], [role=radio], option')) {
    const text = (el.getAttribute('aria-label') || el.title || '').trim();
    if (text && re.test(text)) found.add(text);
  }
  return Array.from(found);
}
"""

# Runs in the list page: rows as [[label, value], …].
_ROWS_JS = r"""
(rowSelector) => {
  const clean = (t) => (t || '').replace(/[ \t\u3000]+/g, ' ').trim();
  const lines = (el) => (el.innerText || '').split('\n').map(clean).filter((t) => t);
  const pairs = (el) => lines(el).map((line) => {
    const m = line.match(/^([^：:]{1,12})[：:]\s*(.*)$/);
    return m ? [m[1].trim(), m[2].trim()] : ['', line];
  });
  const root = document.querySelector('main, [role=main], #main, .main, #content, .content')
    || document.body;
  if (rowSelector) return Array.from(document.querySelectorAll(rowSelector), pairs);
  const rated = /评价(时间|日期)|评议(时间|日期)|差评(时间|日期)/;
  const rows = [];
  for (const table of root.querySelectorAll('table')) {
    const head = Array.from(table.querySelectorAll('tr')).find((tr) => tr.querySelector('th'));
    if (!head) continue;
    const labels = Array.from(head.children, (c) => clean(c.innerText));
    if (!labels.some((l) => rated.test(l))) continue;
    for (const tr of table.querySelectorAll('tr')) {
      if (tr === head || tr.querySelector('th')) continue;
      const cells = Array.from(tr.children, (c) => clean(c.innerText));
      rows.push(labels.map((l, i) => [l, cells[i] || '']));
    }
  }
  if (rows.length) return rows;
  // Cards: the largest elements holding exactly one rating date label.
  const count = (el) => ((el.innerText || '').match(new RegExp(rated.source, 'g')) || []).length;
  for (const el of root.querySelectorAll('*')) {
    if (count(el) !== 1) continue;
    if (el.parentElement !== root && count(el.parentElement) === 1) continue;
    rows.push(pairs(el));
  }
  return rows;
}
"""


# -- the consultation's reply (the consultation probe's ``rating`` part) ---------------------

REPLY_RATING_CODE = "rating.consultation_entry_missing"


async def reply_offers_rating(ctx: ProbeContext, page: Page, words: str) -> bool:
    """Whether the page showing a consultation's reply offers 评价 (a link or button)."""
    return await find_entry(page, ctx.selector("consult_rating_entry"), words) is not None


def reply_rating_missing(submitted_on: str, reference: str) -> Finding:
    """A replied consultation whose reply page offers no rating (seed 004 #1, 主动评价)."""
    return Finding(
        code=REPLY_RATING_CODE,
        title="咨询答复后未提供评价渠道",
        detail=f"咨询回复查询。{submitted_on}提交的咨询（{reference}）已获答复，"
        "但答复页面未提供“评价”入口，无法对答复进行评价",
        severity=Severity.MINOR,
        subjects=(reference,),
    )
