"""Deliver the outbox: claim due rows, send each through its transport, record the result.

At-least-once: a row is claimed with a conditional UPDATE (status and lease), sent, then
marked sent. A crash after sending and before marking leaves the lease to expire and the
row is sent again; the idempotency key travels with it so receivers can drop the repeat.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Callable, Sequence

from sqlalchemy import Row, event, func, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from config.redaction import scrub
from core.clock import Clock
from core.db_outage import DatabaseOutage
from notifications.models import Audience, DeliveryStatus, Notification
from notifications.outbox import QUEUED, RecipientBook
from notifications.quiet_hours import QuietHours
from notifications.transport import DeliveryError, Transport

log = logging.getLogger(__name__)

# Called, in its own transaction, when a notice is given up on.
GiveUpAlert = Callable[[Session, Notification], None]


class OutboxSender:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        transport: Transport,
        recipients: RecipientBook,
        clock: Clock,
        *,
        quiet: QuietHours | None = None,
        max_attempts: int = 8,
        backoff_s: float = 30.0,
        max_backoff_s: float = 3600.0,
        lease_s: float = 120.0,
        on_give_up: GiveUpAlert | None = None,
        rate_per_minute: int = 20,
        on_attempt: Callable[[str], None] | None = None,
        parallel: int = 4,
        outage: DatabaseOutage | None = None,
    ) -> None:
        self.sessions = sessions
        self.transport = transport
        self.recipients = recipients
        self.clock = clock
        self.quiet = quiet
        self.max_attempts = max_attempts
        self.backoff_s = backoff_s
        self.max_backoff_s = max_backoff_s
        self.lease_s = lease_s
        self.on_give_up = on_give_up
        self.rate_per_minute = rate_per_minute
        self.on_attempt = on_attempt  # told "sent", "retry" or "failed" (metrics)
        self.parallel = parallel  # recipients served at once (each one's notices in order)
        self.outage = outage or DatabaseOutage()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._woken: asyncio.Event | None = None

    def wake_on_commit(self, sessions: sessionmaker[Session]) -> None:
        """Start a pass as soon as a transaction of ``sessions`` that queued a notice
        commits, instead of at the next poll. Other processes (the CLI) still wait for it."""

        @event.listens_for(sessions, "after_commit")
        def _committed(session: Session) -> None:
            if session.info.pop(QUEUED, False):
                self.wake()

    def wake(self) -> None:
        """Thread-safe: cut the running sender's wait short (no-op when it is not running)."""
        loop, woken = self._loop, self._woken
        if loop is None or woken is None or loop.is_closed():
            return
        with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
            loop.call_soon_threadsafe(woken.set)

    def recover(self) -> int:
        """Release every claim: call it only as the one sender of this database (the
        scheduler lease holder) at start-up, when any claim left is a dead sender's."""
        with self.sessions.begin() as session:
            released = session.execute(
                update(Notification)
                .where(Notification.status == DeliveryStatus.SENDING.value)
                .values(status=DeliveryStatus.PENDING.value, next_attempt_at=self.clock.now())
            ).rowcount  # type: ignore[attr-defined]
        if released:
            log.warning("released %d notices claimed by a sender that died", released)
        return int(released)

    async def run(self, stop: asyncio.Event, poll_s: float = 2.0, batch: int = 100) -> None:
        """Deliver until ``stop`` is set; a failing pass is logged and retried. A pass that
        claimed a full batch is followed at once by the next: a backlog does not wait
        ``poll_s`` between batches, and a commit that queued a notice ends the wait
        (see ``wake_on_commit``)."""
        self._loop, self._woken = asyncio.get_running_loop(), asyncio.Event()
        woken = self._woken
        try:
            while not stop.is_set():
                woken.clear()  # a commit during the pass below brings the next one at once
                claimed = 0
                try:
                    claimed, _ = await self._pass(batch)
                    self.outage.succeeded()
                except Exception as exc:
                    if not self.outage.failed(exc, "notification sender"):
                        log.exception("notification pass failed; retrying")
                if claimed >= batch:
                    await asyncio.sleep(0)  # let the rest of the loop breathe
                    continue
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(poll_s):
                        await _first_of(stop, woken)
        finally:
            self._loop = self._woken = None

    async def deliver_due(self, limit: int = 100) -> int:
        """One pass over the due rows; returns how many were delivered."""
        _, delivered = await self._pass(limit)
        return delivered

    async def _pass(self, limit: int) -> tuple[int, int]:
        """Claim up to ``limit`` due rows and deliver them: how many claimed, delivered.

        Different recipients are served concurrently (``parallel`` at once, since most of
        a delivery is waiting on the network); one recipient's notices go one after
        another, in the order they were written.
        """
        claimed = self._claim_due(limit)
        queues: dict[str, list[int]] = {}
        for row_id, digest in claimed:
            queues.setdefault(digest, []).append(row_id)
        gate = asyncio.Semaphore(self.parallel)

        async def in_order(row_ids: list[int]) -> int:
            delivered = 0
            for row_id in row_ids:
                async with gate:
                    delivered += await self._deliver(row_id)
            return delivered

        counts = await asyncio.gather(*(in_order(row_ids) for row_ids in queues.values()))
        return len(claimed), sum(counts)

    def _claim_due(self, limit: int) -> list[tuple[int, str]]:
        """Claim the due rows (a conditional UPDATE each): (row id, recipient digest)."""
        now = self.clock.now()
        with self.sessions.begin() as session:
            # A lease that ran out means a sender died mid-delivery: try again.
            session.execute(
                update(Notification)
                .where(
                    Notification.status == DeliveryStatus.SENDING.value,
                    Notification.claimed_until < now,
                )
                .values(status=DeliveryStatus.PENDING.value, next_attempt_at=now)
            )
            if self.quiet is not None and not self.quiet.allows(now):
                session.execute(
                    update(Notification)
                    .where(
                        Notification.status == DeliveryStatus.PENDING.value,
                        Notification.audience == Audience.UNIT.value,
                        Notification.next_attempt_at <= now,
                    )
                    .values(next_attempt_at=self.quiet.next_window(now))
                )
            due = session.execute(
                select(Notification.id, Notification.url_digest)
                .where(
                    Notification.status == DeliveryStatus.PENDING.value,
                    Notification.next_attempt_at <= now,
                )
                .order_by(Notification.id)
                .limit(limit)
            ).all()
            claimed = []
            digests = dict(due)
            lease = now + dt.timedelta(seconds=self.lease_s)
            for row_id in self._within_rate(session, due, now):
                result = session.execute(
                    update(Notification)
                    .where(
                        Notification.id == row_id,
                        Notification.status == DeliveryStatus.PENDING.value,
                    )
                    .values(
                        status=DeliveryStatus.SENDING.value,
                        claimed_until=lease,
                        attempts=Notification.attempts + 1,
                    )
                )
                if result.rowcount == 1:  # type: ignore[attr-defined]
                    claimed.append((row_id, digests[row_id]))
            return claimed

    def _within_rate(
        self, session: Session, due: Sequence[Row[int, str]], now: dt.datetime
    ) -> list[int]:
        """The due rows a channel may still take this minute; the others wait for it."""
        minute_ago = now - dt.timedelta(seconds=60)
        channels = {digest for _, digest in due}
        recent = dict(
            session.execute(
                select(Notification.url_digest, func.count(Notification.id))
                .where(
                    Notification.url_digest.in_(channels),
                    or_(
                        Notification.sent_at > minute_ago,
                        Notification.status == DeliveryStatus.SENDING.value,
                    ),
                )
                .group_by(Notification.url_digest)
            ).all()
        )
        allowed: list[int] = []
        for row_id, digest in due:
            if recent.get(digest, 0) < self.rate_per_minute:
                recent[digest] = recent.get(digest, 0) + 1
                allowed.append(row_id)
            else:
                session.execute(
                    update(Notification)
                    .where(Notification.id == row_id)
                    .values(next_attempt_at=now + dt.timedelta(seconds=15))
                )
        return allowed

    async def _deliver(self, row_id: int) -> int:
        with self.sessions() as session:
            row = session.get(Notification, row_id)
            if row is None:
                return 0
            url = self.recipients.url(row.url_digest)
            title, body, key, attempts = row.title, row.body, row.idempotency_key, row.attempts
        try:
            if url is None:
                raise DeliveryError(
                    "收件地址已不在目录中（联系人或运维地址被移除）", permanent=True
                )
            await asyncio.to_thread(self.transport.send, url, title, body, key)
        except DeliveryError as exc:
            self._record_failure(row_id, str(exc), exc.permanent or attempts >= self.max_attempts)
            return 0
        except Exception as exc:  # a bug in a transport must not stop the outbox
            log.exception("transport raised unexpectedly for notification %s", row_id)
            self._record_failure(
                row_id, f"{type(exc).__name__}: {exc}", attempts >= self.max_attempts
            )
            return 0
        self._record_sent(row_id)
        self._tell("sent")
        return 1

    def _tell(self, result: str) -> None:
        if self.on_attempt is not None:
            self.on_attempt(result)

    def _record_sent(self, row_id: int) -> None:
        with self.sessions.begin() as session:
            session.execute(
                update(Notification)
                .where(Notification.id == row_id)
                .values(
                    status=DeliveryStatus.SENT.value,
                    sent_at=self.clock.now(),
                    claimed_until=None,
                    last_error="",
                )
            )
        log.info("notification %s delivered", row_id)

    def _record_failure(self, row_id: int, error: str, final: bool) -> None:
        error = scrub(error)  # an exception's text may quote the URL it was sending to
        now = self.clock.now()
        with self.sessions.begin() as session:
            row = session.get(Notification, row_id)
            if row is None:
                return
            row.last_error = error[:2000]
            row.claimed_until = None
            self._tell("failed" if final else "retry")
            if final:
                row.status = DeliveryStatus.FAILED.value
                log.error("notification %s failed for good: %s", row_id, error)
                if self.on_give_up is not None and row.audience != Audience.OPERATOR.value:
                    self.on_give_up(session, row)
            else:
                delay = min(self.backoff_s * 2 ** (row.attempts - 1), self.max_backoff_s)
                row.status = DeliveryStatus.PENDING.value
                row.next_attempt_at = now + dt.timedelta(seconds=delay)
                log.warning(
                    "notification %s attempt %s failed, retry in %.0fs: %s",
                    row_id,
                    row.attempts,
                    delay,
                    error,
                )


async def _first_of(*events: asyncio.Event) -> None:
    """Wait until one of ``events`` is set."""
    waiters = [asyncio.ensure_future(e.wait()) for e in events]
    try:
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
