"""The unit contact acts through the signed link in the notice: no account, one task."""

from __future__ import annotations

import datetime as dt
import re

import httpx
import pytest
from fastapi.testclient import TestClient

from bot.services import Services
from bot.web import create_web_app
from core.clock import FakeClock
from tasks.lifecycle import Actor, Role
from tasks.models import TaskState
from tests.conftest import ServicesFactory, at
from tests.workflow_helpers import SECOND_CHECK, open_task, tree_catalog


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(at("2026-11-23 10:00"))


@pytest.fixture
def services(make_services: ServicesFactory, clock: FakeClock) -> Services:
    return make_services(tree_catalog("json://127.0.0.1:9"), clock=clock)


def page_of(client: TestClient, link: str) -> tuple[str, str]:
    page = client.get(link)
    assert page.status_code == 200, page.text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    return page.text, csrf.group(1) if csrf else ""


def post(client: TestClient, link: str, action: str, **form: str) -> str:
    _, csrf = page_of(client, link)
    answer: httpx.Response = client.post(f"{link}/{action}", data={"csrf": csrf, **form})
    assert answer.status_code == 200, answer.text  # after the 303 back to the page
    return answer.text


def state_of(services: Services, task_id: int) -> str:
    with services.sessions() as session:
        return services.desk.get(session, task_id).state


def test_unit_walks_its_task_through_the_link(services: Services, clock: FakeClock) -> None:
    task = open_task(services, clock)
    verified: list[int] = []
    client = TestClient(create_web_app(services, on_rectified=verified.append))
    link = services.links.url(task.id, task.unit_code).removeprefix(services.settings.public_url)

    assert "已签收" in post(client, link, "acknowledge", name="孙晓", note="收到")
    assert state_of(services, task.id) == TaskState.ACKNOWLEDGED.value
    text = post(client, link, "extension", name="孙晓", days="2", reason="等待供应商")
    assert "延期申请已提交" in text and "待审批" in text
    text = post(client, link, "rectified", name="孙晓", note="已重建索引")
    assert "系统正在复核" in text
    assert state_of(services, task.id) == TaskState.RECTIFIED.value
    assert verified == [task.id]  # the daemon is asked to verify at once
    with services.sessions() as session:
        actors = [h.actor for h in services.desk.get(session, task.id).history]
    assert actors[1:] == ["孙晓（示范县政务服务中心）"] * 3


def test_refusals_are_shown_not_raised(services: Services, clock: FakeClock) -> None:
    task = open_task(services, clock)
    client = TestClient(create_web_app(services))
    link = services.links.url(task.id, task.unit_code).removeprefix(services.settings.public_url)
    assert "请填写整改说明" in post(client, link, "rectified", name="孙晓", note=" ")
    assert "请填写经办人姓名" in post(client, link, "acknowledge", name="")
    assert state_of(services, task.id) == TaskState.OPEN.value


def test_dispute_and_maintenance_request_from_the_link(
    services: Services, clock: FakeClock
) -> None:
    task = open_task(services, clock)
    client = TestClient(create_web_app(services))
    link = services.links.url(task.id, task.unit_code).removeprefix(services.settings.public_url)
    assert "申诉已提交" in post(client, link, "dispute", name="孙晓", reason="该事项已下线")
    text = post(
        client,
        link,
        "maintenance",
        name="孙晓",
        start="2026-11-28T22:00",
        end="2026-11-29T06:00",
        reason="机房搬迁",
    )
    assert "维护窗口申报 #1 已提交，等待督办人员审批" in text
    assert "机房搬迁" in text and "待审批" in text  # the task page lists the target's windows
    with services.sessions() as session:
        (window,) = services.maintenance.windows(session)
        assert window.target_key == "county-portal"
        assert window.starts_at == at("2026-11-28 22:00")
        assert window.state == "requested" and window.task_id == task.id
    text = post(
        client,
        link,
        "maintenance",
        name="孙晓",
        start="2026-11-20T22:00",
        end="2026-11-21T06:00",
        reason="补报",
    )
    assert "维护开始时间 2026-11-20 22:00 已过，不能申报过去的时间" in text


def test_the_link_of_a_closed_task_refuses_a_maintenance_request(
    services: Services, clock: FakeClock
) -> None:
    task = open_task(services, clock)
    client = TestClient(create_web_app(services))
    link = services.links.url(task.id, task.unit_code).removeprefix(services.settings.public_url)
    _, csrf = page_of(client, link)  # the form, opened before the task was closed
    with services.sessions.begin() as session:
        services.desk.close(session, task.id, Actor("督办员赵", Role.SUPERVISOR), "已整改")
    answer = client.post(
        f"{link}/maintenance",
        data={
            "csrf": csrf,
            "name": "孙晓",
            "start": "2026-11-28T22:00",
            "end": "2026-11-29T06:00",
            "reason": "机房搬迁",
        },
    )
    assert f"整改任务 #{task.id} 已销号，该链接不能再申报维护窗口" in answer.text
    with services.sessions() as session:
        assert services.maintenance.windows(session) == []


def test_posts_without_the_form_token_are_refused(services: Services, clock: FakeClock) -> None:
    task = open_task(services, clock)
    client = TestClient(create_web_app(services))
    link = services.links.url(task.id, task.unit_code).removeprefix(services.settings.public_url)
    answer = client.post(f"{link}/acknowledge", data={"name": "孙晓"})
    assert answer.status_code == 403
    answer = client.post(f"{link}/acknowledge", data={"name": "孙晓", "csrf": "forged"})
    assert answer.status_code == 403 and "表单已失效" in answer.text
    assert state_of(services, task.id) == TaskState.OPEN.value


def test_a_link_opens_only_its_own_task(services: Services, clock: FakeClock) -> None:
    first = open_task(services, clock)
    second = open_task(services, clock, SECOND_CHECK)
    client = TestClient(create_web_app(services))
    link = services.links.url(first.id, first.unit_code).removeprefix(services.settings.public_url)
    text, csrf = page_of(client, link)
    assert f"#{first.id}" in text and f"整改任务 #{second.id}" not in text
    # The first task's form token does not work on the second task's link.
    other = services.links.url(second.id, second.unit_code).removeprefix(
        services.settings.public_url
    )
    answer = client.post(f"{other}/acknowledge", data={"name": "孙晓", "csrf": csrf})
    assert answer.status_code == 403
    assert state_of(services, second.id) == TaskState.OPEN.value
    # A link naming another unit for the same task is refused too.
    wrong_unit = services.links.token(first.id, "city")
    assert client.get(f"/u/{wrong_unit}").status_code == 404


def test_expired_and_forged_links_are_refused(services: Services, clock: FakeClock) -> None:
    task = open_task(services, clock)
    client = TestClient(create_web_app(services))
    token = services.links.token(task.id, task.unit_code)
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    assert client.get(f"/u/{forged}").status_code == 403
    clock.advance(dt.timedelta(days=91))
    expired = client.get(f"/u/{token}")
    assert expired.status_code == 403 and "链接已过期" in expired.text


def test_unit_pages_forbid_scripts_and_framing(services: Services, clock: FakeClock) -> None:
    task = open_task(services, clock)
    client = TestClient(create_web_app(services))
    page = client.get(f"/u/{services.links.token(task.id, task.unit_code)}")
    assert "script-src 'none'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["cache-control"] == "no-store"
