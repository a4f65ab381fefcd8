"""Console accounts: supervisors (督办人员) and operators (运维), their sessions, API tokens
and login attempts.

Passwords are hashed with argon2id; session and API tokens are random and only their
SHA-256 digests are stored, so a database dump opens no door. Unit contacts have no
account: they act through the signed link of one task.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from enum import StrEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import (
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    delete,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.db import Base, UTCDateTime

MIN_PASSWORD_LENGTH = 10
DEFAULT_TOKEN_LIFETIME = dt.timedelta(days=90)
# argon2id with OWASP's parameters (19 MiB, 2 passes, 1 lane): about 50 ms a check on a
# small server, where the library's 64 MiB × 4 lanes took over a second.
HASHER = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)
# Verified when the account is unknown, so a wrong name costs as much time as a wrong password.
_DUMMY_HASH = HASHER.hash(secrets.token_urlsafe(16))


class Role(StrEnum):
    SUPERVISOR = "supervisor"  # 督办人员: sees, exports and decides
    OPERATOR = "operator"  # 运维: sees and exports; decides nothing

    @property
    def label(self) -> str:
        return "督办人员" if self is Role.SUPERVISOR else "运维人员"


class AccountError(Exception):
    """An account change that is not allowed; the text is Chinese."""


class ConsoleUser(Base):
    __tablename__ = "console_users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(20))
    # Limits every page, export and API answer to this unit and the units below it.
    unit_code: Mapped[str | None] = mapped_column(String(64))
    password_hash: Mapped[str] = mapped_column(String(200))
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class ConsoleSession(Base):
    """A signed-in browser; the cookie holds the token, the table its digest."""

    __tablename__ = "console_sessions"

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("console_users.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class ApiToken(Base):
    """A bearer token for machines (`govpatrol user token NAME --name LABEL`): named per
    account so it can be listed and revoked alone, and expiring (unless made without)."""

    __tablename__ = "api_tokens"
    __table_args__ = (UniqueConstraint("user_id", "name", name="uq_api_tokens_user_id_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("console_users.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(64))
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)  # None: never


class LoginAttempt(Base):
    """One password check, kept for the lockout rule and as an audit trail."""

    __tablename__ = "login_attempts"
    __table_args__ = (
        Index("ix_login_attempts_account_at", "account", "at"),
        Index("ix_login_attempts_client_at", "client", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account: Mapped[str] = mapped_column(String(64))
    client: Mapped[str] = mapped_column(String(64))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    succeeded: Mapped[bool] = mapped_column(Boolean)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def add_user(
    session: Session,
    name: str,
    role: Role,
    password: str,
    now: dt.datetime,
    unit_code: str | None = None,
) -> ConsoleUser:
    """A new enabled account; refuses a taken name or a short password."""
    name = name.strip()
    if not name or len(name) > 64:
        raise AccountError("用户名不能为空，且不超过 64 个字符")
    if session.scalar(select(ConsoleUser.id).where(ConsoleUser.name == name)) is not None:
        raise AccountError(f"用户 {name} 已存在")
    user = ConsoleUser(
        name=name,
        role=role.value,
        unit_code=unit_code,
        password_hash=_hashed(password),
        disabled=False,
        created_at=now,
    )
    session.add(user)
    session.flush()
    return user


def find_user(session: Session, name: str) -> ConsoleUser:
    user = session.scalar(select(ConsoleUser).where(ConsoleUser.name == name))
    if user is None:
        raise AccountError(f"没有用户 {name}")
    return user


def set_password(session: Session, name: str, password: str) -> int:
    """A new password; every session and every API token of the account ends (whoever
    knew the old password could have made one). Returns how many tokens were revoked."""
    user = find_user(session, name)
    user.password_hash = _hashed(password)
    session.execute(delete(ConsoleSession).where(ConsoleSession.user_id == user.id))
    revoked = session.execute(delete(ApiToken).where(ApiToken.user_id == user.id))
    return int(revoked.rowcount)  # type: ignore[attr-defined]


def enable_user(session: Session, name: str) -> ConsoleUser:
    """A disabled account may sign in again (with its password; its old tokens are gone)."""
    user = find_user(session, name)
    user.disabled = False
    return user


def disable_user(session: Session, name: str) -> ConsoleUser:
    """The account can no longer sign in; its sessions and tokens stop working at once."""
    user = find_user(session, name)
    user.disabled = True
    session.execute(delete(ConsoleSession).where(ConsoleSession.user_id == user.id))
    session.execute(delete(ApiToken).where(ApiToken.user_id == user.id))
    return user


def check_password(session: Session, name: str, password: str) -> ConsoleUser | None:
    """The enabled account ``name`` if ``password`` is its password, else None.

    Takes about the same time whether or not the account exists.
    """
    user = session.scalar(select(ConsoleUser).where(ConsoleUser.name == name))
    stored = user.password_hash if user is not None and not user.disabled else _DUMMY_HASH
    try:
        HASHER.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return None
    if user is None or user.disabled:
        return None
    if HASHER.check_needs_rehash(user.password_hash):
        session.execute(
            update(ConsoleUser)
            .where(ConsoleUser.id == user.id)
            .values(password_hash=HASHER.hash(password))
        )
    return user


def issue_token(
    session: Session,
    name: str,
    now: dt.datetime,
    token_name: str = "",
    lifetime: dt.timedelta | None = DEFAULT_TOKEN_LIFETIME,
) -> str:
    """A new API token for an enabled account, named ``token_name`` (``token-N`` when not
    given) and valid for ``lifetime`` (None: until revoked). Only its digest is kept, so
    show it once."""
    user = find_user(session, name)
    if user.disabled:
        raise AccountError(f"用户 {name} 已停用")
    taken = set(session.scalars(select(ApiToken.name).where(ApiToken.user_id == user.id)))
    token_name = token_name.strip() or next(
        f"token-{n}" for n in range(1, len(taken) + 2) if f"token-{n}" not in taken
    )
    if len(token_name) > 64:
        raise AccountError("令牌名称不超过 64 个字符")
    if token_name in taken:
        raise AccountError(f"{name} 已有名为 {token_name} 的令牌；请换一个名称或先吊销它")
    token = "gp_" + secrets.token_urlsafe(32)
    session.add(
        ApiToken(
            user_id=user.id,
            name=token_name,
            digest=digest(token),
            created_at=now,
            expires_at=now + lifetime if lifetime is not None else None,
        )
    )
    session.flush()
    return token


def account_tokens(session: Session, name: str) -> list[ApiToken]:
    """The API tokens of account ``name``, oldest first (expired ones included)."""
    user = find_user(session, name)
    return list(
        session.scalars(select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id))
    )


def revoke_token(session: Session, name: str, token_name: str) -> None:
    """Revoke the token ``token_name`` of account ``name``; it stops working at once."""
    user = find_user(session, name)
    revoked = session.execute(
        delete(ApiToken).where(ApiToken.user_id == user.id, ApiToken.name == token_name)
    )
    if not revoked.rowcount:  # type: ignore[attr-defined]
        raise AccountError(f"{name} 没有名为 {token_name} 的令牌")


def user_for_token(session: Session, token: str, now: dt.datetime) -> ConsoleUser | None:
    """The enabled account an unexpired bearer token belongs to, or None."""
    user = session.scalar(
        select(ConsoleUser)
        .join(ApiToken, ApiToken.user_id == ConsoleUser.id)
        .where(
            ApiToken.digest == digest(token),
            or_(ApiToken.expires_at.is_(None), ApiToken.expires_at > now),
        )
    )
    return user if user is not None and not user.disabled else None


def _hashed(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"密码至少 {MIN_PASSWORD_LENGTH} 位")
    return HASHER.hash(password)
