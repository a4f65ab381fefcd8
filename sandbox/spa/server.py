"""Serve the SPA-style portal with its fault sections, like `PortalSandbox` does for the first."""

from __future__ import annotations

from sandbox.care import AccessibilityFaults
from sandbox.consultation_desk import ConsultationDesk
from sandbox.faults import FaultSection, PortalFaults
from sandbox.guide_faults import GuideFaults
from sandbox.online import OnlineFaults
from sandbox.registration_state import RegistrationDesk
from sandbox.server import RunningSite, SandboxServer
from sandbox.spa.app import create_spa_app
from sandbox.spa.faults import SpaFaults


class SpaPortalSandbox(RunningSite):
    """示范省一体化政务服务平台: the single-page portal on one address, with its sections
    ``portal`` (search faults, site down), ``spa`` (API timing and the SPA's own defects),
    ``registration``, ``consultation``, ``guides``, ``online`` and ``accessibility``."""

    style = "spa"

    def __init__(
        self,
        server: SandboxServer,
        faults: PortalFaults,
        spa: SpaFaults,
        registration: RegistrationDesk,
        consultation: ConsultationDesk,
        guides: GuideFaults,
        online: OnlineFaults,
        accessibility: AccessibilityFaults,
    ) -> None:
        self.server = server
        self.faults = faults
        self.spa = spa
        self.registration = registration
        self.consultation = consultation
        self.guides = guides
        self.online = online
        self.accessibility = accessibility

    @classmethod
    def start(cls, host: str = "127.0.0.1", port: int = 0) -> SpaPortalSandbox:
        """Serve a healthy SPA portal and return when it accepts connections."""
        faults, spa, guides = PortalFaults(), SpaFaults(), GuideFaults()
        registration, consultation, online = RegistrationDesk(), ConsultationDesk(), OnlineFaults()
        accessibility = AccessibilityFaults()
        app = create_spa_app(faults, spa, registration, consultation, guides, online, accessibility)
        server = SandboxServer(app, host=host, port=port).start()
        return cls(server, faults, spa, registration, consultation, guides, online, accessibility)

    def sections(self) -> dict[str, FaultSection]:
        """The SPA portal's fault sections by area name."""
        return {
            "portal": self.faults,
            "spa": self.spa,
            "registration": self.registration.faults,
            "consultation": self.consultation.faults,
            "guides": self.guides,
            "online": self.online,
            "accessibility": self.accessibility,
        }

    def reset(self) -> None:
        """Healthy again, with the default API delay."""
        for section in self.sections().values():
            section.reset()
