"""The outbox: one row per message per recipient, written with the change that causes it.

Rows hold no secrets: the recipient's Apprise URL is found again at delivery time from
its digest, so a database dump never leaks a webhook key or an SMTP password.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UTCDateTime


class DeliveryStatus(StrEnum):
    PENDING = "pending"  # waiting for its time (retry backoff, quiet hours)
    SENDING = "sending"  # claimed by a sender until claimed_until
    SENT = "sent"
    FAILED = "failed"  # gave up after the last attempt; the operator was told


class Audience(StrEnum):
    UNIT = "unit"  # unit contacts, leaders, supervisors: wait for working hours
    OPERATOR = "operator"  # the monitor's operators: sent at any hour


class Notification(Base):
    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_status_next", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(80), unique=True)
    task_id: Mapped[int | None] = mapped_column(ForeignKey("tasks.id"), index=True)
    history_id: Mapped[int | None] = mapped_column(ForeignKey("task_history.id"))
    kind: Mapped[str] = mapped_column(String(40))
    audience: Mapped[str] = mapped_column(String(20), default=Audience.UNIT.value)
    recipient: Mapped[str] = mapped_column(String(200))
    channel: Mapped[str] = mapped_column(String(500))  # service and masked URL (AppriseUrl.label)
    url_digest: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default=DeliveryStatus.PENDING.value)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    claimed_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str] = mapped_column(Text, default="")
