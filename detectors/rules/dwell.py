"""No stopping / no parking: a vehicle standing in such a zone beyond its max_dwell_s."""

from __future__ import annotations

from contract.events import EventType
from contract.scene import STOPPING_ALLOWED, ZoneKind
from detectors.rules.zones import ZoneStandingRule


class NoStoppingRule(ZoneStandingRule):
    event_type = EventType.NO_STOPPING
    zone_kinds = (ZoneKind.NO_STOPPING, ZoneKind.NO_PARKING)
    allowed_kinds = STOPPING_ALLOWED
