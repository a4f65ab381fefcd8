"""Secret values inside the catalog: ``${NAME}`` references and masked Apprise URLs.

A catalog never needs to hold a key in clear: ``${WECOM_KEY}`` is looked up in the
environment, then in a file ``NAME`` under the secrets directory (Docker/K8s secrets).
Apprise URLs are kept in :class:`AppriseUrl`, whose ``str``/``repr`` are masked.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

# ${NAME}, or ${NAME:-fallback} for an example that must run before the secret is set.
_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
_SECRET_QUERY_KEYS = re.compile(r"key|token|secret|pass|pwd|auth|sign|access|webhook", re.I)


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


def mask_url(url: str) -> str:
    """A printable form of a notification URL: passwords, tokens and long path keys hidden."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparsable URL>"
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, host = netloc.rsplit("@", 1)
        user, has_password, _ = userinfo.partition(":")
        netloc = f"{user}:****@{host}" if has_password else f"{user}@{host}"
    elif len(netloc) >= 16 and "." not in netloc:
        netloc = _mask(netloc)  # e.g. wecombot://<key>: the host part is the key
    path = "/".join(_mask(seg) if len(seg) >= 16 else seg for seg in parts.path.split("/"))
    query = urlencode(
        [
            (key, "****" if _SECRET_QUERY_KEYS.search(key) else value)
            for key, value in parse_qsl(parts.query, keep_blank_values=True)
        ]
    )
    return urlunsplit((parts.scheme, netloc, path, query, ""))


def _mask(value: str) -> str:
    if len(value) <= 4:
        return "****"
    return f"{value[:2]}****{value[-2:]}"


class AppriseUrl:
    """An Apprise URL that only shows its masked form when printed or logged."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """The real URL, for the notification transport only."""
        return self._value

    @property
    def masked(self) -> str:
        return mask_url(self._value)

    def __str__(self) -> str:
        return self.masked

    def __repr__(self) -> str:
        return f"AppriseUrl({self.masked!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, AppriseUrl) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)
