"""The sandbox portal with 用户注册 mounted, as the registration tests drive it."""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

from sandbox.faults import PortalFaults
from sandbox.registration import SMS_INBOX_PATH, RegistrationDesk
from sandbox.server import SandboxServer


class RegistrationPortal:
    """The sandbox portal with its 用户注册 area mounted, and that area's state."""

    def __init__(
        self, server: SandboxServer, desk: RegistrationDesk, site: PortalFaults | None = None
    ) -> None:
        self.server = server
        self.desk = desk
        self.site = site if site is not None else PortalFaults()  # the portal's own faults

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def inbox_url(self) -> str:
        return f"{self.server.url}{SMS_INBOX_PATH}"

    def fault(self, **changes: Any) -> None:
        self.desk.faults.update(changes)


def unpacked(path: Path) -> bytes:
    """A file's bytes, or for a trace every member's bytes."""
    if path.suffix != ".zip":
        return path.read_bytes()
    with zipfile.ZipFile(path) as archive:
        return b"".join(archive.read(name) for name in archive.namelist())
