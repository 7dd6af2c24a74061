"""How many cameras one worker sustains at the analysis rate, and where its time goes.

Usage (from the repo root): python -m bench.worker_capacity_bench [--fps 8] [--max-cameras 8]
Two workers in the same run: the baseline, today's (ultralytics on the int8 TFLite weights,
each round's pipelines run before the next batch goes to inference), and Dozor's (the engine
the settings choose, DOZOR_BACKEND and DOZOR_MODEL, with rounds overlapped as live workers
run them: detectors/analyser.py). Each camera is the 720p clip played in real time on its own
decode thread (as a live source: wall-clock stamps, frames dropped when analysis falls
behind); the worker's own loop runs batched inference, per-camera tracking, rules and
evidence to memory. For 1..N cameras, the two taking turns at each count so background load
hits both alike, it prints the analysed fps per camera against the target, the share of due
frames dropped, milliseconds per analysed frame by stage and how busy the inference and main
threads were (inference above 100%: a backend that takes concurrent calls had rounds in
inference at once). Decode cost is measured on its own first (single thread, same clip), as the
reference. The last line is the ratio of cameras sustained (at least 95% of the target rate).
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime

import cv2

from bench.pipeline_bench import (
    CLIP_CAMERAS,
    REFERENCE_MODEL,
    engine_settings,
    media,
    pipeline,
)
from detectors.analyser import Analyser, StageTimes
from detectors.backends import DetectorBackend, backend_from_settings
from detectors.camera_run import CameraRun
from detectors.sources import FileSource, LiveSource
from detectors.stream_reader import ReaderOptions
from detectors.tracking import CameraTracker
from dozor.settings import Settings
from registry.leases import Lease

CLIP = "dual_carriageway_uk_approaching.mp4"


def decode_ms_per_frame(frames: int = 120) -> float:
    cap = cv2.VideoCapture(str(media(CLIP)))
    start = time.perf_counter()
    for _ in range(frames):
        if not cap.read()[0]:
            cap.set(cv2.CAP_PROP_POS_FRAMES, 0)
    cap.release()
    return 1000 * (time.perf_counter() - start) / frames


def live_cameras(
    detector: DetectorBackend, clip: str, cameras: int, options: ReaderOptions
) -> list[CameraRun]:
    """``cameras`` live sources playing ``clip``, started, each with its tracker and pipeline."""
    source = FileSource(media(clip))
    fps = options.analysis_fps
    forever = datetime.max.replace(tzinfo=UTC)
    runs = []
    for i in range(cameras):
        live = LiveSource(str(media(clip)), options, started_at=datetime.now(UTC))
        tracker = CameraTracker(detector, fps)
        pipe, _ = pipeline(clip, source, tracker, fps)
        lease = Lease(f"{CLIP_CAMERAS[clip]}-{i}", "bench", 1, forever)
        runs.append(CameraRun(lease, float("inf"), live, tracker, pipe))
        live.start()
    return runs


def analyse_for(
    runs: list[CameraRun],
    detector: DetectorBackend,
    batch: int,
    seconds: float,
    *,
    overlap: bool = True,
) -> tuple[StageTimes, float]:
    """The worker's loop over ``runs`` for ``seconds`` from empty queues, then the sources
    stopped: its stage times and the seconds it ran. Without ``overlap``, each round's
    pipelines run as soon as its batch is detected, before the next batch goes to inference:
    the worker's loop as it was before rounds overlapped."""
    for run in runs:
        while run.source.poll():
            pass
    times = StageTimes()
    analyser = Analyser(detector, batch, times)
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        sent = analyser.round(runs)
        if not overlap:
            analyser.flush()
        if not sent:
            time.sleep(0.002)
    analyser.close()
    elapsed = time.perf_counter() - start
    for run in runs:
        run.source.stop()
    return times, elapsed


def measure(
    detector: DetectorBackend, cameras: int, fps: float, seconds: float, *, overlap: bool = True
) -> dict[str, float]:
    runs = live_cameras(detector, CLIP, cameras, ReaderOptions(analysis_fps=fps, queue_frames=1))
    time.sleep(1.5)  # let every reader open its file
    times, elapsed = analyse_for(runs, detector, 16, seconds, overlap=overlap)
    delivered = sum(r.source.reader.stats.delivered for r in runs)
    dropped = sum(r.source.reader.stats.dropped for r in runs)
    frames = max(times.frames, 1)
    return {
        "fps_min": min(r.analysed for r in runs) / elapsed,
        "fps_mean": times.frames / cameras / elapsed,
        "dropped": dropped / max(delivered, 1),
        "inference_ms": 1000 * times.inference_s / frames,
        "pipeline_ms": 1000 * times.pipeline_s / frames,
        "batch": times.frames / max(times.batches, 1),
        "infer_busy": times.inference_s / elapsed,
        "main_busy": (times.pipeline_s + (0 if overlap else times.inference_s)) / elapsed,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fps", type=float, default=Settings().analysis_fps)
    parser.add_argument("--max-cameras", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=15.0)
    args = parser.parse_args()

    chosen = engine_settings()
    baseline = Settings(backend="ultralytics", model=str(REFERENCE_MODEL))
    detectors = {
        "baseline": backend_from_settings(baseline),
        "engine": backend_from_settings(chosen),
    }
    first = cv2.VideoCapture(str(media(CLIP))).read()[1]
    for detector in detectors.values():
        # The first call sets the runtime up (about a second): not a per-frame cost.
        detector.detect([first])
    decode_ms = decode_ms_per_frame()
    clip = FileSource(media(CLIP))
    source_fps = clip.fps
    # Each reader plays the clip once in real time: measure only while every camera still
    # has frames (after the readers' 1.5 s start), or the clip's end reads as lost frames.
    seconds = min(args.seconds, (clip.frame_count or 0) / source_fps - 2.0)
    print(
        f"clip {CLIP} ({source_fps:.0f} fps), target {args.fps} analysed fps per camera, "
        f"{seconds:.1f} s per measurement"
    )
    print(
        f"baseline: ultralytics on {REFERENCE_MODEL.name}; engine: "
        f"{detectors['engine'].engine} on {detectors['engine'].model_name}"
    )
    print(
        f"decode alone: {decode_ms:.1f} ms/frame -> {decode_ms * source_fps / 10:.0f}% "
        "of a core per camera to keep up with the source"
    )
    print(
        "detector  cams  fps/cam(min)  ratio  dropped  batch  infer ms/f  rules+track ms/f  "
        "infer busy  main busy"
    )
    sustained = dict.fromkeys(detectors, 0)
    running = set(detectors)
    for cameras in range(1, args.max_cameras + 1):
        for name, detector in detectors.items():
            if name not in running:
                continue
            # The baseline is today's worker: its engine, and rounds that take turns.
            m = measure(detector, cameras, args.fps, seconds, overlap=name == "engine")
            ratio = m["fps_min"] / args.fps
            print(
                f"{name:8s}  {cameras:4d}  {m['fps_min']:12.2f}  {ratio:5.2f}  "
                f"{m['dropped']:7.1%}  {m['batch']:5.1f}  {m['inference_ms']:10.1f}  "
                f"{m['pipeline_ms']:16.1f}  {m['infer_busy']:10.0%}  {m['main_busy']:9.0%}"
            )
            if ratio < 0.95:
                running.discard(name)
            else:
                sustained[name] = cameras
        if not running:
            break
    base, engine = sustained["baseline"], sustained["engine"]
    for name in running:
        print(f"{name} still sustained {args.max_cameras} cameras: raise --max-cameras")
    ratio = f"{engine / base:.2f}x" if base else "n/a (baseline sustains none)"
    print(
        f"capacity vs ultralytics TFLite: {ratio} ({base} -> {engine} cameras at {args.fps:g} fps)"
    )


if __name__ == "__main__":
    main()
