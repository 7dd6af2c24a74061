"""Pedestrian on the roadway (incident): a person on foot on the carriageway (or a
motorway), off any crosswalk, for longer than it takes to cross a street informally."""

from __future__ import annotations

from contract.events import EventType
from contract.scene import ZoneKind
from detectors.rules.base import FrameContext, pedestrians
from detectors.rules.zones import ZonePresenceRule
from detectors.tracks import Track


class PedestrianOnRoadwayRule(ZonePresenceRule):
    event_type = EventType.PEDESTRIAN_ON_ROADWAY
    zone_kinds = (ZoneKind.CARRIAGEWAY, ZoneKind.MOTORWAY)
    excluded_kinds = (ZoneKind.CROSSWALK,)
    min_s = 5.0

    #: A box cut by the frame's edge is too little of a person to judge (at 8 fps a pole
    #: at the edge of redlight_cam_intersection3 passed as a 6 px wide "person" for 5 s).
    edge_margin_px = 2.0

    def candidates(self, ctx: FrameContext) -> list[Track]:
        height, width = ctx.image.shape[:2]
        m = self.edge_margin_px
        return [
            t
            for t in pedestrians(ctx)
            if (b := t.last.detection.bbox)[0] > m and b[2] < width - m and b[3] < height - m
        ]
