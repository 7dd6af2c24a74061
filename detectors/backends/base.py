"""The seam between a detector backend and the rest of the engine.

A backend turns frames into neutral arrays (:class:`Boxes`: xyxy float32, scores, class
ids); nothing of the library behind it (ultralytics, OpenVINO, ONNX Runtime) crosses the
seam. Per-stream tracking (detectors/tracking.py) takes those arrays and yields
:class:`Detection` objects, which is all the rules and evidence ever see.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, Self

import numpy as np

if TYPE_CHECKING:
    from dozor.settings import Settings

# COCO classes the traffic rules look at.
TRAFFIC_CLASSES = {0: "person", 1: "bicycle", 2: "car", 3: "motorcycle", 5: "bus", 7: "truck"}


@dataclass(frozen=True)
class Boxes:
    """One frame's detections: row i is box ``xyxy[i]`` (pixels) of class ``classes[i]``."""

    xyxy: np.ndarray  # (n, 4) float32, x1 y1 x2 y2
    scores: np.ndarray  # (n,) float32
    classes: np.ndarray  # (n,) int32

    def __post_init__(self) -> None:
        n = len(self.scores)
        if self.xyxy.shape != (n, 4) or self.classes.shape != (n,):
            raise ValueError(f"inconsistent boxes: {self.xyxy.shape}, {n}, {self.classes.shape}")

    @classmethod
    def of(cls, xyxy: object, scores: object, classes: object) -> Boxes:
        """Boxes from anything array-like, in the seam's dtypes."""
        return cls(
            np.asarray(xyxy, dtype=np.float32).reshape(-1, 4),
            np.asarray(scores, dtype=np.float32).reshape(-1),
            np.asarray(classes, dtype=np.int32).reshape(-1),
        )

    @classmethod
    def empty(cls) -> Boxes:
        return cls.of(np.zeros((0, 4)), np.zeros(0), np.zeros(0))

    def __len__(self) -> int:
        return len(self.scores)


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

    #: The key `DOZOR_BACKEND` selects this backend by (detectors/backends/registry.py).
    key: ClassVar[str]
    #: What events record as the model: name and SHA-256 of the weights.
    model_name: str
    model_sha256: str
    #: Class id -> label of what the backend reports.
    labels: dict[int, str] = TRAFFIC_CLASSES
    #: The tracker configuration (ultralytics tracker YAML) its boxes are meant for.
    tracker: str = "bytetrack.yaml"
    #: How many ``detect`` calls may run at once from different threads. A backend that
    #: feeds its cores frame by frame takes the next round's frames while the last round's
    #: final frame is still running; one that is not thread-safe keeps 1.
    concurrent_calls: int = 1

    @property
    def engine(self) -> str:
        """What runs the model, as far as it changes the boxes (eval caches key on it)."""
        return self.key

    @classmethod
    @abstractmethod
    def from_settings(cls, settings: Settings) -> Self:
        """The backend as the settings (and its own config) describe it."""

    @abstractmethod
    def detect(self, images: list[np.ndarray], max_batch: int = 16) -> list[Boxes]:
        """Boxes per image, only of the classes in ``labels``, in the image's pixels."""


class Tracker(ABC):
    """One stream's tracked detections, frame after frame: what the pipeline consumes."""

    model_name: str
    model_sha256: str

    @abstractmethod
    def update(self, boxes: Boxes, image: np.ndarray) -> list[Detection]:
        """Track the next frame of one stream from its detected boxes."""

    @abstractmethod
    def reset(self) -> None:
        """Forget track state (a new stream or a discontinuity)."""
