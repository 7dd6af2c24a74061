"""Stopped vehicle (incident): standing on the carriageway or in the intersection, not
queueing, for longer than traffic normally stands there."""

from __future__ import annotations

from contract.events import EventType
from contract.scene import Zone, ZoneKind
from detectors.rules.base import FrameContext
from detectors.rules.zones import ZoneStandingRule
from detectors.signal_state import Colour
from detectors.tracks import Track


class StoppedVehicleRule(ZoneStandingRule):
    event_type = EventType.STOPPED_VEHICLE
    # Intersection first: standing inside the junction is never queueing.
    zone_kinds = (ZoneKind.INTERSECTION, ZoneKind.CARRIAGEWAY)
    default_s = 2.0

    def exempt(self, ctx: FrameContext, track: Track, zone: Zone) -> bool:
        # Outside the junction, a vehicle standing while a signal in view shows red (or is
        # about to) is taken to queue for it.
        return zone.kind is ZoneKind.CARRIAGEWAY and any(
            c in (Colour.RED, Colour.YELLOW) for c in ctx.signals.values()
        )
