"""Backends by type key: `DOZOR_BACKEND` picks one, each file holds one backend.

Modules are imported only when their backend is asked for, so choosing ultralytics never
imports OpenVINO and the reverse.
"""

from __future__ import annotations

from importlib import import_module
from pathlib import Path

from detectors.backends.base import DetectorBackend
from detectors.errors import DetectorInputError
from dozor.settings import Settings

#: Type key -> "module:class" of the backend.
BACKENDS: dict[str, str] = {
    "ultralytics": "detectors.backends.ultralytics_yolo:UltralyticsBackend",
    "openvino": "detectors.backends.openvino_yolo:OpenVINOBackend",
    "onnxruntime": "detectors.backends.onnx_yolo:OnnxRuntimeBackend",
    "torch": "detectors.backends.torch_yolo:TorchBackend",
    "litert": "detectors.backends.litert_yolo:LiteRTBackend",
}


#: What `auto` (the default) runs, by the weights' suffix: on the CPU the fastest that keeps
#: the eval results of ultralytics on the reference int8 TFLite (bench/engine_bench.py,
#: tests/integration/test_eval_backends.py); anything else (.onnx, .engine, ...) ultralytics.
AUTO = {".tflite": "litert", ".pt": "openvino"}


def backend_key(settings: Settings) -> str:
    """The backend the settings choose, `auto` resolved."""
    if settings.backend != "auto":
        return settings.backend
    return AUTO.get(Path(settings.model).suffix, "ultralytics")


def backend_class(key: str) -> type[DetectorBackend]:
    try:
        module, name = BACKENDS[key].split(":")
    except KeyError:
        raise DetectorInputError(
            f"unknown detector backend {key!r} (have: {', '.join(BACKENDS)})"
        ) from None
    cls: type[DetectorBackend] = getattr(import_module(module), name)
    return cls


def backend_from_settings(settings: Settings) -> DetectorBackend:
    """The one place a detector is made: workers, replays, eval and benches call this."""
    return backend_class(backend_key(settings)).from_settings(settings)
