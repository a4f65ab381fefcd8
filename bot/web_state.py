"""What every web handler may ask for, held on ``app.state`` and handed out by dependencies.

``create_web_app`` shares the services and the templates once; a handler names them as
parameters (``services: Services = Depends(get_services)``), so it is a plain module-level
function that can be read alone and tested with ``app.dependency_overrides``.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.templating import Jinja2Templates

from bot.services import Services


def share(app: FastAPI, services: Services, templates: Jinja2Templates | None = None) -> None:
    """Hold ``services`` (and the page templates, for an app that renders pages) on ``app``."""
    app.state.services = services
    if templates is not None:
        app.state.templates = templates


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


def get_templates(request: Request) -> Jinja2Templates:
    templates: Jinja2Templates = request.app.state.templates
    return templates
