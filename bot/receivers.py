"""Local stand-ins for the world's inboxes: a real SMTP server and a real HTTP webhook.

The demo shows notices arriving in them; the tests assert on what they received. Both
are real servers on localhost — Apprise talks to them exactly as it would to a mail
relay or a chat service.
"""

from __future__ import annotations

import email
import email.policy
import json
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, Self, TypeVar

from aiosmtpd.controller import Controller
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from sandbox.server import SandboxServer

T = TypeVar("T")


@dataclass(frozen=True)
class ReceivedMail:
    sender: str
    recipients: tuple[str, ...]
    subject: str
    text: str
    headers: dict[str, str]


@dataclass(frozen=True)
class ReceivedPost:
    path: str
    title: str
    message: str
    headers: dict[str, str]
    body: dict[str, Any] = field(default_factory=dict)


class _Inbox(Generic[T]):
    def __init__(self) -> None:
        self._items: list[T] = []
        self._changed = threading.Condition()

    def add(self, item: T) -> None:
        with self._changed:
            self._items.append(item)
            self._changed.notify_all()

    @property
    def items(self) -> list[T]:
        with self._changed:
            return list(self._items)

    def wait_for(self, accept: Callable[[T], bool], timeout: float) -> T | None:
        """The first item ``accept`` takes, waiting up to ``timeout`` seconds for it."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for item in self._items:
                    if accept(item):
                        return item
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self._changed.wait(left)


class MailCatcher:
    """An SMTP server on localhost that keeps every message it accepts."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host = host
        self.port = port or free_port(host)
        self.inbox: _Inbox[ReceivedMail] = _Inbox()
        self._controller: Controller | None = None

    def start(self) -> Self:
        self._controller = Controller(_MailHandler(self.inbox), hostname=self.host, port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    @property
    def running(self) -> bool:
        return self._controller is not None

    def apprise_url(self, to: str, sender: str = "govpatrol@example.com") -> str:
        return f"mailto://{self.host}:{self.port}?from={sender}&to={to}&mode=insecure"

    @property
    def messages(self) -> list[ReceivedMail]:
        return self.inbox.items


class _MailHandler:
    def __init__(self, inbox: _Inbox[ReceivedMail]) -> None:
        self.inbox = inbox

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        part = message.get_body(preferencelist=("plain", "html"))
        text = part.get_content() if part is not None else ""
        self.inbox.add(
            ReceivedMail(
                sender=envelope.mail_from,
                recipients=tuple(envelope.rcpt_tos),
                subject=str(message.get("Subject", "")),
                text=str(text).replace("\r\n", "\n"),
                headers={key: str(value) for key, value in message.items()},
            )
        )
        return "250 Message accepted for delivery"


class WebhookCatcher:
    """An HTTP server that keeps every JSON notification posted to it (Apprise ``json://``)."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.inbox: _Inbox[ReceivedPost] = _Inbox()
        self.status = 200  # tests set 500 to play a failing chat service
        app = Starlette(routes=[Route("/{path:path}", self._receive, methods=["POST"])])
        self.server = SandboxServer(app, host=host, port=port)

    def start(self) -> Self:
        self.server.start()
        return self

    def stop(self) -> None:
        self.server.stop()

    @property
    def host(self) -> str:
        return self.server.host

    @property
    def port(self) -> int:
        return self.server.port

    def apprise_url(self, path: str = "hook") -> str:
        return f"json://{self.host}:{self.port}/{path}"

    @property
    def messages(self) -> list[ReceivedPost]:
        return self.inbox.items

    async def _receive(self, request: Request) -> JSONResponse:
        if self.status >= 400:
            return JSONResponse({"errcode": self.status}, status_code=self.status)
        raw = await request.body()
        try:
            body = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            body = {"message": raw.decode("utf-8", "replace")}
        self.inbox.add(
            ReceivedPost(
                path=request.url.path,
                title=str(body.get("title", "")),
                message=str(body.get("message", "")),
                headers=dict(request.headers),
                body=body,
            )
        )
        return JSONResponse({"errcode": 0, "errmsg": "ok"})


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])
