"""The optional end of the registration journey: register for real with the SMS code, log
in with the new account, and cancel it (注销账号) so the next run can register again.

Fields are filled by their labels: ``fields`` maps words of a label to the value to type
(``姓名: 巡检测试``, ``统一社会信用代码: 91530100MA6K7X1234``); the longest matching words win.
"""

from __future__ import annotations

import re
from typing import Any

from playwright.async_api import Locator, Page
from pydantic import Field, SecretStr

from probes import locate
from probes.base import ProbeContext, ProbeParams
from probes.errors import MonitorError
from probes.landing import REACT_MS, act_and_land
from probes.registration_form import SUBMIT_WORDS, PageActivity
from probes.registration_verdict import FormReport

SMS_CODE_WORDS = re.compile(r"短信验证码|手机验证码|短信校验码|动态码|短信码")
AGREE_WORDS = re.compile(r"同意|已阅读|已知晓")
REGISTERED = re.compile(r"注册成功|恭喜")
ALREADY = re.compile(r"已注册|已存在|已被注册|已被使用")
FAILED = re.compile(
    r"失败|错误|不正确|不一致|不能|无法|繁忙|异常|请填写|请输入|请阅读|已注册|已存在"
)
LOGIN_WORDS = re.compile(r"^\s*(立即|马上|去|用户)?登\s*录\s*$")
LOGGED_IN = re.compile(r"退出登录|退出|用户中心|个人中心|欢迎您")
CANCEL_WORDS = re.compile(r"注销账号|注销账户|账号注销|账户注销|删除账号")
CONFIRM_WORDS = re.compile(r"^\s*(确认|确定)(注销)?\s*$")
CANCELLED = re.compile(r"注销成功|已注销")
ACCOUNT_WORDS = re.compile(r"手机|账号|用户名|登录名", re.IGNORECASE)

# Every entry field of the form with the words that name it, in document order.
_FIELDS_JS = """
(form) => [...form.querySelectorAll('input, select, textarea')].map((el) => {
  const visible = !!(el.offsetWidth || el.offsetHeight || el.getClientRects().length);
  const byFor = el.id ? document.querySelector(`label[for="${CSS.escape(el.id)}"]`) : null;
  const row = el.closest('.form-row, .form-item, .form-group, .el-form-item, .ant-form-item,'
    + ' .layui-form-item, tr, li');
  const rowLabel = row ? row.querySelector('label, th, .label, .title') : null;
  const words = [byFor && byFor.innerText, el.getAttribute('aria-label'), el.placeholder,
    rowLabel && rowLabel.innerText, el.closest('label') && el.closest('label').innerText]
    .filter(Boolean).join(' ');
  return {tag: el.tagName.toLowerCase(), type: (el.type || '').toLowerCase(), visible,
    words, empty: !el.value, required: el.required || /\\*/.test(words)};
})
"""


class AccountDetails(ProbeParams):
    """What to type to register for real, and whether to log in and cancel afterwards."""

    password: SecretStr
    fields: dict[str, str] = Field(default_factory=dict)  # label words → value
    login: bool = True
    cancel: bool = True


async def register_and_cancel(
    ctx: ProbeContext,
    page: Page,
    activity: PageActivity,
    phone: Locator,
    test_phone: str,
    code: str,
    details: AccountDetails,
    report: FormReport,
) -> None:
    """Register with ``code``, log in, cancel the account; record failures on ``report``."""
    form = phone.locator("xpath=ancestor::form[1]")
    if not await form.count():
        form = page.locator("body")
    await _fill_form(ctx, page, form, code, details)
    configured = ctx.selector("register_submit")
    submit = await locate.first_visible(
        [page.locator(configured)]
        if configured
        else [
            form.get_by_role("button", name=SUBMIT_WORDS),
            form.locator("button[type=submit], input[type=submit]"),
        ]
    )
    if submit is None:
        report.register_failure = "注册页面找不到“注册”提交按钮"
        return
    said = await _answer_to(ctx, page, submit, activity)
    if not any(REGISTERED.search(line) for line in said):
        message = next((line for line in said if FAILED.search(line)), None)
        message = message or next(iter(said), "页面无提示")
        if ALREADY.search(message):
            report.cannot_judge.append(
                f"测试手机号已注册（“{message}”），上次巡检的测试账号可能未注销"
            )
        else:
            report.register_failure = (
                f"使用测试手机号{report.phone_shown}填写完整注册信息并提交后"
                f"提示“{message}”，注册未成功"
            )
        await ctx.evidence.capture(page, f"{report.kind}-register-failed")
        return
    if not details.login:
        return
    if not await _log_in(ctx, page, activity, report.kind, test_phone, details):
        report.register_failure = "注册成功后，使用新注册的账号和密码无法登录"
        await ctx.evidence.capture(page, f"{report.kind}-login-failed")
        return
    if details.cancel:
        report.account_left = not await _cancel(ctx, page, activity, details)


async def _fill_form(
    ctx: ProbeContext, page: Page, form: Locator, code: str, details: AccountDetails
) -> None:
    entries = form.locator("input, select, textarea")
    described: list[dict[str, Any]] = await form.evaluate(_FIELDS_JS)
    missing = []
    for index, entry in enumerate(described):
        if not entry["visible"]:
            continue
        element = entries.nth(index)
        kind, words = entry["type"], entry["words"]
        if kind == "password":
            async with ctx.secret_typing():
                await element.fill(details.password.get_secret_value())
        elif kind == "checkbox":
            if AGREE_WORDS.search(words) and not await element.is_checked():
                await element.check()
        elif SMS_CODE_WORDS.search(words) or (await element.get_attribute("autocomplete")) == (
            "one-time-code"
        ):
            await element.fill(code)
        elif kind in ("radio", "button", "submit", "hidden", "image", "reset", "file"):
            continue
        elif (value := _value_for(words, details.fields)) is not None:
            if entry["tag"] == "select":
                await element.select_option(label=value)
            else:
                await element.fill(value)
        elif entry["tag"] != "select" and entry["empty"] and entry["required"]:
            missing.append(re.sub(r"[*＊\s]", "", words) or f"第 {index + 1} 个字段")
    if missing:
        raise MonitorError(f"注册表单的必填项未配置填写值（complete.fields）：{'、'.join(missing)}")


def _value_for(words: str, fields: dict[str, str]) -> str | None:
    matches = [key for key in fields if key and key in words]
    return fields[max(matches, key=len)] if matches else None


async def _answer_to(
    ctx: ProbeContext, page: Page, button: Locator, activity: PageActivity
) -> list[str]:
    """Click ``button`` and return what the page said that it did not say before: new
    lines of text (a step bar reading "3 注册成功" is not an answer) and dialogs. The
    answer is read the moment it lands (a new page, or an API answer shown in place), so
    a toast that goes after 3 s is still there."""
    before = await _lines(page)
    mark, dialogs = activity.started, len(activity.dialogs)
    await act_and_land(page, button.click, ctx.nav_timeout_ms, react_ms=REACT_MS)
    await activity.settle(mark, 0)
    after = await _lines(page)
    return [*activity.dialogs[dialogs:], *(line for line in after if line not in before)]


async def _lines(page: Page) -> list[str]:
    text = await page.locator("body").inner_text()
    return [line.strip() for line in text.splitlines() if line.strip()]


async def _log_in(
    ctx: ProbeContext,
    page: Page,
    activity: PageActivity,
    kind: str,
    test_phone: str,
    details: AccountDetails,
) -> bool:
    main = page.locator("main, [role=main], #main, .main, .content")
    link = await locate.first_visible(
        [main.get_by_role("link", name=LOGIN_WORDS), page.get_by_role("link", name=LOGIN_WORDS)]
    )
    login_page = ctx.target.pages.get("login")
    if login_page:
        await ctx.goto(page, ctx.absolute(login_page))
    elif link is not None:
        await ctx.goto(page, ctx.absolute(await link.get_attribute("href") or "/"))
    else:
        return False
    chooser = page.get_by_label(re.compile("个人" if kind == "personal" else "法人"))
    if await chooser.count() and await chooser.first.get_attribute("type") == "radio":
        await chooser.first.check()
    password = await locate.first_visible([page.locator("input[type=password]")])
    account = await locate.first_visible(
        [
            page.locator("input[type=tel]"),
            page.get_by_label(ACCOUNT_WORDS),
            page.get_by_placeholder(ACCOUNT_WORDS),
        ]
    )
    button = await locate.first_visible(
        [page.get_by_role("button", name=LOGIN_WORDS), page.locator("button[type=submit]")]
    )
    if password is None or account is None or button is None:
        return False
    await account.fill(test_phone)
    async with ctx.secret_typing():
        await password.fill(details.password.get_secret_value())
    said = await _answer_to(ctx, page, button, activity)
    still_asking = await locate.first_visible([page.locator("input[type=password]")])
    return still_asking is None and any(LOGGED_IN.search(line) for line in said)


async def _cancel(
    ctx: ProbeContext, page: Page, activity: PageActivity, details: AccountDetails
) -> bool:
    """Cancel the logged-in test account; whether the portal confirmed it."""
    control = await locate.first_visible(
        [page.get_by_role("button", name=CANCEL_WORDS), page.get_by_role("link", name=CANCEL_WORDS)]
    )
    if control is None:
        return False
    said = await _answer_to(ctx, page, control, activity)
    for _ in range(2):  # a confirmation step, perhaps asking for the password again
        if any(CANCELLED.search(line) for line in said):
            return True
        password = await locate.first_visible([page.locator("input[type=password]")])
        if password is not None:
            async with ctx.secret_typing():
                await password.fill(details.password.get_secret_value())
        confirm = await locate.first_visible([page.get_by_role("button", name=CONFIRM_WORDS)])
        if confirm is None:
            return False
        said = await _answer_to(ctx, page, confirm, activity)
    return any(CANCELLED.search(line) for line in said)
