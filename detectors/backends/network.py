"""What the backends that run the bare network share: the export they load, letterbox in,
numpy decoding and NMS out (detectors/backends/yolo_io.py)."""

from __future__ import annotations

from abc import abstractmethod
from pathlib import Path
from typing import ClassVar, Self

import numpy as np

from detectors.backends.base import Boxes, DetectorBackend
from detectors.backends.export import Exported, Format, exported
from detectors.backends.yolo_io import Letterbox, decode, letterbox, to_input
from dozor.settings import Settings


class NetworkBackend(DetectorBackend):
    """A YOLO network exported from ``DOZOR_MODEL`` and run by a runtime of our choosing."""

    format: ClassVar[Format]
    #: Fed the rectangular letterbox (the export must take any input shape).
    rect: bool = False

    def __init__(self, network: Exported, *, confidence: float, tracker: str) -> None:
        self.network = network
        self.model_name = network.name
        self.model_sha256 = network.sha256
        self.confidence = confidence
        self.tracker = tracker
        self.imgsz = network.imgsz
        self._classes = list(self.labels)

    @property
    def engine(self) -> str:
        return f"{self.key}-rect" if self.rect else self.key

    @classmethod
    def from_settings(cls, settings: Settings) -> Self:
        return cls.load(cls.export(settings), settings)

    @classmethod
    def export(cls, settings: Settings) -> Exported:
        """The network for the settings' checkpoint, exported on first use (cached)."""
        return exported(
            Path(settings.model), cls.format, models_cache(settings), imgsz=settings.imgsz
        )

    @classmethod
    @abstractmethod
    def load(cls, network: Exported, settings: Settings) -> Self:
        """The backend running ``network`` with its own options."""

    @abstractmethod
    def infer(self, batch: list[np.ndarray]) -> list[np.ndarray]:
        """Raw (4 + classes, anchors) outputs, one per network input in ``batch``."""

    def detect(self, images: list[np.ndarray], max_batch: int = 16) -> list[Boxes]:
        found: list[Boxes] = []
        for first in range(0, len(images), max_batch):
            prepared = [self.prepare(image) for image in images[first : first + max_batch]]
            outputs = self.infer([x for x, _ in prepared])
            found += [self.boxes(out, box) for out, (_, box) in zip(outputs, prepared, strict=True)]
        return found

    def prepare(self, image: np.ndarray) -> tuple[np.ndarray, Letterbox]:
        """The network's input for one image, and where the image went in it."""
        canvas, box = letterbox(image, self.imgsz, rect=self.rect)
        return to_input([canvas], self.network.nchw), box

    def boxes(self, output: np.ndarray, box: Letterbox) -> Boxes:
        """One raw output as boxes in the pixels of the image behind ``box``."""
        return decode(
            output,
            box,
            classes=self._classes,
            confidence=self.confidence,
            size=self.imgsz,
            normalized=self.network.normalized,
        )


def models_cache(settings: Settings) -> Path:
    return settings.models_cache or settings.state_dir / "models"
