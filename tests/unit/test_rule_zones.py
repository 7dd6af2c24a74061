"""Zone rules: bus lane, junction box (C14), no stopping, stopped vehicle, pedestrian on
the roadway, failure to yield (C15)."""

from __future__ import annotations

import numpy as np

from contract.events import EventType
from contract.signals import SignalColour
from detectors.rules.bus_lane import BusLaneRule
from detectors.rules.dwell import NoStoppingRule
from detectors.rules.junction_box import JunctionBoxRule
from detectors.rules.pedestrian_roadway import PedestrianOnRoadwayRule
from detectors.rules.stopped_vehicle import StoppedVehicleRule
from detectors.rules.yield_pedestrians import YieldPedestriansRule
from tests.unit.synthetic import FPS, TEXTURE, box, feed, moving, scene, still

LEFT = [[0, 0], [320, 0], [320, 352], [0, 352]]
RIGHT = [[320, 0], [640, 0], [640, 352], [320, 352]]
ALL = [[0, 0], [640, 0], [640, 352], [0, 352]]


def test_car_driving_in_the_bus_lane_is_reported_but_a_bus_is_not() -> None:
    s = scene(zones=[{"id": "bus", "kind": "bus_lane", "polygon": LEFT}])
    car = feed(BusLaneRule(s, FPS), moving(1, (150, 340), (150, 60), 4.0))
    assert [f.type for f in car] == [EventType.BUS_LANE]
    assert feed(BusLaneRule(s, FPS), moving(1, (150, 340), (150, 60), 4.0, label="bus")) == []


def test_crossing_the_bus_lane_to_turn_is_fine() -> None:
    s = scene(zones=[{"id": "bus", "kind": "bus_lane", "polygon": LEFT}])
    assert feed(BusLaneRule(s, FPS), moving(1, (450, 300), (10, 300), 2.0)) == []


def test_entering_the_junction_box_and_standing_there_is_c14() -> None:
    s = scene(zones=[{"id": "box", "kind": "junction_box", "polygon": RIGHT}])
    frames = moving(1, (200, 300), (450, 300), 1.0) + still(1, 450, 300, 3.0)
    found = feed(JunctionBoxRule(s, FPS), frames)
    assert [(f.gost_code, f.track_id) for f in found] == [("C14", 1)]
    # A vehicle already in the box when the camera started did not enter it in our view.
    assert feed(JunctionBoxRule(s, FPS), still(1, 450, 300, 4.0)) == []


def test_no_stopping_uses_the_zones_max_dwell() -> None:
    s = scene(zones=[{"id": "ns", "kind": "no_stopping", "polygon": ALL, "max_dwell_s": 3}])
    assert feed(NoStoppingRule(s, FPS), still(1, 300, 300, 2.5)) == []
    found = feed(NoStoppingRule(s, FPS), still(1, 300, 300, 4.0))
    assert len(found) == 1 and found[0].params["max_dwell_s"] == 3
    assert abs(found[0].offset_s - 3.0) < 0.15


def test_a_zone_without_max_dwell_is_not_a_no_stopping_rule() -> None:
    s = scene(zones=[{"id": "ns", "kind": "no_parking", "polygon": ALL}])
    assert not NoStoppingRule.applies(s)


INTERSECTION = scene(
    zones=[
        {"id": "junction", "kind": "intersection", "polygon": RIGHT},
        {"id": "road", "kind": "carriageway", "polygon": ALL},
    ],
    signals=[{"id": "sig", "bbox": [10, 10, 20, 30]}],
)


def test_stopped_in_the_intersection_is_reported_at_onset_plus_threshold() -> None:
    frames = moving(1, (100, 300), (450, 300), 1.0) + still(1, 450, 300, 3.0)
    found = feed(StoppedVehicleRule(INTERSECTION, FPS), frames, signals={"sig": SignalColour.RED})
    assert len(found) == 1 and found[0].type is EventType.STOPPED_VEHICLE
    assert abs(found[0].offset_s - 3.0) < 0.3


def test_a_lone_car_standing_on_the_carriageway_is_an_incident_whatever_the_signal() -> None:
    # No stop line near it and nothing ahead of it: a red in view does not explain it.
    frames = moving(1, (150, 100), (150, 300), 1.0) + still(1, 150, 300, 4.0)
    for colour in (SignalColour.RED, SignalColour.GREEN):
        found = feed(StoppedVehicleRule(INTERSECTION, FPS), frames, signals={"sig": colour})
        assert [f.track_id for f in found] == [1]


def test_id_handed_between_passing_cars_is_not_a_stopped_vehicle() -> None:
    # Same box position every frame, but a different car under it every half second.
    rng = np.random.default_rng(1)
    images = []
    for i in range(50):
        if i % 5 == 0:
            image = TEXTURE.copy()
            image[200:300, 380:520] = rng.integers(0, 255, (100, 140, 3), dtype=np.uint8)
        images.append(image)
    frames = still(1, 450, 300, 5.0)
    assert feed(StoppedVehicleRule(INTERSECTION, FPS), frames, images=images) == []


ROAD_WITH_CROSSWALK = scene(
    zones=[
        {"id": "road", "kind": "carriageway", "polygon": ALL},
        {
            "id": "zebra",
            "kind": "crosswalk",
            "polygon": [[0, 200], [640, 200], [640, 260], [0, 260]],
        },
    ]
)


def test_pedestrian_on_the_roadway_but_not_on_the_crosswalk() -> None:
    walker = moving(1, (50, 150), (200, 150), 6.0, label="person", w=20, h=50)
    found = feed(PedestrianOnRoadwayRule(ROAD_WITH_CROSSWALK, FPS), walker)
    assert [f.type for f in found] == [EventType.PEDESTRIAN_ON_ROADWAY]
    zebra = moving(1, (50, 230), (600, 230), 8.0, label="person", w=20, h=50)
    assert feed(PedestrianOnRoadwayRule(ROAD_WITH_CROSSWALK, FPS), zebra) == []


def test_a_sliver_cut_by_the_frame_edge_is_not_judged_a_pedestrian() -> None:
    # What a pole at the left edge looked like to the detector at 8 fps on a real clip.
    edge = still(1, 3, 122, 6.0, label="person", w=6, h=35)
    assert feed(PedestrianOnRoadwayRule(ROAD_WITH_CROSSWALK, FPS), edge) == []


def test_a_cyclist_is_not_a_pedestrian() -> None:
    frames = [
        [
            box(1, 50 + 3 * i, 150, label="person", w=20, h=50),
            box(2, 50 + 3 * i, 155, "bicycle", 30, 30),
        ]
        for i in range(60)
    ]
    assert feed(PedestrianOnRoadwayRule(ROAD_WITH_CROSSWALK, FPS), frames) == []


def walker_and_car(walker_x: float) -> list:
    car = moving(2, (300, 340), (300, 100), 3.0)
    return [[*c, box(1, walker_x, 240, label="person", w=20, h=50)] for c in car]


def test_driving_over_the_crosswalk_next_to_a_pedestrian_is_c15() -> None:
    found = feed(YieldPedestriansRule(ROAD_WITH_CROSSWALK, FPS), walker_and_car(360))
    assert [(f.gost_code, f.track_id) for f in found] == [("C15", 2)]


def test_pedestrian_far_from_the_cars_path_is_no_conflict() -> None:
    assert feed(YieldPedestriansRule(ROAD_WITH_CROSSWALK, FPS), walker_and_car(600)) == []


def test_car_waiting_at_the_crosswalk_yields() -> None:
    frames = [[*c, box(1, 330, 240, label="person", w=20, h=50)] for c in still(2, 300, 230, 3.0)]
    assert feed(YieldPedestriansRule(ROAD_WITH_CROSSWALK, FPS), frames) == []
