"""``govpatrol demo``: the whole loop on this machine, narrated.

A sandbox portal with a broken site search, a local SMTP server and a local chat webhook,
and the real daemon on a catalog with a 5-second schedule. The scenario: the search
fails → a task opens → notices arrive → the fault is switched off → the unit reports the
fix → the verification passes → the task closes → closure notices arrive.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from sqlalchemy import select

from bot.daemon import Daemon
from bot.jobs import report_fixed
from bot.receivers import MailCatcher, WebhookCatcher, free_port
from bot.services import Services, build_services
from config.loader import parse_catalog
from config.settings import Settings
from probes.registry import params_models, probe_kinds
from sandbox.faults import parse_fault_args
from sandbox.server import PortalSandbox
from tasks.migrate import upgrade
from tasks.models import Run, Task, TaskState

DEMO_CATALOG = Path(__file__).resolve().parent.parent / "config" / "examples" / "demo.yaml"
BROKEN_ITEM = "排污许可证核发"
UNIT_CONTACT = "王晓明（平台运维联系人）"
STEPS = (
    ("failed", "巡检发现问题：站内搜索找不到已有事项"),
    ("opened", "连续两次失败，整改任务立案，时限按工作日计算"),
    ("notice_mail", "【整改通知】送达联系人邮箱（本地 SMTP）"),
    ("notice_chat", "【整改通知】送达工作群（本地 Webhook）"),
    ("fault_cleared", "门户修复：搜索索引恢复"),
    ("verified", "单位报送整改说明，系统立即复核：通过"),
    ("closed", "整改任务销号"),
    ("closed_mail", "【已销号】送达联系人邮箱"),
    ("closed_chat", "【已销号】送达工作群"),
)


@dataclass
class Scenario:
    done: dict[str, str] = field(default_factory=dict)
    started: float = field(default_factory=time.monotonic)

    def mark(self, step: str, detail: str = "") -> None:
        if step in self.done:
            return
        self.done[step] = detail
        label = dict(STEPS)[step]
        print(
            f"[{time.monotonic() - self.started:5.1f}s] ✓ {label}"
            + (f"\n         {detail}" if detail else ""),
            flush=True,
        )

    @property
    def complete(self) -> bool:
        return all(step in self.done for step, _ in STEPS)


async def run_demo(*, once: bool, timeout_s: float = 180.0) -> int:
    workdir = Path(tempfile.mkdtemp(prefix="govpatrol-demo-"))
    portal = PortalSandbox.start("127.0.0.1", 0, parse_fault_args([f"items_missing={BROKEN_ITEM}"]))
    mail = MailCatcher().start()
    chat = WebhookCatcher().start()
    web_port = free_port()
    environ = {
        "DEMO_PORTAL": portal.url,
        "DEMO_SMTP_PORT": str(mail.port),
        "DEMO_WEBHOOK": f"{chat.host}:{chat.port}",
    }
    catalog = parse_catalog(
        DEMO_CATALOG.read_text(encoding="utf-8"),
        str(DEMO_CATALOG),
        probe_params=params_models(probe_kinds()),
        environ=environ,
    )
    settings = Settings(
        data_dir=workdir,
        catalog=DEMO_CATALOG,
        quiet_hours=False,  # the demo may run at night; real deployments keep quiet hours
        web_port=web_port,
        public_url=f"http://127.0.0.1:{web_port}",
        notify_poll_s=0.3,
        notify_backoff_s=2.0,
        run_timeout_s=60.0,
    )
    services = build_services(settings, catalog)
    upgrade(services.engine)
    print("govpatrol 演示 / demo", flush=True)
    print(f"  门户（已注入故障：搜索不到“{BROKEN_ITEM}”）：{portal.url}/", flush=True)
    print(
        f"  本地邮件服务器：smtp://127.0.0.1:{mail.port}   本地工作群 Webhook：{chat.apprise_url()}"
    )
    print(f"  控制台：{settings.public_url}   数据目录：{workdir}", flush=True)
    daemon = Daemon(services)
    daemon_task = asyncio.create_task(daemon.run(), name="daemon")
    scenario = Scenario()
    try:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(
                _play(services, portal, mail, chat, scenario, daemon_task), timeout=timeout_s
            )
        if not once and scenario.complete:
            print("演示完成，守护进程继续运行；按 Ctrl+C 退出。", flush=True)
            daemon.install_signal_handlers()
            await daemon.stop.wait()
    finally:
        daemon.stop.set()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(daemon_task, timeout=40)
        await services.close()
        chat.stop()
        mail.stop()
        portal.stop()
        if once:
            shutil.rmtree(workdir, ignore_errors=True)
    return _summary(scenario)


async def _play(
    services: Services,
    portal: PortalSandbox,
    mail: MailCatcher,
    chat: WebhookCatcher,
    scenario: Scenario,
    daemon_task: asyncio.Task[None],
) -> None:
    """Watch the daemon work and play the two human parts: the fix and its report."""
    while not scenario.complete:
        if daemon_task.done():
            daemon_task.result()  # surfaces why the daemon stopped
            return
        task = _watch_tracker(services, scenario)
        _watch_inboxes(mail, chat, scenario, "【整改通知】", "notice_mail", "notice_chat")
        if {"notice_mail", "notice_chat"} <= scenario.done.keys():
            await _clear_fault(portal, scenario)
        if task is not None and "fault_cleared" in scenario.done:
            await _report_fix(services, task.id, scenario)
        _watch_inboxes(mail, chat, scenario, "【已销号】", "closed_mail", "closed_chat")
        await asyncio.sleep(0.3)


def _watch_tracker(services: Services, scenario: Scenario) -> Task | None:
    with services.sessions() as session:
        failed = session.scalars(
            select(Run).where(Run.outcome == "fail").order_by(Run.id).limit(1)
        ).first()
        task = session.scalars(select(Task).order_by(Task.id).limit(1)).first()
        details = "；".join(f.detail for f in failed.findings) if failed is not None else ""
    if failed is not None:
        scenario.mark("failed", f"巡检记录 #{failed.id}：{details}")
    if task is None:
        return None
    estimated = "（预估）" if task.deadline_estimated else ""
    link = services.links.url(task.id, task.unit_code)
    scenario.mark(
        "opened",
        f"整改任务 #{task.id}：{task.title}，整改时限 {task.deadline}{estimated}"
        f"（{task.working_days} 个工作日）\n         办理链接：{link}",
    )
    if task.state == TaskState.CLOSED.value:
        scenario.mark("closed", f"整改任务 #{task.id} 状态：{TaskState.CLOSED.label}")
    return task


def _watch_inboxes(
    mail: MailCatcher,
    chat: WebhookCatcher,
    scenario: Scenario,
    marker: str,
    mail_step: str,
    chat_step: str,
) -> None:
    received = next((m for m in mail.messages if marker in m.subject), None)
    if received is not None:
        scenario.mark(mail_step, f"收件人 {', '.join(received.recipients)}：{received.subject}")
    posted = next((m for m in chat.messages if marker in m.title), None)
    if posted is not None:
        scenario.mark(chat_step, posted.title)


async def _clear_fault(portal: PortalSandbox, scenario: Scenario) -> None:
    if "fault_cleared" in scenario.done:
        return
    async with httpx.AsyncClient() as client:
        answer = await client.delete(portal.admin_url)
    answer.raise_for_status()
    scenario.mark("fault_cleared", f"DELETE {portal.admin_url} → 故障已全部关闭")


async def _report_fix(services: Services, task_id: int, scenario: Scenario) -> None:
    if "verified" in scenario.done:
        return
    report = await report_fixed(
        services, task_id, UNIT_CONTACT, "已重建站内搜索索引，排污许可证核发可正常检索。"
    )
    if report.outcome.value == "pass":
        scenario.mark("verified", f"复核巡检记录 #{report.run_id}：{report.result.summary}")


def _summary(scenario: Scenario) -> int:
    missing = [label for step, label in STEPS if step not in scenario.done]
    print("", flush=True)
    if not missing:
        seconds = time.monotonic() - scenario.started
        print(f"演示成功：全部 {len(STEPS)} 个环节完成（{seconds:.0f} 秒）", flush=True)
        return 0
    print("演示未完成，缺少以下环节：", flush=True)
    for label in missing:
        print(f"  ✗ {label}", flush=True)
    return 1
