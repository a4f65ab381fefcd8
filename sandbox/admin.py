"""The `/__sandbox/` admin endpoints: read, change and reset a site's faults.

These routes are never delayed or taken down by the faults they control, so a test can
always heal a broken portal.
"""

from __future__ import annotations

import json

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from sandbox.faults import FaultError, FaultSection

ADMIN_PREFIX = "/__sandbox/"


def fault_routes(section: FaultSection, path: str = "/__sandbox/faults") -> list[BaseRoute]:
    """GET (read), PUT (merge a JSON object of fields) and DELETE (reset) one fault section."""

    async def read(request: Request) -> Response:
        return JSONResponse(section.to_dict())

    async def change(request: Request) -> Response:
        try:
            changes = json.loads(await request.body())
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            return _bad_request(None, f"request body is not valid JSON: {exc}")
        if not isinstance(changes, dict):
            return _bad_request(None, "request body must be a JSON object of fault fields")
        try:
            section.update(changes)
        except FaultError as exc:
            return _bad_request(exc.field, str(exc))
        return JSONResponse(section.to_dict())

    async def reset(request: Request) -> Response:
        section.reset()
        return JSONResponse(section.to_dict())

    return [
        Route(path, read, methods=["GET"]),
        Route(path, change, methods=["PUT"]),
        Route(path, reset, methods=["DELETE"]),
    ]


def health_route(path: str = "/__sandbox/health") -> BaseRoute:
    """Liveness of the sandbox process itself, whatever faults are set."""

    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    return Route(path, health, methods=["GET"])


def _bad_request(field_name: str | None, message: str) -> JSONResponse:
    return JSONResponse({"error": message, "field": field_name}, status_code=400)
