"""Crossing a solid line at x=320."""

from __future__ import annotations

from detectors.rules.solid_line import SolidLineRule
from tests.unit.synthetic import FPS, box, feed, moving, scene

SCENE = scene(lines=[{"id": "solid", "kind": "solid_line", "points": [[320, 0], [320, 352]]}])


def test_changing_lanes_over_the_line_is_reported_once() -> None:
    frames = moving(1, (250, 300), (400, 200), 2.0) + moving(1, (400, 200), (250, 100), 2.0)
    found = feed(SolidLineRule(SCENE, FPS), frames)
    assert [(f.gost_code, f.track_id) for f in found] == [("C11", 1)]


def test_driving_along_the_line_does_not_count() -> None:
    wobble = [[box(1, 320 + (8 if i % 2 else -8), 340 - 10 * i)] for i in range(30)]
    assert feed(SolidLineRule(SCENE, FPS), wobble) == []


def test_track_lost_and_regained_on_the_same_side_does_not_count() -> None:
    frames = (
        moving(1, (250, 300), (250, 200), 1.0) + [[]] * 5 + moving(1, (250, 190), (250, 100), 1.0)
    )
    assert feed(SolidLineRule(SCENE, FPS), frames) == []
