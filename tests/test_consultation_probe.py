"""咨询互动 with a real Chromium: a question put through 我要咨询 and followed up for days.

The portal's consultation desk and the bot share one FakeClock, so days pass in an
instant: submitted on 2026-09-28, the 5 working days run across National Day to the
调休 Saturday 2026-10-10, and the reply is overdue from Monday 2026-10-12.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from bot.cli import main
from bot.consultations import consultation_lines, render_lines
from bot.jobs import RunReport, report_fixed, run_check
from bot.services import Services
from core.clock import FakeClock
from core.db import make_engine
from core.results import Outcome
from probes.consultation_state import ConsultationJournal
from probes.consultation_steps import page_message
from probes.pool import BrowserPool
from sandbox.consultation import consultation_area
from sandbox.consultation_desk import ConsultationDesk, ConsultationFaults
from sandbox.faults import PortalFaults
from sandbox.portal import create_portal_app
from sandbox.server import SandboxServer
from sandbox.spa.server import SpaPortalSandbox
from tasks.catalog_sync import sync_catalog
from tasks.lifecycle import Actor, Role
from tasks.models import Run, Task, TaskState
from tests.catalogs import portal_catalog
from tests.conftest import ServicesFactory, at

pytestmark = pytest.mark.browser

CHECK = "sf-portal/consultation"
SUBMITTED = "2026-09-28 10:00"


@dataclass
class DeskPortal:
    server: SandboxServer
    desk: ConsultationDesk
    clock: FakeClock
    site: PortalFaults

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def letters(self) -> int:
        return len(self.desk.letters())


@pytest.fixture(scope="session")
def desk_portal_server() -> Iterator[DeskPortal]:
    clock = FakeClock(at(SUBMITTED))
    desk = ConsultationDesk(ConsultationFaults(), now=clock.now)
    site = PortalFaults()
    app = create_portal_app(site, areas=[consultation_area(desk)])
    server = SandboxServer(app, "127.0.0.1", 0).start()
    yield DeskPortal(server, desk, clock, site)
    server.stop()


@pytest.fixture
def portal(desk_portal_server: DeskPortal) -> Iterator[DeskPortal]:
    """The portal with a healthy desk, its clock at the submission time."""
    desk_portal_server.clock.set(at(SUBMITTED))
    desk_portal_server.desk.faults.reset()
    desk_portal_server.site.reset()
    yield desk_portal_server
    desk_portal_server.desk.faults.reset()
    desk_portal_server.site.reset()


def consult_catalog(
    url: str,
    *,
    threshold: int = 2,
    more_checks: str = "",
    locations: str = "",
    more_params: str = "",
) -> str:
    return f"""
units:
  - code: sf-zwb
    name: 示范省政务服务管理办公室
    level: province
targets:
  - key: sf-portal
    name: 示范省政务服务网
    unit: sf-zwb
    base_url: {url}{locations}
    checks:
      - probe: consultation
        schedule: {{cron: "0 10,16 * * 1-5"}}
        failure_threshold: {threshold}
        params: {{contact_name: 李明, contact_phone: "13912345678"{more_params}}}
{more_checks}"""


@pytest.fixture
def services(make_services: ServicesFactory, portal: DeskPortal) -> Services:
    return _services(make_services, portal, None)


def _services(
    make_services: ServicesFactory, portal: DeskPortal, engine: Engine | None, **catalog: Any
) -> Services:
    made = make_services(consult_catalog(portal.url, **catalog), clock=portal.clock, engine=engine)
    with made.sessions.begin() as session:
        sync_catalog(session, made.catalog)
    return made


async def run_at(
    services: Services, portal: DeskPortal, when: str, check: str = CHECK
) -> RunReport:
    portal.clock.set(at(when))
    return await run_check(services, check)


def journal_of(services: Services) -> ConsultationJournal:
    with services.sessions() as session:
        state = session.scalars(select(Run.state).order_by(Run.id.desc()).limit(1)).first()
    return ConsultationJournal.from_state(state)


async def test_reply_on_fourth_working_day_passes_with_latency_recorded(
    services: Services, portal: DeskPortal
) -> None:
    portal.desk.faults.update({"reply_after_working_days": 4})
    submitted = await run_at(services, portal, SUBMITTED)
    assert submitted.outcome is Outcome.PASS, submitted.result
    assert "已提交咨询（信件编号 ZX20260928" in submitted.result.summary
    assert submitted.result.evidence.screenshots, "the receipt page is kept"

    waiting = await run_at(services, portal, "2026-09-30 16:00")
    assert waiting.outcome is Outcome.PASS
    assert "已过 2 个工作日" in waiting.result.summary

    replied = await run_at(services, portal, "2026-10-09 16:00")
    assert replied.outcome is Outcome.PASS, replied.result
    assert "用时 4 个工作日（264 小时）" in replied.result.summary
    with services.sessions() as session:
        stored = session.get(Run, replied.run_id)
        assert stored is not None
        assert stored.metrics["reply_latency_working_days"] == 4
        assert stored.metrics["reply_latency_hours"] == 264.0
        assert stored.metrics["reply_late"] is False
    assert journal_of(services).pending is None

    letters = portal.letters
    resting = await run_at(services, portal, "2026-10-12 10:00")
    assert resting.outcome is Outcome.PASS
    assert "10月15日起提交下一个咨询" in resting.result.summary
    assert portal.letters == letters, "the desk is not flooded: a pause after each reply"
    next_one = await run_at(services, portal, "2026-10-15 10:00")
    assert "已提交咨询" in next_one.result.summary
    assert portal.letters == letters + 1


async def test_unanswered_consultation_is_overdue_only_after_national_day_deadline(
    services: Services, portal: DeskPortal
) -> None:
    portal.desk.faults.update({"never_reply": True})
    assert (await run_at(services, portal, SUBMITTED)).outcome is Outcome.PASS

    on_ninth = await run_at(services, portal, "2026-10-09 10:00")
    assert on_ninth.outcome is Outcome.PASS
    assert "已过 4 个工作日（时限10月10日，剩 1 个工作日）" in on_ninth.result.summary
    due_day = await run_at(services, portal, "2026-10-10 16:00")  # the 调休 Saturday
    assert due_day.outcome is Outcome.PASS
    assert "今天到期" in due_day.result.summary
    sunday = await run_at(services, portal, "2026-10-11 10:00")  # no one works, no one is late
    assert sunday.outcome is Outcome.PASS
    assert "已到时限" in sunday.result.summary

    overdue = await run_at(services, portal, "2026-10-12 09:00")
    assert overdue.outcome is Outcome.FAIL
    (finding,) = overdue.result.findings
    assert finding.code == "consultation.reply_overdue"
    assert finding.title == "咨询投诉功能不可用"
    assert finding.detail.startswith("首页—我要咨询。9月28日提交咨询投诉问题（信件编号 ZX20260928")
    assert "超过5个工作日未反馈咨询投诉结果（截至10月12日已过 6 个工作日）" in finding.detail
    assert overdue.result.metrics["working_days_elapsed"] == 6
    assert overdue.result.evidence.screenshots


async def test_submission_failure_gives_its_own_finding(
    services: Services, portal: DeskPortal
) -> None:
    portal.desk.faults.update({"submit_fails": True})
    before = portal.letters
    report = await run_at(services, portal, SUBMITTED)
    assert report.outcome is Outcome.FAIL
    (finding,) = report.result.findings
    assert finding.code == "consultation.submit_failed"
    assert finding.detail == (
        "首页—我要咨询。提交咨询后页面提示“系统繁忙，信件提交失败，请稍后再试”，咨询问题无法提交"
    )
    assert portal.letters == before
    assert journal_of(services).pending is None, "nothing to follow up: the next run asks again"


async def test_pending_consultation_survives_a_restart(
    make_services: ServicesFactory, portal: DeskPortal, engine: Engine
) -> None:
    portal.desk.faults.update({"never_reply": True})
    first = _services(make_services, portal, engine)
    submitted = await run_at(first, portal, SUBMITTED)
    letter = submitted.result.metrics["letter_no"]
    first.engine.dispose()
    letters = portal.letters

    url = engine.url.render_as_string(hide_password=False)
    restarted = _services(make_services, portal, make_engine(url))
    followed = await run_at(restarted, portal, "2026-09-29 10:00")
    assert followed.outcome is Outcome.PASS, followed.result
    assert followed.result.metrics["letter_no"] == letter
    assert "等待答复" in followed.result.summary
    assert portal.letters == letters, "the restarted bot follows up instead of asking again"


async def test_cli_lists_the_pending_consultation(
    services: Services, portal: DeskPortal, capsys: pytest.CaptureFixture[str]
) -> None:
    portal.desk.faults.update({"never_reply": True})
    await run_at(services, portal, SUBMITTED)
    pending = journal_of(services).pending
    assert pending is not None
    portal.clock.set(at("2026-10-09 15:00"))

    (line,) = consultation_lines(services)
    assert line.pending and line.working_days_elapsed == 4
    table = render_lines([line])
    for shown in (
        "示范省政务服务网",
        pending.letter_no,
        pending.query_code,
        "2026-09-28 10:00",
        "2026-10-10",
        "等待答复（剩 1 个工作日）",
    ):
        assert shown in table
    portal.clock.set(at("2026-10-13 10:00"))
    assert consultation_lines(services)[0].status == "超期未答复（超期 2 个工作日）"


async def test_govpatrol_consultations_command_lists_it(
    services: Services,
    portal: DeskPortal,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    portal.desk.faults.update({"never_reply": True})
    await run_at(services, portal, SUBMITTED)
    pending = journal_of(services).pending
    assert pending is not None
    catalog = tmp_path / "catalog.yaml"
    catalog.write_text(consult_catalog(portal.url), encoding="utf-8")
    monkeypatch.setenv("GOVPATROL_DATABASE_URL", services.engine.url.render_as_string(False))
    monkeypatch.setenv("GOVPATROL_DATA_DIR", str(tmp_path / "cli"))
    monkeypatch.setenv("GOVPATROL_SECRET_KEY", "test-secret-key")

    assert main(["--catalog", str(catalog), "consultations", "--pending"]) == 0
    printed = capsys.readouterr().out
    assert "信件编号" in printed and "查询码" in printed and "答复时限" in printed
    assert pending.letter_no in printed and pending.query_code in printed
    assert "2026-09-28 10:00" in printed and "2026-10-10" in printed


async def test_overdue_opens_a_task_and_the_late_reply_closes_it_on_verification(
    services: Services, portal: DeskPortal
) -> None:
    portal.desk.faults.update({"never_reply": True})
    await run_at(services, portal, SUBMITTED)
    await run_at(services, portal, "2026-10-12 09:00")
    opened = await run_at(services, portal, "2026-10-12 15:00")
    ((task_id, state),) = opened.changed_tasks
    assert state == TaskState.OPEN.value

    portal.clock.set(at("2026-10-13 10:00"))
    unreplied = await report_fixed(services, task_id, Actor("王晓明", Role.UNIT), "已安排专人答复")
    assert unreplied.outcome is Outcome.FAIL
    assert _task(services, task_id).state == TaskState.REOPENED.value

    portal.desk.faults.update({"never_reply": False})  # the desk answers at last
    portal.clock.set(at("2026-10-14 10:00"))
    verified = await report_fixed(services, task_id, Actor("王晓明", Role.UNIT), "已答复该咨询")
    assert verified.outcome is Outcome.PASS, verified.result
    assert verified.result.metrics["reply_late"] is True
    assert verified.result.metrics["reply_latency_working_days"] == 8
    task = _task(services, task_id)
    assert task.state == TaskState.CLOSED.value
    assert task.title == "咨询投诉功能不可用"


async def test_a_second_consultation_check_on_the_target_never_submits(
    make_services: ServicesFactory, portal: DeskPortal
) -> None:
    second = """      - name: consultation-b
        probe: consultation
        schedule: 1h
"""
    made = _services(make_services, portal, None, more_checks=second)
    before = portal.letters
    report = await run_at(made, portal, SUBMITTED, check="sf-portal/consultation-b")
    assert report.outcome is Outcome.ERROR
    assert "已由巡检项 sf-portal/consultation 负责" in report.result.error
    assert portal.letters == before


async def test_two_runs_at_the_same_desk_submit_once(
    make_services: ServicesFactory, portal: DeskPortal, engine: Engine
) -> None:
    # Two workers (each its own engine and services) on one database run the check at once.
    first = _services(make_services, portal, engine)
    second_engine = make_engine(engine.url.render_as_string(hide_password=False))
    second = _services(make_services, portal, second_engine)
    before = portal.letters
    both = await asyncio.gather(run_check(first, CHECK), run_check(second, CHECK))
    assert sorted(report.outcome for report in both) == [Outcome.INCONCLUSIVE, Outcome.PASS]
    (skipped,) = [report for report in both if report.skipped]
    assert "本次跳过，未重复提交" in skipped.skipped and skipped.run_id == 0
    assert portal.letters == before + 1


async def test_broken_query_page_is_reported_and_the_consultation_kept(
    services: Services, portal: DeskPortal
) -> None:
    portal.desk.faults.update({"never_reply": True})
    submitted = await run_at(services, portal, SUBMITTED)
    portal.desk.faults.update({"query_fails": True})
    broken = await run_at(services, portal, "2026-09-29 10:00")
    assert broken.outcome is Outcome.FAIL
    (finding,) = broken.result.findings
    assert finding.code == "consultation.query_failed"
    assert "返回 HTTP 500" in finding.detail

    portal.desk.faults.update({"query_fails": False})
    again = await run_at(services, portal, "2026-09-30 10:00")
    assert again.outcome is Outcome.PASS
    assert again.result.metrics["letter_no"] == submitted.result.metrics["letter_no"]


def _task(services: Services, task_id: int) -> Task:
    with services.sessions() as session:
        task = session.get(Task, task_id)
        assert task is not None
        return task


async def test_pending_consultation_survives_a_run_that_did_not_finish(
    services: Services, portal: DeskPortal
) -> None:
    portal.desk.faults.update({"never_reply": True})
    submitted = await run_at(services, portal, SUBMITTED)
    services.runner.run_timeout_s = 0.001
    assert (await run_at(services, portal, "2026-09-29 10:00")).outcome is Outcome.ERROR
    services.runner.run_timeout_s = 60
    letters = portal.letters
    followed = await run_at(services, portal, "2026-09-29 16:00")
    assert followed.result.metrics["letter_no"] == submitted.result.metrics["letter_no"]
    assert portal.letters == letters


async def test_configured_pages_and_selectors_lead_the_way(
    make_services: ServicesFactory, portal: DeskPortal
) -> None:
    # A rich-text 信件内容 and an unlabelled 查询码: the defaults find neither.
    portal.desk.faults.update({"never_reply": True, "form_unlabelled": True})
    unconfigured = await run_check(_services(make_services, portal, None), CHECK, record=False)
    # The rule of doubt: boxes the defaults cannot find are not the portal's defect.
    assert unconfigured.outcome is Outcome.INCONCLUSIVE, unconfigured.result
    assert "selectors.consult_content" in unconfigured.result.error
    locations = """
    pages: {consult: /consult, consult_query: /consult/query}
    selectors: {consult_content: "div.rich-editor", query_code: "input.ipt-code"}"""
    made = _services(make_services, portal, None, locations=locations)
    assert (await run_at(made, portal, SUBMITTED)).outcome is Outcome.PASS
    pending = journal_of(made).pending
    assert pending is not None and pending.entry == f"我要咨询（{portal.url}/consult）"
    followed = await run_at(made, portal, "2026-09-29 10:00")
    assert followed.outcome is Outcome.PASS and "等待答复" in followed.result.summary


# -- issue 14: portals worded otherwise, and outages ------------------------------------------


@pytest.mark.parametrize("label", ["办理结果查询", "我的咨询"])
async def test_receipt_worded_as_a_sentence_is_read_and_followed_up(
    services: Services, portal: DeskPortal, label: str
) -> None:
    # 提交成功！您的信件查询码为：…，请妥善保存。 — the code right after 为 and a full-width colon.
    portal.desk.faults.update({"receipt_wording": "sentence", "query_label": label})
    submitted = await run_at(services, portal, SUBMITTED)
    assert submitted.outcome is Outcome.PASS, submitted.result
    pending = journal_of(services).pending
    assert pending is not None
    assert [x.code for x in portal.desk.letters() if x.code == pending.query_code]
    assert pending.letter_no == "", "the receipt gave only a 查询码"
    replied = await run_at(services, portal, "2026-09-29 16:00")
    assert replied.outcome is Outcome.PASS, replied.result
    assert "咨询已答复" in replied.result.summary


async def test_unread_receipt_is_inconclusive_naming_the_setting_never_submit_failed(
    services: Services, portal: DeskPortal
) -> None:
    portal.desk.faults.update({"receipt_wording": "voucher"})
    report = await run_at(services, portal, SUBMITTED)
    assert report.outcome is Outcome.INCONCLUSIVE, report.result
    assert report.result.findings == ()
    assert "未能在页面" in report.result.error and "receipt_code_pattern" in report.result.error
    letters = portal.letters
    again = await run_at(services, portal, "2026-09-28 16:00")
    assert again.outcome is Outcome.INCONCLUSIVE
    assert "为免重复提交" in again.result.error
    assert portal.letters == letters, "no second letter to a desk whose receipts we cannot read"


async def test_a_configured_receipt_pattern_reads_an_unknown_wording(
    make_services: ServicesFactory, portal: DeskPortal
) -> None:
    pattern = r', receipt_code_pattern: "凭证号\\s*([A-Z0-9]+)"'
    made = _services(make_services, portal, None, more_params=pattern)
    portal.desk.faults.update({"receipt_wording": "voucher", "query_label": "我的留言"})
    assert (await run_at(made, portal, SUBMITTED)).outcome is Outcome.PASS
    replied = await run_at(made, portal, "2026-09-29 16:00")
    assert replied.outcome is Outcome.PASS and "咨询已答复" in replied.result.summary


async def test_site_answering_503_everywhere_is_an_outage_not_a_refused_question(
    services: Services, portal: DeskPortal
) -> None:
    portal.site.update({"site_down": True})
    report = await run_at(services, portal, SUBMITTED)
    assert report.outcome is Outcome.FAIL
    assert [f.code for f in report.result.findings] == ["site.http_error"]
    assert "HTTP 503" in report.result.findings[0].detail


async def test_site_down_during_the_follow_up_is_an_outage_and_the_letter_kept(
    services: Services, portal: DeskPortal
) -> None:
    portal.desk.faults.update({"never_reply": True})
    submitted = await run_at(services, portal, SUBMITTED)
    portal.site.update({"site_down": True})
    down = await run_at(services, portal, "2026-09-29 10:00")
    assert [f.code for f in down.result.findings] == ["site.http_error"]
    portal.site.update({"site_down": False})
    again = await run_at(services, portal, "2026-09-30 10:00")
    assert again.outcome is Outcome.PASS
    assert again.result.metrics["letter_no"] == submitted.result.metrics["letter_no"]


async def test_a_query_entry_named_in_unknown_words_is_inconclusive_until_configured(
    make_services: ServicesFactory, portal: DeskPortal, sqlite_engine: Engine
) -> None:
    engine = sqlite_engine  # a probe's reading: one database is enough
    portal.desk.faults.update({"query_label": "查看进展", "never_reply": True})
    made = _services(make_services, portal, engine)
    assert (await run_at(made, portal, SUBMITTED)).outcome is Outcome.PASS
    unread = await run_at(made, portal, "2026-09-29 10:00")
    assert unread.outcome is Outcome.INCONCLUSIVE, unread.result
    assert "query_entry_pattern" in unread.result.error
    assert journal_of(made).pending is not None, "the letter is still followed"

    made.engine.dispose()
    url = engine.url.render_as_string(hide_password=False)
    configured = _services(
        make_services, portal, make_engine(url), more_params=", query_entry_pattern: 查看进展"
    )
    waiting = await run_at(configured, portal, "2026-09-29 16:00")
    assert waiting.outcome is Outcome.PASS and "等待答复" in waiting.result.summary


async def test_a_required_field_the_probe_cannot_fill_is_inconclusive_not_a_refusal(
    services: Services, portal: DeskPortal
) -> None:
    # The form answers “请选择受理部门”: the bot's gap, not a desk that refuses questions.
    portal.desk.faults.update({"department_required": True})
    report = await run_at(services, portal, SUBMITTED)
    assert report.outcome is Outcome.INCONCLUSIVE, report.result
    assert "请选择受理部门" in report.result.error and "selectors" in report.result.error


@pytest.mark.parametrize(
    ("html", "quoted"),
    [
        # The hint beside its field: label, the select's options and the hint make one line.
        (
            '<main><form><div class="row"><label>* 所属部门</label> <select><option>请选择部门'
            "</option><option>省市场监督管理局</option></select> 所属部门不能为空</div>"
            '<div class="row"><label>标题</label> <input value="巡检"></div>'
            "<button>提交</button></form></main>",
            "所属部门不能为空",
        ),
        # A dialog with its heading and button.
        (
            '<main><div role="alert"><h3>提示</h3><p>系统繁忙，信件提交失败，请稍后重试。</p>'
            "<button>确定</button></div></main>",
            "系统繁忙，信件提交失败，请稍后重试",
        ),
    ],
    ids=["form-row", "dialog"],
)
async def test_a_quoted_message_is_the_message_not_the_whole_form_line(
    browser_pool: BrowserPool, html: str, quoted: str
) -> None:
    async with browser_pool.context() as context:
        page = await context.new_page()
        await page.set_content(html)
        assert await page_message(page) == quoted


# This module's `portal` is the first style's desk on a fake clock; `any_portal` gives it
# or the SPA portal.
StyledPortal = DeskPortal | SpaPortalSandbox


def _style_params(portal: StyledPortal) -> dict[str, Any]:
    """The SPA's letter form has a required 所属部门 select: the operator fills it."""
    spa = isinstance(portal, SpaPortalSandbox)
    return {"fill": {"所属部门": "省市场监督管理局"}} if spa else {}


def _desk(portal: StyledPortal) -> ConsultationDesk:
    return portal.consultation if isinstance(portal, SpaPortalSandbox) else portal.desk


async def test_a_question_is_submitted_on_both_styles(
    make_services: ServicesFactory, any_portal: StyledPortal
) -> None:
    before = len(_desk(any_portal).letters())  # the desk outlives one test
    catalog = portal_catalog(any_portal.url, probe="consultation", params=_style_params(any_portal))
    report = await run_check(make_services(catalog), "sf-portal/consultation", record=False)
    assert report.outcome is Outcome.PASS, report.result
    letters = _desk(any_portal).letters()
    assert len(letters) == before + 1
    letter = letters[-1]
    if isinstance(any_portal, SpaPortalSandbox):
        assert letter.department == "省市场监督管理局"


async def test_a_refused_question_quotes_the_refusal_on_both_styles(
    make_services: ServicesFactory, any_portal: StyledPortal
) -> None:
    # The first style answers with a page, the SPA with a toast gone after 3 s.
    _desk(any_portal).faults.update({"submit_fails": True})
    catalog = portal_catalog(any_portal.url, probe="consultation", params=_style_params(any_portal))
    report = await run_check(make_services(catalog), "sf-portal/consultation", record=False)
    (finding,) = report.result.findings
    assert finding.code == "consultation.submit_failed"
    assert "系统繁忙" in finding.detail and "页面提示“" in finding.detail
