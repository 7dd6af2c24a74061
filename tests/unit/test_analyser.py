"""The worker's rounds: the next batch in inference while the last one's pipelines run, each
camera's frames still in order, nothing in flight lost at the end."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any, cast

import numpy as np
import pytest

from detectors.analyser import Analyser, StageTimes
from detectors.backends.base import Boxes, DetectorBackend
from detectors.camera_run import CameraRun, LeaseLost
from detectors.sources import Frame

H, W = 8, 12


@dataclass
class FakePipeline:
    camera: Any = field(
        default_factory=lambda: SimpleNamespace(
            scene=SimpleNamespace(frame_height=H, frame_width=W)
        )
    )
    seen: list[int] = field(default_factory=list)
    paused: bool = False
    pending: list[object] = field(default_factory=list)
    on_process: Any = None

    def process(self, frame: Frame, boxes: Boxes) -> None:
        if self.on_process is not None:
            self.on_process(frame)
        self.seen.append(frame.index)


class FakeSource:
    def __init__(self, frames: int, shape: tuple[int, int] = (H, W)) -> None:
        self.frames = [Frame(i, i / 8, np.zeros((*shape, 3), np.uint8)) for i in range(frames)]

    def poll(self) -> Frame | None:
        return self.frames.pop(0) if self.frames else None


def camera(name: str, frames: int, shape: tuple[int, int] = (H, W)) -> CameraRun:
    run = SimpleNamespace(
        camera_id=name,
        source=FakeSource(frames, shape),
        pipeline=FakePipeline(),
        fenced=False,
        analysed=0,
        inference_s=0.0,
        errors=0,
        last_error=None,
    )
    return cast(CameraRun, run)


class FakeDetector:
    def __init__(self, before: Any = None, concurrent_calls: int = 1) -> None:
        self.batches: list[int] = []
        self.before = before
        self.concurrent_calls = concurrent_calls
        self._calls = 0
        self._lock = threading.Lock()

    def detect(self, images: list[np.ndarray], max_batch: int = 16) -> list[Boxes]:
        with self._lock:
            call, self._calls = self._calls, self._calls + 1
        if self.before is not None:
            self.before(call)
        self.batches.append(len(images))
        return [Boxes.empty() for _ in images]


def analyser(detector: FakeDetector) -> Analyser:
    return Analyser(cast(DetectorBackend, detector), 16, StageTimes())


def run_until_idle(a: Analyser, runs: list[CameraRun]) -> None:
    while a.round(runs) or any(cast(Any, r.source).frames for r in runs if not r.fenced):
        pass
    a.close()


def test_every_frame_reaches_its_camera_in_order_and_nothing_in_flight_is_lost() -> None:
    runs = [camera("A", 5), camera("B", 3)]
    a = analyser(FakeDetector())
    run_until_idle(a, runs)
    assert [cast(Any, r.pipeline).seen for r in runs] == [[0, 1, 2, 3, 4], [0, 1, 2]]
    assert [r.analysed for r in runs] == [5, 3]
    assert a.times.frames == 8 and a.times.batches == 5


def test_the_next_batch_is_detected_while_the_last_ones_pipelines_run() -> None:
    # Batch 2 waits until camera A's pipeline is running frame 0 (batch 1): with rounds that
    # took turns this would never happen and the wait would time out.
    pipeline_running = threading.Event()
    overlapped = []

    def before(batch: int) -> None:
        if batch == 1:
            overlapped.append(pipeline_running.wait(timeout=30))

    run = camera("A", 2)
    cast(Any, run.pipeline).on_process = lambda frame: pipeline_running.set()
    run_until_idle(analyser(FakeDetector(before)), [run])
    assert overlapped == [True]
    assert cast(Any, run.pipeline).seen == [0, 1]


def test_a_backend_taking_concurrent_calls_gets_the_next_batch_before_the_last_is_done() -> None:
    # Batch 1 is held in inference until batch 2 has reached the detector: with one call at
    # a time this would never happen. The pipelines still see every frame in order.
    second_started = threading.Event()
    held = []

    def before(batch: int) -> None:
        if batch == 0:
            held.append(second_started.wait(timeout=30))
        else:
            second_started.set()

    run = camera("A", 3)
    detector = FakeDetector(before, concurrent_calls=2)
    run_until_idle(analyser(detector), [run])
    assert held == [True]
    assert cast(Any, run.pipeline).seen == [0, 1, 2]


def test_a_frame_in_flight_when_its_camera_lost_the_lease_is_not_analysed() -> None:
    fenced, kept = camera("A", 3), camera("B", 3)
    tried = []

    def lose_lease(frame: Frame) -> None:
        tried.append(frame.index)
        raise LeaseLost("A")

    cast(Any, fenced.pipeline).on_process = lose_lease
    run_until_idle(analyser(FakeDetector()), [fenced, kept])
    # Frame 1 went to inference in the round that found the lease lost on frame 0.
    assert fenced.fenced and tried == [0]
    assert cast(Any, kept.pipeline).seen == [0, 1, 2]


def test_one_cameras_failure_does_not_stop_the_others() -> None:
    broken, fine = camera("A", 2), camera("B", 2)

    def fail(frame: Frame) -> None:
        raise OSError("S3 down")

    cast(Any, broken.pipeline).on_process = fail
    run_until_idle(analyser(FakeDetector()), [broken, fine])
    assert broken.errors == 2 and "S3 down" in (broken.last_error or "")
    assert cast(Any, fine.pipeline).seen == [0, 1]


def test_a_detector_failure_stops_the_worker() -> None:
    def fail(batch: int) -> None:
        raise RuntimeError("inference died")

    a = analyser(FakeDetector(fail))
    runs = [camera("A", 3)]
    with pytest.raises(RuntimeError, match="inference died"):
        while True:
            a.round(runs)
    # Stopping after it (the worker's drain) does not raise again: leases must still go back.
    a.close()
    assert runs[0].analysed == 0


def test_a_frame_of_the_wrong_size_is_counted_as_an_error_not_detected() -> None:
    run = camera("A", 2, shape=(H + 1, W))
    detector = FakeDetector()
    run_until_idle(analyser(detector), [run])
    assert detector.batches == [] and run.errors == 2 and "drawn for 12x8" in (run.last_error or "")
