"""Detector backends: one interface (base.py), one file per backend."""

from detectors.backends.base import Detection, DetectorBackend
from detectors.backends.yolo import UltralyticsBackend

__all__ = ["Detection", "DetectorBackend", "UltralyticsBackend"]
