"""Ultralytics' own `predict`: .pt, TFLite, ONNX and TensorRT weights behind one call.

The reference backend (`DOZOR_BACKEND=ultralytics`): whatever ultralytics loads, it runs,
with its own pre- and post-processing. Only neutral arrays leave this module.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Self

import numpy as np

from detectors.backends.base import Boxes, DetectorBackend
from detectors.errors import DetectorInputError
from dozor.settings import Settings


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def existing_weights(model: str) -> Path:
    """The weights file a setting names; a clear error when it is missing."""
    path = Path(model)
    if not path.is_file():
        raise DetectorInputError(f"model weights not found: {model}")
    return path


class UltralyticsBackend(DetectorBackend):
    key = "ultralytics"

    def __init__(
        self,
        model: str,
        *,
        confidence: float = 0.25,
        imgsz: int = 640,
        tracker: str = "bytetrack.yaml",
        config_dir: Path | None = None,
    ) -> None:
        if config_dir is not None:
            os.environ.setdefault("YOLO_CONFIG_DIR", str(config_dir))
        from ultralytics import YOLO  # heavy import, only where a model is really used

        path = Path(model)
        looks_like_path = path.suffix and (path.parent != Path(".") or path.exists())
        if looks_like_path and not path.exists():
            raise DetectorInputError(f"model weights not found: {model}")
        # A bare name (e.g. yolo11n.pt) is left to ultralytics, which downloads it when online.
        self._model = YOLO(model, task="detect")
        weights = Path(getattr(self._model, "ckpt_path", None) or model)
        self.model_name = path.name
        self.model_sha256 = (
            file_sha256(weights)
            if weights.is_file()
            else hashlib.sha256(model.encode()).hexdigest()
        )
        self.confidence = confidence
        self.imgsz = imgsz
        self.tracker = tracker

    @classmethod
    def from_settings(cls, settings: Settings) -> Self:
        return cls(
            settings.model,
            confidence=settings.confidence,
            imgsz=settings.imgsz,
            tracker=settings.tracker,
            config_dir=settings.yolo_config_dir,
        )

    def detect(self, images: list[np.ndarray], max_batch: int = 16) -> list[Boxes]:
        found: list[Boxes] = []
        for first in range(0, len(images), max_batch):
            results = self._model.predict(
                images[first : first + max_batch],
                classes=list(self.labels),
                conf=self.confidence,
                imgsz=self.imgsz,
                verbose=False,
            )
            for r in results:
                b = r.boxes.cpu().numpy()
                found.append(Boxes.of(b.xyxy, b.conf, b.cls))
        return found
