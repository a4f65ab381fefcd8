"""What the sandbox's 用户注册 keeps: its faults, the SMS gateway of the test SIMs, the
accounts registered, and the codes sent.

Page handlers (on the server's event loop) write; tests and the admin endpoint read and
change faults from other threads, so every store takes its own lock.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import html
import random
import re
import secrets
import string
import threading
from dataclasses import dataclass, field
from typing import Any

from sandbox.faults import FaultError, FaultFields

SMS_TOKEN = "sandbox-sms-token"  # noqa: S105 - a sandbox's well-known test credential
BYPASS_TOKEN = "sandbox-captcha-bypass"  # noqa: S105 - likewise
CODE_LIFETIME = dt.timedelta(minutes=5)
FORM_KINDS = ("personal", "legal")
CAPTCHA_KINDS = ("", "graphic", "slider")
# What a healthy portal's form accepts: any mobile number 13x–19x.
HEALTHY_PHONE_PATTERN = r"^1[3-9]\d{9}$"
_SEGMENT = re.compile(r"^1[3-9]\d$")


@dataclass
class RegistrationFaults(FaultFields):
    """Defects of the registration pages; the default instance is a healthy portal.

    ``affected_forms`` says which forms (personal, legal) show the other faults.
    """

    rejected_segments: list[str] = field(default_factory=list)  # e.g. ["176", "170"]
    # Accepted by the form's own check, refused by the server when 获取验证码 is pressed.
    code_rejected_segments: list[str] = field(default_factory=list)
    # 获取验证码 answers "too often": the request, not the number, is refused.
    code_request_throttled: bool = False
    phone_pattern: str = ""  # the form's own regex instead of the healthy one
    affected_forms: list[str] = field(default_factory=lambda: list(FORM_KINDS))
    code_request_refused: bool = False  # 获取验证码 answers 短信发送失败
    sms_not_sent: bool = False  # the code request succeeds, no SMS ever leaves
    sms_delay_ms: int = 0  # the SMS arrives late
    captcha: str = ""  # "graphic" or "slider" before 获取验证码
    register_refused: bool = False  # the final 注册 answers 系统繁忙
    register_down: bool = False  # the registration pages answer HTTP 500
    sms_inbox_down: bool = False  # the test SIM gateway itself is down (the monitor's side)
    # The gateway speaks another vendor's JSON: "records" answers {code, data: {records:
    # [{msgId, mobile, content, recvTime "YYYY-MM-DD HH:MM:SS" Beijing}]}} to ?mobile=&start=
    # (milliseconds), without long polling. Not the portal's fault: the operator's gateway.
    sms_gateway_shape: str = ""
    # The phone box has no label, placeholder, tel type or telltale name and the code button
    # says 发送: only configured selectors find them (the registration selector tests).
    form_unlabelled: bool = False

    # Blank entries (e.g. from "176, ,170") are dropped; a bad delay is worded as one rule.
    _drops_blank_entries = True
    _number_message = "expected milliseconds between 0 and {high}"
    _range_message = _number_message

    def for_form(self, kind: str) -> RegistrationFaults:
        """The faults one form shows: all of them if it is affected, else none."""
        current = self.to_dict()
        if kind in current["affected_forms"]:
            return RegistrationFaults(**current)
        healthy = RegistrationFaults()
        healthy.update({"sms_inbox_down": current["sms_inbox_down"]})
        return healthy

    def phone_regex(self) -> str:
        """The regex the form's script and the server check a phone number with."""
        base = self.phone_pattern or HEALTHY_PHONE_PATTERN
        if not self.rejected_segments:
            return base
        body = base[1:] if base.startswith("^") else base
        return f"^(?!{'|'.join(self.rejected_segments)}){body}"

    def _check_rules(self, name: str, value: Any) -> None:
        if name == "captcha" and value not in CAPTCHA_KINDS:
            raise FaultError(name, "expected graphic, slider or empty")
        if name == "phone_pattern" and value:
            try:
                re.compile(value)
            except re.error as exc:
                raise FaultError(name, f"not a regular expression: {exc}") from None
        if name in ("rejected_segments", "code_rejected_segments") and (
            bad := [v for v in value if not _SEGMENT.match(v)]
        ):
            raise FaultError(name, f"not a mobile segment such as 176: {', '.join(bad)}")
        if name == "affected_forms" and (bad := [v for v in value if v not in FORM_KINDS]):
            raise FaultError(name, f"unknown form {', '.join(bad)}; forms: personal, legal")


@dataclass(frozen=True)
class Sms:
    id: str
    phone: str
    text: str
    received_at: dt.datetime

    def as_dict(self) -> dict[str, str]:
        return {
            "id": self.id,
            "phone": self.phone,
            "text": self.text,
            "received_at": self.received_at.isoformat(),
        }


class SmsGateway:
    """The test SIMs: every SMS the portal sends lands here, readable over HTTP."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._messages: list[Sms] = []
        self._waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = []

    def deliver(self, phone: str, text: str) -> Sms:
        with self._lock:
            sms = Sms(secrets.token_hex(6), phone, text, dt.datetime.now(dt.UTC))
            self._messages.append(sms)
            waiters, self._waiters = self._waiters, []
        for loop, event in waiters:
            loop.call_soon_threadsafe(event.set)
        return sms

    def received(self, phone: str, since: dt.datetime | None = None) -> list[Sms]:
        with self._lock:
            return [
                m
                for m in self._messages
                if m.phone == phone and (since is None or m.received_at >= since)
            ]

    async def wait(self, phone: str, since: dt.datetime, timeout_s: float) -> list[Sms]:
        """Messages after ``since``, holding the answer up to ``timeout_s`` for the first."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while True:
            event = asyncio.Event()
            with self._lock:
                self._waiters.append((loop, event))
            found = self.received(phone, since)
            left = deadline - loop.time()
            if found or left <= 0:
                return found
            try:
                await asyncio.wait_for(event.wait(), left)
            except TimeoutError:
                return self.received(phone, since)


@dataclass(frozen=True)
class Account:
    kind: str
    phone: str
    name: str
    password_digest: str
    details: dict[str, str]


class AccountBook:
    """Registered users, by form kind and phone; passwords kept as salted digests."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._accounts: dict[tuple[str, str], Account] = {}
        self._salt = secrets.token_bytes(8)

    def digest(self, password: str) -> str:
        return hashlib.sha256(self._salt + password.encode()).hexdigest()

    def add(self, account: Account) -> bool:
        """Register ``account``; False when that phone already holds one of its kind."""
        with self._lock:
            key = (account.kind, account.phone)
            if key in self._accounts:
                return False
            self._accounts[key] = account
            return True

    def find(self, kind: str, phone: str) -> Account | None:
        with self._lock:
            return self._accounts.get((kind, phone))

    def check(self, kind: str, phone: str, password: str) -> Account | None:
        account = self.find(kind, phone)
        if account is None or not secrets.compare_digest(
            account.password_digest, self.digest(password)
        ):
            return None
        return account

    def remove(self, kind: str, phone: str) -> bool:
        with self._lock:
            return self._accounts.pop((kind, phone), None) is not None

    def __len__(self) -> int:
        with self._lock:
            return len(self._accounts)


class SessionStore:
    """Server-side sessions by cookie: graphic CAPTCHA answers, SMS codes, who logged in."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._data: dict[str, dict[str, str]] = {}

    def new(self) -> str:
        sid = secrets.token_urlsafe(16)
        with self._lock:
            self._data[sid] = {}
        return sid

    def get(self, sid: str | None, key: str) -> str | None:
        with self._lock:
            return self._data.get(sid or "", {}).get(key)

    def put(self, sid: str, key: str, value: str) -> None:
        with self._lock:
            self._data.setdefault(sid, {})[key] = value

    def drop(self, sid: str | None, key: str) -> None:
        with self._lock:
            self._data.get(sid or "", {}).pop(key, None)


@dataclass
class RegistrationDesk:
    """The registration area's state: faults, test SIM inbox, accounts, sessions, codes."""

    faults: RegistrationFaults = field(default_factory=RegistrationFaults)
    sms: SmsGateway = field(default_factory=SmsGateway)
    accounts: AccountBook = field(default_factory=AccountBook)
    sessions: SessionStore = field(default_factory=SessionStore)
    sms_token: str = SMS_TOKEN
    bypass_token: str = BYPASS_TOKEN
    codes: dict[tuple[str, str], tuple[str, dt.datetime]] = field(default_factory=dict)

    def issue_code(self, kind: str, phone: str) -> str:
        code = f"{secrets.randbelow(1_000_000):06d}"
        self.codes[(kind, phone)] = (code, dt.datetime.now(dt.UTC) + CODE_LIFETIME)
        return code

    def take_code(self, kind: str, phone: str, offered: str) -> bool:
        code, expires = self.codes.get((kind, phone), ("", dt.datetime.min.replace(tzinfo=dt.UTC)))
        if (
            not code
            or expires < dt.datetime.now(dt.UTC)
            or not secrets.compare_digest(code, offered.strip())
        ):
            return False
        del self.codes[(kind, phone)]
        return True


def captcha_svg(text: str) -> str:
    """A distorted four-character image, as graphic CAPTCHAs look."""
    rng = random.Random(text + secrets.token_hex(2))
    glyphs = "".join(
        f'<text x="{12 + i * 24}" y="{28 + rng.randint(-4, 4)}" '
        f'transform="rotate({rng.randint(-25, 25)} {20 + i * 24} 22)" '
        f'fill="#{rng.choice(["1d4f91", "a80f15", "2e7d32", "6a1b9a"])}">{html.escape(ch)}</text>'
        for i, ch in enumerate(text)
    )
    lines = "".join(
        f'<line x1="{rng.randint(0, 110)}" y1="{rng.randint(0, 38)}" x2="{rng.randint(0, 110)}" '
        f'y2="{rng.randint(0, 38)}" stroke="#{rng.choice(string.hexdigits[:10]) * 3}" />'
        for _ in range(5)
    )
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" width="110" height="38" '
        'font-family="serif" font-size="24" font-weight="bold">'
        f'<rect width="110" height="38" fill="#f4f1e8"/>{lines}{glyphs}</svg>'
    )
