"""Speeding (GOST R 57144 code C1): average speed over a calibrated measurement segment,
from the speed_start line to the speed_end line, in ground-plane metres."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from contract.events import EventType
from contract.scene import Line, LineKind, SceneConfig, ZoneKind
from detectors.calibration import GroundPlane
from detectors.geometry import Point, inside
from detectors.rules.base import VEHICLES, Finding, FrameContext, Rule, side
from detectors.tracks import Track

MS_TO_KMH = 3.6


@dataclass
class _Run:
    started: float | None = None  # interpolated time the anchor crossed speed_start
    samples: list[tuple[float, float, float]] = field(default_factory=list)  # t, X, Y
    done: bool = False


class SpeedingRule(Rule):
    event_type = EventType.SPEEDING
    gost_code = "C1"

    #: Enforcement tolerance above the limit (the usual 10% + 2 mph allowance for the
    #: instrument and speedometer error).
    tolerance_fraction = 0.10
    tolerance_kmh = 3.0
    #: Speeds outside this range are measurement failures, never reported.
    plausible_kmh = (5.0, 250.0)
    #: Windowed speeds may differ by no more than a car can brake (~10 m/s2) plus box
    #: jitter; a larger jump means the track hopped between vehicles.
    max_accel_ms2 = 15.0
    #: Windows the speed profile is checked over.
    window_s = 0.5
    min_samples = 4

    def __init__(self, scene: SceneConfig, fps: float) -> None:
        super().__init__(scene, fps)
        self.plane = GroundPlane(scene.calibration)  # type: ignore[arg-type]
        self.segments = list(
            zip(scene.line(LineKind.SPEED_START), scene.line(LineKind.SPEED_END), strict=False)
        )
        self.limited = [
            z
            for z in scene.zones
            if z.speed_limit_kmh is not None and z.kind in (ZoneKind.LANE, ZoneKind.CARRIAGEWAY)
        ]
        self.runs: dict[tuple[int, str], _Run] = {}
        self.prev: dict[int, tuple[float, Point]] = {}

    @classmethod
    def applies(cls, scene: SceneConfig) -> bool:
        return (
            scene.calibration is not None
            and bool(scene.line(LineKind.SPEED_START))
            and bool(scene.line(LineKind.SPEED_END))
            and any(z.speed_limit_kmh is not None for z in scene.zones)
        )

    def update(self, ctx: FrameContext) -> list[Finding]:
        findings = []
        for track in ctx.tracks.seen_now(ctx.index):
            if track.label not in VEHICLES:
                continue
            anchor = track.last.detection.anchor
            prev = self.prev.get(track.track_id)
            self.prev[track.track_id] = (ctx.offset_s, anchor)
            if prev is None:
                continue
            for start, end in self.segments:
                run = self.runs.setdefault((track.track_id, start.id), _Run())
                if run.done:
                    continue
                crossed = _crossing(start, prev, (ctx.offset_s, anchor))
                if crossed is not None:
                    run.started, run.samples = crossed, []
                if run.started is None:
                    continue
                ground = self.plane.to_ground(anchor)
                run.samples.append((ctx.offset_s, *ground))
                ended = _crossing(end, prev, (ctx.offset_s, anchor))
                if ended is not None:
                    run.done = True
                    found = self._measure(ctx, track, start, end, run, ended)
                    if found is not None:
                        findings.append(found)
        return findings

    def _limit(self, point: Point) -> float | None:
        limits = [z.speed_limit_kmh for z in self.limited if inside(point, z.polygon)]
        return min((v for v in limits if v is not None), default=None)

    def _measure(
        self, ctx: FrameContext, track: Track, start: Line, end: Line, run: _Run, ended: float
    ) -> Finding | None:
        limit = self._limit(track.last.detection.anchor)
        samples = np.asarray(run.samples)
        if limit is None or len(samples) < self.min_samples:
            return None
        t, xy = samples[:, 0], samples[:, 1:]
        # Least-squares velocity over the whole segment: averages out box jitter.
        coef, residuals, *_ = np.polyfit(t - t[0], xy, 1, full=True)
        velocity = coef[0]
        speed = float(np.hypot(*velocity))
        spread = float(np.sqrt(residuals.sum() / max(len(t) - 2, 1))) if residuals.size else 0.0
        duration = float(t[-1] - t[0]) or 1.0 / self.fps
        # Slope standard error plus the calibration's own error over the segment length.
        length = max(speed * duration, 1.0)
        sigma = speed * float(
            np.hypot(spread * np.sqrt(12 / len(t)) / length, self.plane.residual_m / length)
        )
        speed_kmh, sigma_kmh = speed * MS_TO_KMH, sigma * MS_TO_KMH
        lo, hi = self.plausible_kmh
        if not lo <= speed_kmh <= hi or self._jumps(t, xy):
            return None
        threshold = limit * (1 + self.tolerance_fraction) + self.tolerance_kmh
        if speed_kmh <= threshold:
            return None
        first = round(ctx.index - (ctx.offset_s - run.started) * self.fps)  # type: ignore[operator]
        return self.finding(
            ctx.index,
            ended,
            track=track,
            params={
                "speed_start": start.id,
                "speed_end": end.id,
                "limit_kmh": limit,
                "threshold_kmh": round(threshold, 1),
                "tolerance_fraction": self.tolerance_fraction,
                "tolerance_kmh": self.tolerance_kmh,
            },
            measured={
                "speed_kmh": round(speed_kmh, 1),
                "uncertainty_kmh": round(sigma_kmh, 1),
                "segment_s": round(ended - run.started, 3),  # type: ignore[operator]
                "calibration_residual_m": round(self.plane.residual_m, 3),
            },
            before_frame=first,
        )

    def _jumps(self, t: np.ndarray, xy: np.ndarray) -> bool:
        """Whether windowed speeds change faster than a car can accelerate or brake."""
        step = max(1, round(self.window_s * self.fps))
        if len(t) <= 2 * step:
            return False
        idx = np.arange(0, len(t) - step, step)
        speeds = np.hypot(*(xy[idx + step] - xy[idx]).T) / (t[idx + step] - t[idx])
        accel = np.abs(np.diff(speeds)) / (t[idx[1:]] - t[idx[:-1]])
        return bool(np.any(accel > self.max_accel_ms2))


def _crossing(line: Line, prev: tuple[float, Point], now: tuple[float, Point]) -> float | None:
    """When the anchor passed the line from its approach side, interpolated between frames."""
    d0, d1 = side(line, prev[1]), side(line, now[1])
    if not d0 < 0 <= d1:
        return None
    return prev[0] + (now[0] - prev[0]) * (-d0 / (d1 - d0))
