"""Inference batched across cameras, tracking per camera.

An ultralytics model keeps one tracker state, so `model.track` cannot serve many cameras
at once. A worker therefore runs plain batched `predict` over the frames of all its
cameras and gives each camera its own ByteTrack, fed with that camera's boxes.
"""

from __future__ import annotations

import math
from functools import cache

import numpy as np
from ultralytics.engine.results import Boxes

from detectors.backends.base import Detection, DetectorBackend
from detectors.backends.yolo import TRAFFIC_CLASSES, UltralyticsBackend

#: ByteTrack's settings are tuned for 30 fps video; lost tracks are kept for as long in seconds.
_TRACKER_REFERENCE_FPS = 30.0


class BatchedYolo(UltralyticsBackend):
    """The worker's one model: detects in the frames of many cameras with one predict call."""

    def detect(self, images: list[np.ndarray], max_batch: int = 16) -> list[Boxes]:
        boxes: list[Boxes] = []
        for start in range(0, len(images), max_batch):
            results = self._model.predict(
                images[start : start + max_batch],
                classes=list(TRAFFIC_CLASSES),
                conf=self.confidence,
                imgsz=self.imgsz,
                verbose=False,
            )
            boxes += [r.boxes.cpu().numpy() for r in results]
        return boxes


@cache
def _bytetrack_config(tracker: str) -> dict[str, object]:
    from ultralytics.utils import YAML
    from ultralytics.utils.checks import check_yaml

    return YAML.load(check_yaml(tracker))


class CameraTracker(DetectorBackend):
    """One camera's view of the shared model, with its own ByteTrack state.

    The worker detects in a batch and stages each camera's boxes with `stage`; the
    pipeline's `track(image)` then tracks those boxes. Unstaged images are detected alone.
    """

    def __init__(self, detector: BatchedYolo, fps: float) -> None:
        self.detector = detector
        self.model_name = detector.model_name
        self.model_sha256 = detector.model_sha256
        self.fps = fps
        self._staged: tuple[np.ndarray, Boxes] | None = None
        self.reset()

    def reset(self) -> None:
        from ultralytics.trackers.byte_tracker import BYTETracker
        from ultralytics.utils import IterableSimpleNamespace

        cfg = dict(_bytetrack_config(self.detector.tracker))
        buffer = int(cfg["track_buffer"])  # type: ignore[call-overload]
        cfg["track_buffer"] = max(1, math.ceil(buffer * self.fps / _TRACKER_REFERENCE_FPS))
        self._tracker = BYTETracker(IterableSimpleNamespace(**cfg))

    def stage(self, image: np.ndarray, boxes: Boxes) -> None:
        self._staged = (image, boxes)

    def track(self, image: np.ndarray) -> list[Detection]:
        staged, self._staged = self._staged, None
        boxes = staged[1] if staged and staged[0] is image else self.detector.detect([image])[0]
        rows = self._tracker.update(boxes, image)
        # Each row: x1, y1, x2, y2, track id, score, class, index of the detection.
        return [
            Detection(
                track_id=int(row[4]),
                label=TRAFFIC_CLASSES.get(int(row[6]), str(int(row[6]))),
                confidence=float(row[5]),
                bbox=(float(row[0]), float(row[1]), float(row[2]), float(row[3])),
            )
            for row in rows
        ]
