"""Signal colour from pixels: lit lamps, glare, flicker."""

from __future__ import annotations

import cv2
import numpy as np

from contract.scene import SignalRegion
from contract.signals import SignalColour
from detectors.signal_state import SignalMonitor, lamp_colour

BOX = (10.0, 10.0, 40.0, 90.0)


def head(lit: SignalColour | None, glare: bool = False) -> np.ndarray:
    img = np.full((100, 50, 3), 30, np.uint8)
    cv2.rectangle(img, (10, 10), (40, 90), (20, 20, 20), -1)
    centres = {SignalColour.RED: 25, SignalColour.YELLOW: 50, SignalColour.GREEN: 75}
    bgr = {
        SignalColour.RED: (30, 30, 250),
        SignalColour.YELLOW: (0, 200, 250),
        SignalColour.GREEN: (120, 230, 20),
    }
    if lit is not None:
        cv2.circle(img, (25, centres[lit]), 9, bgr[lit], -1)
    if glare:
        cv2.circle(img, (25, 50), 14, (250, 250, 250), -1)  # white bloom: bright, unsaturated
    return img


def test_each_lit_colour_is_read() -> None:
    for colour in (SignalColour.RED, SignalColour.YELLOW, SignalColour.GREEN):
        assert lamp_colour(head(colour), BOX)[0] is colour


def test_dark_head_and_glare_read_unknown() -> None:
    assert lamp_colour(head(None), BOX)[0] is SignalColour.UNKNOWN
    assert lamp_colour(head(None, glare=True), BOX)[0] is SignalColour.UNKNOWN


def test_flicker_does_not_flip_the_smoothed_state() -> None:
    mon = SignalMonitor([SignalRegion(id="s", bbox=BOX)], fps=10)
    states = []
    for i in range(20):
        frame = head(None) if i % 4 == 3 else head(SignalColour.RED)  # a dark frame every 4th
        states.append(mon.update(frame, i / 10)["s"])
    assert states[1:] == [SignalColour.RED] * 19
    assert mon.since["s"] == 0.0


def test_state_change_records_when_it_began() -> None:
    mon = SignalMonitor([SignalRegion(id="s", bbox=BOX)], fps=10, window_s=0.3)
    for i in range(10):
        mon.update(head(SignalColour.GREEN), i / 10)
    for i in range(10, 20):
        mon.update(head(SignalColour.RED), i / 10)
    assert mon.state["s"] is SignalColour.RED
    assert 1.0 <= mon.since["s"] <= 1.2


def test_external_controller_state_takes_precedence() -> None:
    mon = SignalMonitor([SignalRegion(id="s", bbox=BOX)], fps=10)
    mon.external["s"] = SignalColour.GREEN
    assert mon.update(head(SignalColour.RED), 0.0)["s"] is SignalColour.GREEN
