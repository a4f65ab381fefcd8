"""Serve the SPA-style portal with its fault sections, like `PortalSandbox` does for the first."""

from __future__ import annotations

from sandbox.assistant import AssistantFaults
from sandbox.care import AccessibilityFaults
from sandbox.consistency import ConsistencyFaults
from sandbox.consultation_desk import ConsultationDesk
from sandbox.faults import FaultSection, PortalFaults
from sandbox.guide_faults import GuideFaults
from sandbox.online import OnlineFaults
from sandbox.rating import RatingFaults
from sandbox.registration_state import RegistrationDesk
from sandbox.server import RunningSite, SandboxServer
from sandbox.spa.app import create_spa_app
from sandbox.spa.faults import SpaFaults


class SpaPortalSandbox(RunningSite):
    """示范省一体化政务服务平台: the single-page portal on one address, with its sections
    ``portal`` (search faults, site down), ``spa`` (API timing and the SPA's own defects),
    ``registration``, ``consultation``, ``guides``, ``online``, ``consistency``,
    ``assistant``, ``rating`` and ``accessibility``."""

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
        consistency: ConsistencyFaults | None = None,
        assistant: AssistantFaults | None = None,
        rating: RatingFaults | None = None,
        accessibility: AccessibilityFaults | None = None,
    ) -> None:
        self.server = server
        self.faults = faults
        self.spa = spa
        self.registration = registration
        self.consultation = consultation
        self.guides = guides
        self.online = online
        self.consistency = consistency or ConsistencyFaults()
        self.assistant = assistant or AssistantFaults()
        self.rating = rating or RatingFaults()
        self.accessibility = accessibility or AccessibilityFaults()

    @classmethod
    def start(cls, host: str = "127.0.0.1", port: int = 0) -> SpaPortalSandbox:
        """Serve a healthy SPA portal and return when it accepts connections."""
        faults, spa, guides = PortalFaults(), SpaFaults(), GuideFaults()
        registration, consultation, online = RegistrationDesk(), ConsultationDesk(), OnlineFaults()
        consistency, assistant, rating = ConsistencyFaults(), AssistantFaults(), RatingFaults()
        accessibility = AccessibilityFaults()
        sections = (online, consistency, assistant, rating, accessibility)
        app = create_spa_app(faults, spa, registration, consultation, guides, *sections)
        server = SandboxServer(app, host=host, port=port).start()
        return cls(server, faults, spa, registration, consultation, guides, *sections)

    def sections(self) -> dict[str, FaultSection]:
        """The SPA portal's fault sections by area name."""
        return {
            "portal": self.faults,
            "spa": self.spa,
            "registration": self.registration.faults,
            "consultation": self.consultation.faults,
            "guides": self.guides,
            "online": self.online,
            "consistency": self.consistency,
            "assistant": self.assistant,
            "rating": self.rating,
            "accessibility": self.accessibility,
        }

    def reset(self) -> None:
        """Healthy again, with the default API delay."""
        for section in self.sections().values():
            section.reset()
