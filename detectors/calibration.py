"""Image -> ground-plane metres, from the scene's calibration point pairs."""

from __future__ import annotations

import cv2
import numpy as np

from contract.scene import Calibration, Point


class CalibrationError(ValueError):
    """The calibration points do not define a usable homography."""


class GroundPlane:
    def __init__(self, calibration: Calibration) -> None:
        image = np.asarray(calibration.image_points, dtype=np.float64)
        ground = np.asarray(calibration.ground_points, dtype=np.float64)
        # Least squares over every pair, not RANSAC: the pairs are few and hand-picked.
        homography, _ = cv2.findHomography(image, ground, 0)
        if homography is None or abs(np.linalg.det(homography)) < 1e-12:
            raise CalibrationError("calibration points are degenerate (collinear or repeated)")
        self.homography = homography
        fitted = self._apply(image)
        #: RMS distance between fitted and given ground points: the calibration's own error.
        self.residual_m = float(np.sqrt(np.mean(np.sum((fitted - ground) ** 2, axis=1))))

    def _apply(self, points: np.ndarray) -> np.ndarray:
        return cv2.perspectiveTransform(points.reshape(-1, 1, 2), self.homography).reshape(-1, 2)

    def to_ground(self, point: Point) -> Point:
        x, y = self._apply(np.asarray([point], dtype=np.float64))[0]
        return (float(x), float(y))

    def distance_m(self, a: Point, b: Point) -> float:
        (ax, ay), (bx, by) = self.to_ground(a), self.to_ground(b)
        return float(np.hypot(bx - ax, by - ay))
