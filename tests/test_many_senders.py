"""The sender in several processes (issue 10: "safe to run in several processes … prove it").

Two senders, each with its own engine and its own thread and event loop (as two
``govpatrol scheduler`` or ``govpatrol web`` processes would have), drain one outbox in
small batches at the same time: every notice arrives exactly once.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import threading

from pydantic import SecretStr
from sqlalchemy import Engine, select
from sqlalchemy.engine import make_url

from bot.receivers import WebhookCatcher
from bot.services import Services
from core.clock import FakeClock
from core.db import make_engine
from notifications.models import DeliveryStatus, Notification
from tests.catalogs import portal_catalog
from tests.conftest import ServicesFactory, at

NOTICES = 40


def drain(services: Services, start: threading.Barrier, delivered: list[int]) -> None:
    async def loop() -> None:
        start.wait()
        while (sent := await services.sender.deliver_due(limit=3)) > 0:
            delivered.append(sent)

    asyncio.run(loop())


async def test_two_senders_deliver_every_notice_exactly_once(
    make_services: ServicesFactory, engine: Engine, webhook: WebhookCatcher
) -> None:
    clock = FakeClock(at("2026-09-28 10:00"))
    ops = [SecretStr(webhook.apprise_url("ops"))]
    catalog = portal_catalog("http://127.0.0.1:9")
    # One channel's per-minute limit (20 for a WeCom bot) is not under test here.
    rate = 1000
    first = make_services(
        catalog, engine=engine, clock=clock, operator_notify=ops, notify_rate_per_minute=rate
    )
    other_engine = make_engine(make_url(engine.url).render_as_string(hide_password=False))
    second = make_services(
        catalog, engine=other_engine, clock=clock, operator_notify=ops, notify_rate_per_minute=rate
    )
    with first.sessions.begin() as session:
        for n in range(NOTICES):
            first.outbox.alert_operator(session, f"告警 {n}", [f"第 {n} 条"], key=f"k{n}")
    clock.advance(dt.timedelta(seconds=1))

    start = threading.Barrier(2)
    counts: tuple[list[int], list[int]] = ([], [])
    threads = [
        threading.Thread(target=drain, args=(services, start, delivered))
        for services, delivered in zip((first, second), counts, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        await asyncio.to_thread(thread.join, 60)
    other_engine.dispose()

    assert sum(counts[0]) + sum(counts[1]) == NOTICES
    # (How the two interleave is up to the database: SQLite serialises the writers, so one
    # sender may take every batch there; PostgreSQL lets both claim side by side.)
    assert webhook.inbox.wait_for(lambda _: len(webhook.messages) >= NOTICES, timeout=10)
    titles = sorted(post.title for post in webhook.messages)
    assert titles == sorted({post.title for post in webhook.messages})  # none twice
    assert len(titles) == NOTICES
    with first.sessions() as session:
        statuses = set(session.scalars(select(Notification.status)))
    assert statuses == {DeliveryStatus.SENT.value}
