"""The scheduler and worker roles as real processes on PostgreSQL, against the sandbox:
every due run happens once, a worker killed mid-run has its job retried and recorded
once, a standby scheduler takes over from a killed active one without running a slot
twice, and each location's queue is consumed only by its own workers.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
import time
from collections import Counter
from pathlib import Path

import pytest

from sandbox.server import PortalSandbox
from tests.roles_helpers import CuttableProxy, Fleet, rows, throwaway_database, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.postgres]

OUTAGE_S = 30  # as long as the issue asks: past the lease and the queue's reconnection backoff
RUN_FOR_S = 30  # the small catalog runs this long from the start of the processes
UNIT = """
units:
  - code: sf-zwb
    name: 示范省政务服务管理办公室
    contacts: [{name: 王晓明, notify: ["json://127.0.0.1:9/hook"]}]
defaults: {probation: "off", failure_threshold: 1}
"""


def target(key: str, url: str, every: str, item: str, locations: str = "") -> str:
    where = f", locations: [{locations}]" if locations else ""
    return f"""
  - key: {key}
    name: 示范{key}
    unit: sf-zwb
    base_url: {url}
    checks:
      - {{probe: search, schedule: {every}{where}, params: {{items: [{item}]}}}}"""


def slots(url: str) -> list[tuple[str, str, dt.datetime, int | None]]:
    found = rows(url, "SELECT check_id, location, slot, run_id FROM scheduled_runs ORDER BY slot")
    return [(str(c), str(loc), s, r) for c, loc, s, r in found]


def runs_per_check(url: str) -> Counter[str]:
    return Counter(str(check) for (check,) in rows(url, "SELECT check_id FROM runs"))


def assert_each_slot_ran_once(url: str, every_s: float) -> None:
    """Every recorded run belongs to one slot, and no check's slots crowd one interval."""
    done = [slot for slot in slots(url) if slot[3] is not None]
    assert len({slot[3] for slot in done}) == len(done)  # no run counted for two slots
    assert Counter(slot[0] for slot in done) == runs_per_check(url)  # no run without a slot
    by_check: dict[tuple[str, str], list[dt.datetime]] = {}
    for check, location, at, _ in slots(url):
        by_check.setdefault((check, location), []).append(at)
    for key, times in by_check.items():
        gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(times)]
        # Slots are kept to the whole second (a unique key), so a gap of a hair under
        # ``every_s`` can read a second short; a doubled slot reads 0 or 1 s.
        assert all(gap >= every_s - 1 for gap in gaps), (key, gaps)


def test_two_workers_run_every_due_run_once_and_retry_a_killed_workers_job(
    tmp_path: Path, portal: PortalSandbox
) -> None:
    slow = PortalSandbox.start("127.0.0.1", 0)
    slow.faults.update({"slow_ms": 1500, "items_missing": ["排污许可证核发"]})
    catalog = (
        UNIT
        + "locations: [{name: east}, {name: west}]\ntargets:"
        + target("fast", portal.url, "4s", "公司设立登记", "east")
        + target("slow", slow.url, "60s", "排污许可证核发", "east")
        + target("far", portal.url, "4s", "公司设立登记", "west")
    )
    with throwaway_database() as url:
        fleet = Fleet(tmp_path, url, catalog)
        try:
            upgraded = fleet.command("db", "upgrade")
            assert "Procrastinate" in upgraded
            fleet.start("scheduler", "scheduler")
            fleet.start("w1", "worker", "--location", "east")
            fleet.start("w2", "worker", "--location", "east")
            started = time.monotonic()

            def slow_runner() -> str:
                for name in ("w1", "w2"):
                    if re.search(r"scheduled run \d+ of slow/search starts", fleet.log(name)):
                        return name
                return ""

            wait_for(lambda: bool(slow_runner()), 60, "a worker to start the slow check")
            victim = slow_runner()
            (killed_slot,) = re.findall(
                r"scheduled run (\d+) of slow/search starts", fleet.log(victim)
            )
            time.sleep(1.0)  # mid-run: the slow portal takes seconds per page
            fleet.kill(victim)
            retried = wait_for(
                lambda: bool(
                    rows(
                        url,
                        "SELECT 1 FROM scheduled_runs WHERE id = %s AND run_id IS NOT NULL",
                        (int(killed_slot),),
                    )
                ),
                60,
                "the killed worker's job to be retried and recorded",
            )
            time.sleep(max(0.0, RUN_FOR_S - (time.monotonic() - started)))
        finally:
            fleet.stop_all()
            slow.stop()
        survivor = "w2" if victim == "w1" else "w1"
        assert f"scheduled run {killed_slot} of slow/search starts" in fleet.log(survivor)
        assert_each_slot_ran_once(url, every_s=4)
        assert runs_per_check(url)["slow/search"] == 1
        ((tasks,),) = rows(url, "SELECT count(*) FROM tasks WHERE check_id = 'slow/search'")
        assert tasks == 1
        opened = rows(url, "SELECT recipient FROM notifications WHERE kind = 'task_opened'")
        assert opened == [("王晓明",)]  # one opening notice, written with the task
        fast = [s for s in slots(url) if s[0] == "fast/search" and s[3] is not None]
        assert len(fast) >= 3
        far = [s for s in slots(url) if s[0] == "far/search"]
        assert far and all(s[1] == "west" and s[3] is None for s in far)  # nobody serves west
        assert runs_per_check(url)["far/search"] == 0
        print(
            f"fast runs {len(fast)}, killed job retried and recorded after {retried:.1f}s, "
            f"west slots waiting {len(far)}"
        )


def test_standby_scheduler_takes_over_from_a_killed_one_without_running_a_slot_twice(
    tmp_path: Path, portal: PortalSandbox
) -> None:
    catalog = UNIT + "targets:" + target("fast", portal.url, "3s", "公司设立登记")
    with throwaway_database() as url:
        fleet = Fleet(tmp_path, url, catalog)
        try:
            fleet.command("db", "upgrade")
            fleet.start("s1", "scheduler")
            wait_for(lambda: "active:" in fleet.log("s1"), 30, "the first scheduler to lead")
            fleet.start("s2", "scheduler")
            fleet.start("worker", "worker")
            wait_for(lambda: "standby:" in fleet.log("s2"), 30, "the second to stand by")
            wait_for(lambda: runs_per_check(url)["fast/search"] >= 2, 60, "two runs")
            fleet.kill("s1")
            took_over = wait_for(lambda: "active:" in fleet.log("s2"), 60, "the takeover")
            before = runs_per_check(url)["fast/search"]
            wait_for(lambda: runs_per_check(url)["fast/search"] >= before + 2, 30, "more runs")
        finally:
            fleet.stop_all()
        assert took_over < 60
        assert_each_slot_ran_once(url, every_s=3)
        print(f"standby took over {took_over:.1f}s after kill -9")


def test_scheduler_and_worker_recover_from_a_database_outage_without_doubling(
    tmp_path: Path, portal: PortalSandbox
) -> None:
    catalog = UNIT + "targets:" + target("fast", portal.url, "3s", "公司设立登记")
    proxy = CuttableProxy()
    with throwaway_database() as url:
        fleet = Fleet(tmp_path, proxy.url(url), catalog)
        try:
            fleet.command("db", "upgrade")
            fleet.start("scheduler", "scheduler")
            fleet.start("worker", "worker")
            wait_for(lambda: runs_per_check(url)["fast/search"] >= 2, 60, "two runs")
            proxy.cut()
            time.sleep(OUTAGE_S)
            proxy.restore()
            before = runs_per_check(url)["fast/search"]
            recovered = wait_for(
                lambda: runs_per_check(url)["fast/search"] >= before + 2, 60, "runs again"
            )
            assert all(p.poll() is None for p in fleet.processes.values())
        finally:
            fleet.stop_all()
        assert_each_slot_ran_once(url, every_s=3)
        print(f"runs again {recovered:.1f}s after a {OUTAGE_S}s outage")
