"""Stop lines under a red signal: red-light running (GOST R 57144 code C12) and stopping
beyond the stop line (C13). Both follow each vehicle across each signal-controlled line."""

from __future__ import annotations

from dataclasses import dataclass

from contract.events import EventType
from contract.scene import LineKind, SceneConfig, ZoneKind
from contract.signals import SignalColour
from detectors.geometry import inside, projection
from detectors.rules.base import (
    VEHICLES,
    Finding,
    FrameContext,
    Rule,
    displacement,
    height,
    side,
    smoothed_anchor,
    still_since,
)
from detectors.tracks import Track


@dataclass
class _Approach:
    before: bool = False  # seen clearly on the approach side
    crossed_at: tuple[int, float] | None = None  # (frame, offset) where it passed the line
    red_at_crossing: bool = False
    red_for_s: float = 0.0
    moving_past: bool = False  # seen moving on, past the margin
    done: bool = False


class _StopLineWatch(Rule):
    #: A vehicle counts as on the approach side only once its anchor is this far (fraction
    #: of box height, min px) before the line: one waiting with its wheels on the line
    #: jitters across it without crossing.
    margin_fraction = 0.08
    margin_min_px = 3.0
    #: The first instant of red forgives a vehicle already committed to the junction.
    grace_s = 0.3
    #: How far beyond a stop line's ends (fraction of its length) a crossing still counts.
    extent_slack = 0.1
    #: Past the line by this many box heights, a vehicle has entered the junction.
    through_heights = 1.0
    #: Lost (occlusion, id switch) for this long after moving on past the margin faster
    #: than moving_heights_per_s, a vehicle counts as having driven through.
    lost_s = 0.2
    moving_heights_per_s = 0.5

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

    def _red(self, ctx: FrameContext, line_id: str) -> tuple[bool, float]:
        reds = [
            ctx.offset_s - ctx.signal_since.get(sid, 0.0)
            for sid in self.governs.get(line_id, [])
            if ctx.signals.get(sid) is SignalColour.RED
        ]
        return (bool(reds), max(reds, default=0.0))

    def update(self, ctx: FrameContext) -> list[Finding]:
        findings: list[Finding] = []
        for track in ctx.tracks.seen_now(ctx.index):
            if track.label not in VEHICLES:
                continue
            anchor = track.last.detection.anchor
            margin = max(self.margin_min_px, self.margin_fraction * height(track))
            for line_id in self.governs.keys() & self.lines.keys():
                line = self.lines[line_id]
                st = self.state.setdefault((track.track_id, line_id), _Approach())
                t = projection(anchor, *line.points)
                if st.done or not -self.extent_slack <= t <= 1 + self.extent_slack:
                    continue
                d = side(line, anchor)
                if d < -margin:
                    st.before, st.crossed_at = True, None
                elif d > 0 and st.before and st.crossed_at is None:
                    st.crossed_at = (ctx.index, ctx.offset_s)
                    st.red_at_crossing, st.red_for_s = self._red(ctx, line_id)
                if st.crossed_at is None:
                    continue
                st.moving_past = d > margin and self._moving(track)
                through = d > self.through_heights * height(track)
                findings += self._conclude(ctx, track, line_id, st, through)
        for (track_id, line_id), st in self.state.items():
            track = ctx.tracks.tracks.get(track_id)
            lost = track is not None and ctx.offset_s - track.last.offset_s > self.lost_s
            if lost and st.moving_past and not st.done:
                findings += self._conclude(ctx, track, line_id, st, through=True)  # type: ignore[arg-type]
        return findings

    def _conclude(
        self, ctx: FrameContext, track: Track, line_id: str, st: _Approach, through: bool
    ) -> list[Finding]:
        found = None
        if st.red_at_crossing and st.red_for_s >= self.grace_s:
            found = self._judge(ctx, track, line_id, st, through)
        st.done = st.done or through or found is not None
        return [found] if found is not None else []

    def _moving(self, track: Track) -> bool:
        dx, dy, dt = displacement(track, 0.5)
        return dt > 0 and (dx * dx + dy * dy) ** 0.5 / dt > self.moving_heights_per_s * height(
            track
        )

    def _params(self, line_id: str) -> dict[str, float | str]:
        return {
            "stop_line": line_id,
            "grace_s": self.grace_s,
            "margin_fraction": self.margin_fraction,
            "through_heights": self.through_heights,
            "moving_heights_per_s": self.moving_heights_per_s,
        }

    def _judge(
        self, ctx: FrameContext, track: Track, line_id: str, st: _Approach, through: bool
    ) -> Finding | None:
        raise NotImplementedError


class RedLightRule(_StopLineWatch):
    """Crossing the stop line on red and driving on into the junction."""

    event_type = EventType.RED_LIGHT
    gost_code = "C12"

    def _judge(
        self, ctx: FrameContext, track: Track, line_id: str, st: _Approach, through: bool
    ) -> Finding | None:
        if not through:
            return None
        frame, offset = st.crossed_at  # type: ignore[misc]
        return self.finding(
            frame,
            offset,
            track=track,
            params=self._params(line_id),
            measured={"red_for_s": round(st.red_for_s, 3)},
        )


class StopLineRule(_StopLineWatch):
    """Crossing the stop line on red and stopping past it, short of the junction: standing
    inside the intersection after crossing on red is red-light running, reported as such."""

    event_type = EventType.STOP_LINE
    gost_code = "C13"
    #: Standing this long past the line (and not yet through) makes the violation.
    min_stop_s = 1.0
    #: Standing means the anchor stays within this fraction of the box height.
    still_fraction = 0.1

    def __init__(self, scene: SceneConfig, fps: float) -> None:
        super().__init__(scene, fps)
        self.junction = [
            *scene.zones_of(ZoneKind.INTERSECTION),
            *scene.zones_of(ZoneKind.JUNCTION_BOX),
        ]

    def _judge(
        self, ctx: FrameContext, track: Track, line_id: str, st: _Approach, through: bool
    ) -> Finding | None:
        still_for = ctx.offset_s - still_since(track, self.still_fraction * height(track))
        if through or still_for < self.min_stop_s or not self._red(ctx, line_id)[0]:
            return None
        anchor = smoothed_anchor(track)
        if any(inside(anchor, z.polygon) for z in self.junction):
            return None
        return self.finding(
            ctx.index,
            ctx.offset_s,
            track=track,
            params={
                **self._params(line_id),
                "min_stop_s": self.min_stop_s,
                "still_fraction": self.still_fraction,
            },
            measured={"red_for_s": round(st.red_for_s, 3), "stopped_for_s": round(still_for, 2)},
            before_frame=st.crossed_at[0],  # type: ignore[index]
        )
