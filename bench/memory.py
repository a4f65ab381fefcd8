"""Benchmark 3, memory: proportional set size (PSS) of this process plus its Playwright
driver and Chromium processes, idle and with 1, 2 and 4 search probes held open at once,
and its growth over many consecutive probe runs.

The portal runs in a child process of its own and is left out of every figure. PSS
shares a page among the processes that map it, so the absolute figures drop when other
Chromiums run on the machine (they share its libraries); the per-context and growth
figures are differences within one run.

Bars: < 60 MiB per extra concurrent context; growth < 5 % over the figure after the first
100 runs, at every point measured.

    .venv/bin/python -m bench.memory [--runs 1000] [--every 100] [--recycle-growth-mb N]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import tempfile
import time
from pathlib import Path
from typing import ClassVar

import psutil

from bench.common import CHROMIUM, MIB, load_average, report, table, wire
from bench.portal import PortalProcess
from bot.services import Services
from config.settings import Settings
from core.results import Outcome, ProbeResult
from probes.base import ProbeContext
from probes.pool import BrowserOptions, BrowserPool
from probes.search import SearchProbe

CONTEXT_BAR_MIB = 60.0
GROWTH_BAR = 0.05
HELD_LEVELS = (1, 2, 4)
SETTLE_S = 1.0


class HeldSearchProbe(SearchProbe):
    """The 站内搜索 probe, holding its browser context open (results page shown, trace
    recording) until the benchmark has measured the memory of that many at once."""

    kind = "held_search"
    arrived: ClassVar[asyncio.Queue[None] | None] = None
    release: ClassVar[asyncio.Event | None] = None

    async def run(self, ctx: ProbeContext) -> ProbeResult:
        result = await super().run(ctx)
        assert self.arrived is not None and self.release is not None
        self.arrived.put_nowait(None)
        await self.release.wait()
        return result


def catalog(portal_url: str) -> str:
    return f"""
units:
  - code: bench-unit
    name: 基准测试单位
targets:
  - key: bench-portal
    name: 示范省政务服务网
    unit: bench-unit
    base_url: {portal_url}
    checks:
      - probe: search
        schedule: 1h
        params: {{items: [排污许可证核发]}}
      - probe: held_search
        schedule: 1h
        params: {{items: [排污许可证核发]}}
"""


def pss_bytes(exclude: set[int]) -> int:
    """PSS of this process and its descendants, ``exclude`` left out."""
    return memory_bytes(exclude)[0]


def memory_bytes(exclude: set[int]) -> tuple[int, int]:
    """PSS and anonymous resident memory (RSS less file-backed and shared pages) of this
    process and its descendants, ``exclude`` left out. PSS, and USS too, move when another
    Chromium on the machine starts or stops (library pages change hands); anonymous
    memory does not, so it is the one that tells a leak."""
    me = psutil.Process()
    pss = anon = 0
    for process in [me, *me.children(recursive=True)]:
        if process.pid in exclude:
            continue
        try:
            info = process.memory_full_info()
        except psutil.Error:
            continue
        pss += info.pss
        anon += info.rss - info.shared
    return pss, anon


def settled_memory(exclude: set[int]) -> tuple[int, int]:
    gc.collect()
    time.sleep(SETTLE_S)  # let closed contexts' renderers exit
    return memory_bytes(exclude)


def tree_size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


async def run_once(services: Services, check_id: str) -> None:
    target, check = services.check(check_id)
    result = await services.runner.run(check_id, target, check)
    if result.outcome is not Outcome.PASS:
        raise RuntimeError(f"{check_id}: {result.outcome} {result.summary} {result.error}")


async def held(services: Services, level: int, exclude: set[int]) -> int:
    """PSS with ``level`` probe runs holding their contexts open at the same moment."""
    HeldSearchProbe.arrived = asyncio.Queue()
    HeldSearchProbe.release = asyncio.Event()
    runs = [
        asyncio.create_task(run_once(services, "bench-portal/held_search")) for _ in range(level)
    ]
    for _ in range(level):
        await HeldSearchProbe.arrived.get()
    await asyncio.sleep(SETTLE_S)
    value = pss_bytes(exclude)
    HeldSearchProbe.release.set()
    await asyncio.gather(*runs)
    return value


async def measure(
    runs: int, every: int, scratch: Path, recycle_after: int, growth_bytes: int | None
) -> dict[str, object]:
    with PortalProcess() as portal:
        exclude = portal.pids
        # Recycled as the daemon's pool is (its settings' defaults, or as told).
        pool = BrowserPool(
            BrowserOptions(executable_path=CHROMIUM),
            max(HELD_LEVELS),
            recycle_after,
            recycle_above_bytes=Settings.model_fields["browser_recycle_above_mb"].default * MIB,
            recycle_growth_bytes=growth_bytes,
        )
        services = wire(
            scratch / "data",
            catalog(portal.url),
            pool=pool,
            extra_probes=(HeldSearchProbe,),
            browser_concurrency=max(HELD_LEVELS),
        )
        try:
            await pool.start()
            await run_once(services, "bench-portal/search")  # warm: first renderer, caches
            idle = settled_memory(exclude)[0]
            at_level = {level: await held(services, level, exclude) for level in HELD_LEVELS}
            growth: list[tuple[int, int, int, int, int, int]] = []
            launches = pool.launches
            started = time.perf_counter()
            for done in range(1, runs + 1):
                await run_once(services, "bench-portal/search")
                if done % every == 0 or done == runs:
                    pss, anon = settled_memory(exclude)
                    driver = pool.driver_memory()
                    recycled = pool.launches - launches
                    growth.append((done, pss, anon, tree_size(scratch / "tmp"), driver, recycled))
            seconds = time.perf_counter() - started
        finally:
            await services.close()
    per_context = {
        level: (at_level[level] - idle) / level / MIB for level in HELD_LEVELS if level > 0
    }
    extra_4 = (at_level[4] - at_level[1]) / 3 / MIB  # the bar's figure
    first = next((g for g in growth if g[0] >= min(every, runs)), growth[0])
    last = growth[-1]
    growth_share = (last[1] - first[1]) / first[1]
    anon_growth_share = (last[2] - first[2]) / first[2]
    # The highest point on the way, too: a heap that breathes is not a leak, but shows here.
    anon_peak_share = max((g[2] - first[2]) / first[2] for g in growth)
    pss_peak_share = max((g[1] - first[1]) / first[1] for g in growth)
    return {
        "idle_mib": round(idle / MIB, 1),
        "held_mib": {str(level): round(value / MIB, 1) for level, value in at_level.items()},
        "per_context_mib": {str(k): round(v, 1) for k, v in per_context.items()},
        "per_extra_context_mib": round(extra_4, 1),
        "context_bar_mib": CONTEXT_BAR_MIB,
        "context_bar_met": extra_4 < CONTEXT_BAR_MIB,
        "runs": runs,
        "runs_seconds": round(seconds, 1),
        "recycle_after": recycle_after,
        "recycle_growth_mib": growth_bytes // MIB if growth_bytes else None,
        "growth": [
            {
                "runs": done,
                "pss_mib": round(pss / MIB, 1),
                "anon_mib": round(anon / MIB, 1),
                "tmp_mib": round(tmp / MIB, 1),
                "driver_mib": round(driver / MIB, 1),
                "recycles": recycled,
            }
            for done, pss, anon, tmp, driver, recycled in growth
        ],
        "growth_share": round(growth_share, 4),
        "anon_growth_share": round(anon_growth_share, 4),
        "anon_peak_share": round(anon_peak_share, 4),
        "pss_peak_share": round(pss_peak_share, 4),
        "growth_bar": GROWTH_BAR,
        # At every point on the way, not only at the end.
        "growth_bar_met": pss_peak_share < GROWTH_BAR and anon_peak_share < GROWTH_BAR,
        "load_average": load_average(),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=1000, help="consecutive runs for growth")
    parser.add_argument("--every", type=int, default=100, help="measure after every N runs")
    defaults = Settings.model_fields
    parser.add_argument(
        "--recycle-after",
        type=int,
        default=defaults["browser_recycle_after"].default,
        help="contexts before the browser and driver restart (GOVPATROL_BROWSER_RECYCLE_AFTER)",
    )
    parser.add_argument(
        "--recycle-growth-mb",
        type=int,
        default=defaults["browser_recycle_growth_mb"].default,
        help="driver growth over its warm size that recycles it; 0: off",
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-memory-") as tmp:
        scratch = Path(tmp)
        # Playwright's own temporary files (its trace scratch among them) go here, so
        # the disk they take is measured too.
        (scratch / "tmp").mkdir()
        os.environ["TMPDIR"] = str(scratch / "tmp")
        tempfile.tempdir = None
        figures = asyncio.run(
            measure(
                args.runs,
                args.every,
                scratch,
                args.recycle_after,
                args.recycle_growth_mb * MIB or None,
            )
        )
    held_mib = figures["held_mib"]
    per_context = figures["per_context_mib"]
    assert isinstance(held_mib, dict) and isinstance(per_context, dict)
    rows: list[list[object]] = [["idle (browser up, no context)", figures["idle_mib"], ""]]
    rows += [
        [f"{level} context(s) held open", held_mib[level], per_context[level]] for level in held_mib
    ]
    text = table(["state", "PSS MiB", "MiB per context over idle"], rows)
    text += (
        f"\nper extra concurrent context (4 vs 1): {figures['per_extra_context_mib']} MiB"
        f" (bar < {CONTEXT_BAR_MIB:.0f}: {'met' if figures['context_bar_met'] else 'NOT met'})\n\n"
    )
    growth = figures["growth"]
    assert isinstance(growth, list)
    text += table(
        ["after runs", "PSS MiB", "anonymous MiB", "Playwright tmp MiB", "driver MiB", "recycles"],
        [
            [g["runs"], g["pss_mib"], g["anon_mib"], g["tmp_mib"], g["driver_mib"], g["recycles"]]
            for g in growth
        ],
    )
    text += (
        f"\ngrowth after the first {args.every} runs: PSS {figures['growth_share']:.1%},"
        f" anonymous {figures['anon_growth_share']:.1%}"
        f" (highest on the way: PSS {figures['pss_peak_share']:.1%},"
        f" anonymous {figures['anon_peak_share']:.1%})"
        f" (bar < {GROWTH_BAR:.0%}: {'met' if figures['growth_bar_met'] else 'NOT met'})"
    )
    report("memory", figures, text)


if __name__ == "__main__":
    main()
