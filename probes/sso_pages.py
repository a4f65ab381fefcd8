"""Reading sign-in pages the way a citizen does: login forms, prompts, the greeting.

Used by the 统一身份认证 probe on the identity portal and on department systems whose
markup we have never seen; configured selectors win over these defaults.
"""

from __future__ import annotations

import contextlib
import re

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Locator, Page
from playwright.async_api import TimeoutError as PlaywrightTimeout

from probes.locate import EXPECT_MS, first_visible
from probes.readers import read_greeting

ACCOUNT_WORDS = re.compile(r"账号|帐号|用户名|手机号|身份证|证件号|登录名|account|user", re.I)
CODE_WORDS = re.compile(r"验证码|校验码|captcha", re.I)
SUBMIT_WORDS = re.compile(
    r"^\s*(登\s*录|立即登录|账号登录|用户登录|登录系统|sign\s*in|log\s*in)\s*$", re.I
)
LOGIN_LINK_WORDS = re.compile(
    r"^\s*(登\s*录|请登录|用户登录|个人登录|统一身份认证登录|登录\s*[/|｜]\s*注册)\s*$", re.I
)
REGISTER_HEADINGS = re.compile(
    r"注\s*册|完善.{0,6}信息|补充.{0,6}信息|开通.{0,4}账号|首次.{0,4}使用"
)
REGISTER_BUTTONS = re.compile(r"^\s*(注\s*册|立即注册|完成注册|提交注册|同意.{0,10}注册)\s*$")
NOTICE_CLASSES = (
    "[class*=error i], [class*=err-msg i], [class*=errmsg i], [class*=tip i], "
    "[class*=msg i], [class*=warn i], [class*=alert i]"
)
NOTICE_MAX_CHARS = 120

_FORGET_SECRETS_JS = """
() => {
  for (const box of document.querySelectorAll('input[type=password]')) {
    box.value = '';
    box.removeAttribute('value');
  }
}
"""


async def password_box(page: Page, configured: str | None) -> Locator | None:
    if configured:
        return await first_visible([page.locator(configured)])
    return await first_visible([page.locator("input[type=password]")])


async def username_box(page: Page, configured: str | None) -> Locator | None:
    """The account field of a login form, waited for (a login view may be script-rendered)."""
    if configured:
        return await first_visible([page.locator(configured)], EXPECT_MS)
    return await first_visible(
        [
            page.get_by_label(ACCOUNT_WORDS),
            page.get_by_placeholder(ACCOUNT_WORDS),
            page.locator("input[autocomplete=username]"),
            page.locator(
                "input[name*=user i], input[name*=account i], input[name*=login i], "
                "input[id*=user i], input[id*=account i]"
            ),
        ],
        EXPECT_MS,
    )


async def verification_code_box(page: Page, configured: str | None) -> Locator | None:
    """A CAPTCHA or SMS code field on the login form, which the bot cannot fill."""
    if configured:
        return await first_visible([page.locator(configured)])
    return await first_visible([page.get_by_label(CODE_WORDS), page.get_by_placeholder(CODE_WORDS)])


async def submit_login(
    page: Page, secret_box: Locator, configured_button: str | None, wait_ms: int
) -> int | None:
    """Submit the login form as a citizen would; the HTTP status of the page it leads to
    (None when the form answered in place, without a navigation)."""
    if configured_button:
        button = await first_visible([page.locator(configured_button)])
    else:
        button = await first_visible(
            [
                page.get_by_role("button", name=SUBMIT_WORDS),
                page.locator("button[type=submit], input[type=submit]"),
            ]
        )
    return await click_through(page, button or secret_box, wait_ms, press_enter=button is None)


async def click_through(
    page: Page, element: Locator, wait_ms: int, *, press_enter: bool = False
) -> int | None:
    """Click `element` (or press Enter in it) and wait for the page it leads to."""
    try:
        async with page.expect_navigation(wait_until="load", timeout=wait_ms) as nav:
            if press_enter:
                await element.press("Enter")
            else:
                await element.click()
        response = await nav.value
        return response.status if response is not None else None
    except PlaywrightTimeout:
        await page.wait_for_load_state("networkidle")  # a script-driven form answered in place
        return None


async def forget_typed_secrets(page: Page) -> None:
    """Empty every password field, so no later snapshot or trace holds what was typed."""
    with contextlib.suppress(PlaywrightError):  # the page may be navigating away
        await page.evaluate(_FORGET_SECRETS_JS)


async def notice_text(page: Page, configured: str | None) -> str:
    """The message a form shows after submitting (用户名或密码错误, 账号已锁定…), or ''."""
    if configured:
        candidates = [page.locator(configured)]
    else:
        candidates = [page.get_by_role("alert"), page.locator(NOTICE_CLASSES)]
    notice = await first_visible(candidates)
    if notice is None:
        return ""
    try:
        text = " ".join((await notice.inner_text()).split())
    except PlaywrightError:
        return ""
    return text[:NOTICE_MAX_CHARS]


async def asks_to_register(page: Page) -> bool:
    """A registration form: fields to fill under a 注册 heading or with a 注册 button."""
    fields = await first_visible(
        [page.locator("input[type=text], input[type=tel], input[type=password], input:not([type])")]
    )
    if fields is None:
        return False
    prompt = await first_visible(
        [
            page.get_by_role("heading", name=REGISTER_HEADINGS),
            page.get_by_role("button", name=REGISTER_BUTTONS),
        ]
    )
    return prompt is not None


async def login_link(page: Page) -> Locator | None:
    """A 登录 link or button offered to a visitor who is not signed in."""
    return await first_visible(
        [
            page.get_by_role("link", name=LOGIN_LINK_WORDS),
            page.get_by_role("button", name=LOGIN_LINK_WORDS),
        ]
    )


async def shows_user(page: Page, selector: str | None, user_text: str) -> bool:
    """Whether the page shows the signed-in user (in `selector`, when configured)."""
    if selector:
        element = await first_visible([page.locator(selector)])
        if element is None:
            return False
        try:
            return user_text in await element.inner_text()
        except PlaywrightError:
            return False
    return await first_visible([page.get_by_text(user_text)]) is not None


# The page's top bar and header, where portals greet a signed-in citizen (欢迎您，张三 | 退出).
_HEADER_TEXT_JS = """
() => {
  const parts = [];
  const seen = new Set();
  const picks = 'header, [role=banner], [class*=top i], [class*=header i], [class*=user i], '
    + '[id*=top i], [id*=header i], [id*=user i]';
  for (const el of document.querySelectorAll(picks)) {
    if (el.closest('main, [role=main], footer') || [...seen].some((s) => s.contains(el))) continue;
    seen.add(el);
    parts.push(el.innerText || '');
  }
  return parts.join('\\n').slice(0, 3000);
}
"""


async def greets_someone(page: Page) -> bool:
    """Whether the page's header shows a signed-in citizen, whoever it names."""
    try:
        text: str = await page.evaluate(_HEADER_TEXT_JS)
    except PlaywrightError:
        return False
    return read_greeting(text).signed_in
