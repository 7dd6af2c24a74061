"""Plane geometry in image coordinates, shared by the rules."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

Point = tuple[float, float]


def signed_distance(p: Point, a: Point, b: Point) -> float:
    """Distance of p from the line a-b; the sign tells the side."""
    (ax, ay), (bx, by), (px, py) = a, b, p
    length = float(np.hypot(bx - ax, by - ay)) or 1.0
    return ((bx - ax) * (py - ay) - (by - ay) * (px - ax)) / length


def projection(p: Point, a: Point, b: Point) -> float:
    """Where p falls along a-b: 0 at a, 1 at b."""
    (ax, ay), (bx, by), (px, py) = a, b, p
    denom = (bx - ax) ** 2 + (by - ay) ** 2 or 1.0
    return ((px - ax) * (bx - ax) + (py - ay) * (by - ay)) / denom


def inside(p: Point, polygon: Sequence[Point]) -> bool:
    contour = np.asarray(polygon, dtype=np.float32).reshape(-1, 1, 2)
    return cv2.pointPolygonTest(contour, (float(p[0]), float(p[1])), False) >= 0
