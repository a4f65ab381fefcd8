"""Faults of the single sign-on world: the identity portal and each department system.

Each site has its own section, served at its own /__sandbox/faults, with the same
`to_dict` / `update` / `reset` surface as `PortalFaults`. Fields are plain bools and
whole numbers, so a CLI can set them generically (`--fault scjg.ignore_ticket=true`).
Sections are written by the admin endpoint or a test and read by page handlers on the
server thread: writes and `to_dict` take the lock, single-field reads are atomic.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import MISSING, dataclass, fields
from typing import Any

from sandbox.faults import MAX_SLOW_MS, FaultError


class _Section:
    """`to_dict` / `update` / `reset` over the fields of a dataclass subclass."""

    def __post_init__(self) -> None:
        # Not a dataclass field, so asdict/replace/compare never touch the lock.
        self._lock = threading.Lock()
        self.update(self.to_dict())  # constructor arguments are checked like updates

    def to_dict(self) -> dict[str, Any]:
        """The current settings as JSON-ready values."""
        with self._lock:
            return {f.name: getattr(self, f.name) for f in fields(self)}  # type: ignore[arg-type]

    def update(self, changes: Mapping[str, Any]) -> None:
        """Set the given fields, leaving the others alone; all or nothing.

        Raises FaultError naming the first unknown or ill-typed field.
        """
        checked = {name: self._checked(name, value) for name, value in changes.items()}
        with self._lock:
            for name, value in checked.items():
                setattr(self, name, value)

    def reset(self) -> None:
        """Back to a healthy site."""
        self.update(self._defaults())

    def _defaults(self) -> dict[str, Any]:
        return {
            f.name: f.default_factory() if f.default_factory is not MISSING else f.default
            for f in fields(self)  # type: ignore[arg-type]
        }

    def _checked(self, name: str, value: Any) -> Any:
        defaults = self._defaults()
        if name not in defaults:
            known = ", ".join(defaults)
            raise FaultError(name, f"unknown fault; known faults: {known}")
        if isinstance(defaults[name], bool):
            if not isinstance(value, bool):
                raise FaultError(name, f"expected true or false, got {value!r}")
            return value
        if isinstance(value, bool) or not isinstance(value, int):
            raise FaultError(name, f"expected a whole number of milliseconds, got {value!r}")
        if not 0 <= value <= MAX_SLOW_MS:
            raise FaultError(name, f"must be between 0 and {MAX_SLOW_MS}, got {value}")
        return value


@dataclass
class IdentityFaults(_Section):
    """Defects of the 统一身份认证平台; the default instance is a healthy portal."""

    site_down: bool = False  # every page answers 503 系统维护中
    slow_ms: int = 0  # every page waits this long
    account_locked: bool = False  # the test account is locked (too many wrong passwords)
    reject_valid_account: bool = False  # the right password is refused as wrong
    login_error: bool = False  # submitting the login form answers 500 系统繁忙


@dataclass
class SystemFaults(_Section):
    """Defects of one department system; the default instance is a healthy system."""

    site_down: bool = False  # every page answers 503 系统维护中
    slow_ms: int = 0  # every page waits this long
    ignore_ticket: bool = False  # the identity ticket is ignored: the system's own login
    require_registration: bool = False  # a signed-in user must register here again
