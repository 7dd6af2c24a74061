"""The interfaces a detector backend and a per-camera tracker implement."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Detection:
    """One tracked object in one frame."""

    track_id: int | None
    label: str
    confidence: float
    bbox: tuple[float, float, float, float]  # x1, y1, x2, y2 in pixels

    @property
    def anchor(self) -> tuple[float, float]:
        """Bottom centre: where the object touches the road."""
        x1, _, x2, y2 = self.bbox
        return ((x1 + x2) / 2, y2)


class DetectorBackend(ABC):
    """A model that finds objects in frames, many frames (cameras) per call."""

    #: What events record as the model: name and SHA-256 of the weights.
    model_name: str
    model_sha256: str
    #: Class id -> label of what the backend reports.
    labels: dict[int, str]
    #: The tracker configuration (ultralytics tracker YAML) its boxes are meant for.
    tracker: str

    @abstractmethod
    def detect(self, images: list[np.ndarray], max_batch: int = 16) -> list[Any]:
        """Boxes per image, as ultralytics' Boxes (xyxy, xywh, conf, cls as numpy)."""


class Tracker(ABC):
    """One stream's tracked detections, frame after frame: what the pipeline consumes."""

    model_name: str
    model_sha256: str

    @abstractmethod
    def track(self, image: np.ndarray) -> list[Detection]:
        """Detect and track objects in the next frame of one stream."""

    @abstractmethod
    def reset(self) -> None:
        """Forget track state (a new stream or a discontinuity)."""
