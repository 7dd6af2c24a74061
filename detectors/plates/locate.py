"""Find plate-like regions on a vehicle crop with classical morphology.

OpenCV 5 no longer ships the Haar cascade API, so plates are found the way they look: a band
of dense dark strokes (characters) on a light background with a plate's aspect ratio.
"""

from __future__ import annotations

import cv2
import numpy as np

BBox = tuple[int, int, int, int]

# Kernel sizes below are tuned for an 800 px wide image and scaled with the crop.
_REFERENCE_WIDTH = 800
# A Russian plate is 520 x 112 mm (4.6:1); perspective and a loose crop widen the range.
_MIN_ASPECT, _MAX_ASPECT = 2.0, 8.0
_MIN_WIDTH_FRACTION = 0.04


def _kernel(width: float, height: float, scale: float) -> np.ndarray:
    size = (max(3, round(width * scale)), max(1, round(height * scale)))
    return cv2.getStructuringElement(cv2.MORPH_RECT, size)


def locate_plates(image_bgr: np.ndarray, max_candidates: int = 3) -> list[BBox]:
    """Plate candidates as x1, y1, x2, y2, best first (largest plate-shaped stroke bands)."""
    h, w = image_bgr.shape[:2]
    scale = min(3.0, max(0.4, w / _REFERENCE_WIDTH))
    gray = cv2.cvtColor(image_bgr, cv2.COLOR_BGR2GRAY)
    # Black-hat keeps dark details narrower than the kernel: plate characters, not the car body.
    strokes = cv2.morphologyEx(gray, cv2.MORPH_BLACKHAT, _kernel(15, 5, scale))
    grad = np.abs(cv2.Sobel(strokes, cv2.CV_32F, 1, 0, ksize=3))
    grad = cv2.normalize(grad, None, 0, 255, cv2.NORM_MINMAX).astype(np.uint8)
    grad = cv2.GaussianBlur(grad, (5, 5), 0)
    # Closing horizontally fuses the characters of one plate into a single blob.
    grad = cv2.morphologyEx(grad, cv2.MORPH_CLOSE, _kernel(17, 3, scale))
    _, mask = cv2.threshold(grad, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    mask = cv2.dilate(cv2.erode(mask, None, iterations=2), None, iterations=2)
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    boxes: list[tuple[int, BBox]] = []
    for contour in contours:
        x, y, bw, bh = cv2.boundingRect(contour)
        touches_border = x == 0 or y == 0 or x + bw >= w or y + bh >= h
        if (
            not touches_border
            and _MIN_ASPECT <= bw / max(bh, 1) <= _MAX_ASPECT
            and bw >= _MIN_WIDTH_FRACTION * w
            and bh >= 8
        ):
            boxes.append((bw * bh, (x, y, x + bw, y + bh)))
    boxes.sort(key=lambda item: item[0], reverse=True)
    return [box for _, box in boxes[:max_candidates]]


def expand(box: BBox, width: int, height: int, fx: float, fy: float) -> BBox:
    """Grow ``box`` by ``fx``/``fy`` of its size on each side, clipped to the image."""
    x1, y1, x2, y2 = box
    dx, dy = round((x2 - x1) * fx), round((y2 - y1) * fy)
    return max(0, x1 - dx), max(0, y1 - dy), min(width, x2 + dx), min(height, y2 + dy)
