"""Failure to yield to pedestrians (GOST R 57144 code C15): a vehicle driving over a
crosswalk while someone on foot is on it close to its path."""

from __future__ import annotations

import math

from contract.events import EventType
from contract.scene import SceneConfig, ZoneKind
from detectors.geometry import inside
from detectors.rules.base import (
    VEHICLES,
    Finding,
    FrameContext,
    Rule,
    displacement,
    height,
    pedestrians,
)


class YieldPedestriansRule(Rule):
    event_type = EventType.FAILURE_TO_YIELD
    gost_code = "C15"

    #: A pedestrian this many vehicle widths (sideways, from the box's edges) or closer is
    #: in the vehicle's path.
    conflict_widths = 1.0
    #: Moving: faster than this many box heights per second over half a second.
    moving_heights_per_s = 0.5

    def __init__(self, scene: SceneConfig, fps: float) -> None:
        super().__init__(scene, fps)
        self.crosswalks = scene.zones_of(ZoneKind.CROSSWALK)
        self.reported: set[int] = set()

    @classmethod
    def applies(cls, scene: SceneConfig) -> bool:
        return bool(scene.zones_of(ZoneKind.CROSSWALK))

    def update(self, ctx: FrameContext) -> list[Finding]:
        walkers = pedestrians(ctx)
        if not walkers:
            return []
        findings = []
        for track in ctx.tracks.seen_now(ctx.index):
            if track.label not in VEHICLES or track.track_id in self.reported:
                continue
            x1, _, x2, _ = track.last.detection.bbox
            anchor = track.last.detection.anchor
            crosswalk = next((z for z in self.crosswalks if inside(anchor, z.polygon)), None)
            dx, dy, dt = displacement(track, 0.5)
            if crosswalk is None or dt <= 0:
                continue
            speed = math.hypot(dx, dy) / dt / height(track)
            if speed < self.moving_heights_per_s:
                continue
            reach = self.conflict_widths * (x2 - x1)
            near = [
                p
                for p in walkers
                if inside(p.last.detection.anchor, crosswalk.polygon)
                and x1 - reach <= p.last.detection.anchor[0] <= x2 + reach
            ]
            if not near:
                continue
            self.reported.add(track.track_id)
            gap = min(
                max(x1 - p.last.detection.anchor[0], p.last.detection.anchor[0] - x2, 0.0)
                for p in near
            )
            findings.append(
                self.finding(
                    ctx.index,
                    ctx.offset_s,
                    track=track,
                    params={
                        "crosswalk": crosswalk.id,
                        "conflict_widths": self.conflict_widths,
                        "moving_heights_per_s": self.moving_heights_per_s,
                    },
                    measured={
                        "pedestrians": len(near),
                        "gap_px": round(gap, 1),
                        "speed_heights_per_s": round(speed, 2),
                    },
                )
            )
        return findings
