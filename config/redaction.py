"""Keeping credentials out of everything printed: logs, stored errors, pages, the API.

Each :class:`~config.secrets.AppriseUrl` registers the parts of its URL that its masked
form hides (tokens, keys, passwords); :func:`scrub` replaces them, and anything shaped like
a credential (``user:password@``, ``access_token=…``), in any text. The log record factory
installed by :func:`install_log_scrubber` runs every log line, Apprise's and the HTTP
client's included, through :func:`scrub` before a handler sees it.
"""

from __future__ import annotations

import logging
import re
import threading
import traceback
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote, quote_plus

MASK = "****"
MIN_SECRET_LENGTH = 6  # shorter fragments are too common to hunt for in every log line

_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^\s:/@]*:)[^\s@/]+@")
_SECRET_PARAM = re.compile(
    r"(?i)(\b(?:access_token|token|key|secret|sign|signature|password|passwd|pass|pwd|apikey|"
    r"api_key|auth|webhook)=)[^\s&'\",;)}]+"
)


class SecretRegistry:
    """The secret strings this process knows about, as one alternation regex."""

    def __init__(self) -> None:
        self._secrets: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        self._stale = False  # compiled on the next scrub, not on every add (big catalogs)
        self._lock = threading.Lock()

    def add(self, secrets: Iterable[str]) -> None:
        variants = set()
        for secret in secrets:
            if len(secret) >= MIN_SECRET_LENGTH:
                variants |= {secret, quote(secret, safe=""), quote_plus(secret)}
        with self._lock:
            if variants - self._secrets:
                self._secrets |= variants
                self._stale = True

    def scrub(self, text: str) -> str:
        if self._stale:
            with self._lock:
                longest_first = sorted(self._secrets, key=len, reverse=True)
                self._pattern = re.compile("|".join(map(re.escape, longest_first)))
                self._stale = False
        pattern = self._pattern
        return pattern.sub(MASK, text) if pattern is not None else text


KNOWN_SECRETS = SecretRegistry()


def scrub(text: str) -> str:
    """``text`` without any registered secret or credential-shaped value."""
    text = KNOWN_SECRETS.scrub(text)
    text = _USERINFO.sub(rf"\g<1>{MASK}@", text)
    return _SECRET_PARAM.sub(rf"\g<1>{MASK}", text)


_installed = threading.Lock()
_factory_installed = False


def install_log_scrubber() -> None:
    """Scrub every log record at creation (message, arguments and traceback), whatever
    logger or handler it goes to. Safe to call more than once."""
    global _factory_installed
    with _installed:
        if _factory_installed:
            return
        previous = logging.getLogRecordFactory()

        def scrubbed_record(*args: Any, **kwargs: Any) -> logging.LogRecord:
            record = previous(*args, **kwargs)
            _scrub_record(record)
            return record

        logging.setLogRecordFactory(scrubbed_record)
        _factory_installed = True


def _scrub_record(record: logging.LogRecord) -> None:
    try:
        message = record.getMessage()
    except Exception:  # a malformed call: logging reports it itself, later
        return
    cleaned = scrub(message)
    if cleaned != message:
        record.msg, record.args = cleaned, None
    if record.exc_info and record.exc_info[1] is not None:
        text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
        record.exc_text = scrub(text)  # the formatter uses it instead of formatting anew
