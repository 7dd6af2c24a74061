"""Tracking per stream over a shared detector.

One detector serves many cameras, so track state cannot live in the model (as it does in
ultralytics' `model.track`): every stream, live or replayed, has its own ByteTrack, fed by
the caller with that stream's boxes from the backend's batched `detect`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache

import numpy as np

from detectors.backends.base import Boxes, Detection, DetectorBackend, Tracker

#: ByteTrack's settings are tuned for 30 fps video; lost tracks are kept for as long in seconds.
_TRACKER_REFERENCE_FPS = 30.0


@cache
def _bytetrack_config(tracker: str) -> dict[str, object]:
    from ultralytics.utils import YAML
    from ultralytics.utils.checks import check_yaml

    return YAML.load(check_yaml(tracker))


@dataclass(frozen=True)
class _TrackInput:
    """The neutral arrays in the shape ByteTrack reads (conf, cls, xywh, xyxy, masks)."""

    boxes: Boxes

    @property
    def conf(self) -> np.ndarray:
        return self.boxes.scores

    @property
    def cls(self) -> np.ndarray:
        return self.boxes.classes

    @property
    def xyxy(self) -> np.ndarray:
        return self.boxes.xyxy

    @property
    def xywh(self) -> np.ndarray:
        xyxy = self.boxes.xyxy
        return np.concatenate([(xyxy[:, :2] + xyxy[:, 2:]) / 2, xyxy[:, 2:] - xyxy[:, :2]], axis=1)

    def __len__(self) -> int:
        return len(self.boxes)

    def __getitem__(self, mask: np.ndarray) -> _TrackInput:
        b = self.boxes
        return _TrackInput(Boxes(b.xyxy[mask], b.scores[mask], b.classes[mask]))


class CameraTracker(Tracker):
    """One stream's ByteTrack, for boxes of the given detector's model and labels."""

    def __init__(self, detector: DetectorBackend, fps: float) -> None:
        self.labels = detector.labels
        self.config = detector.tracker
        self.model_name = detector.model_name
        self.model_sha256 = detector.model_sha256
        self.fps = fps
        self.reset()

    def reset(self) -> None:
        from ultralytics.trackers.byte_tracker import BYTETracker
        from ultralytics.utils import IterableSimpleNamespace

        cfg = dict(_bytetrack_config(self.config))
        buffer = int(cfg["track_buffer"])  # type: ignore[call-overload]
        cfg["track_buffer"] = max(1, math.ceil(buffer * self.fps / _TRACKER_REFERENCE_FPS))
        self._tracker = BYTETracker(IterableSimpleNamespace(**cfg))

    def update(self, boxes: Boxes, image: np.ndarray) -> list[Detection]:
        rows = self._tracker.update(_TrackInput(boxes), image)
        # Each row: x1, y1, x2, y2, track id, score, class, index of the detection.
        return [
            Detection(
                track_id=int(row[4]),
                label=self.labels.get(int(row[6]), str(int(row[6]))),
                confidence=float(row[5]),
                bbox=(float(row[0]), float(row[1]), float(row[2]), float(row[3])),
            )
            for row in rows
        ]
