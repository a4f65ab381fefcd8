"""``govpatrol demo``: the whole loop on this machine, narrated, for every journey kind.

The sandbox sites start broken — one fault per journey (search, registration,
consultation, unified identity, mobile pages, guide content) — beside a local SMTP server
and a local chat webhook, and the real daemon runs on a catalog with 10-second schedules.
For each journey: the run fails → a task opens → notices arrive by mail and chat. Then the
faults are switched off, the unit reports each fix, the verification passes, the task
closes and the closure notices arrive.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select

from bot.daemon import Daemon
from bot.jobs import report_fixed
from bot.receivers import MailCatcher, WebhookCatcher, free_port
from bot.services import Services, build_services
from config.catalog import PROBE_LABELS
from config.loader import parse_catalog
from config.settings import Settings
from probes.registry import params_models, probe_kinds
from sandbox.registration_state import SMS_TOKEN
from sandbox.world import SandboxWorld
from tasks.lifecycle import Actor, Role, TaskError
from tasks.models import FindingRow, Run, Task, TaskState

DEMO_CATALOG = Path(__file__).resolve().parent.parent / "config" / "examples" / "demo.yaml"
UNIT_CONTACT = Actor("王晓明（平台运维联系人）", Role.UNIT)


@dataclass(frozen=True)
class Journey:
    check_id: str
    fault: str  # `govpatrol sandbox --fault` syntax
    fix_note: str  # what the unit reports as its fix

    @property
    def label(self) -> str:
        return PROBE_LABELS[self.check_id.split("/")[1].removeprefix("guides") or "checklist"]


JOURNEYS = (
    Journey("sf-portal/search", "items_missing=排污许可证核发", "已重建站内搜索索引。"),
    Journey(
        "sf-portal/registration", "registration.rejected_segments=176,170", "已更新号段校验规则。"
    ),
    Journey("sf-portal/consultation", "consultation.submit_fails", "已修复咨询信件提交接口。"),
    Journey(
        "sf-portal/guides", "guides.missing_elements=gsslj:设定依据", "已补全办事指南设定依据。"
    ),
    Journey("sf-ids/sso", "scjg.ignore_ticket", "市场监管业务系统已接入统一身份认证票据校验。"),
    Journey("sf-h5/mobile", "mobile.overflow", "已修正收费表格的移动端样式。"),
)
STEPS = (
    ("failed", "巡检发现问题"),
    ("task_open", "整改任务立案"),
    ("notice_mail", "【整改通知】送达邮箱"),
    ("notice_chat", "【整改通知】送达工作群"),
    ("fix_verified", "单位报送整改，复核通过"),
    ("task_closed", "整改任务销号"),
    ("closed_mail", "【已销号】送达邮箱"),
    ("closed_chat", "【已销号】送达工作群"),
)


@dataclass
class Scenario:
    done: dict[tuple[str, str], str] = field(default_factory=dict)
    faults_cleared: bool = False
    started: float = field(default_factory=time.monotonic)

    def mark(self, journey: Journey, step: str, detail: str = "") -> None:
        if (journey.check_id, step) in self.done:
            return
        self.done[(journey.check_id, step)] = detail
        elapsed = time.monotonic() - self.started
        line = f"[{elapsed:5.1f}s] ✓ {journey.label:<6} {dict(STEPS)[step]}"
        print(line + (f"：{detail}" if detail else ""), flush=True)

    def has(self, journey: Journey, step: str) -> bool:
        return (journey.check_id, step) in self.done

    @property
    def complete(self) -> bool:
        return all(self.has(j, step) for j in JOURNEYS for step, _ in STEPS)


async def run_demo(*, once: bool, timeout_s: float = 240.0) -> int:
    workdir = Path(tempfile.mkdtemp(prefix="govpatrol-demo-"))
    world = SandboxWorld.start()
    world.apply([journey.fault for journey in JOURNEYS])
    mail = MailCatcher().start()
    chat = WebhookCatcher().start()
    web_port = free_port()
    urls = world.urls()
    environ = {
        "DEMO_PORTAL": urls["portal"],
        "DEMO_IDENTITY": urls["identity"],
        "DEMO_SSO_SCJG": urls["sso_scjg"],
        "DEMO_SSO_RST": urls["sso_rst"],
        "DEMO_MOBILE": urls["mobile"],
        "DEMO_SSO_PASSWORD": world.sso.account.password,
        "DEMO_SMS_TOKEN": SMS_TOKEN,
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
        browser_concurrency=3,
        notify_poll_s=0.3,
        notify_backoff_s=2.0,
        run_timeout_s=60.0,
    )
    # With 10-second schedules a journey often outlasts its interval; APScheduler's warning
    # about the skipped run is expected here and would only clutter the narration.
    logging.getLogger("apscheduler.scheduler").setLevel(logging.ERROR)
    services = build_services(settings, catalog)
    from bot.migrate import upgrade

    upgrade(services.engine)
    _introduce(world, mail, chat, settings, workdir)
    daemon = Daemon(services)
    daemon_task = asyncio.create_task(daemon.run(), name="daemon")
    scenario = Scenario()
    try:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(
                _play(services, world, mail, chat, scenario, daemon_task), timeout=timeout_s
            )
        if not once and scenario.complete:
            print(
                f"演示完成，守护进程继续运行（{settings.public_url}）；按 Ctrl+C 退出。", flush=True
            )
            daemon.install_signal_handlers()
            await daemon.stop.wait()
    finally:
        daemon.stop.set()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(daemon_task, timeout=60)
        await services.close()
        chat.stop()
        mail.stop()
        world.stop()
        if once:
            shutil.rmtree(workdir, ignore_errors=True)
    return _summary(scenario)


def _introduce(
    world: SandboxWorld, mail: MailCatcher, chat: WebhookCatcher, settings: Settings, workdir: Path
) -> None:
    urls = world.urls()
    print("govpatrol 演示 / demo — 六类办事环节，各注入一个故障", flush=True)
    print(f"  示范省政务服务网 {urls['portal']}/   统一身份认证 {urls['identity']}/", flush=True)
    print(f"  移动端 {urls['mobile']}/h5/   门户网站 {urls['gov']}/", flush=True)
    for journey in JOURNEYS:
        print(f"  故障 {journey.label:<6} --fault {journey.fault}", flush=True)
    print(f"  本地邮件服务器 smtp://127.0.0.1:{mail.port}   工作群 {chat.apprise_url()}")
    print(f"  控制台 {settings.public_url}   数据目录 {workdir}", flush=True)


async def _play(
    services: Services,
    world: SandboxWorld,
    mail: MailCatcher,
    chat: WebhookCatcher,
    scenario: Scenario,
    daemon_task: asyncio.Task[None],
) -> None:
    """Watch the daemon work and play the human parts: the fixes and their reports."""
    while not scenario.complete:
        if daemon_task.done():
            daemon_task.result()  # surfaces why the daemon stopped
            return
        tasks = _watch_tracker(services, scenario)
        _watch_inboxes(mail, chat, scenario, tasks)
        noticed = all(
            scenario.has(j, "notice_mail") and scenario.has(j, "notice_chat") for j in JOURNEYS
        )
        if noticed and not scenario.faults_cleared:
            world.reset()
            scenario.faults_cleared = True
            print(
                f"[{time.monotonic() - scenario.started:5.1f}s] ✓ 各单位完成整改：故障全部关闭",
                flush=True,
            )
        if scenario.faults_cleared:
            await _report_fixes(services, scenario, tasks)
        await asyncio.sleep(0.3)


def _watch_tracker(services: Services, scenario: Scenario) -> dict[str, Task]:
    """Mark failed runs, opened and closed tasks; return each journey's task."""
    found: dict[str, Task] = {}
    with services.sessions() as session:
        for journey in JOURNEYS:
            failed = session.scalars(
                select(FindingRow)
                .join(Run, Run.id == FindingRow.run_id)
                .where(Run.check_id == journey.check_id, Run.outcome == "fail")
                .order_by(FindingRow.id)
                .limit(1)
            ).first()
            if failed is not None:
                scenario.mark(journey, "failed", failed.detail[:70])
            task = session.scalars(
                select(Task).where(Task.check_id == journey.check_id).order_by(Task.id).limit(1)
            ).first()
            if task is None:
                continue
            found[journey.check_id] = task
            scenario.mark(
                journey, "task_open", f"#{task.id} {task.title}，整改时限 {task.deadline}"
            )
            if task.state == TaskState.CLOSED.value:
                # A scheduled run that started after the fix report may verify it first.
                scenario.mark(journey, "fix_verified", "复核通过")
                scenario.mark(journey, "task_closed", f"#{task.id}")
    return found


def _watch_inboxes(
    mail: MailCatcher, chat: WebhookCatcher, scenario: Scenario, tasks: dict[str, Task]
) -> None:
    for journey in JOURNEYS:
        task = tasks.get(journey.check_id)
        if task is None:
            continue
        tag = f"（#{task.id}）"
        for marker, mail_step, chat_step in (
            ("【整改通知】", "notice_mail", "notice_chat"),
            ("【已销号】", "closed_mail", "closed_chat"),
        ):
            if any(marker in m.subject and tag in m.subject for m in mail.messages):
                scenario.mark(journey, mail_step)
            if any(marker in p.title and tag in p.title for p in chat.messages):
                scenario.mark(journey, chat_step)


async def _report_fixes(services: Services, scenario: Scenario, tasks: dict[str, Task]) -> None:
    """Every unit reports its fix at once; the verifications run side by side."""

    async def report(journey: Journey, task: Task) -> None:
        try:
            verification = await report_fixed(services, task.id, UNIT_CONTACT, journey.fix_note)
        except TaskError:  # the task moved since the snapshot (a run closed it); look again
            return
        if verification.outcome.value == "pass":
            scenario.mark(journey, "fix_verified", f"复核巡检记录 #{verification.run_id}")

    due = [
        report(journey, task)
        for journey in JOURNEYS
        if (task := tasks.get(journey.check_id)) is not None
        and not scenario.has(journey, "fix_verified")
        # Rectified: a verification is under way; closed: nothing left to report.
        and task.task_state in (TaskState.OPEN, TaskState.ACKNOWLEDGED, TaskState.REOPENED)
    ]
    await asyncio.gather(*due)


def _summary(scenario: Scenario) -> int:
    print("", flush=True)
    missing = [
        f"{journey.label}：{label}"
        for journey in JOURNEYS
        for step, label in STEPS
        if not scenario.has(journey, step)
    ]
    seconds = time.monotonic() - scenario.started
    if not missing:
        total = len(JOURNEYS) * len(STEPS)
        print(
            f"演示成功：{len(JOURNEYS)} 类环节、{total} 个步骤全部完成（{seconds:.0f} 秒）",
            flush=True,
        )
        return 0
    print("演示未完成，缺少以下步骤：", flush=True)
    for line in missing:
        print(f"  ✗ {line}", flush=True)
    return 1
