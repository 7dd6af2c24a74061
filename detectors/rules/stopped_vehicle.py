"""Stopped vehicle (incident): standing on the carriageway or in the intersection for longer
than the zone allows (max_dwell_s, default 2 s), when it is not part of traffic.

Not incidents (detectors/queueing.py): waiting at a stop line, with or without a signal in
view; standing behind another standing vehicle in the same lane and direction; standing in
a zone that holds a jam (the congestion rule reports the zone once); standing in a zone
where stopping is allowed (parking, bus stop). A vehicle's clock starts again when it stops
being excused: a car left standing after the one ahead drove off is judged from then."""

from __future__ import annotations

from contract.events import EventType
from contract.scene import STOPPING_ALLOWED, SceneConfig, Zone, ZoneKind
from detectors.queueing import Standing, Traffic, heading_of
from detectors.rules.base import VEHICLES, FrameContext, height, smoothed_box, still_since
from detectors.rules.zones import ZoneStandingRule
from detectors.tracks import Track


class StoppedVehicleRule(ZoneStandingRule):
    event_type = EventType.STOPPED_VEHICLE
    # Intersection first: its own dwell threshold applies to a vehicle in both.
    zone_kinds = (ZoneKind.INTERSECTION, ZoneKind.CARRIAGEWAY)
    allowed_kinds = STOPPING_ALLOWED
    default_s = 2.0
    #: A vehicle counts as standing (for the others' queue) after this long still.
    standing_s = 0.3
    #: Its heading is taken from this much of its motion before it stopped.
    heading_window_s = 2.0

    def __init__(self, scene: SceneConfig, fps: float) -> None:
        super().__init__(scene, fps)
        self.traffic = Traffic(scene)
        self.standing: list[Standing] = []

    def prepare(self, ctx: FrameContext) -> None:
        self.standing = []
        for track in ctx.tracks.seen_now(ctx.index):
            if track.label not in VEHICLES:
                continue
            since = still_since(track, self.still_radius(ctx, track))
            if ctx.offset_s - since < self.standing_s:
                continue
            before = [
                s.detection.anchor
                for s in track.history
                if since - self.heading_window_s <= s.offset_s <= since
            ]
            heading = heading_of(before, 0.5 * height(track))
            self.standing.append(Standing(track.track_id, smoothed_box(track), heading))

    def exempt(self, ctx: FrameContext, track: Track, zone: Zone) -> str | None:
        me = next((v for v in self.standing if v.track_id == track.track_id), None)
        if me is None:
            return None
        if self.traffic.jammed(zone, self.standing):
            return "jam"
        return self.traffic.queued(me, self.standing)
