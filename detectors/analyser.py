"""A worker's analysis rounds: the waiting frame of every camera detected in one batch, then
each camera's pipeline (tracking, rules, evidence, publishing).

Rounds overlap: a round's batch is detected on the inference thread while the main thread runs
the previous round's pipelines. The runtimes let go of the GIL while they infer, so the CPU
(or GPU) work of the detector and the Python work of the pipelines no longer take turns. Each
camera's frames still reach its pipeline in order, one round at a time. A backend that feeds
its cores frame by frame (``concurrent_calls`` > 1) takes the next round's batch while the last
one's final frames still run, so a core that finished its share does not wait for the rest."""

from __future__ import annotations

import logging
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from detectors.backends import DetectorBackend
from detectors.backends.base import Boxes
from detectors.camera_run import CameraRun, LeaseLost
from detectors.sources import Frame
from detectors.worker_metrics import BATCH, FRAMES_ANALYSED, PENDING_FINDINGS, STAGE

log = logging.getLogger(__name__)


@dataclass
class StageTimes:
    """Where the time goes; decoding happens on the reader threads. Inference is timed on the
    inference threads, the pipelines on the main thread, so the two add up to more than the
    wall time when they overlap, and inference alone does when rounds are in it at once."""

    inference_s: float = 0.0
    pipeline_s: float = 0.0  # tracking, rules, evidence and publishing
    batches: int = 0
    frames: int = 0


@dataclass
class _Round:
    frames: list[tuple[CameraRun, Frame]]
    #: Boxes per frame, and the seconds the batch took in inference.
    boxes: Future[tuple[list[Boxes], float]] = field(repr=False)


class Analyser:
    """Rounds over a worker's cameras, the next batch in inference while the last one's
    pipelines run. ``close()`` analyses what is still in flight."""

    def __init__(self, detector: DetectorBackend, max_batch: int, times: StageTimes) -> None:
        self.detector = detector
        self.max_batch = max_batch
        self.times = times
        self._inference = ThreadPoolExecutor(
            detector.concurrent_calls, thread_name_prefix="inference"
        )
        self._in_flight: _Round | None = None

    def round(self, runs: list[CameraRun]) -> int:
        """Send the cameras' waiting frames to inference and run the pipelines of the round
        before, once its boxes are ready. Returns the frames sent or analysed (0: idle)."""
        ready = _waiting(runs)
        previous = self._in_flight
        if ready:
            images = [frame.image for _, frame in ready]
            self._in_flight = _Round(ready, self._inference.submit(self._detect, images))
        if previous is None or not (ready or previous.boxes.done()):
            return len(ready)
        if not ready:
            self._in_flight = None
        return len(ready) + self._finish(previous)

    def flush(self) -> int:
        """Analyse the round in flight now. Returns the frames analysed."""
        if self._in_flight is None:
            return 0
        last, self._in_flight = self._in_flight, None
        return self._finish(last)

    def close(self) -> None:
        """Analyse the round in flight, then stop the inference thread. A detector failure
        is logged, not raised: the worker is stopping, and must still release its leases."""
        try:
            self.flush()
        except Exception:
            log.exception("the round in flight could not be detected")
        finally:
            self._inference.shutdown()

    def _detect(self, images: list[np.ndarray]) -> tuple[list[Boxes], float]:
        start = time.perf_counter()
        boxes = self.detector.detect(images, self.max_batch)
        return boxes, time.perf_counter() - start

    def _finish(self, done: _Round) -> int:
        # A detector failure stops the worker, as it always did.
        boxes, inference_s = done.boxes.result()
        start = time.perf_counter()
        analysed = 0
        for (run, frame), found in zip(done.frames, boxes, strict=True):
            if run.fenced:  # lost its lease while this frame was in inference
                continue
            try:
                run.pipeline.process(frame, found)
            except LeaseLost:
                run.fenced = True
            except Exception as exc:  # one camera's failure (S3, Kafka) must not stop the others
                run.errors += 1
                run.last_error = f"analysis failed: {type(exc).__name__}: {exc}"[:500]
                log.exception("analysis failed", extra={"camera_id": run.camera_id})
            if run.pipeline.paused:
                run.last_error = (
                    f"analysis paused: {len(run.pipeline.pending)} findings wait for S3/Kafka"
                )
            PENDING_FINDINGS.labels(run.camera_id).set(len(run.pipeline.pending))
            run.analysed += 1
            FRAMES_ANALYSED.labels(run.camera_id).inc()
            analysed += 1
        done_at = time.perf_counter()
        for run, _ in done.frames:
            run.inference_s += inference_s / len(done.frames)
        self.times.inference_s += inference_s
        self.times.pipeline_s += done_at - start
        self.times.batches += 1
        self.times.frames += len(done.frames)
        STAGE.labels("inference").observe(inference_s)
        STAGE.labels("pipeline").observe(done_at - start)
        BATCH.observe(len(done.frames))
        return analysed


def _waiting(runs: list[CameraRun]) -> list[tuple[CameraRun, Frame]]:
    """The next frame of every camera that has one and still holds its lease, if the frame
    has the size its scene is drawn for."""
    ready = []
    for run in runs:
        frame = None if run.fenced else run.source.poll()
        if frame is None:
            continue
        scene = run.pipeline.camera.scene
        if frame.image.shape[:2] != (scene.frame_height, scene.frame_width):
            run.errors += 1
            run.last_error = (
                f"stream is {frame.image.shape[1]}x{frame.image.shape[0]} but the scene is "
                f"drawn for {scene.frame_width}x{scene.frame_height}"
            )
            continue
        ready.append((run, frame))
    return ready
