"""One scheduler per database: a lease row the daemon holds and renews.

A second daemon on the same database refuses to start while the lease is held, so the
same check is never scheduled twice. A crashed holder's lease runs out, or is taken over
at once when the holder is known to be dead on this host.

The holder may schedule only while it can *prove* it holds the lease: ``proven()`` is true
until the last successful acquire or renewal, counted from before its statement was sent,
plus the lease's lifetime less a safety margin. A renewal that fails (database down, the
lease taken over) leaves the proof to run out; the daemon then pauses and tries to
acquire again.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import time

from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from core.clock import Clock
from tasks.models import SchedulerLease

LEASE_NAME = "scheduler"


class LeaseHeld(Exception):
    """Another daemon holds the scheduler lease of this database."""


class SchedulerLock:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        clock: Clock,
        ttl: dt.timedelta = dt.timedelta(seconds=90),
        margin: dt.timedelta | None = None,
    ) -> None:
        self.sessions = sessions
        self.clock = clock
        self.ttl = ttl
        # The proof ends this long before the lease itself, for clock skew between hosts.
        self.margin = margin if margin is not None else ttl / 6
        self.holder = f"{socket.gethostname()}:{os.getpid()}"
        self._proven_until = 0.0  # time.monotonic() until which we know we hold it

    def proven(self) -> bool:
        """Whether this process can still prove it holds the lease."""
        return time.monotonic() < self._proven_until

    def _proved_since(self, sent: float) -> None:
        self._proven_until = sent + (self.ttl - self.margin).total_seconds()

    def acquire(self) -> None:
        """Take the lease, or raise ``LeaseHeld``; database errors pass through."""
        sent = time.monotonic()
        self._acquire()
        self._proved_since(sent)

    def _acquire(self) -> None:
        now = self.clock.now()
        with self.sessions.begin() as session:
            taken = session.execute(
                update(SchedulerLease)
                .where(
                    SchedulerLease.name == LEASE_NAME,
                    (SchedulerLease.expires_at < now) | (SchedulerLease.holder == self.holder),
                )
                .values(holder=self.holder, expires_at=now + self.ttl)
            ).rowcount  # type: ignore[attr-defined]
            if taken:
                return
            current = session.get(SchedulerLease, LEASE_NAME)
            if current is not None and _dead_here(current.holder):
                # The holder crashed on this machine (SIGKILL, OOM): no need to wait.
                current.holder, current.expires_at = self.holder, now + self.ttl
                return
            if current is not None:
                raise LeaseHeld(
                    f"另一个守护进程（{current.holder}）正在使用该数据库，"
                    f"租约到 {current.expires_at:%Y-%m-%d %H:%M:%S} UTC"
                )
        try:
            with self.sessions.begin() as session:
                session.add(
                    SchedulerLease(name=LEASE_NAME, holder=self.holder, expires_at=now + self.ttl)
                )
        except IntegrityError:
            raise LeaseHeld("另一个守护进程刚刚启动并占用了该数据库") from None

    def renew(self) -> bool:
        """Extend the lease; False if it was lost (another daemon took it over).

        Database errors pass through; either way the proof is not extended.
        """
        sent = time.monotonic()
        now = self.clock.now()
        with self.sessions.begin() as session:
            renewed = session.execute(
                update(SchedulerLease)
                .where(SchedulerLease.name == LEASE_NAME, SchedulerLease.holder == self.holder)
                .values(expires_at=now + self.ttl)
            ).rowcount  # type: ignore[attr-defined]
        if renewed:
            self._proved_since(sent)
        else:
            self._proven_until = 0.0
        return bool(renewed)

    def release(self) -> None:
        self._proven_until = 0.0
        with self.sessions.begin() as session:
            session.execute(
                delete(SchedulerLease).where(
                    SchedulerLease.name == LEASE_NAME, SchedulerLease.holder == self.holder
                )
            )


def _dead_here(holder: str) -> bool:
    """Whether ``holder`` (host:pid) was a process on this host that no longer runs."""
    host, _, pid = holder.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False
