"""Stopped vehicle that understands traffic: queueing at a stop line or behind standing
vehicles, jams, parking and bus stops, and which part of a box counts as where it is."""

from __future__ import annotations

from typing import Any

from contract.events import EventType
from contract.scene import SceneConfig
from detectors.backends.base import Detection
from detectors.rules.dwell import NoStoppingRule
from detectors.rules.stopped_vehicle import StoppedVehicleRule
from tests.unit.synthetic import FPS, feed, moving, scene, still

ALL = [[0, 0], [640, 0], [640, 352], [0, 352]]
ROAD = {"id": "road", "kind": "carriageway", "polygon": ALL}
# Traffic drives up the image (away from the camera) and stops at y = 100.
STOP_LINE = {
    "id": "stop",
    "kind": "stop_line",
    "points": [[0, 100], [640, 100]],
    "approach": [320, 300],
}


def merge(*tracks: list[list[Detection]]) -> list[list[Detection]]:
    n = max(len(t) for t in tracks)
    return [[d for t in tracks if i < len(t) for d in t[i]] for i in range(n)]


def drive_and_stand(tid: int, x: float, stop_y: float, stand_s: float, **kw: Any) -> list:
    return moving(tid, (x, 340), (x, stop_y), 1.0, **kw) + still(tid, x, stop_y, stand_s, **kw)


def stopped(s: SceneConfig, frames: list[list[Detection]]) -> list[int | None]:
    return [f.track_id for f in feed(StoppedVehicleRule(s, FPS), frames)]


def test_waiting_at_a_stop_line_without_a_signal_in_view_is_not_an_incident() -> None:
    s = scene(zones=[ROAD], lines=[STOP_LINE])
    assert stopped(s, drive_and_stand(1, 300, 110, 5.0)) == []
    # The same car standing half the road short of the line is not waiting at it.
    assert stopped(s, drive_and_stand(1, 300, 260, 5.0)) == [1]


def test_a_queue_behind_the_first_car_is_not_an_incident() -> None:
    s = scene(zones=[ROAD], lines=[STOP_LINE])
    first = drive_and_stand(1, 300, 110, 6.0)
    second = still(2, 300, 340, 0.3) + drive_and_stand(2, 300, 190, 5.0)[3:]
    third = (
        still(3, 300, 340, 1.0) + moving(3, (300, 340), (300, 270), 1.0) + still(3, 300, 270, 4.0)
    )
    assert stopped(s, merge(first, second, third)) == []


def test_the_car_behind_a_broken_down_one_is_queued_but_the_broken_down_one_is_reported() -> None:
    s = scene(zones=[ROAD])  # no stop line anywhere
    head = drive_and_stand(1, 300, 150, 6.0)
    behind = (
        still(2, 300, 345, 0.5) + moving(2, (300, 345), (300, 230), 1.0) + still(2, 300, 230, 5.0)
    )
    assert stopped(s, merge(head, behind)) == [1]


def test_a_car_standing_in_the_next_lane_does_not_make_a_queue() -> None:
    s = scene(zones=[ROAD])
    head = drive_and_stand(1, 150, 150, 6.0)
    beside = drive_and_stand(2, 450, 230, 6.0)
    assert sorted(stopped(s, merge(head, beside))) == [1, 2]


def test_a_jam_is_left_to_the_congestion_rule() -> None:
    s = scene(zones=[ROAD])
    cars = [
        drive_and_stand(i, x, y, 5.0)
        for i, (x, y) in enumerate([(100, 120), (300, 200), (500, 280)], 1)
    ]
    assert stopped(s, merge(*cars)) == []


def test_the_clock_starts_when_the_car_ahead_leaves() -> None:
    s = scene(zones=[ROAD])
    head = drive_and_stand(1, 300, 150, 2.0) + moving(1, (300, 150), (300, 5), 1.0)
    behind = (
        still(2, 300, 345, 0.5) + moving(2, (300, 345), (300, 230), 1.0) + still(2, 300, 230, 6.0)
    )
    found = feed(StoppedVehicleRule(s, FPS), merge(head, behind))
    assert [f.track_id for f in found] == [2]
    # Excused until ~3 s while the car ahead stood; reported 2 s after it left, not before.
    assert found[0].offset_s >= 4.5


def test_parking_and_bus_stops_allow_standing() -> None:
    bay = {"id": "bay", "kind": "parking", "polygon": [[400, 0], [640, 0], [640, 352], [400, 352]]}
    stop = {"id": "stop", "kind": "bus_stop", "polygon": [[0, 0], [200, 0], [200, 352], [0, 352]]}
    s = scene(zones=[ROAD, bay, stop])
    assert stopped(s, drive_and_stand(1, 520, 200, 5.0)) == []
    assert stopped(s, drive_and_stand(1, 100, 200, 5.0, label="bus")) == []
    assert stopped(s, drive_and_stand(1, 300, 200, 5.0)) == [1]
    ns = scene(zones=[{"id": "ns", "kind": "no_stopping", "polygon": ALL, "max_dwell_s": 2}, bay])
    assert feed(NoStoppingRule(ns, FPS), drive_and_stand(1, 520, 200, 5.0)) == []


def test_dwell_threshold_per_zone() -> None:
    s = scene(zones=[{**ROAD, "max_dwell_s": 10}])
    assert stopped(s, drive_and_stand(1, 300, 200, 5.0)) == []
    assert stopped(s, drive_and_stand(1, 300, 200, 11.0)) == [1]


def test_a_car_a_few_pixels_over_the_intersection_edge_is_not_in_it() -> None:
    # Intersection ends at y = 150; only the corner of the box's bottom edge reaches in.
    junction = {
        "id": "x",
        "kind": "intersection",
        "polygon": [[0, 0], [330, 0], [330, 150], [0, 150]],
    }
    s = scene(zones=[junction])
    assert stopped(s, drive_and_stand(1, 360, 148, 5.0)) == []  # 10 px of an 80 px bottom
    assert stopped(s, drive_and_stand(1, 300, 148, 5.0)) == [1]  # most of it inside


def test_reported_with_what_was_measured() -> None:
    s = scene(zones=[ROAD])
    (finding,) = feed(StoppedVehicleRule(s, FPS), drive_and_stand(1, 300, 200, 4.0))
    assert finding.type is EventType.STOPPED_VEHICLE
    assert abs(finding.offset_s - 3.0) < 0.3
    assert finding.measured["zone_share"] == 1.0 and finding.measured["stood_s"] >= 2.0
