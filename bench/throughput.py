"""Benchmark 2, throughput: probe runs per minute at concurrency 1, 2, 4 and 8, beside a
bare Playwright script's runs per minute at the same concurrency (same steps, same
Chromium, same flags; see ``bench.journeys``).

Bar: probe ≥ 0.9 × bare at every concurrency.

    .venv/bin/python -m bench.throughput [--seconds 120] [--concurrency 1 2 4 8]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from pathlib import Path

from bench.common import CHROMIUM, load_average, report, table
from bench.journeys import BareSearch, Layer, ProbeSearch, runs_within
from bench.portal import PortalProcess

BAR = 0.90


async def measure(levels: list[int], seconds: float, layer: Layer) -> list[dict[str, object]]:
    points: list[dict[str, object]] = []
    with PortalProcess() as portal, tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        bare = BareSearch(portal.url, CHROMIUM)
        probe = ProbeSearch(portal.url, Path(tmp), CHROMIUM, max(levels), layer)
        await bare.start()
        await probe.start()
        try:
            await bare.run()
            await probe.run()
            for index, level in enumerate(levels):
                load = load_average()
                # Alternate who goes first, so drift in the machine's load is shared.
                if index % 2 == 0:
                    bare_runs, bare_s = await runs_within(bare.run, level, seconds)
                    probe_runs, probe_s = await runs_within(probe.run, level, seconds)
                else:
                    probe_runs, probe_s = await runs_within(probe.run, level, seconds)
                    bare_runs, bare_s = await runs_within(bare.run, level, seconds)
                bare_rpm = bare_runs / bare_s * 60
                probe_rpm = probe_runs / probe_s * 60
                points.append(
                    {
                        "concurrency": level,
                        "bare_per_min": round(bare_rpm, 1),
                        "probe_per_min": round(probe_rpm, 1),
                        "bare_runs": bare_runs,
                        "probe_runs": probe_runs,
                        "ratio": round(probe_rpm / bare_rpm, 3),
                        "bar_met": probe_rpm >= BAR * bare_rpm,
                        "load_average": [load, load_average()],
                    }
                )
        finally:
            await probe.close()
            await bare.close()
    return points


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=120.0, help="per point and journey")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 2, 4, 8])
    parser.add_argument("--layer", choices=["runner", "runner-full", "job"], default="runner")
    args = parser.parse_args(argv)
    points = asyncio.run(measure(args.concurrency, args.seconds, args.layer))
    text = table(
        ["concurrency", "bare runs/min", "probe runs/min", "probe/bare", f"≥ {BAR}"],
        [
            [p["concurrency"], p["bare_per_min"], p["probe_per_min"], p["ratio"], p["bar_met"]]
            for p in points
        ],
    )
    figures = {
        "seconds": args.seconds,
        "layer": args.layer,
        "points": points,
        "bar": BAR,
        "bar_met": all(p["bar_met"] for p in points),
    }
    report("throughput", figures, text)


if __name__ == "__main__":
    main()
