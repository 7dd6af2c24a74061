"""Driving in a bus lane: a vehicle other than a bus inside it for longer than a lane change."""

from __future__ import annotations

from contract.events import EventType
from contract.scene import ZoneKind
from detectors.rules.base import VEHICLES, FrameContext
from detectors.rules.zones import ZonePresenceRule
from detectors.tracks import Track


class BusLaneRule(ZonePresenceRule):
    event_type = EventType.BUS_LANE
    zone_kinds = (ZoneKind.BUS_LANE,)
    #: Crossing the lane to turn or to reach the kerb takes less than this.
    min_s = 3.0

    def candidates(self, ctx: FrameContext) -> list[Track]:
        return [t for t in ctx.tracks.seen_now(ctx.index) if t.label in VEHICLES - {"bus"}]
