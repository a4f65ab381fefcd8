"""Assemble a sandbox site: page routes, static files, admin routes and the fault gate.

A site is a list of routes from one or more page modules plus the faults that govern it.
Later sites (identity portal, department systems, mobile H5) are built the same way and
served by their own `SandboxServer` on their own loopback address.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from sandbox.admin import ADMIN_PREFIX, fault_routes, health_route
from sandbox.faults import FaultSection, PageFaults
from sandbox.layout import SiteInfo, render, render_bare

STATIC_DIR = Path(__file__).parent / "static"
HEALTH_PATH = "/healthz"


@dataclass(frozen=True)
class SiteArea:
    """A part of a site added by its own module (registration, consultation desk, …):
    its routes and its fault section, exposed at /__sandbox/faults/<name>."""

    name: str
    routes: Sequence[BaseRoute]
    faults: FaultSection


class FaultGate:
    """ASGI middleware applying site-wide faults: slowness first, then the outage page.

    Admin paths pass untouched; the portal's own /healthz is never delayed but does
    report the outage, so a monitor can tell "down" from "slow".
    """

    def __init__(self, app: ASGIApp, faults: PageFaults, site: SiteInfo) -> None:
        self.app = app
        self.faults = faults
        self.site = site

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if scope["type"] != "http" or path.startswith(ADMIN_PREFIX):
            await self.app(scope, receive, send)
            return
        delay_ms = self.faults.slow_ms
        if delay_ms > 0 and path != HEALTH_PATH:
            await asyncio.sleep(delay_ms / 1000)
        if self.faults.site_down:
            body = render_bare("unavailable.html", site=self.site)
            response = HTMLResponse(body, status_code=503, headers={"Retry-After": "3600"})
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


def create_site_app(
    routes: Sequence[BaseRoute],
    *,
    site: SiteInfo,
    page_faults: PageFaults,
    faults: FaultSection,
    more_faults: Mapping[str, FaultSection] | None = None,
) -> Starlette:
    """A Starlette app serving `routes` under the fault gate.

    `faults` is exposed at /__sandbox/faults; each entry of `more_faults` at
    /__sandbox/faults/<name>, so later areas keep their own fault section.
    """
    admin: list[BaseRoute] = [health_route(), *fault_routes(faults)]
    for name, section in (more_faults or {}).items():
        admin.extend(fault_routes(section, f"/__sandbox/faults/{name}"))

    async def not_found(request: Request, exc: Exception) -> Response:
        return render(request, "not_found.html", site=site, status_code=404)

    static = Mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return Starlette(
        routes=[*admin, *routes, static],
        middleware=[Middleware(FaultGate, faults=page_faults, site=site)],
        exception_handlers={404: not_found},
    )
