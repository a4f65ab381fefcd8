"""站内搜索: can a citizen find, with the site's own search, items the site already has?

Journey: open the home page, find the search box, search for each item (configured
names, or a sample drawn from the portal's own catalog pages) and look for it among the
first N results, following 下一页 when they span several pages (a pager that shows the same
results again is ``search.pagination_broken``; a next page it cannot read, inconclusive).
Findings follow seed 001 附件1: "搜索网站上已有的“…”服务事项，搜索不到".
"""

from __future__ import annotations

import random
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import quote, quote_plus, urlsplit

from playwright.async_api import Locator, Page
from pydantic import Field, model_validator

from config.catalog import Severity
from core.results import Finding, Outcome, ProbeResult
from probes import locate
from probes.base import CheckParams, Probe, ProbeContext, ProbeParams, http_error_finding
from probes.errors import Inconclusive
from probes.landing import REACT_MS, Landing, act_and_land
from probes.readers import says_no_results


class CatalogSample(ProbeParams):
    """Draw items to search for from the portal's own listing pages."""

    pages: list[str] = Field(min_length=1)
    count: int = Field(default=3, ge=1, le=50)
    link_pattern: str | None = None  # regex on the link's URL, e.g. "/item/"

    @model_validator(mode="after")
    def _valid_pattern(self) -> CatalogSample:
        if self.link_pattern is not None:
            try:
                re.compile(self.link_pattern)
            except re.error as exc:
                raise ValueError(f"link_pattern is not a valid regular expression: {exc}") from None
        return self


class SearchParams(CheckParams):
    FINDING_CODES = (
        "search.unavailable",
        "search.error_page",
        "search.item_not_found",
        "search.slow",
        "search.pagination_broken",
    )

    items: list[str] = Field(default_factory=list)
    sample: CatalogSample | None = None
    top_n: int = Field(default=10, ge=1, le=100)
    slow_after_s: float = Field(default=8.0, gt=0)
    error_markers: list[str] = Field(default_factory=lambda: list(locate.ERROR_MARKERS))
    # Regex on the URL (or POST body) of the portal's search API; default: a request that
    # carries the searched words or whose path says search. Other API calls are not judged.
    api_pattern: str | None = None

    @model_validator(mode="after")
    def _valid_api_pattern(self) -> SearchParams:
        if self.api_pattern is not None:
            try:
                re.compile(self.api_pattern)
            except re.error as exc:
                raise ValueError(f"api_pattern is not a valid regular expression: {exc}") from None
        return self

    @model_validator(mode="after")
    def _something_to_search(self) -> SearchParams:
        if not self.items and self.sample is None:
            raise ValueError("give `items` to search for, or a `sample` of catalog pages")
        return self


@dataclass(frozen=True)
class _Outcome:
    item: str
    found: bool = False
    error: str | None = None  # "HTTP 500" or the marker of an error page
    server_error: bool = False
    seconds: float = 0.0
    results: tuple[str, ...] = ()
    unread: str = ""  # what this probe could not read: no verdict on the item
    pager_stuck: int = 0  # the page number whose 下一页 showed the same results again


class SearchProbe(Probe):
    kind = "search"
    Params = SearchParams

    async def run(self, ctx: ProbeContext) -> ProbeResult:
        params = ctx.params(SearchParams)
        page = await ctx.new_page()
        home = ctx.url("home", "/")
        response = await ctx.goto(page, home)
        if response is not None and response.status >= 400:
            finding = http_error_finding("首页", home, response.status)
            return ProbeResult(Outcome.FAIL, (finding,), summary=finding.title)
        box = await locate.search_box(page, ctx.selector("search_input"))
        if box is None:
            await ctx.evidence.capture(page, "home-no-search-box")
            if not ctx.selector("search_input") and await _text_inputs(page):
                # Boxes to type into, none recognisable as the search: a layout unknown.
                raise Inconclusive(
                    f"未能在首页（{home}）识别站内搜索框；请配置巡检对象 selectors.search_input"
                )
            finding = Finding(
                code="search.unavailable",
                title="站内搜索不可用",
                detail=f"首页（{home}）未找到站内搜索框",
                severity=Severity.MAJOR,
            )
            return ProbeResult(Outcome.FAIL, (finding,), summary=finding.title)

        items = list(params.items)
        if params.sample is not None:
            items += await self._sample(ctx, page, params.sample, exclude=set(items))
            box = None  # other pages were opened since: find the box again
        if not items:
            raise Inconclusive("抽样页面上未找到可搜索的事项链接，无法检验站内搜索")
        outcomes = []
        for item in items:
            outcomes.append(await self._search(ctx, page, item, params, box))
            box = None  # a results page now: find the box again
        return self._judge(outcomes, params)

    async def _search(
        self,
        ctx: ProbeContext,
        page: Page,
        item: str,
        params: SearchParams,
        box: Locator | None = None,
    ) -> _Outcome:
        """Search for ``item`` from the current page (``box``: its search box, if known)."""
        if box is None:
            # The results page has landed and settled: a box it lacks now will not appear,
            # so look without waiting; the home page (next) gets the full wait.
            box = await locate.search_box(page, ctx.selector("search_input"), wait_ms=0)
        if box is None:  # e.g. a results page without the box: search from the home page
            await ctx.goto(page, ctx.url("home", "/"))
            box = await locate.search_box(page, ctx.selector("search_input"))
        if box is None:
            return _Outcome(
                item,
                unread="搜索后未能在结果页和首页上再次识别搜索框"
                "（请配置巡检对象 selectors.search_input）",
            )
        started = time.monotonic()
        await box.fill(item)
        landing = await _submit(page, box, ctx.selector("search_submit"), ctx.nav_timeout_ms)
        seconds = time.monotonic() - started
        status = landing.status
        if status is not None and status >= 400:
            await ctx.evidence.capture(page, f"search-http-{status}")
            return _Outcome(
                item, error=f"HTTP {status}", server_error=status >= 500, seconds=seconds
            )
        # A script-rendered portal: its search API's own answer says what went wrong.
        answer = landing.worst(_search_api(item, params.api_pattern))
        if answer is not None and (answer.status is None or answer.status >= 400):
            await ctx.evidence.capture(page, f"search-api-{answer.status or 'failed'}")
            said = f"HTTP {answer.status}" if answer.status else f"无应答（{answer.failure}）"
            return _Outcome(
                item,
                error=f"{said}（检索接口 {_path(answer.url)}）",
                server_error=answer.status is None or answer.status >= 500,
                seconds=seconds,
            )
        marker = await locate.looks_like_error_page(page, params.error_markers)
        if marker is not None:
            await ctx.evidence.capture(page, "search-error-page")
            return _Outcome(item, error=f"错误页面（{marker}）", seconds=seconds)
        results = await _results(ctx, page, params.top_n)
        if not results and not says_no_results(await page.locator("body").inner_text()):
            return _Outcome(item, seconds=seconds, unread=_unread_results(item))
        return await self._turn_pages(ctx, page, item, params, results, seconds)

    async def _turn_pages(
        self,
        ctx: ProbeContext,
        page: Page,
        item: str,
        params: SearchParams,
        results: list[str],
        seconds: float,
    ) -> _Outcome:
        """Look for ``item`` among the first ``top_n`` results, following 下一页 (by the
        page's answer, never a fixed wait) while they span more than the page shown."""
        shown = list(results)
        number = 1
        while not any(locate.name_matches(item, text) for text in results):
            if len(results) >= params.top_n:
                break
            button = await _next_page(page, ctx.selector("next_page"))
            if button is None:
                break
            number += 1
            landing = await act_and_land(
                page, button.click, ctx.nav_timeout_ms, react_ms=min(ctx.nav_timeout_ms, REACT_MS)
            )
            answer = landing.worst(_search_api(item, params.api_pattern))
            status = answer.status if answer is not None else landing.status
            if status is not None and status >= 400:
                await ctx.evidence.capture(page, f"search-page{number}-http-{status}")
                return _Outcome(
                    item, error=f"翻到第 {number} 页时返回 HTTP {status}", seconds=seconds
                )
            more = await _results(ctx, page, params.top_n)
            if not more:
                if says_no_results(await page.locator("body").inner_text()):
                    break
                return _Outcome(
                    item, seconds=seconds, unread=_unread_results(item, f"翻到第 {number} 页")
                )
            if more == shown:
                await ctx.evidence.capture(page, "search-pager-stuck")
                return _Outcome(item, seconds=seconds, results=tuple(results), pager_stuck=number)
            shown = more
            results = (results + more)[: params.top_n]
        found = any(locate.name_matches(item, text) for text in results)
        if not found:
            await ctx.evidence.capture(page, "search-not-found")
        return _Outcome(item, found=found, seconds=seconds, results=tuple(results))

    async def _sample(
        self, ctx: ProbeContext, page: Page, sample: CatalogSample, exclude: set[str]
    ) -> list[str]:
        names: list[str] = []
        pattern = re.compile(sample.link_pattern) if sample.link_pattern else None
        for listing in sample.pages:
            url = ctx.absolute(listing)
            response = await ctx.goto(page, url)
            if response is not None and response.status >= 400:
                continue  # a broken listing page is the checklist probe's business
            for text, href in await locate.main_links(page, ctx.selector("catalog")):
                if (pattern is None or pattern.search(href)) and text not in exclude:
                    names.append(text)
        unique = list(dict.fromkeys(names))
        chooser = random.Random(f"{ctx.check_id}:{ctx.clock.now():%Y%m%d%H}")
        return chooser.sample(unique, min(sample.count, len(unique)))

    def _judge(self, outcomes: list[_Outcome], params: SearchParams) -> ProbeResult:
        unread = list(dict.fromkeys(o.unread for o in outcomes if o.unread))
        outcomes = [o for o in outcomes if not o.unread]
        findings: list[Finding] = []
        errored = [o for o in outcomes if o.error]
        if errored and len(errored) == len(outcomes) and all(o.server_error for o in errored):
            findings.append(
                Finding(
                    code="search.unavailable",
                    title="站内搜索不可用",
                    detail=f"站内搜索服务出错：搜索{_quoted(o.item for o in errored)}"
                    f"均返回 {errored[0].error}",
                    severity=Severity.MAJOR,
                    subjects=tuple(o.item for o in errored),
                )
            )
        elif errored:
            findings.append(
                Finding(
                    code="search.error_page",
                    title="站内搜索跳转至错误页面",
                    detail=f"部分关键词（如{_quoted(o.item for o in errored)}）搜索后跳转至错误页面"
                    f"（{'；'.join(sorted({o.error or '' for o in errored}))}）",
                    severity=Severity.MAJOR,
                    subjects=tuple(o.item for o in errored),
                )
            )
        stuck = [o for o in outcomes if o.pager_stuck and not o.found]
        if stuck:
            findings.append(
                Finding(
                    code="search.pagination_broken",
                    title="站内搜索结果无法翻页",
                    detail=f"搜索{_quoted(o.item for o in stuck)}后点击“下一页”，"
                    "页面仍显示上一页的同一批结果，其后的搜索结果无法查看",
                    severity=Severity.MAJOR,
                    subjects=tuple(o.item for o in stuck),
                    data={o.item: list(o.results[:5]) for o in stuck},
                )
            )
        missing = [o for o in outcomes if not o.error and not o.found and not o.pager_stuck]
        if missing:
            findings.append(
                Finding(
                    code="search.item_not_found",
                    title="站内搜索不可用",
                    detail=f"搜索网站上已有的{_quoted(o.item for o in missing)}服务事项，"
                    f"在前 {params.top_n} 条结果中搜索不到",
                    severity=Severity.MAJOR,
                    subjects=tuple(o.item for o in missing),
                    data={o.item: list(o.results[:5]) for o in missing},
                )
            )
        slow = [o for o in outcomes if not o.error and o.seconds > params.slow_after_s]
        if slow:
            findings.append(
                Finding(
                    code="search.slow",
                    title="站内搜索响应缓慢",
                    detail="；".join(f"搜索“{o.item}”耗时 {o.seconds:.1f} 秒" for o in slow)
                    + f"，超过 {params.slow_after_s:g} 秒",
                    severity=Severity.MINOR,
                    subjects=tuple(o.item for o in slow),
                )
            )
        metrics = {
            "searched": len(outcomes),
            "found": sum(o.found for o in outcomes),
            "search_seconds": {o.item: round(o.seconds, 3) for o in outcomes},
        }
        if unread:
            metrics["unjudged"] = unread
        if findings:
            return ProbeResult(
                Outcome.FAIL,
                tuple(findings),
                summary=findings[0].title,
                error=f"部分事项无法判定：{'；'.join(unread)}" if unread else "",
                metrics=metrics,
            )
        if unread:
            raise Inconclusive("；".join(unread))
        return ProbeResult(
            Outcome.PASS, summary=f"搜索 {len(outcomes)} 个事项均可找到", metrics=metrics
        )


async def _submit(page: Page, box: Locator, configured_button: str | None, wait_ms: int) -> Landing:
    """Submit the search as a citizen would and wait for the results: a new page, or the
    ``#/`` route and the search API answer of a script-rendered portal."""

    async def press() -> None:
        if configured_button:
            await page.locator(configured_button).first.click()
        else:
            await box.press("Enter")

    react_ms = min(wait_ms, REACT_MS)
    landing = await act_and_land(page, press, wait_ms, react_ms=react_ms)
    if landing.moved:
        return landing
    # Enter did nothing (a script-driven form): click the search button instead.
    button = await locate.submit_button(page, configured_button)
    if button is None:
        return landing
    return await act_and_land(page, button.click, wait_ms, react_ms=react_ms)


async def _results(ctx: ProbeContext, page: Page, limit: int) -> list[str]:
    """The result names the page shows: by the configured selector, else its main links."""
    selector = ctx.selector("result_item")
    if selector:
        return await locate.texts_of(page, selector, limit)
    links = await locate.main_links(page, ctx.selector("results"))
    return [text for text, _ in links][:limit]


def _unread_results(item: str, where: str = "") -> str:
    return (
        f"搜索“{item}”后{where}未能读出搜索结果，页面也未提示无结果"
        "（请配置巡检对象 selectors.result_item 或 selectors.results）"
    )


NEXT_PAGE = re.compile(r"^\s*(下一页|下页|后一页|下一頁|next|[>›»＞]|>>)\s*$", re.I)


async def _next_page(page: Page, configured: str | None) -> Locator | None:
    """The results' 下一页 control when it is shown and can be pressed, else None."""
    if configured:
        candidates = [page.locator(configured)]
    else:
        candidates = [
            page.get_by_role("button", name=NEXT_PAGE),
            page.get_by_role("link", name=NEXT_PAGE),
        ]
    found = await locate.first_visible(candidates)
    if found is None:
        return None
    disabled = await found.evaluate(
        "(el) => el.disabled || el.getAttribute('aria-disabled') === 'true'"
        " || /\\bdisabled\\b/.test(el.className || '')"
    )
    return None if disabled else found


_SEARCH_PATH = re.compile(r"search|query|keyword|sousuo|jiansuo|retriev|/ss\b|/so\b", re.I)


def _search_api(item: str, configured: str | None) -> re.Pattern[str]:
    """Which API requests are the search itself: configured, or carrying the item's name
    (plain or URL-encoded) or a search-like path."""
    if configured:
        return re.compile(configured)
    words = {re.escape(item), re.escape(quote(item)), re.escape(quote_plus(item))}
    return re.compile("|".join(sorted(words)) + "|" + _SEARCH_PATH.pattern, re.I)


def _path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


async def _text_inputs(page: Page) -> int:
    """Visible boxes a citizen could type into (text, search or untyped inputs)."""
    boxes = page.locator("input:not([type]), input[type=text], input[type=search], textarea")
    return await boxes.filter(visible=True).count()


def _quoted(names: Iterable[str]) -> str:
    return "、".join(f"“{name}”" for name in names)
