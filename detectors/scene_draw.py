"""A scene drawn over a camera frame, so an operator can check geometry against the road.

Everything the rules use is drawn: zones filled by kind, stop lines with an arrow from the
approach side, solid lines, the speed segment between its start and end lines, lane
directions, signal-head boxes joined to the lines they control, and calibration points.
Rules test a vehicle where it meets the road (docs/rules.md): lines against the bottom
centre of its box, zones against the share of the box's bottom edge inside them; so lines
and zones are drawn on the road surface, not at roof height.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from contract.scene import Line, LineKind, Point, SceneConfig, ZoneKind

BGR = tuple[int, int, int]

ZONE_COLOURS: dict[ZoneKind, BGR] = {
    ZoneKind.CROSSWALK: (255, 255, 255),
    ZoneKind.NO_STOPPING: (0, 0, 230),
    ZoneKind.NO_PARKING: (0, 120, 255),
    ZoneKind.BUS_LANE: (200, 0, 200),
    ZoneKind.LANE: (230, 160, 0),
    ZoneKind.JUNCTION_BOX: (0, 230, 230),
    ZoneKind.CARRIAGEWAY: (90, 90, 90),
    ZoneKind.INTERSECTION: (0, 200, 0),
    ZoneKind.PARKING: (200, 120, 60),
    ZoneKind.BUS_STOP: (160, 60, 160),
    ZoneKind.MOTORWAY: (40, 40, 160),
    ZoneKind.NO_CYCLING: (0, 60, 200),
}
LINE_COLOURS: dict[LineKind, BGR] = {
    LineKind.STOP_LINE: (0, 0, 255),
    LineKind.SOLID_LINE: (255, 255, 255),
    LineKind.SPEED_START: (255, 200, 0),
    LineKind.SPEED_END: (255, 200, 0),
}
SIGNAL_COLOUR: BGR = (0, 255, 255)
CALIBRATION_COLOUR: BGR = (255, 0, 255)
BOX_COLOUR: BGR = (0, 0, 255)
ZONE_ALPHA = 0.25


def _pt(p: Sequence[float]) -> tuple[int, int]:
    return round(p[0]), round(p[1])


def _label(image: np.ndarray, text: str, at: Sequence[float], colour: BGR) -> None:
    x, y = _pt(at)
    h, w = image.shape[:2]
    x, y = min(max(x, 2), w - 2), min(max(y, 14), h - 2)
    for thickness, c in ((3, (0, 0, 0)), (1, colour)):
        cv2.putText(image, text, (x, y), cv2.FONT_HERSHEY_SIMPLEX, 0.45, c, thickness, cv2.LINE_AA)


def _centroid(points: Sequence[Point]) -> Point:
    arr = np.asarray(points, dtype=float)
    return float(arr[:, 0].mean()), float(arr[:, 1].mean())


def _midpoint(line: Line) -> Point:
    (ax, ay), (bx, by) = line.points
    return (ax + bx) / 2, (ay + by) / 2


def _approach_arrow(image: np.ndarray, line: Line, colour: BGR) -> None:
    """An arrow from the approach side across the line: the direction a crossing counts."""
    if line.approach is None:
        return
    mx, my = _midpoint(line)
    (ax, ay), (bx, by) = line.points
    nx, ny = -(by - ay), bx - ax  # a normal of the line
    norm = float(np.hypot(nx, ny)) or 1.0
    nx, ny = nx / norm, ny / norm
    # Point the normal away from the approach side: traffic moves that way over the line.
    if (line.approach[0] - mx) * nx + (line.approach[1] - my) * ny > 0:
        nx, ny = -nx, -ny
    length = max(20.0, min(60.0, norm / 4))
    start = (mx - nx * length, my - ny * length)
    end = (mx + nx * length / 2, my + ny * length / 2)
    cv2.arrowedLine(image, _pt(start), _pt(end), colour, 2, cv2.LINE_AA, tipLength=0.3)
    cv2.circle(image, _pt(line.approach), 4, colour, -1, cv2.LINE_AA)


def draw_scene(
    frame: np.ndarray,
    scene: SceneConfig,
    box: tuple[float, float, float, float] | None = None,
    caption: str | None = None,
) -> np.ndarray:
    """A copy of ``frame`` (BGR) with ``scene`` drawn on it, and optionally a vehicle box
    marked at the point the rules test. The frame is resized to the scene's frame size
    when it differs, since scene coordinates are pixels of that size."""
    h, w = scene.frame_height, scene.frame_width
    image = frame if frame.shape[:2] == (h, w) else cv2.resize(frame, (w, h))
    image = image.copy()
    overlay = image.copy()
    for zone in scene.zones:
        pts = np.asarray([_pt(p) for p in zone.polygon], dtype=np.int32)
        cv2.fillPoly(overlay, [pts], ZONE_COLOURS[zone.kind])
    cv2.addWeighted(overlay, ZONE_ALPHA, image, 1 - ZONE_ALPHA, 0, dst=image)
    for zone in scene.zones:
        colour = ZONE_COLOURS[zone.kind]
        pts = np.asarray([_pt(p) for p in zone.polygon], dtype=np.int32)
        cv2.polylines(image, [pts], True, colour, 2, cv2.LINE_AA)
        if zone.direction is not None:
            a, b = zone.direction
            cv2.arrowedLine(image, _pt(a), _pt(b), colour, 3, cv2.LINE_AA, tipLength=0.2)
        _label(image, f"{zone.kind.value}:{zone.id}", _centroid(zone.polygon), colour)
    for line in scene.lines:
        colour = LINE_COLOURS[line.kind]
        a, b = line.points
        cv2.line(image, _pt(a), _pt(b), colour, 3, cv2.LINE_AA)
        _approach_arrow(image, line, colour)
        _label(image, f"{line.kind.value}:{line.id}", (a[0], a[1] - 6), colour)
    starts, ends = scene.line(LineKind.SPEED_START), scene.line(LineKind.SPEED_END)
    if starts and ends:
        cv2.line(
            image,
            _pt(_midpoint(starts[0])),
            _pt(_midpoint(ends[0])),
            LINE_COLOURS[LineKind.SPEED_START],
            1,
            cv2.LINE_AA,
        )
    lines = {ln.id: ln for ln in scene.lines}
    for sig in scene.signals:
        x1, y1, x2, y2 = sig.bbox
        cv2.rectangle(image, _pt((x1, y1)), _pt((x2, y2)), SIGNAL_COLOUR, 2, cv2.LINE_AA)
        _label(image, f"signal:{sig.id}", (x1, y1 - 4), SIGNAL_COLOUR)
        for lid in sig.controls:
            # A thin link from the head to the line it governs.
            cv2.line(
                image,
                _pt(((x1 + x2) / 2, y2)),
                _pt(_midpoint(lines[lid])),
                SIGNAL_COLOUR,
                1,
                cv2.LINE_AA,
            )
    if scene.calibration is not None:
        cal = scene.calibration
        for (x, y), (u, v) in zip(cal.image_points, cal.ground_points, strict=True):
            cv2.drawMarker(image, _pt((x, y)), CALIBRATION_COLOUR, cv2.MARKER_CROSS, 14, 2)
            _label(image, f"({u:g},{v:g})m", (x + 6, y - 6), CALIBRATION_COLOUR)
    if box is not None:
        x1, y1, x2, y2 = box
        cv2.rectangle(image, _pt((x1, y1)), _pt((x2, y2)), BOX_COLOUR, 2, cv2.LINE_AA)
        # The point every rule tests: the middle of the box's bottom edge.
        cv2.circle(image, _pt(((x1 + x2) / 2, y2)), 5, BOX_COLOUR, -1, cv2.LINE_AA)
    if caption:
        _label(image, caption, (8, 20), (255, 255, 255))
    return image


def encode(image: np.ndarray, suffix: str = ".png") -> bytes:
    """The image as PNG or JPEG bytes (by ``suffix``)."""
    ok, buf = cv2.imencode(suffix, image)
    if not ok:
        raise ValueError(f"cannot encode image as {suffix}")
    return buf.tobytes()


def decode(data: bytes) -> np.ndarray | None:
    """A BGR image from JPEG/PNG/... bytes, or None when the bytes are not an image."""
    arr = np.frombuffer(data, dtype=np.uint8)
    return cv2.imdecode(arr, cv2.IMREAD_COLOR) if arr.size else None
