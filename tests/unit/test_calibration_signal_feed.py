"""Ground-plane calibration, the controllers' signal feed, and eval's matching."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from contract.events import EventType
from contract.scene import Calibration, SignalRegion
from contract.signals import SignalColour, SignalState
from detectors.calibration import CalibrationError, GroundPlane
from detectors.eval import Label, Predicted, match
from detectors.rules.base import Finding
from detectors.signal_feed import SignalFeed
from detectors.signal_state import SignalMonitor


def test_homography_maps_image_to_ground_metres() -> None:
    plane = GroundPlane(
        Calibration(
            image_points=[(100, 300), (500, 300), (400, 100), (200, 100)],
            ground_points=[(0, 0), (4, 0), (4, 20), (0, 20)],
        )
    )
    assert plane.residual_m < 1e-6
    assert np.allclose(plane.to_ground((400, 100)), (4, 20), atol=1e-6)
    assert plane.distance_m((100, 300), (200, 100)) == pytest.approx(20.0, abs=1e-6)


def test_collinear_points_are_refused() -> None:
    with pytest.raises(CalibrationError):
        GroundPlane(
            Calibration(
                image_points=[(0, 0), (1, 1), (2, 2), (3, 3)],
                ground_points=[(0, 0), (1, 1), (2, 2), (3, 3)],
            )
        )


def state(colour: SignalColour, signal_id: str = "head-1") -> bytes:
    return (
        SignalState(
            controller_id="ctl-7", signal_id=signal_id, colour=colour, time=datetime.now(UTC)
        )
        .model_dump_json()
        .encode()
    )


def test_controller_feed_takes_precedence_then_expires() -> None:
    region = SignalRegion(id="head-1", bbox=(0, 0, 10, 20), controller_id="ctl-7")
    monitor = SignalMonitor([region], fps=10)
    feed = SignalFeed(stale_after_s=5)
    feed.attach("cam-1", monitor)
    assert feed.handle(state(SignalColour.RED), now=100.0) == 1
    dark = np.zeros((30, 30, 3), np.uint8)  # the camera sees nothing lit
    assert monitor.update(dark, 0.0)["head-1"] is SignalColour.RED
    assert feed.handle(state(SignalColour.GREEN, "other-head"), now=101.0) == 0
    feed.expire(now=106.0)
    assert monitor.external == {}
    assert monitor.update(dark, 1.0)["head-1"] is SignalColour.UNKNOWN


def test_unknown_colour_hands_back_to_the_camera_and_garbage_is_skipped() -> None:
    monitor = SignalMonitor(
        [SignalRegion(id="head-1", bbox=(0, 0, 10, 20), controller_id="ctl-7")], 10
    )
    feed = SignalFeed()
    feed.attach("cam-1", monitor)
    feed.handle(state(SignalColour.RED), now=0.0)
    feed.handle(state(SignalColour.UNKNOWN), now=0.5)
    assert monitor.external == {}
    assert feed.handle(b'{"colour": "purple"}', now=1.0) == 0


def predicted(kind: EventType, t: float) -> Predicted:
    f = Finding(kind, None, 1, round(t * 10), t, 0.9, {}, {})
    return Predicted(f"id-{kind}-{t}", f)


def test_matching_is_one_to_one_within_tolerance_and_by_type() -> None:
    labels = [Label(EventType.RED_LIGHT, 5.0, 0.6)]
    preds = [
        predicted(EventType.RED_LIGHT, 5.3),
        predicted(EventType.RED_LIGHT, 5.4),  # a duplicate is a false positive
        predicted(EventType.STOPPED_VEHICLE, 5.0),
    ]
    scores = match(labels, preds)
    red = scores[EventType.RED_LIGHT]
    assert (red.tp, red.fp, red.fn, red.time_errors) == (1, 1, 0, [0.3])
    assert scores[EventType.STOPPED_VEHICLE].precision == 0.0
    late = match(labels, [predicted(EventType.RED_LIGHT, 5.7)])[EventType.RED_LIGHT]
    assert (late.tp, late.fp, late.fn, late.recall) == (0, 1, 1, 0.0)
