"""Delivering one message to one recipient. Apprise in production, a recorder in tests.

A transport either returns (delivered) or raises :class:`DeliveryError`, saying whether
trying again could help.
"""

from __future__ import annotations

import logging
from typing import Protocol
from urllib.parse import urlsplit

from config.redaction import scrub
from config.secrets import AppriseUrl

log = logging.getLogger(__name__)

# Apprise services that carry custom headers (HTTP or mail): the idempotency key rides along
# so a receiver can drop a repeat after a crash between sending and recording.
_HEADER_SCHEMES = {"json", "jsons", "form", "forms", "xml", "xmls", "mailto", "mailtos"}
IDEMPOTENCY_HEADER = "X-Govpatrol-Notification"


class DeliveryError(Exception):
    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


class Transport(Protocol):
    def send(self, url: AppriseUrl, title: str, body: str, key: str) -> None:
        """Deliver or raise DeliveryError. Runs in a worker thread."""
        ...


class AppriseTransport:
    """One Apprise object per recipient, so each outcome is known on its own."""

    def __init__(self, timeout_s: float = 20.0) -> None:
        self.timeout_s = timeout_s

    def send(self, url: AppriseUrl, title: str, body: str, key: str) -> None:
        import apprise

        target = _with_key(url.reveal(), key)
        notifier = apprise.Apprise()
        if not notifier.add(target):
            raise DeliveryError(f"Apprise does not understand {url.masked}", permanent=True)
        for service in notifier:
            # Bound each attempt; the sender retries with backoff.
            service.socket_connect_timeout = self.timeout_s
            service.socket_read_timeout = self.timeout_s
        # Plain text keeps the notice's line breaks in mail and chat alike.
        result = notifier.notify(title=title, body=body, body_format=apprise.NotifyFormat.TEXT)
        if not result:
            raise DeliveryError(f"delivery to {url.masked} failed: {_reason(result)}")


def _with_key(url: str, key: str) -> str:
    scheme = urlsplit(url).scheme.lower()
    if scheme not in _HEADER_SCHEMES:
        return url
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}+{IDEMPOTENCY_HEADER}={key}"


def _reason(result: object) -> str:
    """What went wrong, from Apprise's per-call log, scrubbed: a request error quotes the
    URL it posted to, which for DingTalk or WeCom holds the key."""
    logs = getattr(result, "logs", None)
    lines = [entry.message for entry in logs()] if callable(logs) else []
    status = getattr(getattr(result, "status", None), "name", "FAILURE")
    return scrub("; ".join(lines[-3:])) or status
