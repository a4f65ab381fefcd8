"""Whether two sites say the same of one service item (同源一致性), without a browser.

Seed 000 A4-1/A4-2/C3-2 check the same item on the national platform and the provincial
one: 法定时限, 承诺时限, 到现场次数, 收费 and 申请材料 must agree (seed 003: “办事要求不统一、
事项数量不一致、信息更新不同步”). Sites word the same fact differently, so values are read
into a canonical form first (“5个工作日” = “5工作日” = “五个工作日”; 不收费 = 免费 = 0元) and
only canonical forms are compared. A value that cannot be read into one is never called
different: :func:`compare` says UNREADABLE and the probe reports it as unjudged.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from config.guide_elements import ElementDictionary
from probes.guide_detail import FREE_OF_CHARGE
from probes.guide_rules import Labelled, is_blank, material_names, normalise_label, values_of


class Field(StrEnum):
    """The guide facts compared across sites, by the name findings use."""

    LEGAL_LIMIT = "法定时限"
    PROMISED_LIMIT = "承诺时限"
    VISITS = "到现场次数"
    FEE = "收费标准"
    MATERIALS = "申请材料"


# The two limits are one element (办理时限) to the checklist; here they are told apart.
_LIMIT_LABELS = {
    Field.LEGAL_LIMIT: ("法定时限", "法定办结时限", "法定办理时限", "法定期限"),
    Field.PROMISED_LIMIT: ("承诺时限", "承诺办结时限", "承诺办理时限", "承诺期限"),
}
SELECTOR_PREFIX = "selector:"  # labels of values read by a configured selector


class Verdict(StrEnum):
    SAME = "same"
    DIFFERENT = "different"
    UNREADABLE = "unreadable"  # a side's wording is not understood, or not comparable


# -- reading a field off a guide -------------------------------------------------------------


@dataclass(frozen=True)
class Reading:
    """What one site prints for one field: the words as printed, or the material names."""

    text: str = ""
    names: tuple[str, ...] = ()
    problem: str = ""  # why it could not be read (absent, two different values…)

    @property
    def read(self) -> bool:
        return not self.problem


def read_field(
    entries: Sequence[Labelled], field: Field, dictionary: ElementDictionary | None = None
) -> Reading:
    """The value of ``field`` on a guide; a configured selector's reading wins."""
    chosen = [e for e in entries if e.label == f"{SELECTOR_PREFIX}{field.value}"]
    if field is Field.MATERIALS:
        if chosen:
            names = tuple(t for e in chosen for t in (e.items or (e.value,)) if not is_blank(t))
        else:
            names = tuple(material_names(entries, dictionary))
        return Reading(names=names) if names else Reading(problem="未读到申请材料")
    if not chosen:
        if field in _LIMIT_LABELS:
            labels = {normalise_label(label) for label in _LIMIT_LABELS[field]}
            chosen = [e for e in entries if normalise_label(e.label) in labels]
        else:
            element = "到现场次数" if field is Field.VISITS else "收费标准"
            chosen = values_of(entries, element, dictionary)
    values = list(
        dict.fromkeys(
            " ".join(e.value.split())
            for e in chosen
            if not is_blank(e.value, none_is_missing=field is not Field.FEE)
        )
    )
    if not values:
        return Reading(problem=f"未读到{field.value}")
    if field is Field.FEE:
        # 是否收费：否 and 收费标准：无 are one fact printed twice; read them together.
        return Reading(text="；".join(values))
    readable = [value for value in values if _canonical(field, value) is not None]
    if len({_canonical(field, value) for value in readable}) > 1:
        shown = "、".join(f"“{value}”" for value in values)
        return Reading(problem=f"{field.value}读到多个不同的值（{shown}）")
    return Reading(text=(readable or values)[0])


def _canonical(field: Field, value: str) -> object:
    if field in _LIMIT_LABELS:
        return time_limit(value)
    if field is Field.VISITS:
        return visits(value)
    return fee(value)


# -- numbers ---------------------------------------------------------------------------------

_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4}
_CN_DIGITS.update({"五": 5, "六": 6, "七": 7, "八": 8, "九": 9})
_CN_UNITS = {"十": 10, "百": 100}


def number(text: str) -> float | None:
    """A count in Arabic or Chinese numerals (15, 十五, 二十, 一百二十), or None."""
    text = text.strip()
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return float(text)
    if not text or any(ch not in _CN_DIGITS and ch not in _CN_UNITS for ch in text):
        return None
    total, digit = 0, None
    for ch in text:
        if ch in _CN_DIGITS:
            digit = _CN_DIGITS[ch]
        else:
            total += (1 if digit is None else digit) * _CN_UNITS[ch]
            digit = None
    return float(total + (digit or 0))


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


_NUMERAL = r"\d+(?:\.\d+)?|[零〇一二两三四五六七八九十百]+"


# -- time limits -----------------------------------------------------------------------------


@dataclass(frozen=True)
class TimeLimit:
    amount: float
    unit: str  # 工作日, 自然日, 日 (unsaid which), 小时, 周, 月, 年; 即办 with amount 0


INSTANT = TimeLimit(0, "即办")
_DAY_UNITS = {"工作日", "自然日", "日"}
_LIMIT = re.compile(rf"({_NUMERAL})\s*个?\s*(工作日|自然日|日历日|小时|天|日|周|星期|月|年)(?!期)")
_INSTANT_WORDS = re.compile(r"即办|即时办|当场办|立即办|即来即办|现场办结|当即")


def time_limit(text: str) -> TimeLimit | None:
    """“5个工作日”, “5工作日”, “五个工作日” → TimeLimit(5, 工作日); 即办/当场办结 → INSTANT."""
    folded = _fold(text)
    match = _LIMIT.search(folded)
    if match is None:
        return INSTANT if _INSTANT_WORDS.search(folded) else None
    amount = number(match.group(1))
    if amount is None:
        return None
    unit = {"日历日": "自然日", "天": "日", "星期": "周"}.get(match.group(2), match.group(2))
    if amount == 0 and unit in _DAY_UNITS:
        return INSTANT
    return TimeLimit(amount, unit)


def compare_time_limits(a: str, b: str) -> Verdict:
    first, second = time_limit(a), time_limit(b)
    if first is None or second is None:
        return Verdict.UNREADABLE
    if first == second:
        return Verdict.SAME
    if INSTANT in (first, second):
        other = second if first == INSTANT else first
        # 即办 against a count of days says a different thing; against hours it may not.
        return Verdict.DIFFERENT if other.unit in _DAY_UNITS else Verdict.UNREADABLE
    if first.unit == second.unit:
        return Verdict.DIFFERENT  # amounts differ
    units = {first.unit, second.unit}
    if units <= _DAY_UNITS:
        if "日" in units:
            # “20日” says no more than a count of days: only another count differs from it.
            return Verdict.SAME if first.amount == second.amount else Verdict.DIFFERENT
        return Verdict.DIFFERENT  # 工作日 against 自然日: two different promises
    return Verdict.UNREADABLE  # hours against days, months against days: not comparable


# -- visits ----------------------------------------------------------------------------------

_VISITS = re.compile(rf"({_NUMERAL})\s*次")
_NO_VISIT = re.compile(
    r"零跑动|0跑动|不见面|全程网办|无需到(办事)?现场|不需要?到(办事)?现场|无需跑动"
)


def visits(text: str) -> int | None:
    """“0次（全程网办）”, “零次”, “最多跑一次”, “无需到现场” → a count; None if unsaid."""
    folded = _fold(text).strip()
    if folded.isdigit():
        return int(folded)  # a bare count under the 到现场次数 label
    match = _VISITS.search(folded)
    if match is not None:
        amount = number(match.group(1))
        return int(amount) if amount is not None else None
    return 0 if _NO_VISIT.search(folded) else None


def compare_visits(a: str, b: str) -> Verdict:
    first, second = visits(a), visits(b)
    if first is None or second is None:
        return Verdict.UNREADABLE
    return Verdict.SAME if first == second else Verdict.DIFFERENT


# -- fees ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Fee:
    charged: bool
    amounts: frozenset[float] = frozenset()  # the sums printed (元), if any


# Free of charge in more words than the checklist needs: 不收取费用 must not read as 收取.
_FREE = re.compile(
    r"不收[取费]|免费|免收|无收费|不涉及收费|零收费|无需缴费|无须缴费|不需缴费|不需要缴费"
    r"|^无$|^否$|^0(\.0+)?\s*元"
)
_AMOUNT = re.compile(r"(\d+(?:\.\d+)?)\s*元")
_CHARGED = re.compile(r"^是$|^收费$|^需收费|元|收取|收费标准为|按.{0,20}收费")


def fee(text: str) -> Fee | None:
    """不收费/免费/否/无/0元 → free; 是/工本费10元/按…收费 → charged (with its sums)."""
    parts = [p.strip(" 。.") for p in re.split(r"[；;\n]", _fold(text)) if p.strip(" 。.")]
    free = charged = False
    amounts: set[float] = set()
    for part in parts:
        if FREE_OF_CHARGE.search(part) or _FREE.search(part):
            free = True
        elif _CHARGED.search(part):
            charged = True
            amounts |= {float(a) for a in _AMOUNT.findall(part)}
        else:
            return None
    if free == charged:
        return None  # neither said, or both: not a fact to compare
    return Fee(charged, frozenset(amounts))


def compare_fees(a: str, b: str) -> Verdict:
    first, second = fee(a), fee(b)
    if first is None or second is None:
        return Verdict.UNREADABLE
    if first.charged != second.charged:
        return Verdict.DIFFERENT
    if first.amounts and second.amounts and first.amounts != second.amounts:
        return Verdict.DIFFERENT
    return Verdict.SAME  # both free, or both charged without sums that disagree


# -- materials -------------------------------------------------------------------------------

_BRACKETED = re.compile(r"[（(【\[〔][^（）()【】\[\]〔〕]*[)）】\]〕]")
_NUMBERING = re.compile(r"^\s*(\d+\s*[.、．)）]|[（(]\s*\d+\s*[)）]|[一二三四五六七八九十]+\s*、)")


def material_key(name: str) -> str:
    """A material's name without numbering, brackets, punctuation, spaces or width."""
    folded = _NUMBERING.sub("", _fold(name))
    while _BRACKETED.search(folded):
        folded = _BRACKETED.sub("", folded)
    kept = (ch for ch in folded if unicodedata.category(ch)[0] not in "PZSC")
    return "".join(kept).lower()


def material_differences(
    first: Sequence[str], second: Sequence[str]
) -> tuple[list[str], list[str]]:
    """(names only ``first`` lists, names only ``second`` lists), as each prints them.

    Two names match when their keys are equal or one holds the other (“公司章程” and
    “公司章程原件1份”): a row printed with its form attached is still the same material.
    """

    def matched(key: str, others: list[str]) -> bool:
        return any(
            key == o or (min(len(key), len(o)) >= 2 and (key in o or o in key)) for o in others
        )

    keys_first = [material_key(n) for n in first]
    keys_second = [material_key(n) for n in second]
    only_first = [
        n for n, k in zip(first, keys_first, strict=True) if k and not matched(k, keys_second)
    ]
    only_second = [
        n for n, k in zip(second, keys_second, strict=True) if k and not matched(k, keys_first)
    ]
    return list(dict.fromkeys(only_first)), list(dict.fromkeys(only_second))


def compare(field: Field, first: Reading, second: Reading) -> Verdict:
    """Whether two sites' readings of ``field`` agree."""
    if not (first.read and second.read):
        return Verdict.UNREADABLE
    if field is Field.MATERIALS:
        only = material_differences(first.names, second.names)
        return Verdict.DIFFERENT if only[0] or only[1] else Verdict.SAME
    if field is Field.VISITS:
        return compare_visits(first.text, second.text)
    if field is Field.FEE:
        return compare_fees(first.text, second.text)
    return compare_time_limits(first.text, second.text)
