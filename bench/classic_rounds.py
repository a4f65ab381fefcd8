"""Clean rounds on the server-rendered province: every check of the demo catalog, N rounds,
no fault switched on.

The same six journeys the demo plays (search, registration with the SMS, consultation,
guides, SSO across department systems, mobile pages), on the healthy sandbox world: any
outcome other than pass would be a false accusation. Prints per check the outcomes and
run times, and one ``BENCH`` line.

    .venv/bin/python -m bench.classic_rounds --rounds 20
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from pathlib import Path
from typing import Any

from bench.common import CHROMIUM, wire
from bench.spa_rounds import play_rounds, report_rounds
from bot.demo import DEMO_CATALOG
from probes.pool import BrowserOptions, BrowserPool
from sandbox.registration_state import SMS_TOKEN
from sandbox.world import SandboxWorld

CHECKS = (
    "sf-portal/search",
    "sf-portal/registration",
    "sf-portal/consultation",
    "sf-portal/guides",
    "sf-ids/sso",
    "sf-h5/mobile",
)


def classic_catalog(world: SandboxWorld) -> str:
    """The demo catalog with the world's addresses filled in (no notices are sent)."""
    urls = world.urls()
    values = {
        "DEMO_PORTAL": urls["portal"],
        "DEMO_IDENTITY": urls["identity"],
        "DEMO_SSO_SCJG": urls["sso_scjg"],
        "DEMO_SSO_RST": urls["sso_rst"],
        "DEMO_MOBILE": urls["mobile"],
        "DEMO_SSO_PASSWORD": world.sso.account.password,
        "DEMO_SMS_TOKEN": SMS_TOKEN,
        "DEMO_SMTP_PORT": "9",
        "DEMO_WEBHOOK": "127.0.0.1:9",
    }
    text = DEMO_CATALOG.read_text(encoding="utf-8")
    for name, value in values.items():
        text = text.replace("${" + name + "}", value)
    return text


async def rounds(count: int, workdir: Path) -> dict[str, Any]:
    world = SandboxWorld.start()
    pool = BrowserPool(BrowserOptions(executable_path=CHROMIUM), concurrency=2)
    try:
        services = wire(workdir, classic_catalog(world), pool=pool, run_timeout_s=60.0)
        return await play_rounds(services, CHECKS, count)
    finally:
        await pool.close()
        world.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        found = asyncio.run(rounds(args.rounds, Path(tmp)))
    report_rounds("classic_rounds", CHECKS, found, args.rounds)


if __name__ == "__main__":
    main()
