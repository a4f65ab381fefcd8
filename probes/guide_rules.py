"""The text rules of the national checklist (全国互联网政务服务平台检查指标), without a browser.

A guide page is read into :class:`Labelled` entries (a Chinese label such as 设定依据 and
what follows it); these functions judge them: 要素全面性 (every element present),
材料明确性 (no 兜底 wording such as “其他材料”), 电话准确性 (area code, contact phone not
the supervision phone), 时限 (工作日 or 自然日 stated), and whether the guide asks for
a form and so owes a blank form and a filled-in sample (表格下载, 填写示范).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from config.guide_elements import ElementDictionary, GuideElement, default_guide_elements
from probes.readers import (
    MATERIAL_FORMAT_ASPECTS,
    Phone,
    PhoneKind,
    format_aspects,
    phones_in,
    time_limit_is_clear,
    unsaid_format_aspects,
)

__all__ = ["MATERIAL_FORMAT_ASPECTS", "GuideElement", "Phone", "PhoneKind", "phones_in"]


@dataclass(frozen=True)
class Labelled:
    """One label found on a guide page and what follows it.

    ``items`` holds the entries under the label when they are a list: the cells of a
    table column (材料名称) or the list items of a section.
    """

    label: str
    value: str
    items: tuple[str, ...] = ()


ELEMENTS: tuple[GuideElement, ...] = tuple(default_guide_elements().values())
ELEMENT_NAMES: tuple[str, ...] = tuple(element.name for element in ELEMENTS)
MATERIAL_NAME_LABELS = ("材料名称", "申请材料名称", "材料")

_PLACEHOLDERS = frozenset({"", "暂无", "待补充", "待定", "空", "/", "-", "--", "—", "——", "null"})
_LABEL_NOISE = re.compile(r"[\s\u3000*＊:：]+")
_BRACKETED_TAIL = re.compile(r"[（(][^（）()]*[)）]$")


def normalise_label(text: str) -> str:
    """A label as printed, folded: width, spaces, colons, asterisks and a bracketed tail go."""
    folded = _LABEL_NOISE.sub("", unicodedata.normalize("NFKC", text))
    return _BRACKETED_TAIL.sub("", folded)


def element(name: str, dictionary: ElementDictionary | None = None) -> GuideElement:
    """The element called ``name``; raises KeyError naming the known ones."""
    known = dictionary if dictionary is not None else default_guide_elements()
    try:
        return known[name]
    except KeyError:
        raise KeyError(f"unknown guide element {name!r}; known: {'、'.join(known)}") from None


def is_blank(value: str, *, none_is_missing: bool = True) -> bool:
    """Whether a value says nothing (empty, 暂无, a dash; 无 unless it is a real answer)."""
    folded = unicodedata.normalize("NFKC", value).strip().strip("。.").lower()
    return folded in _PLACEHOLDERS or (none_is_missing and folded == "无")


def values_of(
    entries: Iterable[Labelled], name: str, dictionary: ElementDictionary | None = None
) -> list[Labelled]:
    """Entries printed under one of the labels of element ``name``."""
    labels = {normalise_label(label) for label in element(name, dictionary).labels}
    return [entry for entry in entries if normalise_label(entry.label) in labels]


class Presence(StrEnum):
    PUBLISHED = "published"  # a label with a value
    EMPTY = "empty"  # a label with nothing under it (暂无, a dash, an empty cell)
    ABSENT = "absent"  # no label of the element on the page


def element_presence(
    entries: Sequence[Labelled],
    required: Iterable[str],
    dictionary: ElementDictionary | None = None,
) -> dict[str, Presence]:
    """Per required element, whether the page publishes it, prints it empty, or lacks it."""
    presence = {}
    for name in required:
        rule = element(name, dictionary)
        found = values_of(entries, name, dictionary)
        if any(not is_blank(e.value, none_is_missing=rule.none_is_missing) for e in found):
            presence[name] = Presence.PUBLISHED
        else:
            presence[name] = Presence.EMPTY if found else Presence.ABSENT
    return presence


def missing_elements(
    entries: Sequence[Labelled],
    required: Iterable[str],
    dictionary: ElementDictionary | None = None,
) -> list[str]:
    """Required elements with no label on the page, or only blank values under it."""
    presence = element_presence(entries, required, dictionary)
    return [name for name, seen in presence.items() if seen is not Presence.PUBLISHED]


def material_names(
    entries: Sequence[Labelled], dictionary: ElementDictionary | None = None
) -> list[str]:
    """The names of the 申请材料: a 材料名称 column, else the items of the materials section."""
    labels = {normalise_label(label) for label in MATERIAL_NAME_LABELS}
    for entry in entries:
        if normalise_label(entry.label) in labels and entry.items:
            return [item for item in entry.items if not is_blank(item)]
    for entry in values_of(entries, "申请材料", dictionary):
        if entry.items:
            return [item for item in entry.items if not is_blank(item)]
        lines = re.split(r"[\n；;]+", entry.value)
        if not is_blank(entry.value):
            return [line.strip() for line in lines if line.strip()]
    return []


# 兜底 wording the checklist names: “根据有关法律法规规定应提交的其他材料”, “相关材料”.
VAGUE_MATERIAL_PATTERNS: tuple[str, ...] = (
    r"其[他它][^，,。；;]{0,8}(材料|文件|证明|资料)",
    r"(相关|有关)(材料|资料)",
    r"(要求|规定)[^，,。；;]{0,6}(提供|提交)的",
    r"等(材料|资料)$",
)


def vague_materials(
    names: Iterable[str], patterns: Sequence[str] = VAGUE_MATERIAL_PATTERNS
) -> list[str]:
    """The material names worded as a catch-all (其他材料, 相关材料, 规定应提交的…)."""
    compiled = [re.compile(pattern) for pattern in patterns]
    return [name for name in names if any(p.search(name) for p in compiled)]


# 材料格式要求 (seed 001: “部分材料未明确纸质版/电子版、份数等要求”; seed 000 E2-2, E2-3):
# each 申请材料 should say original or copy, paper or electronic, and how many copies.
# The words live in ``probes.readers`` (原件/复印件 state paper too).


def unclear_material_formats(
    entries: Sequence[Labelled], aspect_patterns: Mapping[str, str] | None = None
) -> list[tuple[str, tuple[str, ...]]]:
    """Materials whose row says nothing of some format aspect: (name, aspects missing).

    In a materials table every column with one cell per material belongs to the row (材料类型,
    份数, 材料形式, 备注…); a materials list is judged by each line's own words.
    """
    aspects = format_aspects(aspect_patterns)
    labels = {normalise_label(label) for label in MATERIAL_NAME_LABELS}
    names_entry = next((e for e in entries if normalise_label(e.label) in labels and e.items), None)
    if names_entry is not None:
        count = len(names_entry.items)
        # Each cell under its column's name: a bare “1” under 份数 states the copies.
        labelled = [(e.label, e.items) for e in entries if len(e.items) == count]
        rows = [
            (
                name,
                " ".join(f"{label}：{items[i]}" for label, items in labelled if items[i].strip()),
            )
            for i, name in enumerate(names_entry.items)
        ]
    else:
        rows = [(name, name) for name in material_names(entries)]
    unclear = []
    for name, text in rows:
        if is_blank(name):
            continue
        missing = unsaid_format_aspects(text, aspects)
        if missing:
            unclear.append((name, missing))
    return unclear


def phone_problems(contact: str, supervision: str, hotline_pattern: str | None = None) -> list[str]:
    """What is wrong with a guide's phones (电话准确性 C1-13), in Chinese; empty when fine.

    Both phones are judged only when printed (a missing one is an element gap); a
    number without area code, a field without any number, and a contact number that is
    also the supervision number are problems. Shared hotlines such as 12345 are fine.
    """
    problems: list[str] = []
    fields = (("咨询电话", contact), ("监督投诉电话", supervision))
    numbers: dict[str, set[str]] = {}
    for label, text in fields:
        if is_blank(text):
            continue
        phones = phones_in(text, hotline_pattern)
        if not phones:
            problems.append(f"{label}“{_short(text)}”未标注电话号码")
        for phone in phones:
            if phone.kind is PhoneKind.LOCAL:
                problems.append(f"{label}“{phone.text}”未标注区号")
        numbers[label] = {p.digits[-8:] for p in phones if p.kind is not PhoneKind.HOTLINE}
    shared = numbers.get("咨询电话", set()) & numbers.get("监督投诉电话", set())
    if shared:
        shown = [p.text for p in phones_in(contact, hotline_pattern) if p.digits[-8:] in shared]
        problems.append(f"咨询电话与监督投诉电话相同（{'、'.join(dict.fromkeys(shown))}）")
    return problems


def unclear_time_limits(
    entries: Iterable[Labelled],
    clear_pattern: str | None = None,
    dictionary: ElementDictionary | None = None,
) -> list[tuple[str, str]]:
    """(label, value) of the time limits that do not say 工作日 or 自然日 (nor 即办, 当场),
    e.g. 承诺时限“20日”; each wording once."""
    unclear: dict[str, str] = {}
    for entry in values_of(entries, "办理时限", dictionary):
        value = " ".join(entry.value.split())
        if is_blank(value) or time_limit_is_clear(value, clear_pattern) or value in unclear:
            continue
        unclear[value] = normalise_label(entry.label)
    return [(label, value) for value, label in unclear.items()]


# A material that is a form the applicant fills in (申请表, 申请书, 登记表, 承诺书…).
FORM_MATERIAL = re.compile(
    r"(申请|申报|登记|审核|审批|备案|注册|报名|核准|变更|注销|信息|情况|体检|审查)(表|书)"
    r"|表格|(承诺|授权|委托|声明)书"
)
SAMPLE_WORDS = re.compile(r"示范|样表|样本|范本|范例|示例|填写说明|填表说明")
BLANK_WORDS = re.compile(r"空表|空白|表格|申请表|申请书|登记表|模板")


def forms_required(names: Iterable[str]) -> bool:
    """Whether the materials include a form to fill in, so 表格下载 and 填写示范 are owed."""
    return any(FORM_MATERIAL.search(name) for name in names)


class FormKind(StrEnum):
    BLANK = "blank"  # 空白表格 (表格下载)
    SAMPLE = "sample"  # 示范文本 / 样表 (填写示范)


def form_kind(link_text: str, context: str) -> FormKind:
    """Whether a download link is the blank form or the filled-in sample.

    The link's own words decide first (“…申请书（示范文本）.pdf”); the label it is
    printed under (示范文本, 表格下载) decides otherwise.
    """
    if SAMPLE_WORDS.search(link_text):
        return FormKind.SAMPLE
    if BLANK_WORDS.search(link_text):
        return FormKind.BLANK
    return FormKind.SAMPLE if SAMPLE_WORDS.search(context) else FormKind.BLANK


_COUNT_TAIL = re.compile(r"\s*[（(]\s*\d+\s*(项|个|件)?\s*[)）]\s*$")


def category_name(link_text: str) -> str:
    """A theme or department as named on its link, without the item count: 生育收养（3）."""
    return _COUNT_TAIL.sub("", " ".join(link_text.split()))


def _short(text: str, limit: int = 20) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "…"
