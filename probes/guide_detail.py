"""Whether a guide's elements say enough, beyond being there (seed 000 E1–E4, seed 003 C1–C5).

- 流程详实: a process of bare step names (申请、受理、审查) says nothing of each step's
  time limit, standard or staff (seed 001 附件1: “只提供了申请、受理、审查等办事环节名称，未对
  各环节要求进行具体清晰描述”).
- 办理地点 down to the window: a street and number, a room or a window (seed 003: “办理地点信息
  有明确街道名称、门牌号、房间号或者窗口号”).
- 收费标准和依据: a charge names what it is charged under.
- 材料来源 (E2-1): each material says where the applicant gets it.

No browser in here: the functions judge :class:`~probes.guide_rules.Labelled` entries.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from config.guide_elements import ElementDictionary
from probes.guide_rules import (
    MATERIAL_NAME_LABELS,
    Labelled,
    is_blank,
    material_names,
    normalise_label,
    values_of,
)
from probes.readers import fold

# A step that says its time limit, standard or staff carries digits or such words.
STEP_DETAIL = re.compile(
    r"\d|工作日|自然日|小时|即办|即时|当场|当日|时限|标准|要求|人员|窗口|负责|材料|符合|通知|[:：]"
)
BARE_STEP_CHARS = 8
_STEP_SEPARATORS = re.compile(r"\s*(?:→|->|—>|＞|>|⇒|－>|—+|–|、|；|;)\s*")


def process_steps(
    entries: Sequence[Labelled], dictionary: ElementDictionary | None = None
) -> list[str]:
    """The steps of 办理流程: the items of its section, else its one line split at arrows."""
    found = values_of(entries, "办理流程", dictionary)
    for entry in found:
        if entry.items:
            return [" ".join(item.split()) for item in entry.items if item.strip()]
    for entry in found:
        if not is_blank(entry.value):
            return [step for step in _STEP_SEPARATORS.split(entry.value.strip()) if step]
    return []


def bare_steps(
    entries: Sequence[Labelled],
    dictionary: ElementDictionary | None = None,
    bare_chars: int = BARE_STEP_CHARS,
) -> list[str]:
    """The step names when every step of a process of two or more is a bare name; else []."""
    steps = process_steps(entries, dictionary)
    if len(steps) < 2:
        return []
    bare = [
        step
        for step in steps
        if len(re.sub(r"\s", "", fold(step))) <= bare_chars and not STEP_DETAIL.search(fold(step))
    ]
    return bare if len(bare) == len(steps) else []


# A street and door number, a floor or room, a window or counter.
SPECIFIC_LOCATION = re.compile(
    r"窗口|柜台|服务台|\d+\s*(号|室|层|楼|栋|座|幢)|[一二三四五六七八九十]+\s*(楼|层)"
    r"|路|街|大道|巷|弄|房间"
)


def vague_locations(
    entries: Sequence[Labelled],
    pattern: str | None = None,
    dictionary: ElementDictionary | None = None,
) -> list[str]:
    """The 办理地点 values that name no street and number, room or window."""
    words = re.compile(pattern) if pattern else SPECIFIC_LOCATION
    vague: list[str] = []
    for entry in values_of(entries, "办理地点", dictionary):
        value = " ".join(entry.value.split())
        if not is_blank(value) and not words.search(fold(value)) and value not in vague:
            vague.append(value)
    return vague


FREE_OF_CHARGE = re.compile(r"不收费|免费|无收费|不涉及收费|^无$|^否$|^0\s*元")
FEE_BASIS = re.compile(r"依据|《|〔\d{4}〕|\[\d{4}\]|（\d{4}）|令第|号文")
FEE_BASIS_LABELS = ("收费依据", "收费标准依据", "收费依据及标准")


def fees_without_basis(
    entries: Sequence[Labelled], dictionary: ElementDictionary | None = None
) -> list[str]:
    """Charges (收费标准 other than 不收费) that name no basis, in the value or a 收费依据 row."""
    basis_labels = {normalise_label(label) for label in FEE_BASIS_LABELS}
    if any(
        normalise_label(e.label) in basis_labels and FEE_BASIS.search(fold(e.value))
        for e in entries
    ):
        return []
    unfounded: list[str] = []
    for entry in values_of(entries, "收费标准", dictionary):
        value = " ".join(entry.value.split())
        folded = fold(value).strip("。. ")
        if is_blank(value, none_is_missing=False) or FREE_OF_CHARGE.search(folded):
            continue
        if not FEE_BASIS.search(folded) and value not in unfounded:
            unfounded.append(value)
    return unfounded


SOURCE_LABELS = ("来源渠道", "材料来源", "来源", "出具单位", "来源说明", "材料来源渠道", "提供方")
SOURCE_WORDS = re.compile(
    r"自备|核发|出具|开具|颁发|签发|提供|来源|下载|自行|申请人|机关|部门|单位|医院|银行"
    r"|局|厅|政府|派出所|法院|学校|公证处|中心"
)


def materials_without_source(
    entries: Sequence[Labelled], dictionary: ElementDictionary | None = None
) -> list[str]:
    """Materials that do not say where they come from (材料来源, seed 000 E2-1).

    In a materials table the 来源渠道 column decides (an empty cell is unsaid); a
    materials list is judged by each line's own words.
    """
    names_labels = {normalise_label(label) for label in MATERIAL_NAME_LABELS}
    source_labels = {normalise_label(label) for label in SOURCE_LABELS}
    names = next((e for e in entries if normalise_label(e.label) in names_labels and e.items), None)
    if names is not None:
        column = next(
            (
                e
                for e in entries
                if normalise_label(e.label) in source_labels and len(e.items) == len(names.items)
            ),
            None,
        )
        if column is not None:
            return [
                name
                for name, source in zip(names.items, column.items, strict=True)
                if not is_blank(name) and is_blank(source)
            ]
        # No column we know: each row's filled cells, under their column's name, must say it.
        count = len(names.items)
        columns = [(e.label, e.items) for e in entries if len(e.items) == count]
        rows = [
            " ".join(f"{label}：{cells[i]}" for label, cells in columns if not is_blank(cells[i]))
            for i in range(count)
        ]
        return [
            name
            for name, row in zip(names.items, rows, strict=True)
            if not is_blank(name) and not SOURCE_WORDS.search(fold(row))
        ]
    return [
        name for name in material_names(entries, dictionary) if not SOURCE_WORDS.search(fold(name))
    ]
