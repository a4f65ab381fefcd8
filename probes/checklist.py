"""平台检查指标: the content items of the national checklist (seed 001 附件2, seed 000 E1–E4).

Three parts, each optional in the check's ``params``:

- ``entry`` (统一入口): the government portal's home page links to the service platform,
  and the link lands on it.
- ``columns`` (栏目设置): every theme or department listed on the column pages has items.
- ``guides`` (办事指南): sampled or configured guides have every element, concrete
  materials, phones with area codes, time limits in 工作日/自然日, and working form
  downloads (表格下载, 填写示范).

One finding per problem kind, naming every affected page, so one task follows each kind.
"""

from __future__ import annotations

import random
import re
from typing import Literal
from urllib.parse import urlsplit

from playwright.async_api import Page
from pydantic import Field, field_validator, model_validator

from config.guide_elements import ElementLabels, default_guide_elements, with_additions
from core.results import Finding, Outcome, ProbeResult
from probes import locate
from probes.base import CheckParams, Probe, ProbeContext, ProbeParams, http_error_finding
from probes.errors import Inconclusive, SiteUnreachable
from probes.guide_check import GuideReading, GuideVerdict, guide_findings, judge_guide
from probes.guide_detail import BARE_STEP_CHARS
from probes.guide_page import download_problem, read_guide
from probes.guide_rules import (
    ELEMENT_NAMES,
    MATERIAL_FORMAT_ASPECTS,
    VAGUE_MATERIAL_PATTERNS,
    category_name,
)
from probes.portal_links import (
    all_links,
    content_links,
    entry_candidates,
    is_category,
    lands_on,
    page_address,
    page_heading,
    site_of,
)
from probes.search import CatalogSample

# Guide links on real portals: /item/…, bszn (办事指南), guide, matter, sxxq (事项详情)…
DEFAULT_ITEM_PATTERN = r"(?i)/item/|bszn|guide|matter|sxxq|itemdetail|item_?id="
DEFAULT_ENTRY_WORDS = ("政务服务", "网上办事", "办事大厅", "一网通办")
MAX_SCREENSHOTS = 6


def _regex(value: str | None) -> str | None:
    if value is not None:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"not a valid regular expression: {exc}") from None
    return value


class EntryParams(ProbeParams):
    """统一入口: where the government portal is and what its entry looks like."""

    portal_url: str = Field(min_length=1)  # the government portal's home page
    portal_name: str = "本级政府门户网站"
    link_words: list[str] = Field(default_factory=lambda: list(DEFAULT_ENTRY_WORDS), min_length=1)
    link_selector: str | None = None  # CSS of the entry link, when the words do not find it
    platform_url: str | None = None  # where the entry must land; the target's base_url
    max_links: int = Field(default=5, ge=1, le=20)


class ColumnParams(ProbeParams):
    """栏目设置: column pages whose theme and department links are followed."""

    pages: list[str] = Field(min_length=1)
    link_pattern: str | None = None  # regex on category URLs; default: every content link
    item_pattern: str = DEFAULT_ITEM_PATTERN  # regex on the URLs of guide links
    max_categories: int = Field(default=100, ge=1, le=500)

    _patterns = field_validator("link_pattern", "item_pattern")(_regex)


class GuideParams(ProbeParams):
    """办事指南: which guides to read and what they must hold."""

    items: list[str] = Field(default_factory=list)  # guide page paths or URLs
    sample: CatalogSample | None = None  # without link_pattern, links matching item_pattern
    item_pattern: str = DEFAULT_ITEM_PATTERN
    # The elements required; default: the dictionary's (config/guide_elements.yaml) and
    # every element added in `element_labels`.
    elements: list[str] | None = Field(default=None, min_length=1)
    # A province's own elements, or more labels for known ones.
    element_labels: dict[str, ElementLabels] = Field(default_factory=dict)
    element_selectors: dict[str, str] = Field(default_factory=dict)  # 要素 → CSS selector
    location_pattern: str | None = None  # regex: 办理地点 precise enough (default: 窗口, 室, 路…)
    bare_step_chars: int = Field(default=BARE_STEP_CHARS, ge=1, le=40)
    vague_patterns: list[str] = Field(default_factory=lambda: list(VAGUE_MATERIAL_PATTERNS))
    require_forms: Literal["listed", "always"] = "listed"  # listed: when a material is a form
    check_downloads: bool = True
    # Regexes for wordings the readers do not know (see probes/readers.py).
    hotline_pattern: str | None = None  # numbers needing no area code, e.g. "96\\d{3}"
    clear_time_limit_pattern: str | None = None  # time limits that say which days count
    material_format_patterns: dict[str, str] = Field(default_factory=dict)  # aspect → regex

    @field_validator("hotline_pattern", "clear_time_limit_pattern", "location_pattern")
    @classmethod
    def _valid_reader_patterns(cls, value: str | None) -> str | None:
        return _regex(value)

    @field_validator("material_format_patterns")
    @classmethod
    def _known_aspects(cls, value: dict[str, str]) -> dict[str, str]:
        known = [name for name, _ in MATERIAL_FORMAT_ASPECTS]
        for aspect, pattern in value.items():
            if aspect not in known:
                raise ValueError(f"unknown aspect {aspect!r}; known: {'、'.join(known)}")
            _regex(pattern)
        return value

    @property
    def reading(self) -> GuideReading:
        return GuideReading(
            self.hotline_pattern,
            self.clear_time_limit_pattern,
            self.material_format_patterns,
            elements=with_additions(default_guide_elements(), self.element_labels),
            location_pattern=self.location_pattern,
            bare_step_chars=self.bare_step_chars,
        )

    _pattern = field_validator("item_pattern")(_regex)

    @field_validator("vague_patterns")
    @classmethod
    def _valid_patterns(cls, value: list[str]) -> list[str]:
        for pattern in value:
            _regex(pattern)
        return value

    def _known(self) -> list[str]:
        return [*ELEMENT_NAMES, *(n for n in self.element_labels if n not in ELEMENT_NAMES)]

    @property
    def required_elements(self) -> list[str]:
        return list(self.elements) if self.elements is not None else self._known()

    @model_validator(mode="after")
    def _known_elements(self) -> GuideParams:
        known = self._known()
        unknown = [name for name in self.elements or () if name not in known]
        if unknown:
            raise ValueError(
                f"unknown elements {unknown} in `elements`; known: {'、'.join(known)} "
                "(add an element with `element_labels`)"
            )
        return self

    @model_validator(mode="after")
    def _something_to_read(self) -> GuideParams:
        if not self.items and self.sample is None:
            raise ValueError("give guide `items` (page paths) or a `sample` of catalog pages")
        return self


class ChecklistParams(CheckParams):
    FINDING_CODES = (
        "checklist.entry_missing",
        "checklist.entry_dead",
        "checklist.empty_column",
        "checklist.guide_unavailable",
        "checklist.guide_elements_missing",
        "checklist.process_not_detailed",
        "checklist.location_not_specific",
        "checklist.fee_basis_missing",
        "checklist.material_source_unclear",
        "checklist.vague_materials",
        "checklist.material_format_unclear",
        "checklist.phone_invalid",
        "checklist.time_limit_unclear",
        "checklist.form_download_missing",
        "checklist.form_download_dead",
    )

    entry: EntryParams | None = None
    columns: ColumnParams | None = None
    guides: GuideParams | None = None

    @model_validator(mode="after")
    def _at_least_one_part(self) -> ChecklistParams:
        if self.entry is None and self.columns is None and self.guides is None:
            raise ValueError("give at least one of `entry`, `columns` or `guides`")
        return self


class ChecklistProbe(Probe):
    kind = "checklist"
    Params = ChecklistParams

    async def run(self, ctx: ProbeContext) -> ProbeResult:
        params = ctx.params(ChecklistParams)
        inspection = _Inspection(ctx, await ctx.new_page())
        if params.entry is not None:
            await inspection.entry(params.entry)
        if params.columns is not None:
            await inspection.columns(params.columns)
        if params.guides is not None:
            await inspection.guides(params.guides)
        return inspection.result()


class _Inspection:
    """One run of the checklist: the findings and measurements gathered so far."""

    def __init__(self, ctx: ProbeContext, page: Page) -> None:
        self.ctx = ctx
        self.page = page
        self.findings: list[Finding] = []
        self.metrics: dict[str, object] = {}
        self.unjudged: list[str] = []

    def result(self) -> ProbeResult:
        """Fail on the findings; a part that could not be judged is said, never dropped:
        inconclusive alone, or beside the findings in ``error`` and ``metrics``."""
        unjudged = "；".join(self.unjudged)
        if self.unjudged:
            self.metrics["unjudged"] = list(self.unjudged)
        if self.findings:
            summary = "、".join(dict.fromkeys(f.title for f in self.findings))
            if unjudged:
                summary += "（另有部分检查无法判定）"
            return ProbeResult(
                Outcome.FAIL,
                tuple(self.findings),
                summary=summary,
                error=f"部分检查无法判定：{unjudged}" if unjudged else "",
                metrics=self.metrics,
            )
        if self.unjudged:
            raise Inconclusive(unjudged)
        return ProbeResult(Outcome.PASS, summary="检查指标均符合要求", metrics=self.metrics)

    async def capture(self, label: str, page: Page | None = None) -> None:
        """Keep the page as evidence, up to a few pages per run."""
        if len(self.ctx.evidence.screenshots) < MAX_SCREENSHOTS:
            await self.ctx.evidence.capture(page or self.page, label)

    # -- 统一入口 ------------------------------------------------------------------------

    async def entry(self, params: EntryParams) -> None:
        ctx = self.ctx
        portal = ctx.absolute(params.portal_url)
        platform = ctx.absolute(params.platform_url or ctx.target.base_url)
        response = await ctx.goto(self.page, portal)
        if response is not None and response.status >= 400:
            self.findings.append(
                http_error_finding(f"{params.portal_name}首页", portal, response.status)
            )
            return
        links = await all_links(self.page, params.link_selector)
        candidates = entry_candidates(links, params.link_words, platform, params.link_selector)
        self.metrics["entry_links_found"] = len(candidates)
        lead = (
            f"未与本级政府门户网站前端整合，形成统一服务入口：{params.portal_name}首页（{portal}）"
        )
        if not candidates:
            await self.capture("entry-missing")
            words = "、".join(f"“{word}”" for word in params.link_words)
            self.findings.append(
                Finding(
                    code="checklist.entry_missing",
                    title="入口不统一",
                    detail=f"{lead}未找到{words}等通往{ctx.target.name}的入口链接",
                    subjects=(portal,),
                )
            )
            return
        problems: list[str] = []
        landing = await ctx.new_page()
        try:
            for text, href in candidates[: params.max_links]:
                problem = await self._follow(landing, href, platform, portal)
                if problem is None:
                    return
                problems.append(f"“{text}”入口（{href}）{problem}")
            await self.capture("entry-dead", landing)
        finally:
            await landing.close()
        self.findings.append(
            Finding(
                code="checklist.entry_dead",
                title="入口不统一",
                detail=f"{lead}的{'；'.join(problems)}",
                subjects=(portal,),
                data={"links": [href for _, href in candidates[: params.max_links]]},
            )
        )

    async def _follow(
        self, page: Page, href: str, platform: str, portal: str, hops: int = 1
    ) -> str | None:
        """Open an entry link; None when it lands on the platform, else what went wrong.

        Many portals lead first to their own 政务服务 column page, which then links to
        the platform: one such hop on the portal's own site still counts as an entry.
        """
        if urlsplit(href).scheme not in ("http", "https"):
            return "链接地址无效"
        try:
            response = await self.ctx.goto(page, href)
        except SiteUnreachable as exc:
            # The government portal just answered, so our network is fine: the link is dead.
            return f"无法打开（{exc.reason}）"
        if response is not None and response.status >= 400:
            return f"打开返回 HTTP {response.status}"
        marker = await locate.looks_like_error_page(page, locate.ERROR_MARKERS)
        if marker is not None:
            return f"打开为错误页面（{marker}）"
        if lands_on(page.url, platform):
            return None
        if hops > 0 and lands_on(page.url, site_of(portal)):
            onward = [h for _, h in await all_links(page, None) if lands_on(h, platform)]
            if onward:
                return await self._follow(page, onward[0], platform, portal, hops - 1)
        return f"跳转至 {page.url}，不是{self.ctx.target.name}"

    # -- 栏目设置 ------------------------------------------------------------------------

    async def columns(self, params: ColumnParams) -> None:
        ctx = self.ctx
        item_re = re.compile(params.item_pattern)
        link_re = re.compile(params.link_pattern) if params.link_pattern else None
        empty: list[tuple[str, str]] = []  # (column, category with a note)
        unseen: list[tuple[str, str]] = []  # (column, category) without any item link
        # Whether item_pattern matched on a category page, and on any page: a category is
        # called empty only when another category shows the pattern works there.
        category_items_seen = items_seen = False
        checked = 0
        seen: set[str] = set()
        for listing in params.pages:
            url = ctx.absolute(listing)
            response = await ctx.goto(self.page, url)
            if response is not None and response.status >= 400:
                empty.append((listing, f"栏目页面返回 HTTP {response.status}"))
                continue
            column = await page_heading(self.page) or listing
            links = await content_links(self.page)
            categories = [
                (text, href)
                for text, href in links
                if not item_re.search(href) and is_category(href, url, link_re)
            ]
            items_seen = items_seen or any(item_re.search(href) for _, href in links)
            if not categories:
                if not any(item_re.search(href) for _, href in links):
                    unseen.append((column, "栏目页面无任何事项"))
                    await self.capture("column-empty")
                continue
            for text, href in categories:
                if href in seen or checked >= params.max_categories:
                    continue
                seen.add(href)
                checked += 1
                name = category_name(text)
                response = await ctx.goto(self.page, href)
                if response is not None and response.status >= 400:
                    empty.append((column, f"{name}（HTTP {response.status}）"))
                    continue
                if any(item_re.search(h) for _, h in await content_links(self.page)):
                    category_items_seen = items_seen = True
                else:
                    unseen.append((column, name))
                    await self.capture("category-empty")
        self.metrics["categories_checked"] = checked
        if checked and not category_items_seen:
            items_seen = False  # column pages' own item links say nothing of categories
        if unseen and not items_seen:
            # The pattern never matched on this site: an empty page and a guide link in
            # another form look the same, so nothing is called empty (rule of doubt).
            self.unjudged.append(
                f"栏目页面及其 {checked} 个分类页面上均未找到符合 item_pattern"
                f"（{params.item_pattern}）的办事指南链接，无法判断栏目是否空白；"
                "请配置巡检项 params.columns.item_pattern（办事指南链接地址的正则表达式）"
            )
        elif unseen:
            empty += unseen
        if empty:
            grouped: dict[str, list[str]] = {}
            for column, name in empty:
                grouped.setdefault(column, []).append(name)
            self.findings.append(
                Finding(
                    code="checklist.empty_column",
                    title="整栏目空白",
                    detail="；".join(
                        f"{column}：{'、'.join(names)}" for column, names in grouped.items()
                    ),
                    subjects=tuple(f"{column}：{name}" for column, name in empty),
                )
            )

    # -- 办事指南 ------------------------------------------------------------------------

    async def guides(self, params: GuideParams) -> None:
        ctx = self.ctx
        urls = [ctx.absolute(item) for item in params.items]
        if params.sample is not None:
            urls += await self._sample(params.sample, params.item_pattern, exclude=set(urls))
        if not urls:
            self.unjudged.append(
                f"抽样页面上未找到符合 item_pattern（{params.item_pattern}）的办事指南链接，"
                "无法检查办事指南；请配置巡检项 params.guides.item_pattern、"
                "guides.sample.link_pattern 或 guides.items"
            )
            return
        verdicts: list[GuideVerdict] = []
        unavailable: dict[str, int] = {}  # url → HTTP status
        downloads = 0
        for url in dict.fromkeys(urls):
            response = await ctx.goto(self.page, url)
            if response is not None and response.status >= 400:
                unavailable[url] = response.status
                continue
            guide = await read_guide(
                self.page,
                title_selector=ctx.selector("guide_title"),
                element_selectors=params.element_selectors,
            )
            dead: list[tuple[str, str]] = []
            if params.check_downloads and ctx.browser is not None:
                for link in guide.downloads:
                    downloads += 1
                    problem = await download_problem(ctx.browser, link.href)
                    if problem is not None:
                        dead.append((link.text or link.href, problem))
            verdict = judge_guide(
                guide,
                elements=params.required_elements,
                vague_patterns=params.vague_patterns,
                require_forms=params.require_forms,
                dead_forms=dead,
                reading=params.reading,
            )
            if verdict.problems:
                await self.capture("guide")
            verdicts.append(verdict)
        self.metrics.update(guides_checked=len(verdicts), downloads_checked=downloads)
        # A page on which fewer than half of the element labels were read is not judged as
        # a guide: it may be another kind of page, or a layout the reader does not know, on
        # which an element it cannot locate says nothing of the guide (rule of doubt).
        unread = [v for v in verdicts if v.located * 2 < len(params.required_elements)]
        if unread:
            self.unjudged.append(
                "未能在办事指南页面识别半数以上要素标签，无法判断以下要素是否公开："
                + "；".join(f"{v.url}（{'、'.join(v.absent)}）" for v in unread)
                + "；请为该网站配置巡检项 params.guides.element_labels（要素的标签）"
                "或 params.guides.element_selectors（要素的 CSS 选择器）"
            )
            verdicts = [v for v in verdicts if v not in unread]
        self.metrics.update(_coverage(verdicts, params.required_elements))
        self.findings += guide_findings(verdicts)
        if unavailable:
            self.findings.append(
                Finding(
                    code="checklist.guide_unavailable",
                    title="办事指南无法打开",
                    detail="；".join(f"打开 {url} 返回 HTTP {s}" for url, s in unavailable.items()),
                    subjects=tuple(unavailable),
                )
            )

    async def _sample(
        self, sample: CatalogSample, item_pattern: str, exclude: set[str]
    ) -> list[str]:
        pattern = re.compile(sample.link_pattern or item_pattern)
        hrefs: list[str] = []
        for listing in sample.pages:
            response = await self.ctx.goto(self.page, self.ctx.absolute(listing))
            if response is not None and response.status >= 400:
                continue  # an empty or broken column is the columns part's business
            for _, href in await locate.main_links(self.page, self.ctx.selector("catalog")):
                if pattern.search(href) and href not in exclude:
                    hrefs.append(page_address(href))
        unique = list(dict.fromkeys(hrefs))
        chooser = random.Random(f"{self.ctx.check_id}:{self.ctx.clock.now():%Y%m%d%H}")
        return chooser.sample(unique, min(sample.count, len(unique)))


def _coverage(verdicts: list[GuideVerdict], elements: list[str]) -> dict[str, object]:
    """Per guide, the share of required elements it publishes; per element, the share of
    guides publishing it (the rates the national report publishes per province)."""
    if not verdicts:
        return {}
    per_guide = {v.name: round(len(v.published) / len(elements), 4) for v in verdicts}
    per_element = {
        name: round(sum(name in v.published for v in verdicts) / len(verdicts), 4)
        for name in elements
    }
    return {
        "element_coverage": per_guide,
        "element_rates": per_element,
        "element_coverage_mean": round(sum(per_guide.values()) / len(per_guide), 4),
    }
