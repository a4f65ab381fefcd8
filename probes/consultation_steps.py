"""The citizen's side of a consultation desk, in the browser: find 我要咨询, fill the form,
keep the receipt (信件编号, 查询码); later, ask 咨询回复查询 whether a reply came.

Elements are found by label, placeholder and visible text (信件标题, 信件内容, 姓名, 手机,
查询码, 提交, 查询…); a target's ``selectors`` override any of them (names below), and its
``pages.consult`` / ``pages.consult_query`` skip the link hunting. Nothing here judges:
the probe turns these answers into outcomes.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from playwright.async_api import Locator, Page

from probes import locate
from probes.base import ProbeContext
from probes.consultation_state import CHINA, Consultation
from probes.form_fill import fill_fields, unfilled_required
from probes.landing import REACT_MS, act_and_land
from probes.readers import (
    MESSAGE_MAX_CHARS,
    QUERY_ENTRY,
    ReceiptCodes,
    quoted_message,
    read_receipt,
)

ENTRY_WORDS = re.compile(r"我要咨询|我要留言|我要写信|在线咨询|网上咨询|咨询投诉")
TITLE_WORDS = re.compile(r"标题|主题")
CONTENT_WORDS = re.compile(r"内容|问题描述|诉求|留言|咨询问题")
NAME_WORDS = re.compile(r"姓名|联系人|称呼")
PHONE_WORDS = re.compile(r"手机|联系电话|电话号码")
EMAIL_WORDS = re.compile(r"邮箱|e-?mail", re.IGNORECASE)
KIND_WORDS = re.compile(r"类型|类别|分类")
AGREE_WORDS = re.compile(r"同意|已阅读|已知晓|承诺")
CAPTCHA_WORDS = re.compile(r"验证码|校验码")
SUBMIT_WORDS = re.compile(r"^\s*(提\s*交|发\s*送|确\s*定|提交信件|提交咨询|我要提交)\s*$")
NUMBER_WORDS = re.compile(r"信件编号|咨询编号|受理编号|留言编号|编号")
CODE_WORDS = re.compile(r"查询码|查询密码|提取码|密码")
QUERY_WORDS = re.compile(r"^\s*(查\s*询|确\s*定|查看|提交)\s*$")

_STATUS = re.compile(r"(?:办理|处理|答复|回复|信件)状态[：:\s]*([^\s：:]{2,10})")
_REPLIED = re.compile(r"已答复|已回复|已办结|已处理|已反馈|办理完毕|已完成")
_WAITING = re.compile(r"待|未|处理中|办理中|受理中|已受理|已转办|转办中|审核中")
_REPLY_TEXT = re.compile(r"(?:答复内容|回复内容|答复意见|办理结果|处理结果)[：:\s]*(\S[^\n]{4,})")
_NOT_FOUND = re.compile(r"不正确|不存在|未找到|查无|没有找到|有误|不匹配")
_REPLY_TIME = re.compile(
    r"(?:答复|回复|办结|处理)(?:时间|日期)[：:\s]*(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?"
    r"(?:\s*(\d{1,2}):(\d{2}))?"
)
_UNFILLED = re.compile(r"请选择|请填写|不能为空|为必填|必填项|请输入|未填写|请勾选")
_DIALOG_CHROME = re.compile(
    r"^(温馨提示|系统提示|提示|消息|确定|确认|关闭|取消|知道了|我知道了|好的|返回|×|✕|ok)$", re.I
)
_TROUBLE = re.compile(r"失败|繁忙|异常|错误|出错|不能为空|请填写|请选择|有误")


@dataclass(frozen=True)
class Question:
    title: str
    content: str  # with the marker already written in


@dataclass(frozen=True)
class Contact:
    name: str
    phone: str
    email: str
    kind: str  # the 信件类型 to choose when the form asks
    fill: Mapping[str, str] = field(default_factory=dict)  # params.fill: fields we do not know


@dataclass(frozen=True)
class Reading:
    """How this target's pages are read, from the check's ``params`` (patterns)."""

    receipt_number_pattern: str | None = None
    receipt_code_pattern: str | None = None
    query_entry_pattern: str | None = None

    @property
    def query_entry(self) -> re.Pattern[str]:
        return re.compile(self.query_entry_pattern) if self.query_entry_pattern else QUERY_ENTRY


RECEIPT_SETTINGS = (
    "巡检项 params.receipt_code_pattern / receipt_number_pattern，"
    "或巡检对象 selectors.consult_receipt_code / consult_receipt_number"
)
QUERY_ENTRY_SETTINGS = (
    "巡检对象 pages.consult_query 或 selectors.consult_query_entry，"
    "或巡检项 params.query_entry_pattern"
)


@dataclass(frozen=True)
class Receipt:
    entry: str
    letter_no: str
    query_code: str
    evidence: str  # screenshot of the receipt page
    query_url: str  # 咨询回复查询 as linked from the receipt page ("" when not linked)


@dataclass(frozen=True)
class Refusal:
    """The portal did not take the question; ``reason`` says where and how, in Chinese."""

    entry: str
    reason: str


@dataclass(frozen=True)
class Unjudgeable:
    """We cannot tell whether the desk works (a CAPTCHA, a page we cannot read)."""

    reason: str
    submitted: bool = False  # the question went out, but its receipt could not be read


class ReplyStatus(StrEnum):
    REPLIED = "replied"
    WAITING = "waiting"
    UNKNOWN_LETTER = "unknown_letter"  # the portal says our number or code is wrong
    BROKEN = "broken"  # the query page is missing or errs
    UNREADABLE = "unreadable"  # a page we cannot read a status from


@dataclass(frozen=True)
class QueryAnswer:
    status: ReplyStatus
    reason: str = ""
    replied_at: dt.datetime | None = None  # as the portal states it
    reply: str = ""


async def submit_question(
    ctx: ProbeContext, page: Page, question: Question, contact: Contact, reading: Reading
) -> Receipt | Refusal | Unjudgeable:
    """Put the question through 我要咨询 as a citizen would; the receipt, or why not.

    A Refusal needs the portal's own word (an error message, an HTTP error, a configured
    element missing); a page this probe cannot read is Unjudgeable, naming the setting.
    """
    opened = await _open_consult_page(ctx, page)
    if isinstance(opened, Refusal | Unjudgeable):
        return opened
    entry = opened
    content = await _field(page, ctx.selector("consult_content"), CONTENT_WORDS, "textarea")
    if content is None:  # the form may open in a dialog behind a button (我要写信)
        content = await _open_form_dialog(ctx, page)
    if content is None:
        await ctx.evidence.capture(page, "consult-no-form")
        if ctx.selector("consult_content"):
            return Refusal(entry, f"我要咨询页面（{page.url}）未找到填写咨询内容的表单")
        return Unjudgeable(
            f"未能在我要咨询页面（{page.url}）识别填写咨询内容的输入框；"
            "请配置巡检对象 selectors.consult_content"
        )
    if await _field(page, ctx.selector("consult_captcha"), CAPTCHA_WORDS) is not None:
        return Unjudgeable("“我要咨询”表单需要图形验证码，无法自动提交；请为巡检配置免验证码通道")
    await _choose_kind(page, contact.kind)
    title = await _field(page, ctx.selector("consult_title"), TITLE_WORDS)
    if title is not None:
        await title.fill(question.title)
    await content.fill(question.content)
    for selector, words, value in (
        (ctx.selector("consult_name"), NAME_WORDS, contact.name),
        (ctx.selector("consult_phone"), PHONE_WORDS, contact.phone),
        (ctx.selector("consult_email"), EMAIL_WORDS, contact.email),
    ):
        box = await _field(page, selector, words)
        if box is not None and value:
            await box.fill(value)
    await _agree(page)
    unmatched = await fill_fields(page, contact.fill)
    unknown = await unfilled_required(page)
    if unmatched or unknown:
        await ctx.evidence.capture(page, "consult-unknown-required")
        named = "、".join(f"“{name}”" for name in [*unmatched, *unknown])
        return Unjudgeable(
            f"“我要咨询”表单的必填项{named}巡检无法填写；请在 params.fill 中按标签或 CSS 配置，"
            "如 fill: {所属部门: 省市场监督管理局}"
        )
    button = await _button(page, ctx.selector("consult_submit"), SUBMIT_WORDS, "textarea")
    if button is None:
        await ctx.evidence.capture(page, "consult-no-submit")
        if ctx.selector("consult_submit"):
            return Refusal(entry, f"我要咨询页面（{page.url}）未找到“提交”按钮")
        return Unjudgeable(
            f"未能在我要咨询页面（{page.url}）识别“提交”按钮；"
            "请配置巡检对象 selectors.consult_submit"
        )
    status = await _click_and_wait(page, button, ctx.nav_timeout_ms)
    if status is not None and status >= 400:
        await ctx.evidence.capture(page, f"consult-submit-http-{status}")
        return Refusal(entry, f"提交咨询后返回 HTTP {status}")
    codes = await _receipt_codes(ctx, page, reading)
    if not codes.found:
        await ctx.evidence.capture(page, "consult-submit-unread")
        message = await page_message(page)
        if message and _UNFILLED.search(message):
            # The form's own check of a field this probe did not fill (a required 所属部门
            # select): our gap, not the portal's.
            return Unjudgeable(
                f"提交咨询后表单提示“{message}”，巡检未能填写该必填项；"
                "请配置巡检对象 selectors 中对应的输入框（consult_title、consult_name、"
                "consult_phone…）或巡检项 params.kind"
            )
        if message:
            return Refusal(entry, f"提交咨询后页面提示“{message}”")
        said = " ".join((await page.locator("main, body").first.inner_text()).split())[:80]
        return Unjudgeable(
            f"提交咨询后未能在页面（{page.url}）上读出信件编号或查询码（页面显示“{said}”），"
            f"无法判断是否提交成功；请配置{RECEIPT_SETTINGS}",
            submitted=True,
        )
    await ctx.evidence.capture(page, "consult-receipt")
    shot = ctx.evidence.screenshots[-1] if ctx.evidence.screenshots else ""
    link = await _link(page, ctx.selector("consult_query_entry"), reading.query_entry)
    query_url = ctx.absolute(await link.get_attribute("href") or "") if link else ""
    return Receipt(entry, codes.letter_no, codes.query_code, shot, query_url)


async def _receipt_codes(ctx: ProbeContext, page: Page, reading: Reading) -> ReceiptCodes:
    """信件编号 and 查询码 on the receipt page: configured elements first, then the text."""
    text = await page.locator("body").inner_text()
    read = read_receipt(
        text,
        number_pattern=reading.receipt_number_pattern,
        code_pattern=reading.receipt_code_pattern,
    )
    number, code = read.letter_no, read.query_code
    for name, slot in (("consult_receipt_number", 0), ("consult_receipt_code", 1)):
        selector = ctx.selector(name)
        if not selector:
            continue
        shown = await locate.first_visible([page.locator(selector)])
        value = " ".join((await shown.inner_text()).split()) if shown is not None else ""
        if slot == 0:
            number = value
        else:
            code = value
    return ReceiptCodes(number, code)


async def query_reply(
    ctx: ProbeContext, page: Page, asked: Consultation, reading: Reading
) -> QueryAnswer:
    """Ask 咨询回复查询 about ``asked`` with its number and 查询码."""
    if "consult_query" in ctx.target.pages or not asked.query_url:
        broken = await _open_query_page(ctx, page, reading)
    else:
        broken = await _goto_query_page(ctx, page, asked.query_url)
        if broken is not None:  # moved since the receipt: find it again as a citizen would
            broken = await _open_query_page(ctx, page, reading)
    if broken is not None:
        return broken
    number_box = await _field(page, ctx.selector("query_number"), NUMBER_WORDS)
    code_box = await _field(page, ctx.selector("query_code"), CODE_WORDS)
    if asked.query_code and code_box is None:
        await ctx.evidence.capture(page, "consult-query-no-code")
        if ctx.selector("query_code"):
            return QueryAnswer(
                ReplyStatus.BROKEN, f"咨询回复查询页面（{page.url}）未找到查询码输入框"
            )
        return QueryAnswer(
            ReplyStatus.UNREADABLE,
            f"未能在咨询回复查询页面（{page.url}）识别查询码输入框；"
            "请配置巡检对象 selectors.query_code",
        )
    if number_box is not None and asked.letter_no:
        await number_box.fill(asked.letter_no)
    if code_box is not None and asked.query_code:
        await code_box.fill(asked.query_code)
    anchor = "input" if code_box is None else None
    button = await _button(page, ctx.selector("query_submit"), QUERY_WORDS, anchor)
    if button is None:
        if ctx.selector("query_submit"):
            return QueryAnswer(
                ReplyStatus.BROKEN, f"咨询回复查询页面（{page.url}）未找到“查询”按钮"
            )
        return QueryAnswer(
            ReplyStatus.UNREADABLE,
            f"未能在咨询回复查询页面（{page.url}）识别“查询”按钮；"
            "请配置巡检对象 selectors.query_submit",
        )
    status = await _click_and_wait(page, button, ctx.nav_timeout_ms)
    if status is not None and status >= 400:
        await ctx.evidence.capture(page, f"consult-query-http-{status}")
        return QueryAnswer(ReplyStatus.BROKEN, f"查询时返回 HTTP {status}")
    region = ctx.selector("query_result") or "main"
    if await page.locator(region).count() == 0:
        region = "body"
    text = await page.locator(region).first.inner_text()
    return _read_answer(text, asked)


def _read_answer(text: str, asked: Consultation) -> QueryAnswer:
    replied_at = _reply_time(text)
    reply = _first(_REPLY_TEXT, text)
    status = _first(_STATUS, text)
    if status and _REPLIED.search(status):
        return QueryAnswer(ReplyStatus.REPLIED, replied_at=replied_at, reply=reply)
    if status and _WAITING.search(status):
        return QueryAnswer(ReplyStatus.WAITING)
    if reply:
        return QueryAnswer(ReplyStatus.REPLIED, replied_at=replied_at, reply=reply)
    ours = (asked.letter_no and asked.letter_no in text) or asked.marker in text
    if not ours and (match := _NOT_FOUND.search(text)):
        line = next(line for line in text.splitlines() if match.group(0) in line)
        return QueryAnswer(ReplyStatus.UNKNOWN_LETTER, f"页面提示“{line.strip()[:80]}”")
    if _WAITING.search(text) and ours:
        return QueryAnswer(ReplyStatus.WAITING)
    return QueryAnswer(
        ReplyStatus.UNREADABLE,
        "咨询回复查询结果页面上读不出办理状态；请配置巡检对象 selectors.query_result",
    )


async def _open_consult_page(ctx: ProbeContext, page: Page) -> str | Refusal | Unjudgeable:
    """Open 我要咨询 (configured page, else the home page's link); how we got there."""
    if "consult" in ctx.target.pages:
        url = ctx.url("consult")
        entry = f"我要咨询（{url}）"
    else:
        home = ctx.url("home", "/")
        response = await ctx.goto(page, home)
        if response is not None and response.status >= 400:
            return Refusal("", f"打开首页（{home}）返回 HTTP {response.status}")
        link = await _link(page, ctx.selector("consult_entry"), ENTRY_WORDS)
        if link is None:
            await ctx.evidence.capture(page, "home-no-consult-entry")
            if ctx.selector("consult_entry"):
                return Refusal("", "首页未找到“我要咨询”入口")
            return Unjudgeable(
                f"未能在首页（{home}）识别“我要咨询”入口；"
                "请配置巡检对象 pages.consult 或 selectors.consult_entry"
            )
        url = ctx.absolute(await link.get_attribute("href") or "")
        entry = f"首页—{' '.join((await link.inner_text()).split())}"
    response = await ctx.goto(page, url)
    if response is not None and response.status >= 400:
        await ctx.evidence.capture(page, "consult-page-error")
        return Refusal(entry, f"打开咨询页面（{url}）返回 HTTP {response.status}")
    if await locate.looks_like_error_page(page, locate.ERROR_MARKERS):
        await ctx.evidence.capture(page, "consult-page-error")
        return Refusal(entry, f"打开咨询页面（{url}）显示错误页面")
    return entry


async def _open_query_page(ctx: ProbeContext, page: Page, reading: Reading) -> QueryAnswer | None:
    """Open 咨询回复查询; a BROKEN answer when it errs, UNREADABLE when it cannot be found.

    The entry is looked for on 我要咨询, then on the home page, under any of its common
    names (咨询回复查询, 办理结果查询, 信件查询, 我的咨询…).
    """
    if "consult_query" in ctx.target.pages:
        return await _goto_query_page(ctx, page, ctx.url("consult_query"))
    configured = ctx.selector("consult_query_entry")
    opened = await _open_consult_page(ctx, page)
    if isinstance(opened, Refusal):
        return QueryAnswer(ReplyStatus.BROKEN, opened.reason)
    link = None
    if not isinstance(opened, Unjudgeable):
        link = await _link(page, configured, reading.query_entry)
    if link is None:
        home = ctx.url("home", "/")
        response = await ctx.goto(page, home)
        if response is not None and response.status >= 400:
            return QueryAnswer(ReplyStatus.BROKEN, f"打开首页（{home}）返回 HTTP {response.status}")
        link = await _link(page, configured, reading.query_entry)
    if link is None:
        await ctx.evidence.capture(page, "consult-no-query-entry")
        if configured:
            return QueryAnswer(ReplyStatus.BROKEN, "我要咨询页面未找到“咨询回复查询”入口")
        return QueryAnswer(
            ReplyStatus.UNREADABLE,
            f"未能在我要咨询页面和首页识别咨询回复查询入口；请配置{QUERY_ENTRY_SETTINGS}",
        )
    url = ctx.absolute(await link.get_attribute("href") or "")
    return await _goto_query_page(ctx, page, url)


async def _goto_query_page(ctx: ProbeContext, page: Page, url: str) -> QueryAnswer | None:
    response = await ctx.goto(page, url)
    if response is not None and response.status >= 400:
        await ctx.evidence.capture(page, "consult-query-error")
        return QueryAnswer(
            ReplyStatus.BROKEN, f"打开咨询回复查询页面（{url}）返回 HTTP {response.status}"
        )
    return None


async def _link(page: Page, configured: str | None, words: re.Pattern[str]) -> Locator | None:
    if configured:
        return await locate.first_visible([page.locator(configured)], locate.EXPECT_MS)
    return await locate.first_visible([page.get_by_role("link", name=words)], locate.EXPECT_MS)


async def _field(
    page: Page, configured: str | None, words: re.Pattern[str], fallback: str | None = None
) -> Locator | None:
    return await locate.first_visible(_field_candidates(page, configured, words, fallback))


def _field_candidates(
    page: Page, configured: str | None, words: re.Pattern[str], fallback: str | None = None
) -> list[Locator]:
    """Where a field named by ``words`` may be, most telling first."""
    if configured:
        return [page.locator(configured)]
    candidates = [page.get_by_label(words), page.get_by_placeholder(words)]
    if fallback:
        candidates.append(page.locator(fallback))
    return candidates


async def _button(
    page: Page, configured: str | None, words: re.Pattern[str], form_with: str | None
) -> Locator | None:
    if configured:
        return await locate.first_visible([page.locator(configured)])
    candidates = [page.get_by_role("button", name=words)]
    if form_with:  # the submit button of the form holding the fields, not the site search
        candidates.append(page.locator(f"form:has({form_with}) [type=submit]"))
    return await locate.first_visible(candidates)


async def _choose_kind(page: Page, kind: str) -> None:
    """Pick the 信件类型 option naming ``kind`` when the form has such a list."""
    listing = await locate.first_visible([page.get_by_label(KIND_WORDS)])
    if listing is None or await listing.evaluate("e => e.tagName") != "SELECT":
        return
    options = await listing.locator("option").all_inner_texts()
    wanted = next((text.strip() for text in options if kind in text), None)
    if wanted is not None:
        await listing.select_option(label=wanted)


async def _agree(page: Page) -> None:
    """Tick 我已阅读并同意… boxes: a citizen has to, to send anything."""
    boxes = page.get_by_label(AGREE_WORDS)
    for index in range(await boxes.count()):
        box = boxes.nth(index)
        if await box.get_attribute("type") == "checkbox" and not await box.is_checked():
            await box.check()


async def _click_and_wait(page: Page, button: Locator, wait_ms: int) -> int | None:
    """Click and wait for what it starts (a page, a ``#/`` route, an API answer) to land;
    the HTTP status of the page it leads to (None when it updated in place). A message
    shown in place (a toast gone after 3 s) is on the page when this returns."""
    landing = await act_and_land(page, button.click, wait_ms, react_ms=min(wait_ms, REACT_MS))
    return landing.status


async def _open_form_dialog(ctx: ProbeContext, page: Page) -> Locator | None:
    """Press the button that opens the letter form (我要写信…) and wait for its content field."""
    opener = await locate.first_visible(
        [page.get_by_role("button", name=ENTRY_WORDS), page.get_by_role("link", name=ENTRY_WORDS)],
        locate.EXPECT_MS,
    )
    if opener is None:
        return None
    # The form may open in place (a dialog: nothing loads) or on its own page or route.
    candidates = _field_candidates(page, ctx.selector("consult_content"), CONTENT_WORDS, "textarea")
    content = functools.reduce(Locator.or_, candidates).filter(visible=True)
    await act_and_land(page, opener.click, ctx.nav_timeout_ms, react_ms=REACT_MS, appears=content)
    return await locate.first_visible(candidates)


async def page_message(page: Page) -> str:
    """What the page says went wrong: an alert, else the first line that sounds like it."""
    alert = await locate.first_visible(
        [page.get_by_role("alert"), page.get_by_role("status"), page.locator(".toast")]
    )
    text = await (alert or page.locator("main, body").first).inner_text()
    # A select's options (请选择部门) are choices, not something the page says.
    options = {" ".join(t.split()) for t in await page.locator("option").all_inner_texts()}
    lines = [" ".join(line.split()) for line in text.splitlines() if line.strip()]
    lines = [line for line in lines if line not in options]
    if alert is not None:
        # The dialog's words, without its heading and buttons (提示 … 确定).
        said = "".join(line for line in lines if not _DIALOG_CHROME.match(line))
        return said[:MESSAGE_MAX_CHARS].rstrip("。.!！")
    troubled = [line for line in lines if _TROUBLE.search(line)]
    # The message itself, not the form row it stands in (label, input, hint).
    return quoted_message(troubled[0], _TROUBLE) if troubled else ""


def _reply_time(text: str) -> dt.datetime | None:
    match = _REPLY_TIME.search(text)
    if match is None:
        return None
    year, month, day, hour, minute = (int(part) if part else 0 for part in match.groups())
    try:
        return dt.datetime(year, month, day, hour, minute, tzinfo=CHINA)
    except ValueError:
        return None


def _first(pattern: re.Pattern[str], text: str) -> str:
    match = pattern.search(text)
    return match.group(1).strip() if match else ""
