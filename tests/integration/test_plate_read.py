from collections.abc import Callable

import cv2
import numpy as np
import pytest

from detectors.plates import PlateReading, read_plate
from tests.conftest import media_dir

pytestmark = pytest.mark.integration


def _load(name: str) -> np.ndarray:
    path = media_dir() / name
    image = cv2.imread(str(path))
    assert image is not None, f"unreadable image {path}"
    return image


def _check_shape(reading: PlateReading, image: np.ndarray) -> None:
    h, w = image.shape[:2]
    x1, y1, x2, y2 = reading.bbox
    assert 0 <= x1 < x2 <= w and 0 <= y1 < y2 <= h
    assert 0.0 <= reading.confidence <= 1.0


def test_skoda_reads_exactly() -> None:
    image = _load("ru_plate_skoda_parked_curb.jpg")
    reading = read_plate(image)
    assert reading is not None
    assert reading.formatted == "Х590НР 178"
    assert reading.valid and reading.format == "ru_private"
    assert reading.number == "Х590НР" and reading.region == "178"
    _check_shape(reading, image)
    # In this photo the plate is in the left third of the frame, at about y 280-330.
    _, y1, x2, y2 = reading.bbox
    assert x2 < image.shape[1] / 3 and 250 < y1 < y2 < 360


@pytest.mark.parametrize("name", ["su_plate_lada_parked_curb.jpg", "ru_plate_audi_street.jpg"])
def test_other_photos_recorded(name: str, record_property: Callable[[str, object], None]) -> None:
    # Only recorded: the Soviet plate is outside the main target, the Audi plate is barely legible.
    image = _load(name)
    reading = read_plate(image)
    record_property("plate_reading", reading.model_dump_json() if reading else None)
    print(f"{name}: {reading!r}")
    if reading is not None:
        _check_shape(reading, image)
