"""Mounting the console on the web app: routers, /api, the login redirect and the
security headers of every console answer. Nothing here runs a server of its own."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from bot.console.api import api_app
from bot.console.auth import ConsoleAuth, LoginRequired
from bot.console.exports import export_router
from bot.console.login import login_router
from bot.console.maintenance import maintenance_router
from bot.console.metrics import metrics_router
from bot.console.pages import page_router
from bot.console.task_pages import task_router
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
GUARDED = ("/console", "/api", "/metrics", "/u/")  # /u/: the units' signed-link pages


def mount_console(app: FastAPI, services: Services, templates: Jinja2Templates) -> None:
    """Add the console pages, exports, /api and /metrics to ``app``."""
    auth = ConsoleAuth(services)
    app.include_router(login_router(services, auth, templates))
    app.include_router(page_router(services, auth, templates))
    app.include_router(task_router(services, auth, templates))
    app.include_router(export_router(services, auth, templates))
    app.include_router(maintenance_router(services, auth, templates))
    app.include_router(metrics_router(services, auth))
    app.mount("/api", api_app(services, auth))

    @app.get("/", include_in_schema=False)
    def root() -> RedirectResponse:
        return RedirectResponse("/console", status_code=303)

    @app.exception_handler(LoginRequired)
    def to_login(request: Request, exc: LoginRequired) -> RedirectResponse:
        return RedirectResponse(f"/console/login?next={quote(exc.next_path)}", status_code=303)

    @app.middleware("http")
    async def guarded_headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        if request.url.path.startswith(GUARDED):
            for name, value in CONSOLE_HEADERS.items():
                response.headers.setdefault(name, value)
        return response
