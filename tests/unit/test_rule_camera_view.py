"""The camera's view against the scene: drift carried through the transform, camera_moved
beyond the tolerance, scene_changed within a second of a cut, and nothing judged against a
scene that is no longer in the picture."""

from __future__ import annotations

import cv2
import numpy as np

from contract.events import EventType
from detectors.backends.base import Detection
from detectors.judge import Judge
from detectors.registration import Registration
from tests.unit.synthetic import FPS, H, W, box, scene


def street(seed: int) -> np.ndarray:
    """A structured synthetic view (blocks, discs, lines) that features can hold on to."""
    rng = np.random.default_rng(seed)
    image = np.full((H, W, 3), 90, np.uint8)
    for _ in range(120):
        x, y = int(rng.integers(0, W)), int(rng.integers(0, H))
        colour = tuple(int(c) for c in rng.integers(0, 255, 3))
        if rng.random() < 0.5:
            cv2.rectangle(
                image,
                (x, y),
                (x + int(rng.integers(8, 50)), y + int(rng.integers(8, 50))),
                colour,
                -1,
            )
        else:
            cv2.circle(image, (x, y), int(rng.integers(4, 20)), colour, -1)
    return image


def shifted(image: np.ndarray, dx: float, dy: float) -> np.ndarray:
    m = np.float32([[1, 0, dx], [0, 1, dy]])
    return cv2.warpAffine(image, m, (W, H), borderMode=cv2.BORDER_REPLICATE)


ROAD = scene(
    zones=[
        {"id": "road", "kind": "carriageway", "polygon": [[0, 0], [640, 0], [640, 352], [0, 352]]}
    ]
)


def run(images: list[np.ndarray], dets: list[list[Detection]]) -> list:
    judge = Judge(ROAD, FPS)
    return [
        f
        for i, (im, d) in enumerate(zip(images, dets, strict=True))
        for f in judge.step(i, i / FPS, im, d)
    ]


def test_registration_finds_the_shift_and_carries_boxes_back() -> None:
    base = street(1)
    reg = Registration()
    reg.update(base, 0.0)
    view = reg.update(shifted(base, 12, -7), 1.0)
    assert view.matched and 11 <= view.shift_px <= 16
    (carried,) = reg.carry([Detection(1, "car", 0.9, (112.0, 93.0, 192.0, 153.0))])
    assert np.allclose(carried.bbox, (100, 100, 180, 160), atol=1.5)


def test_a_parked_car_on_a_drifting_camera_is_one_standing_car() -> None:
    base = street(2)
    n = round(6 * FPS)
    # The camera drifts 30 px over 6 s; the car stands still on the road all along, so in
    # the image it drifts with the camera. Carried back, it stands: one incident, on time.
    images = [shifted(base, 30 * i / n, 0) for i in range(n)]
    dets = [[box(1, 300 + 30 * i / n, 250)] for i in range(n)]
    found = run(images, dets)
    assert [f.type for f in found] == [EventType.STOPPED_VEHICLE]
    assert found[0].offset_s <= 2.6


def test_a_large_move_is_camera_moved_once() -> None:
    base = street(3)
    images = [base] * 10 + [shifted(base, 45, 10)] * 20
    found = run(images, [[] for _ in images])
    assert [f.type for f in found] == [EventType.CAMERA_MOVED]
    assert found[0].measured["shift_px"] > 32


def test_a_cut_is_scene_changed_within_a_second_and_nothing_is_judged_after_it() -> None:
    before, after = street(4), street(5)
    images = [before] * 20 + [after] * 50
    # A car stands on the "road" after the cut: the scene's geometry is not in view.
    dets = [[] for _ in range(20)] + [[box(7, 300, 250)] for _ in range(50)]
    found = run(images, dets)
    assert [f.type for f in found] == [EventType.SCENE_CHANGED]
    assert 2.0 <= found[0].offset_s <= 3.0


def test_a_shaking_camera_is_registered_every_frame_a_still_one_less_often() -> None:
    base = street(6)
    reg = Registration()
    reg.update(base, 0.0)
    # Shaking by +-4 px from frame to frame: once the first check (0.2 s) sees it move,
    # each frame's own shift is found, not a stale one.
    for i in range(2, 14):
        dx = 4.0 if i % 2 else -4.0
        view = reg.update(shifted(base, dx, 0), i / FPS)
        assert view.matched and abs(reg.transform[0, 2] + dx) <= 1.0, i
        assert view.residual_px > 0
    # Held still (back where it was): checked only every check_every_s again.
    reg.update(base, 1.4)
    reg.update(base, 1.5)
    assert reg.view.residual_px == 0.0  # not carried: no registration error to allow for
    checks = []
    for i in range(16, 32):
        before = reg._next_check
        reg.update(base, i / FPS)
        checks.append(reg._next_check != before)
    assert 0 < sum(checks) <= len(checks) / 2 + 1


def test_a_standing_car_on_a_shaking_camera_is_one_standing_car() -> None:
    base = street(7)
    n = round(4 * FPS)
    shake = [3.0 * np.sin(2 * np.pi * 3.1 * i / FPS) for i in range(n)]
    images = [shifted(base, s, 0) for s in shake]
    dets = [[box(1, 300 + s, 250, w=40, h=30)] for s in shake]
    found = run(images, dets)
    assert [f.type for f in found] == [EventType.STOPPED_VEHICLE]
    assert found[0].offset_s <= 2.6
