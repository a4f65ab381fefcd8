"""Policies of the chase and of the monthly scoring, set in the catalog.

Defaults follow DESIGN.md (the escalation ladder) and seed 002 (the Guangxi monthly
deduction scoring: X out of 100 with per-item caps, a bonus Y out of 50 only above a
threshold, levels 非常高/高/中/低, a red list and a black list).
"""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from config.durations import Duration


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ChasePolicy(_Strict):
    """The escalation ladder (催办): when each step happens, in working days."""

    digest: bool = True  # one daily digest per unit on working days
    digest_at: dt.time = dt.time(9, 0)  # local time
    due_soon_days: int = Field(default=1, ge=0, le=30)  # warning this many days before
    escalate_after_days: int = Field(default=3, ge=1, le=60)  # overdue → 督办 (supervisors)
    report_after_days: int = Field(default=5, ge=1, le=120)  # overdue → 通报 (their leaders)

    @model_validator(mode="after")
    def _ordered(self) -> ChasePolicy:
        if self.report_after_days <= self.escalate_after_days:
            raise ValueError("report_after_days must be greater than escalate_after_days")
        return self


class FailureGuard(_Strict):
    """Holds task opening when many targets fail at once (most likely our own trouble)."""

    mass_failure_share: float = Field(default=0.5, gt=0, le=1)
    min_targets: int = Field(default=3, ge=2)
    window: Duration = dt.timedelta(minutes=10)


class MaintenanceLimits(_Strict):
    """Bounds of the maintenance windows units request (申报) through their task links.

    Operator windows (catalog entries, ``govpatrol maintenance add``) are not bounded.
    """

    max_length: Duration = dt.timedelta(days=7)  # one window at most this long
    max_lead: Duration = dt.timedelta(days=30)  # may start at most this far ahead
    monthly_hours: float = Field(default=72.0, gt=0, le=744)  # per target, calendar month

    @field_validator("max_length")
    @classmethod
    def _positive(cls, value: dt.timedelta) -> dt.timedelta:
        if value <= dt.timedelta(0):
            raise ValueError("must be positive, e.g. 7d")
        return value

    @field_validator("max_lead")
    @classmethod
    def _not_negative(cls, value: dt.timedelta) -> dt.timedelta:
        if value < dt.timedelta(0):
            raise ValueError("must not be negative")
        return value


class Deductions(_Strict):
    """The task-behaviour items of the deduction part X, each with its own cap (单项扣分上限).

    Their codes, for ``ScoringPolicy.not_applicable``: opened, overdue, overdue_days,
    reopened, critical.
    """

    per_task_opened: float = 1.0
    opened_cap: float = 30.0
    per_overdue_task: float = 2.0
    overdue_cap: float = 30.0
    per_overdue_day: float = 0.5
    overdue_days_cap: float = 20.0
    per_reopen: float = 2.0
    reopen_cap: float = 10.0
    per_critical_task: float = 1.0
    critical_cap: float = 10.0


TASK_ITEMS = ("opened", "overdue", "overdue_days", "reopened", "critical")


class IndicatorItem(_Strict):
    """One indicator item of the deduction part X (a 二级指标 of seed 002, e.g. A1).

    Each task of the month whose finding code starts with one of ``finding_codes``
    deducts ``per_task``; the item's deductions stop at its ``points`` (分值).
    """

    code: str = Field(min_length=1, max_length=20)
    name: str = Field(min_length=1)
    points: float = Field(gt=0, le=100)
    per_task: float = Field(default=1.0, ge=0)
    finding_codes: tuple[str, ...] = ()


class Bonus(_Strict):
    """Bonus part Y (50 points), scored only when X is above ``threshold``."""

    threshold: float = 70.0
    on_time_rate: float = 20.0  # × share of tasks closed on time
    quick_ack_rate: float = 10.0  # × share acknowledged within one working day
    no_overdue_at_month_end: float = 10.0
    fast_fix: float = 10.0  # mean time to fix within ``fast_fix_days`` working days
    fast_fix_days: int = 2
    cap: float = 50.0


class ScoringPolicy(_Strict):
    """Scoring in the style of the Guangxi monthly check (seed 002).

    The item points of part X (the task items' caps and the indicators' points) add up
    to at most 100. Items that do not apply to a unit (``not_applicable``: unit code →
    item codes, seed 002's "没有的二级指标") leave it scored out of M = 100 − their points,
    rescaled by N = 100 / M.
    """

    deductions: Deductions = Deductions()
    indicators: tuple[IndicatorItem, ...] = ()
    not_applicable: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    bonus: Bonus = Bonus()
    levels: dict[str, float] = Field(
        default_factory=lambda: {"非常高": 90.0, "高": 80.0, "中": 70.0, "低": 0.0}
    )
    red_list_at: float = 80.0  # 红榜: total ≥ this
    black_list_below: float = 60.0  # 黑榜: total < this

    @model_validator(mode="after")
    def _items_fit_in_100(self) -> ScoringPolicy:
        codes = [item.code for item in self.indicators]
        if len(set(codes)) != len(codes) or set(codes) & set(TASK_ITEMS):
            raise ValueError(f"indicator codes must be unique and not one of {TASK_ITEMS}")
        total = sum(self.item_points().values())
        if total > 100:
            raise ValueError(f"the items of part X add up to {total:g} points, more than 100")
        for unit, missing in self.not_applicable.items():
            unknown = set(missing) - set(self.item_points())
            if unknown:
                raise ValueError(f"not_applicable.{unit} names unknown items: {sorted(unknown)}")
        return self

    def item_points(self) -> dict[str, float]:
        """Every item code of part X with its points (a task item's cap)."""
        d = self.deductions
        caps = (d.opened_cap, d.overdue_cap, d.overdue_days_cap, d.reopen_cap, d.critical_cap)
        points = dict(zip(TASK_ITEMS, caps, strict=True))
        return {**points, **{item.code: item.points for item in self.indicators}}
