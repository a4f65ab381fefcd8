"""At-least-once, and in the tested cases exactly once: the real daemon is SIGKILLed while
its notices wait for an SMTP server that is down; after a restart and the server's return
every notice arrives, none twice."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bot.receivers import MailCatcher, free_port
from notifications.transport import IDEMPOTENCY_HEADER
from sandbox.server import PortalSandbox
from tests.catalogs import portal_catalog

pytestmark = pytest.mark.browser
REPO = Path(__file__).resolve().parent.parent


class DaemonProcess:
    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.process: subprocess.Popen[str] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "--log-level", "INFO", "run"],
            cwd=REPO,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> str:
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        output, _ = self.process.communicate(timeout=60)
        return output


@pytest.fixture
def daemon_env(tmp_path: Path, portal: PortalSandbox) -> Iterator[tuple[dict[str, str], int]]:
    smtp_port = free_port()
    catalog = tmp_path / "catalog.yaml"
    mail_url = (
        f"mailto://127.0.0.1:{smtp_port}?from=govpatrol@example.com"
        "&to=wangxm@zwb.example.com&mode=insecure"
    )
    catalog.write_text(
        portal_catalog(portal.url, notify=[mail_url], threshold=1, schedule="2s", probation="off"),
        encoding="utf-8",
    )
    env = {
        **os.environ,
        "GOVPATROL_DATA_DIR": str(tmp_path / "data"),
        "GOVPATROL_CATALOG": str(catalog),
        "GOVPATROL_WEB_PORT": str(free_port()),
        "GOVPATROL_QUIET_HOURS": "false",
        "GOVPATROL_NOTIFY_BACKOFF_S": "0.5",
        "GOVPATROL_NOTIFY_POLL_S": "0.3",
    }
    subprocess.run(
        [sys.executable, "-m", "bot.cli", "db", "upgrade"],
        cwd=REPO,
        env=env,
        check=True,
        capture_output=True,
        timeout=60,
    )
    yield env, smtp_port


def outbox(env: dict[str, str]) -> list[tuple[str, str, int]]:
    with sqlite3.connect(Path(env["GOVPATROL_DATA_DIR"]) / "govpatrol.db") as db:
        rows = db.execute("SELECT idempotency_key, status, attempts FROM notifications")
        return [(key, status, attempts) for key, status, attempts in rows]


def wait_until(condition: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def test_notices_survive_sigkill_and_an_smtp_outage(
    daemon_env: tuple[dict[str, str], int], portal: PortalSandbox
) -> None:
    env, smtp_port = daemon_env
    portal.faults.update({"items_missing": ["排污许可证核发"]})
    first = DaemonProcess(env)
    first.start()
    try:
        # The task opens and its notice is committed, but the SMTP server is down:
        # the sender has tried and failed at least twice.
        wait_until(
            lambda: any(attempts >= 2 for _, _, attempts in outbox(env)), 90, "failed attempts"
        )
        assert all(status != "sent" for _, status, _ in outbox(env))
    finally:
        first.kill()
    mail = MailCatcher(port=smtp_port).start()
    second = DaemonProcess(env)
    try:
        second.start()
        wait_until(lambda: all(s == "sent" for _, s, _ in outbox(env)), 60, "delivery")
        time.sleep(1.5)  # room for a duplicate to show up, if there were one
    finally:
        output = second.stop()
        mail.stop()
    keys = [m.headers.get(IDEMPOTENCY_HEADER, "") for m in mail.messages]
    stored = [key for key, _, _ in outbox(env)]
    assert sorted(keys) == sorted(stored), output
    assert all(count == 1 for count in Counter(keys).values())
    subjects = sorted(m.subject[:6] for m in mail.messages)
    # The task notice, and the unit's daily digest when the test runs after 09:00 on a
    # working day (Asia/Shanghai).
    assert subjects in (["【整改通知】"], ["【整改通知】", "【每日待办】"])
