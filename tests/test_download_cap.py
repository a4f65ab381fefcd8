"""What a run may download is capped (site.oversized_page), and a driver grown past its
memory limit is recycled early instead of after its next N contexts."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest

from bot.jobs import run_check
from core.results import Outcome
from probes.pool import BrowserOptions, BrowserPool, driver_rss_bytes
from tests.catalogs import portal_catalog
from tests.conftest import CHROMIUM, ServicesFactory

pytestmark = pytest.mark.browser

CHUNK = b"<p>" + b"x" * (64 * 1024 - 7) + b"</p>\n"


class HugePage:
    """An HTTP server whose every page is endless HTML, announced or chunked."""

    def __init__(self, *, announce: bool) -> None:
        self.announce = announce
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.sent = 0
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}"

    def _serve(self) -> None:
        while not self.stopped.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            threading.Thread(target=self._answer, args=(conn,), daemon=True).start()

    def _answer(self, conn: socket.socket) -> None:
        with conn:
            try:
                conn.recv(65536)
                length = b"Content-Length: 943718400\r\n" if self.announce else b""
                conn.sendall(
                    b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n"
                    + length
                    + b"Connection: close\r\n\r\n<html><body>"
                )
                for _ in range(15000):  # ~900 MB unless the browser stops reading
                    if self.stopped.is_set():
                        return
                    conn.sendall(CHUNK)
                    self.sent += len(CHUNK)
            except OSError:
                return  # the browser hung up: the cap worked

    def close(self) -> None:
        self.stopped.set()
        self.thread.join()
        self.sock.close()


@pytest.fixture(params=[True, False], ids=["content-length", "chunked"])
def huge(request: pytest.FixtureRequest) -> Iterator[HugePage]:
    server = HugePage(announce=request.param)
    yield server
    server.close()


async def test_a_huge_page_is_stopped_and_reported_as_oversized(
    make_services: ServicesFactory, huge: HugePage
) -> None:
    services = make_services(portal_catalog(huge.url, threshold=1), max_response_mb=4)
    report = await run_check(services, "sf-portal/search")
    assert report.outcome is Outcome.FAIL, report.result
    (finding,) = report.result.findings
    assert finding.code == "site.oversized_page"
    assert "4 MB" in finding.detail
    assert huge.sent < 200 * 2**20, huge.sent  # stopped long before 900 MB
    assert report.changed_tasks


async def test_driver_past_its_memory_limit_is_recycled_early() -> None:
    pool = BrowserPool(
        BrowserOptions(executable_path=CHROMIUM),
        concurrency=1,
        recycle_after=500,
        recycle_above_bytes=8 * 2**20,  # any live driver is bigger than this
    )
    try:
        async with pool.context():
            assert driver_rss_bytes() > 8 * 2**20
        async with pool.context():
            pass
        assert pool.launches == 2
    finally:
        await pool.close()


async def test_driver_within_its_memory_limit_is_kept() -> None:
    pool = BrowserPool(
        BrowserOptions(executable_path=CHROMIUM), concurrency=1, recycle_above_bytes=2**40
    )
    try:
        for _ in range(2):
            async with pool.context():
                pass
        assert pool.launches == 1
    finally:
        await pool.close()
