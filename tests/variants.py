"""Labelled variants of the shared clips, made at test time: the situations the plain clips
do not show (a drifting and shaking camera, a hard cut to another view, night, a jam),
built from their real frames. Each writes a video and a label file (the format of
tests/ground_truth) derived from the clip's own labels and from what the variant did.

Clips are cut short to keep the tests quick; label times are in the variant's own time.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from detectors.rules.camera_view import CameraMovedRule

GROUND_TRUTH = Path(__file__).parent / "ground_truth"


@dataclass(frozen=True)
class Variant:
    name: str
    video: Path
    labels: Path
    #: The seed scene (registry/seed/scenes/<stem>.json) the variant is judged with.
    scene_stem: str


def clip(media: Path, stem: str) -> Path:
    return next(p for p in sorted(media.glob(f"{stem}.*")) if p.suffix in (".mp4", ".avi"))


def _frames(path: Path, max_s: float | None = None) -> tuple[list[np.ndarray], float]:
    cap = cv2.VideoCapture(str(path))
    fps = cap.get(cv2.CAP_PROP_FPS) or 25.0
    frames = []
    while max_s is None or len(frames) < round(max_s * fps):
        ok, image = cap.read()
        if not ok:
            break
        frames.append(image)
    cap.release()
    return frames, fps


def _write(path: Path, frames: list[np.ndarray], fps: float) -> None:
    h, w = frames[0].shape[:2]
    out = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (w, h))
    for image in frames:
        out.write(image)
    out.release()


def _labels(stem: str, keep: Callable[[dict[str, Any]], bool] = lambda e: True) -> list[dict]:
    raw = json.loads((GROUND_TRUTH / f"{stem}.json").read_text())
    return [dict(e) for e in raw["events"] if keep(e)]


def _save(out_dir: Path, name: str, stem: str, frames: list, fps: float, events: list) -> Variant:
    video, labels = out_dir / f"{name}.mp4", out_dir / f"{name}.json"
    _write(video, frames, fps)
    labels.write_text(json.dumps({"video": video.name, "fps": fps, "events": events}, indent=1))
    return Variant(name, video, labels, stem)


def shift_at(t: float, duration: float, drift_px: float, shake_px: float) -> tuple[float, float]:
    """A handheld-like drift growing to drift_px over the clip, plus a shake of shake_px."""
    grow = drift_px * min(t / max(duration, 1e-6), 1.0)
    return (
        grow + shake_px * math.sin(2 * math.pi * 3.1 * t),
        0.4 * grow + shake_px * math.cos(2 * math.pi * 2.3 * t),
    )


def drift(
    media: Path,
    out_dir: Path,
    stem: str,
    *,
    drift_px: float = 64.0,
    shake_px: float = 3.0,
    name: str = "drift",
) -> Variant:
    """The camera drifts (up to drift_px) and shakes; what happens on the road is the same.
    Labels: the clip's own, their boxes moved with the picture; camera_moved when the
    frame's shift first exceeds the rule's tolerance (5 % of the width), if it does."""
    frames, fps = _frames(clip(media, stem))
    duration = len(frames) / fps
    h, w = frames[0].shape[:2]
    moved = []
    for i, image in enumerate(frames):
        dx, dy = shift_at(i / fps, duration, drift_px, shake_px)
        m = np.float32([[1, 0, dx], [0, 1, dy]])
        moved.append(cv2.warpAffine(image, m, (w, h), borderMode=cv2.BORDER_REPLICATE))
    events = _labels(stem)
    for e in events:
        if e.get("box"):
            dx, dy = shift_at(float(e["time_s"]), duration, drift_px, shake_px)
            x1, y1, x2, y2 = e["box"]
            e["box"] = [round(x1 + dx), round(y1 + dy), round(x2 + dx), round(y2 + dy)]
    tolerance = CameraMovedRule.tolerance_fraction * w
    beyond = next(
        (
            i / fps
            for i in range(len(frames))
            if math.hypot(*shift_at(i / fps, duration, drift_px, shake_px)) > tolerance
        ),
        None,
    )
    if beyond is not None:
        note = f"the picture's shift first exceeds {tolerance:.0f} px"
        events.append(
            {"type": "camera_moved", "time_s": round(beyond, 2), "tolerance_s": 1.0, "note": note}
        )
    return _save(out_dir, f"{stem}_{name}", stem, moved, fps, events)


def night(
    media: Path, out_dir: Path, stem: str, *, gain: float = 0.5, gamma: float = 1.3
) -> Variant:
    """The same clip as a lit street at night: the ambient light down (gamma and gain, a
    mean grey of about 30, above what camera_tamper calls a dark picture) and sensor noise,
    while light sources stay lit: signal lamps (bright, saturated pixels) keep their
    colour, as they do in night footage. Same labels."""
    frames, fps = _frames(clip(media, stem))
    rng = np.random.default_rng(3)
    lut = np.clip(255 * gain * (np.arange(256) / 255) ** gamma, 0, 255).astype(np.uint8)
    dark = []
    for image in frames:
        hsv = cv2.cvtColor(image, cv2.COLOR_BGR2HSV)
        lamps = ((hsv[..., 1] >= 90) & (hsv[..., 2] >= 140)).astype(np.uint8)
        lamps = cv2.dilate(lamps, np.ones((3, 3), np.uint8)).astype(bool)
        noisy = cv2.LUT(image, lut).astype(np.int16) + rng.integers(-3, 4, image.shape)
        out = np.clip(noisy, 0, 255).astype(np.uint8)
        out[lamps] = image[lamps]
        dark.append(out)
    return _save(out_dir, f"{stem}_night", stem, dark, fps, _labels(stem))


def hard_cut(
    media: Path, out_dir: Path, first: str, second: str, at_s: float, *, then_s: float = 4.0
) -> Variant:
    """``first`` until at_s, then ``second`` from its start for then_s: the camera now shows
    another place. Labelled: the first clip's events before the cut (their vehicle in view
    then), scene_changed at it; nothing from the second clip (judged against the first
    clip's scene, it must raise nothing)."""
    a, fps = _frames(clip(media, first), max_s=at_s)
    b, _ = _frames(clip(media, second), max_s=then_s)
    events = _labels(first, lambda e: float(e["time_s"]) < at_s)
    events.append({"type": "scene_changed", "time_s": at_s, "tolerance_s": 1.0, "note": "cut"})
    spliced = a + [cv2.resize(f, a[0].shape[1::-1]) for f in b]
    return _save(out_dir, f"{first}_cut", first, spliced, fps, events)


def jam(media: Path, out_dir: Path, stem: str, *, at_s: float, hold_s: float) -> Variant:
    """Traffic comes to a standstill: the frame at at_s held for hold_s, every vehicle in
    view standing. A jam, not one stopped vehicle per car (and shorter than congestion
    needs): labelled with nothing. Cut to the two seconds before the jam and the jam."""
    frames, fps = _frames(clip(media, stem), max_s=at_s + 1.0)
    start = max(0, round((at_s - 2.0) * fps))
    held = frames[start : round(at_s * fps)]
    held += [frames[round(at_s * fps)]] * round(hold_s * fps)
    return _save(out_dir, f"{stem}_jam", stem, held, fps, [])


def all_variants(media: Path, out_dir: Path) -> Iterator[Variant]:
    yield drift(media, out_dir, "redlight_cam_intersection3")
    # Within the tolerance: the geometry is carried, nothing is reported about the camera.
    yield drift(media, out_dir, "redlight_cam_intersection3", drift_px=14, shake_px=4, name="shake")
    yield night(media, out_dir, "redlight_cam_intersection3")
    yield hard_cut(media, out_dir, "redlight_cam_platte_chelton", "redlight_cam_intersection3", 8.5)
    # At 4 s the freeway is busy (eight or more vehicles in view): a jam is many vehicles.
    yield jam(media, out_dir, "highway_overhead_ca_sobral1", at_s=4.0, hold_s=6.0)
