"""Real ``govpatrol scheduler`` and ``govpatrol worker`` processes on a throwaway
PostgreSQL database, for the proof tests of the scheduler/worker roles."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, LiteralString

import psycopg

from tests.conftest import POSTGRES_ADMIN_URL

REPO = Path(__file__).resolve().parent.parent


@contextmanager
def throwaway_database() -> Iterator[str]:
    """A new, empty PostgreSQL database, dropped afterwards (even if processes hold it)."""
    admin = POSTGRES_ADMIN_URL.replace("postgresql+psycopg://", "postgresql://")
    name = f"govpatrol_roles_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield admin.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class Fleet:
    """The processes of one deployment, each logging to its own file."""

    def __init__(self, tmp_path: Path, database_url: str, catalog: str) -> None:
        self.tmp_path = tmp_path
        (tmp_path / "catalog.yaml").write_text(catalog, encoding="utf-8")
        self.env = {
            **os.environ,
            "GOVPATROL_DATABASE_URL": database_url,
            "GOVPATROL_CATALOG": str(tmp_path / "catalog.yaml"),
            "GOVPATROL_DATA_DIR": str(tmp_path / "data"),
            "GOVPATROL_QUIET_HOURS": "false",
            "GOVPATROL_SCHEDULER_LOCK_CHECK_S": "1",
            "GOVPATROL_WORKER_HEARTBEAT_S": "1",
            "GOVPATROL_WORKER_STALLED_S": "4",
            "GOVPATROL_BROWSER_CONCURRENCY": "1",
        }
        self.processes: dict[str, subprocess.Popen[bytes]] = {}

    def command(self, *args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "bot.cli", *args],
            cwd=REPO,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    def start(self, name: str, *args: str) -> None:
        log = (self.tmp_path / f"{name}.log").open("wb")
        self.processes[name] = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "--log-level", "INFO", *args],
            cwd=REPO,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )

    def log(self, name: str) -> str:
        return (self.tmp_path / f"{name}.log").read_text(encoding="utf-8", errors="replace")

    def kill(self, name: str) -> None:
        """``kill -9``: no clean-up of any kind."""
        process = self.processes[name]
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)

    def stop_all(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


def wait_for(condition: Callable[[], bool], within_s: float, what: str) -> float:
    """Poll ``condition`` until true; the seconds it took."""
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > within_s:
            raise AssertionError(f"timed out after {within_s}s waiting for {what}")
        time.sleep(0.2)
    return time.monotonic() - started


def rows(
    database_url: str, query: LiteralString, params: tuple[object, ...] = ()
) -> list[tuple[Any, ...]]:
    with psycopg.connect(database_url) as conn:
        return list(conn.execute(query, params).fetchall())


class CuttableProxy:
    """A TCP proxy in front of PostgreSQL whose cable can be cut: open connections drop
    and new ones are refused until it is restored (an outage without stopping the server
    other tests share)."""

    def __init__(self, upstream_port: int = 5432) -> None:
        import asyncio
        import threading

        self.upstream_port = upstream_port
        self.down = False
        self._writers: set[asyncio.StreamWriter] = set()
        self._loop = asyncio.new_event_loop()
        ready = threading.Event()
        self.port = 0

        async def serve() -> None:
            server = await asyncio.start_server(self._pipe, "127.0.0.1", 0)
            self.port = server.sockets[0].getsockname()[1]
            ready.set()
            async with server:
                await server.serve_forever()

        self._thread = threading.Thread(
            target=lambda: self._loop.run_until_complete(serve()), daemon=True
        )
        self._thread.start()
        ready.wait(10)

    async def _pipe(self, reader: Any, writer: Any) -> None:
        import asyncio

        if self.down:
            writer.close()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        except OSError:
            writer.close()
            return
        self._writers |= {writer, up_writer}

        async def copy(source: Any, sink: Any) -> None:
            try:
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            except (OSError, RuntimeError):
                pass
            finally:
                sink.close()

        await asyncio.gather(copy(reader, up_writer), copy(up_reader, writer))
        self._writers -= {writer, up_writer}

    def url(self, database_url: str) -> str:
        return database_url.replace("127.0.0.1:5432", f"127.0.0.1:{self.port}")

    def cut(self) -> None:
        def drop() -> None:
            self.down = True
            for writer in list(self._writers):
                writer.transport.abort()

        self._loop.call_soon_threadsafe(drop)

    def restore(self) -> None:
        self.down = False
