"""Driving a portal's chat widget (智能客服) the way a citizen does: open it, type, send,
and wait — by condition — for a new answer.

Opening: the entry is clicked; the widget is the text box that became visible then (in the
page, a frame of it, or a tab the click opened) — the search box seen before the click is
not it. Asking: a MutationObserver on the widget's panel collects what is added after the
question is sent; the user's own echoed question, a typing indicator (正在输入…) and text
shown before sending (the greeting) are not an answer. With ``selectors.chat_answer`` the
answer is the bubbles of that selector added since sending (counted before and after).
Meanwhile the chat API's requests are watched: their status is the evidence of a failure.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, unquote_plus

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Frame, Locator, Page, Request
from playwright.async_api import TimeoutError as PlaywrightTimeout

from probes import locate

SEND_WORDS = re.compile(r"^\s*(?:发\s*送|提\s*问|发送消息|提交|咨询|send)\s*$", re.IGNORECASE)
CHAT_PATH = re.compile(
    r"chat|robot|kefu|znkf|znwd|znzx|assistant|/ask|answer|/qa\b|/bot\b|dialog|question|message",
    re.IGNORECASE,
)
BUSY_WORDS = (
    r"正在输入|输入中|正在思考|思考中|请稍候|请稍等|加载中|正在查询|正在为您|loading|typing"
)
# How long a widget gets to show its own message once its chat request failed.
FAILURE_SHOWN_MS = 2_000
_DATA_TYPES = frozenset({"fetch", "xhr", "eventsource"})
_MARK = "data-govpatrol-chat"

# Marks the visible text boxes of the page before the entry is clicked.
_MARK_SEEN_JS = f"""
() => {{
  for (const el of document.querySelectorAll('input, textarea, [contenteditable=true]'))
    if (el.getClientRects().length) el.setAttribute('{_MARK}-seen', '1');
}}
"""

# Finds the chat box that appeared (or the configured one), marks it, its panel and its
# send button; returns whether one was found.
_FIND_JS = f"""
([configured]) => {{
  const visible = (el) => !!el.getClientRects().length
    && getComputedStyle(el).visibility !== 'hidden';
  const boxes = configured ? Array.from(document.querySelectorAll(configured))
    : Array.from(document.querySelectorAll(
        'textarea, [contenteditable=true], input:not([type]), input[type=text], '
        + 'input[type=search]'));
  const fresh = boxes.filter((el) => visible(el) && !el.disabled && !el.readOnly
    && (configured || !el.hasAttribute('{_MARK}-seen'))
    && !el.closest('[role=search], form[action*=search i]'));
  const chatty = /问|咨询|输入|说|请描述|请输入|message|ask/i;
  fresh.sort((a, b) => chatty.test(b.placeholder || b.getAttribute('aria-label') || '')
    - chatty.test(a.placeholder || a.getAttribute('aria-label') || ''));
  const box = fresh[0];
  if (!box) return false;
  for (const old of document.querySelectorAll('[{_MARK}]')) old.removeAttribute('{_MARK}');
  box.setAttribute('{_MARK}', 'input');
  // The widget's panel: the nearest positioned or dialog-like ancestor (a floating
  // widget), else the outermost chat-named one, else the page.
  const framed = '[role=dialog], dialog, [aria-modal=true], aside, [role=complementary]';
  const named = '[class*=chat i], [id*=chat i], [class*=kefu i], [id*=kefu i], '
    + '[class*=robot i], [class*=znkf i], [id*=znkf i], [class*=assistant i]';
  let panel = null;
  let outer = null;
  for (let el = box.parentElement; el && el !== document.body; el = el.parentElement) {{
    const position = getComputedStyle(el).position;
    if (el.matches(framed) || position === 'fixed' || position === 'absolute') {{
      panel = el;
      break;
    }}
    if (el.matches(named)) outer = el;
  }}
  panel = panel || outer || document.body;
  panel.setAttribute('{_MARK}', 'panel');
  const words = new RegExp({SEND_WORDS.pattern!r}, 'i');
  const buttons = Array.from(panel.querySelectorAll('button, [role=button], input[type=submit], a'))
    .filter(visible);
  const send = buttons.find((b) => words.test(b.innerText || b.value || '')
      || words.test(b.getAttribute('aria-label') || b.title || ''))
    || (box.form && box.form.querySelector('[type=submit]'));
  if (send) send.setAttribute('{_MARK}', 'send');
  return true;
}}
"""

# Starts collecting what the panel gains once the question is sent.
_WATCH_JS = f"""
([question, answerSelector]) => {{
  const panel = document.querySelector('[{_MARK}=panel]') || document.body;
  const norm = (s) => (s || '').normalize('NFKC')
    .replace(/[\\s\\p{{P}}\\p{{S}}]/gu, '').toLowerCase();
  const old = window.__govpatrolChat;
  if (old && old.observer) old.observer.disconnect();
  const state = {{
    panel, question: norm(question), added: [], answerSelector,
    counted: answerSelector ? document.querySelectorAll(answerSelector).length : 0,
  }};
  state.observer = new MutationObserver((records) => {{
    for (const r of records) {{
      if (r.type === 'characterData') state.added.push(r.target.parentElement);
      for (const n of r.addedNodes) state.added.push(n.nodeType === 1 ? n : n.parentElement);
    }}
  }});
  state.observer.observe(panel, {{childList: true, subtree: true, characterData: true}});
  window.__govpatrolChat = state;
}}
"""

# What was added since sending: the answer's pieces (text, links), and whether anything
# at all changed (the echo of the question included).
_READ_JS = f"""
([busyWords]) => {{
  const state = window.__govpatrolChat;
  if (!state) return {{pieces: [], reacted: false}};
  const norm = (s) => (s || '').normalize('NFKC')
    .replace(/[\\s\\p{{P}}\\p{{S}}]/gu, '').toLowerCase();
  const busy = new RegExp(busyWords, 'i');
  const input = document.querySelector('[{_MARK}=input]');
  let nodes;
  if (state.answerSelector) {{
    nodes = Array.from(document.querySelectorAll(state.answerSelector)).slice(state.counted);
  }} else {{
    const live = state.added.filter((n) => n && n.isConnected && !(input && input.contains(n)));
    const unique = Array.from(new Set(live));
    nodes = unique.filter((n) => !unique.some((o) => o !== n && o.contains(n)));
  }}
  const reacted = nodes.length > 0;
  const pieces = [];
  for (const n of nodes) {{
    if (!n.getClientRects().length) continue;
    const text = (n.innerText || n.textContent || '').replace(/\\s+/g, ' ').trim();
    const folded = norm(text);
    if (!folded) continue;
    const rest = state.question ? folded.split(state.question).join('') : folded;
    if (folded.includes(state.question) && rest.replace(/\\d/g, '').length <= 4) continue;
    if (!/[^\\d]/.test(folded)) continue;  // a time stamp
    if (busy.test(text) && folded.length <= 12) continue;  // 正在输入…
    const links = Array.from(n.matches('a[href]') ? [n] : n.querySelectorAll('a[href]'),
      (a) => ({{text: (a.innerText || '').trim(), href: a.href}}));
    pieces.push({{text, links}});
  }}
  return {{pieces, reacted}};
}}
"""


@dataclass(frozen=True)
class ChatCall:
    """One request of the chat API after a question was sent."""

    url: str
    status: int | None  # None: no answer (yet, or a network failure)
    failure: str = ""


@dataclass
class Answer:
    """What the widget did with one question."""

    question: str
    text: str = ""  # the answer's pieces joined; "" when none came in time
    links: list[tuple[str, str]] = field(default_factory=list)  # (text, href)
    seconds: float | None = None  # from sending to the first answer piece
    reacted: bool = False  # anything changed in the panel (the echo, a typing indicator)
    calls: list[ChatCall] = field(default_factory=list)
    navigated: bool = False  # the page loaded again after sending (a form post)

    @property
    def pending(self) -> bool:
        """A chat request still unanswered when the wait ended."""
        return any(c.status is None and not c.failure for c in self.calls)

    def failed_call(self) -> ChatCall | None:
        """The chat request that failed: HTTP 5xx, 404/410, or a network failure."""
        for call in self.calls:
            if call.failure and not _aborted(call.failure):
                return call
            if call.status is not None and (call.status >= 500 or call.status in (404, 410)):
                return call
        return None


def _aborted(failure: str) -> bool:
    # Cancelled by the page itself (it navigated, or gave up a stream): not the portal's fault.
    return "ABORTED" in failure.upper()


class _Calls:
    """The data requests a page makes while a question is answered."""

    def __init__(self, page: Page, question: str, api: re.Pattern[str] | None) -> None:
        self.page = page
        self.question = question
        self.api = api
        self.requests: dict[Request, ChatCall] = {}
        self.failed = asyncio.Event()  # a chat request failed (HTTP 5xx/404, network)
        self.changed = asyncio.Event()  # a request was answered or failed

    @property
    def pending(self) -> bool:
        return any(c.status is None and not c.failure for c in self.requests.values())

    def _is_chat(self, request: Request) -> bool:
        if request.resource_type not in _DATA_TYPES:
            return False
        body = request.post_data or ""
        said = f"{request.url} {body}"
        if self.api is not None:
            return bool(self.api.search(said))
        decoded = f"{unquote(request.url)} {unquote_plus(body)} {body}"
        return self.question in decoded or bool(CHAT_PATH.search(request.url))

    def on_request(self, request: Request) -> None:
        if self._is_chat(request):
            self.requests[request] = ChatCall(request.url, None)

    async def on_finished(self, request: Request) -> None:
        if request not in self.requests:
            return
        with contextlib.suppress(PlaywrightError):
            response = await request.response()
            status = response.status if response is not None else None
            self.requests[request] = ChatCall(request.url, status)
            if status is not None and (status >= 500 or status in (404, 410)):
                self.failed.set()
        self.changed.set()

    def on_failed(self, request: Request) -> None:
        if request not in self.requests:
            return
        failure = request.failure or "请求失败"
        self.requests[request] = ChatCall(request.url, None, failure)
        if not _aborted(failure):
            self.failed.set()
        self.changed.set()

    def __enter__(self) -> _Calls:
        self.page.on("request", self.on_request)
        self.page.on("requestfinished", self.on_finished)
        self.page.on("requestfailed", self.on_failed)
        return self

    def __exit__(self, *exc: object) -> None:
        self.page.remove_listener("request", self.on_request)
        self.page.remove_listener("requestfinished", self.on_finished)
        self.page.remove_listener("requestfailed", self.on_failed)


@dataclass
class Widget:
    """An opened chat widget: the page and frame it lives in, and its configured parts."""

    page: Page
    frame: Frame
    answer_selector: str | None = None
    opened_tab: bool = False

    @property
    def input(self) -> Locator:
        return self.frame.locator(f"[{_MARK}=input]")

    @property
    def send_button(self) -> Locator:
        return self.frame.locator(f"[{_MARK}=send]")


async def find_entry(page: Page, configured: str | None, words: str) -> Locator | None:
    """The widget's entry: the configured element, else a button, link or text by its words."""
    if configured:
        return await locate.first_visible([page.locator(configured)], locate.EXPECT_MS)
    name = re.compile(words)
    return await locate.first_visible(
        [
            page.get_by_role("button", name=name),
            page.get_by_role("link", name=name),
            page.get_by_title(name),
            page.get_by_text(name),
        ],
        locate.EXPECT_MS,
    )


async def open_widget(
    page: Page, entry: Locator, selectors: dict[str, str | None], timeout_ms: float
) -> Widget | None:
    """Click the entry and find the chat box it shows (here, in a frame, or in a new tab);
    wait for the widget's own requests (its greeting) to land. None: no box appeared."""
    await page.evaluate(_MARK_SEEN_JS)
    tabs: list[Page] = []

    def opened(tab: Page) -> None:
        tabs.append(tab)

    page.context.on("page", opened)
    configured = selectors.get("chat_input")
    try:
        with _Calls(page, "", re.compile(".")) as calls:
            await entry.click()
            found = await _wait_for_box(page.main_frame, configured, locate.EXPECT_MS)
            await _quiet(calls, timeout_ms)
    finally:
        page.context.remove_listener("page", opened)
    if found:
        return Widget(page, page.main_frame, selectors.get("chat_answer"))
    for frame in page.main_frame.child_frames:
        if await _wait_for_box(frame, configured, 0):
            return Widget(page, frame, selectors.get("chat_answer"))
    for tab in tabs:
        with contextlib.suppress(PlaywrightError):
            await tab.wait_for_load_state("load", timeout=timeout_ms)
        if await _wait_for_box(tab.main_frame, configured, locate.EXPECT_MS):
            return Widget(tab, tab.main_frame, selectors.get("chat_answer"), opened_tab=True)
    return None


async def shown_widget(page: Page, selectors: dict[str, str | None]) -> Widget | None:
    """The widget when the configured chat box is already visible (a chat page)."""
    configured = selectors.get("chat_input")
    if not configured or await locate.first_visible([page.locator(configured)]) is None:
        return None
    if not await _wait_for_box(page.main_frame, configured, 0):
        return None
    return Widget(page, page.main_frame, selectors.get("chat_answer"))


async def _wait_for_box(frame: Frame, configured: str | None, wait_ms: float) -> bool:
    try:
        if wait_ms > 0:
            await frame.wait_for_function(_FIND_JS, arg=[configured], timeout=wait_ms)
            return True
        return bool(await frame.evaluate(_FIND_JS, [configured]))
    except (PlaywrightTimeout, PlaywrightError):
        return False


async def _quiet(calls: _Calls, timeout_ms: float) -> None:
    """Wait until the requests seen have answered, then for the page to draw them."""
    deadline = time.monotonic() + timeout_ms / 1000
    while True:
        calls.changed.clear()  # before looking, so an answer landing meanwhile is not missed
        left = deadline - time.monotonic()
        if not calls.pending or left <= 0:
            break
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(calls.changed.wait(), left)
    with contextlib.suppress(PlaywrightError):
        await calls.page.evaluate(
            "() => new Promise((r) => setTimeout(() => setTimeout(() => r(1), 0), 0))"
        )


async def _first_piece(frame: Frame, timeout_ms: float) -> bool:
    """Wait until the panel shows a piece of an answer; False when the time ran out."""
    try:
        await frame.wait_for_function(
            f"() => ({_READ_JS})([{BUSY_WORDS!r}]).pieces.length > 0", timeout=timeout_ms
        )
        return True
    except PlaywrightError:  # a timeout, or the page went away
        return False


async def ask(
    widget: Widget,
    question: str,
    *,
    within_s: float,
    api: re.Pattern[str] | None,
    settle_ms: float,
) -> Answer:
    """Type `question`, send it, and wait up to `within_s` for the first answer piece; an
    answer that started in time is read once its requests have landed."""
    page, frame = widget.page, widget.frame
    answer = Answer(question)
    await widget.input.fill(question)
    await frame.evaluate(_WATCH_JS, [question, widget.answer_selector])
    loads: list[Page] = []

    def navigated(loaded: Page) -> None:
        loads.append(loaded)  # a new document, not a #/ route change

    page.on("load", navigated)
    with _Calls(page, question, api) as calls:
        try:
            started = time.monotonic()
            if await widget.send_button.count():
                await widget.send_button.first.click()
            else:
                await widget.input.press("Enter")
            arrived = asyncio.ensure_future(_first_piece(frame, within_s * 1000))
            failed = asyncio.ensure_future(calls.failed.wait())
            await asyncio.wait({arrived, failed}, return_when=asyncio.FIRST_COMPLETED)
            if arrived.done() and arrived.result():
                answer.seconds = round(time.monotonic() - started, 2)
                await _quiet(calls, settle_ms)  # a streamed answer: read it whole
            elif failed.done():
                # The request failed: give the widget a moment to say so (it may not).
                await _first_piece(frame, min(within_s * 1000, FAILURE_SHOWN_MS))
            for task in (arrived, failed):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, PlaywrightError):
                    await task
            if not loads:
                read: dict[str, Any] = await frame.evaluate(_READ_JS, [BUSY_WORDS])
                answer.reacted = bool(read["reacted"]) or bool(calls.requests)
                pieces = read["pieces"]
                answer.text = " ".join(str(p["text"]) for p in pieces)
                answer.links = [
                    (str(a["text"]), str(a["href"])) for p in pieces for a in p["links"]
                ]
                if answer.text and answer.seconds is None:
                    answer.seconds = round(time.monotonic() - started, 2)
        finally:
            page.remove_listener("load", navigated)
            answer.calls = list(calls.requests.values())
    answer.navigated = bool(loads)
    return answer
