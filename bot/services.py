"""The composition root: build every part from settings and the catalog, wire them once.

Probes know nothing of tasks, tasks nothing of browsers, notifications read tasks and
write deliveries; only this module knows all of them.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.guards import Canary
from bot.metrics import Metrics
from config.catalog import Catalog, CheckSpec, TargetSpec
from config.loader import load_catalog
from config.redaction import install_log_scrubber, scrub
from config.secrets import AppriseUrl
from config.settings import Settings
from core.calendar import WorkingCalendar
from core.clock import Clock, SystemClock
from core.db import make_engine, make_sessions
from core.db_outage import DatabaseOutage
from core.private_files import private_dir
from notifications.chase import ChaseSweep
from notifications.models import Notification
from notifications.outbox import OutboxWriter, RecipientBook
from notifications.quiet_hours import QuietHours
from notifications.recipients import RecipientDirectory
from notifications.sender import OutboxSender
from notifications.transport import AppriseTransport, Transport
from probes.base import Probe
from probes.evidence import EvidenceStore
from probes.pool import BrowserOptions, BrowserPool
from probes.registry import params_models, probe_kinds
from probes.runner import ProbeRunner
from tasks.lifecycle import TaskLifecycle
from tasks.links import TaskLinks
from tasks.maintenance import MaintenanceDesk
from tasks.tracker import CheckPolicy, TaskTracker
from tasks.workflow import TaskDesk

log = logging.getLogger(__name__)

LINK_LIFETIME = dt.timedelta(days=90)


@dataclass
class Services:
    settings: Settings
    catalog: Catalog
    clock: Clock
    zone: ZoneInfo
    engine: Engine
    sessions: sessionmaker[Session]
    calendar: WorkingCalendar
    links: TaskLinks
    outbox: OutboxWriter
    directory: RecipientDirectory  # units and their people, by code
    lifecycle: TaskLifecycle
    tracker: TaskTracker
    desk: TaskDesk
    maintenance: MaintenanceDesk
    chase: ChaseSweep
    canary: Canary
    recipients: RecipientBook
    sender: OutboxSender
    pool: BrowserPool
    evidence: EvidenceStore
    runner: ProbeRunner
    probes: Mapping[str, type[Probe]]
    metrics: Metrics
    db_outage: DatabaseOutage = field(default_factory=DatabaseOutage)  # shared by the loops

    def check(self, check_id: str) -> tuple[TargetSpec, CheckSpec]:
        return self.catalog.check(check_id)

    def policy(self, check_id: str) -> CheckPolicy:
        target, check = self.catalog.check(check_id)
        return CheckPolicy(
            check_id=check_id,
            unit_code=target.unit,
            failure_threshold=check.failure_threshold or self.catalog.defaults.failure_threshold,
            deadline_working_days=check.deadline_working_days,
            auto_close=check.auto_close,
            target_key=target.key,
            probation=(
                target.probation
                if target.probation is not None
                else self.catalog.defaults.probation
            ),
        )

    def alert_unknown_calendar_years(self) -> None:
        """Tell the operator (once per year) that some deadlines were estimated."""
        for year in sorted(self.calendar.unknown_years):
            with self.sessions.begin() as session:
                self.outbox.alert_operator(
                    session,
                    f"{year} 年节假日安排未知，整改时限按周一至周五估算",
                    [f"请在目录 calendar.{year} 中列出 holidays 与 workdays（调休上班日）。"],
                    key=f"calendar-{year}",
                )

    async def close(self) -> None:
        await self.pool.close()
        self.engine.dispose()


def read_catalog(settings: Settings, extra_probes: tuple[type[Probe], ...] = ()) -> Catalog:
    """The catalog named by the settings, validated against the known probe kinds."""
    import os
    from pathlib import Path

    secrets_dir = os.environ.get("GOVPATROL_SECRETS_DIR")
    return load_catalog(
        settings.catalog,
        probe_params=params_models(probe_kinds(extra_probes)),
        secrets_dir=Path(secrets_dir) if secrets_dir else None,
    )


def build_services(
    settings: Settings,
    catalog: Catalog,
    *,
    clock: Clock | None = None,
    transport: Transport | None = None,
    extra_probes: tuple[type[Probe], ...] = (),
    engine: Engine | None = None,
    pool: BrowserPool | None = None,
) -> Services:
    """Wire every part. Tests and benchmarks may hand in a clock, a transport, an engine
    or a browser pool of their own; everything else comes from ``settings``."""
    clock = clock or SystemClock()
    zone = ZoneInfo(settings.timezone)
    private_dir(settings.data_dir)
    install_log_scrubber()  # before any AppriseUrl is used: their secrets never reach a log
    engine = engine or make_engine(settings.resolved_database_url)
    sessions = make_sessions(engine)
    operator_urls = [AppriseUrl(url.get_secret_value()) for url in settings.operator_notify]

    calendar = WorkingCalendar(catalog.calendar)
    links = TaskLinks(settings.signing_key(), settings.public_url, LINK_LIFETIME, clock)
    outbox = OutboxWriter(catalog, calendar, links, clock, zone, operator_urls)
    lifecycle = TaskLifecycle(clock, listeners=[outbox])
    tracker = TaskTracker(
        calendar, catalog.deadlines, lifecycle, zone, on_probation=outbox.probation_findings
    )
    desk = TaskDesk(lifecycle, calendar)
    maintenance = MaintenanceDesk(catalog.maintenance_requests, clock, zone)
    chase = ChaseSweep(sessions, catalog, lifecycle, outbox, calendar, links, clock, zone)
    canary = Canary(
        settings.canary_url, clock, proxy=settings.proxy, every_s=settings.canary_interval_s
    )
    recipients = RecipientBook(catalog, operator_urls)

    def give_up(session: Session, row: Notification) -> None:
        outbox.alert_operator(
            session,
            f"通知 #{row.id} 多次投递失败，已放弃",
            [
                f"收件人：{row.recipient}（{scrub(row.channel)}）",
                f"标题：{row.title}",
                f"最后错误：{scrub(row.last_error)}",
            ],
            key=f"gave-up:{row.id}",
        )

    metrics = Metrics()
    db_outage = DatabaseOutage()
    sender = OutboxSender(
        sessions,
        transport or AppriseTransport(),
        recipients,
        clock,
        quiet=QuietHours(calendar, settings.hours, zone) if settings.quiet_hours else None,
        max_attempts=settings.notify_max_attempts,
        backoff_s=settings.notify_backoff_s,
        on_give_up=give_up,
        rate_per_minute=settings.notify_rate_per_minute,
        on_attempt=metrics.observe_delivery,
        outage=db_outage,
    )
    sender.wake_on_commit(sessions)
    pool = pool or BrowserPool(
        BrowserOptions(executable_path=settings.chromium_path, proxy=settings.proxy),
        settings.browser_concurrency,
        recycle_after=settings.browser_recycle_after,
        recycle_above_bytes=settings.browser_recycle_above_mb * 2**20,
        recycle_growth_bytes=settings.browser_recycle_growth_mb * 2**20 or None,
    )
    evidence = EvidenceStore(settings.resolved_evidence_dir, settings.evidence_max_mb * 2**20)
    probes = probe_kinds(extra_probes)
    runner = ProbeRunner(
        pool,
        evidence,
        probes,
        clock,
        run_timeout_s=settings.run_timeout_s,
        max_response_bytes=settings.max_response_mb * 2**20,
        trace=settings.trace != "off",
        calendar=calendar,
    )
    return Services(
        settings=settings,
        catalog=catalog,
        clock=clock,
        zone=zone,
        engine=engine,
        sessions=sessions,
        calendar=calendar,
        links=links,
        outbox=outbox,
        directory=outbox.directory,
        lifecycle=lifecycle,
        tracker=tracker,
        desk=desk,
        maintenance=maintenance,
        chase=chase,
        canary=canary,
        recipients=recipients,
        sender=sender,
        pool=pool,
        evidence=evidence,
        runner=runner,
        probes=probes,
        metrics=metrics,
        db_outage=db_outage,
    )
