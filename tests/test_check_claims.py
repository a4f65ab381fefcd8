"""A check whose probe allows one run at a time is claimed in the database before it runs:
a second, overlapping run — in this process or another — is skipped, never run twice.
On SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import ClassVar

import pytest
from sqlalchemy import Engine, select

from bot.jobs import run_check
from bot.services import Services
from core.clock import FakeClock
from core.db import make_engine, make_sessions
from core.results import Outcome, ProbeResult
from probes.base import Probe, ProbeContext, ProbeParams
from tasks.claims import release_claim, take_claim
from tasks.models import CheckClaim, Run, RunPurpose
from tests.conftest import ServicesFactory, at

CHECK = "desk-portal/one-at-a-time"
TTL = dt.timedelta(minutes=5)


class DeskProbe(Probe):
    """Stands at the desk until told to leave; counts how often it was run."""

    kind: ClassVar[str] = "one-at-a-time"
    Params = ProbeParams
    uses_browser = False
    one_run_at_a_time = True
    runs: ClassVar[int] = 0
    arrived: ClassVar[asyncio.Event]
    leave: ClassVar[asyncio.Event]

    async def run(self, ctx: ProbeContext) -> ProbeResult:
        DeskProbe.runs += 1
        DeskProbe.arrived.set()
        await DeskProbe.leave.wait()
        return ProbeResult(Outcome.PASS, summary="已提交一次")


CATALOG = """
units:
  - code: u
    name: 示范县政务服务中心
targets:
  - key: desk-portal
    name: 示范县政务服务网
    unit: u
    base_url: http://127.0.0.1:9
    checks:
      - {probe: one-at-a-time, schedule: 1h}
"""


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(at("2026-11-23 10:00"))


@pytest.fixture
def services(make_services: ServicesFactory, engine: Engine, clock: FakeClock) -> Services:
    DeskProbe.runs = 0
    DeskProbe.arrived, DeskProbe.leave = asyncio.Event(), asyncio.Event()
    return make_services(CATALOG, extra_probes=(DeskProbe,), clock=clock, engine=engine)


def test_a_claim_is_taken_once_until_released_or_expired(engine: Engine) -> None:
    sessions = make_sessions(engine)
    now = at("2026-11-23 10:00")

    def take(holder: str, moment: dt.datetime = now) -> bool:
        with sessions.begin() as session:
            return take_claim(session, CHECK, holder, "scheduled", moment, TTL)

    assert take("worker-a")
    assert not take("worker-b")
    assert not take("worker-a")  # a second run of the same holder is a second run too
    assert take("worker-b", now + TTL)  # worker-a's claim lapsed: it crashed
    with sessions.begin() as session:
        release_claim(session, CHECK, "worker-a")  # too late: no longer its claim
    assert not take("worker-a", now + TTL)
    with sessions.begin() as session:
        release_claim(session, CHECK, "worker-b")
    assert take("worker-a", now + TTL)


async def test_an_overlapping_run_is_skipped_with_its_reason(services: Services) -> None:
    first = asyncio.create_task(run_check(services, CHECK))
    await DeskProbe.arrived.wait()
    second = await run_check(services, CHECK, purpose=RunPurpose.MANUAL)
    DeskProbe.leave.set()
    done = await first

    assert done.outcome is Outcome.PASS and done.run_id != 0
    assert second.run_id == 0 and second.outcome is Outcome.INCONCLUSIVE
    assert second.skipped.startswith(f"巡检项 {CHECK} 的另一次定时巡检正在进行")
    assert second.skipped.endswith("本次跳过，未重复提交")
    assert DeskProbe.runs == 1
    with services.sessions() as session:
        assert session.scalars(select(CheckClaim)).all() == []  # released
        assert len(session.scalars(select(Run)).all()) == 1
    assert (await run_check(services, CHECK)).run_id != 0  # the next run goes ahead


async def test_a_run_in_another_process_is_skipped_too(
    services: Services, make_services: ServicesFactory, engine: Engine, clock: FakeClock
) -> None:
    # Another worker: its own engine and services on the same database.
    other_engine = make_engine(engine.url.render_as_string(hide_password=False))
    worker = make_services(CATALOG, extra_probes=(DeskProbe,), clock=clock, engine=other_engine)
    first = asyncio.create_task(run_check(services, CHECK))
    await DeskProbe.arrived.wait()
    second = await run_check(worker, CHECK)
    DeskProbe.leave.set()
    await first
    assert "另一次定时巡检正在进行" in second.skipped
    assert DeskProbe.runs == 1


async def test_the_claim_is_released_when_recording_the_run_fails(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    def database_gone(*args: object, **kwargs: object) -> Run:
        raise ConnectionError("database went away")

    DeskProbe.leave.set()
    monkeypatch.setattr(services.tracker, "record_run", database_gone)
    with pytest.raises(ConnectionError):
        await run_check(services, CHECK)
    with services.sessions() as session:
        assert session.scalars(select(CheckClaim)).all() == []
