"""A database outage is one line, a line a minute while it lasts, then the recovery —
not a traceback from every loop on every pass."""

from __future__ import annotations

import asyncio
import logging
import socket
from pathlib import Path

import pytest
from sqlalchemy.exc import OperationalError

from bot.services import build_services
from config.loader import parse_catalog
from config.settings import Settings
from core.db import make_engine
from core.db_outage import DatabaseOutage
from probes.registry import params_models, probe_kinds
from tests.catalogs import portal_catalog

OUTAGE_LOGGERS = ("govpatrol.database", "notifications.sender")


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_sender_on_a_dead_database_logs_the_outage_once_without_traceback(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    catalog = parse_catalog(
        portal_catalog("http://127.0.0.1:9"), "c.yaml", probe_params=params_models(probe_kinds())
    )
    dead = make_engine(f"postgresql+psycopg://postgres@127.0.0.1:{_closed_port()}/gone")
    services = build_services(Settings(data_dir=tmp_path), catalog, engine=dead)
    stop = asyncio.Event()
    caplog.set_level(logging.INFO)
    sending = asyncio.create_task(services.sender.run(stop, poll_s=0.02))
    await asyncio.sleep(1.5)  # dozens of passes
    stop.set()
    await asyncio.wait_for(sending, timeout=5)
    dead.dispose()
    lines = [r for r in caplog.records if r.name in OUTAGE_LOGGERS]
    assert len(lines) == 1, [r.getMessage() for r in lines]
    assert (
        "数据库不可用" in lines[0].getMessage() and "notification sender" in lines[0].getMessage()
    )
    assert lines[0].exc_info is None


def test_outage_reminds_once_a_minute_then_says_it_is_over(
    caplog: pytest.LogCaptureFixture,
) -> None:
    now = [0.0]
    outage = DatabaseOutage(monotonic=lambda: now[0])
    down = OperationalError("SELECT 1", {}, Exception("connection refused"))
    caplog.set_level(logging.INFO, logger="govpatrol.database")
    for second in range(0, 150, 1):  # loops failing twice a second for 150 s
        now[0] = second
        assert outage.failed(down, "notification sender")
        now[0] = second + 0.5
        assert outage.failed(down, "chase sweep")
    outage.succeeded()
    outage.succeeded()
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 4, messages
    assert "数据库不可用" in messages[0]
    assert "60 s" in messages[1] and "120 s" in messages[2]
    assert "数据库已恢复" in messages[3] and "150 s" in messages[3]
    assert not outage.failed(ValueError("a bug"), "chase sweep")  # bugs keep their traceback
