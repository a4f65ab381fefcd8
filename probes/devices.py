"""The phones the mobile probe plays: Playwright's device descriptors, plus WeChat.

A profile names a Playwright descriptor (viewport, user agent, touch, pixel ratio) and
may add to its user agent: the WeChat in-app browser is an Android phone whose user agent
carries ``MicroMessenger``, which is what H5 pages test to switch to their WeChat code.
Every profile is emulated in Chromium: layout, scripts and user-agent sniffing are
exercised; engine differences (WebKit on iPhone, X5/XWeb in WeChat) are not.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import async_playwright

from probes.errors import MonitorError

# The tail WeChat 8 (XWeb) appends to the Android system WebView user agent.
WECHAT_UA_TAIL = (
    " XWEB/1300259 MMWEBSDK/20240802 MMWEBID/5521 MicroMessenger/8.0.50.2701(0x28003253)"
    " WeChat/arm64 Weixin NetType/WIFI Language/zh_CN ABI/arm64"
)


@dataclass(frozen=True)
class DeviceProfile:
    key: str  # as the catalog names it: iphone, android, wechat
    label: str  # as findings name it
    descriptor: str  # a Playwright device name
    user_agent_tail: str = ""


PROFILES: dict[str, DeviceProfile] = {
    profile.key: profile
    for profile in (
        DeviceProfile("iphone", "iPhone 13", "iPhone 13"),
        DeviceProfile("android", "安卓 Pixel 7", "Pixel 7"),
        DeviceProfile("wechat", "微信内置浏览器", "Pixel 7", WECHAT_UA_TAIL),
    )
}
DEFAULT_DEVICES = ("iphone", "android", "wechat")

_descriptors: dict[str, dict[str, Any]] = {}


async def context_options(profile: DeviceProfile) -> dict[str, Any]:
    """Keyword arguments for ``new_context`` that make a browser context this phone."""
    descriptor = dict((await _playwright_devices()).get(profile.descriptor) or {})
    if not descriptor:
        raise MonitorError(f"Playwright 中没有机型 {profile.descriptor!r}")
    descriptor.pop("default_browser_type", None)  # chooses a browser, not a context option
    descriptor["user_agent"] = descriptor["user_agent"] + profile.user_agent_tail
    # Every check measures CSS pixels; at pixel ratio 1 a full-page screenshot is what the
    # phone shows, a ninth of the pixels of ratio 3, and far quicker to take and keep.
    descriptor["device_scale_factor"] = 1
    # Citizens' phones are set to Chinese, on Beijing time.
    return {**descriptor, "locale": "zh-CN", "timezone_id": "Asia/Shanghai"}


async def _playwright_devices() -> dict[str, dict[str, Any]]:
    """Playwright's device table, read once per process from a short-lived driver."""
    if not _descriptors:
        try:
            async with async_playwright() as playwright:
                _descriptors.update(playwright.devices)
        except PlaywrightError as exc:
            raise MonitorError(f"cannot read Playwright's device descriptors: {exc}") from exc
    return _descriptors
