"""Exceptions a probe may raise, and how each maps to a run outcome.

    ProbeError
     ├── MonitorError       → error: our side failed (browser crash, our network, a bug)
     ├── Inconclusive       → inconclusive: we could not judge (CAPTCHA, locked account…)
     └── SiteUnreachable    → fail (site.unreachable) when the canary answers, else error
          └── SiteTimeout   → fail (site.timeout), likewise

Probes raise these; ``probes.runner`` is the one place that turns them into outcomes.
Playwright's own errors are classified there too (see :func:`classify_network_error`).
"""

from __future__ import annotations

import re


class ProbeError(Exception):
    """Base of every exception a probe raises on purpose."""


class MonitorError(ProbeError):
    """The monitor itself could not do its job; never a unit's fault."""


class Inconclusive(ProbeError):
    """The bot cannot tell whether the portal works (e.g. a CAPTCHA without bypass)."""


class SiteUnreachable(ProbeError):
    """A page of the portal could not be loaded at the network level."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"{url}: {reason}")
        self.url = url
        self.reason = reason


class SiteTimeout(SiteUnreachable):
    """A page of the portal did not finish loading within the navigation timeout."""


# Chromium network errors that say our own side is broken, whatever the portal does.
_OUR_SIDE = re.compile(
    r"ERR_(PROXY_CONNECTION_FAILED|TUNNEL_CONNECTION_FAILED|INTERNET_DISCONNECTED|"
    r"NETWORK_ACCESS_DENIED|NETWORK_CHANGED|NAME_RESOLUTION_FAILED|PROXY_[A-Z_]+|"
    r"SOCKS_CONNECTION_FAILED|NETWORK_IO_SUSPENDED)"
)
# Errors that may be the portal's: checked against the canary before blaming anyone.
_THEIR_SIDE = re.compile(
    r"ERR_(CONNECTION_REFUSED|CONNECTION_RESET|CONNECTION_CLOSED|CONNECTION_TIMED_OUT|"
    r"CONNECTION_FAILED|EMPTY_RESPONSE|ADDRESS_UNREACHABLE|NAME_NOT_RESOLVED|TIMED_OUT|"
    r"SSL_[A-Z_]+|CERT_[A-Z_]+|BAD_SSL_CLIENT_AUTH_CERT|INVALID_RESPONSE|"
    r"HTTP2_PROTOCOL_ERROR|TOO_MANY_REDIRECTS)"
)
_BROWSER_GONE = re.compile(
    r"Target (page, context or browser )?(has been |was )?closed|Browser has been closed|"
    r"Browser closed|browser has disconnected|Connection closed|crashed",
    re.IGNORECASE,
)


def classify_network_error(message: str) -> str | None:
    """``"ours"``, ``"theirs"`` or None (not a network error) for a Playwright error text."""
    if _OUR_SIDE.search(message) or _BROWSER_GONE.search(message):
        return "ours"
    if _THEIR_SIDE.search(message):
        return "theirs"
    return None


def network_code(message: str) -> str:
    """The ``net::ERR_…`` code in a Playwright error text, for findings."""
    match = re.search(r"net::(ERR_[A-Z_0-9]+)", message)
    return match.group(1) if match else message.splitlines()[0][:120]
