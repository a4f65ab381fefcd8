"""The local SMTP server and HTTP receiver in a process of their own, noting when each
notice arrived, so they do not share the sender's GIL.

Prints one JSON line with their addresses; on a ``dump`` line on standard input, prints
one JSON line per notice received (``[channel, subject, key, arrived epoch seconds]``)
and an ``end`` line; exits when standard input closes.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from types import TracebackType
from typing import Any, Self, TypeVar

from bot.receivers import MailCatcher, ReceivedMail, ReceivedPost, WebhookCatcher, _Inbox
from notifications.transport import IDEMPOTENCY_HEADER

T = TypeVar("T")
START_TIMEOUT_S = 30.0


class StampedInbox(_Inbox[T]):
    """An inbox that also notes when each item arrived."""

    def __init__(self) -> None:
        super().__init__()
        self.arrived: list[float] = []

    def add(self, item: T) -> None:
        self.arrived.append(time.time())
        super().add(item)


class Arrival:
    def __init__(self, channel: str, subject: str, key: str, at: float) -> None:
        self.channel = channel
        self.subject = subject
        self.key = key
        self.at = at


class InboxProcess:
    """The receivers as a child process; ``arrivals()`` asks it what came in."""

    def __init__(self) -> None:
        self._child: subprocess.Popen[str] | None = None
        self.addresses: dict[str, Any] = {}

    def start(self) -> Self:
        self._child = subprocess.Popen(
            [sys.executable, "-m", "bench.inboxes"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self._child.stdout is not None
        self.addresses = json.loads(self._child.stdout.readline())
        return self

    def mail_url(self, to: str) -> str:
        host, port = self.addresses["mail"]
        return f"mailto://{host}:{port}?from=govpatrol@example.com&to={to}&mode=insecure"

    def webhook_url(self, path: str) -> str:
        return f"json://{self.addresses['webhook']}/{path}"

    def arrivals(self) -> list[Arrival]:
        assert self._child is not None and self._child.stdin and self._child.stdout
        self._child.stdin.write("dump\n")
        self._child.stdin.flush()
        found = []
        for line in self._child.stdout:
            if line.strip() == "end":
                break
            channel, subject, key, at = json.loads(line)
            found.append(Arrival(channel, subject, key, at))
        return found

    def stop(self) -> None:
        child, self._child = self._child, None
        if child is None:
            return
        if child.stdin is not None:
            child.stdin.close()
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def main() -> None:
    mail = MailCatcher()
    mail_inbox: StampedInbox[ReceivedMail] = StampedInbox()
    mail.inbox = mail_inbox
    mail.start()
    webhook = WebhookCatcher()
    hook_inbox: StampedInbox[ReceivedPost] = StampedInbox()
    webhook.inbox = hook_inbox
    webhook.start()
    print(
        json.dumps({"mail": [mail.host, mail.port], "webhook": f"{webhook.host}:{webhook.port}"}),
        flush=True,
    )
    header = IDEMPOTENCY_HEADER.lower()
    try:
        for line in sys.stdin:
            if line.strip() != "dump":
                continue
            for received, at in zip(mail_inbox.items, mail_inbox.arrived, strict=False):
                key = next((v for k, v in received.headers.items() if k.lower() == header), "")
                print(json.dumps(["mail", received.subject, key, at], ensure_ascii=False))
            for post, at in zip(hook_inbox.items, hook_inbox.arrived, strict=False):
                key = post.headers.get(header, "")
                print(json.dumps(["webhook", post.title, key, at], ensure_ascii=False))
            print("end", flush=True)
    finally:
        webhook.stop()
        mail.stop()


if __name__ == "__main__":
    main()
