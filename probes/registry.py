"""The probe kinds this build knows, by the name the catalog uses (``probe: search``)."""

from __future__ import annotations

from pydantic import BaseModel

from probes.accessibility import AccessibilityProbe
from probes.assistant import AssistantProbe
from probes.availability import AvailabilityProbe
from probes.base import Probe
from probes.checklist import ChecklistProbe
from probes.consistency import ConsistencyProbe
from probes.consultation import ConsultationProbe
from probes.depth import DepthProbe
from probes.mobile import MobileProbe
from probes.rating import RatingProbe
from probes.registration import RegistrationProbe
from probes.search import SearchProbe
from probes.sso import SsoProbe

BUILT_IN: tuple[type[Probe], ...] = (
    SearchProbe,
    SsoProbe,
    ConsultationProbe,
    MobileProbe,
    RegistrationProbe,
    ChecklistProbe,
    DepthProbe,
    AvailabilityProbe,
    ConsistencyProbe,
    AssistantProbe,
    RatingProbe,
    AccessibilityProbe,
)


def probe_kinds(extra: tuple[type[Probe], ...] = ()) -> dict[str, type[Probe]]:
    """Built-in probes plus ``extra`` ones (benchmarks register a no-browser kind)."""
    return {probe.kind: probe for probe in (*BUILT_IN, *extra)}


def params_models(kinds: dict[str, type[Probe]]) -> dict[str, type[BaseModel]]:
    """What ``check-config`` validates each check's ``params`` against."""
    return {kind: probe.Params for kind, probe in kinds.items()}
