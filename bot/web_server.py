"""How ``govpatrol web`` and ``govpatrol run`` serve the web app with uvicorn.

Forwarded headers: uvicorn, left alone, believes ``X-Forwarded-For`` from 127.0.0.1, so a
client behind any local proxy could pick its own address and walk past the per-address
login limit. Here uvicorn believes no one; the app believes only the proxies named in
``GOVPATROL_TRUSTED_PROXIES`` (see :func:`trust_forwarded_headers`).

Access log: a unit's page is ``/u/<signed token>``, and a token in a log file is a door
into the unit's task. :class:`MaskedLinkTokens` hides it in every access line.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import uvicorn
from fastapi import FastAPI
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from config.settings import Settings

ACCESS_LOGGER = "uvicorn.access"
# /u/<token>[/…]: the unit pages' signed link; the rest of the path is harmless.
_LINK_TOKEN = re.compile(r"(/u/)[^/?#\s\"]+")


def mask_link_tokens(text: str) -> str:
    """``text`` with the signed token of every unit link replaced by ``****``."""
    return _LINK_TOKEN.sub(r"\1****", text)


class MaskedLinkTokens(logging.Filter):
    """Rewrites uvicorn's access lines (``client - "GET /u/<token> HTTP/1.1" 200``)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                mask_link_tokens(arg) if isinstance(arg, str) else arg for arg in record.args
            )
        if isinstance(record.msg, str):
            record.msg = mask_link_tokens(record.msg)
        return True


def mask_access_log() -> None:
    """Install :class:`MaskedLinkTokens` on uvicorn's access logger (once)."""
    logger = logging.getLogger(ACCESS_LOGGER)
    if not any(isinstance(f, MaskedLinkTokens) for f in logger.filters):
        logger.addFilter(MaskedLinkTokens())


def trust_forwarded_headers(app: FastAPI, settings: Settings) -> None:
    """Take the client address from ``X-Forwarded-For`` only when the request comes from
    one of ``settings.trusted_proxies``; with none configured, the headers are ignored."""
    if settings.trusted_proxy_list:
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxy_list)


def server_config(app: FastAPI, settings: Settings, **options: Any) -> uvicorn.Config:
    """Uvicorn's configuration for ``app``: our host and port, no forwarded headers of its
    own, and link tokens masked in the access log."""
    options.setdefault("host", settings.web_host)
    options.setdefault("port", settings.web_port)
    config = uvicorn.Config(app, proxy_headers=False, **options)
    mask_access_log()  # after Config: it (re)configures uvicorn's loggers
    return config
