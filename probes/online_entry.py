"""网上办理深度 (seed 000 B1-1 ③): what a guide promises of online handling, where its
在线办理 button leads, and the level (I–IV) that makes of the item.

Reading is in the page (the button, the claims, the destination's form, login or refusal);
judging is pure (:func:`classify_destination`, :func:`level_of`), so the rules are tested
without a browser.

Levels (seed 000): I information only; II forms downloadable or online pre-check; III
online application and acceptance; IV 全程网办, online application with 到现场次数 0.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import urlsplit

from probes.guide_page import GuidePage
from probes.readers import fold


class Level(StrEnum):
    I = "I"  # noqa: E741 - the indicator system's own name
    II = "II"
    III = "III"
    IV = "IV"


class Destination(StrEnum):
    """What the page behind the entry button is."""

    FORM = "form"  # an application form
    LOGIN = "login"  # the login in front of the application (统一身份认证)
    OFFLINE = "offline"  # says the item cannot be applied for online
    DEAD = "dead"  # no answer, an HTTP error, an error page, or the click did nothing
    UNRELATED = "unrelated"  # the home page or the guide itself again
    UNKNOWN = "unknown"  # a page the reader cannot tell


APPLY_WORDS = (
    r"^\s*(?:在线办理|立即办理|网上办理|网上申报|在线申报|立即申报|在线申请|网上申请|我要办理"
    r"|我要申报|马上办|去办理|办理入口|申报入口)\s*$"
)
CLAIM_WORDS = re.compile(r"全程网办|零跑动|零跑腿|一次都不跑|不见面审批|不见面办理")
VISITS_LABEL = re.compile(r"到.{0,4}现场.{0,2}次数|跑动次数|跑腿次数|到现场次数")
OFFLINE_WORDS = (
    r"暂不支持(?:网上|在线)|暂未开通(?:网上|在线)|未开通(?:网上|在线)|不能(?:网上|在线)(?:办理|申报)"
    r"|仅支持(?:线下|窗口|现场)|请(?:携带|持).{0,30}(?:到|至|前往).{0,20}(?:窗口|现场|大厅)"
)
LOGIN_WORDS = r"登录|登陆|统一身份认证|用户认证|身份认证"
PRECHECK_WORDS = re.compile(r"网上预审|在线预审|材料预审")


def visits_of(guide: GuidePage) -> int | None:
    """到办事现场次数 as the guide states it (0次（全程网办）→ 0), None when not stated."""
    for entry in guide.entries:
        if not VISITS_LABEL.search(entry.label):
            continue
        value = fold(entry.value)
        match = re.search(r"(\d+)\s*次", value)
        if match:
            return int(match.group(1))
        if re.search(r"^\s*0\s*$|零次|不用跑|无需到现场", value) or CLAIM_WORDS.search(value):
            return 0
    return None


@dataclass(frozen=True)
class PageSigns:
    """What the destination page shows, as read in the browser."""

    url: str
    status: int | None  # HTTP status of the document, None for a script route
    title: str  # document title and main headings
    text: str  # the main region's text
    passwords: int  # visible password fields
    fields: int  # visible fillable fields outside search boxes
    moved: bool = True  # False: clicking the button changed nothing
    error_marker: str | None = None  # what gave an error page away


@dataclass(frozen=True)
class DestinationReading:
    kind: Destination
    why: str  # Chinese, for findings and notes


def classify_destination(
    signs: PageSigns,
    *,
    guide_url: str,
    offline_pattern: str | None = None,
    login_pattern: str | None = None,
    min_form_fields: int = 2,
) -> DestinationReading:
    """What the page the entry opened is; the reasons read as a finding's words."""
    if not signs.moved:
        return DestinationReading(Destination.DEAD, "点击后无任何反应")
    if signs.status is not None and signs.status >= 400:
        return DestinationReading(Destination.DEAD, f"打开返回 HTTP {signs.status}（{signs.url}）")
    if signs.error_marker is not None:
        return DestinationReading(
            Destination.DEAD, f"打开为错误页面（{signs.error_marker}，{signs.url}）"
        )
    text = signs.text
    offline = re.search(offline_pattern or OFFLINE_WORDS, text)
    if offline:
        sentence = _sentence_around(text, offline.start(), offline.end())
        return DestinationReading(Destination.OFFLINE, f"提示“{sentence}”")
    if signs.passwords or re.search(login_pattern or LOGIN_WORDS, fold(signs.title)):
        return DestinationReading(Destination.LOGIN, f"进入登录页面（{signs.url}）")
    if signs.fields >= min_form_fields:
        return DestinationReading(Destination.FORM, f"进入申报页面（{signs.url}）")
    if _same_page(signs.url, guide_url):
        return DestinationReading(Destination.UNRELATED, "点击后仍停留在办事指南页面")
    if is_home(signs.url):
        return DestinationReading(
            Destination.UNRELATED, f"跳转至网站首页（{signs.url}），未进入申报页面"
        )
    return DestinationReading(
        Destination.UNKNOWN, f"打开的页面（{signs.url}）既非申报表单也非登录页面"
    )


def level_of(
    destination: Destination | None, *, visits: int | None, downloads: bool, precheck: bool
) -> Level:
    """The item's level from where its entry led (None: no entry) and what its guide holds.

    A login counts as an online application entry: the bot holds no account of each
    department system and never files an application, and a real application system
    begins with its login. 全程网办 (IV) needs the guide's 到现场次数 0 as well.
    """
    if destination in (Destination.FORM, Destination.LOGIN):
        return Level.IV if visits == 0 else Level.III
    return Level.II if downloads or precheck else Level.I


def is_home(url: str) -> bool:
    """Whether ``url`` is a site's home page (``/``, or a script portal's ``#/``)."""
    parts = urlsplit(url)
    return parts.path in ("", "/") and not parts.query and parts.fragment in ("", "/", "!/")


def _same_page(url: str, other: str) -> bool:
    a, b = urlsplit(url), urlsplit(other)
    return (a.netloc, a.path.rstrip("/"), a.query, a.fragment) == (
        b.netloc,
        b.path.rstrip("/"),
        b.query,
        b.fragment,
    )


def _sentence_around(text: str, start: int, end: int) -> str:
    """The sentence of ``text`` holding ``start:end``, at most 60 characters."""
    left = max(text.rfind(mark, 0, start) for mark in "。！\n；") + 1
    rights = [i for mark in "。！\n；" if (i := text.find(mark, end)) >= 0]
    right = min(rights) + 1 if rights else len(text)
    return " ".join(text[left:right].split())[:60]


# Runs in the destination page: title and headings, the main text, password and
# fillable fields (search boxes and hidden fields left out).
READ_DESTINATION_JS = r"""
() => {
  const clean = (t) => (t || '').replace(/\s+/g, ' ').trim();
  const root = document.querySelector('main, [role=main], #main, .main, #content, .content')
    || document.body;
  const visible = (el) => !!(el.offsetWidth || el.offsetHeight || el.getClientRects().length);
  const heads = Array.from(
    root.querySelectorAll('h1, h2, [role=heading]'), (h) => clean(h.innerText));
  let passwords = 0, fields = 0;
  const skip = /^(hidden|submit|button|reset|image|search|checkbox|radio)$/i;
  for (const el of document.querySelectorAll('input, textarea, select')) {
    if (!visible(el) && el.type !== 'file') continue;
    if (el.closest('[role=search], header, nav')) continue;
    if (el.type === 'password') { passwords += 1; continue; }
    if (el.tagName === 'INPUT' && skip.test(el.type)) continue;
    fields += 1;
  }
  return {
    title: clean([document.title, ...heads].join(' ')),
    text: (root.innerText || '').split('\n').map(clean).filter((t) => t).join('\n').slice(0, 4000),
    passwords, fields,
  };
}
"""

# Runs in the guide page: short texts of the main region that claim 全程网办/零跑动.
READ_CLAIMS_JS = r"""
(pattern) => {
  const re = new RegExp(pattern);
  const root = document.querySelector('main, [role=main], #main, .main, #content, .content')
    || document.body;
  const out = [];
  for (const el of root.querySelectorAll('*')) {
    if (el.children.length || el.closest('header, nav, footer, script, style')) continue;
    const text = (el.textContent || '').replace(/\s+/g, ' ').trim();
    if (text.length <= 30 && re.test(text)) out.push(text);
  }
  return out.slice(0, 10);
}
"""


def has_precheck(guide: GuidePage) -> bool:
    """Whether the guide offers an online pre-check of materials (level II)."""
    return any(PRECHECK_WORDS.search(e.label + e.value) for e in guide.entries)
