"""The consultation's optional ``rating`` part: a replied letter must offer 评价 (好差评,
seed 004 #1). Judged on the run that sees the reply, and, while the journey rests before
its next question, on the last reply asked again each run (so a task can open, and a
verification sees the fix)."""

from __future__ import annotations

from dataclasses import replace

from core.results import Outcome, ProbeResult
from probes.base import ProbeContext
from probes.consultation_state import Consultation, beijing_date, month_day
from probes.consultation_steps import Reading, ReplyStatus, query_reply
from probes.rating_entry import reply_offers_rating, reply_rating_missing
from probes.rating_params import ReplyRating


def with_rating(result: ProbeResult, done: Consultation, offered: bool) -> ProbeResult:
    """The run's result with the reply page's 评价 entry judged (the reply was read)."""
    metrics = {**result.metrics, "rating_offered": offered}
    if offered:
        return replace(result, metrics=metrics)
    submitted = month_day(beijing_date(done.submitted_at))
    finding = reply_rating_missing(submitted, done.reference)
    return replace(
        result, outcome=Outcome.FAIL, findings=(finding,), summary=finding.title, metrics=metrics
    )


async def rating_while_resting(
    ctx: ProbeContext,
    part: ReplyRating,
    reading: Reading,
    last: Consultation,
    resting: ProbeResult,
) -> ProbeResult:
    """The resting pass with the last reply's 评价 entry judged again; a query that does not
    show the reply leaves the entry unjudged (the pass stands, ``rating_offered`` None)."""
    page = await ctx.new_page()
    answer = await query_reply(ctx, page, last, reading)
    if answer.status is not ReplyStatus.REPLIED:
        return replace(resting, metrics={**resting.metrics, "rating_offered": None})
    offered = await reply_offers_rating(ctx, page, part.words)
    if not offered:
        await ctx.evidence.capture(page, "consult-reply-no-rating")
    return with_rating(resting, last, offered)
