"""From what each phone met on each H5 page to findings a unit can act on.

One finding per kind of problem (one code, so one rectification task), listing the pages
and, for each, the phones it happens on, with the measurement behind it: the widths of an
overflowing page, the share of tiny text, the failing resource and its status.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from config.catalog import Severity
from core.results import Finding, Outcome, ProbeResult
from probes.axe import Violation, listed
from probes.devices import DeviceProfile

VIEWPORT_META = '<meta name="viewport" content="width=device-width, initial-scale=1">'
MAX_LISTED = 6
_CJK_THEN_LATIN = re.compile(r"([\u4e00-\u9fff])([A-Za-z0-9])")
_LATIN_THEN_CJK = re.compile(
    r"([A-Za-z0-9])([\u4e00-\u9fff])"
)  # occurrences spelled out in a finding; the rest are counted
_RESOURCE_KINDS = {
    "image": "图片",
    "script": "脚本",
    "stylesheet": "样式表",
    "font": "字体",
    "media": "音视频",
    "xhr": "数据接口",
    "fetch": "数据接口",
}


@dataclass(frozen=True)
class Link:
    href: str
    text: str
    page_url: str  # the page the link is on
    page_title: str


@dataclass(frozen=True)
class FailedResource:
    url: str
    status: int
    kind: str  # Playwright's resource type

    @property
    def label(self) -> str:
        return _RESOURCE_KINDS.get(self.kind, "资源")


@dataclass
class PageVisit:
    """One page opened on one phone, and what was noted there."""

    device: DeviceProfile
    url: str
    name: str = ""  # the catalog's name of a configured page
    link: Link | None = None  # the link followed to get here
    status: int | None = None
    title: str = ""
    error_marker: str | None = None
    measured: bool = False
    landed_on: str = ""  # the URL shown after redirects
    client_width: int = 0
    scroll_width: int = 0
    widest: dict[str, Any] | None = None  # the element sticking out: {element, width}
    viewport: str | None = None  # the viewport meta's content; None when there is none
    text_chars: int = 0
    small_chars: int = 0
    smallest_px: float | None = None
    small_samples: tuple[str, ...] = ()
    links: tuple[Link, ...] = ()
    failed_resources: list[FailedResource] = field(default_factory=list)
    script_errors: list[str] = field(default_factory=list)
    violations: tuple[Violation, ...] = ()
    screenshot: str | None = None
    skipped: bool = False  # a followed link that turned out not to be a page

    def add_failed_resource(self, url: str, status: int, kind: str) -> None:
        resource = FailedResource(url, status, kind)
        if resource not in self.failed_resources:
            self.failed_resources.append(resource)

    def add_script_error(self, message: str) -> None:
        if message not in self.script_errors:
            self.script_errors.append(message)

    @property
    def http_error(self) -> bool:
        return self.status is not None and self.status >= 400

    @property
    def dead_link(self) -> bool:
        """A followed link that leads nowhere: a 4xx answer or a page saying it is an error."""
        if self.link is None:
            return False
        return (self.http_error and self.status is not None and self.status < 500) or (
            not self.http_error and self.error_marker is not None
        )

    @property
    def page_failed(self) -> bool:
        """The page itself is broken: a 5xx, or any error on a configured page."""
        return (self.http_error or self.error_marker is not None) and not self.dead_link

    @property
    def overflows(self) -> bool:
        return self.measured and self.scroll_width > self.client_width + 1

    @property
    def lacks_viewport(self) -> bool:
        if not self.measured or self.page_failed or self.dead_link:
            return False
        content = (self.viewport or "").replace(" ", "").lower()
        return "width=device-width" not in content and "initial-scale" not in content

    @property
    def small_share(self) -> float:
        return self.small_chars / self.text_chars if self.text_chars else 0.0

    def has_problems(self, small_text_share: float) -> bool:
        return bool(
            self.http_error
            or self.error_marker
            or self.overflows
            or self.lacks_viewport
            or self.failed_resources
            or self.script_errors
            or self.small_share >= small_text_share
            or self.violations
        )


def judge(
    visits: Sequence[PageVisit],
    devices: Sequence[DeviceProfile],
    small_text_px: float,
    small_text_share: float,
) -> ProbeResult:
    """Pass when no phone met a problem on any page; otherwise one finding per kind."""
    words = _Words(devices)
    small = [v for v in visits if v.small_share >= small_text_share and not v.page_failed]
    candidates = (
        _page_errors(visits, words),
        _broken_links(visits, words),
        _broken_resources(visits, words),
        _script_errors(visits, words),
        _overflows(visits, words),
        _no_viewport(visits, words),
        _small_text(small, words, small_text_px),
        _accessibility(visits, words),
    )
    findings = tuple(finding for finding in candidates if finding is not None)
    urls = list(dict.fromkeys(v.url for v in visits))
    metrics = {
        "devices": [device.label for device in devices],
        "pages": len(urls),
        "followed_links": sum(1 for v in visits if v.link is not None and v.device == devices[0]),
        "visits": len(visits),
    }
    if not findings:
        summary = spaced(f"{len(urls)} 个移动端页面在{words.all_devices}上均正常")
        return ProbeResult(Outcome.PASS, summary=summary, metrics=metrics)
    summary = findings[0].title + (f"等 {len(findings)} 类问题" if len(findings) > 1 else "")
    return ProbeResult(Outcome.FAIL, findings, summary=summary, metrics=metrics)


class _Words:
    """How findings name phones and pages."""

    def __init__(self, devices: Sequence[DeviceProfile]) -> None:
        self.order = [device.key for device in devices]
        self.all_devices = "、".join(device.label for device in devices)

    def on(self, visits: Iterable[PageVisit]) -> str:
        found = {v.device.key: v.device.label for v in visits}
        return spaced("在" + "、".join(found[key] for key in self.order if key in found) + "中")

    @staticmethod
    def page(visit: PageVisit) -> str:
        if visit.title and not visit.http_error and visit.error_marker is None:
            label = visit.title
        elif visit.link is not None and visit.link.text:
            label = visit.link.text
        else:
            label = visit.name
        return f"“{label}”页面（{visit.url}）" if label else f"页面 {visit.url} "


def spaced(text: str) -> str:
    """Chinese text with a space where it meets Latin letters or digits (在 iPhone 13 中)."""
    text = _CJK_THEN_LATIN.sub(r"\1 \2", text)
    return _LATIN_THEN_CJK.sub(r"\1 \2", text)


def _group(
    visits: Iterable[PageVisit], key: Callable[[PageVisit], Hashable]
) -> OrderedDict[Hashable, list[PageVisit]]:
    groups: OrderedDict[Hashable, list[PageVisit]] = OrderedDict()
    for visit in visits:
        groups.setdefault(key(visit), []).append(visit)
    return groups


def _finding(
    code: str,
    title: str,
    severity: Severity,
    occurrences: list[tuple[str, list[PageVisit], str]],  # (subject, visits, sentence)
    advice: str = "",
) -> Finding | None:
    if not occurrences:
        return None
    sentences = [sentence for _, _, sentence in occurrences]
    detail = "；".join(sentences[:MAX_LISTED])
    if len(sentences) > MAX_LISTED:
        detail += f"；等共 {len(sentences)} 处"
    if advice:
        detail += f"。{advice}"
    data = {
        "occurrences": [
            {
                "subject": subject,
                "devices": [v.device.label for v in group],
                "screenshots": [v.screenshot for v in group if v.screenshot],
            }
            for subject, group, _ in occurrences
        ]
    }
    subjects = tuple(dict.fromkeys(subject for subject, _, _ in occurrences))
    return Finding(code, title, detail, severity, subjects, data)


def _page_errors(visits: Sequence[PageVisit], words: _Words) -> Finding | None:
    occurrences = []
    for group in _group((v for v in visits if v.page_failed), lambda v: v.url).values():
        first = group[0]
        what = (
            f"返回 HTTP {first.status}"
            if first.http_error
            else f"显示错误页面（{first.error_marker}）"
        )
        occurrences.append((first.url, group, f"{words.on(group)}打开{words.page(first)}{what}"))
    return _finding("mobile.page_error", "移动端页面无法正常打开", Severity.MAJOR, occurrences)


def _broken_links(visits: Sequence[PageVisit], words: _Words) -> Finding | None:
    occurrences = []
    for group in _group((v for v in visits if v.dead_link), lambda v: v.url).values():
        first = group[0]
        assert first.link is not None  # dead_link holds for followed links only
        what = (
            f"返回 HTTP {first.status}"
            if first.http_error
            else f"显示错误页面（{first.error_marker}）"
        )
        source = f"“{first.link.page_title}”页面（{first.link.page_url}）"
        if not first.link.page_title:
            source = f"页面 {first.link.page_url} "
        text = f"“{first.link.text}”链接" if first.link.text else "链接"
        sentence = f"{words.on(group)}，{source}上的{text}（{first.url}）{what}"
        occurrences.append((first.url, group, sentence))
    return _finding("mobile.broken_link", "移动端页面存在失效链接", Severity.MAJOR, occurrences)


def _broken_resources(visits: Sequence[PageVisit], words: _Words) -> Finding | None:
    pairs = [(v, r) for v in visits if not v.http_error for r in v.failed_resources]
    groups: OrderedDict[tuple[str, str], list[tuple[PageVisit, FailedResource]]] = OrderedDict()
    for visit, resource in pairs:
        groups.setdefault((visit.url, resource.url), []).append((visit, resource))
    occurrences = []
    for pairs_of_one in groups.values():
        group = [visit for visit, _ in pairs_of_one]
        resource = pairs_of_one[0][1]
        sentence = (
            f"{words.on(group)}打开{words.page(group[0])}，{resource.label} {resource.url} "
            f"加载失败（HTTP {resource.status}）"
        )
        occurrences.append((group[0].url, group, sentence))
    return _finding(
        "mobile.broken_resource", "移动端页面图片或脚本加载失败", Severity.MAJOR, occurrences
    )


def _script_errors(visits: Sequence[PageVisit], words: _Words) -> Finding | None:
    pairs = [(v, message) for v in visits for message in v.script_errors]
    groups: OrderedDict[tuple[str, str], list[PageVisit]] = OrderedDict()
    for visit, message in pairs:
        groups.setdefault((visit.url, message), []).append(visit)
    occurrences = [
        (url, group, f"{words.on(group)}打开{words.page(group[0])}出现脚本错误：{message}")
        for (url, message), group in groups.items()
    ]
    return _finding("mobile.script_error", "移动端页面脚本报错", Severity.MAJOR, occurrences)


def _overflows(visits: Sequence[PageVisit], words: _Words) -> Finding | None:
    occurrences = []
    for group in _group((v for v in visits if v.overflows), lambda v: v.url).values():
        widths = "；".join(
            spaced(f"{v.device.label}屏宽 {v.client_width}px、页面宽 {v.scroll_width}px")
            for v in group
        )
        sentence = f"{words.page(group[0])}内容超出屏幕、需左右滑动查看：{widths}"
        widest = group[0].widest
        if widest:
            sentence += f"，超出屏幕的元素为 {widest['element']}（宽 {widest['width']}px）"
        occurrences.append((group[0].url, group, sentence))
    return _finding(
        "mobile.horizontal_overflow", "移动端页面超出屏幕宽度", Severity.MINOR, occurrences
    )


def _no_viewport(visits: Sequence[PageVisit], words: _Words) -> Finding | None:
    occurrences = []
    for group in _group((v for v in visits if v.lacks_viewport), lambda v: v.url).values():
        first = group[0]
        if first.viewport is None:
            what = "未设置 viewport"
        else:
            what = f"的 viewport 设置为“{first.viewport}”，未按屏幕宽度布局"
        sentence = f"{words.page(first)}{what}，{words.on(group)}按电脑版宽度缩小显示"
        occurrences.append((first.url, group, sentence))
    return _finding(
        "mobile.no_viewport",
        "移动端页面未适配手机屏幕",
        Severity.MINOR,
        occurrences,
        advice=f"应在页面头部加入 {VIEWPORT_META}",
    )


def _small_text(visits: Sequence[PageVisit], words: _Words, small_px: float) -> Finding | None:
    occurrences = []
    for group in _group(visits, lambda v: v.url).values():
        worst = max(group, key=lambda v: v.small_share)
        sizes = [v.smallest_px for v in group if v.smallest_px is not None]
        sample = f"，如“{worst.small_samples[0]}”" if worst.small_samples else ""
        sentence = (
            f"{words.on(group)}打开{words.page(worst)}，{worst.small_share:.0%} 的文字小于 "
            f"{small_px:g}px（最小 {min(sizes):g}px{sample}）"
        )
        occurrences.append((worst.url, group, sentence))
    return _finding("mobile.small_text", "移动端页面文字过小", Severity.MINOR, occurrences)


def _accessibility(visits: Sequence[PageVisit], words: _Words) -> Finding | None:
    occurrences = []
    for group in _group((v for v in visits if v.violations), lambda v: v.url).values():
        rules: OrderedDict[str, Violation] = OrderedDict()
        for visit in group:
            for violation in visit.violations:
                known = rules.get(violation.rule)
                if known is None or violation.count > known.count:
                    rules[violation.rule] = violation
        problems = listed(tuple(rules.values()))
        sentence = f"{words.on(group)}检测{words.page(group[0])}：{problems}"
        occurrences.append((group[0].url, group, sentence))
    return _finding(
        "mobile.accessibility",
        "移动端页面存在严重无障碍（适老化）问题",
        Severity.MAJOR,
        occurrences,
    )
