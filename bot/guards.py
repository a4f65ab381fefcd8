"""Protecting units from the monitor's own trouble: the canary.

canary          a known-good page; while it fails, failing runs count as `error`

The other guards need only the database and live beside the tracker:
``tasks.mass_failure`` (many targets failing at once) and ``tasks.maintenance``
(maintenance windows).
"""

from __future__ import annotations

import datetime as dt
import logging

import httpx

from core.clock import Clock

log = logging.getLogger(__name__)


class Canary:
    """The state of our own network, from a known-good page."""

    def __init__(
        self, url: str | None, clock: Clock, *, proxy: str | None = None, every_s: float = 60.0
    ) -> None:
        self.url = url
        self.clock = clock
        self.proxy = proxy
        self.every = dt.timedelta(seconds=every_s)
        self.ok = True
        self.reason = ""
        self.checked_at: dt.datetime | None = None

    async def check(self) -> bool:
        """Fetch the canary page now; True when it answers below HTTP 500."""
        if self.url is None:
            return True
        try:
            async with httpx.AsyncClient(proxy=self.proxy, timeout=10.0) as client:
                answer = await client.get(self.url)
            ok, reason = answer.status_code < 500, f"HTTP {answer.status_code}"
        except httpx.HTTPError as exc:
            ok, reason = False, f"{type(exc).__name__}: {exc}"
        if ok != self.ok:
            log.warning("canary %s is now %s (%s)", self.url, "up" if ok else "DOWN", reason)
        self.ok, self.reason, self.checked_at = ok, reason, self.clock.now()
        return ok

    async def network_ok(self) -> bool:
        """The canary's verdict, checked again when older than its interval."""
        if self.url is None:
            return True
        if self.checked_at is None or self.clock.now() - self.checked_at > self.every:
            await self.check()
        return self.ok
