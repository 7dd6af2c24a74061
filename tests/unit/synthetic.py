"""Synthetic tracks for rule tests: boxes per frame, fed through a TrackBook to one rule."""

from __future__ import annotations

from typing import Any

import numpy as np

from contract.scene import SceneConfig
from contract.signals import SignalColour
from detectors.backends.base import Detection
from detectors.rules.base import Finding, FrameContext, Rule
from detectors.tracks import TrackBook

FPS = 10.0
W, H = 640, 352
#: A fixed textured frame: standing vehicles look the same from frame to frame.
TEXTURE = np.random.default_rng(7).integers(0, 255, (H, W, 3), dtype=np.uint8)


def scene(**parts: Any) -> SceneConfig:
    return SceneConfig.model_validate({"frame_width": W, "frame_height": H, **parts})


def box(
    track_id: int, x: float, bottom: float, label: str = "car", w: float = 80, h: float = 60
) -> Detection:
    return Detection(track_id, label, 0.9, (x - w / 2, bottom - h, x + w / 2, bottom))


def feed(
    rule: Rule,
    frames: list[list[Detection]],
    *,
    signals: dict[str, SignalColour] | None = None,
    images: list[np.ndarray] | None = None,
) -> list[Finding]:
    book = TrackBook()
    found: list[Finding] = []
    for i, dets in enumerate(frames):
        t = i / FPS
        book.update(i, t, dets)
        image = images[i] if images else TEXTURE
        states = signals or {}
        found += rule.update(FrameContext(i, t, image, book, states, dict.fromkeys(states, 0.0)))
    return found


def still(
    track_id: int, x: float, bottom: float, seconds: float, **kw: Any
) -> list[list[Detection]]:
    return [[box(track_id, x, bottom, **kw)] for _ in range(round(seconds * FPS))]


def moving(
    track_id: int, start: tuple[float, float], end: tuple[float, float], seconds: float, **kw: Any
) -> list[list[Detection]]:
    n = round(seconds * FPS)
    return [
        [
            box(
                track_id,
                start[0] + (end[0] - start[0]) * i / n,
                start[1] + (end[1] - start[1]) * i / n,
                **kw,
            )
        ]
        for i in range(n)
    ]
