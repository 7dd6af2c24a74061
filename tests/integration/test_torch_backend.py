"""The GPU backend (`DOZOR_BACKEND=torch`), held on the CPU: its on-device letterbox and
candidate filter, then the shared decoding, find the boxes ultralytics' own `predict` finds on
the same .pt checkpoint, frame by frame, on real clips of different sizes, in one batch."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from detectors.backends.base import Boxes
from detectors.backends.torch_yolo import TorchBackend, TorchConfig
from detectors.backends.ultralytics_yolo import UltralyticsBackend
from detectors.sources import FileSource
from tests.conftest import media_dir, model_path

pytestmark = pytest.mark.integration

CHECKPOINT = Path(model_path()).parent / "yolo11n_from_int8tflite.pt"
CLIPS = ("dual_carriageway_uk_approaching.mp4", "highway_overhead_ca_sobral1.avi")


def _frames(per_clip: int = 4) -> list[np.ndarray]:
    frames = []
    for clip in CLIPS:
        taken = [f.image for f in FileSource(media_dir() / clip).frames() if f.index % 15 == 0]
        frames += taken[:per_clip]
    return frames


def _iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    lt = np.maximum(a[:, None, :2], b[None, :, :2])
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.prod(np.clip(rb - lt, 0, None), axis=2)
    area = lambda x: (x[:, 2] - x[:, 0]) * (x[:, 3] - x[:, 1])  # noqa: E731
    return inter / (area(a)[:, None] + area(b)[None, :] - inter)


def test_the_torch_backend_finds_what_ultralytics_finds_on_the_same_checkpoint() -> None:
    frames = _frames()
    assert len({f.shape for f in frames}) == len(CLIPS), "the batch should mix frame sizes"
    ours = TorchBackend(
        CHECKPOINT, TorchConfig(device="cpu"), confidence=0.25, imgsz=640, tracker="bytetrack.yaml"
    ).detect(frames, max_batch=16)
    theirs = UltralyticsBackend(str(CHECKPOINT), confidence=0.25).detect(frames)
    matched = total = 0
    for mine, ref in zip(ours, theirs, strict=True):
        assert isinstance(mine, Boxes)
        # Confident boxes must all be there; those near the threshold may flip with the
        # resize's rounding (ultralytics resizes uint8 on the CPU, we resize floats).
        strong = ref.scores > 0.4
        total += int(strong.sum())
        if not strong.any():
            continue
        assert len(mine), "a frame with confident boxes came back empty"
        overlap = _iou(ref.xyxy[strong], mine.xyxy)
        best = overlap.argmax(axis=1)
        same_class = mine.classes[best] == ref.classes[strong]
        matched += int(((overlap.max(axis=1) > 0.9) & same_class).sum())
    assert total >= 10
    assert matched == total
