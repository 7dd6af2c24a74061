"""YOLO pre- and post-processing in numpy, for backends that run the bare network.

Mirrors ultralytics' `predict` (LetterBox, then non_max_suppression with `classes=`), so a
backend that owns its inference finds the same boxes the reference backend does: the same
letterbox rounding, the same class choice (the best of all 80 classes, kept only when it is
one we want) and class-aware greedy NMS. A fixed-size export takes the square letterbox
(auto=False); a network that takes any input shape takes the rectangular one ultralytics
gives a `.pt` (auto=True: padded only up to the stride), which spares a 16:9 frame about 40%
of the network's work.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from detectors.backends.base import Boxes

#: ultralytics' defaults for detection.
IOU = 0.7
MAX_DET = 300
#: Offset per class so one NMS pass never lets boxes of different classes suppress each other.
_CLASS_OFFSET = 7680.0
PAD_VALUE = 114
#: The coarsest feature map's stride: a rectangular input's sides are multiples of it.
STRIDE = 32


@dataclass(frozen=True)
class Letterbox:
    """How one image was scaled and padded into the network's input."""

    gain_x: float
    gain_y: float
    pad_x: int
    pad_y: int
    width: int
    height: int


def _canvas(new_w: int, new_h: int, size: int, rect: bool) -> tuple[int, int]:
    if not rect:
        return size, size
    return new_w + (size - new_w) % STRIDE, new_h + (size - new_h) % STRIDE


def fit(height: int, width: int, size: int, *, rect: bool = False) -> tuple[Letterbox, int, int]:
    """Where a height x width image goes on the size x size canvas (with ``rect``, the
    smallest multiple of the stride around it): its letterbox, and its resized width and
    height."""
    gain = min(size / height, size / width)
    new_w, new_h = max(round(width * gain), 1), max(round(height * gain), 1)
    canvas_w, canvas_h = _canvas(new_w, new_h, size, rect)
    pad_x, pad_y = round((canvas_w - new_w) / 2 - 0.1), round((canvas_h - new_h) / 2 - 0.1)
    return Letterbox(new_w / width, new_h / height, pad_x, pad_y, width, height), new_w, new_h


def letterbox(image: np.ndarray, size: int, *, rect: bool = False) -> tuple[np.ndarray, Letterbox]:
    """The image resized (aspect kept) to fit size x size and centred on a grey canvas, RGB
    uint8: the whole square, or with ``rect`` the smallest multiple of the stride around it."""
    h, w = image.shape[:2]
    box, new_w, new_h = fit(h, w, size, rect=rect)
    canvas_w, canvas_h = _canvas(new_w, new_h, size, rect)
    canvas = np.full((canvas_h, canvas_w, 3), PAD_VALUE, np.uint8)
    resized = image if (new_w, new_h) == (w, h) else cv2.resize(image, (new_w, new_h))
    canvas[box.pad_y : box.pad_y + new_h, box.pad_x : box.pad_x + new_w] = resized
    cv2.cvtColor(canvas, cv2.COLOR_BGR2RGB, dst=canvas)
    return canvas, box


def to_input(canvases: list[np.ndarray], nchw: bool) -> np.ndarray:
    """A float32 batch in [0, 1], NCHW or NHWC as the network wants it."""
    batch = np.stack(canvases).astype(np.float32)
    # Divided, not multiplied by 1/255: ultralytics divides, and an int8 network's input
    # quantisation turns the last bit's difference into different scores.
    batch /= 255.0
    return np.ascontiguousarray(batch.transpose(0, 3, 1, 2)) if nchw else batch


def nms(xyxy: np.ndarray, scores: np.ndarray, iou: float) -> np.ndarray:
    """Greedy NMS: indices kept, best first. Each round drops every box overlapping the best
    remaining one, with the overlaps computed for all of them at once."""
    order = np.argsort(-scores, kind="stable")
    areas = (xyxy[:, 2] - xyxy[:, 0]) * (xyxy[:, 3] - xyxy[:, 1])
    keep = []
    while order.size:
        best, rest = order[0], order[1:]
        keep.append(best)
        lt = np.maximum(xyxy[best, :2], xyxy[rest, :2])
        rb = np.minimum(xyxy[best, 2:], xyxy[rest, 2:])
        inter = np.prod(np.clip(rb - lt, 0, None), axis=1)
        overlap = inter / (areas[best] + areas[rest] - inter + 1e-9)
        order = rest[overlap <= iou]
    return np.asarray(keep, dtype=np.int64)


def decode(
    output: np.ndarray,
    box: Letterbox,
    *,
    classes: list[int],
    confidence: float,
    size: int,
    normalized: bool,
    iou: float = IOU,
    max_det: int = MAX_DET,
) -> Boxes:
    """Boxes in the original image's pixels from one (4 + classes, anchors) output."""
    rows = output.T  # anchors x (cx, cy, w, h, class scores...)
    cls_scores = rows[:, 4:]
    best = cls_scores.argmax(axis=1)
    score = cls_scores[np.arange(len(rows)), best]
    wanted = (score > confidence) & np.isin(best, classes)
    if not wanted.any():
        return Boxes.empty()
    xywh, score, best = rows[wanted, :4].astype(np.float32), score[wanted], best[wanted]
    if normalized:  # TFLite exports give coordinates as fractions of the input
        xywh = xywh * size
    xyxy = np.concatenate([xywh[:, :2] - xywh[:, 2:] / 2, xywh[:, :2] + xywh[:, 2:] / 2], axis=1)
    kept = nms(xyxy + (best * _CLASS_OFFSET)[:, None], score, iou)[:max_det]
    xyxy, score, best = xyxy[kept], score[kept], best[kept]
    xyxy -= np.array([box.pad_x, box.pad_y, box.pad_x, box.pad_y], np.float32)
    xyxy /= np.array([box.gain_x, box.gain_y, box.gain_x, box.gain_y], np.float32)
    np.clip(xyxy[:, 0::2], 0, box.width, out=xyxy[:, 0::2])
    np.clip(xyxy[:, 1::2], 0, box.height, out=xyxy[:, 1::2])
    return Boxes.of(xyxy, score, best)
