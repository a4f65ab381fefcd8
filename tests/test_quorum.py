"""The verdict by location (tasks.quorum): a failure seen from a minority of a check's
locations opens no task and alerts the operator naming the location; seen from the quorum
it counts; closing needs the quorum too."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import ClassVar

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import Engine, select, update

from bot.dispatch import Dispatcher
from bot.jobs import run_scheduled, verify
from bot.migrate import upgrade
from bot.queue import apply_queue_schema, queue_name
from bot.rounds import checks_to_verify, decide_overdue, prune_scheduled_runs
from bot.services import Services
from bot.web import create_web_app
from bot.worker import worker_app
from config.loader import CatalogError, parse_catalog
from core.clock import FakeClock
from core.db import make_engine
from core.results import Finding, Outcome, ProbeResult
from notifications.models import Notification
from probes.base import Probe, ProbeContext, ProbeParams
from tasks.lifecycle import Actor, Role
from tasks.models import Run, ScheduledRun, Task, TaskState
from tasks.quorum import LocationRun, judge_round
from tests.conftest import ServicesFactory
from tests.console_helpers import add_account, login, screenshot_evidence
from tests.roles_helpers import rows, throwaway_database

CHECK = "t0/seen"
PLACES = ("互联网-电信", "互联网-联通")


class SeenParams(ProbeParams):
    pass


class SeenFrom(Probe):
    """Fails while ``failing`` is set: the test sets it per location's run, as the portal
    would look from that location's network."""

    kind: ClassVar[str] = "seen"
    Params = SeenParams
    uses_browser = False
    failing: ClassVar[bool] = False

    async def run(self, ctx: ProbeContext) -> ProbeResult:
        if SeenFrom.failing:
            finding = Finding(code="site.http_error", title="网站无法正常访问", detail="HTTP 503")
            return ProbeResult(Outcome.FAIL, (finding,))
        return ProbeResult(Outcome.PASS)


def two_places(extra: str = "", places: tuple[str, ...] = PLACES) -> str:
    listed = "".join(f"\n  - name: {p}" for p in places) or " []"
    return f"""
units:
  - code: u
    name: 示范县政务服务中心
    contacts: [{{name: 联系人孙, notify: ["json://127.0.0.1:9/hook"]}}]
locations:{listed}
targets:
  - key: t0
    name: 示范县政务服务网
    unit: u
    base_url: http://127.0.0.1:9
    checks:
      - {{name: seen, probe: seen, schedule: 1h, failure_threshold: 1{extra}}}
"""


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(dt.datetime(2026, 11, 23, 2, 0, tzinfo=dt.UTC))


@pytest.fixture
def services(make_services: ServicesFactory, engine: Engine, clock: FakeClock) -> Services:
    return make_services(
        two_places(),
        engine=engine,
        clock=clock,
        extra_probes=(SeenFrom,),
        operator_notify=[SecretStr("json://127.0.0.1:9/ops")],
    )


async def play_round(
    services: Services, clock: FakeClock, failing_from: set[str], silent: tuple[str, ...] = ()
) -> dt.datetime:
    """One slot: each location's run (the portal failing from ``failing_from``); the
    ``silent`` locations never report."""
    clock.advance(dt.timedelta(hours=1))
    slot = clock.now()
    ids = []
    with services.sessions.begin() as session:
        for place in PLACES:
            due = ScheduledRun(check_id=CHECK, location=place, slot=slot, deferred_at=slot)
            session.add(due)
            session.flush()
            ids.append(due.id)
    for place, due_id in zip(PLACES, ids, strict=True):
        if place in silent:
            continue
        SeenFrom.failing = place in failing_from
        clock.advance(dt.timedelta(seconds=20))
        await run_scheduled(services, due_id)
    return slot


def tasks_of(services: Services) -> list[Task]:
    with services.sessions() as session:
        return list(session.scalars(select(Task)))


def operator_alerts(services: Services) -> list[Notification]:
    with services.sessions() as session:
        return list(
            session.scalars(select(Notification).where(Notification.kind == "operator_alert"))
        )


async def test_fault_seen_from_one_location_alerts_and_opens_no_task_seen_from_both_opens_one(
    services: Services, clock: FakeClock
) -> None:
    await play_round(services, clock, {"互联网-联通"})
    assert tasks_of(services) == []
    (alert,) = operator_alerts(services)
    assert "仅 互联网-联通 发现问题" in alert.title and "示范县政务服务网" in alert.title
    assert "地点：互联网-联通" in alert.body and "互联网-电信 正常" in alert.body
    assert "http://127.0.0.1:9" in alert.body and "2/2" in alert.body
    with services.sessions() as session:
        runs = session.scalars(select(Run).order_by(Run.id)).all()
        assert [r.location for r in runs] == list(PLACES)
        assert [r.outcome for r in runs] == ["pass", "fail"]
        assert all(r.round_verdict is None for r in runs if r.outcome == "fail")

    await play_round(services, clock, {"互联网-联通"})  # the same day: no second alert
    assert tasks_of(services) == [] and len(operator_alerts(services)) == 1

    await play_round(services, clock, set(PLACES))
    (task,) = tasks_of(services)
    assert task.finding_code == "site.http_error" and task.state == TaskState.OPEN.value
    assert len(operator_alerts(services)) == 1  # a quorum failure is the unit's, not ours


async def test_closing_needs_the_quorum_too(services: Services, clock: FakeClock) -> None:
    await play_round(services, clock, set(PLACES))
    (task,) = tasks_of(services)
    with services.sessions.begin() as session:
        services.desk.report_rectified(session, task.id, Actor("联系人孙", Role.UNIT), "已修复")
    clock.advance(dt.timedelta(minutes=1))
    SeenFrom.failing = False
    lone = await verify(services, task.id, CHECK)  # from wherever the report was handled
    assert lone.changed_tasks == () and tasks_of(services)[0].state == TaskState.RECTIFIED.value
    assert checks_to_verify(services) == [CHECK]  # the scheduler defers a round instead
    await play_round(services, clock, {"互联网-电信"})  # fixed as seen from one place only
    assert tasks_of(services)[0].state == TaskState.RECTIFIED.value
    assert checks_to_verify(services) == []
    await play_round(services, clock, set())
    assert tasks_of(services)[0].state == TaskState.CLOSED.value


async def test_task_page_shows_each_location_of_the_opening_and_the_latest_round(
    make_services: ServicesFactory, clock: FakeClock
) -> None:
    services = make_services(two_places(), clock=clock, extra_probes=(SeenFrom,))
    add_account(services, "zhao")
    await play_round(services, clock, set(PLACES))
    await play_round(services, clock, {"互联网-电信"})
    files = screenshot_evidence(services).as_dict()
    with services.sessions.begin() as session:
        session.execute(update(Run).values(evidence=files))
    (task,) = tasks_of(services)
    client = TestClient(create_web_app(services))
    assert login(client, "zhao") == 303
    page = client.get(f"/console/tasks/{task.id}").text
    opening, latest = page.split("各地点巡检结果：")[1:3]
    assert opening.startswith("立案轮次") and latest.startswith("最近一轮")
    assert "2 个地点中 2 个发现本问题" in opening and "2 个地点中 1 个发现本问题" in latest
    for table in (opening, latest):
        assert "<th>地点</th><th>结果</th><th>发现</th><th>时间</th><th>证据链接</th>" in table
        assert "互联网-电信" in table and "互联网-联通" in table
    assert latest.index("互联网-联通</td><td>通过") > 0  # side by side with 电信's failure
    with services.sessions() as session:
        passed = session.scalars(select(Run).where(Run.outcome == "pass")).one()
    link = f"/console/tasks/{task.id}/evidence/{passed.id}/screenshots/0"
    assert link in latest
    assert client.get(link).status_code == 200  # a passing location's evidence is linked too


async def test_a_silent_location_is_decided_at_the_round_deadline(
    make_services: ServicesFactory, clock: FakeClock
) -> None:
    services = make_services(
        two_places(", fail_quorum: 1"),
        clock=clock,
        extra_probes=(SeenFrom,),
        round_wait_s=600,
    )
    await play_round(services, clock, {"互联网-电信"}, silent=("互联网-联通",))
    assert tasks_of(services) == [] and decide_overdue(services) == 0  # time left
    clock.advance(dt.timedelta(minutes=10))
    assert decide_overdue(services) == 1
    assert len(tasks_of(services)) == 1  # one of two suffices with fail_quorum: 1
    assert decide_overdue(services) == 0  # decided once


async def test_scheduled_runs_are_pruned_after_the_retention(
    make_services: ServicesFactory, clock: FakeClock
) -> None:
    services = make_services(two_places(), clock=clock, extra_probes=(SeenFrom,))
    await play_round(services, clock, set())
    clock.advance(dt.timedelta(days=services.settings.scheduled_runs_keep_days, hours=1))
    await play_round(services, clock, set())
    assert prune_scheduled_runs(services) == 2
    with services.sessions() as session:
        assert len(session.scalars(select(ScheduledRun)).all()) == 2
        assert len(session.scalars(select(Run)).all()) == 4  # the record stays


def test_round_verdicts() -> None:
    a, b, c = (
        LocationRun("a", 1, "fail", frozenset({"x"})),
        LocationRun("b", 2, "pass"),
        LocationRun("c", 3, "fail", frozenset({"x", "y"})),
    )
    two = judge_round([a, b], quorum=2)
    assert two.failing == frozenset() and two.minority == {"a": ("x",)}
    assert two.verdict_run == 2 and not two.cleared("x") and two.cleared("z")
    three = judge_round([a, b, c], quorum=2)
    assert three.failing == {"x"} and three.minority == {"c": ("y",)}
    assert three.verdict_run in (1, 3) and not three.cleared("x") and three.cleared("y")
    silent = judge_round([a, LocationRun("b"), LocationRun("c", 3, "inconclusive")], quorum=2)
    assert silent.verdict_run is None and silent.minority == {"a": ("x",)}


def test_fail_quorum_defaults_to_a_majority_and_is_checked_against_the_locations() -> None:
    three = two_places(places=("甲", "乙", "丙"))
    catalog = parse_catalog(three, "c.yaml", probe_params={"seen": SeenParams})
    _, check = catalog.check(CHECK)
    assert catalog.quorum_of(check) == 2
    one = parse_catalog(two_places(places=()), "c.yaml", probe_params={"seen": SeenParams})
    assert one.quorum_of(one.check(CHECK)[1]) == 1  # no locations: judged alone as today
    with pytest.raises(CatalogError, match=r"targets\[0\]\.checks\[0\]\.fail_quorum"):
        parse_catalog(two_places(", fail_quorum: 3"), "c.yaml", probe_params={"seen": SeenParams})
    with pytest.raises(CatalogError, match=r"defaults\.fail_quorum"):
        parse_catalog(
            two_places() + "defaults: {fail_quorum: 3}\n",
            "c.yaml",
            probe_params={"seen": SeenParams},
        )


@pytest.mark.postgres
async def test_through_the_queue_one_location_alerts_both_open_a_task(
    make_services: ServicesFactory, clock: FakeClock
) -> None:
    """The scheduler role defers one job per location; each location's worker runs its
    queue (the portal failing from 联通 only, then from both)."""
    with throwaway_database() as url:
        engine = make_engine(url)
        upgrade(engine)
        await apply_queue_schema(url)
        services = make_services(
            two_places(),
            engine=engine,
            database_url=url,
            clock=clock,
            extra_probes=(SeenFrom,),
            operator_notify=[SecretStr("json://127.0.0.1:9/ops")],
        )
        dispatcher = Dispatcher(services, stop=asyncio.Event())
        worker = worker_app(services)
        try:
            async with dispatcher.app.open_async(), worker.open_async():
                assert await dispatcher.lock.try_take()
                for failing_from in ({"互联网-联通"}, set(PLACES)):
                    clock.advance(dt.timedelta(hours=1))
                    await dispatcher._defer(CHECK)
                    for place in PLACES:
                        SeenFrom.failing = place in failing_from
                        await worker.run_worker_async(queues=[queue_name(place)], wait=False)
                    if failing_from != set(PLACES):
                        assert tasks_of(services) == []
                        (alert,) = operator_alerts(services)
                        assert "地点：互联网-联通" in alert.body
        finally:
            await dispatcher.lock.close()
            engine.dispose()
        assert len(tasks_of(services)) == 1
        assert rows(url, "SELECT count(*) FROM scheduled_runs WHERE decided_at IS NULL") == [(0,)]


class TallyParams(ProbeParams):
    pass


class TallyHere(Probe):
    """Counts its visits in the state, as the availability probe tallies its visits."""

    kind: ClassVar[str] = "tally"
    Params = TallyParams
    uses_browser = False
    state_by_location = True

    async def run(self, ctx: ProbeContext) -> ProbeResult:
        ctx.state["visits"] = int(ctx.state.get("visits", 0)) + 1
        return ProbeResult(Outcome.PASS, state=ctx.state)


async def test_a_location_continues_its_own_tally_so_no_place_overwrites_another(
    make_services: ServicesFactory, engine: Engine, clock: FakeClock
) -> None:
    # Two places that read the same last state at once would each write it back plus
    # their own visit, and one visit would be lost; each place keeps its own count instead.
    catalog = two_places().replace("probe: seen", "probe: tally")
    services = make_services(catalog, engine=engine, clock=clock, extra_probes=(TallyHere,))
    for _ in range(3):
        await play_round(services, clock, failing_from=set())
    with services.sessions() as session:
        runs = list(session.scalars(select(Run).where(Run.check_id == CHECK).order_by(Run.id)))
    assert [(run.location, run.state["visits"]) for run in runs] == [
        (place, n) for n in (1, 2, 3) for place in PLACES
    ]
