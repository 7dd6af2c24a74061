"""Wrong way against a lane's direction (here: up the image)."""

from __future__ import annotations

from detectors.rules.wrong_way import WrongWayRule
from tests.unit.synthetic import FPS, feed, moving, scene, still

SCENE = scene(
    zones=[
        {
            "id": "lane",
            "kind": "lane",
            "polygon": [[0, 0], [640, 0], [640, 352], [0, 352]],
            "direction": [[320, 340], [320, 10]],
        }
    ]
)


def test_driving_against_the_lane_is_reported_once() -> None:
    found = feed(WrongWayRule(SCENE, FPS), moving(1, (320, 60), (320, 340), 3.0))
    assert [(f.gost_code, f.track_id) for f in found] == [("C9", 1)]
    assert float(found[0].measured["angle_deg"]) > 150


def test_driving_with_the_lane_is_fine() -> None:
    assert feed(WrongWayRule(SCENE, FPS), moving(1, (320, 340), (320, 60), 3.0)) == []


def test_a_standing_vehicle_has_no_direction() -> None:
    assert feed(WrongWayRule(SCENE, FPS), still(1, 320, 200, 5.0)) == []


def test_a_short_reverse_is_not_wrong_way() -> None:
    frames = moving(1, (320, 200), (320, 240), 0.8) + moving(1, (320, 240), (320, 60), 2.0)
    assert feed(WrongWayRule(SCENE, FPS), frames) == []
