"""Detector backends: the interfaces (base.py), one file per backend."""

from detectors.backends.base import Detection, DetectorBackend, Tracker
from detectors.backends.yolo import UltralyticsBackend

__all__ = ["Detection", "DetectorBackend", "Tracker", "UltralyticsBackend"]
