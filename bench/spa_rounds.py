"""Clean rounds on the SPA-style province: every check, N rounds, no fault switched on.

The single-page portal (hash router, JSON APIs answering in ``api_delay_ms``, spinner,
forms in dialogs, toasts) and its identity portal with a slider CAPTCHA (bypass header
configured), compared with a classic portal for 同源一致性: any outcome other than pass would
be a false accusation. Prints per check the
outcomes and the run times, and one ``BENCH`` line.

    .venv/bin/python -m bench.spa_rounds --rounds 20
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.common import CHROMIUM, median, percentile, report, rounded, table, wire
from bot.jobs import run_check
from bot.services import Services
from core.results import Outcome
from probes.pool import BrowserOptions, BrowserPool
from sandbox.departments import masked
from sandbox.server import PortalSandbox
from sandbox.spa.server import SpaPortalSandbox
from sandbox.sso_world import SsoSandbox

SEGMENTS = ["138", "162", "170", "176", "199"]


def spa_catalog(portal: SpaPortalSandbox, sso: SsoSandbox, national: PortalSandbox) -> str:
    """The SPA province's checks, configured as an operator would from the README; the
    classic portal stands for the national platform its guides are compared with."""
    systems = [
        {"name": s.system.name, "url": s.url + "/user"}
        | ({"user_text": masked(sso.account.name)} if s.system.masks_name else {})
        for s in sso.systems
    ]
    sso_params = {
        "username": sso.account.username,
        "password": sso.account.password,
        "user_text": sso.account.name,
        "systems": systems,
        "captcha_bypass": {"token": "sandbox-captcha-bypass", "header": "X-Captcha-Bypass"},
    }
    checks = {
        "search": {"items": ["排污许可证核发", "公司设立登记", "教师资格认定"]},
        "registration": {"segments": SEGMENTS},
        "consultation": {"fill": {"所属部门": "省市场监督管理局"}},
        "mobile": {"pages": ["/#/item/gsslj"], "max_links": 2},
        "checklist": {
            "columns": {"pages": ["/#/list/legal"]},
            "guides": {"items": ["/#/item/gsslj", "/#/item/sfzhl"]},
        },
        "consistency": {
            "sources": [
                {"name": "国家政务服务平台", "base_url": national.url, "item_url": "/item/{code}"},
                {"name": "示范省一体化政务服务平台", "item_url": "/#/item/{code}"},
            ],
            "items": [{"code": "gsslj"}, {"code": "sfzhl"}],
        },
        "assistant": {"questions": ["公司设立登记", "住房公积金提取"], "required": True},
        "rating": {"items": ["/#/item/gsslj", "/#/item/sfzhl"], "entry": {}, "published": {}},
        "accessibility": {"pages": ["/", "/#/item/gsslj"], "care_mode": "required"},
    }
    portal_checks = "".join(
        f"""
      - probe: {probe}
        schedule: 1h
        params: {json.dumps(params, ensure_ascii=False)}"""
        for probe, params in checks.items()
    )
    return f"""
units:
  - code: bench-unit
    name: 基准测试单位
    level: province
targets:
  - key: spa-portal
    name: 示范省一体化政务服务平台
    unit: bench-unit
    base_url: {portal.url}
    checks:{portal_checks}
  - key: spa-ids
    name: 示范省统一身份认证平台
    unit: bench-unit
    base_url: {sso.identity_url}
    pages: {{login: /login}}
    checks:
      - probe: sso
        schedule: 1h
        params: {json.dumps(sso_params, ensure_ascii=False)}
"""


CHECKS = (
    "spa-portal/search",
    "spa-portal/registration",
    "spa-portal/consultation",
    "spa-portal/mobile",
    "spa-portal/checklist",
    "spa-portal/consistency",
    "spa-portal/assistant",
    "spa-portal/rating",
    "spa-portal/accessibility",
    "spa-ids/sso",
)


async def rounds(count: int, workdir: Path) -> dict[str, Any]:
    portal = SpaPortalSandbox.start()
    national = PortalSandbox.start()
    sso = SsoSandbox.start()
    sso.identity_faults.update({"slider_captcha": True, "spa_wording": True})
    pool = BrowserPool(BrowserOptions(executable_path=CHROMIUM), concurrency=2)
    try:
        services = wire(workdir, spa_catalog(portal, sso, national), pool=pool)
        return await play_rounds(services, CHECKS, count)
    finally:
        await pool.close()
        sso.stop()
        national.stop()
        portal.stop()


async def play_rounds(services: Services, checks: Sequence[str], count: int) -> dict[str, Any]:
    """Run every check ``count`` times (recording nothing); tally outcomes and times."""
    outcomes: dict[str, Counter[str]] = {check: Counter() for check in checks}
    seconds: dict[str, list[float]] = {check: [] for check in checks}
    problems: list[str] = []
    for number in range(1, count + 1):
        for check in checks:
            started = time.monotonic()
            result = (await run_check(services, check, record=False)).result
            seconds[check].append(time.monotonic() - started)
            outcomes[check][result.outcome.value] += 1
            if result.outcome is not Outcome.PASS:
                said = result.error or "；".join(f.code for f in result.findings)
                problems.append(f"round {number} {check}: {result.outcome.value} {said}")
    return {"outcomes": outcomes, "seconds": seconds, "problems": problems}


def report_rounds(name: str, checks: Sequence[str], found: dict[str, Any], count: int) -> None:
    """Print the per-check table and the ``BENCH`` line of a clean-rounds benchmark."""
    rows = []
    for check in checks:
        counted, times = found["outcomes"][check], found["seconds"][check]
        not_pass = sum(n for outcome, n in counted.items() if outcome != Outcome.PASS.value)
        rows.append(
            [
                check,
                counted.get("pass", 0),
                not_pass,
                rounded(median(times)),
                rounded(percentile(times, 95)),
            ]
        )
    text = table(["check", "pass", "non-pass", "median s", "p95 s"], rows)
    if found["problems"]:
        text += "\n" + "\n".join(found["problems"])
    figures = {
        "rounds": count,
        "non_pass": sum(row[2] for row in rows),
        "checks": {
            row[0]: {"pass": row[1], "non_pass": row[2], "median_s": row[3]} for row in rows
        },
    }
    report(name, figures, text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        found = asyncio.run(rounds(args.rounds, Path(tmp)))
    report_rounds("spa_rounds", CHECKS, found, args.rounds)


if __name__ == "__main__":
    main()
