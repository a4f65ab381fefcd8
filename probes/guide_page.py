"""Reading a 办事指南 page as a citizen reads it: by its Chinese labels, not by its CSS.

Portals print a guide as label/value tables (th → td), definition lists (dt → dd),
headed sections (h2 设定依据 → the paragraphs under it) or “办理地点：…” lines. One
script collects every such pair; ``probes.guide_rules`` decides which labels matter.
Download links (表格下载, 示范文本) are collected with the label they sit under and
checked over HTTP through the browser context, as a click on them would fetch them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from playwright.async_api import BrowserContext, Page
from playwright.async_api import Error as PlaywrightError

from probes.guide_rules import Labelled

DOWNLOAD_TIMEOUT_MS = 15_000
_DOCUMENT_PATH = re.compile(r"\.(docx?|xlsx?|pdf|wps|et|ofd|rtf|zip|rar|7z)$", re.IGNORECASE)


@dataclass(frozen=True)
class DownloadLink:
    text: str
    href: str  # absolute
    context: str  # the label it is printed under (表格下载, 示范文本) or its section heading


@dataclass(frozen=True)
class GuidePage:
    url: str
    title: str
    entries: tuple[Labelled, ...]
    downloads: tuple[DownloadLink, ...]


# Runs in the page; returns {title, entries: [{label, value, items}], downloads: [...]}.
_READ_GUIDE_JS = r"""
(titleSelector) => {
  const clean = (t) => (t || '').replace(/\s+/g, ' ').trim();
  const chrome = 'header, nav, footer, [role=navigation], [role=banner], [role=contentinfo]';
  const root = document.querySelector('main, [role=main], #main, .main, #content, .content')
    || document.body;
  const inChrome = (el) => el.closest(chrome) && !root.matches(chrome);
  const isHeaderRow = (tr) => tr.querySelector(':scope > th') && !tr.querySelector(':scope > td');
  // Text of an element without scripts and without table header rows (column titles
  // are labels, not content: an empty materials table must read as empty).
  const textOf = (el) => {
    const copy = el.cloneNode(true);
    copy.querySelectorAll('script, style, thead').forEach((n) => n.remove());
    copy.querySelectorAll('tr').forEach((tr) => { if (isHeaderRow(tr)) tr.remove(); });
    return clean(copy.textContent);
  };
  const itemsOf = (nodes) => {
    const items = [];
    for (const node of nodes) {
      for (const li of node.querySelectorAll('li')) items.push(clean(li.textContent));
      for (const tr of node.querySelectorAll('tr')) {
        if (!isHeaderRow(tr)) items.push(clean(tr.textContent));
      }
    }
    return items.filter((t) => t);
  };
  const entries = [];
  const add = (label, value, items) => {
    label = clean(label);
    if (label && label.length <= 20) entries.push({label, value: value || '', items: items || []});
  };

  // th → the td cells after it; a header row's th → the cells of its column.
  for (const th of root.querySelectorAll('th')) {
    if (inChrome(th)) continue;
    const row = th.parentElement;
    if (!isHeaderRow(row)) {
      const values = [];
      for (let n = th.nextElementSibling; n && n.tagName === 'TD'; n = n.nextElementSibling) {
        values.push(textOf(n));
      }
      add(th.textContent, values.join(' '), []);
      continue;
    }
    const index = Array.prototype.indexOf.call(row.children, th);
    const cells = [];
    for (const tr of th.closest('table').querySelectorAll('tr')) {
      if (tr === row || isHeaderRow(tr)) continue;
      const cell = tr.children[index];
      if (cell) cells.push(clean(cell.textContent));
    }
    add(th.textContent, cells.join('\n'), cells);
  }

  // dt → its dd.
  for (const dt of root.querySelectorAll('dt')) {
    if (inChrome(dt)) continue;
    const dds = [];
    for (let n = dt.nextElementSibling; n && n.tagName === 'DD'; n = n.nextElementSibling) {
      dds.push(n);
    }
    add(dt.textContent, dds.map(textOf).join(' '), itemsOf(dds));
  }

  // Tabs → the panel each one controls (hidden panels are still in the page, and a
  // citizen clicking the tab reads them under the tab's name).
  for (const tab of root.querySelectorAll('[role=tab]')) {
    const panel = document.getElementById(tab.getAttribute('aria-controls') || '');
    if (panel) add(tab.textContent, textOf(panel), itemsOf([panel]));
  }

  // Headings and short label-like leaves → the siblings that follow, up to the next one.
  const level = (el) => {
    const m = /^H([1-6])$/.exec(el.tagName);
    if (m) return Number(m[1]);
    if (el.getAttribute('role') === 'heading') return Number(el.getAttribute('aria-level') || 2);
    return 7;
  };
  const labelLike = (el) => {
    if (level(el) < 7) return true;
    if (el.children.length || el.closest('td, th, a, button, li, dd, dt')) return false;
    const text = clean(el.textContent);
    return text.length >= 2 && text.length <= 12;
  };
  const candidates = root.querySelectorAll(
    'h1, h2, h3, h4, h5, h6, [role=heading], label, strong, b, span, div, p');
  for (const el of candidates) {
    if (inChrome(el) || !labelLike(el)) continue;
    let anchor = el;
    while (!anchor.nextElementSibling && anchor.parentElement && anchor.parentElement !== root
           && clean(anchor.parentElement.textContent) === clean(el.textContent)) {
      anchor = anchor.parentElement;
    }
    const label = clean(el.textContent);
    if (!anchor.nextElementSibling) {
      // <p><strong>办理地点：</strong>示范市…</p>: the value is the rest of the line.
      const line = clean(el.parentElement ? el.parentElement.textContent : '');
      if (line.startsWith(label) && line.length > label.length) {
        add(label, clean(line.slice(label.length)), []);
      }
      continue;
    }
    const mine = level(el);
    const nodes = [];
    for (let n = anchor.nextElementSibling; n; n = n.nextElementSibling) {
      const next = n.matches('h1, h2, h3, h4, h5, h6, [role=heading]') ? n
        : n.querySelector('h1, h2, h3, h4, h5, h6, [role=heading]');
      if (next && level(next) <= mine) break;
      if (mine === 7 && nodes.length) break;  // a leaf label owns the one element after it
      nodes.push(n);
    }
    add(label, nodes.map(textOf).join(' '), itemsOf(nodes));
  }

  // “办理时限：20个工作日” lines whose children are all inline.
  const inline = /^(SPAN|A|STRONG|B|EM|I|FONT|BR|LABEL|SMALL|SUP|SUB)$/;
  for (const el of root.querySelectorAll('p, li, span, div, dd, td, label')) {
    if (inChrome(el)) continue;
    if (Array.prototype.some.call(el.children, (c) => !inline.test(c.tagName))) continue;
    const m = /^([^：:]{2,12})[：:](.*)$/.exec(clean(el.textContent));
    if (m) add(m[1], clean(m[2]), []);
  }

  const headings = Array.from(root.querySelectorAll('h1, h2, h3, h4, h5, h6, [role=heading]'));
  const fileLike = /\.(docx?|xlsx?|pdf|wps|et|ofd|rtf|zip|rar|7z)([?#]|$)/i;
  const downloads = [];
  for (const a of root.querySelectorAll('a[href]')) {
    if (inChrome(a)) continue;
    const text = clean(a.textContent) || clean(a.getAttribute('title'));
    const row = a.closest('tr');
    // A link in a table column headed 示例样表/表格下载… is that column's file, whatever its
    // own words (查看, 点击查看) or address (a route of a single-page app).
    let column = '';
    const cell = a.closest('td, th');
    const table = row && row.closest('table');
    const head = table && (table.tHead ? table.tHead.rows[0] : table.rows[0]);
    if (cell && head && head !== row && head.cells[cell.cellIndex]) {
      column = clean(head.cells[cell.cellIndex].textContent);
    }
    const fileColumn = /样表|样本|示范|范本|范例|示例|下载|空白表|表格/.test(column);
    if (!(a.hasAttribute('download') || fileLike.test(a.href) || /下载/.test(text) || fileColumn)) {
      continue;
    }
    const dd = a.closest('dd');
    let context = '';
    const rowLabel = row && row.querySelector(':scope > th');
    if (fileColumn) context = column;
    else if (rowLabel) context = clean(rowLabel.textContent);
    else if (dd && dd.previousElementSibling) {
      context = clean(dd.previousElementSibling.textContent);
    }
    else {
      const before = headings.filter(
        (h) => h.compareDocumentPosition(a) & Node.DOCUMENT_POSITION_FOLLOWING);
      if (before.length) context = clean(before[before.length - 1].textContent);
    }
    downloads.push({text, href: a.href, context});
  }

  const titleEl = (titleSelector && document.querySelector(titleSelector))
    || root.querySelector('h1') || document.querySelector('h1');
  const title = titleEl ? clean(titleEl.textContent) : clean(document.title.split(/[-_|]/)[0]);
  return {title, entries: entries.slice(0, 3000), downloads};
}
"""


async def read_guide(
    page: Page,
    *,
    title_selector: str | None = None,
    element_selectors: Mapping[str, str] | None = None,
) -> GuidePage:
    """The labels, values and download links of the guide open in ``page``.

    ``element_selectors`` (element name → CSS selector) are read too, under the
    element's own name, for portals whose labels the defaults do not recognise.
    """
    raw = await page.evaluate(_READ_GUIDE_JS, title_selector)
    entries = [
        Labelled(item["label"], item["value"], tuple(item["items"])) for item in raw["entries"]
    ]
    for name, selector in (element_selectors or {}).items():
        try:
            texts = await page.locator(selector).all_inner_texts()
        except PlaywrightError:
            continue  # an invalid configured selector reads as an absent element
        if not texts:
            continue  # nothing matched: the element is absent, not printed empty
        texts = [" ".join(text.split()) for text in texts]
        entries.append(Labelled(name, " ".join(texts), tuple(t for t in texts if t)))
    return GuidePage(page.url, raw["title"], tuple(entries), _downloads(raw["downloads"]))


# Words a file link may carry instead of the file's name (a 示例样表 column of 查看 links).
_GENERIC_LINK = re.compile(r"^(点击)?(查看|下载|预览|打开|详情)$|^$")


def _downloads(raw: list[dict[str, str]]) -> tuple[DownloadLink, ...]:
    """Each file once (one sample linked from every material row is one file), named by
    its file name when the link only says 查看/下载."""
    links: dict[str, DownloadLink] = {}
    for item in raw:
        text, href, context = item["text"], item["href"], item["context"]
        if _GENERIC_LINK.match(text):
            name = unquote(urlsplit(href).path.rsplit("/", 1)[-1]) or href
            text = f"{context}（{name}）" if context else name
        links.setdefault(href, DownloadLink(text, href, context))
    return tuple(links.values())


async def download_problem(browser: BrowserContext, url: str) -> str | None:
    """Fetch a form as a click would; None when a file arrives, else what went wrong.

    A 4xx/5xx answer, an empty body, a refused connection, or an HTML page where a
    document file was linked (the “文件不存在” page many portals answer with) are dead.
    """
    if urlsplit(url).scheme not in ("http", "https"):
        return "链接地址无效"
    try:
        response = await browser.request.get(
            url, timeout=DOWNLOAD_TIMEOUT_MS, fail_on_status_code=False
        )
    except PlaywrightError as exc:
        return f"无法下载（{str(exc).splitlines()[0][:80]}）"
    try:
        if response.status >= 400:
            return f"HTTP {response.status}"
        body = await response.body()
        content_type = response.headers.get("content-type", "")
        if not body:
            return "文件为空"
        if content_type.startswith("text/html") and _DOCUMENT_PATH.search(urlsplit(url).path):
            return "返回网页而非文件"
        return None
    finally:
        await response.dispose()
