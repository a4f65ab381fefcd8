"""Mounting the console on the web app: routers, /api, the login redirect and the
security headers of every console answer. Nothing here runs a server of its own."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response

from bot.console import (
    bulletins,
    campaigns,
    exports,
    indicator_pages,
    login,
    maintenance,
    metrics,
    pages,
    task_pages,
)
from bot.console.api import api_app
from bot.console.auth import ConsoleAuth, LoginRequired
from bot.console.maintenance import WindowNotices
from bot.console.task_pages import TaskNotices
from bot.services import Services

# The console needs no script at all: forbidding it makes an escaping slip harmless.
CONSOLE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'none'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}
# /u/: the units' signed-link pages; /public/: the published 通报 (no scripts either)
GUARDED = ("/console", "/api", "/metrics", "/u/", "/public/")


def mount_console(app: FastAPI, services: Services) -> None:
    """Add the console pages, exports, /api and /metrics to ``app``.

    The handlers fetch the services and templates ``app`` shares (``bot.web_state.share``);
    the console's own keys, derived once from the product key, are held here beside them.
    """
    auth = ConsoleAuth(services)
    app.state.console_auth = auth
    app.state.task_notices = TaskNotices(services.settings.signing_key())
    app.state.window_notices = WindowNotices(services.settings.signing_key())
    app.state.scrape_time_registry = metrics.scrape_time_registry(services)
    app.include_router(login.router)
    app.include_router(pages.router)
    app.include_router(task_pages.router)
    app.include_router(exports.router)
    app.include_router(indicator_pages.router)
    app.include_router(metrics.router)
    app.include_router(maintenance.router)
    app.include_router(campaigns.router)
    app.include_router(bulletins.router)
    app.mount("/api", api_app(services, auth))
    app.get("/", include_in_schema=False)(root)
    app.exception_handler(LoginRequired)(to_login)
    app.middleware("http")(guarded_headers)


def root() -> RedirectResponse:
    return RedirectResponse("/console", status_code=303)


def to_login(request: Request, exc: LoginRequired) -> RedirectResponse:
    return RedirectResponse(f"/console/login?next={quote(exc.next_path)}", status_code=303)


async def guarded_headers(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    response = await call_next(request)
    if request.url.path.startswith(GUARDED):
        for name, value in CONSOLE_HEADERS.items():
            response.headers.setdefault(name, value)
    return response
