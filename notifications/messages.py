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
    # The 专项整改 the task opened under, and that campaign's one fixed deadline.
    campaign: str = ""
    campaign_deadline: dt.date | None = None


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


def _title(tag: str, facts: TaskFacts) -> str:
    campaign = f"【专项整改：{facts.campaign}】" if facts.campaign else ""
    return f"【{tag}】{campaign}{facts.target_name}：{facts.problem}（#{facts.task_id}）"


def _campaign_line(facts: TaskFacts) -> list[str]:
    if not facts.campaign:
        return []
    fixed = facts.campaign_deadline
    deadline = f"，统一整改时限 {fixed:%Y年%m月%d日}" if fixed is not None else ""
    return [f"专项整改：本任务纳入“{facts.campaign}”{deadline}"]


def _header(facts: TaskFacts) -> list[str]:
    # The title already names the target, the problem and the task number (every channel
    # shows it above the body): the body says the rest, not the same words again.
    return [
        *_campaign_line(facts),
        f"责任单位：{facts.unit_name}",
        f"巡检网址：{facts.target_url}",
        f"巡检项目：{facts.check_label}",
        f"具体内容：{facts.detail}",
    ]


def task_opened(facts: TaskFacts) -> Message:
    body = [
        *_header(facts),
        f"发现时间：{facts.opened_at:%Y-%m-%d %H:%M}（{facts.reason}）",
        _deadline_line(facts),
        f"证据与办理：{facts.link}",
        "请在整改时限前完成整改，并通过上方链接签收、报送整改说明；系统将自动复核。",
    ]
    return Message(_title("整改通知", facts), "\n".join(body))


def task_reopened(facts: TaskFacts) -> Message:
    body = [
        *_header(facts),
        f"退回原因：{facts.reason}",
        _deadline_line(facts),
        f"证据与办理：{facts.link}",
        "请继续整改，完成后再次报送整改说明。",
    ]
    return Message(_title("整改退回", facts), "\n".join(body))


def task_closed(facts: TaskFacts) -> Message:
    body = [
        *_header(facts),
        f"销号依据：{facts.reason}",
        f"详情：{facts.link}",
        "该整改任务已销号，感谢配合。",
    ]
    return Message(_title("已销号", facts), "\n".join(body))


def _task_notice(tag: str, facts: TaskFacts, lines: list[str]) -> Message:
    body = [*_header(facts), *lines]
    return Message(_title(tag, facts), "\n".join(body))


def due_soon(facts: TaskFacts) -> Message:
    return _task_notice(
        "到期提醒",
        facts,
        [
            _deadline_line(facts),
            f"证据与办理：{facts.link}",
            "整改时限将至，请抓紧整改并报送整改说明。",
        ],
    )


def overdue(facts: TaskFacts) -> Message:
    return _task_notice(
        "催办",
        facts,
        [
            _deadline_line(facts),
            f"证据与办理：{facts.link}",
            "该整改任务已超过整改时限，现予催办，并抄送分管领导。请立即整改并报送整改说明。",
        ],
    )


def escalated(facts: TaskFacts) -> Message:
    return _task_notice(
        "督办",
        facts,
        [
            _deadline_line(facts),
            f"证据与办理：{facts.link}",
            f"{facts.unit_name}的整改任务超期未完成，已提请督办，请督促落实。",
        ],
    )


def reported(facts: TaskFacts) -> Message:
    return _task_notice(
        "通报",
        facts,
        [
            _deadline_line(facts),
            f"证据与办理：{facts.link}",
            f"{facts.unit_name}的整改任务严重超期，拟纳入通报，请分管领导关注并督促整改。",
        ],
    )


def extension_requested(facts: TaskFacts) -> Message:
    return _task_notice(
        "延期申请",
        facts,
        [
            _deadline_line(facts),
            f"申请内容：{facts.reason}",
            f"审批入口：{facts.link}",
            "请督办人员审批。",
        ],
    )


def extension_decided(facts: TaskFacts) -> Message:
    approved = facts.reason.startswith("同意")
    tag = "延期已批准" if approved else "延期未批准"
    return _task_notice(
        tag,
        facts,
        [f"审批意见：{facts.reason}", _deadline_line(facts), f"证据与办理：{facts.link}"],
    )


def disputed(facts: TaskFacts) -> Message:
    return _task_notice(
        "申诉",
        facts,
        [f"申诉理由：{facts.reason}", f"证据与审核：{facts.link}", "请督办人员核实并作出决定。"],
    )


def dispute_upheld(facts: TaskFacts) -> Message:
    return _task_notice(
        "申诉成立",
        facts,
        [f"处理意见：{facts.reason}", "该整改任务已撤销，不计入考核，后续不再催办。"],
    )


def dispute_rejected(facts: TaskFacts) -> Message:
    return _task_notice(
        "申诉未通过",
        facts,
        [
            f"处理意见：{facts.reason}",
            _deadline_line(facts),
            f"证据与办理：{facts.link}",
            "请继续整改。",
        ],
    )


@dataclass(frozen=True)
class DigestLine:
    task_id: int
    target_name: str
    problem: str
    deadline: dt.date
    days_left: int
    state_label: str
    link: str


def daily_digest(unit_name: str, day: dt.date, lines: list[DigestLine]) -> Message:
    overdue_count = sum(1 for line in lines if line.days_left < 0)
    body = [
        f"责任单位：{unit_name}",
        f"截至 {day:%Y年%m月%d日}，共有 {len(lines)} 件整改任务未销号，"
        f"其中已超期 {overdue_count} 件：",
    ]
    for index, line in enumerate(lines, 1):
        if line.days_left > 0:
            left = f"剩余 {line.days_left} 个工作日"
        elif line.days_left == 0:
            left = "今天到期"
        else:
            left = f"已超期 {-line.days_left} 个工作日"
        body.append(
            f"{index}. #{line.task_id} {line.target_name}：{line.problem}（{line.state_label}，"
            f"时限 {line.deadline:%m月%d日}，{left}）{line.link}"
        )
    body.append("请按时完成整改并通过链接报送整改说明。")
    title = f"【每日待办】{unit_name}：{len(lines)} 件整改任务待办"
    if overdue_count:
        title += f"，{overdue_count} 件已超期"
    return Message(title, "\n".join(body))


def operator_alert(subject: str, lines: list[str]) -> Message:
    return Message(f"【巡检系统告警】{subject}", "\n".join(lines))
