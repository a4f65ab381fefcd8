"""Faults and timing of the single-page portal that its first-style sibling does not have.

The SPA shares the portal's own sections (search faults, registration, consultation, guides);
this section holds what only a script-rendered portal shows: how long its JSON APIs take,
a search API that answers slowly, a pager stuck on page 1, a phone check refused by the
server only, a wide table.
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
    mobile_no_viewport: bool = False  # the shell lacks its viewport meta
    mobile_broken_image: bool = False  # guide pages show a banner image that is gone
    mobile_tiny_text: bool = False  # guide facts are set in 10px
    mobile_script_error: bool = False  # the guide view calls a helper that is not loaded
    pager_stuck: bool = False  # 下一页 shows page 1's results again (the page is ignored)
    # A healthy variant: result cards from page 2 on have no links (opened by a script).
    next_page_unlinked: bool = False

    def _check_rules(self, name: str, value: Any) -> None:
        if name == "server_rejected_segments" and (
            bad := [v for v in value if not (len(v) == 3 and v.isdigit() and v[0] == "1")]
        ):
            raise FaultError(name, f"not a mobile segment such as 176: {', '.join(bad)}")
