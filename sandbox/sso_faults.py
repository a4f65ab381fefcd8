"""Faults of the single sign-on world: the identity portal and each department system.

Each site has its own section, served at its own /__sandbox/faults, with the surface
every `FaultFields` section has. Fields are plain bools and whole numbers, so a CLI can
set them generically (`--fault scjg.ignore_ticket=true`).
"""

from __future__ import annotations

from dataclasses import dataclass

from sandbox.faults import FaultFields


@dataclass
class IdentityFaults(FaultFields):
    """Defects of the 统一身份认证平台; the default instance is a healthy portal."""

    site_down: bool = False  # every page answers 503 系统维护中
    slow_ms: int = 0  # every page waits this long
    account_locked: bool = False  # the test account is locked (too many wrong passwords)
    reject_valid_account: bool = False  # the right password is refused as wrong
    login_error: bool = False  # submitting the login form answers 500 系统繁忙
    # The account box has no label, placeholder or telltale name and the 登录 button is a
    # scripted span: only configured selectors find them (the sso probe's selector tests).
    login_form_unlabelled: bool = False
    # The login form's 滑块验证 (the SPA-style province's identity portal): a request carrying
    # the test bypass (X-Captcha-Bypass header or captcha_bypass cookie) sees no slider.
    slider_captcha: bool = False
    # A healthy variant: the login page in the SPA-style province's words (用户名, 立即登录,
    # messages in a tip line, 账户已冻结 …): nothing a probe reads is worded as above.
    spa_wording: bool = False


@dataclass
class SystemFaults(FaultFields):
    """Defects of one department system; the default instance is a healthy system."""

    site_down: bool = False  # every page answers 503 系统维护中
    slow_ms: int = 0  # every page waits this long
    ignore_ticket: bool = False  # the identity ticket is ignored: the system's own login
    require_registration: bool = False  # a signed-in user must register here again
    # A healthy variant: 个人中心 greets the citizen by name and never shows the login id.
    account_hidden: bool = False
