"""From guides as read to the checklist's verdicts and findings; no browser in here.

Each guide gets a :class:`GuideVerdict`; :func:`guide_findings` folds the verdicts into
one finding per problem kind that names every affected item, in the words of seed 001
附件1 (“公司设立登记：缺失设定依据”).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from config.catalog import Severity
from config.guide_elements import ElementDictionary, default_guide_elements
from core.results import Finding
from probes.guide_detail import (
    BARE_STEP_CHARS,
    bare_steps,
    fees_without_basis,
    materials_without_source,
    vague_locations,
)
from probes.guide_page import GuidePage
from probes.guide_rules import (
    FormKind,
    Labelled,
    Presence,
    element_presence,
    form_kind,
    forms_required,
    material_names,
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
    elements: ElementDictionary = field(default_factory=default_guide_elements)  # the dictionary
    location_pattern: str | None = None  # 办理地点 wordings precise enough (a window, a room)
    bare_step_chars: int = BARE_STEP_CHARS  # a step this short without details is a bare name


@dataclass(frozen=True)
class GuideVerdict:
    name: str
    url: str
    absent: tuple[str, ...] = ()  # elements without a label on the page
    empty: tuple[str, ...] = ()  # elements printed with nothing under them
    located: int = 0  # required elements whose label was found, published or empty
    published: tuple[str, ...] = ()  # required elements published with a value
    vague: tuple[str, ...] = ()  # material names
    phones: tuple[str, ...] = ()  # problems, in Chinese
    time_limits: tuple[tuple[str, str], ...] = ()  # (label, value)
    forms_missing: tuple[FormKind, ...] = ()
    dead_forms: tuple[tuple[str, str], ...] = ()  # (link text, problem)
    formats: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (material, aspects unsaid)
    bare_steps: tuple[str, ...] = ()  # step names, when every step is a bare name
    vague_locations: tuple[str, ...] = ()  # 办理地点 values not down to a window or room
    fees_without_basis: tuple[str, ...] = ()  # 收费标准 values naming no basis
    sources_unsaid: tuple[str, ...] = ()  # materials not saying where they come from

    @property
    def missing(self) -> tuple[str, ...]:
        """Required elements not published: absent or empty."""
        return (*self.absent, *self.empty)

    @property
    def problems(self) -> bool:
        kinds = (self.missing, self.vague, self.phones, self.time_limits, self.formats)
        details = (self.bare_steps, self.vague_locations, self.fees_without_basis)
        return (
            any(kinds)
            or any(details)
            or bool(self.forms_missing or self.dead_forms or self.sources_unsaid)
        )


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
    words = reading.elements
    names = material_names(entries, words)
    missing_forms: tuple[FormKind, ...] = ()
    if require_forms == "always" or forms_required(names):
        offered = {form_kind(link.text, link.context) for link in guide.downloads}
        missing_forms = tuple(kind for kind in FormKind if kind not in offered)
    contact = " ".join(e.value for e in _values(entries, "咨询电话", words))
    supervision = " ".join(e.value for e in _values(entries, "监督投诉电话", words))
    presence = element_presence(entries, elements, words)
    return GuideVerdict(
        name=guide.title or guide.url,
        url=guide.url,
        absent=tuple(n for n, p in presence.items() if p is Presence.ABSENT),
        empty=tuple(n for n, p in presence.items() if p is Presence.EMPTY),
        located=sum(p is not Presence.ABSENT for p in presence.values()),
        published=tuple(n for n, p in presence.items() if p is Presence.PUBLISHED),
        vague=tuple(vague_materials(names, vague_patterns)),
        phones=tuple(phone_problems(contact, supervision, reading.hotline_pattern)),
        time_limits=tuple(unclear_time_limits(entries, reading.clear_time_limit_pattern, words)),
        forms_missing=missing_forms,
        dead_forms=tuple(dead_forms),
        formats=tuple(unclear_material_formats(entries, reading.material_format_patterns)),
        bare_steps=_if_required(
            "办理流程", elements, bare_steps(entries, words, reading.bare_step_chars)
        ),
        vague_locations=_if_required(
            "办理地点", elements, vague_locations(entries, reading.location_pattern, words)
        ),
        fees_without_basis=_if_required("收费标准", elements, fees_without_basis(entries, words)),
        sources_unsaid=_if_required("申请材料", elements, materials_without_source(entries, words)),
    )


def _values(entries: Sequence[Labelled], name: str, words: ElementDictionary) -> list[Labelled]:
    return values_of(entries, name, words) if name in words else []


def _if_required(name: str, elements: Sequence[str], found: Sequence[str]) -> tuple[str, ...]:
    """A detail rule of an element judges only where the check requires the element."""
    return tuple(found) if name in elements else ()


def _gaps(v: GuideVerdict) -> str:
    parts = []
    if v.absent:
        parts.append(f"缺失{'、'.join(v.absent)}")
    if v.empty:
        parts.append(f"{'、'.join(v.empty)}内容为空")
    return "，".join(parts)


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
        _gaps,
    ),
    _Kind(
        "checklist.process_not_detailed",
        "办理流程不详实",
        Severity.MINOR,
        lambda v: (
            f"只提供了{_quoted(v.bare_steps)}等办事环节名称，未对各环节要求进行具体清晰描述"
            if v.bare_steps
            else ""
        ),
    ),
    _Kind(
        "checklist.location_not_specific",
        "办理地点不明确",
        Severity.MINOR,
        lambda v: "，".join(
            f"办理地点“{place}”未明确到街道门牌号、房间号或窗口号" for place in v.vague_locations
        ),
    ),
    _Kind(
        "checklist.fee_basis_missing",
        "收费标准未列明收费依据",
        Severity.MINOR,
        lambda v: "，".join(f"收费标准“{fee}”未列明收费依据" for fee in v.fees_without_basis),
    ),
    _Kind(
        "checklist.material_source_unclear",
        "办理材料未明确来源渠道",
        Severity.MINOR,
        lambda v: f"材料{_quoted(v.sources_unsaid)}未明确来源渠道" if v.sources_unsaid else "",
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
