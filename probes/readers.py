"""Tolerant readers of what Chinese government portals print, without a browser.

Each reader knows the common wordings of many portals, not one site's: receipt codes
(信件编号 ZX…, 您的信件查询码为：YL…), query entries (咨询回复查询, 办理结果查询, 我的咨询…),
telephone numbers (area codes, mobiles, 12345-style hotlines with or without area code),
material formats (原件/复印件 say paper), time limits (工作日, 自然日, 小时…) and greetings
of a signed-in citizen (您好，张三 / 退出登录). Probes call them on page text; a target may
override each with a pattern (check ``params``) or a selector (target ``selectors``).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum


def fold(text: str) -> str:
    """Full-width letters, digits and colons folded to ASCII (ＹＬ２０２６：→ YL2026:)."""
    return unicodedata.normalize("NFKC", text)


# -- receipts ------------------------------------------------------------------------------

NUMBER_LABELS = (
    "信件编号",
    "咨询编号",
    "受理编号",
    "留言编号",
    "办件编号",
    "业务编号",
    "投诉编号",
    "信件号",
    "受理号",
    "办件号",
)
CODE_LABELS = ("查询码", "查询密码", "提取码", "查询编码", "查询编号")
# Between a label and its value: 为/是, a colon, spaces, an opening quote or bracket.
_JOIN = r"\s*(?:为|是)?\s*[:：]?\s*[\"“「【\[(（]?\s*"
_VALUE = r"([A-Za-z0-9][A-Za-z0-9-]{2,39})"


def _labelled(labels: tuple[str, ...]) -> re.Pattern[str]:
    # A number label must not be the tail of a code label (信件查询码 is a code, not a number).
    return re.compile(f"(?:{'|'.join(labels)}){_JOIN}{_VALUE}")


_NUMBER = _labelled(NUMBER_LABELS)
_CODE = _labelled(CODE_LABELS)


@dataclass(frozen=True)
class ReceiptCodes:
    """What a receipt gives to find the letter again; both "" when nothing was read."""

    letter_no: str = ""
    query_code: str = ""

    @property
    def found(self) -> bool:
        return bool(self.letter_no or self.query_code)


def _first_code(pattern: re.Pattern[str], text: str) -> str:
    for match in pattern.finditer(text):
        value = match.group(1).strip("-")
        if value:
            return value
    return ""


def read_receipt(
    text: str, *, number_pattern: str | None = None, code_pattern: str | None = None
) -> ReceiptCodes:
    """The 信件编号 and 查询码 printed on a receipt page.

    ``提交成功！您的信件查询码为：YL202612030123，请妥善保存。`` reads as query code
    ``YL202612030123``. A configured pattern (its first group, else the whole match)
    replaces the built-in labels for its part.
    """
    folded = fold(text)
    number = _configured(number_pattern, folded) if number_pattern else _first_code(_NUMBER, folded)
    code = _configured(code_pattern, folded) if code_pattern else _first_code(_CODE, folded)
    if number and number == code:  # one value printed under two names is a code
        number = ""
    return ReceiptCodes(number, code)


def _configured(pattern: str, text: str) -> str:
    match = re.search(pattern, text)
    if match is None:
        return ""
    return (match.group(1) if match.groups() else match.group(0)).strip()


# -- query entries ---------------------------------------------------------------------------

QUERY_ENTRY = re.compile(
    r"咨询回复查询|回复查询|答复查询|信件查询|留言查询|办理结果查询|结果查询|咨询查询|投诉查询"
    r"|办件查询|进度查询|查询办理结果|查询答复|查询回复|我的咨询|我的留言|我的信件|我的投诉"
)


def is_query_entry(text: str, pattern: str | None = None) -> bool:
    """Whether a link's text leads to the query of letters (咨询回复查询, 办理结果查询…)."""
    words = re.compile(pattern) if pattern else QUERY_ENTRY
    return bool(words.search(" ".join(fold(text).split())))


# -- telephone numbers -----------------------------------------------------------------------


class PhoneKind(StrEnum):
    LANDLINE = "landline"  # with its area code: 0871-63215071
    MOBILE = "mobile"
    HOTLINE = "hotline"  # 12345, 0871-12345, 95xxx, 400 numbers: no area code needed
    LOCAL = "local"  # 7 or 8 digits without an area code


@dataclass(frozen=True)
class Phone:
    text: str
    digits: str
    kind: PhoneKind


_AREA = r"[(（]?0\d{2,3}[)）]?[-－—–\s]?"
# Government service hotlines are 123xx (12345 政务服务, 12315 市场监管, 12366 税务, 12369
# 环保, 12333 人社…); a city's own is printed with its area code: 0871-12345.
_PHONE = re.compile(
    rf"(?P<hotline>(?<![\d-])(?:(?:{_AREA})?123\d{{2}}|[48]00[-\s]?\d{{3}}[-\s]?\d{{4}}"
    rf"|9[56]\d{{3,4}})(?![\d-]))"
    rf"|(?P<landline>(?<![\d-]){_AREA}\d{{7,8}}(?:[-－转]\d{{1,5}})?(?!\d))"
    r"|(?P<mobile>(?<![\d-])(?:\+?86[-\s]?)?1[3-9]\d{9}(?!\d))"
    r"|(?P<local>(?<![\d-])\d{7,8}(?![\d-]))"
)


def phones_in(text: str, hotline_pattern: str | None = None) -> list[Phone]:
    """The telephone numbers printed in ``text``, each with its kind; ``hotline_pattern``
    (a regex) adds numbers that need no area code (a province's own 96xxx line)."""
    pattern = _PHONE
    if hotline_pattern:
        extra = rf"(?P<extra>(?<![\d-])(?:{hotline_pattern})(?![\d-]))"
        pattern = re.compile(f"{extra}|{_PHONE.pattern}")
    found = []
    for match in pattern.finditer(fold(text)):
        group = match.lastgroup or "local"
        kind = PhoneKind.HOTLINE if group == "extra" else PhoneKind(group)
        found.append(Phone(match.group(), re.sub(r"\D", "", match.group()), kind))
    return found


# -- material formats ------------------------------------------------------------------------

# 原件 and 复印件 are paper by nature; 扫描件 and PDF are electronic: each states the medium.
Aspects = tuple[tuple[str, re.Pattern[str]], ...]  # (aspect, the words that state it)
MATERIAL_FORMAT_ASPECTS: Aspects = (
    ("原件/复印件", re.compile(r"原件|复印件|复制件|影印件|副本|正本")),
    (
        "纸质/电子",
        re.compile(r"纸质|电子|原件|复印件|复制件|影印件|打印件|扫描件|PDF|pdf|书面"),
    ),
    # “2份”, or a bare number under a 份数 column (its cells are read as “份数：1”).
    (
        "份数",
        re.compile(
            r"[0-9一二两三四五六七八九十]+\s*[份张本套]|份数[:：]\s*[0-9一二两三四五六七八九十]+"
        ),
    ),
)


def format_aspects(overrides: Mapping[str, str] | None = None) -> Aspects:
    """The format aspects with a target's own words for some of them (aspect → regex)."""
    overrides = overrides or {}
    return tuple(
        (name, re.compile(overrides[name]) if name in overrides else words)
        for name, words in MATERIAL_FORMAT_ASPECTS
    )


def unsaid_format_aspects(
    row_text: str, aspects: Aspects = MATERIAL_FORMAT_ASPECTS
) -> tuple[str, ...]:
    """The format aspects a material's row says nothing of (原件/复印件, 纸质/电子, 份数)."""
    folded = fold(row_text)
    return tuple(name for name, words in aspects if not words.search(folded))


# -- time limits -----------------------------------------------------------------------------

CLEAR_TIME_LIMIT = re.compile(
    r"工作日|自然日|日历日|小时|个月|即办|即时|当场|立即|立办|现场办结|当日办结|当天办结|实时"
)


def time_limit_is_clear(value: str, pattern: str | None = None) -> bool:
    """Whether a time limit says which days it counts (20个工作日, 30个自然日, 2小时, 即办)."""
    words = re.compile(pattern) if pattern else CLEAR_TIME_LIMIT
    return bool(words.search(fold(value)))


# -- greetings / signed-in state ---------------------------------------------------------------

_GREETING = re.compile(
    r"(?:您好|你好|欢迎您?|欢迎回来)[,，:：!！\s]*(?P<after>[^\s,，:：!！|｜()（）]{2,12})"
    r"|(?P<before>[^\s,，:：!！|｜()（）]{2,12})[,，\s]*(?:您好|你好)"
)
SIGNED_IN_WORDS = re.compile(r"退出登录|安全退出|注销登录|退出")
SIGNED_OUT_WORDS = re.compile(r"请登录|登录\s*[/|｜]?\s*注册|立即登录|用户登录|^\s*登录\s*$", re.M)


@dataclass(frozen=True)
class Greeting:
    """What a page says about who is signed in."""

    signed_in: bool
    name: str = ""  # the name it greets, when it greets one


def read_greeting(text: str, expected: str | None = None) -> Greeting:
    """Whether ``text`` (a page's header) shows a signed-in citizen, and whom it greets.

    With ``expected`` (the target's configured ``user_text``) only that text counts.
    Otherwise a greeting (您好，张三) or a sign-out control (退出登录) without a
    sign-in prompt says signed in.
    """
    folded = fold(text)
    if expected:
        return Greeting(expected in folded, expected if expected in folded else "")
    match = _GREETING.search(folded)
    name = ""
    if match is not None:
        name = match.group("after") or match.group("before") or ""
        if re.search(r"登录|注册|访问|来到|使用", name):
            name = ""  # 欢迎访问… / 您好，请登录 greet no one
    signed_out = bool(SIGNED_OUT_WORDS.search(folded))
    signed_in = bool(SIGNED_IN_WORDS.search(folded)) and not signed_out
    return Greeting(signed_in or (bool(name) and not signed_out), name)


# -- search results --------------------------------------------------------------------------

NO_RESULTS = re.compile(
    r"未找到|没有找到|找不到|未搜索到|没有搜索到|无相关|暂无(相关)?(结果|数据|信息|事项|内容)"
    r"|共\s*(找到\s*)?0\s*(条|个|项)|0\s*条结果|抱歉"
)


def says_no_results(text: str) -> bool:
    """Whether a results page says it found nothing (未找到相关结果, 共 0 条…)."""
    return bool(NO_RESULTS.search(fold(text)))


# -- refusals of a phone number ----------------------------------------------------------------

# What a message names when it refuses the number itself (not its SMS, not a code). Not
# 不存在: a registration page's availability check saying 手机号不存在 means "free to use".
_NUMBER_NOUN = re.compile(r"手机|号码|号段|电话|mobile|phone", re.IGNORECASE)
_NUMBER_VERDICT = re.compile(
    r"不正确|不对|有误|错误|无效|不合法|非法|不支持|不符合|不可用|不允许|不能使用|受限|"
    r"请输入正确|请填写正确|请输入有效|请输入合法|请更换|invalid|incorrect|not supported",
    re.IGNORECASE,
)
# Codes named in a message are not the number: 手机验证码错误 refuses a code.
_CODE_WORDS = re.compile(r"(手机|短信|图形|图片)?(验证码|校验码|动态码)")
# A refusal that says only "not now": the request itself (perhaps the monitor's own pace).
BUSY_REFUSAL = re.compile(r"频繁|过于频繁|次数|上限|太快|稍后|稍候|繁忙|忙碌|排队|超时|请勿重复")
# A message that says the sending failed: the portal's SMS, not the number, is at fault.
SEND_FAILED = re.compile(r"失败|无法发送|发送异常|未能发送|不能发送")
_CLAUSES = re.compile(r"[，,。；;！!？?\n]+")
QUOTE_LIMIT = 30  # characters of a quoted refusal


def read_number_rejection(text: str, pattern: str | None = None) -> str:
    """The words in ``text`` that refuse a phone number (手机号码格式不正确, 暂不支持该号段,
    该号码无效…), short enough to quote; "" when ``text`` does not refuse the number.

    A clause counts when it names the number (手机/号码/号段) and a verdict on it (不正确,
    无效, 不支持…); a code named in it (手机验证码错误) is not the number. The quote is the
    clause, or within a whole form line (words separated by spaces) the part that refuses.
    A configured ``pattern`` replaces these words (its first group, else the match).
    """
    folded = fold(text)
    if pattern:
        return _configured(pattern, folded)[:QUOTE_LIMIT]
    for clause in _CLAUSES.split(folded):
        if not _refuses_number(clause):
            continue
        parts = [part for part in clause.split() if _refuses_number(part)]
        quote = (parts[0] if parts else " ".join(clause.split())).strip()
        return quote[:QUOTE_LIMIT]
    return ""


def _refuses_number(words: str) -> bool:
    bare = _CODE_WORDS.sub("", words)
    return bool(_NUMBER_NOUN.search(bare) and _NUMBER_VERDICT.search(bare))


def is_busy_refusal(text: str) -> bool:
    """Whether a refusal says only "not now" (操作过于频繁, 系统繁忙，请稍后再试) and not
    that sending failed (短信发送失败，请稍后再试 says the portal's SMS is broken)."""
    folded = fold(text)
    return bool(BUSY_REFUSAL.search(folded)) and not SEND_FAILED.search(folded)


_SUCCESS_FLAGS = ("ok", "success", "valid", "available", "usable")
_STATUS_KEYS = ("code", "status", "errcode", "errCode", "resultCode", "retCode")
_SUCCESS_STATUSES = frozenset({"0", "200", "ok", "success", "true"})


def read_number_rejection_in_answer(data: object, pattern: str | None = None) -> str:
    """The words of a portal's JSON answer (a blur-time availability check, a code request)
    that refuse the number; "" when it does not, or when the answer says it succeeded
    (``ok: true``, ``code: 0``, ``status: "ok"``…): a hint carried by a success is no refusal."""
    if isinstance(data, dict) and (
        any(data.get(key) is True for key in _SUCCESS_FLAGS)
        or any(
            key in data and str(data[key]).strip().lower() in _SUCCESS_STATUSES
            for key in _STATUS_KEYS
        )
    ):
        return ""
    for text in _strings(data, depth=3):
        quote = read_number_rejection(text, pattern)
        if quote:
            return quote
    return ""


def _strings(data: object, depth: int) -> list[str]:
    if isinstance(data, str):
        return [data]
    if depth <= 0:
        return []
    values = data.values() if isinstance(data, dict) else data if isinstance(data, list) else ()
    return [text for value in values for text in _strings(value, depth - 1)]


# -- form and refusal messages ---------------------------------------------------------------

# Where a message ends: a sentence mark, or the gap between a form row's label, its
# inputs' text and its hint (which read as one line of page text).
_PIECES = re.compile(r"\s+|(?<=[。！!？?；;])")
_LEAD_IN = re.compile(r"[:：]$")
MESSAGE_MAX_CHARS = 120


def quoted_message(text: str, pattern: re.Pattern[str]) -> str:
    """The message itself out of the text around it, to quote in a finding: of a form row
    (``* 联系电话 13800 联系电话格式有误``) or a dialog (``提示 / 提交失败，请稍后重试 / 确定``),
    the sentence that says what went wrong (``联系电话格式有误``), without its end mark.

    The last piece that says it wins (a row's hint comes after its select's 请选择), with
    the piece before it when that one leads in with a colon (``提交失败：``); text in which
    ``pattern`` finds nothing is returned whole (spaces folded), trimmed to its length.
    """
    folded = " ".join(text.split())
    pieces = [piece for piece in _PIECES.split(folded) if piece]
    hits = [i for i, piece in enumerate(pieces) if pattern.search(piece)]
    if not hits:
        said = folded
    else:
        hit = hits[-1]
        said = pieces[hit]
        if hit > 0 and _LEAD_IN.search(pieces[hit - 1]):
            said = pieces[hit - 1] + said
    return said[:MESSAGE_MAX_CHARS].rstrip("。.!！；;")
