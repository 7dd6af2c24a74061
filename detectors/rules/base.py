"""What every rule sees and returns. A rule is a small class over tracks and the scene."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from contract.events import EventType
from contract.scene import Line, SceneConfig
from contract.signals import SignalColour
from detectors.geometry import Point, signed_distance
from detectors.registration import View
from detectors.tracks import Track, TrackBook

VEHICLES = frozenset({"car", "motorcycle", "bus", "truck"})


def side(line: Line, point: Point) -> float:
    """Signed distance from a line, negative on its approach side (if it has one)."""
    d = signed_distance(point, *line.points)
    if line.approach is not None and signed_distance(line.approach, *line.points) > 0:
        d = -d
    return d


def height(track: Track) -> float:
    y1, y2 = track.last.detection.bbox[1], track.last.detection.bbox[3]
    return max(y2 - y1, 1.0)


def smoothed_anchor(track: Track, upto: int | None = None, n: int = 5) -> Point:
    """Median bottom-centre of the last n sightings (up to a history position): box edges
    jitter a few pixels frame to frame, and a passing car briefly clips a standing one."""
    history = list(track.history)[: None if upto is None else upto + 1][-n:]
    xs = sorted(s.detection.anchor[0] for s in history)
    ys = sorted(s.detection.anchor[1] for s in history)
    return (xs[len(xs) // 2], ys[len(ys) // 2])


def smoothed_box(track: Track, n: int = 5) -> tuple[float, float, float, float]:
    """Median box of the last n sightings, edge by edge."""
    boxes = [s.detection.bbox for s in list(track.history)[-n:]]
    x1, y1, x2, y2 = (sorted(edge)[len(edge) // 2] for edge in zip(*boxes, strict=True))
    return (x1, y1, x2, y2)


def still_since(track: Track, radius_px: float) -> float:
    """When the track's (smoothed) position last came within radius_px of where it is now
    and stayed there; the current offset if it is moving."""
    here = smoothed_anchor(track)
    history = list(track.history)
    since = history[-1].offset_s
    for i in range(len(history) - 1, -1, -1):
        x, y = smoothed_anchor(track, i)
        if (x - here[0]) ** 2 + (y - here[1]) ** 2 > radius_px**2:
            break
        since = history[i].offset_s
    return since


def displacement(track: Track, window_s: float) -> tuple[float, float, float]:
    """Anchor motion (dx, dy) over about the last window_s, and the time it spans."""
    last = track.last
    first = next(s for s in track.history if last.offset_s - s.offset_s <= window_s)
    (x0, y0), (x1, y1) = first.detection.anchor, last.detection.anchor
    return (x1 - x0, y1 - y0, last.offset_s - first.offset_s)


@dataclass(frozen=True)
class FrameContext:
    index: int
    offset_s: float
    image: np.ndarray
    tracks: TrackBook
    signals: dict[str, SignalColour] = field(default_factory=dict)
    signal_since: dict[str, float] = field(default_factory=dict)
    #: How the frame relates to the scene's reference frame; None: not registered.
    view: View | None = None


@dataclass(frozen=True)
class Finding:
    """A rule's verdict, before evidence is stored and the event is published."""

    type: EventType
    gost_code: str | None
    track_id: int | None
    frame_index: int
    offset_s: float
    confidence: float
    params: dict[str, float | str]
    measured: dict[str, float | str]
    #: Which frames prove it, by evidence role ("before", "overview", "after"); the rule
    #: chooses. Frames after the finding are captured once they have been seen.
    evidence_frames: dict[str, int] = field(default_factory=dict)


class Rule(ABC):
    event_type: ClassVar[EventType]
    gost_code: ClassVar[str | None] = None
    #: Whether the rule judges the scene's geometry: such rules are silent while the frame
    #: no longer matches the scene (a camera turned away, a cut to another view).
    needs_scene: ClassVar[bool] = True

    def __init__(self, scene: SceneConfig, fps: float) -> None:
        self.scene = scene
        self.fps = fps

    @classmethod
    @abstractmethod
    def applies(cls, scene: SceneConfig) -> bool:
        """Whether the scene has what this rule needs (lines, zones, signals)."""

    @abstractmethod
    def update(self, ctx: FrameContext) -> list[Finding]:
        """Look at one more frame; return what became a finding in it."""

    def finding(
        self,
        frame: int,
        offset_s: float,
        *,
        track: Track | None,
        params: dict[str, float | str],
        measured: dict[str, float | str],
        confidence: float | None = None,
        before_frame: int | None = None,
        after_s: float = 1.0,
    ) -> Finding:
        """A finding of this rule's type, with before / at / after evidence frames."""
        before = before_frame if before_frame is not None else frame - round(0.5 * self.fps)
        return Finding(
            type=self.event_type,
            gost_code=self.gost_code,
            track_id=track.track_id if track else None,
            frame_index=frame,
            offset_s=round(offset_s, 4),
            confidence=round(
                confidence if confidence is not None else track.max_confidence if track else 1.0,
                4,
            ),
            params=params,
            measured={**measured, **({"object_class": track.object_class} if track else {})},
            evidence_frames={
                "before": max(0, min(before, frame)),
                "overview": frame,
                "after": frame + round(after_s * self.fps),
            },
        )


def pedestrians(ctx: FrameContext) -> list[Track]:
    """People seen in this frame who are on foot: a rider (detectors/tracks.py) follows the
    vehicle rules."""
    return [t for t in ctx.tracks.seen_now(ctx.index) if t.on_foot]
