"""The recent past of one camera: frames with their detections, for pre-event evidence."""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

from detectors.backends.base import Detection
from detectors.sources import Frame


@dataclass(frozen=True)
class BufferedFrame:
    frame: Frame
    detections: tuple[Detection, ...]

    def box_of(self, track_id: int | None) -> Detection | None:
        return next((d for d in self.detections if d.track_id == track_id), None)


class FrameRing:
    def __init__(self, seconds: float, fps: float) -> None:
        self.frames: deque[BufferedFrame] = deque(maxlen=max(2, math.ceil(seconds * fps) + 1))

    def add(self, frame: Frame, detections: list[Detection]) -> None:
        self.frames.append(BufferedFrame(frame, tuple(detections)))

    def window(self, first: int, last: int) -> list[BufferedFrame]:
        return [b for b in self.frames if first <= b.frame.index <= last]

    def nearest(self, index: int) -> BufferedFrame:
        return min(self.frames, key=lambda b: abs(b.frame.index - index))
