"""The sandbox consultation desk over HTTP: letters, 查询码, replies on its own clock, faults."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest

from core.clock import FakeClock
from sandbox.consultation import consultation_area
from sandbox.consultation_desk import ConsultationDesk, ConsultationFaults, reply_due
from sandbox.faults import FaultError, PortalFaults
from sandbox.portal import create_portal_app
from sandbox.server import SandboxServer
from tests.conftest import at

LETTER = {
    "kind": "咨询",
    "department": "省市场监督管理局",
    "title": "个体工商户营业执照办理咨询",
    "content": "请问申请个体工商户营业执照需要哪些材料？【巡检编号 GP-20260928-0001】",
    "name": "李明",
    "phone": "13912345678",
    "agree": "1",
}


@pytest.fixture(scope="module")
def desk_site() -> Iterator[tuple[ConsultationDesk, FakeClock, str]]:
    clock = FakeClock(at("2026-09-28 10:00"))
    desk = ConsultationDesk(now=clock.now)
    server = SandboxServer(create_portal_app(PortalFaults(), areas=[consultation_area(desk)]))
    server.start()
    yield desk, clock, server.url
    server.stop()


@pytest.fixture
def client(desk_site: tuple[ConsultationDesk, FakeClock, str]) -> Iterator[httpx.Client]:
    desk, clock, url = desk_site
    clock.set(at("2026-09-28 10:00"))
    desk.faults.reset()
    with httpx.Client(base_url=url, timeout=10) as http:
        yield http
    desk.faults.reset()


def submit(client: httpx.Client) -> tuple[str, str]:
    page = client.post("/consult", data=LETTER)
    assert page.status_code == 200
    number = re.search(r"<th>信件编号</th><td>(\w+)</td>", page.text)
    code = re.search(r"<th>查询码</th><td>(\w+)</td>", page.text)
    assert number and code, page.text
    return number.group(1), code.group(1)


def query(client: httpx.Client, number: str, code: str) -> str:
    page = client.post("/consult/query", data={"number": number, "code": code})
    assert page.status_code == 200
    return page.text


def test_reply_due_counts_working_days_and_office_hours_across_national_day() -> None:
    assert reply_due(at("2026-09-28 10:00"), 4, 0) == at("2026-10-09 10:00")
    assert reply_due(at("2026-09-28 10:00"), 5, 0) == at("2026-10-10 10:00")  # 调休 Saturday
    # One office hour left on 9-30, the next one on the first working day after the holiday.
    assert reply_due(at("2026-09-30 16:00"), 0, 2) == at("2026-10-08 10:00")


def test_letter_is_answered_on_schedule_and_shown_with_its_reply(
    client: httpx.Client, desk_site: tuple[ConsultationDesk, FakeClock, str]
) -> None:
    _, clock, _ = desk_site
    number, code = submit(client)
    assert number.startswith("ZX20260928")
    assert "待处理" in query(client, number, code.lower())  # codes are not case-sensitive
    clock.set(at("2026-09-29 10:00"))
    answered = query(client, number, code)
    assert "已答复" in answered and "2026-09-29 10:00" in answered
    assert "省市场监督管理局" in answered


def test_held_letter_is_answered_when_the_desk_resumes_not_backdated(
    client: httpx.Client, desk_site: tuple[ConsultationDesk, FakeClock, str]
) -> None:
    desk, clock, _ = desk_site
    desk.faults.update({"never_reply": True})
    number, code = submit(client)
    clock.set(at("2026-10-12 09:00"))
    assert "待处理" in query(client, number, code)
    desk.faults.update({"never_reply": False})
    clock.set(at("2026-10-14 10:00"))
    assert "2026-10-14 10:00" in query(client, number, code)


def test_wrong_code_is_refused(client: httpx.Client) -> None:
    number, _ = submit(client)
    assert "信件编号或查询码不正确" in query(client, number, "AAAAAA")


def test_submit_and_query_faults(
    client: httpx.Client, desk_site: tuple[ConsultationDesk, FakeClock, str]
) -> None:
    desk, _, _ = desk_site
    number, code = submit(client)
    desk.faults.update({"submit_fails": True, "query_fails": True})
    refused = client.post("/consult", data=LETTER)
    assert refused.status_code == 200 and "系统繁忙，信件提交失败" in refused.text
    assert client.post("/consult/query", data={"number": number, "code": code}).status_code == 500


def test_form_validation_names_what_is_missing(client: httpx.Client) -> None:
    page = client.post("/consult", data={**LETTER, "phone": "12345", "agree": ""})
    assert "请填写正确的手机号码" in page.text
    assert "请阅读并同意《网上咨询须知》" in page.text


def test_fault_admin_names_the_bad_field(client: httpx.Client) -> None:
    bad = client.put("/__sandbox/faults/consultation", json={"reply_after_hours": -1})
    assert bad.status_code == 400 and bad.json()["field"] == "reply_after_hours"
    good = client.put("/__sandbox/faults/consultation", json={"reply_after_working_days": 4})
    assert good.json()["reply_after_working_days"] == 4
    with pytest.raises(FaultError, match="never_reply"):
        ConsultationFaults(never_reply="yes")  # type: ignore[arg-type]  # the wrong type under test
