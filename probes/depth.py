"""网上办理深度 and 易用度: how far a citizen gets online, and how many clicks it takes.

Two parts, each optional in the check's ``params``:

- ``online`` (seed 000 B1-1 ③, seed 004 #17): from each sampled guide, follow its
  在线办理/网上申报 button and classify the item I–IV; a dead button or one leading to an
  unrelated page is ``depth.entry_dead``, a guide claiming 全程网办/零跑动 whose journey
  ends offline or whose 到现场次数 is above 0 is ``depth.claim_mismatch``. The share of
  each level is a run metric (``level_shares``).
- ``clicks`` (seed 002 点击次数, seed 000 C3-1 多次点击进入): the fewest clicks from the
  home page to each guide and to its application page, by a bounded breadth-first walk of
  the site's links; above the threshold is ``usability.deep_entry``. A walk that ends
  before it saw the guide's link is inconclusive, never a finding.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections import Counter
from dataclasses import dataclass
from typing import Any

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Locator, Page, Response

from core.results import Finding, Outcome, ProbeResult
from probes import locate
from probes.base import Probe, ProbeContext, fail_or_doubt
from probes.click_walk import normalised, walk
from probes.depth_params import ClickParams, DepthParams, OnlineParams
from probes.errors import SiteUnreachable
from probes.guide_page import read_guide
from probes.guide_sample import guide_urls
from probes.landing import REACT_MS, act_and_land, settle
from probes.online_entry import (
    CLAIM_WORDS,
    READ_CLAIMS_JS,
    READ_DESTINATION_JS,
    Destination,
    DestinationReading,
    Level,
    PageSigns,
    classify_destination,
    has_precheck,
    is_home,
    level_of,
    visits_of,
)
from probes.portal_links import all_links

MAX_SCREENSHOTS = 4


@dataclass
class _Item:
    """One sampled guide and what was learnt of it."""

    url: str
    name: str = ""
    level: Level | None = None
    apply_url: str = ""  # the application page reached from the guide, if any


class DepthProbe(Probe):
    kind = "depth"
    Params = DepthParams

    async def run(self, ctx: ProbeContext) -> ProbeResult:
        params = ctx.params(DepthParams)
        inspection = _Inspection(ctx, await ctx.new_page())
        items = await inspection.guides(params)
        if params.online is not None:
            for item in items:
                await inspection.online(item, params.online)
            inspection.level_metrics(items)
        if params.clicks is not None:
            await inspection.clicks(items, params.clicks, with_apply=params.online is not None)
        return inspection.result()


class _Inspection:
    def __init__(self, ctx: ProbeContext, page: Page) -> None:
        self.ctx = ctx
        self.page = page
        self.dead: list[str] = []
        self.mismatched: list[str] = []
        self.deep: list[str] = []
        self.subjects: dict[str, list[str]] = {"dead": [], "mismatch": [], "deep": []}
        self.unjudged: list[str] = []
        self.metrics: dict[str, object] = {}

    async def capture(self, label: str, page: Page | None = None) -> None:
        if len(self.ctx.evidence.screenshots) < MAX_SCREENSHOTS:
            await self.ctx.evidence.capture(page or self.page, label)

    # -- which guides ----------------------------------------------------------------------

    async def guides(self, params: DepthParams) -> list[_Item]:
        urls = await guide_urls(
            self.ctx, self.page, params.items, params.sample, params.item_pattern
        )
        return [_Item(url) for url in urls]

    # -- 网上办理深度 ----------------------------------------------------------------------

    async def online(self, item: _Item, params: OnlineParams) -> None:
        response = await self.ctx.goto(self.page, item.url)
        if response is not None and response.status >= 400:
            self.unjudged.append(
                f"办事指南 {item.url} 打开返回 HTTP {response.status}，未判定其网上办理深度"
            )
            return
        guide = await read_guide(self.page, title_selector=self.ctx.selector("guide_title"))
        item.name = guide.title or item.url
        visits = visits_of(guide)
        claims: list[str] = await self.page.evaluate(READ_CLAIMS_JS, CLAIM_WORDS.pattern)
        claim = claims[0] if claims else ("到办事现场次数 0 次" if visits == 0 else "")
        label = f"“{item.name}”办事指南"
        if claim and visits is not None and visits > 0:
            self.mismatch(item, f"{label}标注“{claim}”，但到办事现场次数为“{visits}次”")
        button = await self._entry(params)
        reading: DestinationReading | None = None
        words = ""
        if button is None:
            if claim:
                # A guide claiming 全程网办 has an entry; more likely its words are unknown.
                self.unjudged.append(
                    f"{label}标注“{claim}”，但未找到在线办理入口（按钮文字不符合 "
                    "entry_words）；请配置巡检项 params.online.entry_selector 或 entry_words"
                )
        else:
            words = " ".join((await button.inner_text()).split()) or "在线办理"
            reading = await self._follow(button, item, params)
            if reading.kind is Destination.UNKNOWN:
                self.unjudged.append(
                    f"{label}的“{words}”按钮{reading.why}，无法判定网上办理深度；"
                    "请配置巡检项 params.online.login_pattern 或 min_form_fields"
                )
                return
            if reading.kind in (Destination.DEAD, Destination.UNRELATED):
                self.entry_dead(item, f"{label}的“{words}”按钮{reading.why}")
            elif reading.kind is Destination.OFFLINE:
                if claim:
                    self.mismatch(item, f"{label}标注“{claim}”，但点击“{words}”后{reading.why}")
                else:
                    self.entry_dead(item, f"{label}的“{words}”按钮点击后{reading.why}")
        if visits is None and claims:
            visits = 0  # 全程网办 printed without a count says no visit
        item.level = level_of(
            reading.kind if reading is not None else None,
            visits=visits,
            downloads=bool(guide.downloads),
            precheck=has_precheck(guide),
        )

    async def _entry(self, params: OnlineParams) -> Locator | None:
        if params.entry_selector:
            return await locate.first_visible([self.page.locator(params.entry_selector)])
        words = re.compile(params.entry_words)
        return await locate.first_visible(
            [
                self.page.get_by_role("link", name=words),
                self.page.get_by_role("button", name=words),
            ]
        )

    async def _follow(
        self, button: Locator, item: _Item, params: OnlineParams
    ) -> DestinationReading:
        """Where the entry leads: a link's address is opened as a click would open it (its
        HTTP status known); a button without one is clicked and its effect awaited."""
        href = await button.evaluate("(el) => el.href || ''")
        linked = isinstance(href, str) and href.startswith(("http://", "https://"))
        shown = self.page  # where the destination is read: a new tab when one opened
        if linked:
            try:
                response: Response | None = await self.ctx.goto(self.page, href)
            except SiteUnreachable as exc:
                # The guide just answered, so our network is fine: the entry is dead.
                return DestinationReading(Destination.DEAD, f"无法打开（{exc.reason}，{href}）")
            status = response.status if response is not None else None
            moved = True
        else:
            shown, status, moved = await self._click(button)
        try:
            signs = await self._signs(shown, status, moved)
        finally:
            if shown is not self.page:
                with contextlib.suppress(PlaywrightError):
                    await shown.close()
        reading = classify_destination(
            signs,
            guide_url=item.url,
            offline_pattern=params.offline_pattern,
            login_pattern=params.login_pattern,
            min_form_fields=params.min_form_fields,
        )
        if reading.kind in (Destination.FORM, Destination.LOGIN):
            # The address the button names: a login in front of it redirects elsewhere.
            item.apply_url = str(href) if linked else signs.url
        elif reading.kind is not Destination.UNKNOWN and shown is self.page:
            await self.capture("online-entry")
        return reading

    async def _click(self, button: Locator) -> tuple[Page, int | None, bool]:
        """Click a button without an address: (page it shows in, HTTP status, moved). A new
        tab it opens (``window.open``) is where it leads, read as soon as it opens."""
        tab: asyncio.Future[Page] = asyncio.get_running_loop().create_future()

        def opened(page: Page) -> None:
            if not tab.done():
                tab.set_result(page)

        self.page.context.on("page", opened)
        try:
            landing = asyncio.ensure_future(
                act_and_land(self.page, button.click, self.ctx.nav_timeout_ms, react_ms=REACT_MS)
            )
            either: set[asyncio.Future[object]] = {landing, tab}  # type: ignore[arg-type]
            await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
        finally:
            self.page.context.remove_listener("page", opened)
        if landing.done() and landing.result().moved:
            return self.page, landing.result().status, True
        if not tab.done():
            return self.page, None, False
        landing.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await landing
        shown = tab.result()
        with contextlib.suppress(PlaywrightError):
            await shown.wait_for_load_state("load", timeout=self.ctx.nav_timeout_ms)
        await settle(shown, self.ctx.nav_timeout_ms)
        return shown, None, True

    async def _signs(self, page: Page, status: int | None, moved: bool) -> PageSigns:
        raw: dict[str, Any] = {"title": "", "text": "", "passwords": 0, "fields": 0}
        with contextlib.suppress(PlaywrightError):
            raw = await page.evaluate(READ_DESTINATION_JS)
        marker = await locate.looks_like_error_page(page, locate.ERROR_MARKERS)
        return PageSigns(
            url=page.url,
            status=status,
            title=str(raw["title"]),
            text=str(raw["text"]),
            passwords=int(raw["passwords"]),
            fields=int(raw["fields"]),
            moved=moved,
            error_marker=marker,
        )

    def level_metrics(self, items: list[_Item]) -> None:
        judged = [item for item in items if item.level is not None]
        counts = Counter(item.level for item in judged)
        self.metrics["levels"] = {level.value: counts.get(level, 0) for level in Level}
        self.metrics["level_shares"] = {
            level.value: round(counts.get(level, 0) / len(judged), 3) if judged else 0.0
            for level in Level
        }
        self.metrics["items"] = [
            {"url": i.url, "name": i.name, "level": i.level.value if i.level else None}
            for i in items
        ]

    # -- 易用度 ------------------------------------------------------------------------------

    async def clicks(self, items: list[_Item], params: ClickParams, *, with_apply: bool) -> None:
        ctx = self.ctx
        start = ctx.absolute(params.start)
        applications = [item.apply_url for item in items if item.apply_url]
        pages = [self.page] + [await ctx.new_page() for _ in range(params.concurrency - 1)]

        async def read(page: Page, url: str) -> list[tuple[str, str]]:
            try:
                response = await ctx.goto(page, url)
            except SiteUnreachable:
                return []  # a page that does not load leads nowhere; outages are others'
            if response is not None and response.status >= 400:
                return []  # dead links are other checks' business
            return await all_links(page, None)

        try:
            found = await walk(
                pages,
                read,
                start,
                [item.url for item in items],
                also=applications,
                max_depth=params.max_depth,
                max_pages=params.max_pages,
                exclude=params.exclude_pattern,
            )
        finally:
            for page in pages[1:]:
                with contextlib.suppress(PlaywrightError):
                    await page.close()
        self.metrics.update(pages_walked=found.pages_visited, walk_depth=found.depth_done)
        origin, head = ("网站首页", "首页") if is_home(start) else (f"页面 {start} ", start)
        clicks: dict[str, int | None] = {}
        for item in items:
            name = item.name or item.url
            guide_clicks = found.clicks.get(normalised(item.url))
            clicks[item.url] = guide_clicks
            if guide_clicks is None:
                bound = "页面数上限" if found.bounded else f"{found.depth_done} 层点击"
                self.unjudged.append(
                    f"从{origin}按链接遍历 {found.pages_visited} 个页面（达到{bound}）未找到"
                    f"“{name}”办事指南的链接，无法判定其点击深度；可调大巡检项 "
                    "params.clicks.max_pages 或 max_depth"
                )
                continue
            path = " → ".join([head, *found.paths[normalised(item.url)]])
            if guide_clicks > params.max_clicks:
                self.deep_entry(
                    item,
                    f"从{origin}需点击 {guide_clicks} 次才能进入“{name}”办事指南"
                    f"（{path}），超过 {params.max_clicks} 次",
                )
            if not (with_apply and item.apply_url):
                continue
            # The application page: through its guide's button, or straight by a link.
            apply_clicks = min(
                guide_clicks + 1, found.clicks.get(normalised(item.apply_url), guide_clicks + 1)
            )
            clicks[item.apply_url] = apply_clicks
            if apply_clicks > params.max_clicks_apply:
                self.deep_entry(
                    item,
                    f"从{origin}需点击 {apply_clicks} 次才能进入“{name}”网上申报页面，"
                    f"超过 {params.max_clicks_apply} 次",
                )
        self.metrics["clicks"] = clicks

    # -- findings ----------------------------------------------------------------------------

    def entry_dead(self, item: _Item, detail: str) -> None:
        self.dead.append(detail)
        self.subjects["dead"].append(item.url)

    def mismatch(self, item: _Item, detail: str) -> None:
        self.mismatched.append(detail)
        self.subjects["mismatch"].append(item.url)

    def deep_entry(self, item: _Item, detail: str) -> None:
        self.deep.append(detail)
        self.subjects["deep"].append(item.url)

    def result(self) -> ProbeResult:
        findings: list[Finding] = []
        kinds = (
            ("dead", self.dead, "depth.entry_dead", "在线办理入口无效"),
            ("mismatch", self.mismatched, "depth.claim_mismatch", "网上办理深度与办事指南标注不符"),
            ("deep", self.deep, "usability.deep_entry", "事项入口难以查找、需多次点击进入"),
        )
        for key, details, code, title in kinds:
            if details:
                findings.append(
                    Finding(
                        code=code,
                        title=title,
                        detail="；".join(details),
                        subjects=tuple(dict.fromkeys(self.subjects[key])),
                    )
                )
        failed = fail_or_doubt(findings, self.unjudged, self.metrics)
        if failed is not None:
            return failed
        return ProbeResult(
            Outcome.PASS, summary="网上办理入口及点击深度均符合要求", metrics=self.metrics
        )
