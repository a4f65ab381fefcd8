"""Every sandbox site at once, each on its own loopback address (cookies ignore ports, so
separate sites need separate hosts), with one place to switch faults:

    127.0.0.1   示范省政务服务网 (portal: search, registration, consultation, guides)
    127.0.0.2   示范省统一身份认证平台 (identity portal)
    127.0.0.3-5 department systems (scjg, rst, gjj)
    127.0.0.6   示范省人民政府门户网站 (government portal, links to the platform)
    127.0.0.8   示范办 (the H5 mobile site)

Faults are named ``area.field`` (``consultation.never_reply``, ``scjg.ignore_ticket=true``,
``guides.missing_elements=gsslj:设定依据``); a bare name is a portal fault
(``items_missing=排污许可证核发``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sandbox.faults import FaultError, FaultSection, parse_fault_args
from sandbox.gov_portal import GovPortalSandbox
from sandbox.mobile import MobileSandbox
from sandbox.server import PortalSandbox
from sandbox.spa.server import SpaPortalSandbox
from sandbox.sso_world import SsoSandbox

PORTAL_HOST = "127.0.0.1"
IDENTITY_HOST = "127.0.0.2"
SYSTEM_HOSTS = ("127.0.0.3", "127.0.0.4", "127.0.0.5")
GOV_HOST = "127.0.0.6"
MOBILE_HOST = "127.0.0.8"
STYLES = ("classic", "spa")


@dataclass
class SandboxWorld:
    portal: PortalSandbox | SpaPortalSandbox
    sso: SsoSandbox
    gov: GovPortalSandbox
    mobile: MobileSandbox

    @classmethod
    def start(
        cls, port: int = 0, portal_host: str = PORTAL_HOST, style: str = "classic"
    ) -> SandboxWorld:
        """Start every site (healthy); ``port`` 0 lets each site pick a free one.

        ``style`` "spa" serves the single-page portal (sandbox/spa) instead of the
        server-rendered one, and its identity portal asks for a slider CAPTCHA.
        """
        if style not in STYLES:
            raise ValueError(f"unknown sandbox style {style!r} (known: {', '.join(STYLES)})")
        started: list[Any] = []
        try:
            portal: PortalSandbox | SpaPortalSandbox
            if style == "spa":
                portal = SpaPortalSandbox.start(portal_host, port)
            else:
                portal = PortalSandbox.start(portal_host, port)
            started.append(portal)
            sso = SsoSandbox.start(IDENTITY_HOST, SYSTEM_HOSTS, port)
            started.append(sso)
            if style == "spa":
                sso.identity_faults.update({"slider_captcha": True})
            gov = GovPortalSandbox.start(portal.url, GOV_HOST, port)
            started.append(gov)
            mobile = MobileSandbox.start(MOBILE_HOST, port, desktop_url=portal.url + "/")
        except BaseException:
            for site in reversed(started):
                site.stop()
            raise
        return cls(portal, sso, gov, mobile)

    def sections(self) -> dict[str, FaultSection]:
        """Every fault section by area name."""
        return {
            **self.portal.sections(),
            **self.sso.fault_sections(),
            "gov": self.gov.faults,
            "mobile": self.mobile.faults,
        }

    def apply(self, args: Iterable[str]) -> None:
        """Switch faults on from ``area.field[=value]`` arguments; ValueError names a bad one."""
        portal_args: list[str] = []
        sections = self.sections()
        for arg in args:
            name = arg.split("=", 1)[0]
            if "." not in name:
                portal_args.append(arg)
                continue
            area, field = name.split(".", 1)
            if area not in sections:
                known = ", ".join(sorted(sections))
                raise ValueError(f"{arg!r}: unknown area {area!r} (known: {known})")
            section = sections[area]
            current = section.to_dict()
            if field not in current:
                raise ValueError(f"{arg!r}: {area} has no fault {field!r} ({', '.join(current)})")
            raw = arg.split("=", 1)[1] if "=" in arg else None
            try:
                section.update({field: _parse(raw, current[field])})
            except (FaultError, ValueError) as exc:
                raise ValueError(f"{arg!r}: {exc}") from None
        if portal_args:
            self.portal.faults.update(parse_fault_args(portal_args).to_dict())

    def reset(self) -> None:
        for section in self.sections().values():
            section.reset()

    def urls(self) -> dict[str, str]:
        return {
            "portal": self.portal.url,
            "identity": self.sso.identity_url,
            **{f"sso_{running.system.code}": running.server.url for running in self.sso.systems},
            "gov": self.gov.url,
            "mobile": self.mobile.url,
        }

    def stop(self) -> None:
        for site in (self.mobile, self.gov, self.sso, self.portal):
            site.stop()


def _parse(raw: str | None, current: Any) -> Any:
    """A command-line value in the type of the field it sets."""
    if isinstance(current, bool):
        if raw is None:
            return True
        if raw.lower() in ("1", "true", "yes", "on"):
            return True
        if raw.lower() in ("0", "false", "no", "off"):
            return False
        raise ValueError(f"expected true or false, got {raw!r}")
    if raw is None:
        raise ValueError("give a value, e.g. field=value")
    if isinstance(current, int):
        return int(raw)
    if isinstance(current, float):
        return float(raw)
    if isinstance(current, list):
        return [
            part.strip() for part in raw.replace("、", ",").replace("，", ",").split(",") if part
        ]
    return raw
