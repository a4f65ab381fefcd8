"""The escalation ladder and digests, walked with a controllable clock across the 2026
National Day holidays (10-01 to 10-07 off; Sunday 09-20 and Saturday 10-10 worked)."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from bot.receivers import WebhookCatcher
from bot.services import Services
from core.clock import FakeClock
from core.db import make_engine
from tasks.lifecycle import Actor, Role
from tests.conftest import ServicesFactory, at
from tests.workflow_helpers import SECOND_CHECK, heard_by, notices, open_task, tree_catalog


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(at("2026-09-28 10:00"))  # Monday before the holidays


@pytest.fixture
def services(make_services: ServicesFactory, clock: FakeClock) -> Services:
    return make_services(
        tree_catalog("json://127.0.0.1:9", chase="chase: {digest: false}"), clock=clock
    )


def sweep_at(services: Services, clock: FakeClock, when: str) -> list[str]:
    """Move the clock, sweep, and return the kinds of the notices the sweep wrote."""
    before = notices(services)
    last = before[-1].id if before else 0
    clock.set(at(when))
    services.chase.sweep()
    return [n.kind for n in notices(services, last)]


def test_the_ladder_across_national_day(services: Services, clock: FakeClock) -> None:
    task = open_task(services, clock)
    assert task.deadline == dt.date(2026, 10, 10)
    assert sweep_at(services, clock, "2026-09-30 10:00") == []  # 3 working days left
    assert sweep_at(services, clock, "2026-10-05 10:00") == []  # holidays do not count
    assert sweep_at(services, clock, "2026-10-09 10:00") == ["due_soon"]  # one day left
    assert sweep_at(services, clock, "2026-10-10 10:00") == []  # the 调休 Saturday: due today
    assert sweep_at(services, clock, "2026-10-11 10:00") == ["overdue", "overdue"]
    assert heard_by(services, "overdue") == {"联系人孙", "副县长李"}
    assert sweep_at(services, clock, "2026-10-13 10:00") == []  # 2 working days overdue
    assert len(sweep_at(services, clock, "2026-10-14 10:00")) == 3  # 3 days: 督办
    assert heard_by(services, "escalated") == {"联系人孙", "副县长李", "督办员赵"}
    assert sweep_at(services, clock, "2026-10-15 10:00") == []
    assert len(sweep_at(services, clock, "2026-10-16 10:00")) == 4  # 5 days: 通报
    assert heard_by(services, "reported") == {"联系人孙", "副县长李", "督办员赵", "局长钱"}
    reported = next(n for n in notices(services) if n.kind == "reported")
    assert reported.title.startswith("【通报】") and "已超期 5 个工作日" in reported.body
    assert sweep_at(services, clock, "2026-10-30 10:00") == []  # the top rung is final
    with services.sessions() as session:
        actions = [h.action for h in services.desk.get(session, task.id).history]
    assert actions == ["opened", "due_soon", "overdue", "escalated", "reported"]


def test_closing_stops_the_chase_with_a_final_notice(services: Services, clock: FakeClock) -> None:
    task = open_task(services, clock)
    assert sweep_at(services, clock, "2026-10-11 10:00") == ["overdue", "overdue"]
    with services.sessions.begin() as session:
        services.desk.close(session, task.id, Actor("督办员赵", Role.SUPERVISOR), "现场核实已整改")
    assert [n.kind for n in notices(services)][-1] == "task_closed"
    assert sweep_at(services, clock, "2026-10-20 10:00") == []


def test_an_approved_extension_starts_the_ladder_again(
    services: Services, clock: FakeClock
) -> None:
    task = open_task(services, clock)
    sweep_at(services, clock, "2026-10-11 10:00")  # overdue
    with services.sessions.begin() as session:
        request = services.desk.request_extension(
            session, task.id, Actor("联系人孙", Role.UNIT), 3, "等待厂商"
        )
        services.desk.decide_extension(
            session, request.id, Actor("督办员赵", Role.SUPERVISOR), approve=True
        )
    # New deadline: 3 working days after 10-10 → 10-14.
    assert sweep_at(services, clock, "2026-10-12 10:00") == []
    assert sweep_at(services, clock, "2026-10-13 10:00") == ["due_soon"]
    assert sweep_at(services, clock, "2026-10-15 10:00") == ["overdue", "overdue"]


def test_digest_groups_a_units_tasks_once_per_working_day(
    make_services: ServicesFactory, clock: FakeClock
) -> None:
    services = make_services(
        tree_catalog("json://127.0.0.1:9", chase='chase: {digest_at: "09:00"}'), clock=clock
    )
    open_task(services, clock)
    open_task(services, clock, SECOND_CHECK)
    clock.set(at("2026-09-29 08:59"))
    services.chase.sweep()
    assert [n for n in notices(services) if n.kind == "digest"] == []  # before 09:00
    clock.set(at("2026-09-29 09:01"))
    services.chase.sweep()
    services.chase.sweep()  # a second sweep the same day sends nothing more
    (digest,) = [n for n in notices(services) if n.kind == "digest"]
    assert digest.recipient == "联系人孙"
    assert digest.title == "【每日待办】示范县政务服务中心：2 件整改任务待办"
    assert digest.body.count("剩余 4 个工作日") == 2
    for day in ("2026-10-01 09:30", "2026-10-04 09:30"):  # holidays: no digest
        clock.set(at(day))
        services.chase.sweep()
    assert len([n for n in notices(services) if n.kind == "digest"]) == 1
    clock.set(at("2026-10-08 09:30"))
    services.chase.sweep()
    assert len([n for n in notices(services) if n.kind == "digest"]) == 2


async def test_quiet_hours_hold_the_chase_until_monday_morning(
    make_services: ServicesFactory, clock: FakeClock, webhook: WebhookCatcher
) -> None:
    services = make_services(
        tree_catalog(f"json://{webhook.host}:{webhook.port}", chase="chase: {digest: false}"),
        clock=clock,
        quiet_hours=True,
    )
    open_task(services, clock)
    await services.sender.deliver_due()  # the opening notice, in working hours
    opened = len(webhook.messages)
    clock.set(at("2026-10-11 10:00"))  # Sunday: overdue, but nobody is disturbed
    services.chase.sweep()
    assert await services.sender.deliver_due() == 0
    assert len(webhook.messages) == opened
    clock.set(at("2026-10-12 08:31"))
    assert await services.sender.deliver_due() == 2
    paths = sorted(post.path for post in webhook.messages[opened:])
    assert paths == ["/contact", "/county-leader"]
    assert all(post.title.startswith("【催办】") for post in webhook.messages[opened:])


def test_two_sweeps_at_once_climb_each_rung_once(
    make_services: ServicesFactory, engine: Engine, clock: FakeClock
) -> None:
    """The chase in two processes (two engines, two threads): a rung is one claimed
    transition, so the overdue notices are written once, whoever sweeps first."""
    catalog = tree_catalog("json://127.0.0.1:9", chase="chase: {digest: false}")
    first = make_services(catalog, engine=engine, clock=clock)
    other_engine = make_engine(make_url(engine.url).render_as_string(hide_password=False))
    second = make_services(catalog, engine=other_engine, clock=clock)
    task = open_task(first, clock)
    clock.set(at("2026-10-11 10:00"))  # one working day overdue
    start = threading.Barrier(2)

    def sweep(services: Services) -> None:
        start.wait()
        services.chase.sweep()

    threads = [threading.Thread(target=sweep, args=(s,)) for s in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    other_engine.dispose()
    assert [n.kind for n in notices(first) if n.kind == "overdue"] == ["overdue", "overdue"]
    with first.sessions() as session:
        actions = [h.action for h in first.desk.get(session, task.id).history]
    assert actions == ["opened", "overdue"], actions  # each rung once
