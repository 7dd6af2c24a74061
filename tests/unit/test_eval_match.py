"""Scoring events against labels: by type and time, by vehicle where the label gives its
box, and labels that may fire."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from contract.events import EventType
from detectors.errors import DetectorInputError
from detectors.eval import Label, Predicted, boxes_agree, load_labels, match
from detectors.rules import Finding

STOPPED = EventType.STOPPED_VEHICLE
TRUE_CAR = (365.0, 126.0, 458.0, 165.0)
QUEUED_CAR = (458.0, 98.0, 501.0, 127.0)


def event(kind: EventType, t: float, track: int | None) -> Predicted:
    finding = Finding(kind, None, track, round(t * 8), t, 0.9, {}, {})
    return Predicted(f"e{track}@{t}", finding)


#: Two cars seen all clip long: 14 (the labelled one) and 2 (queued behind the line).
SIGHTINGS = {
    14: [(i / 8, TRUE_CAR) for i in range(100)],
    2: [(i / 8, QUEUED_CAR) for i in range(100)],
}


def test_a_queued_cars_event_does_not_score_as_the_labelled_one() -> None:
    label = Label(STOPPED, 5.08, 1.0, box=(367, 128, 455, 166))
    wrong = match([label], [event(STOPPED, 5.0, 2)], SIGHTINGS)[STOPPED]
    assert (wrong.tp, wrong.fp, wrong.fn) == (0, 1, 1)
    right = match([label], [event(STOPPED, 5.0, 14)], SIGHTINGS)[STOPPED]
    assert (right.tp, right.fp, right.fn) == (1, 0, 0)
    assert right.time_errors == [-0.08]


def test_without_a_box_any_vehicle_of_the_type_and_time_matches() -> None:
    label = Label(STOPPED, 5.08, 1.0)
    score = match([label], [event(STOPPED, 5.0, 2)], SIGHTINGS)[STOPPED]
    assert (score.tp, score.fp, score.fn) == (1, 0, 0)


def test_both_vehicles_fire_one_is_true_the_other_false() -> None:
    label = Label(STOPPED, 5.08, 1.0, box=TRUE_CAR)
    score = match([label], [event(STOPPED, 5.0, 2), event(STOPPED, 5.2, 14)], SIGHTINGS)[STOPPED]
    assert (score.tp, score.fp, score.fn) == (1, 1, 0)
    assert score.precision == 0.5 and score.recall == 1.0


def test_an_event_about_no_track_never_matches_a_labelled_vehicle() -> None:
    label = Label(STOPPED, 5.08, 1.0, box=TRUE_CAR)
    score = match([label], [event(STOPPED, 5.0, None)], SIGHTINGS)[STOPPED]
    assert (score.tp, score.fp, score.fn) == (0, 1, 1)


def test_a_track_not_seen_near_the_labelled_time_does_not_match() -> None:
    late = {14: [(9.0, TRUE_CAR)]}
    label = Label(STOPPED, 5.08, 1.0, box=TRUE_CAR)
    assert match([label], [event(STOPPED, 5.5, 14)], late)[STOPPED].tp == 0


def test_an_optional_label_is_neither_a_miss_nor_a_false_alarm() -> None:
    may = Label(STOPPED, 10.55, 1.4, box=TRUE_CAR, optional=True)
    fired = match([may], [event(STOPPED, 11.38, 14)], SIGHTINGS)[STOPPED]
    assert (fired.tp, fired.fp, fired.fn, fired.optional) == (0, 0, 0, 1)
    assert fired.precision is None and fired.recall is None
    assert match([may], [], SIGHTINGS) == {}
    # Another vehicle's event on it is still a false alarm.
    other = match([may], [event(STOPPED, 11.38, 2)], SIGHTINGS)[STOPPED]
    assert (other.fp, other.optional) == (1, 0)


def test_a_required_label_is_matched_before_an_optional_one() -> None:
    labels = [
        Label(STOPPED, 5.0, 1.0, optional=True),
        Label(STOPPED, 5.3, 1.0),
    ]
    score = match(labels, [event(STOPPED, 5.0, 14)], SIGHTINGS)[STOPPED]
    assert (score.tp, score.fn, score.optional) == (1, 0, 0)


def test_boxes_agree_by_overlap_or_centre() -> None:
    assert boxes_agree((0, 0, 10, 10), (1, 1, 11, 11))
    assert boxes_agree((0, 0, 100, 100), (40, 40, 60, 60))  # small box inside a big one
    assert not boxes_agree((0, 0, 10, 10), (9, 9, 30, 30))
    assert not boxes_agree(TRUE_CAR, QUEUED_CAR)


def test_label_files_give_boxes_and_optional_and_reject_bad_boxes(tmp_path: Path) -> None:
    path = tmp_path / "labels.json"
    path.write_text(
        json.dumps(
            {
                "events": [
                    {"type": "red_light", "time_s": 1.7, "box": [1, 2, 30, 40]},
                    {"type": "stopped_vehicle", "time_s": 9, "optional": True},
                ]
            }
        )
    )
    red, stopped = load_labels(path)
    assert red.box == (1.0, 2.0, 30.0, 40.0) and not red.optional
    assert stopped.box is None and stopped.optional
    for bad in ([1, 2, 3], [10, 10, 5, 20], "here"):
        path.write_text(json.dumps({"events": [{"type": "red_light", "time_s": 1, "box": bad}]}))
        with pytest.raises(DetectorInputError, match="bad label file"):
            load_labels(path)
