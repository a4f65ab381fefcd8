"""Every benchmark runs end to end with tiny parameters, so none of them rots.

No timing is asserted here: the benchmarks' bars are for `scripts/bench`, on a quiet
machine. Each is run as a command, as an operator runs it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent


def bench(name: str, *options: str, results: Path, timeout: float = 60) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", f"bench.{name}", *options],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "PYTHONPATH": str(REPO), "GOVPATROL_BENCH_RESULTS": str(results)},
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    (line,) = [line for line in done.stdout.splitlines() if line.startswith("BENCH ")]
    record: dict[str, Any] = json.loads(line.removeprefix("BENCH "))
    assert record["bench"] == name and record["machine"]["nproc"]
    assert len(list(results.glob(f"{name}-*.json"))) == 1
    return record


@pytest.mark.browser
def test_probe_overhead_prints_both_journeys(tmp_path: Path) -> None:
    record = bench("probe_overhead", "--runs", "2", "--warmup", "0", results=tmp_path)
    assert record["bare_ms"]["median"] > 0 and record["probe_ms"]["median"] > 0


@pytest.mark.browser
def test_throughput_prints_a_point_per_concurrency(tmp_path: Path) -> None:
    record = bench("throughput", "--seconds", "1", "--concurrency", "1", "2", results=tmp_path)
    assert [p["concurrency"] for p in record["points"]] == [1, 2]
    assert all(p["probe_runs"] > 0 and p["bare_runs"] > 0 for p in record["points"])


@pytest.mark.browser
def test_memory_prints_idle_held_and_growth(tmp_path: Path) -> None:
    record = bench("memory", "--runs", "2", "--every", "1", results=tmp_path)
    assert record["idle_mib"] > 0 and set(record["held_mib"]) == {"1", "2", "4"}
    assert [g["runs"] for g in record["growth"]] == [1, 2]


def test_catalog_scale_schedules_and_fires_runs(tmp_path: Path) -> None:
    record = bench(
        "catalog_scale",
        *("--targets", "20", "--idle-seconds", "1", "--fire-seconds", "2"),
        *("--margin-seconds", "2"),
        results=tmp_path,
    )
    assert record["checks"] == 120 and record["idle_runs"] == 0


def test_notify_throughput_delivers_every_notice(tmp_path: Path) -> None:
    record = bench("notify_throughput", "--notices", "10", results=tmp_path)
    assert [(c["channel"], c["received"]) for c in record["channels"]] == [
        ("mail", 10),
        ("webhook", 10),
    ]


@pytest.mark.postgres
def test_tracker_scale_measures_both_databases(tmp_path: Path, postgres_url: str) -> None:
    record = bench(
        "tracker_scale",
        *("--runs", "300", "--tasks", "120", "--units", "10", "--open", "30", "--repeats", "2"),
        results=tmp_path,
    )
    for database in ("sqlite", "postgresql"):
        figures = record["results"][database]
        assert figures["sweep_tasks"] == 30 and figures["scorecards"] == 10


@pytest.mark.postgres
def test_queue_overhead_prints_latency_and_burst(tmp_path: Path) -> None:
    record = bench("queue_overhead", "--jobs", "5", "--burst", "10", results=tmp_path)
    assert record["start_ms"]["median"] > 0 and record["finish_ms"]["median"] > 0
    assert record["burst_done_per_s"] > 0


def test_scripts_bench_counts_its_benchmarks_and_time(tmp_path: Path) -> None:
    done = subprocess.run(
        ["bash", "scripts/bench", "notify_throughput", "--help"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "GOVPATROL_BENCH_RESULTS": str(tmp_path)},
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "== [1/1] notify_throughput (0 min elapsed)" in done.stdout
    assert "== done: 1 of 1 in 0 min" in done.stdout
