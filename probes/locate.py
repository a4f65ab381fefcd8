"""Finding common elements the way a citizen does: by role, label, placeholder or text.

Targets may configure CSS selectors for any of these; the defaults here work on portals
whose markup we have never seen, so no probe hard-codes one site's DOM.
"""

from __future__ import annotations

import contextlib
import re
import unicodedata

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Locator, Page

SEARCH_WORDS = re.compile(r"搜索|检索|查找|请输入|关键[词字]|事项名称|search", re.IGNORECASE)
SUBMIT_WORDS = re.compile(r"^\s*(搜\s*索|检\s*索|查\s*询|搜|search|go)\s*$", re.IGNORECASE)
_PAGINATION = re.compile(r"^(\d+|上一页|下一页|首页|尾页|末页|更多|more|»|«|>|<|\.\.\.)$", re.I)
_PUNCT = re.compile(r"[\s\u3000·•、，,。.：:；;！!？?“”\"'‘’（）()【】\[\]《》<>〈〉—\-_/]+")


def normalise(text: str) -> str:
    """Fold width, case, whitespace and punctuation so names compare as a reader would."""
    return _PUNCT.sub("", unicodedata.normalize("NFKC", text)).lower()


def name_matches(wanted: str, shown: str) -> bool:
    """A result names the item when it contains the item's full name, folded."""
    target = normalise(wanted)
    return bool(target) and target in normalise(shown)


# How long a helper waits for an element it expects on the page (script-rendered content).
EXPECT_MS = 5_000


async def first_visible(candidates: list[Locator], wait_ms: float = 0) -> Locator | None:
    """The first visible element of the first candidate that has one, in candidate order.

    With ``wait_ms``, waits up to that long for any candidate to become visible first, so a
    page still rendering from its API is not read as lacking the element.
    """
    if wait_ms > 0 and candidates:
        either = candidates[0]
        for candidate in candidates[1:]:
            either = either.or_(candidate)
        with contextlib.suppress(PlaywrightError):  # timeout, or an invalid configured selector
            await either.filter(visible=True).first.wait_for(state="visible", timeout=wait_ms)
    for candidate in candidates:
        # One round trip per candidate: the page filters by visibility itself.
        visible = candidate.filter(visible=True).first
        try:
            if await visible.count():
                return visible
        except PlaywrightError:  # e.g. an invalid configured selector: try the next one
            continue
    return None


async def search_box(
    page: Page, configured: str | None, wait_ms: float = EXPECT_MS
) -> Locator | None:
    if configured:
        return await first_visible([page.locator(configured)], wait_ms)
    return await first_visible(
        [
            page.get_by_role("searchbox"),
            page.get_by_placeholder(SEARCH_WORDS),
            page.get_by_label(SEARCH_WORDS),
            page.locator("input[type=search]"),
            page.locator(
                "input[name=q], input[name*=keyword i], input[name*=search i], "
                "input[name*=word i], input[id*=search i], input[id*=keyword i]"
            ),
        ],
        wait_ms,
    )


async def submit_button(page: Page, configured: str | None) -> Locator | None:
    if configured:
        return await first_visible([page.locator(configured)])
    return await first_visible(
        [
            page.get_by_role("button", name=SUBMIT_WORDS),
            page.locator("input[type=submit], button[type=submit]"),
            page.get_by_text(SUBMIT_WORDS),
        ]
    )


# Links of the main content, in document order, leaving out site chrome (header, nav,
# footer, sidebars) and pagination. Runs in the page: one round trip for the whole list.
_MAIN_LINKS_JS = """
(root) => {
  const region = (root && document.querySelector(root))
    || document.querySelector('main, [role=main], #main, .main, #content, .content')
    || document.body;
  const chrome = 'header, nav, footer, aside, [role=navigation], [role=banner], '
    + '[role=contentinfo], [role=complementary], [role=search]';
  const links = [];
  for (const a of region.querySelectorAll('a[href]')) {
    if (a.closest(chrome) && !region.matches(chrome)) continue;
    const text = (a.innerText || a.textContent || '').replace(/\\s+/g, ' ').trim();
    if (!text) continue;
    links.push({text, href: a.href});
  }
  return links;
}
"""


async def main_links(page: Page, region: str | None = None) -> list[tuple[str, str]]:
    """(text, absolute href) of the content links on the page, chrome and pagination left out."""
    raw: list[dict[str, str]] = await page.evaluate(_MAIN_LINKS_JS, region)
    return [
        (item["text"], item["href"])
        for item in raw
        if len(item["text"]) >= 2 and not _PAGINATION.match(item["text"])
    ]


async def texts_of(page: Page, selector: str, limit: int) -> list[str]:
    texts = await page.locator(selector).all_inner_texts()
    return [" ".join(text.split()) for text in texts if text.strip()][:limit]


ERROR_MARKERS = (
    "出错",
    "错误页",
    "系统错误",
    "系统异常",
    "系统繁忙",
    "服务器错误",
    "服务器内部错误",
    "页面不存在",
    "无法访问",
    "404",
    "500",
    "Not Found",
    "Internal Server Error",
    "Service Unavailable",
    "Bad Gateway",
)


_TITLE_AND_HEADINGS_JS = """
() => [
  document.title,
  Array.from(document.querySelectorAll('h1, h2'), (h) => h.innerText).join(' '),
]
"""


async def looks_like_error_page(page: Page, markers: tuple[str, ...] | list[str]) -> str | None:
    """The marker that gives an error page away (title, headings or URL), or None."""
    title, headings = await page.evaluate(_TITLE_AND_HEADINGS_JS)  # one round trip
    path = page.url.lower()
    for marker in markers:
        if marker in title or marker in headings:
            return marker
    if re.search(
        r"/(error|404|500)[^/]*$|[?&]error=", path.split("?")[0] + "?" + path.partition("?")[2]
    ):
        return "错误页面地址"
    return None
