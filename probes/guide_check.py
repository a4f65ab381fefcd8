"""From guides as read to the checklist's verdicts and findings; no browser in here.

Each guide gets a :class:`GuideVerdict`; :func:`guide_findings` folds the verdicts into
one finding per problem kind that names every affected item, in the words of seed 001
附件1 (“公司设立登记：缺失设定依据”).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from config.catalog import Severity
from core.results import Finding
from probes.guide_page import GuidePage
from probes.guide_rules import (
    FormKind,
    form_kind,
    forms_required,
    material_names,
    missing_elements,
    phone_problems,
    unclear_material_formats,
    unclear_time_limits,
    vague_materials,
    values_of,
)


@dataclass(frozen=True)
class GuideReading:
    """A target's own words for what the readers do not know (``guides`` params)."""

    hotline_pattern: str | None = None  # numbers that need no area code
    clear_time_limit_pattern: str | None = None  # time limits that say which days
    material_format_patterns: Mapping[str, str] = field(default_factory=dict)  # aspect → regex


@dataclass(frozen=True)
class GuideVerdict:
    name: str
    url: str
    missing: tuple[str, ...] = ()  # elements
    vague: tuple[str, ...] = ()  # material names
    phones: tuple[str, ...] = ()  # problems, in Chinese
    time_limits: tuple[tuple[str, str], ...] = ()  # (label, value)
    forms_missing: tuple[FormKind, ...] = ()
    dead_forms: tuple[tuple[str, str], ...] = ()  # (link text, problem)
    formats: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (material, aspects unsaid)

    @property
    def problems(self) -> bool:
        kinds = (self.missing, self.vague, self.phones, self.time_limits, self.formats)
        return any(kinds) or bool(self.forms_missing or self.dead_forms)


def judge_guide(
    guide: GuidePage,
    *,
    elements: Sequence[str],
    vague_patterns: Sequence[str],
    require_forms: str = "listed",
    dead_forms: Sequence[tuple[str, str]] = (),
    reading: GuideReading | None = None,
) -> GuideVerdict:
    """What is wrong with one guide, by the rules of ``probes.guide_rules``.

    ``require_forms`` is ``"listed"`` (forms are owed when a material is a form to fill
    in, as the checklist says) or ``"always"``.
    """
    reading = reading or GuideReading()
    entries = guide.entries
    names = material_names(entries)
    missing_forms: tuple[FormKind, ...] = ()
    if require_forms == "always" or forms_required(names):
        offered = {form_kind(link.text, link.context) for link in guide.downloads}
        missing_forms = tuple(kind for kind in FormKind if kind not in offered)
    contact = " ".join(e.value for e in values_of(entries, "咨询电话"))
    supervision = " ".join(e.value for e in values_of(entries, "监督投诉电话"))
    return GuideVerdict(
        name=guide.title or guide.url,
        url=guide.url,
        missing=tuple(missing_elements(entries, elements)),
        vague=tuple(vague_materials(names, vague_patterns)),
        phones=tuple(phone_problems(contact, supervision, reading.hotline_pattern)),
        time_limits=tuple(unclear_time_limits(entries, reading.clear_time_limit_pattern)),
        forms_missing=missing_forms,
        dead_forms=tuple(dead_forms),
        formats=tuple(unclear_material_formats(entries, reading.material_format_patterns)),
    )


def _quoted(texts: Iterable[str]) -> str:
    return "、".join(f"“{text}”" for text in texts)


def _forms_gap(kinds: tuple[FormKind, ...]) -> str:
    if len(kinds) == len(FormKind):
        return "未提供表格下载及填写示范获取渠道"
    return "未提供表格下载获取渠道" if FormKind.BLANK in kinds else "未提供填写示范获取渠道"


@dataclass(frozen=True)
class _Kind:
    code: str
    title: str
    severity: Severity
    describe: Callable[[GuideVerdict], str]  # "" when the verdict has no such problem


_KINDS: tuple[_Kind, ...] = (
    _Kind(
        "checklist.guide_elements_missing",
        "办事指南要素不全面",
        Severity.MAJOR,
        lambda v: f"缺失{'、'.join(v.missing)}" if v.missing else "",
    ),
    _Kind(
        "checklist.vague_materials",
        "办理材料存在含糊不清表述",
        Severity.MINOR,
        lambda v: f"材料{_quoted(v.vague)}含糊不清" if v.vague else "",
    ),
    _Kind(
        "checklist.material_format_unclear",
        "办理材料未明确格式要求",
        Severity.MINOR,
        lambda v: "，".join(
            f"材料“{name}”未明确{'、'.join(aspects)}" for name, aspects in v.formats
        ),
    ),
    _Kind(
        "checklist.phone_invalid",
        "联系电话不准确",
        Severity.MINOR,
        lambda v: "，".join(v.phones),
    ),
    _Kind(
        "checklist.time_limit_unclear",
        "办理时限未明确工作日或自然日",
        Severity.MINOR,
        lambda v: (
            "、".join(f"{label}“{value}”" for label, value in v.time_limits)
            + ("未说明是工作日还是自然日" if v.time_limits else "")
        ),
    ),
    _Kind(
        "checklist.form_download_missing",
        "未提供表格及填写示范获取渠道",
        Severity.MAJOR,
        lambda v: _forms_gap(v.forms_missing) if v.forms_missing else "",
    ),
    _Kind(
        "checklist.form_download_dead",
        "表格下载链接失效",
        Severity.MAJOR,
        lambda v: "，".join(f"“{text}”下载失败（{problem}）" for text, problem in v.dead_forms),
    ),
)

# The finding codes about one service item's guide (the 服务事项 rows of a problem list).
GUIDE_FINDING_CODES = frozenset(kind.code for kind in _KINDS)


def guide_findings(verdicts: Sequence[GuideVerdict]) -> list[Finding]:
    """One finding per problem kind, listing every guide that has it."""
    findings = []
    for kind in _KINDS:
        described = [(v, text) for v in verdicts if (text := kind.describe(v))]
        if not described:
            continue
        findings.append(
            Finding(
                code=kind.code,
                title=kind.title,
                detail="；".join(f"{v.name}：{text}" for v, text in described),
                severity=kind.severity,
                subjects=tuple(v.name for v, _ in described),
                data={v.name: v.url for v, _ in described},
            )
        )
    return findings
