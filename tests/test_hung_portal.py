"""A portal that accepts the connection and never answers is the portal's failure
(site.timeout) within the target's timeout — with evidence, and without starving others."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator

import pytest

from bot.jobs import run_check
from core.results import Outcome
from probes.pool import BrowserOptions, BrowserPool
from sandbox.server import PortalSandbox
from tests.catalogs import portal_catalog
from tests.conftest import CHROMIUM, ServicesFactory

pytestmark = pytest.mark.browser


class SilentPortal:
    """A TCP server that accepts every connection, reads the request, and never answers."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.sock.settimeout(0.2)
        self.held: list[socket.socket] = []
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}"

    def _accept(self) -> None:
        while not self.stopped.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            self.held.append(conn)  # kept open, never written to

    def close(self) -> None:
        self.stopped.set()
        self.thread.join()
        for conn in self.held:
            conn.close()
        self.sock.close()


@pytest.fixture
def silent() -> Iterator[SilentPortal]:
    server = SilentPortal()
    yield server
    server.close()


def hung_target(url: str, timeout: str) -> str:
    return f"""
  - key: hung
    name: 不响应的网站
    unit: sf-zwb
    base_url: {url}
    timeout: {timeout}
    checks:
      - probe: search
        schedule: 1h
        failure_threshold: 1
        params: {{items: [公司设立登记]}}
"""


async def test_portal_that_never_answers_fails_with_site_timeout_and_evidence(
    make_services: ServicesFactory, portal: PortalSandbox, silent: SilentPortal
) -> None:
    services = make_services(
        portal_catalog(portal.url, extra_target=hung_target(silent.url, "3s")),
        run_timeout_s=60,
    )
    started = time.monotonic()
    report = await run_check(services, "hung/search")
    elapsed = time.monotonic() - started
    assert report.outcome is Outcome.FAIL, report.result
    (finding,) = report.result.findings
    assert finding.code == "site.timeout"
    assert "3 秒" in finding.detail
    assert elapsed < 30, elapsed  # the target's timeout, not the run's 60 s limit
    assert report.changed_tasks, "a hung portal opens a task like any other failure"
    taken = report.result.evidence.screenshots or report.result.evidence.html
    assert taken or report.result.metrics.get("evidence_missing")


async def test_waiting_for_a_browser_slot_does_not_count_toward_the_run_limit(
    make_services: ServicesFactory, portal: PortalSandbox
) -> None:
    """Both slots are held for longer than the run limit; the runs queued behind them still
    pass. Were the wait counted, they would be aborted before ever getting a slot."""
    run_limit_s = 8.0
    pool = BrowserPool(BrowserOptions(executable_path=CHROMIUM), concurrency=2)
    services = make_services(portal_catalog(portal.url), run_timeout_s=run_limit_s, pool=pool)
    both_held = asyncio.Event()
    held = 0

    async def hold_a_slot() -> None:
        nonlocal held
        async with pool.context():
            held += 1
            if held == 2:
                both_held.set()
            await asyncio.sleep(run_limit_s + 1.5)

    try:
        await pool.start()
        holders = [asyncio.create_task(hold_a_slot()) for _ in range(2)]
        await asyncio.wait_for(both_held.wait(), 30)
        target, check = services.check("sf-portal/search")
        started = time.monotonic()
        results = await asyncio.gather(
            *(services.runner.run("sf-portal/search", target, check) for _ in range(2))
        )
        waited = time.monotonic() - started
        await asyncio.gather(*holders)
    finally:
        await pool.close()
    assert waited > run_limit_s, waited  # the runs really waited longer than their limit
    assert [r.outcome for r in results] == [Outcome.PASS, Outcome.PASS], results
