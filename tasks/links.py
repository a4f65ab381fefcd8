"""Signed, expiring links that let a unit contact act on one task without an account.

A token names one task and its unit; it opens that task and nothing else.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer

from core.clock import Clock


class LinkError(Exception):
    """A link that is forged, altered or expired."""


@dataclass(frozen=True)
class LinkClaims:
    task_id: int
    unit_code: str


class TaskLinks:
    def __init__(self, secret: str, base_url: str, max_age: dt.timedelta, clock: Clock) -> None:
        class _ClockSigner(TimestampSigner):
            # Signing and expiry follow the product's clock, so tests can move time.
            def get_timestamp(self) -> int:
                return int(clock.now().timestamp())

        self._serializer = URLSafeTimedSerializer(
            secret, salt="govpatrol.task-link", signer=_ClockSigner
        )
        self._base_url = base_url.rstrip("/")
        self._max_age = max_age

    def token(self, task_id: int, unit_code: str) -> str:
        return self._serializer.dumps({"t": task_id, "u": unit_code})

    def url(self, task_id: int, unit_code: str) -> str:
        return f"{self._base_url}/u/{self.token(task_id, unit_code)}"

    def verify(self, token: str) -> LinkClaims:
        try:
            data: Any = self._serializer.loads(token, max_age=int(self._max_age.total_seconds()))
        except SignatureExpired:
            raise LinkError("链接已过期") from None
        except BadSignature:
            raise LinkError("链接无效") from None
        if not isinstance(data, dict) or not isinstance(data.get("t"), int):
            raise LinkError("链接无效")
        return LinkClaims(task_id=int(data["t"]), unit_code=str(data.get("u", "")))
