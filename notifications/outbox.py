"""Write notices into the outbox, inside the transaction of the change that causes them.

:class:`OutboxWriter` is a task listener: the tracker calls it for every history row it
writes, in the same session, so a task change and its notices commit together.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Callable, Sequence
from typing import assert_never
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session, object_session

from config.catalog import PROBE_LABELS, Catalog
from config.secrets import AppriseUrl
from core.calendar import WorkingCalendar
from core.clock import Clock
from core.db import insert_unless_present
from notifications import messages
from notifications.models import Audience, DeliveryStatus, Notification
from notifications.recipients import CIRCLE_LABELS, Circle, RecipientDirectory
from tasks.lifecycle import Notice, TaskAction
from tasks.links import TaskLinks
from tasks.models import Campaign, Run, Task, TaskHistory
from tasks.tracker import CheckPolicy

# Set in a session's info when a notice was queued in its transaction (see OutboxSender).
QUEUED = "govpatrol.notice_queued"

log = logging.getLogger(__name__)

Render = Callable[[messages.TaskFacts], messages.Message]

_UNIT = (Circle.CONTACTS,)
_LATE = (Circle.CONTACTS, Circle.LEADERS)
_ESCALATED = (*_LATE, Circle.SUPERVISORS)
_REPORTED = (*_ESCALATED, Circle.SUPERVISOR_LEADERS)


def notice_plan(notice: Notice) -> tuple[Render, tuple[Circle, ...]]:
    """The words and the hearers of each notice of the lifecycle table (exhaustive: a
    notice added there without a case here fails type checking)."""
    match notice:
        case Notice.TASK_OPENED:
            return messages.task_opened, _UNIT
        case Notice.TASK_REOPENED:
            return messages.task_reopened, _UNIT
        case Notice.TASK_CLOSED:
            return messages.task_closed, _UNIT
        case Notice.DUE_SOON:
            return messages.due_soon, _UNIT
        case Notice.OVERDUE:
            return messages.overdue, _LATE
        case Notice.ESCALATED:
            return messages.escalated, _ESCALATED
        case Notice.REPORTED:
            return messages.reported, _REPORTED
        case Notice.EXTENSION_REQUESTED:
            return messages.extension_requested, (Circle.SUPERVISORS,)
        case Notice.EXTENSION_DECIDED:
            return messages.extension_decided, _UNIT
        case Notice.DISPUTED:
            return messages.disputed, (Circle.SUPERVISORS,)
        case Notice.DISPUTE_UPHELD:
            return messages.dispute_upheld, _UNIT
        case Notice.DISPUTE_REJECTED:
            return messages.dispute_rejected, _UNIT
    assert_never(notice)


def url_digest(url: AppriseUrl) -> str:
    return hashlib.sha256(url.reveal().encode("utf-8")).hexdigest()


class RecipientBook:
    """Finds a recipient's Apprise URL again from the digest stored in the outbox."""

    def __init__(self, catalog: Catalog, operator_urls: Sequence[AppriseUrl]) -> None:
        self._urls: dict[str, AppriseUrl] = {}
        for unit in catalog.units:
            for contact in unit.contacts:
                for url in contact.notify:
                    self._urls[url_digest(url)] = url
        for url in operator_urls:
            self._urls[url_digest(url)] = url
        self.operator_urls = list(operator_urls)

    def url(self, digest: str) -> AppriseUrl | None:
        return self._urls.get(digest)


class OutboxWriter:
    def __init__(
        self,
        catalog: Catalog,
        calendar: WorkingCalendar,
        links: TaskLinks,
        clock: Clock,
        zone: ZoneInfo,
        operator_urls: Sequence[AppriseUrl] = (),
    ) -> None:
        self.catalog = catalog
        self.directory = RecipientDirectory(catalog)
        self.calendar = calendar
        self.links = links
        self.clock = clock
        self.zone = zone
        self.operator_urls = list(operator_urls)
        self._logged_alerts: set[str] = set()

    def __call__(self, session: Session, task: Task, change: TaskHistory) -> None:
        # Changes without a notice (签收, 报送整改) are only history: the people who made
        # them already know.
        notice = TaskAction(change.action).rule.notice
        if notice is None:
            return
        kind = notice.value
        render, circles = notice_plan(notice)
        message = render(self.facts(task, change.reason))
        recipients = self.directory.resolve(task.unit_code, circles)
        if not recipients:
            who = "、".join(CIRCLE_LABELS[c] for c in circles)
            self.alert_operator(
                session,
                f"整改任务 #{task.id} 的通知无人可收（{who}）",
                [f"责任单位代码：{task.unit_code}", f"通知内容：{message.title}"],
                # Once a day per unit and audience, not once per task change.
                key=f"no-recipient:{task.unit_code}:{self._today():%Y%m%d}:{who}",
            )
            return
        for name, url in recipients:
            self._add(
                session,
                key=f"task{task.id}:h{change.id}:{url_digest(url)[:16]}",
                kind=kind,
                audience=Audience.UNIT,
                recipient=name,
                url=url,
                message=message,
                task_id=task.id,
                history_id=change.id,
            )

    def digest(
        self, session: Session, unit_code: str, day: dt.date, lines: list[messages.DigestLine]
    ) -> int:
        """Queue one digest per unit contact; returns how many notices were queued."""
        message = messages.daily_digest(self.directory.unit_name(unit_code), day, lines)
        recipients = self.directory.resolve(unit_code, (Circle.CONTACTS,))
        for name, url in recipients:
            self._add(
                session,
                key=f"digest:{unit_code}:{day:%Y%m%d}:{url_digest(url)[:16]}",
                kind="digest",
                audience=Audience.UNIT,
                recipient=name,
                url=url,
                message=message,
            )
        return len(recipients)

    def _today(self) -> dt.date:
        return self.clock.now().astimezone(self.zone).date()

    def facts(self, task: Task, reason: str = "") -> messages.TaskFacts:
        target, check = self.catalog.check(task.check_id)
        unit_name = self.directory.unit_name(task.unit_code)
        today = self.clock.now().astimezone(self.zone).date()
        campaign = _campaign_of(task)
        return messages.TaskFacts(
            task_id=task.id,
            unit_name=unit_name,
            target_name=target.name,
            target_url=target.base_url,
            check_label=PROBE_LABELS.get(check.probe, check.check_name),
            problem=task.title,
            detail=task.detail,
            opened_at=task.opened_at.astimezone(self.zone),
            deadline=task.deadline,
            deadline_estimated=task.deadline_estimated,
            working_days=task.working_days,
            days_left=self.calendar.working_days_left(today, task.deadline),
            occurrences=task.occurrences,
            link=self.links.url(task.id, task.unit_code),
            reason=reason,
            note=task.rectify_note,
            campaign=campaign.name if campaign is not None else "",
            campaign_deadline=campaign.deadline if campaign is not None else None,
        )

    def probation_findings(self, session: Session, run: Run, check: CheckPolicy) -> None:
        """Tell the operators what a target on probation was found doing (once a day per
        check): no task was opened, and confirming the target starts tasks."""
        target, _ = self.catalog.check(check.check_id)
        lines = [f"巡检项：{check.check_id}（巡检记录 #{run.id}）"]
        lines += [f"发现：{finding.title}——{finding.detail}" for finding in run.findings]
        lines.append(
            "试运行期内不立案。请核对这些问题是否属实、目录配置是否读对了该网站；"
            f"确认后执行 govpatrol target confirm {target.key}（或在控制台确认）开始立案。"
        )
        self.alert_operator(
            session,
            f"试运行巡检对象“{target.name}”发现问题（未立案）",
            lines,
            key=f"probation:{check.check_id}:{self._today():%Y%m%d}",
        )

    def alert_operator(self, session: Session, subject: str, lines: list[str], key: str) -> None:
        """Queue an alert for the operators (sent at any hour)."""
        message = messages.operator_alert(subject, lines)
        if not self.operator_urls:
            if key not in self._logged_alerts:  # once per alert, not once per run
                self._logged_alerts.add(key)
                log.error("operator alert (no operator_notify configured): %s", subject)
            return
        for url in self.operator_urls:
            self._add(
                session,
                key=f"op:{key}:{url_digest(url)[:16]}",
                kind="operator_alert",
                audience=Audience.OPERATOR,
                recipient="运维",
                url=url,
                message=message,
            )

    def _add(
        self,
        session: Session,
        *,
        key: str,
        kind: str,
        audience: Audience,
        recipient: str,
        url: AppriseUrl,
        message: messages.Message,
        task_id: int | None = None,
        history_id: int | None = None,
    ) -> None:
        now = self.clock.now()
        row = {
            "idempotency_key": key[:80],
            "task_id": task_id,
            "history_id": history_id,
            "kind": kind,
            "audience": audience.value,
            "recipient": recipient,
            "channel": url.label[:500],  # never the URL: a link page shows it
            "url_digest": url_digest(url),
            "title": message.title,
            "body": message.body,
            "status": DeliveryStatus.PENDING.value,
            "attempts": 0,
            "created_at": now,
            "next_attempt_at": now,
        }
        # A repeated alert or a replayed change finds its notice queued already; the insert
        # is idempotent instead of check-then-insert, so a concurrent twin cannot fail the
        # transaction of the change that caused it.
        added = session.scalar(
            insert_unless_present(session, Notification, row, key=("idempotency_key",)).returning(
                Notification.id
            )
        )
        if added is None:
            return
        session.info[QUEUED] = True  # the sender wakes when this commits


def _campaign_of(task: Task) -> Campaign | None:
    """The 专项整改 ``task`` opened under, read in the task's own session (None without)."""
    session = object_session(task)
    if task.campaign_id is None or session is None:
        return None
    return session.get(Campaign, task.campaign_id)
