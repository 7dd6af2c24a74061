"""PyTorch on an NVIDIA GPU (`DOZOR_BACKEND=torch`): the .pt checkpoint, batched, FP16.

One GPU serves many cameras only if the CPU does little per frame: the frames go up as
uint8, and letterbox, colour order, scaling and the confidence/class filter run on the GPU
for the whole batch. Only the few candidate rows per frame come back, to the same numpy
decoding and NMS the other backends use (detectors/backends/yolo_io.py). Without a GPU it
runs in FP32 on the CPU, which is how the tests hold it against ultralytics' own `predict`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Self

import numpy as np
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from detectors.backends.base import Boxes, DetectorBackend
from detectors.backends.ultralytics_yolo import existing_weights, file_sha256
from detectors.backends.yolo_io import PAD_VALUE, Letterbox, decode, fit
from detectors.errors import DetectorInputError
from dozor.settings import Settings

if TYPE_CHECKING:
    import torch


class TorchConfig(BaseSettings):
    """The torch backend's own options (DOZOR_TORCH_*)."""

    model_config = SettingsConfigDict(env_prefix="DOZOR_TORCH_", env_file=".env", extra="ignore")

    device: str = Field("auto", description="cuda:N, cpu, or auto (the first GPU, else cpu).")
    half: bool = Field(True, description="FP16 on a GPU (ignored on the CPU).")


class TorchBackend(DetectorBackend):
    key = "torch"
    confidence: float
    imgsz: int
    _classes: list[int]
    _network: torch.nn.Module
    _wanted: torch.Tensor

    def __init__(
        self,
        checkpoint: Path,
        config: TorchConfig,
        *,
        confidence: float,
        imgsz: int,
        tracker: str,
    ) -> None:
        import torch
        from ultralytics import YOLO
        from ultralytics.nn.tasks import DetectionModel

        if checkpoint.suffix != ".pt":
            raise DetectorInputError(
                f"the torch backend runs a .pt checkpoint, not {checkpoint.name} (DOZOR_MODEL)"
            )
        device = config.device
        if device == "auto":
            device = "cuda:0" if torch.cuda.is_available() else "cpu"
        self.device = torch.device(device)
        self.dtype = torch.float16 if config.half and self.device.type == "cuda" else torch.float32
        network = YOLO(str(checkpoint), task="detect").model
        if not isinstance(network, DetectionModel):
            raise DetectorInputError(f"{checkpoint.name} holds no detection model")
        self._network = network.fuse(verbose=False).to(self.device, self.dtype).eval()
        self.model_name = checkpoint.name
        self.model_sha256 = file_sha256(checkpoint)
        self.confidence = confidence
        self.imgsz = imgsz
        self.tracker = tracker
        self._classes = list(self.labels)
        self._wanted = torch.tensor(self._classes, device=self.device)

    @classmethod
    def from_settings(cls, settings: Settings) -> Self:
        return cls(
            existing_weights(settings.model),
            TorchConfig(),
            confidence=settings.confidence,
            imgsz=settings.imgsz,
            tracker=settings.tracker,
        )

    def detect(self, images: list[np.ndarray], max_batch: int = 16) -> list[Boxes]:
        found: list[Boxes] = []
        for first in range(0, len(images), max_batch):
            found.extend(self._detect_batch(images[first : first + max_batch]))
        return found

    def _detect_batch(self, images: list[np.ndarray]) -> list[Boxes]:
        import torch

        with torch.inference_mode():
            canvas, boxes = self._canvas(images)
            out = self._network(canvas)
            out = out[0] if isinstance(out, tuple | list) else out  # (n, 4 + classes, anchors)
            scores, best = out[:, 4:, :].max(dim=1)
            keep = (scores > self.confidence) & torch.isin(best, self._wanted)
            frame, anchor = keep.nonzero(as_tuple=True)
            # One transfer for the batch: the candidate rows and which frame each belongs to.
            rows = out.permute(0, 2, 1)[frame, anchor].float().cpu().numpy()
            owner = frame.cpu().numpy()
        return [
            decode(
                rows[owner == i].T,
                box,
                classes=self._classes,
                confidence=self.confidence,
                size=self.imgsz,
                normalized=False,
            )
            for i, box in enumerate(boxes)
        ]

    def _canvas(self, images: list[np.ndarray]) -> tuple[torch.Tensor, list[Letterbox]]:
        """The batch as the network's input, letterboxed on the device like yolo_io's
        `letterbox` (bilinear resize, grey padding, BGR to RGB, 0..1)."""
        import torch
        from torch.nn.functional import interpolate

        size = self.imgsz
        canvas = torch.full(
            (len(images), 3, size, size), PAD_VALUE / 255, dtype=self.dtype, device=self.device
        )
        boxes: list[Letterbox] = []
        for i, image in enumerate(images):
            box, new_w, new_h = fit(image.shape[0], image.shape[1], size)
            boxes.append(box)
            frame = torch.from_numpy(image).to(self.device, non_blocking=True)
            frame = frame.permute(2, 0, 1)[[2, 1, 0]][None].to(self.dtype) / 255
            if (new_h, new_w) != tuple(image.shape[:2]):
                frame = interpolate(
                    frame, size=(new_h, new_w), mode="bilinear", align_corners=False
                )
            canvas[i, :, box.pad_y : box.pad_y + new_h, box.pad_x : box.pad_x + new_w] = frame[0]
        return canvas, boxes
