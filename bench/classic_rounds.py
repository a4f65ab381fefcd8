"""Clean rounds on the server-rendered province: every check of the demo catalog and the
checklist issue's checks, N rounds, no fault switched on.

The same six journeys the demo plays (search, registration with the SMS, consultation,
guides, SSO across department systems, mobile pages), plus 网办深度, 同源一致性 (the SPA
portal standing for the national platform), 智能客服, 好差评, 适老化 and 可用性 on the
portal, on the healthy sandbox world: any outcome other than pass would be a false
accusation. Prints per check the outcomes and run times, and one ``BENCH`` line.

    .venv/bin/python -m bench.classic_rounds --rounds 20
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from pathlib import Path
from typing import Any

import yaml

from bench.common import CHROMIUM, wire
from bench.spa_rounds import play_rounds, report_rounds
from bot.demo import DEMO_CATALOG
from probes.pool import BrowserOptions, BrowserPool
from sandbox.registration_state import SMS_TOKEN
from sandbox.spa.server import SpaPortalSandbox
from sandbox.world import SandboxWorld

CHECKS = (
    "sf-portal/search",
    "sf-portal/registration",
    "sf-portal/consultation",
    "sf-portal/guides",
    "sf-ids/sso",
    "sf-h5/mobile",
    "sf-portal/depth",
    "sf-portal/consistency",
    "sf-portal/assistant",
    "sf-portal/rating",
    "sf-portal/accessibility",
    "sf-portal/availability",
)


def extra_checks(national: str) -> list[dict[str, Any]]:
    """The checklist issue's checks on the portal, configured as the README shows them."""
    guides = ["/item/gsslj", "/item/20013"]
    sources = [
        {"name": "国家政务服务平台", "base_url": national, "item_url": "/#/item/{code}"},
        {"name": "示范省政务服务网", "item_url": "/item/{code}"},
    ]
    params: dict[str, dict[str, Any]] = {
        "depth": {"items": guides, "online": {}, "clicks": {}},
        "consistency": {"sources": sources, "items": [{"code": "gsslj"}, {"code": "sfzhl"}]},
        "assistant": {"questions": ["公司设立登记", "住房公积金提取"], "required": True},
        "rating": {"items": guides, "entry": {}, "published": {}},
        "accessibility": {"pages": ["/", "/item/gsslj"], "care_mode": "required"},
        "availability": {"pages": ["/"], "tls": None},
    }
    return [{"probe": probe, "schedule": "1h", "params": p} for probe, p in params.items()]


def classic_catalog(world: SandboxWorld, national: str | None = None) -> str:
    """The demo catalog with the world's addresses filled in (no notices are sent); with
    ``national`` (the SPA portal's address), the extra checks on the portal too."""
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
    if national is None:
        return text
    catalog = yaml.safe_load(text)
    portal = next(t for t in catalog["targets"] if t["key"] == "sf-portal")
    portal["checks"] += extra_checks(national)
    return str(yaml.safe_dump(catalog, allow_unicode=True, sort_keys=False))


async def rounds(count: int, workdir: Path) -> dict[str, Any]:
    world = SandboxWorld.start()
    national = SpaPortalSandbox.start()
    pool = BrowserPool(BrowserOptions(executable_path=CHROMIUM), concurrency=2)
    try:
        catalog = classic_catalog(world, national.url)
        services = wire(workdir, catalog, pool=pool, run_timeout_s=60.0)
        return await play_rounds(services, CHECKS, count)
    finally:
        await pool.close()
        national.stop()
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
