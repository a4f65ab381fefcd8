"""Benchmark 1, probe overhead: the 站内搜索 probe through ProbeRunner against a bare
Playwright script doing the same steps, interleaved, one at a time, on a healthy portal.

Bar: probe median ≤ 1.10 × bare median.

    .venv/bin/python -m bench.probe_overhead [--runs 40] [--layer runner|runner-full|job] [--fail]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from pathlib import Path

from bench.common import CHECK_ID, CHROMIUM, SEARCH_ITEM, median, percentile, report, rounded, table
from bench.journeys import BareSearch, Layer, ProbeSearch, timed
from bench.portal import PortalProcess
from bot.jobs import run_confirmed
from core.results import Outcome

BAR = 1.10


async def measure(runs: int, warmup: int, layer: Layer) -> dict[str, object]:
    with PortalProcess() as portal, tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        bare = BareSearch(portal.url, CHROMIUM)
        probe = ProbeSearch(portal.url, Path(tmp), CHROMIUM, 1, layer)
        await bare.start()
        await probe.start()
        try:
            for _ in range(warmup):
                await bare.run()
                await probe.run()
            bare_s: list[float] = []
            probe_s: list[float] = []
            for index in range(runs):
                # Alternate who goes first, so neither always runs on a warmer cache.
                if index % 2 == 0:
                    bare_s.append(await timed(bare.run))
                    probe_s.append(await timed(probe.run))
                else:
                    probe_s.append(await timed(probe.run))
                    bare_s.append(await timed(bare.run))
        finally:
            await probe.close()
            await bare.close()
    bare_ms = [s * 1000 for s in bare_s]
    probe_ms = [s * 1000 for s in probe_s]
    ratio = median(probe_ms) / median(bare_ms)
    return {
        "runs": runs,
        "layer": layer,
        "bare_ms": {"median": rounded(median(bare_ms)), "p95": rounded(percentile(bare_ms, 95))},
        "probe_ms": {
            "median": rounded(median(probe_ms)),
            "p95": rounded(percentile(probe_ms, 95)),
        },
        "ratio_median": round(ratio, 3),
        "ratio_p95": round(percentile(probe_ms, 95) / percentile(bare_ms, 95), 3),
        "bar": BAR,
        "bar_met": ratio <= BAR,
    }


async def measure_fail(runs: int, warmup: int) -> dict[str, object]:
    """The fail path on a portal where the item cannot be found: a failing run with a light
    trace alone (a first failure before confirmation), one confirmed by a re-run with a full
    trace (what the daemon does now for a failure after a pass), and one with a full trace
    alone (a check that failed last time)."""
    faults = {"items_missing": [SEARCH_ITEM]}
    with PortalProcess(faults) as portal, tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        probe = ProbeSearch(portal.url, Path(tmp), CHROMIUM, 1, "runner")
        services, target, check = probe.services, probe.target, probe.check

        async def light() -> None:
            result = await services.runner.run(CHECK_ID, target, check, full_trace=False)
            assert result.outcome is Outcome.FAIL, result

        async def full() -> None:
            result = await services.runner.run(CHECK_ID, target, check, full_trace=True)
            assert result.outcome is Outcome.FAIL, result

        async def confirmed() -> None:
            result, _ = await run_confirmed(services, CHECK_ID, None, full_trace=False)
            assert result.outcome is Outcome.FAIL and "confirmed" in result.metrics, result

        journeys = {"light": light, "confirmed": confirmed, "full": full}
        await probe.start()
        try:
            for _ in range(warmup):
                for journey in journeys.values():
                    await journey()
            times: dict[str, list[float]] = {name: [] for name in journeys}
            names = list(journeys)
            for index in range(runs):
                # Rotate who goes first, so none always runs on a warmer cache.
                for name in names[index % 3 :] + names[: index % 3]:
                    times[name].append(await timed(journeys[name]) * 1000)
        finally:
            await probe.close()
    medians = {name: median(values) for name, values in times.items()}
    return {
        "runs": runs,
        "fail_ms": {
            name: {"median": rounded(medians[name]), "p95": rounded(percentile(values, 95))}
            for name, values in times.items()
        },
        "confirmed_over_light": round(medians["confirmed"] / medians["light"], 3),
        "full_over_light": round(medians["full"] / medians["light"], 3),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=40, help="runs of each (≥ 30 for the bar)")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument(
        "--layer",
        choices=["runner", "runner-full", "job"],
        default="runner",
        help="runner: ProbeRunner.run; job: run_check (also records the run in SQLite)",
    )
    parser.add_argument(
        "--fail",
        action="store_true",
        help="the fail path instead: light, confirmed by a full re-run, and full, on a "
        "portal that lost the item",
    )
    args = parser.parse_args(argv)
    if args.fail:
        fail = asyncio.run(measure_fail(args.runs, args.warmup))
        ms = fail["fail_ms"]
        assert isinstance(ms, dict)
        labels = {
            "light": "failure, light trace (not confirmed)",
            "confirmed": "failure, light + re-run with full trace",
            "full": "failure, full trace (failed last time)",
        }
        text = table(
            ["journey", "runs", "median ms", "p95 ms"],
            [[labels[k], args.runs, v["median"], v["p95"]] for k, v in ms.items()],
        )
        text += (
            f"\nconfirmed/light: {fail['confirmed_over_light']:.3f},"
            f" full/light: {fail['full_over_light']:.3f}"
        )
        report("probe_overhead_fail", fail, text)
        return
    figures = asyncio.run(measure(args.runs, args.warmup, args.layer))
    bare, probe = figures["bare_ms"], figures["probe_ms"]
    assert isinstance(bare, dict) and isinstance(probe, dict)
    text = table(
        ["journey", "runs", "median ms", "p95 ms"],
        [
            ["bare Playwright", args.runs, bare["median"], bare["p95"]],
            [f"search probe ({args.layer})", args.runs, probe["median"], probe["p95"]],
        ],
    )
    text += (
        f"\nprobe/bare: median {figures['ratio_median']:.3f}, p95 {figures['ratio_p95']:.3f}"
        f" (bar ≤ {BAR:.2f}: {'met' if figures['bar_met'] else 'NOT met'})"
    )
    report("probe_overhead", figures, text)


if __name__ == "__main__":
    main()
