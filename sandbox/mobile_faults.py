"""Faults of the H5 site 示范办 (`sandbox.mobile`), one per kind of mobile finding.

The same to_dict / update / reset surface as every fault section (see
`sandbox.faults.FaultSection`), with simple field types, so the admin endpoint and the
CLI can set them generically (`--fault mobile.overflow=true`).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from sandbox.faults import MAX_SLOW_MS, FaultError


@dataclass
class MobileFaults:
    """Defects of the H5 site; the default instance is a healthy site.

    Each fault breaks one page the way real H5 sites break: ``page_500`` 社保查询 answers
    500; ``overflow`` the 办事指南 fee table keeps its desktop width (720px);
    ``no_viewport`` 通知公告 pages lack the viewport meta; ``broken_link`` the 电子证照 tile
    points to a removed address; ``broken_image`` the home banner image is gone;
    ``broken_script`` 办件查询 loads a script that is gone; ``script_error`` 办事指南 calls
    the WeChat JS-SDK without loading it, so it throws inside WeChat only; ``tiny_text``
    the 服务 list is set in 10px; ``a11y_violations`` the home grid icons lose their alt,
    the search button becomes an unnamed icon and the hotline a low-contrast grey.
    """

    page_500: bool = False
    overflow: bool = False
    no_viewport: bool = False
    broken_link: bool = False
    broken_image: bool = False
    broken_script: bool = False
    script_error: bool = False
    tiny_text: bool = False
    a11y_violations: bool = False
    site_down: bool = False
    slow_ms: int = 0

    def __post_init__(self) -> None:
        # Not a dataclass field, so asdict/replace/compare never touch the lock.
        self._lock = threading.Lock()
        self.update(self.to_dict())

    def to_dict(self) -> dict[str, Any]:
        """The current settings as JSON-ready values."""
        with self._lock:
            return {f.name: getattr(self, f.name) for f in fields(self)}

    def snapshot(self) -> MobileFaults:
        """A consistent copy to read several fields from while serving one request."""
        return MobileFaults(**self.to_dict())

    def update(self, changes: Mapping[str, Any]) -> None:
        """Set the given fields, leaving the others alone; all or nothing.

        Raises FaultError naming the first unknown or ill-typed field.
        """
        checked = {name: _checked(name, value) for name, value in changes.items()}
        with self._lock:
            for name, value in checked.items():
                setattr(self, name, value)

    def reset(self) -> None:
        """Back to a healthy site."""
        self.update({f.name: f.default for f in fields(MobileFaults)})


def _checked(name: str, value: Any) -> Any:
    defaults = {f.name: f.default for f in fields(MobileFaults)}
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
