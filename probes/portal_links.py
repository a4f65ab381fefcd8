"""The links of a portal page as a citizen sees them, and where they lead.

Used by the checklist probe: every link of a government portal's home page (looking
for the entry to the service platform), and the content links of column pages (the
themes and departments listed, the guides under each), without the site's chrome.
"""

from __future__ import annotations

import re
from urllib.parse import SplitResult, urldefrag, urlsplit

from playwright.async_api import Page

MAX_ENTRY_TEXT = 15  # characters of an entry link: longer texts are news headlines

# Every link of the page with what a citizen reads on it (text, title or image alt).
_ALL_LINKS_JS = r"""
(selector) => {
  const links = document.querySelectorAll(selector || 'a[href]');
  return Array.from(links).map((a) => {
    const img = a.querySelector('img[alt]');
    const text = (a.innerText || a.textContent || '').replace(/\s+/g, ' ').trim()
      || (a.getAttribute('title') || '').trim() || (img ? img.getAttribute('alt').trim() : '');
    return {text, href: a.href || ''};
  });
}
"""

# Links of the content, without site chrome and without the breadcrumb (当前位置：首页 > …).
_CONTENT_LINKS_JS = r"""
() => {
  const root = document.querySelector('main, [role=main], #main, .main, #content, .content')
    || document.body;
  const chrome = 'header, nav, footer, aside, [role=navigation], [role=banner], '
    + '[role=contentinfo], [role=complementary], [role=search], [aria-label*=breadcrumb i]';
  const crumb = /^\s*(当前位置|您的位置|你的位置|您所在的位置|当前页面)/;
  const out = [];
  for (const a of root.querySelectorAll('a[href]')) {
    if (a.closest(chrome) && !root.matches(chrome)) continue;
    const block = a.parentElement && a.parentElement.closest('div, p, li, ol, ul, section');
    if (block && crumb.test(block.textContent || '')) continue;
    const text = (a.innerText || a.textContent || '').replace(/\s+/g, ' ').trim();
    if (text) out.push({text, href: a.href});
  }
  return out;
}
"""


async def all_links(page: Page, selector: str | None) -> list[tuple[str, str]]:
    raw: list[dict[str, str]] = await page.evaluate(_ALL_LINKS_JS, selector)
    return [(item["text"], item["href"]) for item in raw]


async def content_links(page: Page) -> list[tuple[str, str]]:
    raw: list[dict[str, str]] = await page.evaluate(_CONTENT_LINKS_JS)
    return [(item["text"], page_address(item["href"])) for item in raw]


def page_address(href: str) -> str:
    """The address of the page a link opens: an in-page anchor (``#top``) is dropped, a
    single-page app's hash route (``#/item/123``, ``#!/guide``) is the page itself."""
    base, fragment = urldefrag(href)
    return href if fragment.startswith(("/", "!/")) else base


async def page_heading(page: Page) -> str:
    headings = await page.locator("main h1, h1").all_inner_texts()
    return " ".join(headings[0].split()) if headings else ""


def entry_candidates(
    links: list[tuple[str, str]], words: list[str], platform: str, selector: str | None = None
) -> list[tuple[str, str]]:
    """Links that present themselves as the entry to the platform, most likely first.

    A configured selector's links are all candidates; otherwise links already pointing
    at the platform, and short links (a menu item or a button, not a news headline such
    as “全省政务服务工作推进会召开”) whose text holds an entry word. Links pointing at the
    platform come first, then the shortest texts; each address once.
    """
    found = [
        (text, href)
        for text, href in links
        if selector
        or lands_on(href, platform)
        or (len(text) <= MAX_ENTRY_TEXT and any(word in text for word in words))
    ]
    found.sort(key=lambda link: (not lands_on(link[1], platform), len(link[0])))
    by_address: dict[str, str] = {}
    for text, href in found:
        by_address.setdefault(href, text)
    return [(text, href) for href, text in by_address.items()]


def lands_on(url: str, platform: str) -> bool:
    """Whether ``url`` is a page of the platform (same host and port, under its path)."""
    here, there = urlsplit(url), urlsplit(platform)
    if here.scheme not in ("http", "https") or (here.hostname or "") != (there.hostname or ""):
        return False
    if here.scheme == there.scheme and _port(here) != _port(there):
        return False
    base = there.path.rstrip("/")
    return here.path == base or here.path.startswith(base + "/") or not base


def site_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}/"


def _port(parts: SplitResult) -> int:
    if parts.port is not None:
        return parts.port
    return 443 if parts.scheme == "https" else 80


def is_category(href: str, column_url: str, pattern: re.Pattern[str] | None) -> bool:
    """A link of a column page that leads to a theme or department of the same site."""
    here, column = urlsplit(href), urlsplit(column_url)
    if here.scheme not in ("http", "https") or here.netloc != column.netloc:
        return False
    same_page = page_address(href) == page_address(column_url)
    if same_page or (here.path in ("", "/") and page_address(href) == urldefrag(href).url):
        return False
    return pattern is None or bool(pattern.search(href))
