"""Signing in and out of the console."""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from bot.console.accounts import check_password
from bot.console.auth import (
    LOGIN_COOKIE,
    SESSION_COOKIE,
    SESSION_LIFETIME,
    ConsoleAuth,
    client_address,
    get_auth,
)
from bot.services import Services
from bot.web_state import get_services, get_templates

Text = Annotated[str, Form()]
HOME = "/console"
router = APIRouter(prefix="/console")


@router.get("/login", response_class=HTMLResponse)
def login_page(
    request: Request,
    next: str = HOME,
    auth: ConsoleAuth = Depends(get_auth),
    templates: Jinja2Templates = Depends(get_templates),
) -> Response:
    return login_form(request, auth, templates, next)


@router.post("/login")
def login(
    request: Request,
    name: Text = "",
    password: Text = "",
    csrf: Text = "",
    next: Text = HOME,
    services: Services = Depends(get_services),
    auth: ConsoleAuth = Depends(get_auth),
    templates: Jinja2Templates = Depends(get_templates),
) -> Response:
    nonce = request.cookies.get(LOGIN_COOKIE, "")
    if not nonce or not hmac.compare_digest(auth.login_form_token(nonce), csrf):
        return login_form(request, auth, templates, next, "表单已失效，请重新输入", status=403)
    name, client = name.strip(), client_address(request)
    with services.sessions.begin() as session:  # committed: concurrent tries count it
        attempt = auth.begin_attempt(session, name, client)
    with services.sessions.begin() as session:
        if auth.locked_out(session, name, client, attempt):  # the try stays a failure
            return login_form(
                request, auth, templates, next, "登录失败次数过多，请 15 分钟后再试", status=429
            )
        user = check_password(session, name, password)
        auth.finish_attempt(session, attempt, user is not None)
        if user is None:
            return login_form(request, auth, templates, next, "用户名或密码错误", status=401)
        auth.end_session(session, request.cookies.get(SESSION_COOKIE, ""))  # no fixation
        cookie = auth.start_session(session, user)
    response = RedirectResponse(safe_next(next), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        cookie,
        max_age=int(SESSION_LIFETIME.total_seconds()),
        httponly=True,
        samesite="lax",
        secure=auth.secure_cookies,
        path="/",
    )
    response.delete_cookie(LOGIN_COOKIE, path="/console/login")
    return response


@router.post("/logout")
def logout(
    request: Request,
    csrf: Text = "",
    services: Services = Depends(get_services),
    auth: ConsoleAuth = Depends(get_auth),
) -> Response:
    viewer = auth.page_viewer(request)
    auth.require_csrf(viewer, csrf)
    with services.sessions.begin() as session:
        auth.end_session(session, request.cookies.get(SESSION_COOKIE, ""))
    response = RedirectResponse("/console/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


def login_form(
    request: Request,
    auth: ConsoleAuth,
    templates: Jinja2Templates,
    next_path: str,
    error: str = "",
    status: int = 200,
) -> Response:
    """The login page, paired with a fresh login cookie its form token is derived from."""
    nonce = request.cookies.get(LOGIN_COOKIE) or secrets.token_urlsafe(16)
    response = templates.TemplateResponse(
        request,
        "console/login.html",
        {
            "csrf": auth.login_form_token(nonce),
            "next": safe_next(next_path),
            "error": error,
            "viewer": None,
        },
        status_code=status,
    )
    response.set_cookie(
        LOGIN_COOKIE,
        nonce,
        httponly=True,
        samesite="lax",
        secure=auth.secure_cookies,
        path="/console/login",
    )
    return response


def safe_next(path: str) -> str:
    """Only a path on this site: no scheme, no host, no ``//`` or ``/\\`` tricks."""
    if not path.startswith("/") or path.startswith(("//", "/\\")) or "\n" in path:
        return HOME
    return path
