"""What every probe is and what it is given.

A probe is the code of one journey kind. It receives a :class:`ProbeContext` (target,
check parameters, a browser context, an evidence folder, the state its previous run left)
and returns a :class:`~core.results.ProbeResult`. It never writes tasks or sends
messages; it raises the exceptions of ``probes.errors`` when it cannot judge.
"""

from __future__ import annotations

import contextlib
import re
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, ClassVar, Literal, TypeVar
from urllib.parse import urljoin

from playwright.async_api import BrowserContext, Page, Response
from playwright.async_api import Error as PlaywrightError
from playwright.async_api import TimeoutError as PlaywrightTimeout
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from config.catalog import CheckSpec, Severity, TargetSpec
from core.calendar import WorkingCalendar
from core.clock import Clock
from core.results import Finding, Outcome, ProbeResult
from probes.errors import (
    Inconclusive,
    MonitorError,
    SiteTimeout,
    SiteUnreachable,
    classify_network_error,
    network_code,
)
from probes.evidence import RunEvidence
from probes.landing import settle

ParamsT = TypeVar("ParamsT", bound=BaseModel)


def valid_regex(value: str | None) -> str | None:
    """A pydantic validator body: ``value`` compiles as a regular expression."""
    if value is not None:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"not a valid regular expression: {exc}") from None
    return value


class ProbeParams(BaseModel):
    """Base of every probe's ``params`` model: unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def _switch(value: object) -> object:
    # YAML 1.1 reads a bare `off` as false.
    if value is False:
        return "off"
    if value is True:
        return "on"
    return value


RuleSwitch = Annotated[Literal["on", "off"], BeforeValidator(_switch)]


class CheckParams(ProbeParams):
    """Base of a probe's whole ``params``: adds ``rules``, the finding rules switched per
    target (``rules: {phone_invalid: off}`` or by full code ``checklist.phone_invalid``)."""

    # The finding codes this probe can report, which ``rules`` may name.
    FINDING_CODES: ClassVar[tuple[str, ...]] = ()

    rules: dict[str, RuleSwitch] = Field(default_factory=dict)

    @field_validator("rules")
    @classmethod
    def _known_rules(cls, value: dict[str, str]) -> dict[str, str]:
        unknown = [name for name in value if rule_code(name, cls.FINDING_CODES) is None]
        if unknown:
            known = ", ".join(code.partition(".")[2] for code in cls.FINDING_CODES)
            raise ValueError(f"unknown rule {', '.join(map(repr, unknown))}; known rules: {known}")
        return value


def rule_code(name: str, codes: tuple[str, ...]) -> str | None:
    """The finding code a rule name stands for (``phone_invalid`` → checklist.phone_invalid)."""
    for code in codes:
        if name in (code, code.partition(".")[2]):
            return code
    return None


def rules_off(probe: type[Probe], raw_params: dict[str, Any]) -> frozenset[str]:
    """The finding codes switched off in a check's raw ``params``."""
    params_model = probe.Params
    codes: tuple[str, ...] = getattr(params_model, "FINDING_CODES", ())
    rules = raw_params.get("rules")
    if not isinstance(rules, dict):
        return frozenset()
    return frozenset(
        code
        for name, switch in rules.items()
        if _switch(switch) == "off" and (code := rule_code(str(name), codes)) is not None
    )


@dataclass
class ProbeContext:
    target: TargetSpec
    check: CheckSpec
    check_id: str
    browser: BrowserContext | None
    evidence: RunEvidence
    clock: Clock
    state: dict[str, Any] = field(default_factory=dict)
    # Chinese working days, for journeys measured in them (咨询 "5 个工作日内").
    calendar: WorkingCalendar = field(default_factory=WorkingCalendar)
    nav_timeout_ms: int = 30_000
    # Opens another browser context in the same run (another device, another user).
    open_context: Callable[..., contextlib.AbstractAsyncContextManager[BrowserContext]] | None = (
        None
    )
    # Pauses the trace while a secret is typed (see ``secret_typing``).
    pause_trace: Callable[[], contextlib.AbstractAsyncContextManager[None]] | None = None

    def params(self, model: type[ParamsT]) -> ParamsT:
        return model.model_validate(self.check.params)

    def url(self, page: str, default: str = "/") -> str:
        """Absolute URL of a configured page of the target (``pages.search``)."""
        return self.target.page_url(page, default)

    def absolute(self, href: str) -> str:
        return urljoin(self.target.base_url.rstrip("/") + "/", href)

    def selector(self, name: str) -> str | None:
        return self.target.selectors.get(name)

    async def new_page(self) -> Page:
        if self.browser is None:
            raise MonitorError("this probe kind runs without a browser")
        page = await self.browser.new_page()
        page.set_default_timeout(self.nav_timeout_ms)
        page.set_default_navigation_timeout(self.nav_timeout_ms)
        return page

    async def goto(self, page: Page, url: str) -> Response | None:
        """Open ``url``; network-level failures become :class:`SiteUnreachable`."""
        try:
            response = await page.goto(url, wait_until="load")
            # A script-rendered page is ready when its spinner is gone, not at `load`.
            await settle(page, self.nav_timeout_ms)
            return response
        except PlaywrightTimeout as exc:
            seconds = self.nav_timeout_ms / 1000
            raise SiteTimeout(url, f"{seconds:.0f} 秒内未加载完成") from exc
        except PlaywrightError as exc:
            if classify_network_error(str(exc)) == "theirs":
                raise SiteUnreachable(url, network_code(str(exc))) from exc
            raise

    @contextlib.asynccontextmanager
    async def secret_typing(self) -> AsyncIterator[None]:
        """Wrap typing a password or code: the trace does not record what happens inside."""
        if self.pause_trace is None:
            yield
            return
        async with self.pause_trace():
            yield


class Probe(ABC):
    kind: ClassVar[str]
    Params: ClassVar[type[BaseModel]]
    uses_browser: ClassVar[bool] = True
    # True when two overlapping runs of one check would harm the portal or the journey
    # (a consultation asked twice); the bot then claims the check before each run.
    one_run_at_a_time: ClassVar[bool] = False
    # True when the probe visits the home page itself and says when it is down: the runner
    # then skips its own outage check of a failing run (a browser visit per failed run).
    judges_outage: ClassVar[bool] = False
    # False when running the journey again at once would act on the portal twice (an SMS
    # code requested twice runs into the portal's resend wait); such a failure is not
    # re-run to confirm it, and the check records full traces as before.
    rerun_on_failure: ClassVar[bool] = True
    # True when the state counts what this place saw (the availability probe's visit
    # tallies): a scheduled run then continues the state of the last run from its own
    # location, so runs from two places at once cannot overwrite each other's counts.
    state_by_location: ClassVar[bool] = False

    @abstractmethod
    async def run(self, ctx: ProbeContext) -> ProbeResult:
        """Walk the journey once and say how it went."""


def fail_or_doubt(
    findings: Sequence[Finding],
    unjudged: Sequence[str],
    metrics: dict[str, Any],
    *,
    part: str = "检查",
) -> ProbeResult | None:
    """A run's verdict by the rule of doubt, for probes that judge many parts: findings fail
    it, with what could not be judged noted beside them; with none, anything not judged
    makes it inconclusive; ``None`` when it passes (the caller words its pass)."""
    note = "；".join(unjudged)
    titles = "、".join(f.title for f in findings)
    if unjudged:
        metrics["unjudged"] = list(unjudged)
    if findings:
        return ProbeResult(
            Outcome.FAIL,
            tuple(findings),
            summary=titles + (f"（另有部分{part}无法判定）" if note else ""),
            error=f"部分{part}无法判定：{note}" if note else "",
            metrics=metrics,
        )
    if note:
        raise Inconclusive(note)
    return None


def http_error_finding(label: str, url: str, status: int) -> Finding:
    """A page of the portal answered with an HTTP error (the site is down or broken)."""
    return Finding(
        code="site.http_error",
        title="网站无法正常访问",
        detail=f"打开{label}（{url}）返回 HTTP {status}",
        severity=Severity.CRITICAL,
        subjects=(url,),
        data={"status": status},
    )


def unreachable_finding(url: str, reason: str) -> Finding:
    return Finding(
        code="site.unreachable",
        title="网站无法访问",
        detail=f"打开 {url} 失败：{reason}",
        severity=Severity.CRITICAL,
        subjects=(url,),
        data={"reason": reason},
    )


def timeout_finding(url: str, reason: str) -> Finding:
    return Finding(
        code="site.timeout",
        title="网站访问超时",
        detail=f"打开 {url} 超时：{reason}",
        severity=Severity.CRITICAL,
        subjects=(url,),
        data={"reason": reason},
    )


def outage_finding(error: SiteUnreachable) -> Finding:
    """The finding of a page that did not load: a timeout or a network failure."""
    if isinstance(error, SiteTimeout):
        return timeout_finding(error.url, error.reason)
    return unreachable_finding(error.url, error.reason)


OUTAGE_CODES = frozenset({"site.http_error", "site.unreachable", "site.timeout"})
