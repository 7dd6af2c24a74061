"""The backend seam: neutral arrays in, tracked detections out; backends chosen by key;
recorded files sampled at the live analysis rate."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from detectors.backends import Boxes, backend_from_settings
from detectors.backends.base import TRAFFIC_CLASSES, DetectorBackend
from detectors.backends.registry import BACKENDS, backend_class, backend_key
from detectors.errors import DetectorInputError
from detectors.sources import FileSource, analysis_step
from detectors.tracking import CameraTracker
from dozor.settings import Settings


class _Fixed(DetectorBackend):
    key = "fixed"
    model_name = "fixed"
    model_sha256 = "1" * 64

    @classmethod
    def from_settings(cls, settings: Settings) -> _Fixed:
        return cls()

    def detect(self, images: list[np.ndarray], max_batch: int = 16) -> list[Boxes]:
        return [Boxes.empty() for _ in images]


def test_boxes_hold_the_seams_dtypes_and_refuse_ragged_rows() -> None:
    boxes = Boxes.of([[1, 2, 3, 4], [5, 6, 7, 8]], [0.5, 0.25], [2.0, 7.0])
    assert (boxes.xyxy.dtype, boxes.scores.dtype, boxes.classes.dtype) == (
        np.float32,
        np.float32,
        np.int32,
    )
    assert len(boxes) == 2 and len(Boxes.empty()) == 0
    with pytest.raises(ValueError):
        Boxes(np.zeros((2, 4), np.float32), np.zeros(3, np.float32), np.zeros(2, np.int32))


def test_every_backend_key_names_a_backend_class() -> None:
    for key in BACKENDS:
        try:
            cls = backend_class(key)
        except ImportError:  # the backend's runtime is an optional install
            continue
        assert issubclass(cls, DetectorBackend) and cls.key == key


@pytest.mark.parametrize(
    ("model", "key"),
    [
        ("../shared/models/yolo11n_int8.tflite", "litert"),
        ("yolo11n.pt", "openvino"),
        ("/models/yolo11n.onnx", "ultralytics"),
        ("/models/yolo11n.engine", "ultralytics"),
    ],
)
def test_auto_runs_the_weights_on_the_fastest_backend_that_keeps_their_boxes(
    model: str, key: str
) -> None:
    assert backend_key(Settings(model=model, backend="auto")) == key
    assert backend_key(Settings(model=model, backend="ultralytics")) == "ultralytics"


def test_an_unknown_backend_is_a_clear_input_error() -> None:
    settings = Settings.model_construct(backend="tensorflow")
    with pytest.raises(DetectorInputError, match="unknown detector backend 'tensorflow'"):
        backend_from_settings(settings)


def test_the_tracker_follows_a_car_from_neutral_arrays_alone() -> None:
    tracker = CameraTracker(_Fixed(), fps=10.0)
    image = np.zeros((360, 640, 3), np.uint8)
    seen = []
    for x in range(100, 300, 10):  # a car moving right, a person standing still
        boxes = Boxes.of([[x, 100, x + 80, 160], [500, 200, 520, 260]], [0.9, 0.8], [2, 0])
        seen.append(tracker.update(boxes, image))
    last = {d.label: d for d in seen[-1]}
    assert set(last) == {"car", "person"}
    assert last["car"].bbox[0] == pytest.approx(290, abs=3)
    car_ids = {d.track_id for frame in seen[1:] for d in frame if d.label == "car"}
    assert len(car_ids) == 1 and last["person"].track_id not in car_ids
    assert set(TRAFFIC_CLASSES.values()) >= {d.label for frame in seen for d in frame}


def _clip(path: Path, frames: int, fps: float) -> Path:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (64, 48))
    for i in range(frames):
        image = np.zeros((48, 64, 3), np.uint8)
        image[:, :, 1] = i * 4  # each frame is told apart by its green level
        writer.write(image)
    writer.release()
    return path


@pytest.mark.parametrize(
    ("file_fps", "rate", "step"),
    [(30, 8, 3), (25, 8, 3), (24, 8, 3), (60, 8, 7), (5, 8, 1), (30, None, 1)],
)
def test_the_analysis_step_keeps_at_least_the_rate(
    file_fps: float, rate: float | None, step: int
) -> None:
    assert analysis_step(file_fps, rate) == step


def test_a_file_is_analysed_at_the_live_rate_by_grabbing_the_frames_between(
    tmp_path: Path,
) -> None:
    video = _clip(tmp_path / "clip.avi", 30, 30.0)
    every = list(FileSource(video).frames())
    sampled_source = FileSource(video, analysis_fps=8.0)
    sampled = list(sampled_source.frames())
    assert (sampled_source.step, sampled_source.fps, sampled_source.frame_count) == (3, 10.0, 10)
    assert [f.index for f in sampled] == list(range(10))
    for f in sampled:  # the same pictures and times as every third frame of the full run
        full = every[f.index * 3]
        assert f.offset_s == pytest.approx(full.offset_s)
        assert np.array_equal(f.image, full.image)
    assert [f.index for f in sampled_source.frames(start=4, stop=6)] == [4, 5]
    assert sampled_source.source_id() != FileSource(video).source_id()
