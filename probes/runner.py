"""Run one probe in a fresh browser context and turn whatever happens into a result.

This is the one place where exceptions become outcomes, and where the finding rules a
check switched off (``params.rules``) are dropped:

    probe returns a result            → that result, unless the site is down (below)
    SiteUnreachable / SiteTimeout     → fail (site.unreachable / site.timeout); the bot
                                        turns it into error when its canary says our
                                        network is down
    Inconclusive                      → inconclusive
    MonitorError, browser crash, bug  → error
    a page that does not answer       → fail (site.timeout) when the home page does not
      within the target's timeout       answer either, else inconclusive
    the run's wall-clock limit        → error (time waiting for a browser slot is not
                                        counted: hung runs elsewhere are not this run's)

Outage first: a run that fails or cannot judge opens the target's home page once more;
when that answers 4xx/5xx, times out or does not answer, the run is that outage
(site.http_error / site.timeout / site.unreachable), whatever journey-specific judgement
the probe made (a 503 everywhere is not an empty column nor a refused question).

Evidence (screenshots, HTML, trace) is kept for every run that does not pass.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import tempfile
import time
from collections.abc import AsyncIterator, Mapping
from functools import partial
from pathlib import Path
from typing import Any

from playwright.async_api import BrowserContext
from playwright.async_api import Error as PlaywrightError
from playwright.async_api import TimeoutError as PlaywrightTimeout

from config.catalog import CheckSpec, TargetSpec
from core.calendar import WorkingCalendar
from core.clock import Clock
from core.results import Evidence, Finding, Outcome, ProbeResult
from probes.base import (
    OUTAGE_CODES,
    Probe,
    ProbeContext,
    http_error_finding,
    outage_finding,
    rules_off,
)
from probes.download_cap import DownloadCap, oversized_finding
from probes.errors import (
    Inconclusive,
    MonitorError,
    SiteTimeout,
    SiteUnreachable,
    classify_network_error,
    network_code,
)
from probes.evidence import EvidenceStore, RunEvidence
from probes.pool import BrowserPool

log = logging.getLogger(__name__)

# The outage check gives the home page this long at most, so it fits in a run's limit.
OUTAGE_CHECK_MS = 15_000
# Evidence of a failing run is taken with its own short limit: a hung page must not turn
# a portal's timeout into the monitor's overrun. What cannot be taken is noted.
EVIDENCE_LIMIT_S = 10.0


class ProbeRunner:
    def __init__(
        self,
        pool: BrowserPool,
        evidence: EvidenceStore,
        probes: Mapping[str, type[Probe]],
        clock: Clock,
        *,
        run_timeout_s: float = 120.0,
        max_response_bytes: int | None = None,
        trace: bool = True,
        calendar: WorkingCalendar | None = None,
    ) -> None:
        self.pool = pool
        self.evidence = evidence
        self.probes = probes
        self.clock = clock
        self.run_timeout_s = run_timeout_s
        self.max_response_bytes = max_response_bytes  # None: no cap (site.oversized_page)
        self.trace = trace
        self.calendar = calendar or WorkingCalendar()

    async def run(
        self,
        check_id: str,
        target: TargetSpec,
        check: CheckSpec,
        state: Mapping[str, Any] | None = None,
        *,
        full_trace: bool = True,
    ) -> ProbeResult:
        """Run ``check`` once. ``full_trace=False`` records a light trace (actions and
        network, no DOM snapshots): the caller's choice for a check that passed last time,
        as most runs pass and snapshots are most of a run's cost."""
        probe_class = self.probes.get(check.probe)
        if probe_class is None:
            return _error(f"未知的探针类型 {check.probe!r}", dict(state or {}))
        probe = probe_class()
        evidence = self.evidence.new_run_dir(check_id, self.clock.now())
        ctx = ProbeContext(
            target=target,
            check=check,
            check_id=check_id,
            browser=None,
            evidence=evidence,
            clock=self.clock,
            state=dict(state or {}),
            calendar=self.calendar,
            nav_timeout_ms=int(target.timeout.total_seconds() * 1000),
            # A run that holds a slot opens its extra contexts (other devices) within it;
            # taking a second slot could deadlock the pool.
            open_context=partial(self.pool.context, slot=not probe.uses_browser),
        )
        started = time.monotonic()
        try:
            # The run's clock starts once it holds a browser slot.
            if probe.uses_browser:
                async with self.pool.context() as browser:
                    async with asyncio.timeout(self.run_timeout_s):
                        result = await self._in_browser(probe, ctx, browser, full_trace)
            else:
                async with asyncio.timeout(self.run_timeout_s):
                    result = await self._judged(probe, ctx)
                if _doubtful(result, probe):
                    async with self.pool.context() as browser:
                        async with asyncio.timeout(self.run_timeout_s):
                            result = await _outage_first(ctx, result, browser)
        except TimeoutError:
            result = _error(f"巡检超过 {self.run_timeout_s:.0f} 秒未完成，已中止", ctx.state)
        except MonitorError as exc:
            result = _error(f"巡检系统故障：{exc}", ctx.state)
        result = _without_rules_off(result, rules_off(probe_class, check.params))
        metrics = {**result.metrics, "elapsed_ms": int((time.monotonic() - started) * 1000)}
        if evidence.missing:
            metrics["evidence_missing"] = list(evidence.missing)
        return _replace(result, metrics=metrics, evidence=_evidence_of(evidence))

    async def _in_browser(
        self, probe: Probe, ctx: ProbeContext, browser: BrowserContext, full_trace: bool
    ) -> ProbeResult:
        ctx.browser = browser
        # Every page the probe opens, however it opens it, gives up after the target's timeout.
        browser.set_default_timeout(ctx.nav_timeout_ms)
        browser.set_default_navigation_timeout(ctx.nav_timeout_ms)
        with tempfile.TemporaryDirectory(prefix="govpatrol-trace-") as scratch:
            trace = _Trace(browser, Path(scratch), full_trace) if self.trace else None
            if trace is not None:
                await trace.start()
                ctx.pause_trace = trace.paused
            cap = DownloadCap(self.max_response_bytes) if self.max_response_bytes else None
            if cap is not None:
                await cap.watch(browser)
            if cap is None:
                result = await self._judged(probe, ctx)
            else:
                judged = await cap.until_stopped(self._judged(probe, ctx))
                result = judged or ProbeResult(Outcome.ERROR, state=ctx.state)  # replaced below
            if _doubtful(result, probe) and (cap is None or cap.tripped is None):
                result = await _outage_first(ctx, result, browser)
            if cap is not None:
                await cap.settle()
                if cap.tripped is not None:
                    finding = oversized_finding(cap.tripped, cap.limit)
                    result = ProbeResult(
                        Outcome.FAIL, (finding,), summary=finding.title, state=ctx.state
                    )
            if cap is not None and cap.tripped is not None:
                ctx.evidence.note_missing("pages", "页面过大，未截图 / oversized, not captured")
            elif result.outcome is not Outcome.PASS:
                await self._capture_pages(browser, ctx.evidence)
            if trace is not None:
                await trace.finish(ctx.evidence if result.outcome is not Outcome.PASS else None)
        return result

    async def _judged(self, probe: Probe, ctx: ProbeContext) -> ProbeResult:
        try:
            return await probe.run(ctx)
        except SiteUnreachable as exc:
            finding = outage_finding(exc)
            return ProbeResult(Outcome.FAIL, (finding,), summary=finding.title, state=ctx.state)
        except Inconclusive as exc:
            return ProbeResult(
                Outcome.INCONCLUSIVE, summary="无法判定", error=str(exc), state=ctx.state
            )
        except MonitorError as exc:
            return _error(f"巡检系统故障：{exc}", ctx.state)
        except PlaywrightTimeout as exc:
            # A page that stopped answering: the outage check (home page) decides whether
            # the site is down (site.timeout); if not, this run cannot judge.
            seconds = ctx.nav_timeout_ms / 1000
            return ProbeResult(
                Outcome.INCONCLUSIVE,
                summary="无法判定",
                error=f"页面 {seconds:.0f} 秒内未响应：{str(exc).splitlines()[0]}",
                state=ctx.state,
            )
        except PlaywrightError as exc:
            crashed = classify_network_error(str(exc)) == "ours" or not _connected(ctx.browser)
            reason = "浏览器异常退出" if crashed else "浏览器操作失败"
            return _error(f"{reason}：{str(exc).splitlines()[0]}", ctx.state)
        except Exception as exc:  # a bug in a probe is the monitor's fault, not the unit's
            log.exception("probe %s raised", ctx.check_id)
            return _error(f"探针内部错误：{type(exc).__name__}: {exc}", ctx.state)

    async def _capture_pages(self, browser: BrowserContext, evidence: RunEvidence) -> None:
        if evidence.screenshots:
            return  # the probe already kept the pages that matter
        for index, page in enumerate(browser.pages):
            label = f"page{index + 1}"
            try:
                await asyncio.wait_for(evidence.capture(page, label), EVIDENCE_LIMIT_S)
            except Exception as exc:
                evidence.note_missing(label, f"{type(exc).__name__}: {exc}")


class _Trace:
    """A Playwright trace in chunks, so typing a secret can be left out of it."""

    def __init__(self, browser: BrowserContext, scratch: Path, snapshots: bool = True) -> None:
        self.browser = browser
        self.scratch = scratch
        self.snapshots = snapshots
        self.chunks: list[Path] = []
        self.active = False

    async def start(self) -> None:
        try:
            await self._begin()
            self.active = True
        except PlaywrightError as exc:
            log.warning("tracing unavailable: %s", exc)

    async def _begin(self) -> None:
        # DOM snapshots are what the trace viewer shows for every action; the screencast
        # (screenshots=True) only adds a filmstrip, yet costs JPEG frames on every run
        # while most runs pass and drop their trace. Failing runs keep PNG screenshots.
        # start() opens the first chunk itself: a start_chunk() after it would throw
        # that one away and open a second.
        await self.browser.tracing.start(screenshots=False, snapshots=self.snapshots)

    @contextlib.asynccontextmanager
    async def paused(self) -> AsyncIterator[None]:
        if not self.active:
            yield
            return
        chunk = self.scratch / f"trace-{len(self.chunks) + 1}.zip"
        # A full stop (it saves the open chunk first): the network log outlives chunks and
        # would carry the request that sends the secret (a login form's POST body) into
        # the next chunk.
        await self.browser.tracing.stop(path=chunk)
        self.chunks.append(chunk)
        try:
            yield
        finally:
            await self._begin()

    async def finish(self, keep_in: RunEvidence | None) -> None:
        if not self.active:
            return
        try:
            # stop() ends the open chunk too: discarded (a pass), or saved to ``path``.
            if keep_in is None:
                await self.browser.tracing.stop()
            else:
                chunk = self.scratch / f"trace-{len(self.chunks) + 1}.zip"
                await self.browser.tracing.stop(path=chunk)
                self.chunks.append(chunk)
        except PlaywrightError as exc:
            log.warning("stopping the trace failed: %s", exc)
        if keep_in is not None:
            for chunk in self.chunks:
                if chunk.exists():
                    keep_in.keep_file(chunk, chunk.name)


def _without_rules_off(result: ProbeResult, off: frozenset[str]) -> ProbeResult:
    """The result without the findings of rules the check switched off (``params.rules``)."""
    if not off or result.outcome is not Outcome.FAIL:
        return result
    kept = tuple(finding for finding in result.findings if finding.code not in off)
    if len(kept) == len(result.findings):
        return result
    metrics = {**result.metrics, "rules_off": sorted(off)}
    if kept:
        summary = "、".join(dict.fromkeys(finding.title for finding in kept))
        return _replace(result, findings=kept, summary=summary, metrics=metrics)
    return _replace(
        result,
        outcome=Outcome.PASS,
        findings=(),
        summary="未发现问题（已按巡检项配置关闭部分规则）",
        metrics=metrics,
    )


def _doubtful(result: ProbeResult, probe: Probe) -> bool:
    """A failing or unjudged run that does not already say the site is down."""
    if probe.judges_outage or result.outcome not in (Outcome.FAIL, Outcome.INCONCLUSIVE):
        return False
    return not any(finding.code in OUTAGE_CODES for finding in result.findings)


async def _outage_first(
    ctx: ProbeContext, result: ProbeResult, browser: BrowserContext
) -> ProbeResult:
    """``result``, or the outage of the site when its home page does not answer."""
    outage = await _site_outage(ctx, browser)
    if outage is None:
        return result
    # The probe's state stays (a pending consultation is still pending); its judgement goes.
    return ProbeResult(
        Outcome.FAIL,
        (outage,),
        summary=outage.title,
        metrics={**result.metrics, "outage": outage.code},
        state=result.state,
    )


async def _site_outage(ctx: ProbeContext, browser: BrowserContext) -> Finding | None:
    """How the target's home page fails right now, or None when it answers."""
    url = ctx.url("home", "/")
    timeout_ms = min(ctx.nav_timeout_ms, OUTAGE_CHECK_MS)
    page = await browser.new_page()
    try:
        try:
            response = await page.goto(url, wait_until="domcontentloaded", timeout=timeout_ms)
        except PlaywrightTimeout:
            return outage_finding(SiteTimeout(url, f"{timeout_ms / 1000:.0f} 秒内未加载完成"))
        except PlaywrightError as exc:
            if classify_network_error(str(exc)) == "theirs":
                return outage_finding(SiteUnreachable(url, network_code(str(exc))))
            return None  # our side, or not a network error: leave the probe's verdict
        if response is None or response.status < 400:
            return None
        if response.status in (404, 405) and "home" not in ctx.target.pages:
            return None  # a site living under a path may have no page at its root

        with contextlib.suppress(Exception):
            await asyncio.wait_for(
                ctx.evidence.capture(page, f"site-http-{response.status}"), EVIDENCE_LIMIT_S
            )
        return http_error_finding("网站首页", url, response.status)
    finally:
        with contextlib.suppress(Exception):
            await page.close()


def _connected(context: BrowserContext | None) -> bool:
    browser = context.browser if context is not None else None
    return browser is not None and browser.is_connected()


def _error(message: str, state: dict[str, Any] | None = None) -> ProbeResult:
    # A run that could not finish keeps the state it was given (a pending consultation).
    return ProbeResult(Outcome.ERROR, summary="巡检系统故障", error=message, state=state or {})


def _evidence_of(evidence: RunEvidence) -> Evidence:
    return Evidence(
        screenshots=tuple(evidence.screenshots),
        html=tuple(evidence.html),
        traces=tuple(evidence.traces),
    )


def _replace(result: ProbeResult, **changes: Any) -> ProbeResult:
    from dataclasses import replace

    return replace(result, **changes)
