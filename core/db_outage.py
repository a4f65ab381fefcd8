"""A database outage in the logs: one line when it starts, one a minute while it lasts,
one when it ends — not a traceback from every loop on every pass.

The daemon's loops (notification sender, chase sweep, scheduled runs) share one
:class:`DatabaseOutage`, so an outage is one story however many loops meet it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

log = logging.getLogger("govpatrol.database")


def is_database_outage(exc: BaseException) -> bool:
    """Whether ``exc`` says the database cannot be reached, rather than a bug."""
    if isinstance(exc, OperationalError | InterfaceError):
        return True
    return isinstance(exc, DBAPIError) and bool(exc.connection_invalidated)


class DatabaseOutage:
    def __init__(
        self,
        *,
        remind_every_s: float = 60.0,
        monotonic: Callable[[], float] = time.monotonic,
        logger: logging.Logger = log,
    ) -> None:
        self.remind_every_s = remind_every_s
        self.monotonic = monotonic
        self.log = logger
        self._lock = threading.Lock()
        self._since: float | None = None
        self._last_line = 0.0

    @property
    def ongoing(self) -> bool:
        return self._since is not None

    def failed(self, exc: BaseException, doing: str) -> bool:
        """Note ``exc`` met while ``doing`` something; False when it is no outage (the
        caller logs it as the bug it is)."""
        if not is_database_outage(exc):
            return False
        reason = _first_line(exc)
        now = self.monotonic()
        with self._lock:
            if self._since is None:
                self._since = self._last_line = now
                self.log.error("数据库不可用 / database unavailable (%s): %s", doing, reason)
            elif now - self._last_line >= self.remind_every_s:
                self._last_line = now
                self.log.error(
                    "数据库仍不可用 / database still unavailable after %.0f s: %s",
                    now - self._since,
                    reason,
                )
        return True

    def succeeded(self) -> None:
        """The database answered: ends an outage, if there was one."""
        if self._since is None:
            return
        with self._lock:
            if self._since is None:
                return
            lasted, self._since = self.monotonic() - self._since, None
        self.log.warning("数据库已恢复 / database back after %.0f s", lasted)


def _first_line(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None) or exc
    lines = str(orig).strip().splitlines()
    return lines[0] if lines else type(orig).__name__
