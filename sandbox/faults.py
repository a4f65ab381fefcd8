"""Faults the sandbox sites can be told to show, the defects real portals have.

Every site area has its own fault section with the same `to_dict` / `update` / `reset`
surface (`FaultSection`), built on `FaultFields`. A section is shared between the admin
endpoint or a test (writers) and page handlers (readers) on the server thread: writes and
multi-field reads (`to_dict`, `snapshot`) take its lock, single-field reads rely on
attribute reads being atomic. `PortalFaults` is the 政务服务网 portal's own section.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import MISSING, Field, dataclass, field, fields, replace
from typing import Any, ClassVar, Protocol, Self

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


class FaultFields:
    """A `FaultSection` over the fields of a ``@dataclass`` subclass.

    Each field's default says its kind and what `update` accepts: bool; int, a whole number
    from 0 to its limit in `_limits` (else MAX_SLOW_MS); float; str; list[str], entries
    stripped. A section with rules beyond a field's kind states them in `_check_rules`.
    """

    __dataclass_fields__: ClassVar[dict[str, Field[Any]]]
    _lock: threading.Lock

    _limits: ClassVar[Mapping[str, int]] = {}
    # Blank list entries are refused, or, in sections that always took them, dropped.
    _drops_blank_entries: ClassVar[bool] = False
    # Sections keep the wording their admin clients have always been shown.
    _unknown_message: ClassVar[str] = "unknown fault; known faults: {known}"
    _number_message: ClassVar[str] = "expected a whole number of milliseconds, got {value!r}"
    _range_message: ClassVar[str] = "must be between 0 and {high}, got {value}"

    def __post_init__(self) -> None:
        # Not a dataclass field, so asdict/replace/compare never touch the lock.
        self._lock = threading.Lock()
        # Validate constructor arguments the same way as admin updates.
        self.update(self.to_dict())

    @classmethod
    def defaults(cls) -> dict[str, Any]:
        """Field values of a healthy site, read from the dataclass itself."""
        return {
            f.name: f.default_factory() if f.default_factory is not MISSING else f.default
            for f in fields(cls)
        }

    def to_dict(self) -> dict[str, Any]:
        """The current settings as JSON-ready values (lists are copies)."""
        with self._lock:
            values = {f.name: getattr(self, f.name) for f in fields(self)}
            return {name: list(v) if isinstance(v, list) else v for name, v in values.items()}

    def snapshot(self) -> Self:
        """A consistent copy to read several fields from while serving one request."""
        return replace(self, **self.to_dict())

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
        self.update(self.defaults())

    def _check_rules(self, name: str, value: Any) -> None:
        """Raise FaultError if a value of the right kind breaks this section's own rules."""

    def _checked(self, name: str, value: Any) -> Any:
        defaults = self.defaults()
        if name not in defaults:
            raise FaultError(name, self._unknown_message.format(known=", ".join(defaults)))
        checked = self._checked_kind(name, value, type(defaults[name]))
        self._check_rules(name, checked)
        return checked

    def _checked_kind(self, name: str, value: Any, kind: type) -> Any:
        if kind is bool:
            if not isinstance(value, bool):
                raise FaultError(name, f"expected true or false, got {value!r}")
            return value
        if kind is int:
            high = self._limits.get(name, MAX_SLOW_MS)
            if isinstance(value, bool) or not isinstance(value, int):
                raise FaultError(name, self._number_message.format(value=value, high=high))
            if not 0 <= value <= high:
                raise FaultError(name, self._range_message.format(value=value, high=high))
            return value
        if kind is float:
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise FaultError(name, f"expected a number, got {value!r}")
            return float(value)
        if kind is str:
            if not isinstance(value, str):
                raise FaultError(name, f"expected a string, got {value!r}")
            return value
        if kind is list:
            blank_ok = self._drops_blank_entries
            if not isinstance(value, list) or not all(
                isinstance(v, str) and (blank_ok or v.strip()) for v in value
            ):
                wanted = "strings" if blank_ok else "non-empty strings"
                raise FaultError(name, f"expected a list of {wanted}, got {value!r}")
            return [v.strip() for v in value if v.strip()]
        raise TypeError(f"{type(self).__name__}.{name}: no fault field can be a {kind.__name__}")


@dataclass
class PortalFaults(FaultFields):
    """Defects of the 政务服务网 portal; the default instance is a healthy portal."""

    search_empty: bool = False
    items_missing: list[str] = field(default_factory=list)
    error_keywords: list[str] = field(default_factory=list)
    search_500: bool = False
    slow_ms: int = 0
    site_down: bool = False
    # A redesigned header whose search box has no role, label, placeholder or telltale
    # name: only a configured selector finds it (the search probe's selector tests).
    search_box_unlabelled: bool = False
    # Ten 热门服务 links above the results, in the content area: only a configured
    # result_item selector tells the results from them.
    hot_services_above_results: bool = False

    def _check_rules(self, name: str, value: Any) -> None:
        if name == "items_missing" and (unknown := [v for v in value if v not in ITEM_NAMES]):
            raise FaultError(name, f"no such item in the catalog: {'、'.join(unknown)}")


def fault_names() -> tuple[str, ...]:
    """The fault field names, in declaration order."""
    return tuple(f.name for f in fields(PortalFaults))


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
    defaults = PortalFaults.defaults()
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
