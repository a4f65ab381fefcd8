"""The verdict by location over a real network difference (issue 10's proof).

Two locations run the same search check against the sandbox portal with a real Chromium
each. 互联网-联通's browser goes through an HTTP proxy that answers every request with
503, as a carrier's broken CDN edge in front of the portal would; 互联网-电信 reaches the
portal directly. What only 联通 sees is evidence and an operator alert naming 联通,
never a task; a fault both see opens one. (A proxy that is not there at all is the
monitor's own trouble, an ``error`` run that judges nothing.)
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from pydantic import SecretStr
from sqlalchemy import Engine, select

from bot.jobs import run_scheduled
from bot.services import Services
from core.clock import FakeClock
from core.results import Outcome
from notifications.models import Notification
from probes.pool import BrowserOptions, BrowserPool
from sandbox.server import PortalSandbox
from tasks.models import Run, ScheduledRun, Task
from tests.conftest import CHROMIUM, ServicesFactory

pytestmark = pytest.mark.browser

CHECK = "t0/search"
TELECOM, UNICOM = "互联网-电信", "互联网-联通"


def catalog(url: str) -> str:
    return f"""
units:
  - code: u
    name: 示范县政务服务中心
    contacts: [{{name: 联系人孙, notify: ["json://127.0.0.1:9/hook"]}}]
locations: [{{name: {TELECOM}}}, {{name: {UNICOM}}}]
targets:
  - key: t0
    name: 示范省政务服务网
    unit: u
    base_url: {url}
    checks:
      - name: search
        probe: search
        schedule: 1h
        failure_threshold: 1
        params: {{items: [排污许可证核发]}}
"""


class _BrokenEdge(BaseHTTPRequestHandler):
    """Every request through this proxy gets the 503 page of a failing CDN edge."""

    def _answer(self) -> None:
        body = b"<html><body><h1>503 Service Unavailable</h1></body></html>"
        self.send_response(503)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_GET = do_POST = do_HEAD = _answer

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def broken_edge() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _BrokenEdge)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
async def edge_pool(broken_edge: str) -> AsyncIterator[BrowserPool]:
    """联通's browser: every connection through the broken edge."""
    pool = BrowserPool(BrowserOptions(executable_path=CHROMIUM, proxy=broken_edge), concurrency=1)
    yield pool
    await pool.close()


async def play_round(
    clock: FakeClock, by_place: dict[str, Services], engine_owner: Services
) -> None:
    """One slot: each location's worker runs its own scheduled run."""
    clock.advance(dt.timedelta(hours=1))
    slot = clock.now()
    due: dict[str, int] = {}
    with engine_owner.sessions.begin() as session:
        for place in by_place:
            row = ScheduledRun(check_id=CHECK, location=place, slot=slot, deferred_at=slot)
            session.add(row)
            session.flush()
            due[place] = row.id
    for place, services in by_place.items():
        clock.advance(dt.timedelta(seconds=30))
        await run_scheduled(services, due[place])


async def test_a_line_down_at_one_location_alerts_and_a_fault_both_see_opens_a_task(
    make_services: ServicesFactory,
    sqlite_engine: Engine,
    portal: PortalSandbox,
    edge_pool: BrowserPool,
) -> None:
    clock = FakeClock(dt.datetime(2026, 11, 23, 2, 0, tzinfo=dt.UTC))
    text = catalog(portal.url)
    ops = [SecretStr("json://127.0.0.1:9/ops")]
    telecom = make_services(text, engine=sqlite_engine, clock=clock, operator_notify=ops)
    unicom = make_services(
        text, engine=sqlite_engine, clock=clock, operator_notify=ops, pool=edge_pool
    )

    # A healthy portal: 联通 gets the edge's 503; 电信 finds every item.
    await play_round(clock, {TELECOM: telecom, UNICOM: unicom}, telecom)
    with telecom.sessions() as session:
        runs = {run.location: run for run in session.scalars(select(Run))}
        assert runs[TELECOM].outcome == Outcome.PASS.value
        assert runs[UNICOM].outcome == Outcome.FAIL.value
        assert {f.code for f in runs[UNICOM].findings} == {"site.http_error"}
        assert list(session.scalars(select(Task))) == []
        (alert,) = session.scalars(
            select(Notification).where(Notification.kind == "operator_alert")
        )
    assert f"地点：{UNICOM}" in alert.body and TELECOM in alert.body

    # 联通's edge is mended (its workers' browser reaches the portal) and the portal loses
    # an item: both locations see it, so a task opens.
    portal.faults.update({"items_missing": ["排污许可证核发"]})
    unicom_back = make_services(text, engine=sqlite_engine, clock=clock, operator_notify=ops)
    await play_round(clock, {TELECOM: telecom, UNICOM: unicom_back}, telecom)
    with telecom.sessions() as session:
        (task,) = session.scalars(select(Task))
        assert task.finding_code == "search.item_not_found"
