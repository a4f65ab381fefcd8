"""Notices reach a real SMTP server and a real HTTP receiver; none is lost on a crash."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from bot.receivers import MailCatcher, WebhookCatcher
from bot.services import Services
from core.clock import FakeClock
from core.results import Finding, Outcome, ProbeResult
from notifications.models import DeliveryStatus, Notification
from notifications.transport import IDEMPOTENCY_HEADER
from tasks.catalog_sync import sync_catalog
from tests.catalogs import portal_catalog
from tests.conftest import ServicesFactory, at

CHECK = "sf-portal/search"
FAIL = ProbeResult(
    Outcome.FAIL,
    (
        Finding(
            code="search.item_not_found",
            title="站内搜索不可用",
            detail="搜索网站上已有的“排污许可证核发”服务事项，搜索不到",
        ),
    ),
)
REPO = Path(__file__).resolve().parent.parent


def open_task(services: Services, clock: FakeClock) -> None:
    with services.sessions.begin() as session:
        sync_catalog(session, services.catalog)
    for _ in range(2):
        clock.advance(dt.timedelta(minutes=5))
        with services.sessions.begin() as session:
            run = services.tracker.record_run(
                session, CHECK, FAIL, started_at=clock.now(), finished_at=clock.now()
            )
            services.tracker.apply_run(session, run, services.policy(CHECK))


def rows(services: Services) -> list[Notification]:
    with services.sessions() as session:
        return list(session.scalars(select(Notification).order_by(Notification.id)))


async def test_notice_arrives_by_mail_and_webhook_with_chinese_intact(
    make_services: ServicesFactory, engine: Engine, mail: MailCatcher, webhook: WebhookCatcher
) -> None:
    clock = FakeClock(at("2026-09-28 10:00"))
    notify = [mail.apprise_url("wangxm@zwb.example.com"), webhook.apprise_url("wecom")]
    services = make_services(
        portal_catalog("http://127.0.0.1:9", notify=notify), engine=engine, clock=clock
    )
    open_task(services, clock)
    assert await services.sender.deliver_due() == 2
    received = mail.inbox.wait_for(lambda m: True, timeout=5)
    assert received is not None
    assert received.subject == "【整改通知】示范省政务服务网：站内搜索不可用（#1）"
    assert received.recipients == ("wangxm@zwb.example.com",)
    assert "责任单位：示范省政务服务管理办公室" in received.text
    assert "搜索网站上已有的“排污许可证核发”服务事项，搜索不到" in received.text
    assert "整改时限：2026年10月10日（5 个工作日，剩余 5 个工作日）" in received.text
    assert "/u/" in received.text  # the signed link to act on the task
    (post,) = webhook.messages
    assert post.title == received.subject
    assert post.message == received.text.strip()
    assert post.headers[IDEMPOTENCY_HEADER.lower()] == rows(services)[1].idempotency_key
    assert [r.status for r in rows(services)] == [DeliveryStatus.SENT.value] * 2


async def test_the_running_sender_delivers_on_commit_not_at_its_next_poll(
    make_services: ServicesFactory, engine: Engine, webhook: WebhookCatcher
) -> None:
    clock = FakeClock(at("2026-09-28 10:00"))
    services = make_services(
        portal_catalog("http://127.0.0.1:9", notify=[webhook.apprise_url("wecom")]),
        engine=engine,
        clock=clock,
    )
    stop = asyncio.Event()
    sender = asyncio.create_task(services.sender.run(stop, poll_s=600))
    try:
        await asyncio.sleep(0.2)  # the sender's first pass found nothing; it now waits
        # The task opens in a worker thread, as the web pages and the runs commit theirs.
        await asyncio.to_thread(open_task, services, clock)
        post = await asyncio.to_thread(webhook.inbox.wait_for, lambda p: True, 30)
        assert post is not None, "the notice waited for the 600 s poll"
        assert post.title.startswith("【整改通知】")
    finally:
        stop.set()
        await sender


async def test_failed_delivery_retries_with_backoff_then_succeeds(
    make_services: ServicesFactory, webhook: WebhookCatcher
) -> None:
    clock = FakeClock(at("2026-11-24 10:00"))
    services = make_services(
        portal_catalog("http://127.0.0.1:9", notify=[webhook.apprise_url()]),
        clock=clock,
        notify_backoff_s=60,
    )
    open_task(services, clock)
    webhook.status = 500
    assert await services.sender.deliver_due() == 0
    (row,) = rows(services)
    assert row.status == DeliveryStatus.PENDING.value and row.attempts == 1
    assert row.next_attempt_at == clock.now() + dt.timedelta(seconds=60)
    assert row.last_error
    assert await services.sender.deliver_due() == 0  # not due yet: nothing is sent
    webhook.status = 200
    clock.advance(dt.timedelta(seconds=61))
    assert await services.sender.deliver_due() == 1
    assert rows(services)[0].status == DeliveryStatus.SENT.value
    assert len(webhook.messages) == 1


async def test_after_the_last_attempt_the_operator_is_told(
    make_services: ServicesFactory, webhook: WebhookCatcher, mail: MailCatcher
) -> None:
    clock = FakeClock(at("2026-11-24 10:00"))
    from pydantic import SecretStr

    services = make_services(
        portal_catalog("http://127.0.0.1:9", notify=[webhook.apprise_url()]),
        clock=clock,
        notify_max_attempts=2,
        notify_backoff_s=1,
        operator_notify=[SecretStr(mail.apprise_url("ops@govpatrol.example.com"))],
    )
    open_task(services, clock)
    webhook.status = 502
    for _ in range(2):
        await services.sender.deliver_due()
        clock.advance(dt.timedelta(seconds=5))
    unit_row, alert = rows(services)
    assert unit_row.status == DeliveryStatus.FAILED.value
    assert alert.kind == "operator_alert" and "多次投递失败" in alert.title
    await services.sender.deliver_due()
    received = mail.inbox.wait_for(lambda m: "多次投递失败" in m.subject, timeout=5)
    assert received is not None and "【整改通知】" in received.text


async def test_claimed_but_unconfirmed_notice_is_sent_again_after_its_lease(
    make_services: ServicesFactory, webhook: WebhookCatcher
) -> None:
    clock = FakeClock(at("2026-11-24 10:00"))
    services = make_services(
        portal_catalog("http://127.0.0.1:9", notify=[webhook.apprise_url()]), clock=clock
    )
    open_task(services, clock)
    # A sender claimed the row and died before recording the result.
    with services.sessions.begin() as session:
        row = session.scalars(select(Notification)).one()
        row.status = DeliveryStatus.SENDING.value
        row.claimed_until = clock.now() + dt.timedelta(seconds=120)
    assert await services.sender.deliver_due() == 0  # the lease still holds
    clock.advance(dt.timedelta(seconds=121))
    assert await services.sender.deliver_due() == 1
    assert len(webhook.messages) == 1


async def test_quiet_hours_defer_unit_notices_until_the_next_working_morning(
    make_services: ServicesFactory, webhook: WebhookCatcher
) -> None:
    clock = FakeClock(at("2026-09-30 19:00"))  # evening before the National Day holidays
    services = make_services(
        portal_catalog("http://127.0.0.1:9", notify=[webhook.apprise_url()]),
        clock=clock,
        quiet_hours=True,
    )
    open_task(services, clock)
    assert await services.sender.deliver_due() == 0
    (row,) = rows(services)
    assert row.status == DeliveryStatus.PENDING.value
    assert row.next_attempt_at == at("2026-10-08 08:30")  # first working day after the break
    clock.set(at("2026-10-08 08:31"))
    assert await services.sender.deliver_due() == 1
    assert len(webhook.messages) == 1


async def test_notice_survives_a_crash_between_commit_and_delivery(
    tmp_path: Path, make_services: ServicesFactory, mail: MailCatcher
) -> None:
    database = tmp_path / "crash.db"
    catalog_file = tmp_path / "catalog.yaml"
    catalog_file.write_text(
        portal_catalog(
            "http://127.0.0.1:9",
            notify=[mail.apprise_url("wangxm@zwb.example.com")],
            probation="off",
        ),
        encoding="utf-8",
    )
    # Another process opens the task (committing the outbox row) and is killed before
    # its sender runs.
    script = textwrap.dedent(
        f"""
        import os, signal, datetime as dt
        from config.settings import Settings
        from bot.services import build_services, read_catalog
        from core.clock import FakeClock
        from bot.migrate import upgrade
        from tests.test_notifications import open_task
        settings = Settings(data_dir={str(tmp_path)!r}, catalog={str(catalog_file)!r},
                            database_url="sqlite:///{database}", secret_key="k")
        services = build_services(settings, read_catalog(settings),
                                  clock=FakeClock(dt.datetime(2026, 11, 24, 2, tzinfo=dt.UTC)))
        upgrade(services.engine)
        open_task(services, services.clock)
        os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    crashed = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-c", script],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        check=False,
    )
    assert crashed.returncode == -9, crashed.stderr
    assert mail.messages == []
    from core.db import make_engine

    services = make_services(
        catalog_file.read_text(encoding="utf-8"), engine=make_engine(f"sqlite:///{database}")
    )
    assert await services.sender.deliver_due() == 1
    received = mail.inbox.wait_for(lambda m: True, timeout=5)
    assert received is not None and received.subject.startswith("【整改通知】")


async def test_secrets_never_reach_the_logs_or_the_database(
    make_services: ServicesFactory, caplog: pytest.LogCaptureFixture
) -> None:
    clock = FakeClock(at("2026-11-24 10:00"))
    secret_url = "json://bot:SuperSecret99@127.0.0.1:9/hook?token=TopSecretToken"
    services = make_services(portal_catalog("http://127.0.0.1:9", notify=[secret_url]), clock=clock)
    caplog.set_level(logging.DEBUG)
    open_task(services, clock)
    await services.sender.deliver_due()  # port 9 refuses: the failure is logged
    (row,) = rows(services)
    stored = " ".join(str(value) for value in vars(row).values())
    for secret in ("SuperSecret99", "TopSecretToken"):
        assert secret not in caplog.text
        assert secret not in stored
    assert row.last_error and row.channel.startswith("JSON json://bot:****@")
