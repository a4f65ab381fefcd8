"""axe-core, run in a page: the WCAG 2.1 A/AA violations a probe reports as 无障碍/适老化.

Shared by the mobile probe (H5 pages under phone profiles) and the accessibility probe (PC
pages). axe-core comes from the pinned ``axe-playwright-python`` wheel (its
``axe.min.js``), so installing stays pip-only; only its violations of the impacts asked
for (serious and critical by default) are returned, each with a Chinese label.
"""

from __future__ import annotations

import functools
import importlib.resources
from dataclasses import dataclass
from typing import Any, Literal

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Page

from probes.errors import MonitorError

Impact = Literal["critical", "serious", "moderate", "minor"]
# GB/T 37668-2019 follows WCAG 2.0; 2.1 adds the mobile criteria (reflow, orientation).
AXE_TAGS = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa")
SEVERE_IMPACTS: tuple[Impact, ...] = ("critical", "serious")

# axe-core rule ids in the words of 适老化/无障碍 reviews; other rules keep axe's own help.
AXE_RULES_ZH = {
    "image-alt": "图片缺少替代文字",
    "input-image-alt": "图片按钮缺少替代文字",
    "role-img-alt": "图形缺少替代文字",
    "svg-img-alt": "SVG 图形缺少替代文字",
    "link-name": "链接缺少可读名称",
    "button-name": "按钮缺少可读名称",
    "label": "输入框缺少标签",
    "select-name": "下拉框缺少标签",
    "color-contrast": "文字与背景对比度不足",
    "link-in-text-block": "正文中的链接无法与文字区分",
    "html-has-lang": "页面未声明语言",
    "html-lang-valid": "页面语言声明无效",
    "document-title": "页面缺少标题",
    "meta-viewport": "页面禁止用户缩放",
    "frame-title": "内嵌框架缺少标题",
    "aria-hidden-focus": "隐藏内容仍可获得焦点",
    "nested-interactive": "交互控件相互嵌套",
    "list": "列表结构不规范",
    "listitem": "列表项结构不规范",
}


@dataclass(frozen=True)
class Violation:
    rule: str
    impact: str
    help: str
    count: int  # elements concerned

    @property
    def label(self) -> str:
        return AXE_RULES_ZH.get(self.rule, self.help)


async def violations(page: Page, impacts: list[Impact]) -> tuple[Violation, ...]:
    """axe-core's violations of the given impacts (WCAG 2.1 A/AA rules) on ``page``,
    critical ones first."""
    try:
        await page.evaluate(shipped_script("axe_playwright_python", "axe.min.js"))
        found: list[dict[str, Any]] = await page.evaluate(
            _AXE_RUN_JS, {"tags": list(AXE_TAGS), "impacts": list(impacts)}
        )
    except PlaywrightError as exc:
        if page.is_closed():
            raise
        raise MonitorError(f"axe-core 无障碍检测运行失败：{str(exc).splitlines()[0]}") from exc
    rank = {impact: i for i, impact in enumerate(("critical", "serious", "moderate", "minor"))}
    found.sort(key=lambda v: rank.get(v["impact"], len(rank)))  # the worst first, else axe's order
    return tuple(
        Violation(rule=v["id"], impact=v["impact"], help=v["help"], count=v["count"]) for v in found
    )


def listed(found: tuple[Violation, ...]) -> str:
    """The violations in a finding's words: 图片缺少替代文字（8 处）、按钮缺少可读名称（1 处）."""
    return "、".join(f"{v.label}（{v.count} 处）" for v in found)


@functools.cache
def shipped_script(package: str, name: str) -> str:
    """A JavaScript file shipped with a package: ours, or axe-core in its pinned wheel."""
    try:
        return (importlib.resources.files(package) / name).read_text(encoding="utf-8")
    except (ModuleNotFoundError, FileNotFoundError) as exc:
        raise MonitorError(f"{package} 中缺少 {name}（pip install axe-playwright-python）") from exc


_AXE_RUN_JS = """
async ({tags, impacts}) => {
  const result = await axe.run(document, {
    runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']});
  return result.violations.filter((v) => impacts.includes(v.impact))
    .map((v) => ({id: v.id, impact: v.impact, help: v.help, count: v.nodes.length}));
}
"""
