"""Faults and timing of the single-page portal that its first-style sibling does not have.

The SPA shares the portal's own sections (search faults, registration, consultation, guides);
this section holds what only a script-rendered portal shows: how long its JSON APIs take,
a search API that answers slowly, a phone check refused by the server only, a wide table.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sandbox.faults import FaultError, FaultFields

DEFAULT_API_DELAY_MS = 600


@dataclass
class SpaFaults(FaultFields):
    """The SPA's own settings; the default instance is a healthy portal whose every API
    answer takes ``api_delay_ms`` (as a real one behind a gateway does)."""

    api_delay_ms: int = DEFAULT_API_DELAY_MS
    search_delay_ms: int = 0  # extra delay of the search API only (9000: a 9 s answer)
    server_rejected_segments: list[str] = field(default_factory=list)  # refused by the API
    # The view keeps the blur-time check's refusal to itself (it only disables 获取短信验证码):
    # the refusal is in the check's JSON answer, not on the page.
    blur_check_silent: bool = False
    mobile_overflow: bool = False  # guide pages carry a table wider than a phone

    def _check_rules(self, name: str, value: Any) -> None:
        if name == "server_rejected_segments" and (
            bad := [v for v in value if not (len(v) == 3 and v.isdigit() and v[0] == "1")]
        ):
            raise FaultError(name, f"not a mobile segment such as 176: {', '.join(bad)}")
