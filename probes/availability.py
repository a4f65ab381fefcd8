"""可用性 by the national rule for government websites, without a browser.

The rule (政府网站: a home page that does not open within 15 seconds on more than 5 % of
visits in a week) is about plain visits, so this probe is a light HTTP GET of the
configured pages, meant to run many times an hour from every location:

- each run visits the pages once; a page that fails, answers an HTTP error or does not
  answer within ``slow_after_s`` is a failed visit, and the run fails with a ``site.*``
  finding, so ``tasks.availability`` counts the run as unavailable;
- the visits are tallied per day in the check's state; the closed calendar week
  (Monday to Sunday, Asia/Shanghai) is judged from the first run after it ends, and a
  share of failed visits above ``max_failed_share`` is ``site.availability_low`` on every
  run of the following week; a week with fewer than ``min_visits`` is not judged;
- an https page's certificate is checked on its own: untrusted, expired or for another
  name, or expiring within ``tls.warn_days``, is ``site.certificate``.

Visits are fetched without certificate verification: availability measures whether the
server answers; the certificate is judged once, by the TLS rule, not counted twice.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import httpx
from pydantic import Field

from config.catalog import Severity
from core.results import Finding, Outcome, ProbeResult
from probes.base import (
    CheckParams,
    Probe,
    ProbeContext,
    ProbeParams,
    http_error_finding,
    timeout_finding,
    unreachable_finding,
)
from probes.tls import CertificateCheck, check_certificate

ZONE = ZoneInfo("Asia/Shanghai")
KEEP_DAYS = 40  # day tallies kept in the state: a closed week and a calendar month
USER_AGENT = "Mozilla/5.0 (compatible; govpatrol availability)"


class TlsParams(ProbeParams):
    """The certificate of an https target."""

    warn_days: int = Field(default=30, ge=1, le=365)  # expiring within: a finding
    ca_file: str | None = None  # a private CA bundle (PEM) to trust besides the system's


class AvailabilityParams(CheckParams):
    FINDING_CODES = (
        "site.unreachable",
        "site.timeout",
        "site.http_error",
        "site.availability_low",
        "site.certificate",
    )

    pages: list[str] = Field(default_factory=lambda: ["/"], min_length=1)  # home page first
    slow_after_s: float = Field(default=15.0, gt=0, le=120)  # the rule's 15 seconds
    max_failed_share: float = Field(default=0.05, gt=0, lt=1)  # the rule's 5 %
    min_visits: int = Field(default=100, ge=1)  # a week with fewer visits is not judged
    tls: TlsParams | None = Field(default_factory=TlsParams)  # null: no certificate check


@dataclass(frozen=True)
class Visit:
    url: str
    ms: int
    status: int | None = None  # None: no answer
    problem: str = ""  # why it failed, in Chinese; "" when it opened in time

    @property
    def failed(self) -> bool:
        return bool(self.problem)


async def visit(client: httpx.AsyncClient, url: str, limit_s: float) -> Visit:
    """GET ``url`` once, as a citizen's visit: opened, failed, or slower than ``limit_s``."""
    started = time.monotonic()
    try:
        async with asyncio.timeout(limit_s):
            response = await client.get(url)
    except TimeoutError:
        return Visit(url, int(limit_s * 1000), problem=f"{limit_s:g} 秒内未打开")
    except httpx.HTTPError as exc:
        ms = int((time.monotonic() - started) * 1000)
        return Visit(url, ms, problem=f"无法连接（{type(exc).__name__}）")
    ms = int((time.monotonic() - started) * 1000)
    if response.status_code >= 400:
        return Visit(url, ms, response.status_code, f"HTTP {response.status_code}")
    return Visit(url, ms, response.status_code)


def _visit_finding(v: Visit, limit_s: float) -> Finding:
    if v.status is not None:
        return http_error_finding("页面", v.url, v.status)
    if v.ms >= limit_s * 1000:
        return timeout_finding(v.url, v.problem)
    return unreachable_finding(v.url, v.problem)


# -- the day tallies in the state and the weekly verdict ---------------------------------------


def tally(state: dict[str, Any], day: dt.date, visits: int, failed: int) -> dict[str, list[int]]:
    """The state's day tallies ({"2026-12-03": [visits, failed]}) with one run added."""
    days: dict[str, list[int]] = {k: list(v) for k, v in state.get("days", {}).items()}
    counts = days.setdefault(day.isoformat(), [0, 0])
    counts[0] += visits
    counts[1] += failed
    oldest = (day - dt.timedelta(days=KEEP_DAYS)).isoformat()
    return {k: v for k, v in days.items() if k > oldest}


@dataclass(frozen=True)
class Period:
    first: dt.date
    last: dt.date
    visits: int
    failed: int

    @property
    def share(self) -> float | None:
        """Failed visits over visits, 0–1; None without visits."""
        return self.failed / self.visits if self.visits else None

    def as_metrics(self) -> dict[str, Any]:
        share = self.share
        return {
            "from": self.first.isoformat(),
            "to": self.last.isoformat(),
            "visits": self.visits,
            "failed": self.failed,
            "availability": None if share is None else round(1 - share, 4),
        }


def period(days: dict[str, list[int]], first: dt.date, last: dt.date) -> Period:
    """The visits and failed visits of the days ``first`` to ``last`` (inclusive)."""
    chosen = [v for k, v in days.items() if first.isoformat() <= k <= last.isoformat()]
    return Period(first, last, sum(v[0] for v in chosen), sum(v[1] for v in chosen))


def last_closed_week(today: dt.date) -> tuple[dt.date, dt.date]:
    """Monday and Sunday of the calendar week before the one ``today`` is in."""
    monday = today - dt.timedelta(days=today.weekday() + 7)
    return monday, monday + dt.timedelta(days=6)


def availability_finding(week: Period, limit_s: float, max_share: float) -> Finding | None:
    """``site.availability_low`` when the week's failed share is above ``max_share``."""
    share = week.share
    if share is None or share <= max_share:
        return None
    span = f"{week.first:%Y年%m月%d日}至{week.last:%m月%d日}"
    return Finding(
        code="site.availability_low",
        title="网站可用性不达标",
        detail=(
            f"{span}共访问 {week.visits} 次，其中 {week.failed} 次无法打开或 {limit_s:g} 秒内"
            f"未打开，占 {share * 100:.1f}%，超过 {max_share * 100:g}%"
        ),
        severity=Severity.MAJOR,
        subjects=(f"{week.first.isoformat()}/{week.last.isoformat()}",),
        data=week.as_metrics(),
    )


def certificate_finding(url: str, found: CertificateCheck, warn_days: int) -> Finding | None:
    """``site.certificate`` for an invalid certificate or one expiring within ``warn_days``."""
    if found.problem:
        detail = f"{url} 的 HTTPS 证书无效：{found.problem}"
    elif found.days_left is not None and found.days_left < warn_days:
        detail = (
            f"{url} 的 HTTPS 证书将于 {found.not_after:%Y年%m月%d日} 到期"
            f"（剩余 {max(found.days_left, 0)} 天），请及时更换"
        )
    else:
        return None
    return Finding(
        code="site.certificate",
        title="网站证书无效或即将到期",
        detail=detail,
        severity=Severity.MAJOR,
        subjects=(urlsplit(url).netloc,),
        data={"days_left": found.days_left, "problem": found.problem},
    )


class AvailabilityProbe(Probe):
    kind = "availability"
    Params = AvailabilityParams
    uses_browser = False
    judges_outage = True  # its visits are the outage check; no browser after a failing run
    # Every visit counts toward the week's share by the national rule: a failed visit is
    # recorded as it was, not replaced by a confirming second visit.
    rerun_on_failure = False
    state_by_location = True  # each location tallies its own visits (and its own week)

    async def run(self, ctx: ProbeContext) -> ProbeResult:
        params = ctx.params(AvailabilityParams)
        urls = [ctx.absolute(page) for page in params.pages]
        async with httpx.AsyncClient(
            verify=False,  # noqa: S501 - the certificate is judged by its own rule below
            follow_redirects=True,
            headers={"User-Agent": USER_AGENT},
            timeout=params.slow_after_s + 5,
        ) as client:
            visits = [await visit(client, url, params.slow_after_s) for url in urls]
        now = ctx.clock.now()
        today = now.astimezone(ZONE).date()
        failed = [v for v in visits if v.failed]
        days = tally(ctx.state, today, len(visits), len(failed))
        ctx.state["days"] = days
        findings = [_visit_finding(v, params.slow_after_s) for v in failed]
        monday, sunday = last_closed_week(today)
        week = period(days, monday, sunday)
        metrics: dict[str, Any] = {
            "page_visits": [{"url": v.url, "ms": v.ms, "status": v.status} for v in visits],
            "last_week": week.as_metrics(),
            "this_week": period(days, sunday + dt.timedelta(days=1), today).as_metrics(),
            "this_month": period(days, today.replace(day=1), today).as_metrics(),
        }
        if week.visits >= params.min_visits:
            low = availability_finding(week, params.slow_after_s, params.max_failed_share)
            if low is not None:
                findings.append(low)
        else:
            metrics["last_week"]["unjudged"] = f"访问次数不足 {params.min_visits} 次，不作判定"
        secure = [url for url in urls if urlsplit(url).scheme == "https"]
        if params.tls is not None and secure:
            found = await check_certificate(secure[0], now, params.tls.ca_file)
            metrics["certificate_days_left"] = found.days_left
            if found.unread:
                metrics["certificate_unread"] = found.unread
            problem = certificate_finding(secure[0], found, params.tls.warn_days)
            if problem is not None:
                findings.append(problem)
        if findings:
            titles = "、".join(dict.fromkeys(f.title for f in findings))
            return ProbeResult(
                Outcome.FAIL, tuple(findings), summary=titles, metrics=metrics, state=ctx.state
            )
        return ProbeResult(Outcome.PASS, summary="网站可正常访问", metrics=metrics, state=ctx.state)
