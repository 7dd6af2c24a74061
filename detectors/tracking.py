"""Tracking per camera over a shared detector.

An ultralytics model keeps one tracker state, so `model.track` cannot serve many cameras
at once. Every stream, live or replayed, therefore gets its own ByteTrack fed with its
boxes from the backend's plain (batched) `detect`; a worker detects for all its cameras in
one call and stages each camera's boxes.
"""

from __future__ import annotations

import math
from functools import cache
from typing import Any

import numpy as np

from detectors.backends.base import Detection, DetectorBackend, Tracker

#: ByteTrack's settings are tuned for 30 fps video; lost tracks are kept for as long in seconds.
_TRACKER_REFERENCE_FPS = 30.0


@cache
def _bytetrack_config(tracker: str) -> dict[str, object]:
    from ultralytics.utils import YAML
    from ultralytics.utils.checks import check_yaml

    return YAML.load(check_yaml(tracker))


class CameraTracker(Tracker):
    """One camera's view of the shared detector, with its own ByteTrack state.

    `track(image)` detects alone unless the boxes for that very image were staged."""

    def __init__(self, detector: DetectorBackend, fps: float) -> None:
        self.detector = detector
        self.model_name = detector.model_name
        self.model_sha256 = detector.model_sha256
        self.fps = fps
        self._staged: tuple[np.ndarray, Any] | None = None
        self.reset()

    def reset(self) -> None:
        from ultralytics.trackers.byte_tracker import BYTETracker
        from ultralytics.utils import IterableSimpleNamespace

        cfg = dict(_bytetrack_config(self.detector.tracker))
        buffer = int(cfg["track_buffer"])  # type: ignore[call-overload]
        cfg["track_buffer"] = max(1, math.ceil(buffer * self.fps / _TRACKER_REFERENCE_FPS))
        self._tracker = BYTETracker(IterableSimpleNamespace(**cfg))

    def stage(self, image: np.ndarray, boxes: Any) -> None:
        self._staged = (image, boxes)

    def track(self, image: np.ndarray) -> list[Detection]:
        staged, self._staged = self._staged, None
        boxes = staged[1] if staged and staged[0] is image else self.detector.detect([image])[0]
        rows = self._tracker.update(boxes, image)
        labels = self.detector.labels
        # Each row: x1, y1, x2, y2, track id, score, class, index of the detection.
        return [
            Detection(
                track_id=int(row[4]),
                label=labels.get(int(row[6]), str(int(row[6]))),
                confidence=float(row[5]),
                bbox=(float(row[0]), float(row[1]), float(row[2]), float(row[3])),
            )
            for row in rows
        ]
