"""适老化与无障碍 on the PC pages (seed 000 A6-1 无障碍服务).

Two parts on a desktop viewport (1366×768):

- axe-core (``probes.axe``, the mobile probe's runner) on the configured pages; their
  violations of the impacts asked for (serious and critical by default) are
  ``accessibility.violations``, one finding naming each page and its problems.
- 关怀版 / 长者模式 (``probes.care_mode``): the mode's entry on the home page is clicked and
  the main text measured before and after; text not enlarged by ``enlarge_factor`` (1.15)
  is ``accessibility.care_mode_ineffective``. No entry at all is
  ``accessibility.care_mode_missing`` only when the check says ``care_mode: required``;
  otherwise it is a note of the run, not a failure (the portal may word it otherwise).

What the probe cannot judge (a configured entry it cannot find, an entry that is plain
text or a 无障碍 toolbar whose click leaves the text alone, a page with no main text) is
inconclusive when the check requires the mode or configures its selector, else a note.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Page, ViewportSize
from pydantic import BeforeValidator, Field, field_validator

from config.catalog import Severity
from core.results import Finding, Outcome, ProbeResult
from probes import axe, care_mode, locate
from probes.axe import SEVERE_IMPACTS, Impact, Violation
from probes.base import CheckParams, Probe, ProbeContext, http_error_finding, valid_regex
from probes.care_mode import CareEntry, EntryKind, Switched, TextSize
from probes.errors import Inconclusive, MonitorError

DESKTOP: ViewportSize = {"width": 1366, "height": 768}
MAX_SCREENSHOTS = 4
DEFAULT_ENLARGE_FACTOR = 1.15


def _care_switch(value: object) -> object:
    # YAML 1.1 reads a bare `off` as false.
    return "off" if value is False else value


class AccessibilityParams(CheckParams):
    FINDING_CODES = (
        "accessibility.violations",
        "accessibility.care_mode_ineffective",
        "accessibility.care_mode_missing",
    )

    # Names of the target's `pages` or paths/URLs, checked by axe-core.
    pages: list[str] = Field(default_factory=lambda: ["home"], min_length=1)
    axe: bool = True
    impacts: list[Impact] = Field(default_factory=lambda: list(SEVERE_IMPACTS), min_length=1)
    # required: a home page without the mode fails; optional: it is a note; off: not looked for.
    care_mode: Annotated[Literal["required", "optional", "off"], BeforeValidator(_care_switch)] = (
        "optional"
    )
    care_words: str | None = None  # regex replacing the built-in 关怀版/长者模式… words
    enlarge_factor: float = Field(default=DEFAULT_ENLARGE_FACTOR, ge=1.01, le=3)

    _patterns = field_validator("care_words")(valid_regex)


@dataclass
class _PageCheck:
    url: str
    title: str
    found: tuple[Violation, ...]
    screenshot: str | None = None


@dataclass
class _Judgement:
    findings: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    unjudged: list[str] = field(default_factory=list)  # makes a clean run inconclusive
    metrics: dict[str, Any] = field(default_factory=dict)


class AccessibilityProbe(Probe):
    kind = "accessibility"
    Params = AccessibilityParams

    async def run(self, ctx: ProbeContext) -> ProbeResult:
        params = ctx.params(AccessibilityParams)
        page = await ctx.new_page()
        await page.set_viewport_size(DESKTOP)
        judgement = _Judgement()
        if params.axe:
            await _axe_pages(ctx, page, params, judgement)
        if params.care_mode != "off":
            await _care(ctx, page, params, judgement)
        return _result(judgement)


def _configured(ctx: ProbeContext, page: str) -> str:
    """A page named in the target's ``pages``, or given as a path or URL."""
    if page in ctx.target.pages:
        return ctx.url(page)
    if page.startswith(("/", "http://", "https://")):
        return ctx.absolute(page)
    # A typo in the catalog must not become a dead page blamed on the unit.
    known = "、".join(ctx.target.pages) or "无"
    raise MonitorError(f"页面 {page!r} 不是巡检对象 pages 中的名称（现有：{known}），也不是路径")


async def _axe_pages(
    ctx: ProbeContext, page: Page, params: AccessibilityParams, judgement: _Judgement
) -> None:
    checked: list[_PageCheck] = []
    for url in dict.fromkeys(_configured(ctx, name) for name in params.pages):
        response = await ctx.goto(page, url)
        if response is not None and response.status >= 400:
            judgement.findings.append(http_error_finding("页面", url, response.status))
            continue
        marker = await locate.looks_like_error_page(page, locate.ERROR_MARKERS)
        if marker is not None:
            judgement.notes.append(f"页面 {url} 显示错误页面（{marker}），未做无障碍检测")
            continue
        found = await axe.violations(page, params.impacts)
        check = _PageCheck(url, await page.title(), found)
        if found and len(ctx.evidence.screenshots) < MAX_SCREENSHOTS:
            await ctx.evidence.capture(page, "accessibility")
            check.screenshot = ctx.evidence.screenshots[-1] if ctx.evidence.screenshots else None
        checked.append(check)
    judgement.metrics["pages"] = len(checked)
    judgement.metrics["violations"] = {c.url: {v.rule: v.count for v in c.found} for c in checked}
    failing = [c for c in checked if c.found]
    if not failing:
        return
    size = f"{DESKTOP['width']}×{DESKTOP['height']}"
    sentences = [
        f"在电脑端（{size}）检测{_page_words(c.title, c.url)}：{axe.listed(c.found)}"
        for c in failing
    ]
    judgement.findings.append(
        Finding(
            code="accessibility.violations",
            title="网站页面存在严重无障碍（适老化）问题",
            detail="；".join(sentences),
            severity=Severity.MAJOR,
            subjects=tuple(c.url for c in failing),
            data={
                "occurrences": [
                    {
                        "subject": c.url,
                        "rules": {v.rule: v.count for v in c.found},
                        "screenshots": [c.screenshot] if c.screenshot else [],
                    }
                    for c in failing
                ]
            },
        )
    )


def _page_words(title: str, url: str) -> str:
    return f"“{title}”页面（{url}）" if title else f"页面 {url} "


async def _care(
    ctx: ProbeContext, page: Page, params: AccessibilityParams, judgement: _Judgement
) -> None:
    home = ctx.url("home", "/")
    configured = ctx.selector("care_mode")
    region = ctx.selector("main_text")
    required = params.care_mode == "required"
    response = await ctx.goto(page, home)
    if response is not None and response.status >= 400:
        judgement.findings.append(http_error_finding("网站首页", home, response.status))
        return
    entry = await care_mode.find_entry(page, configured, params.care_words)
    if entry is None:
        _no_entry(ctx, judgement, configured, required)
        if required and not configured:
            await ctx.evidence.capture(page, "care-mode-missing")
        return
    before = await care_mode.text_size(page, region)
    if not before.chars:
        judgement.unjudged.append(
            "网站首页未读到正文文字，无法判定关怀版字号；请配置巡检对象 selectors.main_text"
        )
        return
    try:
        switched = await care_mode.switch_on(page, entry, ctx.nav_timeout_ms, region)
    except PlaywrightError as exc:
        reason = str(exc).splitlines()[0]
        judgement.unjudged.append(
            f"网站首页“{entry.words}”入口无法点击（{reason}）；请配置巡检对象 selectors.care_mode"
        )
        return
    judgement.metrics["care_mode"] = {
        "entry": entry.words,
        "entry_kind": entry.kind.value,
        "before_px": before.px,
        "after_px": switched.after.px if switched.after else None,
        "url": switched.url,
    }
    await _judge_care(ctx, params, judgement, entry, before, switched, required)


def _no_entry(
    ctx: ProbeContext, judgement: _Judgement, configured: str | None, required: bool
) -> None:
    judgement.metrics["care_mode"] = None
    if configured:
        judgement.unjudged.append(
            f"网站首页未找到巡检对象 selectors.care_mode（{configured}）所指的关怀版入口；"
            "请核对该选择器"
        )
    elif required:
        judgement.findings.append(
            Finding(
                code="accessibility.care_mode_missing",
                title="网站未提供关怀版（适老化）模式",
                detail="网站首页未提供“关怀版”“长者模式”等适老化模式入口，"
                "老年人无法切换到大字号、高对比度的页面",
                severity=Severity.MAJOR,
                subjects=(ctx.url("home", "/"),),
            )
        )
    else:
        judgement.notes.append(
            "网站首页未找到关怀版/长者模式入口（如有其他写法，请配置巡检对象 selectors.care_mode）"
        )


async def _judge_care(
    ctx: ProbeContext,
    params: AccessibilityParams,
    judgement: _Judgement,
    entry: CareEntry,
    before: TextSize,
    switched: Switched,
    required: bool,
) -> None:
    where = f"网站首页“{entry.words}”" + ("" if entry.words.endswith("模式") else "模式")
    home = ctx.url("home", "/")
    if switched.status is not None and switched.status >= 400:
        detail = f"{where}入口点击后打开的页面（{switched.url}）返回 HTTP {switched.status}"
        judgement.findings.append(_ineffective(home, detail, before, None))
        return
    after = switched.after
    if after is None or not after.chars:
        judgement.unjudged.append(
            f"{where}开启后未读到正文文字（{switched.url}），无法判定字号；"
            "请配置巡检对象 selectors.main_text"
        )
        return
    factor = after.px / before.px
    if factor >= params.enlarge_factor:
        judgement.notes.append(f"{where}开启后正文字号由{before.label}放大至{after.label}")
        return
    if not entry.kind.judged:
        why = "可能为辅助工具条" if entry.kind is EntryKind.ASSIST_CONTROL else "可能不是开关本身"
        message = (
            f"{where}入口点击后正文字号未放大（{before.label}），{why}；"
            "如该网站另有关怀版入口，请配置巡检对象 selectors.care_mode"
        )
        (judgement.unjudged if required else judgement.notes).append(message)
        return
    if after.px <= before.px:
        sizes = f"正文字号未放大（开启前{before.label}，开启后{after.label}）"
        how = "开启后" if switched.reacted else "入口点击后页面无任何变化，"
        detail = f"{where}{how}{sizes}"
    else:
        detail = (
            f"{where}开启后正文字号仅由{before.label}放大至{after.label}"
            f"（{factor:.2f}倍，应不低于{params.enlarge_factor:g}倍）"
        )
    if len(ctx.evidence.screenshots) < MAX_SCREENSHOTS:
        await ctx.evidence.capture(switched.shown, "care-mode")
    judgement.findings.append(_ineffective(home, detail, before, after))


def _ineffective(home: str, detail: str, before: TextSize, after: TextSize | None) -> Finding:
    return Finding(
        code="accessibility.care_mode_ineffective",
        title="关怀版（适老化）模式未放大正文字号",
        detail=detail,
        severity=Severity.MAJOR,
        subjects=(home,),
        data={"before_px": before.px, "after_px": after.px if after else None},
    )


def _result(judgement: _Judgement) -> ProbeResult:
    metrics = {**judgement.metrics, "notes": judgement.notes + judgement.unjudged}
    findings = tuple(judgement.findings)
    if findings:
        summary = findings[0].title + (f"等 {len(findings)} 类问题" if len(findings) > 1 else "")
        return ProbeResult(Outcome.FAIL, findings, summary=summary, metrics=metrics)
    if judgement.unjudged:
        raise Inconclusive("；".join(judgement.unjudged))
    pages = judgement.metrics.get("pages")
    parts = [f"{pages} 个电脑端页面未发现严重无障碍问题"] if pages is not None else []
    summary = "；".join(parts + judgement.notes) or "适老化与无障碍检查通过"
    return ProbeResult(Outcome.PASS, summary=summary, metrics=metrics)
