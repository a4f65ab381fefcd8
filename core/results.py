"""What a probe hands back: an outcome and findings. No browser types in here.

These records cross from probes to tasks; keep them plain, typed and frozen.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from config.catalog import Severity

__all__ = ["Evidence", "Finding", "Outcome", "ProbeResult", "Severity"]


class Outcome(StrEnum):
    PASS = "pass"  # noqa: S105 - the journey worked
    FAIL = "fail"  # the portal broke the journey; findings say how
    INCONCLUSIVE = "inconclusive"  # the bot could not judge (CAPTCHA, locked test account…)
    ERROR = "error"  # the monitor itself failed


@dataclass(frozen=True)
class Finding:
    """One thing wrong, in words a unit can act on.

    ``code`` is stable (``search.item_not_found``) and keys the task; ``title`` is the
    Chinese problem name (站内搜索不可用); ``detail`` is the concrete, reproducible
    description (搜索网站上已有的“排污许可证核发”服务事项，搜索不到).
    """

    code: str
    title: str
    detail: str
    severity: Severity = Severity.MAJOR
    subjects: tuple[str, ...] = ()  # the items, segments, systems or pages concerned
    data: dict[str, Any] = field(default_factory=dict)  # measurements behind the detail


@dataclass(frozen=True)
class Evidence:
    """Files kept for a run, relative to the evidence directory."""

    screenshots: tuple[str, ...] = ()
    html: tuple[str, ...] = ()
    traces: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "screenshots": list(self.screenshots),
            "html": list(self.html),
            "traces": list(self.traces),
        }


@dataclass(frozen=True)
class ProbeResult:
    outcome: Outcome
    findings: tuple[Finding, ...] = ()
    summary: str = ""  # one Chinese line for lists and notices
    error: str = ""  # for inconclusive and error: what went wrong on our side
    metrics: dict[str, Any] = field(default_factory=dict)  # timings, counts
    evidence: Evidence = Evidence()
    state: dict[str, Any] = field(
        default_factory=dict
    )  # carried to the next run (journeys over days)

    def __post_init__(self) -> None:
        if self.outcome is Outcome.FAIL and not self.findings:
            raise ValueError("a failing result needs at least one finding")
        if self.outcome is Outcome.PASS and self.findings:
            raise ValueError("a passing result has no findings")
