"""Red-light running (GOST R 57144 code C12): crossing a stop line while its signal is red."""

from __future__ import annotations

from dataclasses import dataclass

from contract.events import EventType
from contract.scene import Line, LineKind, SceneConfig
from detectors.geometry import projection, signed_distance
from detectors.rules.base import VEHICLES, Finding, FrameContext, Rule
from detectors.signal_state import Colour
from detectors.tracks import Track


@dataclass
class _Approach:
    before: bool = False  # seen clearly on the approach side
    crossed_at: tuple[int, float] | None = None  # (frame, offset) where it passed the line
    red_at_crossing: bool = False
    red_for_s: float = 0.0
    reported: bool = False


class RedLightRule(Rule):
    event_type = EventType.RED_LIGHT
    gost_code = "C12"

    #: A crossing counts only once the anchor is this far (fraction of box height, min px)
    #: past the line, and only after it was as far before it: a vehicle waiting with its
    #: wheels on the line jitters across it without crossing.
    margin_fraction = 0.08
    margin_min_px = 3.0
    #: The first instant of red forgives a vehicle already committed to the junction.
    grace_s = 0.3
    #: How far beyond a stop line's ends (fraction of its length) a crossing still counts.
    extent_slack = 0.1

    def __init__(self, scene: SceneConfig, fps: float) -> None:
        super().__init__(scene, fps)
        self.lines = {ln.id: ln for ln in scene.line(LineKind.STOP_LINE)}
        self.governs: dict[str, list[str]] = {}
        for sig in scene.signals:
            for line_id in sig.controls:
                self.governs.setdefault(line_id, []).append(sig.id)
        self.state: dict[tuple[int, str], _Approach] = {}

    @classmethod
    def applies(cls, scene: SceneConfig) -> bool:
        controlled = {lid for s in scene.signals for lid in s.controls}
        return any(ln.id in controlled for ln in scene.line(LineKind.STOP_LINE))

    def _side(self, line: Line, point: tuple[float, float]) -> float:
        d = signed_distance(point, *line.points)
        if line.approach is not None and signed_distance(line.approach, *line.points) > 0:
            d = -d
        return d  # negative: approach side

    def _red(self, ctx: FrameContext, line_id: str) -> tuple[bool, float]:
        reds = [
            ctx.offset_s - ctx.signal_since.get(sid, 0.0)
            for sid in self.governs.get(line_id, [])
            if ctx.signals.get(sid) is Colour.RED
        ]
        return (bool(reds), max(reds, default=0.0))

    def update(self, ctx: FrameContext) -> list[Finding]:
        findings: list[Finding] = []
        for track in ctx.tracks.seen_now(ctx.index):
            if track.label not in VEHICLES:
                continue
            det = track.last.detection
            height = det.bbox[3] - det.bbox[1]
            margin = max(self.margin_min_px, self.margin_fraction * height)
            for line_id, line in self.lines.items():
                if line_id not in self.governs:
                    continue
                st = self.state.setdefault((track.track_id, line_id), _Approach())
                if st.reported:
                    continue
                t = projection(det.anchor, *line.points)
                if not -self.extent_slack <= t <= 1 + self.extent_slack:
                    continue
                d = self._side(line, det.anchor)
                if d < -margin:
                    st.before, st.crossed_at = True, None
                elif d > 0 and st.before and st.crossed_at is None:
                    st.crossed_at = (ctx.index, ctx.offset_s)
                    st.red_at_crossing, st.red_for_s = self._red(ctx, line_id)
                if d > margin and st.crossed_at is not None:
                    st.reported = True
                    if st.red_at_crossing and st.red_for_s >= self.grace_s:
                        findings.append(self._finding(track.track_id, line_id, st, track))
        return findings

    def _finding(self, track_id: int, line_id: str, st: _Approach, track: Track) -> Finding:
        frame, offset = st.crossed_at  # type: ignore[misc]
        return Finding(
            type=self.event_type,
            gost_code=self.gost_code,
            track_id=track_id,
            frame_index=frame,
            offset_s=offset,
            confidence=round(track.max_confidence, 4),
            params={
                "stop_line": line_id,
                "grace_s": self.grace_s,
                "margin_fraction": self.margin_fraction,
            },
            measured={"red_for_s": round(st.red_for_s, 3), "object_class": track.label},
            evidence_frames={
                "before": max(0, frame - round(0.5 * self.fps)),
                "overview": frame,
                "after": frame + round(1.0 * self.fps),
            },
        )
