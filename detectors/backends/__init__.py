"""Detector backends: the seam (base.py), the factory (registry.py), one file per backend."""

from detectors.backends.base import Boxes, Detection, DetectorBackend, Tracker
from detectors.backends.registry import backend_from_settings

__all__ = ["Boxes", "Detection", "DetectorBackend", "Tracker", "backend_from_settings"]
