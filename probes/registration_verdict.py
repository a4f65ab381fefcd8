"""From what each registration form did to a run result, in the words of seed 001 附件1:
"个别号段(如176、170)注册显示‘手机号格式不对’", "注册时无法获取验证码", "注册时不能收到验证码".

One finding per code for the whole run (a task is keyed by check and code); its detail
names every form concerned. Anything the bot could not judge on any form makes the whole
run inconclusive: a failing run without a finding would otherwise pass for a verified fix
of that finding's task.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from config.catalog import Severity
from core.results import Finding, Outcome, ProbeResult
from probes.registration_form import SegmentVerdict
from probes.segments import masked

FORM_LABELS = {"personal": "个人用户注册", "legal": "法人用户注册"}
TITLE = "在线注册功能不可用"


@dataclass
class FormReport:
    """How one registration form (personal or legal) behaved in this run."""

    kind: str
    url: str = ""
    unavailable: str = ""  # why the form could not be used at all
    verdicts: list[SegmentVerdict] = field(default_factory=list)
    code_failure: str = ""  # 获取验证码 did not succeed: how
    code_message: str = ""  # what the page said when it did
    sms_limit_s: float | None = None  # set when the SMS was awaited and never came
    sms_seconds: float | None = None
    register_failure: str = ""
    account_left: bool = False  # the test account could not be cancelled afterwards
    cannot_judge: list[str] = field(default_factory=list)
    phone_shown: str = ""  # the test number, masked
    # The test number's segment refused by the server at 获取验证码, the form having let it
    # through: the sweep cannot see this, only a real code request can.
    code_rejected: SegmentVerdict | None = None
    code_segment: str = ""  # the segment of this run's test number

    @property
    def label(self) -> str:
        return FORM_LABELS[self.kind]

    @property
    def swept_rejected(self) -> list[SegmentVerdict]:
        """Segments the form's own validation (and its blur-time checks) refused."""
        return [v for v in self.verdicts if not v.accepted]

    @property
    def rejected(self) -> list[SegmentVerdict]:
        """Every segment refused, by the form or by the server at 获取验证码."""
        swept = self.swept_rejected
        extra = self.code_rejected
        if extra is None or extra.segment in {v.segment for v in swept}:
            return swept
        return [*swept, extra]

    def metrics(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "segments_checked": len(self.verdicts),
            "segments_rejected": [v.segment for v in self.rejected],
            "code_segment": self.code_segment,
            "code_request": "failed"
            if self.code_failure
            else ("sent" if self.code_message else ""),
            "sms_seconds": self.sms_seconds,
            "account_left": self.account_left,
        }


def judge(reports: list[FormReport]) -> ProbeResult:
    """The run's result over every form checked."""
    findings = [
        finding
        for finding in (
            _unavailable(reports),
            _segments(reports),
            _code_requests(reports),
            _sms(reports),
            _registration(reports),
        )
        if finding is not None
    ]
    metrics = {"forms": {r.kind: r.metrics() for r in reports}}
    doubts = [f"{r.label}：{reason}" for r in reports for reason in r.cannot_judge]
    if doubts:
        also = f"（另发现：{'；'.join(f.detail for f in findings)}）" if findings else ""
        return ProbeResult(
            Outcome.INCONCLUSIVE,
            summary="无法判定",
            error="；".join(doubts) + also,
            metrics=metrics,
        )
    if findings:
        return ProbeResult(
            Outcome.FAIL, tuple(findings), summary=findings[0].title, metrics=metrics
        )
    return ProbeResult(Outcome.PASS, summary=_passed(reports), metrics=metrics)


def _unavailable(reports: list[FormReport]) -> Finding | None:
    broken = [r for r in reports if r.unavailable]
    if not broken:
        return None
    return Finding(
        code="registration.unavailable",
        title=TITLE,
        detail="；".join(f"{r.label}：{r.unavailable}" for r in broken),
        severity=Severity.MAJOR,
        subjects=tuple(r.label for r in broken),
        data={r.kind: r.unavailable for r in broken},
    )


def _segments(reports: list[FormReport]) -> Finding | None:
    affected = [r for r in reports if r.rejected]
    if not affected:
        return None
    parts = []
    for report in affected:
        swept = report.swept_rejected
        if swept:
            segments = "、".join(v.segment for v in swept)
            message, _ = Counter(v.message for v in swept).most_common(1)[0]
            parts.append(
                f"{report.label}：个别号段（如{segments}）注册显示“{message}”"
                f"（共检查 {len(report.verdicts)} 个号段，{len(swept)} 个被拒绝）"
            )
        server = report.code_rejected
        if server is not None and server.segment not in {v.segment for v in swept}:
            parts.append(
                f"{report.label}：{server.segment}号段手机号点击“获取验证码”后提示"
                f"“{server.message}”（测试手机号{masked(server.number)}，表单自身校验未提示），"
                "无法注册"
            )
    segments_all = sorted({v.segment for r in affected for v in r.rejected})
    return Finding(
        code="registration.phone_segment_rejected",
        title=TITLE,
        detail="；".join(parts),
        severity=Severity.MAJOR,
        subjects=tuple(segments_all),
        data={r.kind: {v.segment: v.message for v in r.rejected} for r in affected},
    )


def _code_requests(reports: list[FormReport]) -> Finding | None:
    failed = [r for r in reports if r.code_failure]
    if not failed:
        return None
    return Finding(
        code="registration.code_request_failed",
        title=TITLE,
        detail="；".join(f"{r.label}：{r.code_failure}，无法获取验证码" for r in failed),
        severity=Severity.MAJOR,
        subjects=tuple(r.label for r in failed),
        data={r.kind: r.code_failure for r in failed},
    )


def _sms(reports: list[FormReport]) -> Finding | None:
    missing = [r for r in reports if r.sms_limit_s is not None]
    if not missing:
        return None
    return Finding(
        code="registration.sms_not_received",
        title=TITLE,
        detail="；".join(
            f"{r.label}：测试手机号{r.phone_shown}点击“获取验证码”后页面提示“{r.code_message}”，"
            f"但 {r.sms_limit_s:g} 秒内未收到短信验证码"
            for r in missing
        ),
        severity=Severity.MAJOR,
        subjects=tuple(r.label for r in missing),
        data={r.kind: {"limit_s": r.sms_limit_s} for r in missing},
    )


def _registration(reports: list[FormReport]) -> Finding | None:
    failed = [r for r in reports if r.register_failure]
    if not failed:
        return None
    return Finding(
        code="registration.register_failed",
        title=TITLE,
        detail="；".join(f"{r.label}：{r.register_failure}" for r in failed),
        severity=Severity.MAJOR,
        subjects=tuple(r.label for r in failed),
        data={r.kind: r.register_failure for r in failed},
    )


def _passed(reports: list[FormReport]) -> str:
    labels = "、".join(r.label for r in reports)
    checked = max((len(r.verdicts) for r in reports), default=0)
    parts = [f"{labels}：{checked} 个手机号段均可填写"]
    if any(r.code_message for r in reports):
        tried = sorted({r.code_segment for r in reports if r.code_message and r.code_segment})
        parts.append(
            f"获取验证码正常（{'、'.join(tried)}号段测试手机号）" if tried else "获取验证码正常"
        )
    if any(r.sms_seconds is not None for r in reports):
        slowest = max(r.sms_seconds or 0.0 for r in reports)
        parts.append(f"短信验证码 {slowest:.1f} 秒内送达")
    left = [r.label for r in reports if r.account_left]
    if left:
        parts.append(f"测试账号未能注销（{'、'.join(left)}）")
    return "，".join(parts)
