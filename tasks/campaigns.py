"""Campaigns (专项整改): one fixed deadline for every task opened in a scope and period,
and the campaign's own progress (seed 001: "请于2017年11月30日前完成整改").

A task joins a campaign when it opens (or recurs) on a day of the campaign's period, for a
unit of its subtree, on one of its checks, with one of its finding codes (an empty list
means any). It then gets the campaign's date as its deadline instead of opening day + N
working days. When campaigns overlap the earliest deadline wins: a unit is never given
more time than one of the notices it received allows. Extensions still move a campaign
task's deadline like any other.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from config.catalog import Catalog
from config.units import subtree
from tasks.models import Campaign, Task, TaskState

NAME_LIMIT = 200
PROGRESS_COLUMNS = (
    "责任单位",
    "发现问题",
    "已整改",
    "复核通过销号",
    "未销号",
    "超期未销号",
    "超期销号",
    "申诉成立撤销",
    "完成率",
)


class CampaignError(Exception):
    """A campaign that cannot be created or found; the text is Chinese."""


@dataclass(frozen=True)
class CampaignScope:
    """What a new campaign covers; empty tuples mean "any"."""

    name: str
    deadline: dt.date
    starts_on: dt.date
    ends_on: dt.date
    unit_code: str | None = None
    checks: tuple[str, ...] = ()
    finding_codes: tuple[str, ...] = ()
    note: str = ""


def create_campaign(
    session: Session, catalog: Catalog, scope: CampaignScope, actor: str, now: dt.datetime
) -> Campaign:
    """Validate ``scope`` against the catalog and store the campaign."""
    name = scope.name.strip()
    if not name:
        raise CampaignError("请填写专项整改名称")
    if len(name) > NAME_LIMIT:
        raise CampaignError(f"专项整改名称不能超过 {NAME_LIMIT} 个字")
    if scope.ends_on < scope.starts_on:
        raise CampaignError("发现问题的截止日期不能早于开始日期")
    if scope.deadline < scope.ends_on:
        raise CampaignError("统一整改时限不能早于发现问题的截止日期")
    units: list[str] = []
    if scope.unit_code:
        try:
            units = sorted(subtree(catalog, scope.unit_code))
        except KeyError:
            raise CampaignError(f"没有责任单位 {scope.unit_code}") from None
    known = {ident for ident, _, _ in catalog.checks()}
    unknown = [check for check in scope.checks if check not in known]
    if unknown:
        listed = "、".join(unknown)
        raise CampaignError(f"没有巡检项 {listed}（格式：巡检对象/巡检项，如 sf-portal/search）")
    codes = [code.strip() for code in scope.finding_codes if code.strip()]
    campaign = Campaign(
        name=name,
        deadline=scope.deadline,
        starts_on=scope.starts_on,
        ends_on=scope.ends_on,
        unit_code=scope.unit_code or None,
        units=units,
        checks=sorted(set(scope.checks)),
        finding_codes=sorted(set(codes)),
        note=scope.note.strip(),
        created_by=actor,
        created_at=now,
    )
    session.add(campaign)
    session.flush()
    return campaign


def code_matches(patterns: Iterable[str], code: str) -> bool:
    """``code`` is one of ``patterns``, exactly or under a ``prefix.*`` pattern."""
    return any(
        code == pattern or (pattern.endswith(".*") and code.startswith(pattern[:-1]))
        for pattern in patterns
    )


def covers(campaign: Campaign, check_id: str, unit_code: str, finding_code: str) -> bool:
    """Whether a task of ``check_id`` for ``unit_code`` about ``finding_code`` is in scope."""
    return (
        (not campaign.units or unit_code in campaign.units)
        and (not campaign.checks or check_id in campaign.checks)
        and (not campaign.finding_codes or code_matches(campaign.finding_codes, finding_code))
    )


def campaign_for(
    session: Session, check_id: str, unit_code: str, finding_code: str, day: dt.date
) -> Campaign | None:
    """The campaign a task opened on ``day`` joins: the earliest deadline among those
    covering it, or None."""
    running = session.scalars(
        select(Campaign)
        .where(Campaign.starts_on <= day, Campaign.ends_on >= day)
        .order_by(Campaign.deadline, Campaign.id)
    )
    return next((c for c in running if covers(c, check_id, unit_code, finding_code)), None)


def get_campaign(session: Session, campaign_id: int) -> Campaign:
    found = session.get(Campaign, campaign_id)
    if found is None:
        raise CampaignError(f"没有编号为 {campaign_id} 的专项整改")
    return found


def list_campaigns(session: Session) -> Sequence[Campaign]:
    """Newest first."""
    return session.scalars(select(Campaign).order_by(Campaign.id.desc())).all()


@dataclass
class UnitProgress:
    """One unit's tasks in a campaign.

    found: tasks opened in the campaign (问题数), less those found to be false alarms;
    fixed: reported fixed (待复核) or closed — 已整改;
    verified: closed (销号) — by a passing verification run, a later passing run, or a
    supervisor who checked the fix: each of them saw the problem gone (复核通过);
    overdue: not closed and past its deadline today; closed_late: closed after it;
    invalidated: disputes upheld (申诉成立，撤销).
    """

    unit_code: str
    unit_name: str
    found: int = 0
    fixed: int = 0
    verified: int = 0
    overdue: int = 0
    closed_late: int = 0
    invalidated: int = 0

    @property
    def pending(self) -> int:
        return self.found - self.verified

    @property
    def rate(self) -> str:
        """The share of problems closed (整改完成率)."""
        return f"{self.verified / self.found:.0%}" if self.found else "—"

    def cells(self) -> tuple[str, ...]:
        """The row under ``PROGRESS_COLUMNS``."""
        counts = (self.found, self.fixed, self.verified, self.pending, self.overdue)
        return (
            self.unit_name,
            *(str(n) for n in counts),
            str(self.closed_late),
            str(self.invalidated),
            self.rate,
        )

    def add(self, other: UnitProgress) -> None:
        for name in ("found", "fixed", "verified", "overdue", "closed_late", "invalidated"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class CampaignProgress:
    campaign: Campaign
    units: list[UnitProgress] = field(default_factory=list)
    total: UnitProgress = field(default_factory=lambda: UnitProgress("", "合计"))


def campaign_progress(
    session: Session,
    campaign: Campaign,
    names: Mapping[str, str],
    zone: ZoneInfo,
    today: dt.date,
    visible: frozenset[str] | None = None,
) -> CampaignProgress:
    """Per unit (in the order of ``names``, then by code) how the campaign's tasks stand
    ``today``; only the units in ``visible`` when given."""
    rows = session.execute(
        select(Task.unit_code, Task.state, Task.deadline, Task.closed_at).where(
            Task.campaign_id == campaign.id
        )
    ).all()
    per_unit: dict[str, UnitProgress] = {}
    for unit_code, state_text, deadline, closed_at in rows:
        if visible is not None and unit_code not in visible:
            continue
        unit = per_unit.get(unit_code) or UnitProgress(unit_code, names.get(unit_code, unit_code))
        per_unit[unit_code] = unit
        state = TaskState(state_text)
        if state is TaskState.INVALIDATED:
            unit.invalidated += 1
            continue
        unit.found += 1
        unit.fixed += state in (TaskState.RECTIFIED, TaskState.CLOSED)
        if state is TaskState.CLOSED:
            unit.verified += 1
            closed = closed_at.astimezone(zone).date() if closed_at is not None else today
            unit.closed_late += closed > deadline
        elif today > deadline:
            unit.overdue += 1
    order = {code: n for n, code in enumerate(names)}
    ranked = sorted(
        per_unit.values(), key=lambda u: (order.get(u.unit_code, len(order)), u.unit_code)
    )
    progress = CampaignProgress(campaign, ranked)
    for unit in progress.units:
        progress.total.add(unit)
    return progress


def unit_names(catalog: Catalog) -> dict[str, str]:
    """Unit code → name, in the catalog's order (the order progress rows follow)."""
    return {unit.code: unit.name for unit in catalog.units}


def scope_text(campaign: Campaign, unit_name: Mapping[str, str]) -> str:
    """The campaign's scope in words, for pages and the CLI."""
    parts = [
        f"{unit_name.get(campaign.unit_code, campaign.unit_code)}及下级单位"
        if campaign.unit_code
        else "全部责任单位"
    ]
    parts.append(f"巡检项 {'、'.join(campaign.checks)}" if campaign.checks else "全部巡检项")
    parts.append(
        f"问题代码 {'、'.join(campaign.finding_codes)}" if campaign.finding_codes else "全部问题"
    )
    return "；".join(parts)
