"""Dozor's engine against ultralytics' own tracking loop, on the same frames, in one run.

Usage (from the repo root): python -m bench.engine_bench [--backend openvino] [--frames 96]
    [--clip NAME] [--rounds 2]
Baseline: ultralytics' `model.track(frame, persist=True)` with the reference weights (the
int8 TFLite) frame by frame, as a single-camera script would.
The engine is the backend the settings choose (DOZOR_BACKEND, or --backend; `auto` runs
LiteRT on a .tflite) on DOZOR_MODEL; where that is unset, the reference weights, or for the
OpenVINO / ONNX Runtime backends the export of the .pt checkpoint rebuilt from them
(tests/integration/test_eval_backends.py holds their accuracy to the TFLite's).
Engine: what `dozor replay` runs, `detectors.replay.detected` (the backend chosen by
--backend, frames detected a few at a time) then the stream's own ByteTrack
(detectors.tracking.CameraTracker). Both loops get the same decoded 720p frames; rounds
alternate so background load hits both alike. The last line is the ratio of frames per second.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from bench.pipeline_bench import REFERENCE_MODEL, engine_settings, load_frames, media
from detectors.backends import backend_from_settings
from detectors.backends.base import TRAFFIC_CLASSES
from detectors.replay import detected
from detectors.sources import Frame
from detectors.tracking import CameraTracker
from dozor.settings import Settings


def ultralytics_loop(frames: list[Frame]) -> float:
    from ultralytics import YOLO

    model = YOLO(str(REFERENCE_MODEL), task="detect")  # fresh: its tracker state starts empty
    model.predict(frames[0].image, verbose=False)  # load the interpreter outside the clock
    start = time.perf_counter()
    for frame in frames:
        model.track(
            frame.image, persist=True, classes=list(TRAFFIC_CLASSES), conf=0.25, verbose=False
        )
    return len(frames) / (time.perf_counter() - start)


def engine_loop(frames: list[Frame], settings: Settings, fps: float) -> tuple[float, int, str]:
    """Frames per second, boxes tracked, and the engine as it ran (backend, input, export)."""
    detector = backend_from_settings(settings)
    detector.detect([frames[0].image])  # compile / warm up outside the clock
    tracker = CameraTracker(detector, fps)
    tracked = 0
    start = time.perf_counter()
    for frame, boxes in detected(frames, detector):
        tracked += len(tracker.update(boxes, frame.image))
    seconds = time.perf_counter() - start
    return len(frames) / seconds, tracked, f"{detector.engine} on {detector.model_name}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clip", default="dual_carriageway_uk_approaching.mp4")
    parser.add_argument("--frames", type=int, default=96)
    parser.add_argument("--backend", help="default: DOZOR_BACKEND")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    os.environ.setdefault("YOLO_OFFLINE", "1")

    source, frames = load_frames(media(args.clip), args.frames)
    settings = engine_settings(**({"backend": args.backend} if args.backend else {}))
    h, w = frames[0].image.shape[:2]
    print(
        f"clip {args.clip}: {len(frames)} frames {w}x{h}; ultralytics on "
        f"{REFERENCE_MODEL.name}, engine ({settings.backend}) on {Path(settings.model).name}"
    )
    base, engine = [], []
    for r in range(args.rounds):
        base.append(ultralytics_loop(frames))
        fps, tracked, ran = engine_loop(frames, settings, source.fps)
        engine.append(fps)
        print(
            f"round {r + 1}: ultralytics track loop {base[-1]:6.2f} fps, "
            f"engine {engine[-1]:6.2f} fps, {tracked} tracked boxes ({ran})"
        )
    # Best of the rounds for each: background load only ever slows a round down.
    print(f"engine vs ultralytics track loop: {max(engine) / max(base):.2f}x")


if __name__ == "__main__":
    main()
