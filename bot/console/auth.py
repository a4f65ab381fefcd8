"""Who is asking: session cookies for people, bearer tokens for machines, CSRF tokens for
forms, the login lockout, and the unit scope every answer is filtered to.

Cookie: ``govpatrol_session`` holds a random token signed with the product key; the
database holds its digest and expiry, so signing out ends it for good. HttpOnly,
SameSite=Lax, Secure when ``public_url`` is https, 12 hours.

CSRF: every form carries HMAC(key, session token); a post without it is refused. The
login form, before there is a session, pairs a random cookie with its HMAC.

Lockout: 5 failed logins of one account (since its last success) or 20 from one client
address within 15 minutes refuse further tries until those failures are 15 minutes old. A
refused try counts as a failure too: tries arriving together all count each other, so a
burst locks the account even when fewer than 5 of its passwords were checked.
Attempts are rows in the database, so the rule holds across restarts and across the
processes (``run`` and ``web``) that share one database. A try is recorded (and committed)
before it is counted and before the password is checked, so 40 tries at once check at most
the limit.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from fastapi import Depends, HTTPException, Request
from itsdangerous import BadSignature, Signer
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from bot.console.accounts import (
    ConsoleSession,
    ConsoleUser,
    LoginAttempt,
    Role,
    digest,
    user_for_token,
)
from bot.services import Services
from config.units import subtree
from tasks.lifecycle import Actor
from tasks.lifecycle import Role as TaskRole

SESSION_COOKIE = "govpatrol_session"
LOGIN_COOKIE = "govpatrol_login"
SESSION_LIFETIME = dt.timedelta(hours=12)  # from sign-in, whatever the activity
SESSION_IDLE = dt.timedelta(minutes=30)  # without a request, the session ends sooner
SESSION_TOUCH = dt.timedelta(minutes=1)  # extend at most this often (one write a minute)
LOCKOUT_WINDOW = dt.timedelta(minutes=15)
MAX_ACCOUNT_FAILURES = 5
MAX_CLIENT_FAILURES = 20  # one office behind one NAT address shares this budget
ATTEMPTS_KEPT = dt.timedelta(days=30)


class LoginRequired(Exception):
    """A page was asked for without a valid session; the app redirects to the login."""

    def __init__(self, next_path: str) -> None:
        self.next_path = next_path


@dataclass(frozen=True)
class Viewer:
    """The signed-in account, with the units it may see (None: all of them)."""

    user_id: int
    name: str
    role: Role
    unit_code: str | None
    units: frozenset[str] | None
    csrf: str = ""  # empty for bearer tokens: they cannot post forms

    def sees(self, unit_code: str) -> bool:
        return self.units is None or unit_code in self.units

    @property
    def can_decide(self) -> bool:
        return self.role is Role.SUPERVISOR

    @property
    def actor(self) -> Actor:
        """Who the account is in a task's history (a supervisor, for the lifecycle)."""
        return Actor(f"{self.name}（{self.role.label}）", TaskRole.SUPERVISOR)


class ConsoleAuth:
    def __init__(self, services: Services) -> None:
        self.services = services
        key = services.settings.signing_key()
        self._signer = Signer(key, salt="govpatrol.console-session")
        self._csrf_key = hashlib.sha256(("console-csrf:" + key).encode()).digest()
        self.secure_cookies = services.settings.public_url.startswith("https://")

    # -- sessions --------------------------------------------------------------------------

    def start_session(self, session: Session, user: ConsoleUser) -> str:
        """A new session for ``user``; returns the signed cookie value."""
        token = secrets.token_urlsafe(32)
        now = self.services.clock.now()
        session.add(
            ConsoleSession(
                digest=digest(token),
                user_id=user.id,
                created_at=now,
                expires_at=now + SESSION_IDLE,
            )
        )
        session.execute(delete(ConsoleSession).where(ConsoleSession.expires_at < now))
        return self._signer.sign(token).decode()

    def end_session(self, session: Session, cookie: str) -> None:
        token = self._unsigned(cookie)
        if token:
            session.execute(delete(ConsoleSession).where(ConsoleSession.digest == digest(token)))

    def viewer(self, request: Request) -> Viewer | None:
        """The account behind the request's bearer token or session cookie, or None."""
        header = request.headers.get("authorization", "")
        with self.services.sessions.begin() as session:
            if header.lower().startswith("bearer "):
                user = user_for_token(session, header[7:].strip(), self.services.clock.now())
                return self._viewer(user, "") if user is not None else None
            token = self._unsigned(request.cookies.get(SESSION_COOKIE, ""))
            if not token:
                return None
            row = session.get(ConsoleSession, digest(token))
            now = self.services.clock.now()
            if row is None or row.expires_at <= now:
                return None
            # Activity moves the idle limit on, never past the session's whole lifetime.
            extended = min(now + SESSION_IDLE, row.created_at + SESSION_LIFETIME)
            if extended - row.expires_at >= SESSION_TOUCH:
                row.expires_at = extended
            user = session.get(ConsoleUser, row.user_id)
            if user is None or user.disabled:
                return None
            return self._viewer(user, self.csrf_for(token))

    def page_viewer(self, request: Request) -> Viewer:
        """For pages: the viewer, or a redirect to the login page."""
        found = self.viewer(request)
        if found is None:
            path = request.url.path
            raise LoginRequired(f"{path}?{request.url.query}" if request.url.query else path)
        return found

    def api_viewer(self, request: Request) -> Viewer:
        """For the API and /metrics: the viewer, or 401."""
        found = self.viewer(request)
        if found is None:
            raise HTTPException(401, "需要登录或 API 令牌", headers={"WWW-Authenticate": "Bearer"})
        return found

    # -- CSRF ------------------------------------------------------------------------------

    def csrf_for(self, token: str) -> str:
        return hmac.new(self._csrf_key, token.encode(), hashlib.sha256).hexdigest()

    def require_csrf(self, viewer: Viewer, sent: str) -> None:
        if not viewer.csrf or not hmac.compare_digest(viewer.csrf, sent):
            raise HTTPException(403, "表单已失效，请刷新页面后重试")

    def login_form_token(self, nonce: str) -> str:
        return self.csrf_for("login:" + nonce)

    # -- lockout ---------------------------------------------------------------------------

    def begin_attempt(self, session: Session, account: str, client: str) -> int:
        """Record a password check about to happen, as a failure until it succeeds; commit
        it before :meth:`locked_out` so that simultaneous tries all count each other."""
        row = LoginAttempt(
            account=account[:64], client=client[:64], at=self.services.clock.now(), succeeded=False
        )
        session.add(row)
        session.flush()
        return row.id

    def locked_out(self, session: Session, account: str, client: str, attempt: int = 0) -> bool:
        """Whether the account or the client address is locked out right now, counting
        every other recorded failure (those still being checked too) but ``attempt``.

        Whoever counts last among tries that were let through saw all the others: so at
        most the limit is ever checked, however many tries arrive at once.
        """
        account, client = account[:64], client[:64]  # as recorded
        since = self.services.clock.now() - LOCKOUT_WINDOW
        last_success = session.scalar(
            select(func.max(LoginAttempt.id)).where(
                LoginAttempt.account == account, LoginAttempt.succeeded.is_(True)
            )
        )
        failures = (LoginAttempt.succeeded.is_(False), LoginAttempt.at > since)
        by_account = session.scalar(
            select(func.count(LoginAttempt.id)).where(
                LoginAttempt.account == account,
                LoginAttempt.id > (last_success or 0),
                LoginAttempt.id != attempt,
                *failures,
            )
        )
        by_client = session.scalar(
            select(func.count(LoginAttempt.id)).where(
                LoginAttempt.client == client, LoginAttempt.id != attempt, *failures
            )
        )
        return (by_account or 0) >= MAX_ACCOUNT_FAILURES or (by_client or 0) >= MAX_CLIENT_FAILURES

    def finish_attempt(self, session: Session, attempt: int, ok: bool) -> None:
        """The check's outcome; attempts older than the audit period are dropped."""
        session.execute(update(LoginAttempt).where(LoginAttempt.id == attempt).values(succeeded=ok))
        now = self.services.clock.now()
        session.execute(delete(LoginAttempt).where(LoginAttempt.at < now - ATTEMPTS_KEPT))

    # -- internals -------------------------------------------------------------------------

    def _unsigned(self, cookie: str) -> str:
        if not cookie:
            return ""
        try:
            return self._signer.unsign(cookie).decode()
        except BadSignature:
            return ""

    def _viewer(self, user: ConsoleUser, csrf: str) -> Viewer:
        return Viewer(
            user_id=user.id,
            name=user.name,
            role=Role(user.role),
            unit_code=user.unit_code,
            units=self.scope(user.unit_code),
            csrf=csrf,
        )

    def scope(self, unit_code: str | None) -> frozenset[str] | None:
        """The units an account limited to ``unit_code`` sees; never wider than asked."""
        if unit_code is None:
            return None
        try:
            return frozenset(subtree(self.services.catalog, unit_code))
        except KeyError:
            return frozenset({unit_code})  # the unit left the catalog: its own tasks only


def get_auth(request: Request) -> ConsoleAuth:
    """The app's ConsoleAuth, held on ``app.state`` by ``mount_console``."""
    auth: ConsoleAuth = request.app.state.console_auth
    return auth


def page_viewer(request: Request, auth: ConsoleAuth = Depends(get_auth)) -> Viewer:
    """For pages: the viewer, or a redirect to the login page."""
    return auth.page_viewer(request)


def api_viewer(request: Request, auth: ConsoleAuth = Depends(get_auth)) -> Viewer:
    """For the API: the viewer, or 401."""
    return auth.api_viewer(request)


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"
