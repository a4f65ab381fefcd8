"""A failure seen with a light trace is run again at once with a full trace, and the second
run is the one that counts: a failure confirmed by it is recorded (with the first attempt
noted), a pass after it records the first failure as a flap and opens no task. An outage,
and a probe that allows one run at a time, are never run twice."""

from __future__ import annotations

from typing import ClassVar

import pytest
from sqlalchemy import func, select

from bot.jobs import run_check
from bot.services import Services
from core.results import Finding, Outcome, ProbeResult
from probes.base import Probe, ProbeContext, ProbeParams
from sandbox.server import PortalSandbox
from tasks.models import Run, Task
from tests.conftest import ServicesFactory

pytestmark = pytest.mark.browser  # the outage check opens the portal's home page
FINDING = Finding("demo.broken", "演示问题", "演示页面上的问题")


class ScriptedProbe(Probe):
    """Returns the outcomes it is given, one per run, and counts its runs."""

    kind: ClassVar[str] = "scripted"
    Params = ProbeParams
    uses_browser = False
    outcomes: ClassVar[list[Outcome]] = []
    runs: ClassVar[int] = 0
    finding: ClassVar[Finding] = FINDING

    async def run(self, ctx: ProbeContext) -> ProbeResult:
        outcome = type(self).outcomes[type(self).runs]
        type(self).runs += 1
        if outcome is Outcome.FAIL:
            return ProbeResult(Outcome.FAIL, (self.finding,), summary=self.finding.title)
        return ProbeResult(Outcome.PASS, summary="未发现问题")


class ScriptedDeskProbe(ScriptedProbe):
    kind: ClassVar[str] = "scripted-desk"
    one_run_at_a_time = True
    outcomes: ClassVar[list[Outcome]] = []
    runs: ClassVar[int] = 0


def catalog(url: str, probe: str) -> str:
    return f"""
units:
  - code: u
    name: 示范县政务服务中心
defaults: {{failure_threshold: 1}}
targets:
  - key: site
    name: 示范县政务服务网
    unit: u
    base_url: {url}
    checks:
      - {{probe: {probe}, schedule: 1h}}
"""


def scripted(
    make_services: ServicesFactory,
    portal: PortalSandbox,
    probe: type[ScriptedProbe],
    *outcomes: Outcome,
) -> Services:
    probe.outcomes, probe.runs, probe.finding = list(outcomes), 0, FINDING
    return make_services(catalog(portal.url, probe.kind), extra_probes=(probe,))


def tasks(services: Services) -> int:
    with services.sessions() as session:
        return session.scalar(select(func.count()).select_from(Task)) or 0


async def test_a_failure_that_passes_when_run_again_is_a_flap_and_opens_no_task(
    make_services: ServicesFactory, portal: PortalSandbox
) -> None:
    services = scripted(make_services, portal, ScriptedProbe, Outcome.FAIL, Outcome.PASS)
    report = await run_check(services, "site/scripted")
    assert ScriptedProbe.runs == 2
    assert report.outcome is Outcome.PASS and tasks(services) == 0
    with services.sessions() as session:
        (run,) = session.scalars(select(Run))
    assert run.outcome == "pass"
    assert run.metrics["flap"]["findings"] == ["demo.broken"]
    assert run.metrics["flap"]["outcome"] == "fail"


async def test_a_confirmed_failure_counts_and_a_known_one_is_not_run_twice(
    make_services: ServicesFactory, portal: PortalSandbox
) -> None:
    services = scripted(
        make_services, portal, ScriptedProbe, Outcome.FAIL, Outcome.FAIL, Outcome.FAIL
    )
    first = await run_check(services, "site/scripted")
    assert ScriptedProbe.runs == 2 and first.outcome is Outcome.FAIL
    assert first.result.metrics["confirmed"]["findings"] == ["demo.broken"]
    assert tasks(services) == 1
    again = await run_check(services, "site/scripted")  # failed last time: full trace at once
    assert ScriptedProbe.runs == 3 and again.outcome is Outcome.FAIL
    assert "confirmed" not in again.result.metrics


async def test_a_one_run_at_a_time_probe_is_not_run_again(
    make_services: ServicesFactory, portal: PortalSandbox
) -> None:
    services = scripted(
        make_services, portal, ScriptedDeskProbe, Outcome.PASS, Outcome.FAIL, Outcome.PASS
    )
    await run_check(services, "site/scripted-desk")
    failed = await run_check(services, "site/scripted-desk")
    assert ScriptedDeskProbe.runs == 2 and failed.outcome is Outcome.FAIL
    assert "confirmed" not in failed.result.metrics and tasks(services) == 1


async def test_an_outage_is_not_run_again(
    make_services: ServicesFactory, portal: PortalSandbox
) -> None:
    services = scripted(make_services, portal, ScriptedProbe, Outcome.FAIL, Outcome.PASS)
    ScriptedProbe.finding = Finding("site.timeout", "网站无法访问", "首页 30 秒内未加载完成")
    failed = await run_check(services, "site/scripted")  # a second wait would double it
    assert ScriptedProbe.runs == 1 and failed.outcome is Outcome.FAIL
