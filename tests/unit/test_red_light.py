"""Red-light rule on synthetic tracks: the edge cases a real junction produces."""

from __future__ import annotations

import numpy as np

from contract.events import EventType
from contract.signals import SignalColour
from detectors.backends.base import Detection
from detectors.rules.base import FrameContext
from detectors.rules.red_light import RedLightRule
from detectors.tracks import TrackBook
from tests.unit.test_contract import sample_scene

FPS = 10.0
BLANK = np.zeros((352, 640, 3), np.uint8)


def car(track_id: int, bottom_y: float, x: float = 250.0) -> Detection:
    return Detection(track_id, "car", 0.9, (x - 40, bottom_y - 60, x + 40, bottom_y))


def run(frames: list[tuple[list[Detection], SignalColour]], red_since: float = -5.0) -> list:
    """Feed (detections, signal colour) per frame; the stop line is y=300, approach below."""
    rule = RedLightRule(sample_scene(), FPS)
    book = TrackBook()
    found = []
    since = 0.0
    last = None
    for i, (dets, colour) in enumerate(frames):
        t = i / FPS
        if colour != last:
            since, last = (red_since if i == 0 else t), colour
        book.update(i, t, dets)
        ctx = FrameContext(i, t, BLANK, book, {"sig-1": colour}, {"sig-1": since})
        found += rule.update(ctx)
    return found


def approach(
    track_id: int, ys: list[float], colour: SignalColour
) -> list[tuple[list[Detection], SignalColour]]:
    return [([car(track_id, y)], colour) for y in ys]


def test_crossing_on_red_is_one_violation_at_the_crossing_frame() -> None:
    frames = approach(1, [340, 330, 320, 310, 302, 295, 285, 270, 250, 230], SignalColour.RED)
    found = run(frames)
    assert len(found) == 1
    f = found[0]
    assert f.type is EventType.RED_LIGHT and f.gost_code == "C12" and f.track_id == 1
    assert f.frame_index == 5  # first frame past the line
    assert f.measured["red_for_s"] >= 0.5


def test_crossing_on_green_is_not_a_violation() -> None:
    assert run(approach(1, [340, 320, 300, 280, 260, 240], SignalColour.GREEN)) == []


def test_vehicle_waiting_on_the_line_is_not_a_violation() -> None:
    # Wheels on the line, box jittering a few pixels either side for several seconds.
    jitter = [340, 320, 305, 301, 299, 302, 298, 301, 299, 300, 298, 302] * 3
    assert run(approach(1, jitter, SignalColour.RED)) == []


def test_vehicle_already_past_the_line_when_light_turns_red() -> None:
    frames = approach(1, [340, 320, 295, 280], SignalColour.GREEN)
    frames += approach(1, [270, 260, 250, 240], SignalColour.RED)
    assert run(frames) == []


def test_track_lost_and_regained_still_counts_once() -> None:
    frames = approach(1, [340, 330, 320], SignalColour.RED)
    frames += [([], SignalColour.RED)] * 4  # occluded by a bus
    frames += approach(1, [280, 260, 240, 220], SignalColour.RED)
    found = run(frames)
    assert [f.track_id for f in found] == [1]


def test_id_switch_after_the_line_does_not_create_a_second_violation() -> None:
    frames = approach(1, [340, 320, 295, 280], SignalColour.RED)
    frames += approach(2, [270, 250, 230], SignalColour.RED)  # tracker hands it a new id
    assert [f.track_id for f in run(frames)] == [1]


def test_crossing_in_the_first_instant_of_red_is_forgiven() -> None:
    frames = approach(1, [340, 330], SignalColour.GREEN)
    frames += approach(1, [320, 295, 280, 260], SignalColour.RED)  # red 0.1 s before crossing
    assert run(frames) == []


def test_crossing_outside_the_stop_line_extent_is_ignored() -> None:
    frames = [([car(1, y, x=600)], SignalColour.RED) for y in [340, 320, 295, 280, 260]]
    assert run(frames) == []


def test_pedestrians_are_not_vehicles() -> None:
    frames = [
        ([Detection(1, "person", 0.9, (240, y - 60, 260, y))], SignalColour.RED)
        for y in [340, 320, 295, 280]
    ]
    assert run(frames) == []
