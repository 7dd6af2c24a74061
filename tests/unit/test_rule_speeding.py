"""Speeding over a calibrated segment: 10 px = 1 m, speed_start at y=300, speed_end at y=100."""

from __future__ import annotations

from detectors.rules.speeding import SpeedingRule
from tests.unit.synthetic import FPS, feed, moving, scene

SCENE = scene(
    zones=[
        {
            "id": "road",
            "kind": "carriageway",
            "polygon": [[0, 0], [640, 0], [640, 352], [0, 352]],
            "speed_limit_kmh": 60,
        }
    ],
    lines=[
        {
            "id": "s0",
            "kind": "speed_start",
            "points": [[0, 300], [640, 300]],
            "approach": [320, 350],
        },
        {"id": "s1", "kind": "speed_end", "points": [[0, 100], [640, 100]], "approach": [320, 350]},
    ],
    calibration={
        "image_points": [[0, 0], [640, 0], [640, 352], [0, 352]],
        "ground_points": [[0, 0], [64, 0], [64, 35.2], [0, 35.2]],
    },
)


def drive(speed_ms: float) -> list:
    seconds = 33.0 / speed_ms  # from y=340 to y=10 at 10 px per metre
    return moving(1, (320, 340), (320, 10), seconds)


def test_fast_car_is_measured_and_reported_once_at_the_end_line() -> None:
    found = feed(SpeedingRule(SCENE, FPS), drive(25.0))  # 90 km/h in a 60 zone
    assert len(found) == 1
    f = found[0]
    assert f.gost_code == "C1" and abs(float(f.measured["speed_kmh"]) - 90.0) < 2.0
    assert float(f.measured["uncertainty_kmh"]) >= 0
    assert abs(f.offset_s - (340 - 100) / 10 / 25.0) < 0.05  # when it passed speed_end


def test_within_the_tolerance_is_not_reported() -> None:
    assert feed(SpeedingRule(SCENE, FPS), drive(60 / 3.6 * 1.05)) == []


def test_implausible_speed_is_rejected() -> None:
    assert feed(SpeedingRule(SCENE, FPS), drive(300 / 3.6)) == []


def test_a_jump_between_vehicles_is_rejected() -> None:
    # Slow car, then the id hops onto a car far ahead: a jump no car can make.
    frames = moving(1, (320, 340), (320, 250), 3.0) + moving(1, (320, 120), (320, 60), 2.0)
    assert feed(SpeedingRule(SCENE, FPS), frames) == []


def test_a_car_that_never_reaches_the_end_line_is_not_reported() -> None:
    assert feed(SpeedingRule(SCENE, FPS), drive(40.0)[:4]) == []


def test_without_a_speed_limit_the_rule_does_not_apply() -> None:
    bare = SCENE.model_copy(update={"zones": []})
    assert not SpeedingRule.applies(bare)
