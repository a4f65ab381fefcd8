"""The shapes the JSON API answers with; they are what /api/openapi.json describes."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field

from tasks.indicators import IndicatorReport
from tasks.models import Run
from tasks.scorecard import Scorecard


class TaskSummary(BaseModel):
    id: int
    unit_code: str
    unit_name: str
    check_id: str
    probe: str = Field(description="probe kind: search, registration, consultation, …")
    finding_code: str
    severity: str
    title: str = Field(description="问题名称，来自巡检（按文本处理）")
    detail: str = Field(description="具体内容，来自巡检（按文本处理）")
    state: str
    state_label: str
    opened_at: dt.datetime
    deadline: dt.date
    deadline_estimated: bool
    days_left: int | None = Field(description="working days left; negative when overdue")
    overdue: bool
    closed_at: dt.datetime | None
    occurrences: int
    console_path: str


class HistoryEntry(BaseModel):
    at: dt.datetime
    actor: str
    action: str
    from_state: str | None
    to_state: str
    reason: str


class RequestEntry(BaseModel):
    id: int
    kind: str = Field(description="extension (申请延期) or dispute (申诉)")
    state: str = Field(description="pending, approved or refused")
    days: int | None
    reason: str
    requested_by: str
    requested_at: dt.datetime
    decided_by: str | None
    decided_at: dt.datetime | None
    decision_note: str


class TaskDetail(TaskSummary):
    history: list[HistoryEntry]
    requests: list[RequestEntry]


class TaskList(BaseModel):
    total: int
    items: list[TaskSummary]


class FindingOut(BaseModel):
    code: str
    severity: str
    title: str
    detail: str
    subjects: list[str]


class RunOut(BaseModel):
    id: int
    check_id: str
    purpose: str
    task_id: int | None
    started_at: dt.datetime
    finished_at: dt.datetime
    duration_ms: int
    outcome: str = Field(description="pass, fail, inconclusive or error")
    summary: str
    error: str
    held: bool
    findings: list[FindingOut]
    evidence_files: int

    @classmethod
    def of(cls, run: Run) -> RunOut:
        files = run.evidence or {}
        return cls(
            id=run.id,
            check_id=run.check_id,
            purpose=run.purpose,
            task_id=run.task_id,
            started_at=run.started_at,
            finished_at=run.finished_at,
            duration_ms=run.duration_ms,
            outcome=run.outcome,
            summary=run.summary,
            error=run.error,
            held=run.held,
            findings=[
                FindingOut(
                    code=f.code,
                    severity=f.severity,
                    title=f.title,
                    detail=f.detail,
                    subjects=list(f.subjects or []),
                )
                for f in run.findings
            ],
            evidence_files=sum(len(v) for v in files.values() if isinstance(v, list)),
        )


class RunList(BaseModel):
    total: int
    items: list[RunOut]


class UnitOut(BaseModel):
    code: str
    name: str
    level: str
    parent: str | None
    open_tasks: int
    overdue_tasks: int


class ScorecardOut(BaseModel):
    month: str
    rank: int
    unit_code: str
    unit_name: str
    opened: int
    closed: int
    closed_on_time: int
    overdue: int
    overdue_days: int
    reopened: int
    disputes_upheld: int
    mean_fix_days: float | None
    deductions: dict[str, float]
    full_marks: float = Field(description="扣分指标满分 M（100 减不适用指标的分值）")
    availability: float | None = Field(description="本单位巡检对象的月可用率（0–1）")
    x: float = Field(description="扣分指标得分（(M − 扣分) × 100/M）")
    y: float = Field(description="加分指标得分")
    total: float
    level: str
    red_list: bool
    black_list: bool
    indicators: IndicatorsOut | None = Field(
        default=None, description="本月指标得分（默认为 2021 年国家评估指标体系）"
    )

    @classmethod
    def of(
        cls, card: Scorecard, month: str, rank: int, report: IndicatorReport | None = None
    ) -> ScorecardOut:
        return cls(
            month=month,
            rank=rank,
            unit_code=card.unit_code,
            unit_name=card.unit_name,
            opened=card.opened,
            closed=card.closed,
            closed_on_time=card.closed_on_time,
            overdue=card.overdue,
            overdue_days=card.overdue_days,
            reopened=card.reopened,
            disputes_upheld=card.disputes_upheld,
            mean_fix_days=card.mean_fix_days,
            deductions=card.deductions,
            full_marks=card.full_marks,
            availability=card.availability.share,
            x=card.x,
            y=card.y,
            total=card.total,
            level=card.level,
            red_list=card.red_list,
            black_list=card.black_list,
            indicators=IndicatorsOut.of(report) if report is not None else None,
        )


class IndicatorOut(BaseModel):
    code: str
    name: str
    depth: int = Field(description="0 为一级指标")
    weight: float
    share: float | None = Field(description="按适用的同级指标折算后的权重（%）；不适用为 null")
    runs: int = Field(description="计分的巡检次数")
    against: int = Field(description="其中出现对应问题的巡检次数")
    score: float | None = Field(description="得分 0–100；不适用为 null")
    evidence_runs: list[int] = Field(description="出现对应问题的巡检记录（最新的 20 条）")


class IndicatorsOut(BaseModel):
    total: float | None = Field(description="综合得分 0–100；全部不适用为 null")
    items: list[IndicatorOut]

    @classmethod
    def of(cls, report: IndicatorReport) -> IndicatorsOut:
        return cls(
            total=report.total,
            items=[
                IndicatorOut(
                    code=row.code,
                    name=row.name,
                    depth=row.depth,
                    weight=row.weight,
                    share=row.share,
                    runs=row.runs,
                    against=row.against,
                    score=row.score,
                    evidence_runs=list(row.evidence),
                )
                for row in report.rows
            ],
        )


ScorecardOut.model_rebuild()  # its indicators are declared below it
