"""Units are protected from the monitor's trouble: canary, mass failure, maintenance.

(The rules of maintenance windows themselves are pinned in ``test_maintenance``.)

A scripted, browser-less probe stands in for the journeys: these tests are about what
the bot does with a verdict, not how it reaches one.
"""

from __future__ import annotations

import datetime as dt
from typing import ClassVar

from pydantic import SecretStr
from sqlalchemy import select

from bot.jobs import run_check
from bot.receivers import MailCatcher, WebhookCatcher, free_port
from bot.services import Services
from core.clock import FakeClock
from core.results import Finding, Outcome, ProbeResult
from probes.base import Probe, ProbeContext, ProbeParams
from tasks.models import Run, Task
from tests.conftest import ServicesFactory, at


class VerdictParams(ProbeParams):
    fail: bool = True


class VerdictProbe(Probe):
    """Fails or passes as its params say."""

    kind: ClassVar[str] = "verdict"
    Params = VerdictParams
    uses_browser = False

    async def run(self, ctx: ProbeContext) -> ProbeResult:
        if ctx.params(VerdictParams).fail:
            finding = Finding(code="site.http_error", title="网站无法正常访问", detail="HTTP 503")
            return ProbeResult(Outcome.FAIL, (finding,))
        return ProbeResult(Outcome.PASS)


def catalog(targets: int, *, maintenance: str = "") -> str:
    blocks = "\n".join(
        f"""  - key: t{i}
    name: 县{i}政务服务网
    unit: u
    base_url: http://127.0.0.1:9
{maintenance if i == 0 else ""}
    checks:
      - {{probe: verdict, schedule: 1h, failure_threshold: 1}}"""
        for i in range(targets)
    )
    return f"""
units:
  - code: u
    name: 示范县政务服务中心
    contacts: [{{name: 联系人孙, notify: ["json://127.0.0.1:9/hook"]}}]
targets:
{blocks}
"""


def tasks_of(services: Services) -> list[Task]:
    with services.sessions() as session:
        return list(session.scalars(select(Task)))


async def test_failure_while_the_canary_is_down_is_our_error(
    make_services: ServicesFactory,
) -> None:
    services = make_services(
        catalog(1), extra_probes=(VerdictProbe,), canary_url=f"http://127.0.0.1:{free_port()}/"
    )
    report = await run_check(services, "t0/verdict")
    assert report.outcome is Outcome.ERROR
    assert "本方网络异常" in report.result.error
    assert tasks_of(services) == []


async def test_failure_with_the_canary_up_opens_a_task(
    make_services: ServicesFactory, webhook: WebhookCatcher
) -> None:
    canary = f"http://{webhook.host}:{webhook.port}/known-good"  # answers 405 to GET: up
    services = make_services(catalog(1), extra_probes=(VerdictProbe,), canary_url=canary)
    report = await run_check(services, "t0/verdict")
    assert report.outcome is Outcome.FAIL
    assert len(tasks_of(services)) == 1


async def test_mass_failure_holds_task_opening_and_alerts_the_operator(
    make_services: ServicesFactory, mail: MailCatcher
) -> None:
    services = make_services(
        catalog(4),
        extra_probes=(VerdictProbe,),
        operator_notify=[SecretStr(mail.apprise_url("ops@govpatrol.example.com"))],
    )
    reports = [await run_check(services, f"t{i}/verdict") for i in range(4)]
    # Two failing targets are a pattern, not yet a mass failure (min_targets: 3).
    assert [r.held for r in reports] == [False, False, True, True]
    assert len(tasks_of(services)) == 2
    await services.sender.deliver_due()
    alert = mail.inbox.wait_for(lambda m: "大面积巡检失败" in m.subject, timeout=5)
    assert alert is not None and "暂停立案" in alert.subject
    with services.sessions() as session:
        held = session.scalars(select(Run).where(Run.held.is_(True))).all()
    assert len(held) == 2  # kept as evidence


async def test_held_runs_do_not_count_toward_a_streak(make_services: ServicesFactory) -> None:
    services = make_services(
        catalog(3).replace("failure_threshold: 1", "failure_threshold: 2"),
        extra_probes=(VerdictProbe,),
    )
    for _ in range(2):
        for i in range(3):
            await run_check(services, f"t{i}/verdict")
    assert tasks_of(services) == []  # every failing run of the third target was held


async def test_no_runs_inside_a_maintenance_window(make_services: ServicesFactory) -> None:
    window = (
        "    maintenance:\n"
        "      - {start: 2026-11-28T22:00+08:00, end: 2026-11-29T06:00+08:00, reason: 系统升级}"
    )
    clock = FakeClock(at("2026-11-28 23:00"))
    services = make_services(
        catalog(1, maintenance=window), extra_probes=(VerdictProbe,), clock=clock
    )
    report = await run_check(services, "t0/verdict")
    assert report.skipped.startswith("维护期内不巡检：系统升级")
    assert report.run_id == 0
    clock.set(at("2026-11-29 06:00"))
    assert (await run_check(services, "t0/verdict")).outcome is Outcome.FAIL


async def test_a_window_added_by_the_operator_is_honoured(make_services: ServicesFactory) -> None:
    clock = FakeClock(at("2026-11-28 23:00"))
    services = make_services(catalog(1), extra_probes=(VerdictProbe,), clock=clock)
    with services.sessions.begin() as session:
        services.maintenance.add(
            session,
            "t0",
            clock.now() - dt.timedelta(hours=1),
            clock.now() + dt.timedelta(hours=2),
            "机房搬迁",
            "运维钱",
        )
    report = await run_check(services, "t0/verdict")
    assert "机房搬迁" in report.skipped and "运维钱" in report.skipped
    assert tasks_of(services) == []
