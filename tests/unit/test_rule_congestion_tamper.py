"""Congestion (occupancy and mean speed over time) and image-based camera tamper."""

from __future__ import annotations

import cv2
import numpy as np

from detectors.rules.congestion import CongestionRule
from detectors.rules.tamper import TamperRule
from tests.unit.synthetic import FPS, TEXTURE, box, feed, scene

ROAD = scene(
    zones=[
        {
            "id": "road",
            "kind": "carriageway",
            "polygon": [[0, 100], [640, 100], [640, 352], [0, 352]],
        }
    ]
)


def queue(seconds: float, px_per_frame: float) -> list:
    """Three rows of four cars filling the road, all moving px_per_frame down the image; a
    car that has moved one row on is replaced by a new one (new track id) behind it."""
    frames = []
    for i in range(round(seconds * FPS)):
        lap, offset = divmod(i * px_per_frame, 80)
        frames.append(
            [
                box(1000 * int(lap) + 10 * r + c, 80 + 160 * c, 170 + 80 * r + offset, w=150, h=75)
                for r in range(3)
                for c in range(4)
            ]
        )
    return frames


def test_dense_slow_traffic_for_long_enough_is_congestion_once() -> None:
    found = feed(CongestionRule(ROAD, FPS), queue(30.0, 0.2))
    assert len(found) == 1 and found[0].track_id is None
    assert float(found[0].measured["occupancy"]) >= 0.35


def test_dense_but_flowing_or_brief_jams_are_not() -> None:
    assert feed(CongestionRule(ROAD, FPS), queue(30.0, 6.0)) == []
    assert feed(CongestionRule(ROAD, FPS), queue(15.0, 0.2)) == []


def conditions(images: list[np.ndarray]) -> list[str]:
    found = feed(TamperRule(ROAD, FPS), [[]] * len(images), images=images)
    return [str(f.params["condition"]) for f in found]


def test_steady_view_is_not_tamper() -> None:
    assert conditions([TEXTURE] * 100) == []


def test_blur_darkness_and_obstruction_are_each_reported_but_a_move_is_not_tamper() -> None:
    blurred = cv2.GaussianBlur(TEXTURE, (0, 0), 6)
    dark = (TEXTURE // 20).astype(np.uint8)
    covered = TEXTURE.copy()
    covered[:, :500] = 128
    moved = np.roll(TEXTURE, 80, axis=1)
    assert "blur" in conditions([TEXTURE] * 30 + [blurred] * 50)
    assert "darkness" in conditions([TEXTURE] * 30 + [dark] * 50)
    assert "obstruction" in conditions([TEXTURE] * 30 + [covered] * 50)
    # A moved camera is the registration's to report (camera_moved / scene_changed).
    assert conditions([TEXTURE] * 30 + [moved] * 50) == []


def test_a_passing_truck_filling_the_view_briefly_is_not_tamper() -> None:
    covered = TEXTURE.copy()
    covered[:, :500] = 128
    assert conditions([TEXTURE] * 30 + [covered] * 15 + [TEXTURE] * 30) == []
