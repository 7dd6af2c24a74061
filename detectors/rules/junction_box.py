"""Entering a blocked junction box (GOST R 57144 code C14): driving into the box and
having to stand in it, because the exit was not clear."""

from __future__ import annotations

from contract.events import EventType
from contract.scene import Zone, ZoneKind
from detectors.geometry import bottom_share
from detectors.rules.base import FrameContext
from detectors.rules.zones import ZoneStandingRule
from detectors.tracks import Track


class JunctionBoxRule(ZoneStandingRule):
    event_type = EventType.BLOCKED_JUNCTION
    gost_code = "C14"
    zone_kinds = (ZoneKind.JUNCTION_BOX,)
    default_s = 2.0

    def exempt(self, ctx: FrameContext, track: Track, zone: Zone) -> str | None:
        # Only a vehicle seen entering the box can be blamed for entering it.
        first = track.history[0].detection.bbox
        return "in the box when first seen" if bottom_share(first, zone.polygon) >= 0.5 else None
