"""The sandbox portal in a process of its own, so it does not share the benchmark's GIL.

Prints the portal's URL on one line, then serves until its standard input closes (the
parent exited or called :meth:`PortalProcess.stop`).
"""

from __future__ import annotations

import json
import subprocess
import sys
from types import TracebackType
from typing import Any, Self

import psutil

START_TIMEOUT_S = 30.0


class PortalProcess:
    """A sandbox portal served by a child process: healthy, or with ``faults``."""

    def __init__(self, faults: dict[str, Any] | None = None) -> None:
        self._child: subprocess.Popen[str] | None = None
        self.url = ""
        self.faults = faults or {}  # the sandbox's faults (``PortalSandbox.faults``)

    def start(self) -> Self:
        self._child = subprocess.Popen(
            [sys.executable, "-m", "bench.portal", json.dumps(self.faults)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self._child.stdout is not None
        line = self._child.stdout.readline().strip()
        if not line.startswith("http://"):
            self.stop()
            raise RuntimeError(f"sandbox portal did not start (said {line!r})")
        self.url = line
        return self

    @property
    def pids(self) -> set[int]:
        """The portal's process and its children: left out of the product's memory."""
        if self._child is None:
            return set()
        try:
            parent = psutil.Process(self._child.pid)
            return {self._child.pid, *(child.pid for child in parent.children(recursive=True))}
        except psutil.NoSuchProcess:
            return {self._child.pid}

    def stop(self) -> None:
        child, self._child = self._child, None
        if child is None:
            return
        if child.stdin is not None:
            child.stdin.close()
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def main() -> None:
    from sandbox.server import PortalSandbox

    portal = PortalSandbox.start("127.0.0.1", 0)
    if len(sys.argv) > 1:
        portal.faults.update(json.loads(sys.argv[1]))
    print(portal.url, flush=True)
    try:
        sys.stdin.read()  # returns when the parent closes our stdin or dies
    finally:
        portal.stop()


if __name__ == "__main__":
    main()
