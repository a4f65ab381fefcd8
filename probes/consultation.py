"""咨询互动: can a citizen ask the portal a question and get an answer within 5 working days?

A journey over days. The first run submits a question from the pool through 我要咨询,
with a unique marker (【巡检编号 GP-…】), and keeps the receipt (信件编号, 查询码) in the
run's state. Later runs (the check's schedule, e.g. twice per working day) ask 咨询回复查询:

    reply found                        → pass, latency in working days and hours recorded
    no reply, within the deadline      → pass ("等待答复，已过 N 个工作日"): nothing is broken yet
    no reply, a working day past it    → fail ``consultation.reply_overdue``, every run until
                                         the reply comes; then a pass, which closes the task
                                         on verification (or by auto_close)
    question refused (a message, HTTP) → fail ``consultation.submit_failed``
    receipt or page not read           → inconclusive, naming the setting that would help
    query page errs, letter unknown    → fail ``consultation.query_failed``
    query entry or status not read     → inconclusive, the consultation kept

An overdue consultation is never abandoned for a new one, so only its reply can pass.
One consultation per target is pending at a time: the first enabled consultation check
of a target owns its desk (another one is a configuration error), and the probe allows
one run at a time, so the bot claims the check in the database before each run and skips
a run that overlaps another (in any process) instead of asking again.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging

from pydantic import Field, field_validator

from config.catalog import CheckSpec, Severity
from core.results import Finding, Outcome, ProbeResult
from probes.base import CheckParams, Probe, ProbeContext, ProbeParams, valid_regex
from probes.consultation_rating import rating_while_resting, with_rating
from probes.consultation_state import (
    Consultation,
    ConsultationJournal,
    beijing_date,
    month_day,
)
from probes.consultation_steps import (
    RECEIPT_SETTINGS,
    Contact,
    Question,
    Reading,
    Receipt,
    Refusal,
    ReplyStatus,
    Unjudgeable,
    query_reply,
    submit_question,
)
from probes.errors import MonitorError
from probes.rating_entry import REPLY_RATING_CODE, reply_offers_rating
from probes.rating_params import ReplyRating

log = logging.getLogger(__name__)

TITLE_OVERDUE = "咨询投诉功能不可用"
TITLE_SUBMIT_FAILED = "咨询投诉无法提交"
TITLE_QUERY_FAILED = "咨询回复查询不可用"


class PooledQuestion(ProbeParams):
    title: str = Field(min_length=2, max_length=40)
    content: str = Field(min_length=10, max_length=900)


DEFAULT_QUESTIONS = (
    PooledQuestion(
        title="个体工商户营业执照网上办理咨询",
        content="您好，我准备开一家小餐馆，请问申请个体工商户营业执照需要准备哪些材料？"
        "能否全程在网上办理，大概多少个工作日可以拿到执照？",
    ),
    PooledQuestion(
        title="灵活就业人员参加养老保险咨询",
        content="您好，我目前是灵活就业人员，想以个人身份参加职工基本养老保险，"
        "请问在网上如何办理参保登记，缴费基数可以怎么选择？",
    ),
    PooledQuestion(
        title="居住证办理材料和时限咨询",
        content="您好，我在本市工作已满半年，想申请办理居住证，请问需要提交哪些材料，"
        "网上申请后多久可以领取，是否支持邮寄？",
    ),
)


class ConsultationParams(CheckParams):
    FINDING_CODES = (
        "consultation.submit_failed",
        "consultation.query_failed",
        "consultation.reply_overdue",
        REPLY_RATING_CODE,
    )

    questions: list[PooledQuestion] = Field(
        default_factory=lambda: list(DEFAULT_QUESTIONS), min_length=1
    )
    reply_within_working_days: int = Field(default=5, ge=1, le=60)
    # Working days to wait after a reply before asking the next question (0: the next run),
    # so a desk that answers fast is not flooded with test letters.
    resubmit_after_working_days: int = Field(default=5, ge=0, le=250)
    contact_name: str = Field(default="李明", min_length=1, max_length=20)
    contact_phone: str = Field(default="13800138000", pattern=r"^1[3-9]\d{9}$")
    contact_email: str = ""
    kind: str = "咨询"  # the 信件类型 to choose when the form offers one
    # Required fields the probe does not know: {label or CSS: option, true/false or text}.
    fill: dict[str, str] = Field(default_factory=dict)
    marker_label: str = Field(default="巡检编号", min_length=1, max_length=10)
    # Regexes (first group = the value) for receipts and entries the readers do not know.
    receipt_number_pattern: str | None = None
    receipt_code_pattern: str | None = None
    query_entry_pattern: str | None = None
    # Optional: a replied letter must offer 评价 (好差评, seed 004 #1), e.g. ``rating: {}``.
    rating: ReplyRating | None = None

    _patterns = field_validator(
        "receipt_number_pattern", "receipt_code_pattern", "query_entry_pattern"
    )(valid_regex)

    @property
    def reading(self) -> Reading:
        return Reading(
            self.receipt_number_pattern, self.receipt_code_pattern, self.query_entry_pattern
        )


class ConsultationProbe(Probe):
    kind = "consultation"
    Params = ConsultationParams
    one_run_at_a_time = True  # two overlapping runs would both find nothing pending

    async def run(self, ctx: ProbeContext) -> ProbeResult:
        params = ctx.params(ConsultationParams)
        _require_desk_owner(ctx)
        journal = ConsultationJournal.from_state(ctx.state)
        if journal.pending is not None and journal.pending.base_url != ctx.target.base_url:
            log.warning(
                "%s: base_url changed, consultation %s on %s abandoned",
                ctx.check_id,
                journal.pending.letter_no,
                journal.pending.base_url,
            )
            journal = ConsultationJournal(None, journal.last_replied, journal.asked)
        if journal.pending is not None:
            return await self._follow_up(ctx, params, journal, journal.pending)
        resting = self._resting(ctx, params, journal)
        if resting is not None and params.rating is not None and journal.last_replied:
            last, part = journal.last_replied, params.rating
            return await rating_while_resting(ctx, part, params.reading, last, resting)
        if resting is not None:
            return resting
        unread = ctx.state.get(UNREAD_RECEIPT)
        if isinstance(unread, dict) and unread.get("reading") == _reading_key(ctx, params):
            since = beijing_date(dt.datetime.fromisoformat(str(unread["at"])))
            return ProbeResult(
                Outcome.INCONCLUSIVE,
                summary="无法判定",
                error=f"{month_day(since)}提交的咨询未能读出回执（信件编号或查询码），"
                f"为免重复提交，请先配置{RECEIPT_SETTINGS}",
                state={**journal.to_state(), UNREAD_RECEIPT: unread},
            )
        return await self._submit(ctx, params, journal)

    async def _submit(
        self, ctx: ProbeContext, params: ConsultationParams, journal: ConsultationJournal
    ) -> ProbeResult:
        now = ctx.clock.now()
        pooled = params.questions[journal.asked % len(params.questions)]
        marker = _marker(ctx, params)
        question = Question(pooled.title, f"{pooled.content}　【{marker}】")
        contact = Contact(
            params.contact_name,
            params.contact_phone,
            params.contact_email,
            params.kind,
            params.fill,
        )
        page = await ctx.new_page()
        answer = await submit_question(ctx, page, question, contact, params.reading)
        if isinstance(answer, Unjudgeable):
            state = journal.to_state()
            if answer.submitted:
                # Remembered, so the next runs do not send letter after letter to a desk
                # whose receipts we cannot read: they wait for the reading to change.
                unread = {"at": now.isoformat(), "reading": _reading_key(ctx, params)}
                state[UNREAD_RECEIPT] = unread
            return ProbeResult(
                Outcome.INCONCLUSIVE, summary="无法判定", error=answer.reason, state=state
            )
        if isinstance(answer, Refusal):
            where = f"{answer.entry}。" if answer.entry else ""
            finding = Finding(
                code="consultation.submit_failed",
                title=TITLE_SUBMIT_FAILED,
                detail=f"{where}{answer.reason}，咨询问题无法提交",
                severity=Severity.MAJOR,
                subjects=(answer.entry,) if answer.entry else (),
                data={"question": pooled.title},
            )
            return ProbeResult(
                Outcome.FAIL,
                (finding,),
                summary=finding.title,
                metrics={"consultation": "submit_failed"},
                state=journal.to_state(),
            )
        consultation = _consultation(ctx, params, answer, question, marker)
        metrics = {
            "consultation": "submitted",
            "letter_no": consultation.letter_no,
            "submitted_at": now.isoformat(),
            "deadline": consultation.deadline.isoformat(),
        }
        journal = ConsultationJournal(consultation, journal.last_replied, journal.asked + 1)
        return ProbeResult(
            Outcome.PASS,
            summary=f"已提交咨询（{consultation.reference}），"
            f"应于{month_day(consultation.deadline)}前答复",
            metrics=metrics,
            state=journal.to_state(),
        )

    async def _follow_up(
        self,
        ctx: ProbeContext,
        params: ConsultationParams,
        journal: ConsultationJournal,
        pending: Consultation,
    ) -> ProbeResult:
        now = ctx.clock.now()
        today = beijing_date(now)
        page = await ctx.new_page()
        answer = await query_reply(ctx, page, pending, params.reading)
        if answer.status is ReplyStatus.REPLIED:
            stated = answer.replied_at
            plausible = stated is not None and pending.submitted_at <= stated <= now
            done = pending.answered(stated if plausible and stated else now, now, answer.reply)
            await ctx.evidence.capture(page, "consult-reply")
            replied = self._replied(ctx, params, journal, done)
            if params.rating is None:
                return replied
            offered = await reply_offers_rating(ctx, page, params.rating.words)
            return with_rating(replied, done, offered)
        if answer.status is ReplyStatus.UNREADABLE:
            return ProbeResult(
                Outcome.INCONCLUSIVE,
                summary="无法判定",
                error=answer.reason,
                state=ConsultationJournal(
                    pending.followed_up(), journal.last_replied, journal.asked
                ).to_state(),
            )
        pending = pending.followed_up()
        journal = ConsultationJournal(pending, journal.last_replied, journal.asked)
        elapsed = pending.working_days_elapsed(ctx.calendar, today)
        metrics = {
            "consultation": "waiting",
            "letter_no": pending.letter_no,
            "working_days_elapsed": elapsed,
            "deadline": pending.deadline.isoformat(),
            "follow_ups": pending.follow_ups,
        }
        findings: list[Finding] = []
        if answer.status in (ReplyStatus.BROKEN, ReplyStatus.UNKNOWN_LETTER):
            findings.append(_query_failed(pending, answer.reason))
        if pending.working_days_overdue(ctx.calendar, today) > 0:
            metrics["consultation"] = "overdue"
            findings.append(_overdue(pending, params, today, elapsed))
        if findings:
            await ctx.evidence.capture(page, "consult-no-reply")
            return ProbeResult(
                Outcome.FAIL,
                tuple(findings),
                summary=findings[-1].title,
                metrics=metrics,
                state=journal.to_state(),
            )
        return ProbeResult(
            Outcome.PASS,
            summary=f"等待答复：{month_day(beijing_date(pending.submitted_at))}提交，"
            f"已过 {elapsed} 个工作日（时限{month_day(pending.deadline)}，"
            f"{pending.time_left(ctx.calendar, today)}）",
            metrics=metrics,
            state=journal.to_state(),
        )

    def _replied(
        self,
        ctx: ProbeContext,
        params: ConsultationParams,
        journal: ConsultationJournal,
        done: Consultation,
    ) -> ProbeResult:
        assert done.replied_at is not None
        days = done.latency_working_days(ctx.calendar)
        hours = done.latency_hours()
        late = done.working_days_overdue(ctx.calendar, beijing_date(done.replied_at)) > 0
        metrics = {
            "consultation": "replied",
            "letter_no": done.letter_no,
            "submitted_at": done.submitted_at.isoformat(),
            "replied_at": done.replied_at.isoformat(),
            "reply_latency_working_days": days,
            "reply_latency_hours": hours,
            "reply_late": late,
        }
        lateness = f"，超过 {params.reply_within_working_days} 个工作日时限" if late else ""
        return ProbeResult(
            Outcome.PASS,
            summary=f"咨询已答复（{done.reference}）：用时 {days} 个工作日（{hours:g} 小时）"
            f"{lateness}",
            metrics=metrics,
            state=ConsultationJournal(None, done, journal.asked).to_state(),
        )

    def _resting(
        self, ctx: ProbeContext, params: ConsultationParams, journal: ConsultationJournal
    ) -> ProbeResult | None:
        """A pass without asking, while the pause after the last reply lasts."""
        last = journal.last_replied
        if params.resubmit_after_working_days == 0 or last is None or last.reply_seen_at is None:
            return None
        since = beijing_date(last.reply_seen_at)
        next_day = ctx.calendar.add_working_days(since, params.resubmit_after_working_days).due
        if beijing_date(ctx.clock.now()) >= next_day:
            return None
        return ProbeResult(
            Outcome.PASS,
            summary=f"上次咨询已于{month_day(since)}获答复，{month_day(next_day)}起提交下一个咨询",
            metrics={"consultation": "resting", "next_question_on": next_day.isoformat()},
            state=journal.to_state(),
        )


def _consultation(
    ctx: ProbeContext,
    params: ConsultationParams,
    receipt: Receipt,
    question: Question,
    marker: str,
) -> Consultation:
    now = ctx.clock.now()
    deadline = ctx.calendar.add_working_days(beijing_date(now), params.reply_within_working_days)
    return Consultation(
        target=ctx.target.key,
        base_url=ctx.target.base_url,
        entry=receipt.entry,
        marker=marker,
        title=question.title,
        letter_no=receipt.letter_no,
        query_code=receipt.query_code,
        submitted_at=now,
        deadline=deadline.due,
        deadline_estimated=deadline.estimated,
        receipt_evidence=receipt.evidence,
        query_url=receipt.query_url,
    )


def _overdue(
    pending: Consultation, params: ConsultationParams, today: dt.date, elapsed: int
) -> Finding:
    submitted = beijing_date(pending.submitted_at)
    return Finding(
        code="consultation.reply_overdue",
        title=TITLE_OVERDUE,
        detail=f"{pending.entry}。{month_day(submitted)}提交咨询投诉问题（{pending.reference}，"
        f"“{pending.title}”），超过{params.reply_within_working_days}个工作日未反馈咨询投诉结果"
        f"（截至{month_day(today)}已过 {elapsed} 个工作日）",
        severity=Severity.MAJOR,
        subjects=(pending.letter_no or pending.title,),
        data={
            "letter_no": pending.letter_no,
            "marker": pending.marker,
            "submitted_at": pending.submitted_at.isoformat(),
            "deadline": pending.deadline.isoformat(),
            "working_days_elapsed": elapsed,
            "receipt_evidence": pending.receipt_evidence,
        },
    )


def _query_failed(pending: Consultation, reason: str) -> Finding:
    submitted = beijing_date(pending.submitted_at)
    return Finding(
        code="consultation.query_failed",
        title=TITLE_QUERY_FAILED,
        detail=f"咨询回复查询。凭{pending.reference}和查询码查询{month_day(submitted)}提交的咨询，"
        f"{reason}",
        severity=Severity.MAJOR,
        subjects=(pending.letter_no or pending.title,),
        data={"letter_no": pending.letter_no, "reason": reason},
    )


UNREAD_RECEIPT = "consultation_unread_receipt"


def _reading_key(ctx: ProbeContext, params: ConsultationParams) -> str:
    """What the receipt is read with; a change to it is worth another question."""
    selectors = [ctx.selector(name) for name in ("consult_receipt_number", "consult_receipt_code")]
    return repr((params.receipt_number_pattern, params.receipt_code_pattern, selectors))


def _marker(ctx: ProbeContext, params: ConsultationParams) -> str:
    """巡检编号 GP-20260928-3F9A: unique per check and moment, findable in the portal's lists."""
    now = ctx.clock.now()
    digest = hashlib.sha1(f"{ctx.check_id}|{now.isoformat()}".encode(), usedforsecurity=False)
    return f"{params.marker_label} GP-{beijing_date(now):%Y%m%d}-{digest.hexdigest()[:4].upper()}"


def _require_desk_owner(ctx: ProbeContext) -> None:
    """Only the first enabled consultation check of a target asks its desk questions."""
    owner = _desk_owner(ctx.target.checks)
    if owner is not None and owner.check_name != ctx.check.check_name:
        raise MonitorError(
            f"巡检对象 {ctx.target.key} 的咨询互动已由巡检项 {ctx.target.key}/{owner.check_name} "
            f"负责，同一巡检对象只保留一个待答复的咨询；请删除或停用重复的巡检项 {ctx.check_id}"
        )


def _desk_owner(checks: list[CheckSpec]) -> CheckSpec | None:
    mine = [check for check in checks if check.probe == ConsultationProbe.kind]
    return next((check for check in mine if check.enabled), mine[0] if mine else None)
