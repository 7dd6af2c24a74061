"""Is the camera still looking at the scene its config was drawn on, and where?

Analysed frames are registered against the scene's reference frame: ORB features matched
and a similarity transform (shift, rotation, scale) fitted with RANSAC, a few times per
second. While the frame matches, detections and the frame itself are carried into the
reference frame's pixels, so the scene's lines and zones stay on the road when the camera
drifts or is nudged, and a parked car does not "move" with the camera. When matching
collapses (a hard cut to another view, a camera turned away) the scene no longer
describes the picture: the judge then raises no violation or incident from it.

Without a stored reference frame the first analysed frame is the reference. A second,
recent reference (a frame that matched, refreshed every ``refresh_s``) carries the match
through slow changes of light that the scene's own reference would not survive (dusk).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from detectors.backends.base import Detection


@dataclass(frozen=True)
class View:
    """How the current frame relates to the scene's reference frame."""

    #: Whether the frame still shows the scene.
    matched: bool
    #: Largest displacement of the frame's corners under the transform, in pixels.
    shift_px: float
    #: Share of the reference features that found their place again (0..1).
    quality: float
    #: Matching has failed continuously since this stream offset (None while matched).
    lost_since_s: float | None = None
    #: How far off the transform may carry a point: the median distance, in full pixels,
    #: between where it put the matched features and where they are (0 while not carried).
    residual_px: float = 0.0


@dataclass
class _Reference:
    keypoints: list[cv2.KeyPoint]
    descriptors: np.ndarray
    #: Maps this reference's pixels into the scene reference's pixels (2x3).
    to_scene: np.ndarray


IDENTITY = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])


class Registration:
    #: Registration runs at most this often while the camera holds still; between checks
    #: the last transform holds. While it moves (the transform changed by more than
    #: steady_fraction of the width at the last check) every analysed frame is registered:
    #: a shaking camera moves the picture by several pixels between two checks, enough to
    #: make a standing car look as if it drove off.
    check_every_s = 0.2
    steady_fraction = 0.003
    #: Features are found on a copy of the frame this wide (full-frame pixels are reported).
    work_width = 320
    features = 800
    ratio = 0.8  # Lowe's ratio test
    ransac_px = 3.0  # at work_width
    #: A match needs this many RANSAC inliers and this share of the good matches.
    min_inliers = 15
    min_inlier_share = 0.25
    #: Failing to match this long (about two checks) means the scene is lost.
    lost_after_s = 0.3
    #: A transform moving the frame's corners by more than this share of its width leaves
    #: too little of the scene in view: treated as not matching.
    max_shift_fraction = 0.25
    #: Below this many pixels of shift the frame is used as it is (no resampling).
    warp_min_px = 1.0
    refresh_s = 20.0
    #: A transform moving the corners this much (share of the width) from the current one
    #: must be seen twice in a row before it is used.
    jump_fraction = 0.05
    #: Grid of cells (columns, rows) and how many of them must still look like the
    #: reference when features fail for the frame to still show the scene.
    grid = (8, 6)
    cell_min_corr = 0.5
    min_cell_share = 0.25

    def __init__(self, reference: np.ndarray | None = None) -> None:
        self._orb = cv2.ORB.create(nfeatures=self.features)
        self._matcher = cv2.BFMatcher(cv2.NORM_HAMMING)
        self._clahe = cv2.createCLAHE(clipLimit=2.0, tileGridSize=(8, 8))
        self._scale = 1.0
        self._scene: _Reference | None = None
        self._recent: _Reference | None = None
        self._recent_at = 0.0
        self._next_check = 0.0
        self._failing_since: float | None = None
        self._candidate: np.ndarray | None = None
        self._scene_cells: list[np.ndarray] | None = None
        self.transform = IDENTITY.copy()  # current frame -> scene reference, full pixels
        self.view = View(True, 0.0, 1.0)
        if reference is not None:
            self._scene = self._reference(reference, IDENTITY, [])
            self._scene_cells = self._gradient_cells(reference)

    def _features(
        self, image: np.ndarray, boxes: list[tuple[float, float, float, float]]
    ) -> tuple[list[cv2.KeyPoint], np.ndarray | None]:
        """ORB features of the frame, none on the given (vehicle) boxes: what moves is not
        the scene."""
        grey = self._grey(image)
        mask = np.full(grey.shape, 255, np.uint8)
        for x1, y1, x2, y2 in boxes:
            pad_x, pad_y = 0.1 * (x2 - x1), 0.1 * (y2 - y1)
            a = (round((x1 - pad_x) / self._scale), round((y1 - pad_y) / self._scale))
            b = (round((x2 + pad_x) / self._scale), round((y2 + pad_y) / self._scale))
            cv2.rectangle(mask, a, b, 0, -1)
        keypoints, descriptors = self._orb.detectAndCompute(grey, mask)
        return list(keypoints), descriptors

    def _grey(self, image: np.ndarray) -> np.ndarray:
        h, w = image.shape[:2]
        self._scale = w / self.work_width
        small = cv2.resize(image, (self.work_width, max(1, round(h / self._scale))))
        grey = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY) if small.ndim == 3 else small
        # Local contrast: the same street at dusk or darkened keeps its corners.
        return self._clahe.apply(grey)

    def _reference(
        self,
        image: np.ndarray,
        to_scene: np.ndarray,
        boxes: list[tuple[float, float, float, float]],
    ) -> _Reference | None:
        keypoints, descriptors = self._features(image, boxes)
        if descriptors is None or len(keypoints) < self.min_inliers:
            return None
        return _Reference(list(keypoints), descriptors, to_scene)

    def _match(
        self, ref: _Reference, kps: list[cv2.KeyPoint], desc: np.ndarray
    ) -> tuple[np.ndarray | None, float, float]:
        """The transform to the scene's reference, the match quality and the residual."""
        pairs = self._matcher.knnMatch(desc, ref.descriptors, k=2)
        good = [p[0] for p in pairs if len(p) == 2 and p[0].distance < self.ratio * p[1].distance]
        if len(good) < self.min_inliers:
            return None, len(good) / max(len(ref.keypoints), 1), 0.0
        src = np.array([kps[m.queryIdx].pt for m in good], np.float32)
        dst = np.array([ref.keypoints[m.trainIdx].pt for m in good], np.float32)
        model, inliers = cv2.estimateAffinePartial2D(
            src, dst, method=cv2.RANSAC, ransacReprojThreshold=self.ransac_px
        )
        n = int(inliers.sum()) if inliers is not None else 0
        quality = n / max(len(ref.keypoints), 1)
        if model is None or n < self.min_inliers or n < self.min_inlier_share * len(good):
            return None, quality, 0.0
        kept = inliers.ravel().astype(bool)
        err = np.hypot(*(src[kept] @ model[:, :2].T + model[:, 2] - dst[kept]).T)
        residual = float(np.median(err)) * self._scale
        # Work pixels -> full pixels, then this reference -> the scene's reference.
        full = np.asarray(model, np.float64).copy()
        full[:, 2] = full[:, 2] * self._scale
        return _compose(ref.to_scene, full), quality, residual

    def update(
        self,
        image: np.ndarray,
        offset_s: float,
        boxes: list[tuple[float, float, float, float]] | None = None,
    ) -> View:
        """Register one frame; ``boxes`` (the frame's detections) are left out of matching."""
        boxes = boxes or []
        if self._scene is None:
            self._scene = self._reference(image, IDENTITY, boxes)
            self._scene_cells = self._gradient_cells(image)
            self._recent, self._recent_at = self._scene, offset_s
            self._next_check = offset_s + self.check_every_s
            return self.view
        if offset_s < self._next_check:
            return self.view
        self._next_check = offset_s + self.check_every_s
        kps, desc = self._features(image, boxes)
        transform, quality, residual = None, 0.0, 0.0
        if desc is not None and len(kps) >= self.min_inliers:
            transform, quality, residual = self._match(self._scene, list(kps), desc)
            if transform is None and self._recent is not None and self._recent is not self._scene:
                transform, _, residual = self._match(self._recent, list(kps), desc)
        h, w = image.shape[:2]
        if transform is not None and not self._plausible(transform, w, h):
            transform = None
        shift = _corner_shift(transform, w, h) if transform is not None else math.inf
        if transform is None and self._cells_match(image):
            # Features failed but most of the picture is still the scene's (a vehicle
            # filling much of the view): keep the last transform, the scene still holds.
            transform, shift, residual = self.transform, self.view.shift_px, self.view.residual_px
        if transform is not None and shift <= self.max_shift_fraction * w:
            change = _corner_shift(_compose(transform, _invert(self.transform)), w, h)
            if change > self.steady_fraction * w:
                self._next_check = offset_s  # moving: the next frame is checked too
            self.transform = transform
            self._failing_since = None
            if offset_s - self._recent_at >= self.refresh_s:
                self._recent = self._reference(image, transform, boxes) or self._recent
                self._recent_at = offset_s
            carried = shift >= self.warp_min_px
            self.view = View(True, shift, quality, residual_px=residual if carried else 0.0)
        else:
            since = self._failing_since = (
                offset_s if self._failing_since is None else self._failing_since
            )
            lost = offset_s - since >= self.lost_after_s
            self.view = View(
                not lost and self.view.matched,
                self.view.shift_px,
                quality,
                since,
                self.view.residual_px,
            )
        return self.view

    def _plausible(self, transform: np.ndarray, w: int, h: int) -> bool:
        """A transform far from the current one is adopted only when the next check agrees:
        a camera does not jump, and one bad RANSAC fit must not throw the geometry off."""
        jump = _corner_shift(_compose(transform, _invert(self.transform)), w, h)
        if jump <= self.jump_fraction * w:
            self._candidate = None
            return True
        candidate, self._candidate = self._candidate, transform
        return candidate is not None and (
            _corner_shift(_compose(transform, _invert(candidate)), w, h) <= self.jump_fraction * w
        )

    def _gradient_cells(self, image: np.ndarray) -> list[np.ndarray]:
        g = cv2.resize(image, (160, 96), interpolation=cv2.INTER_AREA)
        g = (cv2.cvtColor(g, cv2.COLOR_BGR2GRAY) if g.ndim == 3 else g).astype(np.float32)
        m = cv2.magnitude(cv2.Sobel(g, cv2.CV_32F, 1, 0), cv2.Sobel(g, cv2.CV_32F, 0, 1))
        m = cv2.GaussianBlur(m, (0, 0), 1.0)
        cells = []
        for rows in np.array_split(m, self.grid[1], axis=0):
            for cell in np.array_split(rows, self.grid[0], axis=1):
                c = cell.ravel() - cell.mean()
                cells.append(c / (float(np.linalg.norm(c)) or 1.0))
        return cells

    def _cells_match(self, image: np.ndarray) -> bool:
        """Whether enough of the frame's cells (carried by the last transform) look like
        the reference's: their edges correlate. A cut to another place leaves almost none;
        a bus filling half the view leaves the other half."""
        if self._scene_cells is None:
            return False
        now = self._gradient_cells(self.warp(image))
        same = [
            float(a @ b) > self.cell_min_corr for a, b in zip(now, self._scene_cells, strict=True)
        ]
        return sum(same) >= self.min_cell_share * len(same)

    @property
    def moved(self) -> bool:
        """Whether frames need carrying into the reference frame at all."""
        return self.view.shift_px >= self.warp_min_px

    def warp(self, image: np.ndarray) -> np.ndarray:
        """The frame resampled into the reference frame's pixels."""
        if not self.moved:
            return image
        h, w = image.shape[:2]
        return cv2.warpAffine(image, self.transform, (w, h), borderMode=cv2.BORDER_REPLICATE)

    def carry(self, detections: list[Detection]) -> list[Detection]:
        """Detections carried into the reference frame's pixels (box of the moved corners)."""
        if not self.moved:
            return detections
        out = []
        for d in detections:
            x1, y1, x2, y2 = d.bbox
            corners = np.array([[x1, y1, 1], [x2, y1, 1], [x1, y2, 1], [x2, y2, 1]], float)
            moved = corners @ self.transform.T
            xs, ys = moved[:, 0], moved[:, 1]
            box = (float(xs.min()), float(ys.min()), float(xs.max()), float(ys.max()))
            out.append(Detection(d.track_id, d.label, d.confidence, box))
        return out


def _compose(outer: np.ndarray, inner: np.ndarray) -> np.ndarray:
    """The 2x3 affine applying ``inner`` first, then ``outer``."""
    a = np.vstack([outer, [0, 0, 1]]) @ np.vstack([inner, [0, 0, 1]])
    return a[:2]


def _invert(transform: np.ndarray) -> np.ndarray:
    return cv2.invertAffineTransform(transform)


def _corner_shift(transform: np.ndarray, w: int, h: int) -> float:
    corners = np.array([[0, 0, 1], [w, 0, 1], [0, h, 1], [w, h, 1]], float)
    moved = corners @ transform.T
    return float(np.max(np.hypot(*(moved - corners[:, :2]).T)))
