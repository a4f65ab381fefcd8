"""The notices' text: pure functions, read as the unit reads them (title, then body)."""

from __future__ import annotations

import datetime as dt

import pytest

from notifications import messages
from notifications.messages import Message, TaskFacts

FACTS = TaskFacts(
    task_id=7,
    unit_name="示范市数据局",
    target_name="示范省政务服务网",
    target_url="https://zwfw.example.gov.cn",
    check_label="咨询互动",
    problem="咨询投诉功能不可用",
    detail="首页—我要咨询。12月3日提交咨询投诉问题，超过5个工作日未反馈咨询投诉结果",
    opened_at=dt.datetime(2026, 12, 3, 9, 0),
    deadline=dt.date(2026, 12, 10),
    deadline_estimated=False,
    working_days=5,
    days_left=-2,
    occurrences=3,
    link="https://govpatrol.example.com/t/7",
    reason="已超期 2 个工作日",
)


@pytest.mark.parametrize(
    "render",
    [
        messages.overdue,
        messages.escalated,
        messages.reported,
        messages.due_soon,
        messages.task_opened,
        messages.task_reopened,
        messages.task_closed,
    ],
    ids=["overdue", "escalated", "reported", "due_soon", "opened", "reopened", "closed"],
)
def test_a_chase_notice_does_not_repeat_its_title(render: object) -> None:
    message: Message = render(FACTS)  # type: ignore[operator]
    whole = f"{message.title}\n{message.body}"
    assert message.title.endswith("】示范省政务服务网：咨询投诉功能不可用（#7）")
    for words in ("示范省政务服务网", "咨询投诉功能不可用", "#7"):
        assert whole.count(words) == 1, (words, whole)
    # What the title does not say is still there.
    for words in ("示范市数据局", FACTS.target_url, FACTS.detail, FACTS.link):
        assert words in message.body


def test_the_overdue_notice_says_how_late_once_in_its_body() -> None:
    body = messages.overdue(FACTS).body
    assert body.count("已超期 2 个工作日") == 1
    assert "现予催办" in body
