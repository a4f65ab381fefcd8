"""适老化 and 无障碍 of the portals' PC pages: the 长者模式/关怀版 switch, with faults.

The healthy portals carry a care mode that enlarges the text and pass axe-core's serious
and critical rules on their home page and guides. On the first portal, 长者模式 in the top
bar is a link (`/care?back=…`) that sets a cookie and reloads the page, which then carries
`class="care"` on `<html>` (text from 16px to 20px); on the SPA, 关怀版 in the header is a
button that puts a class on `<html>` in place (the view drawn at 1.25× with CSS `zoom`).

The fault section `accessibility` (at /__sandbox/faults/accessibility, on both styles):

- ``care_mode_missing``: no care mode entry at all;
- ``care_mode_inert``: the entry switches (the reload happens, the class is set) but the
  style that enlarges the text never came with it: the text stays as it was;
- ``pc_violations``: every page gets a row of service icons without alt text, a 快速查询
  box without a label and a hotline in light grey on white (axe: image-alt, label,
  color-contrast);
- ``care_mode_new_tab`` (a healthy variant, first portal): 长者模式 opens the enlarged page
  in a new tab (``target="_blank"``), as portals whose care version is a site of its own do.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from sandbox.faults import FaultFields

AREA_NAME = "accessibility"
CARE_COOKIE = "care_mode"
# A plain square icon, drawn without a request (no broken image beside the fault).
ICON = (
    "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' width='32' height='32'%3E"
    "%3Crect width='32' height='32' rx='6' fill='%231d4f91'/%3E%3C/svg%3E"
)
ICON_NAMES = ("社保", "公积金", "户籍", "出入境")


@dataclass
class AccessibilityFaults(FaultFields):
    """Care mode and accessibility defects; the default instance is a healthy portal."""

    care_mode_missing: bool = False
    care_mode_inert: bool = False
    pc_violations: bool = False
    care_mode_new_tab: bool = False


@dataclass(frozen=True)
class CareView:
    """What a page of the first portal shows of the care mode and the a11y faults."""

    section: bool  # the app has the section (sites without it keep their plain top bar)
    entry: bool  # the 长者模式 link is shown
    on: bool  # the cookie says the mode is on
    enlarged: bool  # the page carries the class that enlarges its text
    violations: bool
    new_tab: bool = False
    icon: str = ICON
    icon_names: tuple[str, ...] = ICON_NAMES


def care_view(request: Request) -> CareView:
    """The care mode of the app serving `request`, read from its section and the cookie."""
    faults: AccessibilityFaults | None = getattr(request.app.state, "accessibility_faults", None)
    if faults is None:
        return CareView(section=False, entry=False, on=False, enlarged=False, violations=False)
    state = faults.snapshot()
    on = request.cookies.get(CARE_COOKIE) == "1"
    return CareView(
        section=True,
        entry=not state.care_mode_missing,
        on=on,
        enlarged=on and not state.care_mode_inert,
        violations=state.pc_violations,
        new_tab=state.care_mode_new_tab,
    )


def care_routes() -> list[BaseRoute]:
    """`/care?back=/path`: switch the mode (on, or off when it is on) and go back."""

    async def switch(request: Request) -> Response:
        back = request.query_params.get("back", "/")
        parts = urlsplit(back)
        if parts.scheme or parts.netloc or not back.startswith("/"):
            back = "/"  # never an open redirect
        response = RedirectResponse(back, status_code=302)
        on = request.cookies.get(CARE_COOKIE) == "1"
        response.set_cookie(CARE_COOKIE, "0" if on else "1", path="/", samesite="lax")
        return response

    return [Route("/care", switch, methods=["GET"])]
