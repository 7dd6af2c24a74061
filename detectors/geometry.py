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


Box = tuple[float, float, float, float]


def bottom_share(box: Box, polygon: Sequence[Point], samples: int = 9) -> float:
    """Share of a box's bottom edge (where a vehicle meets the road) inside a polygon.

    Zone rules test this rather than one point: a car waiting with the corner of its box
    a few pixels over a zone's edge has most of its bottom edge outside the zone."""
    x1, _, x2, y2 = box
    xs = np.linspace(x1, x2, samples) if x2 > x1 else np.array([x1])
    return sum(inside((float(x), y2), polygon) for x in xs) / len(xs)
