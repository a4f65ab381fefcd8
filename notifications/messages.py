"""The Chinese text of every notice. Pure functions: facts in, title and body out."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class TaskFacts:
    """Everything a notice about one task says, already looked up."""

    task_id: int
    unit_name: str
    target_name: str
    target_url: str
    check_label: str
    problem: str
    detail: str
    opened_at: dt.datetime  # local time
    deadline: dt.date
    deadline_estimated: bool
    working_days: int
    days_left: int
    occurrences: int
    link: str
    reason: str = ""
    note: str = ""


@dataclass(frozen=True)
class Message:
    title: str
    body: str


def _deadline_line(facts: TaskFacts) -> str:
    estimated = "（预估，节假日安排未公布）" if facts.deadline_estimated else ""
    if facts.days_left > 0:
        left = f"剩余 {facts.days_left} 个工作日"
    elif facts.days_left == 0:
        left = "今天到期"
    else:
        left = f"已超期 {-facts.days_left} 个工作日"
    return (
        f"整改时限：{facts.deadline:%Y年%m月%d日}{estimated}"
        f"（{facts.working_days} 个工作日，{left}）"
    )


def _header(facts: TaskFacts) -> list[str]:
    return [
        f"责任单位：{facts.unit_name}",
        f"巡检对象：{facts.target_name}（{facts.target_url}）",
        f"巡检项目：{facts.check_label}",
        f"存在问题：{facts.problem}",
        f"具体内容：{facts.detail}",
    ]


def task_opened(facts: TaskFacts) -> Message:
    body = [
        *_header(facts),
        f"发现时间：{facts.opened_at:%Y-%m-%d %H:%M}（{facts.reason}）",
        _deadline_line(facts),
        f"证据与办理：{facts.link}",
        f"任务编号：#{facts.task_id}",
        "请在整改时限前完成整改，并通过上方链接签收、报送整改说明；系统将自动复核。",
    ]
    return Message(
        f"【整改通知】{facts.target_name}：{facts.problem}（#{facts.task_id}）", "\n".join(body)
    )


def task_reopened(facts: TaskFacts) -> Message:
    body = [
        *_header(facts),
        f"退回原因：{facts.reason}",
        _deadline_line(facts),
        f"证据与办理：{facts.link}",
        f"任务编号：#{facts.task_id}",
        "请继续整改，完成后再次报送整改说明。",
    ]
    return Message(
        f"【整改退回】{facts.target_name}：{facts.problem}（#{facts.task_id}）", "\n".join(body)
    )


def task_closed(facts: TaskFacts) -> Message:
    body = [
        *_header(facts),
        f"销号依据：{facts.reason}",
        f"任务编号：#{facts.task_id}",
        f"详情：{facts.link}",
        "该整改任务已销号，感谢配合。",
    ]
    return Message(
        f"【已销号】{facts.target_name}：{facts.problem}（#{facts.task_id}）", "\n".join(body)
    )


def operator_alert(subject: str, lines: list[str]) -> Message:
    return Message(f"【巡检系统告警】{subject}", "\n".join(lines))
