"""No channel secret of any common Apprise service is stored, logged or shown: after real
Apprise deliveries that all fail, the database, the logs, every console and unit page, the
API, /metrics and ``check-config`` hold none of them."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from bot.console.accounts import Role, issue_token
from bot.web import create_web_app
from config.redaction import scrub
from core.clock import FakeClock
from core.db import Base
from notifications.models import DeliveryStatus, Notification
from tests.conftest import ServicesFactory, at
from tests.console_helpers import COUNTY_SEARCH, add_account, login, record_failure, search_finding

REPO = Path(__file__).resolve().parent.parent

# One URL per common service; every credential in it is a distinct, greppable word.
CHANNELS = {
    "mail": "mailtos://alice:MailPassw0rd9@smtp.govpatrol.invalid?to=bob@example.com",
    "dingtalk": "dingtalk://DingSignSecret42@DingAccessToken77/13800138000",
    "wecom": "wecombot://WecomBotKey0123456789abcdef",
    "feishu": "feishu://FeishuHookToken55/FeishuSignSecret66",
    "discord": "discord://123456789012/DiscordWebhookToken88",
    "pushover": "pover://PushoverUserKey12@PushoverAppToken34",
    "gotify": "gotify://gotify.govpatrol.invalid/GotifyAppToken56",
    "json": "json://hookuser:JsonPassword78@127.0.0.1:9/hook?+X-Api-Key=JsonHeaderKey90",
    "xml": "xml://xmluser:XmlPassword12@127.0.0.1:9/xml",
    "ntfy": "ntfy://127.0.0.1:9/alerts?token=tk_NtfyAccessToken34",
}
OPERATOR = "dingtalk://OpsSignSecret56@OpsAccessToken78"
SECRETS = [
    "MailPassw0rd9",
    "DingSignSecret42",
    "DingAccessToken77",
    "WecomBotKey0123456789abcdef",
    "FeishuHookToken55",
    "FeishuSignSecret66",
    "DiscordWebhookToken88",
    "PushoverUserKey12",
    "PushoverAppToken34",
    "GotifyAppToken56",
    "JsonPassword78",
    "JsonHeaderKey90",
    "XmlPassword12",
    "tk_NtfyAccessToken34",
    "OpsSignSecret56",
    "OpsAccessToken78",
]


def catalog() -> str:
    contacts = "\n".join(
        f'      - {{name: 联系人{name}, role: contact, notify: ["{url}"]}}'
        for name, url in CHANNELS.items()
    )
    return f"""
units:
  - code: county
    name: 示范县政务服务中心
    level: county
    contacts:
{contacts}
targets:
  - key: county-portal
    name: 示范县政务服务网
    unit: county
    base_url: http://127.0.0.1:9
    checks:
      - {{probe: search, schedule: 1h, failure_threshold: 1, params: {{items: [公司设立登记]}}}}
"""


def leaked(text: str) -> list[str]:
    return [secret for secret in SECRETS if secret in text]


def database_dump(engine: Engine) -> str:
    lines = []
    with engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            lines += [repr(tuple(row)) for row in conn.execute(select(table))]
    return "\n".join(lines)


async def test_no_channel_secret_is_stored_logged_or_shown(
    make_services: ServicesFactory,
    engine: Engine,
    caplog: pytest.LogCaptureFixture,
    tmp_path: Path,
) -> None:
    caplog.set_level(logging.DEBUG)  # Apprise's debug lines quote request URLs and payloads
    clock = FakeClock(at("2026-11-24 10:00"))
    services = make_services(
        catalog(),
        clock=clock,
        engine=engine,
        operator_notify=[OPERATOR],
        notify_max_attempts=2,
    )
    (task,) = record_failure(services, clock, COUNTY_SEARCH, search_finding())
    for _ in range(5):  # attempts, retries, then the operator alerts of the give-ups, twice
        await services.sender.deliver_due()
        clock.advance(dt.timedelta(hours=1))
    with services.sessions() as session:
        notices = session.scalars(select(Notification)).all()
        assert len(notices) > len(CHANNELS)  # the unit's notices and the operator alerts
        assert {n.status for n in notices} == {DeliveryStatus.FAILED.value}
        assert all(n.last_error for n in notices)
        channels = {n.recipient: n.channel for n in notices}
    assert channels["联系人dingtalk"].startswith("DingTalk dingtalk://****@")

    add_account(services, "zhao")
    add_account(services, "robot", role=Role.OPERATOR)
    with services.sessions.begin() as session:
        api_token = issue_token(session, "robot", clock.now())
    client = TestClient(create_web_app(services))
    assert login(client, "zhao") == 303
    pages = {
        path: client.get(path)
        for path in (
            "/console",
            "/console/tasks?status=all",
            f"/console/tasks/{task.id}",
            "/console/units",
            "/console/units/county",
            "/console/targets",
            "/metrics",
            f"/u/{services.links.token(task.id, 'county')}",
        )
    }
    robot = {"Authorization": f"Bearer {api_token}"}
    for path in ("/api/tasks?status=all", f"/api/tasks/{task.id}", "/api/units", "/api/runs"):
        pages[path] = client.get(path, headers=robot)
    assert {path: answer.status_code for path, answer in pages.items()} == dict.fromkeys(pages, 200)
    assert "DingTalk dingtalk://****@" in pages[f"/console/tasks/{task.id}"].text

    catalog_file = tmp_path / "catalog.yaml"
    catalog_file.write_text(catalog(), encoding="utf-8")
    checked = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "bot.cli", "check-config", str(catalog_file)],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
        check=False,
    )
    assert checked.returncode == 0, checked.stderr

    assert leaked(database_dump(engine)) == []
    assert leaked(caplog.text) == []
    assert {path: leaked(answer.text) for path, answer in pages.items()} == {
        path: [] for path in pages
    }
    assert leaked(checked.stdout + checked.stderr) == []


def test_scrub_hides_credentials_quoted_in_error_texts() -> None:
    error = (
        "HTTPSConnectionPool(host='oapi.dingtalk.com', port=443): Max retries exceeded with "
        "url: /robot/send?access_token=abcdef0123&timestamp=1&sign=Zm9vYmFy%3D "
        "and https://ops:hunter2hunter@hooks.example.com/x"
    )
    cleaned = scrub(error)
    assert "abcdef0123" not in cleaned and "Zm9vYmFy" not in cleaned
    assert "hunter2hunter" not in cleaned
    assert "oapi.dingtalk.com" in cleaned  # the host stays: it says where delivery failed
