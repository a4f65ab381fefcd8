"""The problem list (问题清单) in the layout of seed 001 附件1:

    地区名称 | 存在问题 | 问题/名称 | 具体内容

地区名称 is the unit; 存在问题 is what kind of problem — the probe kind (站内搜索, 在线注册,
咨询互动, 统一身份认证, 移动端), 平台功能 for the checklist's platform findings (入口不统一,
整栏目空白) and 服务事项 for service-guide findings; 问题/名称 is the finding title, or for
服务事项 the service item, whose problems are numbered "(1) … (2) …" as in the seed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from config.catalog import PROBE_LABELS, Catalog
from tasks.models import FindingRow, Task, TaskState

COLUMNS = ("地区名称", "存在问题", "问题/名称", "具体内容")
PLATFORM = "平台功能"
SERVICE_ITEMS = "服务事项"


@dataclass(frozen=True)
class ProblemRow:
    region: str  # 地区名称
    category: str  # 存在问题
    name: str  # 问题/名称
    content: str  # 具体内容
    task_ids: tuple[int, ...]

    def cells(self) -> tuple[str, str, str, str]:
        return (self.region, self.category, self.name, self.content)


@dataclass(frozen=True)
class Period:
    first: dt.date
    last: dt.date

    def __str__(self) -> str:
        return f"{self.first:%Y年%m月%d日}至{self.last:%Y年%m月%d日}"


def problem_rows(
    session: Session,
    catalog: Catalog,
    zone: ZoneInfo,
    period: Period,
    units: Collection[str],
    item_finding_codes: Collection[str],
) -> list[ProblemRow]:
    """Problems found in ``period`` (by opening date) for ``units``, a false alarm excepted.

    ``item_finding_codes`` are the findings that name one service item per subject (the
    guide check's); they become 服务事项 rows. Rows follow the catalog's unit order; within
    a unit, platform problems come first, then the service items.
    """
    start = dt.datetime.combine(period.first, dt.time(), tzinfo=zone)
    end = dt.datetime.combine(period.last + dt.timedelta(days=1), dt.time(), tzinfo=zone)
    tasks = session.scalars(
        select(Task)
        .where(
            Task.unit_code.in_(list(units)),
            Task.opened_at >= start,
            Task.opened_at < end,
            Task.state != TaskState.INVALIDATED.value,
        )
        .order_by(Task.id)
    ).all()
    itemised = [task for task in tasks if task.finding_code in item_finding_codes]
    subjects = _subjects(session, itemised)
    probes = {ident: check.probe for ident, _, check in catalog.checks()}
    names = {unit.code: unit.name for unit in catalog.units}
    order = {unit.code: n for n, unit in enumerate(catalog.units)}
    platform: list[ProblemRow] = []
    items: dict[tuple[str, str], list[tuple[int, str]]] = {}
    for task in tasks:
        region = names.get(task.unit_code, task.unit_code)
        if task.finding_code in item_finding_codes and subjects.get(task.id):
            for item, text in split_by_item(task.detail, subjects[task.id]):
                items.setdefault((task.unit_code, item), []).append(
                    (task.id, f"{task.title}，{text}")
                )
            continue
        probe = probes.get(task.check_id, "")
        category = PLATFORM if probe == "checklist" else PROBE_LABELS.get(probe, PLATFORM)
        platform.append(ProblemRow(region, category, task.title, task.detail, (task.id,)))
    service = [
        ProblemRow(
            names.get(unit_code, unit_code),
            SERVICE_ITEMS,
            item,
            numbered([text for _, text in found]),
            tuple(task_id for task_id, _ in found),
        )
        for (unit_code, item), found in items.items()
    ]
    code_of = {task.id: task.unit_code for task in tasks}

    def key(row: ProblemRow) -> tuple[int, int, int]:
        unit = code_of[row.task_ids[0]]
        return (order.get(unit, len(order)), row.category == SERVICE_ITEMS, row.task_ids[0])

    return sorted([*platform, *service], key=key)


def split_by_item(detail: str, items: list[str]) -> list[tuple[str, str]]:
    """``"甲：问题一；乙：问题二"`` with items 甲, 乙 → [(甲, 问题一), (乙, 问题二)].

    Items not found in the detail are left out; a detail naming none gives one row for
    the first item with the whole detail.
    """
    found: list[tuple[int, str]] = []
    cursor = 0
    for item in items:
        at = detail.find(f"{item}：", cursor)
        if at >= 0:
            found.append((at, item))
            cursor = at + len(item) + 1
    if not found:
        return [(items[0], detail)] if items else []
    parts = []
    for n, (at, item) in enumerate(found):
        stop = found[n + 1][0] if n + 1 < len(found) else len(detail)
        parts.append((item, detail[at + len(item) + 1 : stop].rstrip("；").strip()))
    return parts


def numbered(texts: list[str]) -> str:
    """One text as is; several as "(1) … (2) …", the way the seed lists them."""
    if len(texts) == 1:
        return texts[0]
    return " ".join(f"({n}) {text}" for n, text in enumerate(texts, 1))


def _subjects(session: Session, tasks: list[Task]) -> dict[int, list[str]]:
    """The items named by each task's latest finding."""
    if not tasks:
        return {}
    keys = {(task.last_run_id, task.finding_code): task.id for task in tasks}
    rows = session.execute(
        select(FindingRow.run_id, FindingRow.code, FindingRow.subjects).where(
            tuple_(FindingRow.run_id, FindingRow.code).in_(list(keys))
        )
    )
    return {keys[(run_id, code)]: list(subjects or []) for run_id, code, subjects in rows}
