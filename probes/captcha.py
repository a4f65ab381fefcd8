"""The test environment's CAPTCHA bypass, as the SSO probe sends it to the identity portal.

The same options as registration's ``captcha_bypass`` (a token sent as a header, a cookie
or a query parameter); only requests to the configured site carry it.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from playwright.async_api import BrowserContext, Route

from probes.registration_params import CaptchaBypass


async def apply_captcha_bypass(
    browser: BrowserContext, base_url: str, bypass: CaptchaBypass | None
) -> None:
    """Make every request to ``base_url``'s site carry the bypass token (and nothing else)."""
    if bypass is None:
        return
    token = bypass.token.get_secret_value()
    if bypass.cookie:
        await browser.add_cookies([{"name": bypass.cookie, "value": token, "url": base_url}])
    if bypass.header:
        name = bypass.header.lower()
        parts = urlsplit(base_url)

        async def with_header(route: Route) -> None:
            headers = {**await route.request.all_headers(), name: token}
            await route.continue_(headers=headers)

        await browser.route(f"{parts.scheme}://{parts.netloc}/**", with_header)


def with_bypass_query(url: str, bypass: CaptchaBypass | None) -> str:
    """``url`` with the bypass token as a query parameter, when the bypass is sent so."""
    if bypass is None or not bypass.query:
        return url
    parts = urlsplit(url)
    query = [*parse_qsl(parts.query), (bypass.query, bypass.token.get_secret_value())]
    return urlunsplit(parts._replace(query=urlencode(query)))
