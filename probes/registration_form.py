"""A registration form as a citizen meets it: its phone field, what it says about a number,
its 获取验证码 button, its CAPTCHA.

How a number's format verdict is read without requesting an SMS: the number is typed into
the phone field and the field is left (blur), which is when forms validate. The page is
then given time to react — two animation frames for in-page scripts, then every request
the typing set off (a server-side format check) until it ends, then ``settle_ms`` more for
debounced checks. The verdict is "rejected" when the field is invalid by HTML constraint
(``pattern``, ``type``), is marked ``aria-invalid``, or a new message with rejection words
(不对, 不正确, 有误, 请输入正确…) appeared in the field's row, in an alert/toast, or in a
dialog, or the JSON answer of a check the page made when the field was left (an availability
check) refuses the number even though the page shows nothing. "New" means absent before the
first number was typed, so static hints never count.

The server's own check at 获取验证码 is met only with a real number: the probe requests a code
for one of the operator's test SIMs per run (``request_code``), and a refusal worded as a
rejection of the number is that segment's verdict.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from dataclasses import dataclass, field
from typing import Any

from playwright.async_api import Dialog, Locator, Page, Request, Response
from playwright.async_api import Error as PlaywrightError
from playwright.async_api import TimeoutError as PlaywrightTimeout

from probes import locate
from probes.readers import read_number_rejection, read_number_rejection_in_answer

ENTRY_WORDS = re.compile(r"^\s*(用户|个人|免费|立即|新用户)?注\s*册(账号|账户)?\s*$")
FORM_WORDS = {
    "personal": re.compile(r"个人(用户)?注册|自然人(用户)?注册|个人用户|个人注册"),
    "legal": re.compile(r"法人(用户)?注册|企业(用户)?注册|单位(用户)?注册|法人用户|法人注册"),
}
PHONE_WORDS = re.compile(r"手机|移动电话|mobile|phone", re.IGNORECASE)
CODE_BUTTON_WORDS = re.compile(r"(获取|发送|免费获取).{0,4}(验证码|校验码|动态码)")
SUBMIT_WORDS = re.compile(r"^\s*(立即|同意协议并|提交|完成)?\s*注\s*册\s*$|提交注册|完成注册")
REJECTION = re.compile(
    r"不正确|不对|有误|错误|无效|不合法|非法|不支持|不符合|请输入正确|请填写正确|请输入有效|"
    r"请输入合法|invalid|incorrect|wrong",
    re.IGNORECASE,
)
CODE_SENT = re.compile(r"已发送|发送成功|已下发|请注意查收|请查收|验证码已")
CODE_REFUSED = re.compile(
    r"失败|错误|不对|不正确|异常|频繁|稍后|稍候|繁忙|不能|无法|暂停|超时|过期|非法|限制|上限|"
    r"不支持|过多|重试"
)
COUNTDOWN = re.compile(r"\d+\s*(s|秒)|重新(获取|发送)", re.IGNORECASE)
CAPTCHA_WORDS = re.compile(r"图形验证码|图片验证码|滑块|安全验证|拼图|人机验证")

# Lines of text a field's row, the page's alerts and toasts show; run in the page. With
# ``leave`` the field is left first (blur, as a citizen tabbing on) and two frames pass so
# in-page validation has run: one round trip per number, as the sweep types dozens.
_MESSAGES_JS = """
async (input, [wholeForm, leave]) => {
  if (leave) {
    input.blur();
    await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
  }
  const visible = (el) => !!(el.offsetWidth || el.offsetHeight || el.getClientRects().length)
    && getComputedStyle(el).visibility !== 'hidden';
  const entry = (el) => ['INPUT', 'SELECT', 'TEXTAREA'].includes(el.tagName)
    && !['hidden', 'button', 'submit', 'checkbox', 'radio', 'image', 'reset'].includes(el.type);
  // The field's row: the largest ancestor holding no other entry field.
  let row = input;
  for (let node = input.parentElement; node && node !== document.body; node = node.parentElement) {
    const others = [...node.querySelectorAll('input, select, textarea')];
    if (others.some((c) => c !== input && entry(c))) break;
    row = node;
  }
  const scope = wholeForm ? (input.closest('form') || document.body) : row;
  const roots = [scope];
  for (const id of ((input.getAttribute('aria-describedby') || '') + ' '
      + (input.getAttribute('aria-errormessage') || '')).split(/\\s+/)) {
    const el = id && document.getElementById(id);
    if (el) roots.push(el);
  }
  roots.push(...document.querySelectorAll('[role=alert], [role=status], [aria-live], '
    + '.toast, .layui-layer-content, .layui-layer-msg, .el-message, .ant-message, .van-toast, '
    + '.weui-toast, .ivu-message, .layer-msg, .tip, .tips, .msg, .message'));
  const lines = new Set();
  for (const root of roots) {
    if (!visible(root)) continue;
    for (const line of (root.innerText || '').split('\\n')) {
      const text = line.trim();
      if (text && text.length <= 120) lines.add(text);
    }
  }
  return {
    lines: [...lines],
    valid: input.validity ? input.validity.valid : true,
    validation: input.validationMessage || '',
    ariaInvalid: input.getAttribute('aria-invalid') === 'true',
  };
}
"""

_CAPTCHA_JS = """
(root) => {
  const scope = root || document.body;
  const visible = (el) => !!(el.offsetWidth || el.offsetHeight || el.getClientRects().length)
    && getComputedStyle(el).visibility !== 'hidden';
  const text = document.body.innerText || '';
  const sliderWords = /拖动滑块|按住滑块|向右滑动|滑动验证|拖动到最右|完成拼图|请完成安全验证/;
  if (sliderWords.test(text)) return 'slider';
  if ([...document.querySelectorAll('iframe')].some((f) => visible(f)
      && /captcha|geetest|verify/i.test(f.src || ''))) return 'slider';
  const described = (el) => [el.id, el.className && el.className.baseVal !== undefined
      ? el.className.baseVal : el.className, el.getAttribute('src'), el.getAttribute('alt'),
      el.getAttribute('title'), el.getAttribute('name'), el.getAttribute('placeholder'),
      el.getAttribute('aria-label')].join(' ');
  const picture = [...scope.querySelectorAll('img, canvas')].some((el) => visible(el)
    && /captcha|kaptcha|verif|validate|checkcode|yzm|验证码/i.test(described(el)));
  const box = [...scope.querySelectorAll('input')].some((el) => visible(el)
    && /图形验证码|图片验证码|图形码|图中|captcha/i.test(described(el)));
  return picture || box ? 'graphic' : null;
}
"""

_FRAMES_JS = "() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))"


@dataclass
class PageActivity:
    """Requests in flight and dialogs shown on a page, so a probe can wait for the page to
    answer and hear what an ``alert()`` said (dialogs are accepted, never left open)."""

    page: Page
    in_flight: set[Request] = field(default_factory=set)
    started: int = 0
    dialogs: list[str] = field(default_factory=list)
    failed_statuses: list[tuple[str, int]] = field(default_factory=list)
    answered: int = 0
    answers: list[Response] = field(default_factory=list)  # of xhr/fetch requests, in order
    _idle: asyncio.Event = field(default_factory=asyncio.Event)

    def __post_init__(self) -> None:
        self._idle.set()
        self.page.on("request", self._started)
        self.page.on("requestfinished", self._ended)
        self.page.on("requestfailed", self._ended)
        self.page.on("response", self._response)
        self.page.on("dialog", self._dialog)

    def _started(self, request: Request) -> None:
        self.started += 1
        self.in_flight.add(request)
        self._idle.clear()

    def _ended(self, request: Request) -> None:
        self.in_flight.discard(request)
        if not self.in_flight:
            self._idle.set()

    def _response(self, response: Response) -> None:
        if response.request.resource_type in ("xhr", "fetch"):
            self.answered += 1
            self.answers.append(response)
            if response.status >= 400:
                self.failed_statuses.append((response.url, response.status))

    async def _dialog(self, dialog: Dialog) -> None:
        self.dialogs.append(dialog.message.strip())
        await dialog.accept()

    async def refusal_since(self, mark: int, pattern: str | None) -> str:
        """The words refusing the number in a JSON answer after the ``mark``-th answer."""
        for response in self.answers[mark:]:
            if "json" not in (response.headers.get("content-type") or ""):
                continue
            with contextlib.suppress(PlaywrightError, ValueError):
                quote = read_number_rejection_in_answer(await response.json(), pattern)
                if quote:
                    return quote
        return ""

    async def settle(self, since_started: int, settle_ms: int, limit_s: float = 10.0) -> None:
        """Wait for the page's reaction: frames, then requests started since the mark."""
        await self.page.evaluate(_FRAMES_JS)
        if self.started > since_started:
            # A long poll or a beacon may never end; what is on screen then is the answer.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._idle.wait(), limit_s)
            await self.page.evaluate(_FRAMES_JS)
        if settle_ms:
            await self.page.wait_for_timeout(settle_ms)


@dataclass(frozen=True)
class FieldReading:
    lines: frozenset[str]
    valid: bool
    validation: str
    aria_invalid: bool


async def read_messages(
    phone: Locator, whole_form: bool = False, leave: bool = False
) -> FieldReading:
    """The message lines around the phone field (or the whole form) and its validity;
    with ``leave``, after leaving the field and letting the page's scripts run."""
    raw: dict[str, Any] = await phone.evaluate(_MESSAGES_JS, [whole_form, leave])
    return FieldReading(
        frozenset(raw["lines"]),
        bool(raw["valid"]),
        str(raw["validation"]),
        bool(raw["ariaInvalid"]),
    )


@dataclass(frozen=True)
class SegmentVerdict:
    segment: str
    number: str
    accepted: bool
    message: str = ""


async def judge_number(
    page: Page,
    activity: PageActivity,
    phone: Locator,
    segment: str,
    number: str,
    baseline: frozenset[str],
    settle_ms: int,
    pattern: str | None = None,
) -> SegmentVerdict:
    """Type ``number`` into the phone field, leave it, and read what the form says (and
    what a check the page made on leaving the field answered)."""
    mark, dialogs, answers = activity.started, len(activity.dialogs), len(activity.answers)
    await phone.fill(number)
    reading = await read_messages(phone, leave=True)
    if activity.started > mark or settle_ms:  # a server-side check, or a debounced one
        await activity.settle(mark, settle_ms)
        reading = await read_messages(phone)
    said = [*activity.dialogs[dialogs:], *sorted(reading.lines - baseline)]
    rejection = next((line for line in said if REJECTION.search(line)), None)
    if rejection is not None:
        quote = read_number_rejection(rejection, pattern) or rejection
        return SegmentVerdict(segment, number, False, quote)
    answered = await activity.refusal_since(answers, pattern)
    if answered:  # the server refused it, though the page shows nothing (yet)
        return SegmentVerdict(segment, number, False, answered)
    if not reading.valid:
        return SegmentVerdict(segment, number, False, reading.validation or "输入格式不符合要求")
    if reading.aria_invalid:
        return SegmentVerdict(segment, number, False, next(iter(said), "手机号码被标记为无效"))
    return SegmentVerdict(segment, number, True)


@dataclass(frozen=True)
class CodeRequest:
    """What the page showed after 获取验证码 was clicked."""

    sent: bool
    message: str = ""  # what the page said, or (``shown`` False) what the bot observed
    shown: bool = True
    captcha: bool = False  # a CAPTCHA stood in the way (shown, or asked for)
    number_refused: str = ""  # the words refusing the number itself (手机号码格式不正确…)


# The text a code request may change: the form's, and that of alerts and toasts.
_ANSWER_TEXT_JS = """
(button) => {
  const form = button.closest('form') || document.body;
  return (form.innerText || '') + ' ' + [...document.querySelectorAll(
    '[role=alert], [aria-live], .toast, .layui-layer, .el-message, .ant-message')]
    .map((el) => el.innerText || '').join(' ');
}
"""
# True once the button or the page's text changed after the click: the page answered.
_ANSWERED_JS = f"""
([button, before, original]) => {{
  const label = (button.innerText || button.value || '').trim();
  return button.disabled || label !== original || ({_ANSWER_TEXT_JS})(button) !== before;
}}
"""


async def request_code(
    page: Page,
    activity: PageActivity,
    phone: Locator,
    button: Locator,
    number: str,
    wait_s: float,
    pattern: str | None = None,
) -> CodeRequest:
    """Type the test number, click 获取验证码 once and read the page's answer; a refusal
    of the number itself (shown, or in the request's JSON answer) is ``number_refused``."""
    await phone.fill(number)
    await phone.blur()
    await activity.settle(activity.started, 0)
    before = await read_messages(phone, whole_form=True)
    before_text = str(await button.evaluate(_ANSWER_TEXT_JS))
    original = (await _button_text(button)).strip()
    mark, dialogs, failures = activity.started, len(activity.dialogs), len(activity.failed_statuses)
    answered, answers = activity.answered, len(activity.answers)
    await button.click()
    with contextlib.suppress(PlaywrightTimeout):  # no reaction at all is judged below
        await page.wait_for_function(
            _ANSWERED_JS,
            arg=[await button.element_handle(), before_text, original],
            timeout=wait_s * 1000,
        )
    await activity.settle(mark, 0)
    after = await read_messages(phone, whole_form=True)
    said = [*activity.dialogs[dialogs:], *sorted(after.lines - before.lines)]
    sent_line = next((line for line in said if CODE_SENT.search(line)), None)
    captcha_line = next((line for line in said if CAPTCHA_WORDS.search(line)), None)
    if captcha_line is not None or (
        sent_line is None and await captcha_kind(page, None) is not None
    ):
        return CodeRequest(False, captcha_line or "", captcha=True)
    if sent_line is None:
        quote = next((q for line in said if (q := read_number_rejection(line, pattern))), "")
        quote = quote or await activity.refusal_since(answers, pattern)
        if quote:
            return CodeRequest(False, quote, number_refused=quote)
    refused = next((line for line in said if CODE_REFUSED.search(line)), None)
    if refused is not None:
        return CodeRequest(False, refused)
    if activity.failed_statuses[failures:]:
        _, status = activity.failed_statuses[failures]
        return CodeRequest(False, f"验证码请求返回 HTTP {status}", shown=False)
    label = (await _button_text(button)).strip()
    counting = COUNTDOWN.search(label) is not None or await button.is_disabled()
    if counting or sent_line is not None:
        return CodeRequest(True, sent_line or label)
    if activity.answered > answered:
        return CodeRequest(True, "验证码请求已受理", shown=False)
    return CodeRequest(False, "页面无任何反应", shown=False)


async def _button_text(button: Locator) -> str:
    return str(await button.evaluate("(b) => b.innerText || b.value || ''"))


async def captcha_kind(
    page: Page, scope: Locator | None, configured: str | None = None
) -> str | None:
    """``"graphic"``, ``"slider"`` or None: the CAPTCHA a citizen must solve here."""
    if configured:
        return "graphic" if await locate.first_visible([page.locator(configured)]) else None
    handle = await scope.element_handle() if scope is not None else None
    found = await page.evaluate(_CAPTCHA_JS, handle)
    return str(found) if found else None


async def pinned(page: Page, found: Locator | None, role: str) -> Locator | None:
    """A locator that keeps finding ``found`` after its text changes (获取验证码 turns into
    a countdown, so a locator by name would lose it): the element is marked once."""
    if found is None:
        return None
    await found.evaluate("(el, role) => el.setAttribute('data-govpatrol', role)", role)
    return page.locator(f"[data-govpatrol={role}]").first


async def phone_field(page: Page, configured: str | None) -> Locator | None:
    if configured:
        return await locate.first_visible([page.locator(configured)], locate.EXPECT_MS)
    found = await locate.first_visible(
        [
            page.locator("input[type=tel]"),
            page.get_by_label(PHONE_WORDS),
            page.get_by_placeholder(PHONE_WORDS),
            page.locator(
                "input[name*=mobile i], input[name*=phone i], input[id*=mobile i], "
                "input[id*=phone i], input[name*=sjh i]"
            ),
        ],
        locate.EXPECT_MS,  # a script-rendered form appears after its API answers
    )
    return await pinned(page, found, "phone")


async def code_button(page: Page, configured: str | None) -> Locator | None:
    if configured:
        return await locate.first_visible([page.locator(configured)])
    found = await locate.first_visible(
        [
            page.get_by_role("button", name=CODE_BUTTON_WORDS),
            page.locator("input[type=button]").filter(has_text=CODE_BUTTON_WORDS),
            page.get_by_text(CODE_BUTTON_WORDS),
        ]
    )
    return await pinned(page, found, "code-button")


async def link_to(page: Page, words: re.Pattern[str], configured: str | None) -> Locator | None:
    """The link (or tab, or button) a citizen would click for ``words``."""
    if configured:
        return await locate.first_visible([page.locator(configured)], locate.EXPECT_MS)
    return await locate.first_visible(
        [
            page.get_by_role("link", name=words),
            page.get_by_role("tab", name=words),
            page.get_by_role("button", name=words),
        ],
        locate.EXPECT_MS,
    )
