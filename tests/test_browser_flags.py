"""Chromium keeps only the last --disable-features switch: ours must still carry all of
Playwright's, or an upgrade of Playwright would silently turn its choices back on."""

from __future__ import annotations

import psutil
import pytest

from probes.pool import DISABLE_FEATURES_FLAG, BrowserPool

pytestmark = pytest.mark.browser


async def test_our_disabled_features_keep_every_one_playwright_disables(
    browser_pool: BrowserPool,
) -> None:
    await browser_pool.start()
    launched = [
        process.cmdline()
        for process in psutil.Process().children(recursive=True)
        if DISABLE_FEATURES_FLAG in process.cmdline()
    ]
    assert launched, "no Chromium started with our --disable-features switch"
    switches = [arg for arg in launched[0] if arg.startswith("--disable-features=")]
    assert switches[-1] == DISABLE_FEATURES_FLAG, "ours must come last to take effect"
    theirs = {f for switch in switches[:-1] for f in switch.split("=", 1)[1].split(",")}
    ours = set(DISABLE_FEATURES_FLAG.split("=", 1)[1].split(","))
    assert theirs <= ours, f"add to PLAYWRIGHT_DISABLED_FEATURES: {sorted(theirs - ours)}"
