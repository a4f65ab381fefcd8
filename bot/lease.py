"""One scheduler per database: a lease row the daemon holds and renews.

A second daemon on the same database refuses to start while the lease is held, so the
same check is never scheduled twice. A crashed holder's lease runs out, or is taken over
at once when the holder is known to be dead on this host.
"""

from __future__ import annotations

import datetime as dt
import os
import socket

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
    ) -> None:
        self.sessions = sessions
        self.clock = clock
        self.ttl = ttl
        self.holder = f"{socket.gethostname()}:{os.getpid()}"

    def acquire(self) -> None:
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
        """Extend the lease; False if it was lost (another daemon took it over)."""
        now = self.clock.now()
        with self.sessions.begin() as session:
            renewed = session.execute(
                update(SchedulerLease)
                .where(SchedulerLease.name == LEASE_NAME, SchedulerLease.holder == self.holder)
                .values(expires_at=now + self.ttl)
            ).rowcount  # type: ignore[attr-defined]
        return bool(renewed)

    def release(self) -> None:
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
