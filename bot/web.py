"""The web side of the daemon: health, and the unit's pages behind signed links.

Every value that comes from a probed page is rendered through Jinja2 autoescaping.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.templating import Jinja2Templates
from sqlalchemy import text

from bot.console.app import mount_console
from bot.services import Services
from bot.unit_pages import OnRectified, unit_router

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))


@dataclass
class Liveness:
    """What /healthz reports besides the database; the daemon fills these in."""

    scheduler_running: Callable[[], bool] = lambda: False
    browser_connected: Callable[[], bool] = lambda: False


def create_web_app(
    services: Services,
    liveness: Liveness | None = None,
    on_rectified: OnRectified | None = None,
) -> FastAPI:
    """The web app; ``on_rectified(task_id)`` starts a verification (the daemon's)."""
    live = liveness or Liveness()
    app = FastAPI(title="govpatrol", docs_url=None, redoc_url=None)

    @app.get("/healthz")
    def healthz() -> JSONResponse:
        try:
            with services.sessions() as session:
                session.execute(text("SELECT 1"))
            database = True
        except Exception:
            database = False
        body = {
            "database": database,
            "scheduler": live.scheduler_running(),
            "browser": live.browser_connected(),
        }
        return JSONResponse(body, status_code=200 if database else 503)

    app.include_router(unit_router(services, TEMPLATES, on_rectified))
    mount_console(app, services, TEMPLATES)

    @app.exception_handler(RequestValidationError)
    def incomplete(request: Request, exc: RequestValidationError) -> HTMLResponse:
        fields = "、".join(str(err["loc"][-1]) for err in exc.errors())
        return TEMPLATES.TemplateResponse(
            request,
            "message.html",
            {"title": "请求不完整", "message": f"请检查填写的内容（{fields}）后重试。"},
            status_code=400,
        )

    @app.exception_handler(HTTPException)
    def refused(request: Request, exc: HTTPException) -> HTMLResponse:
        return TEMPLATES.TemplateResponse(
            request,
            "message.html",
            {"title": "无法打开", "message": exc.detail},
            status_code=exc.status_code,
        )

    return app
