"""Pipeline fps against bare model.predict on the same frames, in the same process.

Usage (from the repo root): python -m bench.pipeline_bench [--clip NAME] [--frames 150]
Prints frames per second of bare `predict` and of the pipeline replays and live workers
share (per-camera ByteTrack over the backend's detect, signals, rules, evidence), and the
pipeline's ratio to bare predict (goal >= 0.95). Evidence is
written to memory, not S3: storage is I/O that happens once per finding, not per frame.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from pathlib import Path

from contract.scene import SceneConfig
from detectors.backends import Tracker
from detectors.backends.base import TRAFFIC_CLASSES
from detectors.backends.ultralytics_yolo import UltralyticsBackend
from detectors.pipeline import CameraContext, Pipeline
from detectors.sources import FileSource, Frame
from detectors.tracking import CameraTracker
from dozor.settings import Settings
from dozor.storage import StoredObject, sha256_hex
from evidence.capture import EvidenceWriter
from registry.seed import scene_assignments

SHARED = Path(os.environ.get("DOZOR_SHARED_DIR", Path(__file__).resolve().parents[2] / "shared"))
#: Today's engine runs ultralytics on these int8 TFLite weights: the baseline of the ratios.
REFERENCE_MODEL = SHARED / "models" / "yolo11n_int8.tflite"
#: The .pt rebuilt from them, which the OpenVINO and ONNX Runtime backends export.
CHECKPOINT = SHARED / "models" / "yolo11n_from_int8tflite.pt"
CLIP_CAMERAS = {
    "redlight_cam_platte_chelton.mp4": "VLG-ENF-001",
    "redlight_cam_intersection3.mp4": "VLG-ENF-002",
    "dual_carriageway_uk_approaching.mp4": "VLG-ENF-003",
    "highway_overhead_ca_sobral1.avi": "VLG-CAM-002",
}


def media(name: str) -> Path:
    return Path(os.environ.get("DOZOR_MEDIA_DIR", SHARED / "media")) / name


def model_path() -> str:
    return os.environ.get("DOZOR_MODEL", str(REFERENCE_MODEL))


def engine_settings(**overrides: object) -> Settings:
    """The engine the settings choose (DOZOR_BACKEND, DOZOR_MODEL); the shared weights where
    DOZOR_MODEL is unset: the TFLite for ultralytics, the .pt for the exporting backends."""
    chosen = Settings(**overrides)  # type: ignore[arg-type]
    if "model" in chosen.model_fields_set:
        return chosen
    default = (
        CHECKPOINT if chosen.backend in ("openvino", "onnxruntime", "torch") else REFERENCE_MODEL
    )
    return chosen.model_copy(update={"model": str(default)})


class MemoryStore:
    """Stands in for ObjectStore.put: keeps evidence in memory."""

    bucket = "bench"

    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}

    def put(self, key: str, data: bytes, content_type: str) -> StoredObject:
        self.objects[key] = data
        return StoredObject(self.bucket, key, sha256_hex(data), len(data), content_type)


def load_frames(clip: Path, count: int, step: int = 1) -> tuple[FileSource, list[Frame]]:
    source = FileSource(clip)
    frames = []
    for frame in source.frames():
        if frame.index % step == 0:
            frames.append(Frame(len(frames), frame.offset_s, frame.image))
        if len(frames) >= count:
            break
    return source, frames


def scene_for(clip: str) -> SceneConfig:
    return scene_assignments()[CLIP_CAMERAS[clip]]


def pipeline(
    clip: str, source: FileSource, backend: Tracker, fps: float
) -> tuple[Pipeline, list[object]]:
    published: list[object] = []
    camera = CameraContext(
        camera_id=CLIP_CAMERAS[clip],
        scene_version=1,
        scene=scene_for(clip),
        source_uri=source.uri,
        source_id="bench",
        started_at=source.started_at,
        fps=fps,
    )
    writer = EvidenceWriter(MemoryStore())  # type: ignore[arg-type]
    return Pipeline(camera, backend, writer, published.append, "bench"), published


def fps_of(frames: list[Frame], step: Callable[[Frame], object]) -> float:
    start = time.perf_counter()
    for frame in frames:
        step(frame)
    return len(frames) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clip", default="redlight_cam_platte_chelton.mp4", choices=CLIP_CAMERAS)
    parser.add_argument("--frames", type=int, default=150)
    args = parser.parse_args()

    source, frames = load_frames(media(args.clip), args.frames)
    detector = UltralyticsBackend(model_path())
    bare = detector._model  # the very model object the pipeline uses

    def predict(frame: Frame) -> object:
        return bare.predict(frame.image, classes=list(TRAFFIC_CLASSES), conf=0.25, verbose=False)

    pipe, _ = pipeline(args.clip, source, CameraTracker(detector, source.fps), source.fps)
    for frame in frames[:5]:  # warm-up: first calls allocate and initialise
        predict(frame)
    # Bare predict runs before and after the pipeline; its mean is the baseline.
    base_1 = fps_of(frames, predict)
    pipe_fps = fps_of(frames, lambda f: pipe.process(f, detector.detect([f.image])[0]))
    base_2 = fps_of(frames, predict)
    base = (base_1 + base_2) / 2
    print(f"clip {args.clip}, {len(frames)} frames, model {Path(model_path()).name}")
    print(f"bare predict        {base:6.2f} fps  (runs: {base_1:.2f}, {base_2:.2f})")
    print(f"pipeline            {pipe_fps:6.2f} fps  ratio {pipe_fps / base:.3f}")


if __name__ == "__main__":
    main()
