"""The self-run backends' numpy letterbox, decoding and NMS, and the export's refusals."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from detectors.backends import export
from detectors.backends.export import Exported, exported
from detectors.backends.litert_yolo import LiteRTBackend
from detectors.backends.yolo_io import decode, letterbox, nms
from detectors.errors import DetectorInputError
from dozor.settings import Settings
from tests.conftest import media_dir, model_path

CAR, LIGHT, PERSON = 2, 9, 0


def _output(rows: list[tuple[float, float, float, float, int, float]]) -> np.ndarray:
    """A (84, anchors) network output with one anchor per (cx, cy, w, h, class, score)."""
    out = np.zeros((84, len(rows)), np.float32)
    for i, (cx, cy, w, h, cls, score) in enumerate(rows):
        out[:4, i] = cx, cy, w, h
        out[4 + cls, i] = score
    return out


def test_a_720p_frame_is_centred_between_grey_bands() -> None:
    image = np.full((720, 1280, 3), 200, np.uint8)
    canvas, box = letterbox(image, 640)
    assert canvas.shape == (640, 640, 3)
    assert (box.pad_x, box.pad_y, box.gain_x, box.gain_y) == (0, 140, 0.5, 0.5)
    assert (canvas[:140] == 114).all() and (canvas[140:500] == 200).all()


def test_a_rectangular_input_pads_a_720p_frame_only_up_to_the_stride() -> None:
    image = np.full((720, 1280, 3), 200, np.uint8)
    canvas, box = letterbox(image, 640, rect=True)
    assert canvas.shape == (384, 640, 3)  # as ultralytics letterboxes for a .pt
    assert (box.pad_x, box.pad_y, box.gain_x, box.gain_y) == (0, 12, 0.5, 0.5)
    assert (canvas[:12] == 114).all() and (canvas[12:372] == 200).all()
    assert (canvas[372:] == 114).all()
    portrait, box = letterbox(np.zeros((1000, 500, 3), np.uint8), 640, rect=True)
    assert portrait.shape == (640, 320, 3) and (box.pad_x, box.pad_y) == (0, 0)


def test_boxes_of_a_rectangular_input_come_back_in_the_frames_pixels() -> None:
    _, box = letterbox(np.zeros((720, 1280, 3), np.uint8), 640, rect=True)
    out = _output([(320, 192, 100, 50, CAR, 0.9)])  # the middle of the 640x384 input
    found = decode(out, box, classes=[0, 2], confidence=0.25, size=640, normalized=False)
    assert found.xyxy.tolist() == [[540.0, 310.0, 740.0, 410.0]]


def test_boxes_come_back_in_the_frames_pixels_only_for_wanted_classes() -> None:
    _, box = letterbox(np.zeros((720, 1280, 3), np.uint8), 640)
    out = _output(
        [
            (320, 320, 100, 50, CAR, 0.9),  # a car in the middle of the frame
            (100, 200, 20, 40, LIGHT, 0.95),  # a traffic light: not a class we track
            (500, 300, 10, 30, PERSON, 0.2),  # under the confidence threshold
        ]
    )
    found = decode(out, box, classes=[0, 2], confidence=0.25, size=640, normalized=False)
    assert found.classes.tolist() == [CAR]
    assert found.xyxy.tolist() == [[540.0, 310.0, 740.0, 410.0]]
    assert found.scores.tolist() == pytest.approx([0.9])
    fractions = out.copy()
    fractions[:4] /= 640  # a TFLite graph gives coordinates as fractions of its input
    again = decode(fractions, box, classes=[0, 2], confidence=0.25, size=640, normalized=True)
    assert again.xyxy == pytest.approx(found.xyxy, abs=1e-3)


def test_nms_drops_overlaps_of_one_class_and_keeps_other_classes() -> None:
    _, box = letterbox(np.zeros((640, 640, 3), np.uint8), 640)
    out = _output(
        [
            (100, 100, 50, 50, CAR, 0.8),
            (102, 101, 50, 50, CAR, 0.9),  # the same car, better scored: it wins
            (101, 100, 50, 50, PERSON, 0.7),  # a person at the same place stays
            (400, 400, 50, 50, CAR, 0.6),
        ]
    )
    found = decode(out, box, classes=[0, 2], confidence=0.25, size=640, normalized=False)
    order = np.argsort(-found.scores)
    assert found.classes[order].tolist() == [CAR, PERSON, CAR]
    assert found.scores[order].tolist() == pytest.approx([0.9, 0.7, 0.6])
    xyxy = np.array([[0, 0, 10, 10], [1, 0, 11, 10], [20, 20, 30, 30]], np.float32)
    assert nms(xyxy, np.array([0.5, 0.9, 0.4], np.float32), 0.5).tolist() == [1, 2]


def test_export_refuses_what_it_cannot_build(tmp_path: Path) -> None:
    tflite = tmp_path / "m.tflite"
    tflite.write_bytes(b"not really a model")
    with pytest.raises(DetectorInputError, match=r"give a \.pt checkpoint"):
        exported(tflite, "openvino", tmp_path / "cache")
    with pytest.raises(DetectorInputError, match="int8"):
        exported(tflite, "onnx", tmp_path / "cache", int8=True, calibration=tmp_path)
    with pytest.raises(DetectorInputError, match="not found"):
        exported(tmp_path / "missing.pt", "onnx", tmp_path / "cache")
    checkpoint = tmp_path / "m.pt"
    checkpoint.write_bytes(b"not really a model")
    with pytest.raises(DetectorInputError, match=r"litert backend runs a \.tflite, not m\.pt"):
        LiteRTBackend.export(Settings(model=str(checkpoint)))


def test_an_int8_export_is_built_again_for_other_calibration_clips_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    builds: list[str] = []

    def build(weights: Path, digest: str, fmt: str, target: Path, **how: Any) -> Exported:
        builds.append(how["calibrated_on"])
        made = Exported(
            "model.xml",
            weights.name,
            digest,
            "ab",
            640,
            True,
            False,
            True,
            calibrated_on=how["calibrated_on"],
        )
        target.mkdir(exist_ok=True)
        (target / "dozor.json").write_text(json.dumps(asdict(made)))
        return made

    monkeypatch.setattr(export, "_build", build)
    checkpoint = tmp_path / "m.pt"
    checkpoint.write_bytes(b"weights")
    city, other = tmp_path / "city", tmp_path / "other"
    for clips, size in ((city, 10), (other, 11)):
        clips.mkdir()
        (clips / "a.mp4").write_bytes(b"x" * size)
        (clips / "notes.txt").write_text("not a clip")
    cache = tmp_path / "cache"

    def load(calibration: Path | None) -> Exported:
        return exported(checkpoint, "openvino", cache, int8=True, calibration=calibration)

    first = load(city)
    assert load(city).calibrated_on == first.calibrated_on and len(builds) == 1
    # A worker given no clips loads what the rollout built.
    assert load(None).calibrated_on == first.calibrated_on and len(builds) == 1
    # Other clips (here: one of another size) are another calibration.
    assert load(other).calibrated_on != first.calibrated_on and len(builds) == 2
    (other / "b.jpg").write_bytes(b"y")
    load(other)
    assert len(builds) == 3
    with pytest.raises(DetectorInputError, match=r"calibration directory .* not found"):
        load(tmp_path / "nowhere")


def test_litert_finds_the_same_boxes_whatever_a_frames_place_in_its_batch() -> None:
    # A batch runs on one-thread interpreters and a lone or left-over frame on the
    # every-thread one: the boxes must not depend on which.
    capture = cv2.VideoCapture(str(media_dir() / "dual_carriageway_uk_approaching.mp4"))
    frames = []
    for _ in range(3):
        for _ in range(10):
            ok, image = capture.read()
            assert ok
        frames.append(image)
    capture.release()
    backend = LiteRTBackend.from_settings(Settings(model=model_path(), backend="litert"))
    alone = [backend.detect([frame])[0] for frame in frames]
    # (first frame, boxes) of batches of 2 and 3, and of calls that overlap (a worker's next
    # round while the last one's final frame runs) sharing the interpreters.
    found = [(0, backend.detect(frames[:size])) for size in (2, 3)]
    assert backend.concurrent_calls > 1
    starts = [0, 1, 2, 0]
    with ThreadPoolExecutor(len(starts)) as calls:
        overlapping = calls.map(lambda first: backend.detect(frames[first:]), starts)
        found += zip(starts, overlapping, strict=True)
    for first, boxes in found:
        for got, want in zip(boxes, alone[first:], strict=False):
            assert len(want) > 0
            assert np.array_equal(got.xyxy, want.xyxy) and np.array_equal(got.scores, want.scores)
            assert np.array_equal(got.classes, want.classes)
