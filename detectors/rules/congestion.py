"""Congestion (incident): a carriageway or lane zone densely occupied by slow vehicles for a
sustained time; occupancy = share of the zone's area under vehicle boxes."""

from __future__ import annotations

import math

import cv2
import numpy as np

from contract.events import EventType
from contract.scene import SceneConfig, ZoneKind
from detectors.calibration import GroundPlane
from detectors.geometry import inside
from detectors.rules.base import VEHICLES, Finding, FrameContext, Rule, displacement, height


class CongestionRule(Rule):
    event_type = EventType.CONGESTION

    min_occupancy = 0.35
    #: Mean speed at or below which traffic counts as jammed: km/h on a calibrated scene,
    #: box heights per second otherwise.
    max_mean_speed_kmh = 15.0
    max_mean_speed_heights_per_s = 0.5
    #: Jammed this long makes an incident; clear this long ends it.
    min_duration_s = 20.0
    clear_s = 10.0
    #: Zones are measured this often (occupancy moves slowly; this saves CPU).
    sample_every_s = 0.5

    def __init__(self, scene: SceneConfig, fps: float) -> None:
        super().__init__(scene, fps)
        self.zones = [*scene.zones_of(ZoneKind.CARRIAGEWAY), *scene.zones_of(ZoneKind.LANE)]
        self.plane = GroundPlane(scene.calibration) if scene.calibration else None
        self.masks = {}
        for z in self.zones:
            mask = np.zeros((scene.frame_height, scene.frame_width), np.uint8)
            cv2.fillPoly(mask, [np.asarray(z.polygon, np.int32)], 1)
            self.masks[z.id] = mask
        self.jammed_since: dict[str, tuple[int, float]] = {}
        self.clear_since: dict[str, float] = {}
        self.active: set[str] = set()
        self.next_sample = 0.0

    @classmethod
    def applies(cls, scene: SceneConfig) -> bool:
        return bool(scene.zones_of(ZoneKind.CARRIAGEWAY) or scene.zones_of(ZoneKind.LANE))

    def _speed(
        self, track_points: tuple[tuple[float, float], tuple[float, float]], dt: float
    ) -> float:
        a, b = track_points
        if self.plane is not None:
            return self.plane.distance_m(a, b) / dt * 3.6
        return math.dist(a, b) / dt

    def update(self, ctx: FrameContext) -> list[Finding]:
        if ctx.offset_s < self.next_sample:
            return []
        self.next_sample = ctx.offset_s + self.sample_every_s
        vehicles = [t for t in ctx.tracks.seen_now(ctx.index) if t.label in VEHICLES]
        findings = []
        for zone in self.zones:
            mask = self.masks[zone.id]
            covered = np.zeros_like(mask)
            speeds = []
            for t in vehicles:
                if not inside(t.last.detection.anchor, zone.polygon):
                    continue
                x1, y1, x2, y2 = (round(v) for v in t.last.detection.bbox)
                covered[max(y1, 0) : y2, max(x1, 0) : x2] = 1
                dx, dy, dt = displacement(t, 1.0)
                if dt > 0:
                    end = t.last.detection.anchor
                    start = (end[0] - dx, end[1] - dy)
                    speed = self._speed((start, end), dt)
                    speeds.append(speed if self.plane else speed / height(t))
            occupancy = float(np.count_nonzero(covered & mask)) / max(int(mask.sum()), 1)
            mean_speed = float(np.mean(speeds)) if speeds else 0.0
            limit = self.max_mean_speed_kmh if self.plane else self.max_mean_speed_heights_per_s
            if occupancy >= self.min_occupancy and speeds and mean_speed <= limit:
                self.clear_since.pop(zone.id, None)
                frame, since = self.jammed_since.setdefault(zone.id, (ctx.index, ctx.offset_s))
                if zone.id not in self.active and ctx.offset_s - since >= self.min_duration_s:
                    self.active.add(zone.id)
                    findings.append(
                        self.finding(
                            ctx.index,
                            ctx.offset_s,
                            track=None,
                            params={
                                "zone": zone.id,
                                "min_occupancy": self.min_occupancy,
                                "max_mean_speed": limit,
                                "speed_unit": "km/h" if self.plane else "heights/s",
                                "min_duration_s": self.min_duration_s,
                            },
                            measured={
                                "occupancy": round(occupancy, 3),
                                "mean_speed": round(mean_speed, 2),
                                "vehicles": len(speeds),
                                "jammed_since_s": round(since, 2),
                            },
                            before_frame=frame,
                        )
                    )
            else:
                self.jammed_since.pop(zone.id, None)
                cleared = self.clear_since.setdefault(zone.id, ctx.offset_s)
                if ctx.offset_s - cleared >= self.clear_s:
                    self.active.discard(zone.id)
        return findings
