"""The README's first command: ``govpatrol demo --once`` plays every journey to closure."""

from __future__ import annotations

import subprocess
import sys

import pytest

pytestmark = pytest.mark.browser


def test_demo_plays_every_journey_from_failure_to_closure() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "demo", "--once"],
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "演示成功：6 类环节、48 个步骤全部完成" in done.stdout
