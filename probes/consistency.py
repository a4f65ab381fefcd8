"""同源一致性: one service item read on two or more sites, its guide facts compared.

Seed 000 A4-1 (“核验国家政务服务平台和省级政务服务平台法定时限和承诺时限的一致性和准确性”),
A4-2 (跑动次数), C3-2 服务一致性 and seed 003 (“办事要求不统一、事项数量不一致、信息更新不同步”).
Each configured item (by 事项编码 or name, or sampled from one source's listing pages) is
opened on every source, its guide read by the checklist's reader (``read_guide``), and
法定时限, 承诺时限, 到现场次数, 收费 and 申请材料 of every source compared with the first
source's, after normalising the wording (``probes.consistency_rules``).

Rule of doubt: a page that cannot be found, is not the item, or does not print a field is
unjudged, never a mismatch; the run is inconclusive when nothing at all could be compared.
"""

from __future__ import annotations

import html
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urljoin

from playwright.async_api import Page

from core.results import Finding, Outcome, ProbeResult
from probes import locate
from probes.base import Probe, ProbeContext
from probes.consistency_params import (
    CODE_TOKEN,
    ConsistencyParams,
    SampleParams,
    SourceParams,
    item_address,
)
from probes.consistency_rules import (
    SELECTOR_PREFIX,
    Field,
    Reading,
    Verdict,
    compare,
    material_differences,
    material_key,
    read_field,
)
from probes.errors import Inconclusive, SiteUnreachable
from probes.guide_page import GuidePage, read_guide
from probes.guide_rules import values_of
from probes.portal_links import page_address

MAX_SCREENSHOTS = 6
FINDING_KINDS: dict[str, tuple[str, tuple[Field, ...]]] = {  # code → (title, fields)
    "consistency.time_limit_mismatch": (
        "办理时限不一致",
        (Field.LEGAL_LIMIT, Field.PROMISED_LIMIT),
    ),
    "consistency.visits_mismatch": ("到现场次数不一致", (Field.VISITS,)),
    "consistency.fee_mismatch": ("收费标准不一致", (Field.FEE,)),
    "consistency.materials_mismatch": ("申请材料不一致", (Field.MATERIALS,)),
}


@dataclass
class _Wanted:
    """An item to compare: what is known of it, and where (config path) it came from."""

    code: str | None  # as configured: every page must print it, if it prints a code
    name: str | None
    urls: dict[str, str]
    origin: str  # items[0] or sample
    # Read on a first site: addresses the item on the others, which may number it otherwise.
    found_code: str | None = None

    @property
    def label(self) -> str:
        return f"“{self.name}”" if self.name else f"事项编码 {self.code}"


@dataclass(frozen=True)
class _Side:
    """One source's guide of one item."""

    index: int
    source: str
    url: str
    readings: dict[Field, Reading]


@dataclass(frozen=True)
class _Difference:
    item: str  # its name
    field: Field
    first: _Side
    second: _Side

    def clause(self) -> str:
        a, b = self.first.readings[self.field], self.second.readings[self.field]
        if self.field is not Field.MATERIALS:
            return f"{self.field.value}分别为“{a.text}”和“{b.text}”"
        only_a, only_b = material_differences(a.names, b.names)
        pairs = ((only_a, self.first, self.second), (only_b, self.second, self.first))
        parts = [
            f"{mine.source}列有{_quoted(names)}而{theirs.source}未列"
            for names, mine, theirs in pairs
            if names
        ]
        return "申请材料不同，" + "，".join(parts)

    def values(self) -> tuple[str, str]:
        a, b = self.first.readings[self.field], self.second.readings[self.field]
        if self.field is Field.MATERIALS:
            return "、".join(a.names), "、".join(b.names)
        return a.text, b.text


def _quoted(names: Sequence[str]) -> str:
    return "、".join(f"“{name}”" for name in names)


class ConsistencyProbe(Probe):
    kind = "consistency"
    Params = ConsistencyParams

    async def run(self, ctx: ProbeContext) -> ProbeResult:
        params = ctx.params(ConsistencyParams)
        inspection = _Inspection(ctx, params)
        wanted = [
            _Wanted(item.code, item.name, dict(item.urls), f"items[{index}]")
            for index, item in enumerate(params.items)
        ]
        if params.sample is not None:
            wanted += await inspection.sample(params.sample)
        for item in wanted:
            await inspection.compare_item(item)
        await inspection.keep_table()
        return inspection.result()


class _Inspection:
    def __init__(self, ctx: ProbeContext, params: ConsistencyParams) -> None:
        self.ctx = ctx
        self.params = params
        self.pages: dict[int, Page] = {}  # one tab per source, so both stay for evidence
        self.down: dict[int, str] = {}  # sources that did not answer: not waited for again
        self.differences: list[_Difference] = []
        self.unjudged: list[str] = []
        self.compared = 0  # field comparisons made
        self.items_compared = 0

    def base(self, source: SourceParams) -> str:
        return (source.base_url or self.ctx.target.base_url).rstrip("/") + "/"

    async def page(self, index: int) -> Page:
        if index not in self.pages:
            self.pages[index] = await self.ctx.new_page()
        return self.pages[index]

    # -- which items -----------------------------------------------------------------------

    async def sample(self, sample: SampleParams) -> list[_Wanted]:
        index = next(i for i, s in enumerate(self.params.sources) if s.name == sample.source)
        source = self.params.sources[index]
        page = await self.page(index)
        pattern = re.compile(sample.link_pattern)
        hrefs: list[str] = []
        for listing in sample.pages:
            response = await self.ctx.goto(page, urljoin(self.base(source), listing))
            if response is not None and response.status >= 400:
                continue  # a broken listing is the checklist's business
            for _, href in await locate.main_links(page, self.ctx.selector("catalog")):
                if pattern.search(href):
                    hrefs.append(page_address(href))
        unique = list(dict.fromkeys(hrefs))
        if not unique:
            self.unjudged.append(
                f"{source.name}的抽样页面上未找到符合 link_pattern（{sample.link_pattern}）的"
                "办事指南链接；请配置巡检项 params.sample.link_pattern 或 sample.pages"
            )
            return []
        chooser = random.Random(f"{self.ctx.check_id}:{self.ctx.clock.now():%Y%m%d%H}")
        chosen = chooser.sample(unique, min(sample.count, len(unique)))
        return [_Wanted(None, None, {source.name: url}, "sample") for url in chosen]

    # -- one item on every source -----------------------------------------------------------

    async def compare_item(self, item: _Wanted) -> None:
        sides: list[_Side] = []
        pending = list(enumerate(self.params.sources))
        # Two passes: a site addressed by {code} may need the code another site prints.
        for _ in range(2):
            for index, source in list(pending):
                url = self.address(item, source)
                if url is None:
                    continue
                pending.remove((index, source))
                side = await self.read(item, index, source, url)
                if side is not None:
                    sides.append(side)
        for index, source in pending:
            self.unjudged.append(
                f"无法确定{item.label}在{source.name}的办事指南地址；请配置巡检项 "
                f"params.sources[{index}].item_url 或 {item.origin}.urls"
            )
        sides.sort(key=lambda side: side.index)
        if len(sides) < 2:
            return
        self.items_compared += 1
        name = item.name or item.code or item.found_code or sides[0].url
        found = False
        for other in sides[1:]:
            for wanted in self.params.fields:
                verdict = compare(wanted, sides[0].readings[wanted], other.readings[wanted])
                if verdict is Verdict.UNREADABLE:
                    self.unjudged.append(self.unreadable(item, wanted, sides[0], other))
                    continue
                self.compared += 1
                if verdict is Verdict.DIFFERENT:
                    found = True
                    self.differences.append(_Difference(name, wanted, sides[0], other))
        if found:
            for side in sides:
                await self.capture(f"consistency-{side.index}", self.pages[side.index])

    def address(self, item: _Wanted, source: SourceParams) -> str | None:
        configured = item.urls.get(source.name)
        if configured is not None:
            return urljoin(self.base(source), configured)
        if source.item_url is None:
            return None
        filled = item_address(source.item_url, item.code or item.found_code, item.name)
        return urljoin(self.base(source), filled) if filled is not None else None

    async def read(self, item: _Wanted, index: int, source: SourceParams, url: str) -> _Side | None:
        """The item's guide on one source, or None (noted as unjudged) when it is not there."""
        page = await self.page(index)
        where = f"{item.label}在{source.name}的办事指南（{url}）"
        hint = f"请检查巡检项 params.sources[{index}].item_url 或 {item.origin}.urls"
        if index in self.down:
            self.unjudged.append(
                f"{where}未打开：{source.name}此前已无法访问（{self.down[index]}）"
            )
            return None
        try:
            response = await self.ctx.goto(page, url)
        except SiteUnreachable as exc:
            self.down[index] = exc.reason
            self.unjudged.append(f"{where}无法打开（{exc.reason}）")
            return None
        if response is not None and response.status >= 400:
            self.unjudged.append(f"{where}打开返回 HTTP {response.status}；{hint}")
            return None
        marker = await locate.looks_like_error_page(page, locate.ERROR_MARKERS)
        if marker is not None:
            self.unjudged.append(f"{where}打开为错误页面（{marker}）；{hint}")
            return None
        selectors = {f"{SELECTOR_PREFIX}{f.value}": css for f, css in source.selectors.items()}
        guide = await read_guide(
            page,
            title_selector=source.title_selector or self.ctx.selector("guide_title"),
            element_selectors=selectors,
        )
        codes = _codes(guide)
        if item.code and codes and item.code not in codes:
            self.unjudged.append(
                f"{where}显示的事项编码为 {'、'.join(codes)}，不是 {item.code}；{hint}"
            )
            return None
        if item.name and not (item.code and item.code in codes) and not _same_name(item, guide):
            shown = f"“{guide.title}”" if guide.title else "（未读到事项名称）"
            self.unjudged.append(
                f"{where}显示的事项为{shown}；{hint}，或配置 params.sources[{index}].title_selector"
            )
            return None
        item.found_code = item.found_code or (codes[0] if codes else None)
        item.name = item.name or guide.title or None
        readings = {wanted: read_field(guide.entries, wanted) for wanted in self.params.fields}
        if not any(reading.read for reading in readings.values()):
            self.unjudged.append(
                f"{where}上未读出{'、'.join(f.value for f in self.params.fields)}；请配置巡检项 "
                f"params.sources[{index}].selectors（要素的 CSS 选择器）"
            )
            return None
        return _Side(index, source.name, page.url, readings)

    def unreadable(self, item: _Wanted, wanted: Field, first: _Side, second: _Side) -> str:
        problems = []
        for side in (first, second):
            reading = side.readings[wanted]
            if not reading.read:
                problems.append(
                    f"{side.source}（{side.url}）{reading.problem}，可配置巡检项 "
                    f"params.sources[{side.index}].selectors.{wanted.value}"
                )
        if not problems:
            a, b = first.readings[wanted], second.readings[wanted]
            problems.append(f"{first.source}“{a.text}”与{second.source}“{b.text}”的写法无法比较")
        return f"{item.label}的{wanted.value}未比对：{'；'.join(problems)}"

    async def capture(self, label: str, page: Page) -> None:
        if len(self.ctx.evidence.screenshots) < MAX_SCREENSHOTS:
            await self.ctx.evidence.capture(page, label)

    # -- findings ----------------------------------------------------------------------------

    def rows(self) -> list[dict[str, object]]:
        return [
            {
                "item": d.item,
                "field": d.field.value,
                "values": dict(zip((d.first.source, d.second.source), d.values(), strict=True)),
                "urls": {d.first.source: d.first.url, d.second.source: d.second.url},
            }
            for d in self.differences
        ]

    async def keep_table(self) -> None:
        """The side-by-side table of every difference, kept with the run's evidence."""
        if not self.differences:
            return
        cells = "".join(
            "<tr>"
            + "".join(
                f"<td>{html.escape(str(v))}</td>"
                for v in (
                    d.item,
                    d.field.value,
                    d.first.source,
                    d.values()[0],
                    d.second.source,
                    d.values()[1],
                )
            )
            + f'<td><a href="{html.escape(d.first.url)}">{html.escape(d.first.url)}</a><br>'
            f'<a href="{html.escape(d.second.url)}">{html.escape(d.second.url)}</a></td></tr>'
            for d in self.differences
        )
        page = (
            '<!doctype html><meta charset="utf-8"><title>同源事项比对</title>'
            "<table border=1><tr><th>事项</th><th>要素</th><th>站点一</th><th>所载</th>"
            f"<th>站点二</th><th>所载</th><th>页面地址</th></tr>{cells}</table>"
        )
        self.ctx.evidence.keep_html("consistency-table.html", page)

    def result(self) -> ProbeResult:
        metrics: dict[str, object] = {
            "items_compared": self.items_compared,
            "fields_compared": self.compared,
        }
        if self.unjudged:
            metrics["unjudged"] = list(self.unjudged)
        findings = list(self.findings())
        if findings:
            metrics["differences"] = self.rows()
            unjudged = "；".join(self.unjudged)
            summary = "、".join(f.title for f in findings)
            return ProbeResult(
                Outcome.FAIL,
                tuple(findings),
                summary=summary + ("（另有部分要素无法比对）" if unjudged else ""),
                error=f"部分要素无法比对：{unjudged}" if unjudged else "",
                metrics=metrics,
            )
        if not self.compared:
            raise Inconclusive("没有可比对的要素：" + "；".join(self.unjudged or ["未抽到事项"]))
        summary = f"{self.items_compared} 个事项在各站点的办事指南一致"
        if self.unjudged:
            summary += f"（另有 {len(self.unjudged)} 处无法比对）"
        return ProbeResult(Outcome.PASS, summary=summary, metrics=metrics)

    def findings(self) -> list[Finding]:
        found: list[Finding] = []
        for code, (title, fields) in FINDING_KINDS.items():
            mine = [d for d in self.differences if d.field in fields]
            if not mine:
                continue
            grouped: dict[tuple[str, str, str], list[str]] = {}
            for d in mine:
                key = (d.item, d.first.source, d.second.source)
                grouped.setdefault(key, []).append(d.clause())
            detail = "；".join(
                f"“{item}”在{first}与{second}的办事指南不一致：{'，'.join(clauses)}"
                for (item, first, second), clauses in grouped.items()
            )
            found.append(
                Finding(
                    code=code,
                    title=title,
                    detail=detail,
                    subjects=tuple(dict.fromkeys(d.item for d in mine)),
                    data={"rows": [r for r in self.rows() if r["field"] in fields]},
                )
            )
        return found


def _codes(guide: GuidePage) -> list[str]:
    """The 事项编码 the guide prints (each token of its code values)."""
    tokens: list[str] = []
    for entry in values_of(guide.entries, "事项编码"):
        tokens += CODE_TOKEN.findall(entry.value)
    return list(dict.fromkeys(tokens))


def _same_name(item: _Wanted, guide: GuidePage) -> bool:
    wanted, shown = material_key(item.name or ""), material_key(guide.title)
    return bool(wanted and shown) and (wanted in shown or shown in wanted)
