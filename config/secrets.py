"""Secret values inside the catalog: ``${NAME}`` references and masked Apprise URLs.

A catalog never needs to hold a key in clear: ``${WECOM_KEY}`` is looked up in the
environment, then in a file ``NAME`` under the secrets directory (Docker/K8s secrets).
Apprise URLs are kept in :class:`AppriseUrl`, whose ``str``/``repr`` are masked by Apprise's
own privacy rendering; the parts it hides are registered for scrubbing (``config.redaction``).
"""

from __future__ import annotations

import logging
import os
import re
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, unquote_plus, urlencode, urlsplit, urlunsplit

from config.redaction import KNOWN_SECRETS, MASK, install_log_scrubber

# ${NAME}, or ${NAME:-fallback} for an example that must run before the secret is set.
_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
_SECRET_QUERY_KEYS = re.compile(r"key|token|secret|pass|pwd|auth|sign|access|webhook", re.I)
_URL_SEPARATORS = re.compile(r"[/:@?&=#,+\s]+")


class MissingSecretError(ValueError):
    """A ``${NAME}`` reference that neither the environment nor a secret file defines."""


def resolve_references(
    text: str,
    environ: Mapping[str, str] | None = None,
    secrets_dir: Path | None = None,
) -> str:
    """Replace every ``${NAME}`` in ``text`` by its value, or raise naming the variable;
    ``${NAME:-fallback}`` gives ``fallback`` when NAME is set nowhere."""
    env = os.environ if environ is None else environ

    def lookup(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in env:
            return env[name]
        if secrets_dir is not None:
            path = secrets_dir / name
            if path.is_file():
                return path.read_text(encoding="utf-8").strip()
        if match.group(2) is not None:
            return match.group(2)
        where = f" or a file in {secrets_dir}" if secrets_dir else ""
        raise MissingSecretError(f"${{{name}}} is not set (environment variable{where})")

    return _REFERENCE.sub(lookup, text)


def mask_url(url: str, plugin: Any = None) -> str:
    """A printable form of a notification URL with every credential hidden.

    Apprise's own privacy rendering knows which fields of each of its services are
    secret (a DingTalk signing secret and token, a Pushover user and application key, a
    Gotify token…). Apprise adds every default option to it, so only the options the URL
    itself named are kept; custom headers and payload fields (``+X-Token=…``) are masked
    too, since Apprise prints them as given. A URL Apprise does not understand shows its
    scheme only.
    """
    plugin = plugin if plugin is not None else _apprise_plugin(url)
    scheme = urlsplit(url).scheme if "://" in url else ""
    if plugin is None:
        return f"{scheme}://{MASK}" if scheme else "<无法识别的通知地址>"
    private = urlsplit(str(plugin.url(privacy=True)))
    # Keys as Apprise reads them: a leading ``+`` (a custom header) is not a space here.
    named = {unquote(part.split("=", 1)[0]) for part in urlsplit(url).query.split("&")}
    query = urlencode(
        [
            (key, MASK if key[:1] in "+-:" or _SECRET_QUERY_KEYS.search(key) else value)
            for key, value in parse_qsl(private.query, keep_blank_values=True)
            if key in named
        ],
        safe="*@+",
    )
    return urlunsplit((private.scheme, private.netloc, private.path, query, ""))


def service_name(url: str, plugin: Any = None) -> str:
    """The Apprise service a URL goes to (``DingTalk``, ``E-Mail``…), or its scheme."""
    plugin = plugin if plugin is not None else _apprise_plugin(url)
    name = getattr(plugin, "service_name", None) if plugin is not None else None
    return str(name) if name else urlsplit(url).scheme or "?"


def hidden_parts(url: str, shown: str) -> set[str]:
    """The pieces of ``url`` that ``shown`` does not show: its secrets, to be scrubbed
    from any text (an error quoting a request URL or a payload) they turn up in."""
    pieces = set()
    for piece in _URL_SEPARATORS.split(url):
        for candidate in (piece, unquote(piece), unquote_plus(piece)):
            if candidate and candidate not in shown:
                pieces.add(candidate)
    return pieces


class _QuietWhileMasking(logging.Filter):
    """Drops Apprise's log lines about a URL being masked in this thread: Apprise logs what
    it loaded (custom headers in clear) before the secrets are known to the scrubber."""

    def __init__(self) -> None:
        super().__init__()
        self.local = threading.local()

    def filter(self, record: logging.LogRecord) -> bool:
        return not getattr(self.local, "masking", False)


_QUIET = _QuietWhileMasking()
logging.getLogger("apprise").addFilter(_QUIET)


def _apprise_plugin(url: str) -> Any:
    import apprise

    _QUIET.local.masking = True
    try:
        return apprise.Apprise.instantiate(url, suppress_exceptions=True) or None
    except Exception:  # instantiate promises not to raise; a plugin bug must not leak the URL
        return None
    finally:
        _QUIET.local.masking = False


class AppriseUrl:
    """An Apprise URL that only shows its masked form when printed or logged."""

    __slots__ = ("_label", "_masked", "_value", "understood")

    def __init__(self, value: str) -> None:
        install_log_scrubber()  # from the moment a secret exists, no log line shows it
        self._value = value
        plugin = _apprise_plugin(value)
        self.understood = plugin is not None  # Apprise knows the service
        self._masked = mask_url(value, plugin)
        self._label = f"{service_name(value, plugin)} {self._masked}"
        KNOWN_SECRETS.add(hidden_parts(value, self._label))

    def reveal(self) -> str:
        """The real URL, for the notification transport only."""
        return self._value

    @property
    def masked(self) -> str:
        return self._masked

    @property
    def label(self) -> str:
        """The service and the masked URL (``DingTalk dingtalk://****@d...1/``): all that
        is stored or shown of a channel."""
        return self._label

    def __str__(self) -> str:
        return self.masked

    def __repr__(self) -> str:
        return f"AppriseUrl({self.masked!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, AppriseUrl) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)
