"""Evidence clip cost: ms and bytes per clip, as a ratio to YOLO on the same frames.

Usage (from the repo root): python -m bench.evidence_clip_bench [--video PATH] [--seconds 4]
The baseline is the detector's own per-frame work (YOLO + tracking) measured in this process,
so the ratio says what share of a camera's detection budget one clip costs.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import cv2

from detectors.backends import backend_from_settings
from detectors.tracking import CameraTracker
from dozor.settings import get_settings
from evidence.capture import encode_clip


def main() -> None:
    settings = get_settings()
    media = Path(__file__).resolve().parents[2] / "shared" / "media"
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--video", type=Path, default=media / "redlight_cam_platte_chelton.mp4")
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--max-width", type=int, default=960)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    cap = cv2.VideoCapture(str(args.video))
    fps = cap.get(cv2.CAP_PROP_FPS)
    frames = []
    while len(frames) < round(args.seconds * fps):
        ok, image = cap.read()
        if not ok:
            break
        frames.append(image)
    cap.release()

    detector = backend_from_settings(settings)
    tracker = CameraTracker(detector, fps)
    detector.detect(frames[:1])  # warm-up
    start = time.perf_counter()
    for image in frames:
        tracker.update(detector.detect([image])[0], image)
    yolo_ms = (time.perf_counter() - start) * 1e3

    runs, size = [], 0
    for _ in range(args.repeats):
        start = time.perf_counter()
        size = len(encode_clip(frames, fps, args.max_width))
        runs.append((time.perf_counter() - start) * 1e3)
    clip_ms = statistics.median(runs)
    h, w = frames[0].shape[:2]
    print(f"{args.video.name}: {len(frames)} frames {w}x{h} at {fps:.2f} fps")
    print(f"yolo+track   {yolo_ms:8.0f} ms  ({yolo_ms / len(frames):.1f} ms/frame)")
    print(f"clip encode  {clip_ms:8.0f} ms  ({clip_ms / len(frames):.1f} ms/frame), {size} bytes")
    print(f"ratio clip/yolo: {clip_ms / yolo_ms:.3f}")


if __name__ == "__main__":
    main()
