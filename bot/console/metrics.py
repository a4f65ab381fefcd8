"""/metrics in the Prometheus text format.

Counters and histograms updated where things happen live in ``services.metrics``
(runs by probe and outcome, run durations, delivery attempts). The figures that describe
the database — open and overdue tasks by unit, the outbox by status — and the browser
contexts in use are read when Prometheus scrapes.

/metrics needs a bearer token (or a session) of an account without a unit limit: the
figures name every unit, and the daemon may listen on a public address.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

from fastapi import APIRouter, Depends, Request
from fastapi.responses import PlainTextResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import case, func, select

from bot.console.auth import ConsoleAuth, get_auth
from bot.console.figures import local_today
from bot.services import Services
from bot.web_state import get_services
from notifications.models import Notification
from tasks.models import ACTIVE_STATES, Task

log = logging.getLogger(__name__)
router = APIRouter()


class ScrapeTimeFigures(Collector):
    """Gauges read at scrape time from the database and the browser pool."""

    def __init__(self, services: Services) -> None:
        self.services = services

    def collect(self) -> Iterator[Metric]:
        services = self.services
        in_use = GaugeMetricFamily(
            "govpatrol_browser_contexts_in_use", "Browser contexts open right now"
        )
        in_use.add_metric([], services.pool.in_use)
        limit = GaugeMetricFamily(
            "govpatrol_browser_contexts_limit", "Browser contexts allowed at once"
        )
        limit.add_metric([], services.pool.concurrency)
        yield from (in_use, limit)
        database_ok = GaugeMetricFamily(
            "govpatrol_database_up", "Whether the task figures could be read"
        )
        try:
            open_tasks, overdue_tasks, outbox = self._from_database()
        except Exception:
            log.exception("metrics: cannot read the database")
            database_ok.add_metric([], 0)
            yield database_ok
            return
        database_ok.add_metric([], 1)
        yield from (database_ok, open_tasks, overdue_tasks, outbox)

    def _from_database(self) -> tuple[GaugeMetricFamily, ...]:
        services = self.services
        today = local_today(services)
        with services.sessions() as session:
            by_unit = {
                code: (count, int(overdue or 0))
                for code, count, overdue in session.execute(
                    select(
                        Task.unit_code,
                        func.count(Task.id),
                        func.sum(case((Task.deadline < today, 1), else_=0)),
                    )
                    .where(Task.state.in_(ACTIVE_STATES))
                    .group_by(Task.unit_code)
                )
            }
            by_status = dict(
                session.execute(
                    select(Notification.status, func.count(Notification.id)).group_by(
                        Notification.status
                    )
                ).all()
            )
        open_tasks = GaugeMetricFamily(
            "govpatrol_tasks_open", "Tasks not yet closed, by unit", labels=["unit"]
        )
        overdue_tasks = GaugeMetricFamily(
            "govpatrol_tasks_overdue", "Open tasks past their deadline, by unit", labels=["unit"]
        )
        codes = [unit.code for unit in services.catalog.units]
        for code in codes + sorted(set(by_unit) - set(codes)):
            count, overdue = by_unit.get(code, (0, 0))
            open_tasks.add_metric([code], count)
            overdue_tasks.add_metric([code], overdue)
        outbox = GaugeMetricFamily(
            "govpatrol_notifications",
            "Notifications in the outbox by status (pending, sending, sent, failed)",
            labels=["status"],
        )
        for status in ("pending", "sending", "sent", "failed"):
            outbox.add_metric([status], by_status.get(status, 0))
        return open_tasks, overdue_tasks, outbox


def scrape_time_registry(services: Services) -> CollectorRegistry:
    """A registry of the figures read at scrape time, one per app (it holds ``services``)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(ScrapeTimeFigures(services))
    return registry


def get_scrape_time_registry(request: Request) -> CollectorRegistry:
    registry: CollectorRegistry = request.app.state.scrape_time_registry
    return registry


@router.get("/metrics", include_in_schema=False)
def metrics(
    request: Request,
    services: Services = Depends(get_services),
    auth: ConsoleAuth = Depends(get_auth),
    scraped: CollectorRegistry = Depends(get_scrape_time_registry),
) -> Response:
    viewer = auth.viewer(request)
    if viewer is None:
        return PlainTextResponse(
            "需要 API 令牌\n", status_code=401, headers={"WWW-Authenticate": "Bearer"}
        )
    if viewer.units is not None:
        return PlainTextResponse("需要不限单位的账号\n", status_code=403)
    body = generate_latest(services.metrics.registry) + generate_latest(scraped)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
