"""政务服务“好差评” (seed 000 A1, seed 004 #1–2, seed 002 统一“好差评”系统): can a citizen
rate a service, and are the 差评 answered in time?

Two parts, each optional in the check's ``params``:

- ``entry``: on each guide (``items``, or a ``sample`` of catalog pages) the rating entry
  (好差评, 我要评价, 服务评价…; ``selectors.rating_entry``) is looked for and followed. No
  entry on a guide whose content was read is ``rating.entry_missing``; an entry that
  answers an HTTP error, an error page or nothing at all is ``rating.entry_dead``. A guide
  whose content could not be read is unjudged, never missing.
- ``published``: the 差评公示 list (``pages.rating_list``, or the home page's link) is
  read row by row; a 差评 without a reply more than ``reply_within_working_days`` (15)
  Chinese working days after it was given is ``rating.unanswered``, one answered after
  that ``rating.reply_late`` (replies of the last ``late_reply_lookback_days``). A list
  whose rows or dates cannot be read is inconclusive.

The consultation probe's ``rating`` part checks that a replied letter offers 评价.
"""

from __future__ import annotations

import re

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Page

from config.catalog import Severity
from config.guide_elements import default_guide_elements
from core.results import Finding, Outcome, ProbeResult
from probes.base import Probe, ProbeContext, fail_or_doubt
from probes.consultation_state import beijing_date
from probes.guide_page import GuidePage, read_guide
from probes.guide_rules import Presence, element_presence
from probes.guide_sample import guide_urls
from probes.rating_entry import Opened, choices_on, find_entry, follow_entry, review_rows
from probes.rating_params import EntryPart, PublishedPart, RatingParams
from probes.rating_reviews import judge_reviews, long_date, read_review

MAX_SCREENSHOTS = 4
MIN_ELEMENTS_READ = 3  # guide elements (办理时限, 申请材料…) found before an absence counts
_EMPTY_LIST = re.compile(r"暂无(?:数据|记录|差评|评价|相关)|没有(?:数据|记录|差评)")
_BAD_LIST = re.compile(r"(?<!好)差评")  # 差评公示, not 好差评

TITLES = {
    "rating.entry_missing": "未提供“好差评”评价入口",
    "rating.entry_dead": "“好差评”评价入口无效",
    "rating.unanswered": "差评超期未回复整改",
    "rating.reply_late": "差评超期回复",
}
SEVERITIES = {
    "rating.entry_missing": Severity.MAJOR,
    "rating.entry_dead": Severity.MAJOR,
    "rating.unanswered": Severity.MAJOR,
    "rating.reply_late": Severity.MINOR,
}


def _elements_read(guide: GuidePage) -> int:
    """How many guide elements of the dictionary the page was read to have."""
    words = default_guide_elements()
    presence = element_presence(guide.entries, words, words)
    return sum(seen is not Presence.ABSENT for seen in presence.values())


class RatingProbe(Probe):
    kind = "rating"
    Params = RatingParams

    async def run(self, ctx: ProbeContext) -> ProbeResult:
        params = ctx.params(RatingParams)
        inspection = _Inspection(ctx, await ctx.new_page())
        if params.entry is not None:
            urls = await guide_urls(
                ctx, inspection.page, params.items, params.sample, params.item_pattern
            )
            for url in urls:
                await inspection.entry(url, params.entry)
        if params.published is not None:
            await inspection.published(params.published)
        return inspection.result()


class _Inspection:
    def __init__(self, ctx: ProbeContext, page: Page) -> None:
        self.ctx = ctx
        self.page = page
        self.found: dict[str, list[tuple[str, str]]] = {code: [] for code in TITLES}
        self.unjudged: list[str] = []
        self.metrics: dict[str, object] = {}
        self.entries: dict[str, str] = {}  # guide URL → what its entry opened

    async def capture(self, label: str) -> None:
        if len(self.ctx.evidence.screenshots) < MAX_SCREENSHOTS:
            await self.ctx.evidence.capture(self.page, label)

    def finding(self, code: str, subject: str, detail: str) -> None:
        self.found[code].append((subject, detail))

    # -- the entry of each guide -------------------------------------------------------------

    async def entry(self, url: str, part: EntryPart) -> None:
        response = await self.ctx.goto(self.page, url)
        if response is not None and response.status >= 400:
            self.unjudged.append(
                f"办事指南 {url} 打开返回 HTTP {response.status}，未判定其评价入口"
            )
            return
        guide = await read_guide(self.page, title_selector=self.ctx.selector("guide_title"))
        name = guide.title or url
        label = f"“{name}”办事指南"
        configured = self.ctx.selector("rating_entry")
        button = await find_entry(self.page, configured, part.words)
        if button is None:
            inline = await choices_on(self.page, part.form_pattern)
            if len(inline) >= part.min_choices:
                self.entries[url] = "inline"  # the choices are on the guide itself
                return
            if _elements_read(guide) < MIN_ELEMENTS_READ:
                # The guide was not read as a guide: the entry may be there, unseen.
                self.unjudged.append(
                    f"未能读出{label}（{url}）的内容，无法判定是否提供评价入口；"
                    "请配置巡检对象 selectors.rating_entry 或 selectors.guide_title"
                )
                return
            self.entries[url] = "missing"
            await self.capture("rating-no-entry")
            self.finding("rating.entry_missing", name, f"{label}页面未提供“好差评”评价入口")
            return
        words = " ".join((await button.inner_text()).split()) or "评价"
        reading = await follow_entry(
            self.ctx,
            self.page,
            button,
            form_pattern=part.form_pattern,
            min_choices=part.min_choices,
        )
        self.entries[url] = reading.opened.value
        if reading.opened is Opened.UNKNOWN:
            self.unjudged.append(
                f"{label}的“{words}”入口{reading.why}，无法判定评价入口是否有效；"
                "请配置巡检项 params.entry.form_pattern 或 min_choices"
            )
        elif reading.opened is Opened.DEAD:
            await self.capture("rating-entry-dead")
            self.finding("rating.entry_dead", name, f"{label}的“{words}”入口{reading.why}")

    # -- the published 差评 -------------------------------------------------------------------

    async def published(self, part: PublishedPart) -> None:
        url = await self._list_page(part)
        if url is None:
            return
        response = await self.ctx.goto(self.page, url)
        if response is not None and response.status >= 400:
            self.unjudged.append(
                f"差评公示页面（{url}）打开返回 HTTP {response.status}，未判定差评回复情况；"
                "请核对巡检对象 pages.rating_list"
            )
            return
        heading = await self.page.title()
        with_heading = f"{heading} {await self._headings()}"
        try:
            rows = await review_rows(self.page, self.ctx.selector("rating_row"))
        except PlaywrightError as exc:  # e.g. a configured selector the page cannot parse
            self.unjudged.append(
                f"差评公示页面（{self.page.url}）的差评行无法读取（{str(exc).splitlines()[0][:80]}）；"
                "请核对巡检对象 selectors.rating_row"
            )
            return
        reviews = [read_review(row, all_bad=bool(_BAD_LIST.search(with_heading))) for row in rows]
        today = beijing_date(self.ctx.clock.now())
        verdict = judge_reviews(
            reviews,
            today=today,
            calendar=self.ctx.calendar,
            within=part.reply_within_working_days,
            late_lookback_days=part.late_reply_lookback_days,
        )
        self.metrics["reviews"] = {
            "rows": len(rows),
            "bad": verdict.judged,
            "unanswered": len(verdict.unanswered),
            "late": len(verdict.late),
            "waiting": len(verdict.waiting),
            "unread": len(verdict.unread),
        }
        if verdict.judged == 0:
            text = await self.page.locator("body").inner_text()
            if not rows and _EMPTY_LIST.search(text):
                return  # the list says it has no 差评
            self.unjudged.append(
                f"未能从差评公示页面（{self.page.url}）读出差评及其评价日期；"
                "请配置巡检对象 pages.rating_list 或 selectors.rating_row"
            )
            return
        if verdict.unread:
            names = "、".join(f"差评（{review.name}）" for review in verdict.unread[:3])
            self.unjudged.append(
                f"差评公示页面上{names}等 {len(verdict.unread)} 条未能读出回复情况；"
                "请配置巡检对象 selectors.rating_row"
            )
        within = part.reply_within_working_days
        as_of = f"{today.month}月{today.day}日"
        for overdue in verdict.unanswered:
            review = overdue.review
            self.finding(
                "rating.unanswered",
                review.number or review.name,
                f"差评（{review.name}）超过{within}个工作日未回复"
                f"（截至{as_of}已过 {overdue.elapsed} 个工作日）",
            )
        for overdue in verdict.late:
            review = overdue.review
            assert review.replied_on is not None
            self.finding(
                "rating.reply_late",
                review.number or review.name,
                f"差评（{review.name}）于{long_date(review.replied_on)}回复，"
                f"用时 {overdue.elapsed} 个工作日，超过{within}个工作日",
            )
        if verdict.unanswered or verdict.late:
            await self.capture("rating-reviews")

    async def _list_page(self, part: PublishedPart) -> str | None:
        if "rating_list" in self.ctx.target.pages:
            return self.ctx.url("rating_list")
        home = self.ctx.url("home", "/")
        response = await self.ctx.goto(self.page, home)
        if response is not None and response.status >= 400:
            self.unjudged.append(f"首页（{home}）打开返回 HTTP {response.status}，未找到差评公示")
            return None
        link = await find_entry(self.page, None, part.link_words)
        href = await link.evaluate("(el) => el.href || ''") if link is not None else ""
        if not isinstance(href, str) or not href.startswith(("http://", "https://")):
            self.unjudged.append(
                f"未能在首页（{home}）找到差评公示（差评公示、评价公开…）链接，未判定差评回复情况；"
                "请配置巡检对象 pages.rating_list 或巡检项 params.published.link_words"
            )
            return None
        return href

    async def _headings(self) -> str:
        texts = await self.page.locator("h1, h2").all_inner_texts()
        return " ".join(texts[:5])

    # -- the result ----------------------------------------------------------------------------

    def result(self) -> ProbeResult:
        findings = [
            Finding(
                code=code,
                title=TITLES[code],
                detail="；".join(detail for _, detail in found),
                severity=SEVERITIES[code],
                subjects=tuple(dict.fromkeys(subject for subject, _ in found)),
            )
            for code, found in self.found.items()
            if found
        ]
        if self.entries:
            self.metrics["entries"] = self.entries
        failed = fail_or_doubt(findings, self.unjudged, self.metrics)
        if failed is not None:
            return failed
        return ProbeResult(
            Outcome.PASS, summary="“好差评”评价入口及差评回复均符合要求", metrics=self.metrics
        )
