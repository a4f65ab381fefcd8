"""Serving sandbox sites: several addresses at once, clean stops, the foreground CLI."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from sandbox.faults import PortalFaults
from sandbox.main import serve
from sandbox.server import PortalSandbox
from tests.sandbox.pages import result_names

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_two_portals_run_at_once_on_separate_loopback_addresses() -> None:
    with (
        PortalSandbox.start(host="127.0.0.2") as first,
        PortalSandbox.start(host="127.0.0.3", faults=PortalFaults(site_down=True)) as second,
    ):
        assert first.url.startswith("http://127.0.0.2:")
        assert second.url.startswith("http://127.0.0.3:")
        assert httpx.get(f"{first.url}/").status_code == 200
        assert httpx.get(f"{second.url}/").status_code == 503


def test_stopped_portal_refuses_connections() -> None:
    sandbox = PortalSandbox.start()
    url = sandbox.url
    sandbox.stop()

    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{url}/healthz")


def test_serve_rejects_a_bad_fault_argument_with_exit_code_2(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = serve("127.0.0.1", 0, ["slow_ms=soon"])

    assert code == 2
    assert "slow_ms=soon" in capsys.readouterr().err


def test_serve_runs_until_interrupted() -> None:
    command = [
        sys.executable,
        "-c",
        "import sys; from sandbox.main import serve; "
        "sys.exit(serve('127.0.0.1', 0, ['search_empty']))",
    ]
    with subprocess.Popen(command, cwd=REPO_ROOT, stdout=subprocess.PIPE, text=True) as process:
        assert process.stdout is not None
        first_line = process.stdout.readline()
        match = re.search(r"http://127\.0\.0\.1:\d+", first_line)
        assert match, first_line
        try:
            response = httpx.get(f"{match.group(0)}/search", params={"q": "护照"})
            assert result_names(response) == []
        finally:
            process.send_signal(signal.SIGINT)
        assert process.wait(timeout=10) == 0
