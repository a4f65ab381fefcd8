"""The web side of the daemon: health, and the unit's pages behind signed links.

Every value that comes from a probed page is rendered through Jinja2 autoescaping.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.templating import Jinja2Templates
from sqlalchemy import text

from bot.console.app import mount_console
from bot.public_pages import router as public_router
from bot.services import Services
from bot.unit_pages import OnRectified, mount_unit_pages
from bot.web_server import trust_forwarded_headers
from bot.web_state import get_services, share

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
health_router = APIRouter()


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
    app = FastAPI(title="govpatrol", docs_url=None, redoc_url=None)
    share(app, services, TEMPLATES)
    app.state.liveness = liveness or Liveness()
    app.include_router(health_router)
    mount_unit_pages(app, services.settings.signing_key(), on_rectified)
    mount_console(app, services)
    app.include_router(public_router)  # the published 通报, no login
    app.exception_handler(RequestValidationError)(incomplete)
    app.exception_handler(HTTPException)(refused)
    trust_forwarded_headers(app, services.settings)
    return app


def get_liveness(request: Request) -> Liveness:
    liveness: Liveness = request.app.state.liveness
    return liveness


@health_router.get("/healthz")
def healthz(
    services: Services = Depends(get_services), live: Liveness = Depends(get_liveness)
) -> JSONResponse:
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


def incomplete(request: Request, exc: RequestValidationError) -> HTMLResponse:
    """A page, not FastAPI's JSON, naming the fields a form left out or got wrong."""
    fields = "、".join(str(err["loc"][-1]) for err in exc.errors())
    return TEMPLATES.TemplateResponse(
        request,
        "message.html",
        {"title": "请求不完整", "message": f"请检查填写的内容（{fields}）后重试。"},
        status_code=400,
    )


def refused(request: Request, exc: HTTPException) -> HTMLResponse:
    """A page with the refusal's Chinese text (/api, a mounted app, keeps its JSON)."""
    return TEMPLATES.TemplateResponse(
        request,
        "message.html",
        {"title": "无法打开", "message": exc.detail},
        status_code=exc.status_code,
    )
