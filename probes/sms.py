"""The SMS-inbox boundary: where the bot reads the text messages its test number receives.

A test SIM sits in a gateway (an SMS modem pool, a carrier test API, the sandbox's
inbox); the gateway answers an HTTP request with the messages a number received. The
probe only sees :class:`SmsInbox`; :class:`HttpSmsInbox` talks to such a gateway and
:class:`MemorySmsInbox` is the fake for tests that need no network.

HTTP gateway contract (what ``HttpSmsInbox`` sends and expects)::

    GET <url>?phone=13800138000&since=<unix seconds>&wait=<seconds>
    Authorization: Bearer <token>
    → 200 {"messages": [{"id": "…", "phone": "…", "text": "…", "received_at": "ISO 8601"}]}

``wait`` asks the gateway to hold the answer until a message arrives (long polling);
gateways that ignore it answer at once and the client polls again after ``poll_s``.

A gateway that speaks otherwise (other parameter names, the list under ``data.records``,
``mobile``/``content``/``recvTime`` fields, times in milliseconds or Beijing time) is
described by a :class:`GatewayShape` from the catalog — no program to write for it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import time
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import httpx
from pydantic import SecretStr

# "验证码为 123456", "验证码：1234", "code 123456": a code named as such wins over any number.
DEFAULT_CODE_PATTERN = r"(?:验证码|校验码|动态码|code)\D{0,8}(\d{4,8})|(?<!\d)(\d{6})(?!\d)"
MAX_WAIT_PER_REQUEST_S = 20.0


@dataclass(frozen=True)
class GatewayShape:
    """How a gateway names things: query parameters, and dotted paths into its JSON."""

    phone_param: str = "phone"
    since_param: str = "since"
    wait_param: str = "wait"  # "" when the gateway cannot long-poll
    since_unit: str = "s"  # "s" unix seconds, "ms" unix milliseconds, "iso" ISO 8601
    messages: str = "messages"  # the list; "" when the body is the list itself
    id: str = "id"  # "" when the gateway gives none: phone, time and text stand in
    phone: str = "phone"
    text: str = "text"
    received_at: str = "received_at"
    zone: str = "Asia/Shanghai"  # for times written without a zone

    def query(self, phone: str, since: dt.datetime, wait_s: float) -> dict[str, str]:
        params = {self.phone_param: phone, self.since_param: _since(since, self.since_unit)}
        if self.wait_param:
            params[self.wait_param] = f"{wait_s:g}"
        return params

    def parse(self, body: Any) -> list[SmsMessage]:
        raw = _at(body, self.messages)
        if not isinstance(raw, list):
            where = self.messages or "（应答本身）"
            raise TypeError(f"{where} 处不是短信列表")
        messages = []
        for item in raw:
            text = _at(item, self.text)
            if text is None:
                raise KeyError(f"短信缺少 {self.text} 字段")
            phone = _at(item, self.phone)
            received = _moment(_at(item, self.received_at), self.zone)
            ident = _at(item, self.id) if self.id else None
            if ident is None:
                ident = f"{phone}|{received.isoformat() if received else ''}|{text}"
            messages.append(
                SmsMessage(
                    id=str(ident),
                    phone=str(phone or ""),
                    text=str(text),
                    received_at=received,
                )
            )
        return messages


GOVPATROL_GATEWAY = GatewayShape()


class SmsInboxUnavailable(Exception):
    """The gateway could not be asked (down, refused our token, answered nonsense).

    The bot then cannot tell whether the portal sent the SMS: the run is inconclusive.
    """


@dataclass(frozen=True)
class SmsMessage:
    id: str
    phone: str
    text: str
    received_at: dt.datetime | None = None


class SmsInbox(Protocol):
    async def messages(
        self, phone: str, *, since: dt.datetime, wait_s: float = 0.0
    ) -> list[SmsMessage]:
        """Messages ``phone`` received after ``since``; may wait up to ``wait_s`` for one.

        Raises :class:`SmsInboxUnavailable` when the gateway cannot be asked.
        """
        ...


class HttpSmsInbox:
    """An SMS gateway reached over HTTP (see the module docstring for the contract)."""

    def __init__(
        self,
        url: str,
        token: SecretStr | None = None,
        *,
        connect_timeout_s: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
        shape: GatewayShape = GOVPATROL_GATEWAY,
    ) -> None:
        self.url = url
        self.shape = shape
        self._token = token
        self._connect_timeout_s = connect_timeout_s
        self._transport = transport

    async def messages(
        self, phone: str, *, since: dt.datetime, wait_s: float = 0.0
    ) -> list[SmsMessage]:
        wait_s = max(0.0, min(wait_s, MAX_WAIT_PER_REQUEST_S))
        headers = {"Accept": "application/json"}
        if self._token is not None:
            headers["Authorization"] = f"Bearer {self._token.get_secret_value()}"
        params = self.shape.query(phone, since, wait_s)
        timeout = httpx.Timeout(self._connect_timeout_s + wait_s, connect=self._connect_timeout_s)
        try:
            async with httpx.AsyncClient(timeout=timeout, transport=self._transport) as client:
                answer = await client.get(self.url, params=params, headers=headers)
        except httpx.HTTPError as exc:
            raise SmsInboxUnavailable(f"短信接收网关 {self.url} 无法访问：{_reason(exc)}") from exc
        if answer.status_code in (401, 403):
            raise SmsInboxUnavailable(
                f"短信接收网关拒绝访问（HTTP {answer.status_code}），请检查令牌"
            )
        if answer.status_code >= 400:
            raise SmsInboxUnavailable(f"短信接收网关返回 HTTP {answer.status_code}")
        try:
            return self.shape.parse(answer.json())
        except (ValueError, TypeError, KeyError) as exc:
            raise SmsInboxUnavailable(
                f"短信接收网关的应答无法解析：{exc}；请按网关的字段配置 sms_inbox.fields"
            ) from exc


class MemorySmsInbox:
    """An in-memory inbox: tests put messages in, the probe reads them out."""

    def __init__(self) -> None:
        self._messages: list[SmsMessage] = []
        self._arrived = asyncio.Event()
        self.unavailable = False

    def deliver(self, phone: str, text: str) -> SmsMessage:
        message = SmsMessage(str(len(self._messages) + 1), phone, text, dt.datetime.now(dt.UTC))
        self._messages.append(message)
        self._arrived.set()
        return message

    async def messages(
        self, phone: str, *, since: dt.datetime, wait_s: float = 0.0
    ) -> list[SmsMessage]:
        if self.unavailable:
            raise SmsInboxUnavailable("短信接收网关无法访问")
        found = self._matching(phone, since)
        if not found and wait_s > 0:
            self._arrived.clear()
            try:
                await asyncio.wait_for(self._arrived.wait(), wait_s)
            except TimeoutError:
                return []
            found = self._matching(phone, since)
        return found

    def _matching(self, phone: str, since: dt.datetime) -> list[SmsMessage]:
        return [
            m
            for m in self._messages
            if m.phone == phone and (m.received_at is None or m.received_at >= since)
        ]


@dataclass(frozen=True)
class ReceivedCode:
    code: str
    message: SmsMessage
    seconds: float  # from the code request to the message's arrival, as the bot saw it


def extract_code(text: str, pattern: str = DEFAULT_CODE_PATTERN) -> str | None:
    """The verification code in an SMS text, or None when the text carries none."""
    match = re.search(pattern, text, re.IGNORECASE)
    if match is None:
        return None
    groups = [g for g in match.groups() if g] if match.groups() else []
    return groups[0] if groups else match.group(0)


async def wait_for_code(
    inbox: SmsInbox,
    phone: str,
    *,
    since: dt.datetime,
    ignore_ids: Collection[str],
    limit_s: float,
    poll_s: float = 2.0,
    pattern: str = DEFAULT_CODE_PATTERN,
    requested_at: float | None = None,
) -> ReceivedCode | None:
    """The first new message to ``phone`` carrying a code within ``limit_s`` seconds of
    ``requested_at`` (a ``time.monotonic()`` reading of the click; default: now).

    Messages in ``ignore_ids`` were already there before the request (an earlier run's
    code must never pass for this one). Raises :class:`SmsInboxUnavailable`.
    """
    started = time.monotonic() if requested_at is None else requested_at
    while True:
        left = limit_s - (time.monotonic() - started)
        asked = time.monotonic()
        messages = await inbox.messages(phone, since=since, wait_s=max(0.0, left))
        for message in messages:
            if message.id in ignore_ids:
                continue
            code = extract_code(message.text, pattern)
            if code is not None:
                return ReceivedCode(code, message, round(time.monotonic() - started, 3))
        # Ask only for what came after the messages seen, so a long-polling gateway waits
        # for the next one instead of answering at once with old ones.
        stamps = [m.received_at for m in messages if m.received_at is not None]
        if stamps:
            since = max(since, max(stamps) + dt.timedelta(microseconds=1))
        left = limit_s - (time.monotonic() - started)
        if left <= 0:
            return None
        # A gateway without long polling answered at once: wait before asking again.
        answered_in = time.monotonic() - asked
        if answered_in < poll_s:
            await asyncio.sleep(min(poll_s - answered_in, left))


async def message_ids(inbox: SmsInbox, phone: str, since: dt.datetime) -> set[str]:
    """Ids of the messages ``phone`` already holds: what a new code must not be."""
    return {message.id for message in await inbox.messages(phone, since=since)}


def _at(body: Any, path: str) -> Any:
    """``body`` followed along a dotted ``path`` (``data.records``); "" is the body itself."""
    for part in path.split(".") if path else []:
        if isinstance(body, dict):
            body = body.get(part)
        elif isinstance(body, list) and part.isdigit() and int(part) < len(body):
            body = body[int(part)]
        else:
            return None
    return body


def _moment(value: Any, zone: str) -> dt.datetime | None:
    """A gateway's time: unix seconds or milliseconds (as number or digits), or ISO 8601 /
    ``2026-12-03 10:00:00``; a time without a zone is in ``zone``."""
    if value is None or value == "":
        return None
    if isinstance(value, int | float) or (isinstance(value, str) and value.isdigit()):
        number = float(value)
        seconds = number / 1000 if number > 1e11 else number  # milliseconds past 1973
        return dt.datetime.fromtimestamp(seconds, dt.UTC)
    moment = dt.datetime.fromisoformat(str(value))
    return moment if moment.tzinfo else moment.replace(tzinfo=ZoneInfo(zone))


def _since(moment: dt.datetime, unit: str) -> str:
    if unit == "ms":
        return str(int(moment.timestamp() * 1000))
    if unit == "iso":
        return moment.astimezone(dt.UTC).isoformat()
    return f"{moment.timestamp():.3f}"


def _reason(exc: httpx.HTTPError) -> str:
    text = str(exc) or type(exc).__name__
    return text.splitlines()[0][:160]
