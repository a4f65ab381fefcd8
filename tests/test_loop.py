"""The whole loop with a real browser, a real SMTP server and a real webhook receiver:
broken search → task → notices → fix → verification → closure → closure notices."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from bot.jobs import report_fixed, run_check
from bot.receivers import MailCatcher, WebhookCatcher
from bot.web import create_web_app
from core.results import Outcome
from sandbox.server import PortalSandbox
from tasks.lifecycle import Actor, Role
from tasks.models import Task, TaskState
from tests.catalogs import portal_catalog
from tests.conftest import ServicesFactory

pytestmark = pytest.mark.browser

CHECK = "sf-portal/search"


async def test_broken_search_is_chased_to_a_verified_closure(
    make_services: ServicesFactory,
    portal: PortalSandbox,
    mail: MailCatcher,
    webhook: WebhookCatcher,
) -> None:
    notify = [mail.apprise_url("wangxm@zwb.example.com"), webhook.apprise_url("wecom")]
    services = make_services(portal_catalog(portal.url, notify=notify))
    portal.faults.update({"items_missing": ["排污许可证核发"]})

    first = await run_check(services, CHECK)
    assert first.outcome is Outcome.FAIL and first.changed_tasks == ()
    second = await run_check(services, CHECK)
    ((task_id, state),) = second.changed_tasks
    assert state == TaskState.OPEN.value

    assert await services.sender.deliver_due() == 2
    notice = mail.inbox.wait_for(lambda m: "【整改通知】" in m.subject, timeout=5)
    assert notice is not None
    assert "搜索网站上已有的“排污许可证核发”服务事项" in notice.text
    assert any("【整改通知】" in post.title for post in webhook.messages)

    # The unit's page, from the link in the notice, shows the problem and its screenshot.
    link = next(line for line in notice.text.splitlines() if "/u/" in line)
    path = link[link.index("/u/") :].strip()
    client = TestClient(create_web_app(services))
    page = client.get(path)
    assert page.status_code == 200
    assert "排污许可证核发" in page.text and "待签收" in page.text
    shot = page.text.split('class="shot" src="', 1)[1].split('"', 1)[0]
    image = client.get(shot)
    assert image.status_code == 200 and image.content.startswith(b"\x89PNG")

    portal.faults.reset()
    verification = await report_fixed(
        services, task_id, Actor("王晓明", Role.UNIT), "已重建搜索索引"
    )
    assert verification.outcome is Outcome.PASS
    with services.sessions() as session:
        task = session.get(Task, task_id)
        assert task is not None and task.state == TaskState.CLOSED.value
        assert [h.action for h in task.history] == ["opened", "rectified", "verified"]
        assert session.scalars(select(Task)).all() == [task]  # exactly one task

    assert await services.sender.deliver_due() == 2
    assert mail.inbox.wait_for(lambda m: "【已销号】" in m.subject, timeout=5) is not None
    assert any("【已销号】" in post.title for post in webhook.messages)


async def test_failed_verification_keeps_the_task_and_sends_it_back(
    make_services: ServicesFactory, portal: PortalSandbox, webhook: WebhookCatcher
) -> None:
    services = make_services(portal_catalog(portal.url, notify=[webhook.apprise_url()]))
    portal.faults.update({"search_empty": True})
    await run_check(services, CHECK)
    ((task_id, _),) = (await run_check(services, CHECK)).changed_tasks
    verification = await report_fixed(
        services, task_id, Actor("王晓明", Role.UNIT), "已修复"
    )  # but it is not
    assert verification.outcome is Outcome.FAIL
    with services.sessions() as session:
        task = session.get(Task, task_id)
        assert task is not None and task.state == TaskState.REOPENED.value
    await services.sender.deliver_due()
    back = [post for post in webhook.messages if "【整改退回】" in post.title]
    assert back and "复核未通过" in back[0].message


def test_signed_links_open_only_their_own_task(make_services: ServicesFactory) -> None:
    services = make_services(portal_catalog("http://127.0.0.1:9"))
    client = TestClient(create_web_app(services))
    forged = services.links.token(1, "sf-zwb")[:-3] + "abc"
    assert client.get(f"/u/{forged}").status_code == 403
    assert "链接无效" in client.get(f"/u/{forged}").text
    assert client.get(f"/u/{services.links.token(42, 'sf-zwb')}").status_code == 404
