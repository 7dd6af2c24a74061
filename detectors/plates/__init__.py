"""Licence-plate reading on vehicle crops: locate, recognise, normalise to Russian formats."""

from __future__ import annotations

import numpy as np

from .locate import expand, locate_plates
from .normalize import NormalizedPlate, normalize_plate
from .ocr import DEFAULT_ENGINE, PlateReader, PlateReading, get_reader, rank

__all__ = [
    "NormalizedPlate",
    "PlateReader",
    "PlateReading",
    "get_reader",
    "normalize_plate",
    "read_plate",
]

# The located box is often only part of the plate (one bright half), so read a generous margin.
_CANDIDATE_MARGIN_X, _CANDIDATE_MARGIN_Y = 0.6, 0.8


def read_plate(vehicle_crop_bgr: np.ndarray, engine: str = DEFAULT_ENGINE) -> PlateReading | None:
    """Best plate reading on a BGR vehicle crop, bbox in crop pixels; None if no text at all.

    The engine's own text detector on the whole crop is tried first because it also finds tilted
    plates; morphological candidates are a fallback for plates it misses. An invalid reading is
    still returned (``valid=False``) so callers can log partial plates.
    """
    reader = get_reader(engine)
    best = reader.read(vehicle_crop_bgr)
    if not best.valid:
        h, w = vehicle_crop_bgr.shape[:2]
        for box in locate_plates(vehicle_crop_bgr):
            x1, y1, x2, y2 = expand(box, w, h, _CANDIDATE_MARGIN_X, _CANDIDATE_MARGIN_Y)
            reading = reader.read(vehicle_crop_bgr[y1:y2, x1:x2]).shifted(x1, y1)
            best = max(best, reading, key=rank)
            if best.valid:
                break
    return best if best.raw else None
