"""Faults the sandbox portal can be told to show, the defects real portals have.

`PortalFaults` is shared between the admin endpoint (writer) and page handlers (readers)
running on the server thread: writes and multi-field reads (`to_dict`, `snapshot`) take its
lock, single-field reads rely on attribute reads being atomic. Other sites
added later (registration, consultation, identity portal) get their own fault section with
the same `to_dict` / `update` / `reset` surface, see `FaultSection`.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import MISSING, dataclass, field, fields
from typing import Any, Protocol

from sandbox.catalog import ITEM_NAMES

MAX_SLOW_MS = 120_000
_TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
_FALSE_WORDS = frozenset({"0", "false", "no", "off"})
_LIST_SEPARATORS = ("，", "、", ";", "；")


class FaultError(ValueError):
    """A fault setting was rejected; `field` names the offending field."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(f"{field_name}: {message}")
        self.field = field_name


class FaultSection(Protocol):
    """What the admin endpoint needs from a site's faults."""

    def to_dict(self) -> dict[str, Any]: ...

    def update(self, changes: Mapping[str, Any]) -> None: ...

    def reset(self) -> None: ...


class PageFaults(Protocol):
    """What the page gate (site down, slowness) reads on every request."""

    @property
    def site_down(self) -> bool: ...

    @property
    def slow_ms(self) -> int: ...


@dataclass
class PortalFaults:
    """Defects of the 政务服务网 portal; the default instance is a healthy portal."""

    search_empty: bool = False
    items_missing: list[str] = field(default_factory=list)
    error_keywords: list[str] = field(default_factory=list)
    search_500: bool = False
    slow_ms: int = 0
    site_down: bool = False

    def __post_init__(self) -> None:
        # Not a dataclass field, so asdict/replace/compare never touch the lock.
        self._lock = threading.Lock()
        # Validate constructor arguments the same way as admin updates.
        self.update(self.to_dict())

    def to_dict(self) -> dict[str, Any]:
        """The current settings as JSON-ready values (lists are copies)."""
        with self._lock:
            return {
                "search_empty": self.search_empty,
                "items_missing": list(self.items_missing),
                "error_keywords": list(self.error_keywords),
                "search_500": self.search_500,
                "slow_ms": self.slow_ms,
                "site_down": self.site_down,
            }

    def snapshot(self) -> PortalFaults:
        """A consistent copy to read several fields from while serving one request."""
        return PortalFaults(**self.to_dict())

    def update(self, changes: Mapping[str, Any]) -> None:
        """Set the given fields, leaving the others alone; all or nothing.

        Raises FaultError naming the first unknown or ill-typed field.
        """
        checked = {name: _check_field(name, value) for name, value in changes.items()}
        with self._lock:
            for name, value in checked.items():
                setattr(self, name, value)

    def reset(self) -> None:
        """Back to a healthy portal."""
        self.update(_defaults())


def fault_names() -> tuple[str, ...]:
    """The fault field names, in declaration order."""
    return tuple(f.name for f in fields(PortalFaults))


def _defaults() -> dict[str, Any]:
    """Field values of a healthy portal, read from the dataclass itself."""
    return {
        f.name: f.default_factory() if f.default_factory is not MISSING else f.default
        for f in fields(PortalFaults)
    }


def _check_field(name: str, value: Any) -> Any:
    defaults = _defaults()
    if name not in defaults:
        raise FaultError(name, f"unknown fault; known faults: {', '.join(fault_names())}")
    kind = type(defaults[name])
    if kind is bool:
        if not isinstance(value, bool):
            raise FaultError(name, f"expected true or false, got {value!r}")
        return value
    if kind is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise FaultError(name, f"expected a whole number of milliseconds, got {value!r}")
        if not 0 <= value <= MAX_SLOW_MS:
            raise FaultError(name, f"must be between 0 and {MAX_SLOW_MS}, got {value}")
        return value
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise FaultError(name, f"expected a list of non-empty strings, got {value!r}")
    cleaned = [v.strip() for v in value]
    if name == "items_missing":
        unknown = [v for v in cleaned if v not in ITEM_NAMES]
        if unknown:
            raise FaultError(name, f"no such item in the catalog: {'、'.join(unknown)}")
    return cleaned


def parse_fault_args(args: list[str]) -> PortalFaults:
    """Faults from CLI arguments such as `search_empty`, `slow_ms=3000`,
    `items_missing=排污许可证核发,教师资格认定`; repeated list arguments add up.

    Raises ValueError naming the argument that could not be understood.
    """
    faults = PortalFaults()
    lists: dict[str, list[str]] = {}
    for arg in args:
        name, has_value, raw = (part.strip() for part in arg.partition("="))
        try:
            value = _parse_value(name, raw if has_value else None)
            if isinstance(value, list):
                value = lists.setdefault(name, []) + value
                lists[name] = value
            faults.update({name: value})
        except FaultError as exc:
            raise ValueError(f"bad fault argument {arg!r}: {exc}") from exc
    return faults


def _parse_value(name: str, raw: str | None) -> Any:
    defaults = _defaults()
    if name not in defaults:
        raise FaultError(name, f"unknown fault; known faults: {', '.join(fault_names())}")
    kind = type(defaults[name])
    if kind is bool:
        if raw is None or raw.lower() in _TRUE_WORDS:
            return True
        if raw.lower() in _FALSE_WORDS:
            return False
        raise FaultError(name, f"expected true or false, got {raw!r}")
    if raw is None or not raw:
        raise FaultError(name, f"needs a value, e.g. {name}={_example(name)}")
    if kind is int:
        try:
            return int(raw)
        except ValueError:
            message = f"expected a whole number of milliseconds, got {raw!r}"
            raise FaultError(name, message) from None
    for separator in _LIST_SEPARATORS:
        raw = raw.replace(separator, ",")
    return [part.strip() for part in raw.split(",") if part.strip()]


_EXAMPLES = {"slow_ms": "3000", "items_missing": "排污许可证核发", "error_keywords": "教师,排污"}


def _example(name: str) -> str:
    return _EXAMPLES[name]
