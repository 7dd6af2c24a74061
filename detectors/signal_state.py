"""Traffic-light state read from the signal heads visible in the frame.

A lit lamp is a cluster of bright, saturated pixels of one hue. Glare is bright but
unsaturated, so it does not count; LED flicker and single-frame dropouts are smoothed by
a majority vote over a short window.
"""

from __future__ import annotations

from collections import Counter, deque

import cv2
import numpy as np

from contract.scene import SignalRegion
from contract.signals import SignalColour

# OpenCV hue runs 0..179. Red wraps around 0.
_HUE_RANGES = {
    SignalColour.RED: ((0, 10), (165, 179)),
    SignalColour.YELLOW: ((15, 35),),
    SignalColour.GREEN: ((45, 95),),
}


def lamp_colour(
    image: np.ndarray,
    bbox: tuple[float, float, float, float],
    *,
    min_fraction: float = 0.01,
    min_saturation: int = 90,
    min_value: int = 140,
) -> tuple[SignalColour, dict[SignalColour, float]]:
    """The colour lit inside bbox in this one frame, with each colour's pixel fraction."""
    h, w = image.shape[:2]
    x1, y1, x2, y2 = (round(v) for v in bbox)
    roi = image[max(y1, 0) : min(y2, h), max(x1, 0) : min(x2, w)]
    if roi.size == 0:
        return SignalColour.UNKNOWN, {}
    hsv = cv2.cvtColor(roi, cv2.COLOR_BGR2HSV)
    hue, sat, val = hsv[..., 0], hsv[..., 1], hsv[..., 2]
    lit = (sat >= min_saturation) & (val >= min_value)
    fractions: dict[SignalColour, float] = {}
    for colour, ranges in _HUE_RANGES.items():
        mask = np.zeros_like(lit)
        for lo, hi in ranges:
            mask |= (hue >= lo) & (hue <= hi)
        fractions[colour] = float(np.count_nonzero(mask & lit)) / lit.size
    best = max(fractions, key=fractions.__getitem__)
    return (best if fractions[best] >= min_fraction else SignalColour.UNKNOWN), fractions


class SignalMonitor:
    """Smoothed state of each signal region over time, and when that state began."""

    def __init__(self, regions: list[SignalRegion], fps: float, window_s: float = 0.5) -> None:
        self.regions = regions
        size = max(1, round(fps * window_s))
        self._votes = {r.id: deque(maxlen=size) for r in regions}
        self.state: dict[str, SignalColour] = {r.id: SignalColour.UNKNOWN for r in regions}
        self.since: dict[str, float] = {r.id: 0.0 for r in regions}
        # A feed from the intersection's controller overrides what the camera sees.
        self.external: dict[str, SignalColour] = {}

    def update(self, image: np.ndarray, offset_s: float) -> dict[str, SignalColour]:
        for region in self.regions:
            seen, _ = lamp_colour(image, region.bbox)
            votes = self._votes[region.id]
            votes.append(seen)
            known = [c for c in votes if c is not SignalColour.UNKNOWN]
            smoothed = Counter(known).most_common(1)[0][0] if known else SignalColour.UNKNOWN
            smoothed = self.external.get(region.id, smoothed)
            if smoothed != self.state[region.id]:
                self.state[region.id] = smoothed
                self.since[region.id] = offset_s
        return dict(self.state)
