"""A track's class by vote over its life; a person riding a two-wheeler is its rider: a
cyclist where cycling is banned, never a pedestrian."""

from __future__ import annotations

from contract.events import EventType
from detectors.backends.base import Detection
from detectors.rules.cycling import CyclistBannedRule
from detectors.rules.pedestrian_roadway import PedestrianOnRoadwayRule
from detectors.tracks import TrackBook
from tests.unit.synthetic import FPS, box, feed, scene

MOTORWAY = scene(
    zones=[
        {"id": "m1", "kind": "motorway", "polygon": [[0, 100], [640, 100], [640, 340], [0, 340]]}
    ]
)


def test_class_is_the_vote_over_the_track_life_not_the_latest_frame() -> None:
    book = TrackBook()
    labels = ["car"] * 20 + ["person"] * 3
    for i, label in enumerate(labels):
        book.update(i, i / FPS, [box(1, 100 + i, 200, label)])
    assert book.tracks[1].label == "car"
    assert book.tracks[1].object_class == "car"


def test_confident_sightings_weigh_more() -> None:
    book = TrackBook()
    for i in range(10):
        dets = [box(1, 100, 200, "truck")] if i < 4 else [box(1, 100, 200, "car")]
        conf = 0.9 if i < 4 else 0.2
        book.update(i, i / FPS, [Detection(d.track_id, d.label, conf, d.bbox) for d in dets])
    assert book.tracks[1].label == "truck"


def riding(frames: int, *, bicycle_every: int = 1, speed: float = 6.0) -> list:
    return [
        [
            box(1, 50 + speed * i, 150, label="person", w=20, h=50),
            *([box(2, 50 + speed * i, 160, "bicycle", 30, 30)] if i % bicycle_every == 0 else []),
        ]
        for i in range(frames)
    ]


def test_a_person_moving_with_a_bicycle_is_its_rider() -> None:
    book = TrackBook()
    for i, dets in enumerate(riding(10)):
        book.update(i, i / FPS, dets)
    rider = book.tracks[1]
    assert rider.label == "person" and rider.rides == "bicycle" and rider.ridden_track == 2
    assert rider.object_class == "cyclist" and rider.cyclist and not rider.on_foot


def test_a_walker_passing_a_parked_bicycle_is_not_a_rider() -> None:
    book = TrackBook()
    for i in range(30):
        book.update(
            i,
            i / FPS,
            [box(1, 200 + 2 * i, 150, "person", 20, 50), box(2, 240, 160, "bicycle", 30, 30)],
        )
    assert book.tracks[1].rides is None and book.tracks[1].on_foot


def test_a_track_the_detector_calls_person_mostly_and_bicycle_sometimes_is_a_rider() -> None:
    # What a cyclist looked like on unseen footage: "person" in 92 frames, "bicycle" in 6.
    book = TrackBook()
    for i in range(98):
        label = "bicycle" if i % 16 == 0 else "person"
        book.update(i, i / FPS, [box(1, 50 + 4 * i, 200, label, 20, 50)])
    track = book.tracks[1]
    assert track.label == "person" and track.object_class == "cyclist"


def test_a_cyclist_on_a_motorway_is_reported_once_as_a_cyclist_not_a_pedestrian() -> None:
    frames = riding(40, bicycle_every=3)
    found = feed(CyclistBannedRule(MOTORWAY, FPS), frames)
    assert [(f.type, f.track_id, f.measured["object_class"]) for f in found] == [
        (EventType.CYCLIST_BANNED, 1, "cyclist")
    ]
    assert feed(PedestrianOnRoadwayRule(MOTORWAY, FPS), riding(80)) == []


def test_a_bicycle_seen_without_its_rider_is_still_a_cyclist() -> None:
    frames = [[box(2, 50 + 6 * i, 160, "bicycle", 30, 30)] for i in range(20)]
    found = feed(CyclistBannedRule(MOTORWAY, FPS), frames)
    assert [(f.track_id, f.measured["object_class"]) for f in found] == [(2, "bicycle")]


def test_a_pedestrian_on_a_motorway_is_a_pedestrian_and_no_cyclist() -> None:
    walker = [[box(1, 50 + 2 * i, 200, "person", 20, 50)] for i in range(60)]
    assert feed(CyclistBannedRule(MOTORWAY, FPS), walker) == []
    found = feed(PedestrianOnRoadwayRule(MOTORWAY, FPS), walker)
    assert [(f.type, f.measured["object_class"]) for f in found] == [
        (EventType.PEDESTRIAN_ON_ROADWAY, "person")
    ]


def test_cycling_is_not_judged_outside_banned_zones() -> None:
    road = scene(
        zones=[
            {
                "id": "c",
                "kind": "carriageway",
                "polygon": [[0, 100], [640, 100], [640, 340], [0, 340]],
            }
        ]
    )
    assert not CyclistBannedRule.applies(road)


def test_a_rider_whose_box_bottom_jumps_with_each_stride_is_still_a_rider() -> None:
    # The bicycle is tracked first; the person appears on it a frame later, their box
    # bottom jumping by 8 px from frame to frame as the legs move.
    book = TrackBook()
    for i in range(6):
        dets = [box(2, 360 + 6 * i, 216, "bicycle", 30, 30)]
        if i >= 1:
            stride = 8 if i % 2 else 0
            dets.append(box(1, 362 + 6 * i, 198 + stride, "person", 24, 28 + stride))
        book.update(i, i / FPS, dets)
    assert book.tracks[1].object_class == "cyclist"
