"""Wrong-way driving (GOST R 57144 code C9): moving against a lane's direction of travel."""

from __future__ import annotations

import math

from contract.events import EventType
from contract.scene import SceneConfig, ZoneKind
from detectors.geometry import inside
from detectors.rules.base import VEHICLES, Finding, FrameContext, Rule, displacement, height


class WrongWayRule(Rule):
    event_type = EventType.WRONG_WAY
    gost_code = "C9"

    #: Motion is judged over this window, and only when it covers this many box heights:
    #: a standing vehicle's jitter has no direction.
    window_s = 1.0
    min_move_heights = 0.5
    #: Moving more than this many degrees off the lane's direction counts as against it.
    max_angle_deg = 120.0
    #: Against the lane for this long, continuously, makes the violation.
    min_duration_s = 1.0

    def __init__(self, scene: SceneConfig, fps: float) -> None:
        super().__init__(scene, fps)
        self.lanes = [z for z in scene.zones_of(ZoneKind.LANE) if z.direction is not None]
        self.against_since: dict[int, tuple[int, float]] = {}
        self.reported: set[int] = set()

    @classmethod
    def applies(cls, scene: SceneConfig) -> bool:
        return any(z.direction is not None for z in scene.zones_of(ZoneKind.LANE))

    def update(self, ctx: FrameContext) -> list[Finding]:
        findings = []
        for track in ctx.tracks.seen_now(ctx.index):
            if track.label not in VEHICLES or track.track_id in self.reported:
                continue
            lane = next(
                (z for z in self.lanes if inside(track.last.detection.anchor, z.polygon)), None
            )
            dx, dy, _ = displacement(track, self.window_s)
            moved = math.hypot(dx, dy)
            if lane is None or moved < self.min_move_heights * height(track):
                self.against_since.pop(track.track_id, None)
                continue
            (ax, ay), (bx, by) = lane.direction  # type: ignore[misc]
            cos = (dx * (bx - ax) + dy * (by - ay)) / (moved * (math.hypot(bx - ax, by - ay) or 1))
            angle = math.degrees(math.acos(max(-1.0, min(1.0, cos))))
            if angle <= self.max_angle_deg:
                self.against_since.pop(track.track_id, None)
                continue
            frame, since = self.against_since.setdefault(track.track_id, (ctx.index, ctx.offset_s))
            if ctx.offset_s - since >= self.min_duration_s:
                self.reported.add(track.track_id)
                findings.append(
                    self.finding(
                        ctx.index,
                        ctx.offset_s,
                        track=track,
                        params={
                            "lane": lane.id,
                            "max_angle_deg": self.max_angle_deg,
                            "min_duration_s": self.min_duration_s,
                        },
                        measured={
                            "angle_deg": round(angle, 1),
                            "against_for_s": round(ctx.offset_s - since, 2),
                        },
                        before_frame=frame,
                    )
                )
        return findings
