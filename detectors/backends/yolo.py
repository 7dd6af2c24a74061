"""Ultralytics YOLO: .pt, TFLite, ONNX and TensorRT weights behind one predict call."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Self

import numpy as np
from ultralytics.engine.results import Boxes

from detectors.backends.base import DetectorBackend
from detectors.errors import DetectorInputError
from dozor.settings import Settings

# COCO classes the traffic rules look at.
TRAFFIC_CLASSES = {0: "person", 1: "bicycle", 2: "car", 3: "motorcycle", 5: "bus", 7: "truck"}


def _file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class UltralyticsBackend(DetectorBackend):
    labels = TRAFFIC_CLASSES

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
            _file_sha256(weights)
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
        boxes: list[Boxes] = []
        for first in range(0, len(images), max_batch):
            results = self._model.predict(
                images[first : first + max_batch],
                classes=list(self.labels),
                conf=self.confidence,
                imgsz=self.imgsz,
                verbose=False,
            )
            boxes += [r.boxes.cpu().numpy() for r in results]
        return boxes
