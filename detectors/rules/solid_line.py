"""Crossing a solid line (GOST R 57144 code C11)."""

from __future__ import annotations

from contract.events import EventType
from contract.scene import LineKind, SceneConfig
from detectors.geometry import projection
from detectors.rules.base import VEHICLES, Finding, FrameContext, Rule, side


class SolidLineRule(Rule):
    event_type = EventType.SOLID_LINE
    gost_code = "C11"

    #: A side counts only when the anchor is this far from the line (fraction of box width,
    #: min px): a car driving along the line wanders over it without changing lanes.
    margin_fraction = 0.25
    margin_min_px = 3.0

    def __init__(self, scene: SceneConfig, fps: float) -> None:
        super().__init__(scene, fps)
        self.lines = scene.line(LineKind.SOLID_LINE)
        # (track, line) -> (clear side sign, frame and offset it last sat on that side)
        self.sides: dict[tuple[int, str], tuple[int, int, float]] = {}
        self.reported: set[tuple[int, str]] = set()

    @classmethod
    def applies(cls, scene: SceneConfig) -> bool:
        return bool(scene.line(LineKind.SOLID_LINE))

    def update(self, ctx: FrameContext) -> list[Finding]:
        findings = []
        for track in ctx.tracks.seen_now(ctx.index):
            if track.label not in VEHICLES:
                continue
            det = track.last.detection
            margin = max(self.margin_min_px, self.margin_fraction * (det.bbox[2] - det.bbox[0]))
            for line in self.lines:
                key = (track.track_id, line.id)
                if key in self.reported or not 0 <= projection(det.anchor, *line.points) <= 1:
                    continue
                d = side(line, det.anchor)
                if abs(d) < margin:
                    continue
                sign = 1 if d > 0 else -1
                was = self.sides.get(key)
                self.sides[key] = (sign, ctx.index, ctx.offset_s)
                # With an approach point only crossings away from it count (one-way marking).
                if was is None or was[0] == sign or (line.approach is not None and sign < 0):
                    continue
                self.reported.add(key)
                findings.append(
                    self.finding(
                        ctx.index,
                        ctx.offset_s,
                        track=track,
                        params={"line": line.id, "margin_fraction": self.margin_fraction},
                        measured={"from_side_s": round(ctx.offset_s - was[2], 3)},
                        before_frame=was[1],
                    )
                )
        return findings
