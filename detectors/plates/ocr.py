"""Plate text recognisers behind one small interface, selected by engine name."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cache
from pathlib import Path
from typing import Protocol

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from .normalize import NormalizedPlate, PlateFormat, normalize_plate

BBox = tuple[int, int, int, int]


class PlateReading(BaseModel):
    """One plate as read from an image; ``bbox`` is x1, y1, x2, y2 in that image's pixels."""

    model_config = ConfigDict(frozen=True)

    raw: str
    number: str
    region: str | None
    formatted: str
    valid: bool
    format: PlateFormat
    confidence: float = Field(ge=0.0, le=1.0)
    bbox: BBox
    engine: str

    def shifted(self, dx: int, dy: int) -> PlateReading:
        x1, y1, x2, y2 = self.bbox
        return self.model_copy(update={"bbox": (x1 + dx, y1 + dy, x2 + dx, y2 + dy)})


class PlateReader(Protocol):
    name: str

    def read(self, image_bgr: np.ndarray) -> PlateReading:
        """Best plate reading in ``image_bgr``; an empty, zero-confidence one if no text."""
        ...


def empty_reading(image_bgr: np.ndarray, engine: str) -> PlateReading:
    h, w = image_bgr.shape[:2]
    return PlateReading(
        raw="",
        number="",
        region=None,
        formatted="",
        valid=False,
        format="unknown",
        confidence=0.0,
        bbox=(0, 0, w, h),
        engine=engine,
    )


def rank(reading: PlateReading) -> tuple[bool, bool, float]:
    """Order readings: a valid plate beats any invalid one, a known format beats free text."""
    return reading.valid, reading.format != "unknown", reading.confidence


# Each positional letter/digit repair is a guess, so it lowers trust in the reading.
_REPAIR_PENALTY = 0.9


def to_reading(plate: NormalizedPlate, score: float, bbox: BBox, engine: str) -> PlateReading:
    return PlateReading(
        raw=plate.raw,
        number=plate.number,
        region=plate.region,
        formatted=plate.formatted,
        valid=plate.valid,
        format=plate.format,
        confidence=min(1.0, max(0.0, score)) * _REPAIR_PENALTY**plate.repairs,
        bbox=bbox,
        engine=engine,
    )


_Line = tuple[BBox, str, float]


def _same_row_neighbours(left: _Line, right: _Line) -> bool:
    """True when ``right`` continues ``left`` on one line, as when the region is split off."""
    (_, ly1, lx2, ly2), _, _ = left
    (rx1, ry1, _, ry2), _, _ = right
    height = max(ly2 - ly1, ry2 - ry1, 1)
    overlap = min(ly2, ry2) - max(ly1, ry1)
    return overlap > 0.5 * height and -0.5 * height <= rx1 - lx2 <= 1.5 * height


def line_candidates(lines: Sequence[_Line]) -> list[_Line]:
    """Every single text line plus each pair of adjacent lines merged left to right."""
    merged: list[_Line] = list(lines)
    for left in lines:
        for right in lines:
            if left is not right and _same_row_neighbours(left, right):
                (lx1, ly1, lx2, ly2), ltext, lscore = left
                (rx1, ry1, rx2, ry2), rtext, rscore = right
                bbox = (min(lx1, rx1), min(ly1, ry1), max(lx2, rx2), max(ly2, ry2))
                weight = len(ltext) + len(rtext) or 1
                score = (lscore * len(ltext) + rscore * len(rtext)) / weight
                merged.append((bbox, ltext + rtext, score))
    return merged


class RapidOcrReader:
    """PP-OCRv4 detection + recognition via ``rapidocr-onnxruntime``.

    The wheel ships its ONNX weights inside the package and has no download code, so it works
    offline; the paths are pinned and checked here so a broken install fails at start-up.
    The recogniser's alphabet is Chinese + Latin, which is enough because every letter allowed
    on Russian plates has a Latin twin that ``normalize`` maps back to Cyrillic.
    """

    name = "rapidocr"

    def __init__(self) -> None:
        import rapidocr_onnxruntime

        models = Path(rapidocr_onnxruntime.__file__).resolve().parent / "models"
        paths = {
            "det_model_path": models / "ch_PP-OCRv4_det_infer.onnx",
            "rec_model_path": models / "ch_PP-OCRv4_rec_infer.onnx",
            "cls_model_path": models / "ch_ppocr_mobile_v2.0_cls_infer.onnx",
        }
        missing = [str(p) for p in paths.values() if not p.is_file()]
        if missing:
            raise FileNotFoundError(f"rapidocr-onnxruntime models missing: {missing}")
        self._engine = rapidocr_onnxruntime.RapidOCR(**{k: str(v) for k, v in paths.items()})

    def read(self, image_bgr: np.ndarray) -> PlateReading:
        # Plates are never upside down on a vehicle crop, so the angle classifier is skipped.
        result, _ = self._engine(image_bgr, use_cls=False)
        h, w = image_bgr.shape[:2]
        lines: list[_Line] = []
        for quad, text, score in result or []:
            # Detector quads are unclipped and may poke past the image edge.
            pts = np.clip(np.asarray(quad, dtype=np.float32), 0, (w, h))
            x1, y1 = np.floor(pts.min(axis=0)).astype(int)
            x2, y2 = np.ceil(pts.max(axis=0)).astype(int)
            lines.append(((int(x1), int(y1), int(x2), int(y2)), str(text), float(score)))
        readings = [
            to_reading(normalize_plate(text), score, bbox, self.name)
            for bbox, text, score in line_candidates(lines)
        ]
        return max(readings, key=rank, default=None) or empty_reading(image_bgr, self.name)


_ENGINES: dict[str, Callable[[], PlateReader]] = {"rapidocr": RapidOcrReader}
DEFAULT_ENGINE = "rapidocr"


@cache
def get_reader(name: str = DEFAULT_ENGINE) -> PlateReader:
    """Shared reader per engine: loading the ONNX sessions costs far more than one read."""
    try:
        factory = _ENGINES[name]
    except KeyError:
        raise ValueError(f"unknown plate OCR engine {name!r}; known: {sorted(_ENGINES)}") from None
    return factory()
